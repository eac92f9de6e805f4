//! An event type's `Serialize` and `Deserialize` (a visitor that checks
//! the event type, the consts, the bounds and the extra keys).

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::fields::{known_keys, FieldOut};
use super::json_tokens;
use crate::ident::local_ident;
use crate::model::{Bounds, EventSpec, ExtraRule};

/// `impl Serialize`: `event_type`, the consts, the fields, then `extra`.
pub(super) fn serialize_impl(ev: &EventSpec, name: &Ident, fields: &[FieldOut]) -> TokenStream {
    let ser_fields = fields.iter().map(|f| {
        let ident = &f.ident;
        let key = f.key;
        if f.required {
            quote!(map.serialize_entry(#key, &self.#ident)?;)
        } else {
            quote! {
                if let Some(v) = &self.#ident {
                    map.serialize_entry(#key, v)?;
                }
            }
        }
    });
    let ser_event_type = if ev.free {
        quote!(map.serialize_entry("event_type", &self.event_type)?;)
    } else {
        quote!(map.serialize_entry("event_type", Self::EVENT_TYPE)?;)
    };
    let ser_consts = ev.consts.iter().map(|c| {
        let key = &c.key;
        let value: serde_json::Value = serde_json::from_str(&c.json).unwrap_or_default();
        let tokens = json_tokens(&value);
        quote!(map.serialize_entry(#key, &::serde_json::json!(#tokens))?;)
    });
    let known_keys = known_keys(ev, fields);
    quote! {
        impl ::serde::Serialize for #name {
            fn serialize<__S: ::serde::Serializer>(&self, serializer: __S) -> Result<__S::Ok, __S::Error> {
                use ::serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(None)?;
                #ser_event_type
                #(#ser_consts)*
                #(#ser_fields)*
                for (k, v) in &self.extra {
                    if !matches!(k.as_str(), #(#known_keys)|*) {
                        map.serialize_entry(k, v)?;
                    }
                }
                map.end()
            }
        }
    }
}

/// `impl Deserialize`: a map visitor.
pub(super) fn deserialize_impl(
    ev: &EventSpec,
    name: &Ident,
    fields: &[FieldOut],
    extra_type: Option<&TokenStream>,
) -> TokenStream {
    let locals = fields.iter().map(|f| {
        let local = local_ident(&f.plain);
        let t = &f.field_ty;
        quote!(let mut #local: Option<#t> = None;)
    });
    let arms = fields.iter().map(field_arm);
    let (const_locals, const_arms, const_checks) = const_parts(ev);
    let (event_type_local, event_type_arm, event_type_build) = event_type_parts(ev, name);
    let other_arm = other_arm(&ev.extra, extra_type);
    let builds = fields.iter().map(|f| {
        let local = local_ident(&f.plain);
        let ident = &f.ident;
        let key = f.key;
        if f.required {
            quote!(#ident: #local.ok_or_else(|| <__A::Error as ::serde::de::Error>::missing_field(#key))?,)
        } else {
            quote!(#ident: #local.flatten(),)
        }
    });
    let expecting = format!("a \"{}\" event object", ev.event_type);
    quote! {
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<__D: ::serde::Deserializer<'de>>(deserializer: __D) -> Result<Self, __D::Error> {
                struct __Visitor;
                impl<'de> ::serde::de::Visitor<'de> for __Visitor {
                    type Value = #name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(#expecting)
                    }
                    fn visit_map<__A: ::serde::de::MapAccess<'de>>(self, mut map: __A) -> Result<#name, __A::Error> {
                        #event_type_local
                        #const_locals
                        #(#locals)*
                        let mut __extra = ::serde_json::Map::new();
                        while let Some(__key) = map.next_key::<String>()? {
                            match __key.as_str() {
                                #event_type_arm
                                #const_arms
                                #(#arms)*
                                #other_arm
                            }
                        }
                        let Some(__event_type) = __event_type else {
                            return Err(<__A::Error as ::serde::de::Error>::missing_field("event_type"));
                        };
                        #const_checks
                        Ok(#name {
                            #event_type_build
                            #(#builds)*
                            extra: __extra,
                        })
                    }
                }
                deserializer.deserialize_map(__Visitor)
            }
        }
    }
}

/// The visitor's arm for one field (checking its bounds first, if any).
fn field_arm(f: &FieldOut) -> TokenStream {
    let local = local_ident(&f.plain);
    let key = f.key;
    let t = &f.field_ty;
    if f.bounds.is_empty() {
        return quote! {
            #key => {
                #local = Some(super::__field::<#t, __A::Error>(#key, map.next_value()?)?);
            }
        };
    }
    let bounds = bounds_tokens(f.bounds);
    quote! {
        #key => {
            let __v: ::serde_json::Value = map.next_value()?;
            super::__check_bounds::<__A::Error>(#key, &__v, &#bounds)?;
            #local = Some(super::__field::<#t, __A::Error>(#key, __v)?);
        }
    }
}

