//! `AnyEvent`: one variant per generated type, parsed by its
//! `event_type` (see `dispatch`), and its conversions.

use std::collections::BTreeMap;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::dispatch::{dispatch_match, name_arms};
use crate::ident::pascal;
use crate::model::{EventSpec, Namespace};
use crate::Error;

/// One `AnyEvent` variant: a generated type.
pub(super) struct Variant<'a> {
    pub ident: Ident,
    pub module: Ident,
    pub ty: Ident,
    /// The schema behind it.
    pub spec: &'a EventSpec,
    pub folder: &'a str,
}

/// The variants, in namespace then file order: named after their type, or
/// after module and type when two folders have a type of the same name.
pub(super) fn variants(namespaces: &[Namespace]) -> Result<Vec<Variant<'_>>, Error> {
    let mut type_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for ns in namespaces {
        for ev in &ns.events {
            *type_counts.entry(ev.type_name.as_str()).or_default() += 1;
        }
    }
    let mut variants: Vec<Variant> = Vec::new();
    for ns in namespaces {
        for ev in &ns.events {
            let variant = if type_counts[ev.type_name.as_str()] > 1 || ev.type_name == "Unknown" {
                format!("{}{}", pascal(&ns.module), ev.type_name)
            } else {
                ev.type_name.clone()
            };
            if variants.iter().any(|v| v.ident == variant) {
                return Err(Error::schema(
                    &ev.file,
                    "",
                    format!("the `AnyEvent` variant name `{variant}` is produced twice"),
                ));
            }
            variants.push(Variant {
                ident: format_ident!("{}", variant),
                module: format_ident!("{}", ns.module),
                ty: format_ident!("{}", ev.type_name),
                spec: ev,
                folder: ns.folder.as_str(),
            });
        }
    }
    Ok(variants)
}

/// The enum, its methods, and its conversions.
pub(super) fn any_event(
    rt: &syn::Path,
    namespaces: &[Namespace],
    variants: &[Variant],
) -> TokenStream {
    let variant_defs = variants.iter().map(|var| {
        let (v, m, t) = (&var.ident, &var.module, &var.ty);
        let doc = format!(" A `{}` event.", var.spec.event_type);
        quote!(#[doc = #doc] #v(#m::#t),)
    });
    let parse = parse_methods(rt, namespaces, variants);
    let access = access_methods(rt, variants);
    let conversions = conversions(variants);
    quote! {
        /// Any event: one of the generated types, chosen by its `event_type`,
        /// or `Unknown` for event types no schema describes.
        #[derive(Clone, Debug, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        pub enum AnyEvent {
            #(#variant_defs)*
            /// An event whose `event_type` no schema describes, as its JSON object.
            Unknown(::serde_json::Map<String, ::serde_json::Value>),
        }

        impl AnyEvent {
            #parse

            #access
        }

        #conversions
    }
}

/// `from_value`, `from_value_as` and `from_json_str`.
fn parse_methods(rt: &syn::Path, namespaces: &[Namespace], variants: &[Variant]) -> TokenStream {
    let dispatch_match = dispatch_match(rt, variants);
    let name_arms = name_arms(namespaces, variants);
    let no_names = if name_arms.is_empty() {
        quote!(let _ = value;)
    } else {
        TokenStream::new()
    };
    quote! {
        /// Parses a JSON value, dispatching on its `event_type`.
        ///
        /// Fails when the value is not an object, has no string
        /// `event_type`, or does not match the schema of its event type.
        pub fn from_value(value: ::serde_json::Value) -> Result<Self, ::serde_json::Error> {
            use ::serde::de::Error as _;
            let map = match value {
                ::serde_json::Value::Object(map) => map,
                other => {
                    return Err(::serde_json::Error::custom(format_args!(
                        "invalid type: expected an event object, found {}",
                        other
                    )))
                }
            };
            let event_type = match map.get("event_type") {
                None => return Err(::serde_json::Error::missing_field("event_type")),
                Some(::serde_json::Value::String(s)) => s.clone(),
                Some(other) => {
                    return Err(::serde_json::Error::custom(format_args!(
                        "field \"event_type\": expected a string, found {}",
                        other
                    )))
                }
            };
            #dispatch_match
        }

        /// Parses a JSON value as the schema called `name`, whatever its
        /// `event_type` says: for a schema whose event type the sender
        /// chooses. `name` is `folder/file` as under the schema directory
        /// (`"elixir/ecto.query"`), `folder::Type`, or, when no other
        /// schema takes it, the bare type or file name. The schema's own
        /// rules still apply (a fixed `event_type` must match).
        pub fn from_value_as(name: &str, value: ::serde_json::Value) -> Result<Self, ::serde_json::Error> {
            use ::serde::de::Error as _;
            #no_names
            match name {
                #(#name_arms)*
                _ => Err(::serde_json::Error::custom(format_args!(
                    "no schema is called \"{}\" (use folder/file, as in `schemas list`)",
                    name
                ))),
            }
        }

        /// Parses a JSON document (see [`AnyEvent::from_value`]).
        pub fn from_json_str(s: &str) -> Result<Self, ::serde_json::Error> {
            Self::from_value(::serde_json::from_str(s)?)
        }
    }
}

/// `event_type` and `into_event`.
fn access_methods(rt: &syn::Path, variants: &[Variant]) -> TokenStream {
    let et_arms = variants.iter().map(|var| {
        let (v, m, t) = (&var.ident, &var.module, &var.ty);
        if var.spec.free {
            quote!(Self::#v(e) => Some(e.event_type.as_str()),)
        } else {
            quote!(Self::#v(_) => Some(#m::#t::EVENT_TYPE),)
        }
    });
    let into_arms = variants.iter().map(|v| {
        let (v, m, t) = (&v.ident, &v.module, &v.ty);
        quote!(Self::#v(e) => <#m::#t as #rt::TypedEvent>::into_event(e),)
    });
    quote! {
        /// The event type (`None` for an `Unknown` event without a string `event_type`).
        pub fn event_type(&self) -> Option<&str> {
            match self {
                #(#et_arms)*
                Self::Unknown(map) => map.get("event_type").and_then(::serde_json::Value::as_str),
            }
        }

        /// Converts into the generic event.
        pub fn into_event(self) -> #rt::Event {
            match self {
                #(#into_arms)*
                Self::Unknown(map) => #rt::Event::from_map(map),
            }
        }
    }
}

/// `From` each type, `Serialize` and `Deserialize`.
fn conversions(variants: &[Variant]) -> TokenStream {
    let ser_arms = variants.iter().map(|v| {
        let v = &v.ident;
        quote!(Self::#v(e) => ::serde::Serialize::serialize(e, serializer),)
    });
    let froms = variants.iter().map(|v| {
        let (v, m, t) = (&v.ident, &v.module, &v.ty);
        quote! {
            impl From<#m::#t> for AnyEvent {
                fn from(e: #m::#t) -> Self {
                    Self::#v(e)
                }
            }
        }
    });
    quote! {
        #(#froms)*

        impl ::serde::Serialize for AnyEvent {
            fn serialize<__S: ::serde::Serializer>(&self, serializer: __S) -> Result<__S::Ok, __S::Error> {
                match self {
                    #(#ser_arms)*
                    Self::Unknown(map) => ::serde::Serialize::serialize(map, serializer),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for AnyEvent {
            fn deserialize<__D: ::serde::Deserializer<'de>>(deserializer: __D) -> Result<Self, __D::Error> {
                let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                Self::from_value(value).map_err(<__D::Error as ::serde::de::Error>::custom)
            }
        }
    }
}