/// A `__Bounds` value.
fn bounds_tokens(b: &Bounds) -> TokenStream {
    let num = |v: Option<f64>| match v {
        Some(x) => quote!(Some(#x)),
        None => quote!(None),
    };
    let len = |v: Option<u64>| match v {
        Some(x) => quote!(Some(#x)),
        None => quote!(None),
    };
    let (min, max, xmin, xmax) = (
        num(b.minimum),
        num(b.maximum),
        num(b.exclusive_minimum),
        num(b.exclusive_maximum),
    );
    let (min_len, max_len) = (len(b.min_length), len(b.max_length));
    quote! {
        super::__Bounds {
            minimum: #min,
            maximum: #max,
            exclusive_minimum: #xmin,
            exclusive_maximum: #xmax,
            min_length: #min_len,
            max_length: #max_len,
        }
    }
}

/// The consts' "seen" flags, their arms, and the checks that the required
/// ones were seen.
fn const_parts(ev: &EventSpec) -> (TokenStream, TokenStream, TokenStream) {
    let seen = |i: usize| format_ident!("__const_seen_{}", i);
    let locals = (0..ev.consts.len()).map(|i| {
        let seen = seen(i);
        quote!(let mut #seen = false;)
    });
    let arms = ev.consts.iter().enumerate().map(|(i, c)| {
        let seen = seen(i);
        let (key, json) = (&c.key, &c.json);
        quote! {
            #key => {
                super::__check_const::<__A::Error>(#key, #json, &map.next_value()?)?;
                #seen = true;
            }
        }
    });
    let checks = ev
        .consts
        .iter()
        .enumerate()
        .filter(|(_, c)| c.required)
        .map(|(i, c)| {
            let seen = seen(i);
            let key = &c.key;
            quote! {
                if !#seen {
                    return Err(<__A::Error as ::serde::de::Error>::missing_field(#key));
                }
            }
        });
    (quote!(#(#locals)*), quote!(#(#arms)*), quote!(#(#checks)*))
}

/// The `event_type` local, arm and struct field init.
fn event_type_parts(ev: &EventSpec, name: &Ident) -> (TokenStream, TokenStream, TokenStream) {
    if ev.free {
        (
            quote!(let mut __event_type: Option<String> = None;),
            quote! {
                "event_type" => {
                    __event_type = Some(super::__field::<String, __A::Error>("event_type", map.next_value()?)?);
                }
            },
            quote!(event_type: __event_type,),
        )
    } else {
        (
            quote!(let mut __event_type: Option<()> = None;),
            quote! {
                "event_type" => {
                    super::__check_event_type::<__A::Error>(#name::EVENT_TYPE, map.next_value()?)?;
                    __event_type = Some(());
                }
            },
            TokenStream::new(),
        )
    }
}

/// The arm for a key the schema does not describe.
fn other_arm(extra: &ExtraRule, extra_type: Option<&TokenStream>) -> TokenStream {
    match (extra, extra_type) {
        (ExtraRule::Forbidden, _) => quote! {
            _ => {
                return Err(<__A::Error as ::serde::de::Error>::custom(format_args!(
                    "field \"{}\": not allowed (the schema sets \"additionalProperties\": false)",
                    __key
                )));
            }
        },
        (ExtraRule::Schema { .. }, Some(t)) => quote! {
            _ => {
                let v: ::serde_json::Value = map.next_value()?;
                super::__field::<#t, __A::Error>(&__key, v.clone())?;
                __extra.insert(__key, v);
            }
        },
        _ => quote! {
            _ => {
                let v: ::serde_json::Value = map.next_value()?;
                __extra.insert(__key, v);
            }
        },
    }
}
