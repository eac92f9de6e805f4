//! Emission of the root structs, `AnyEvent` and `SCHEMAS`.

use std::collections::BTreeMap;

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::{Error, EventSpec, ExtraRule, Namespace};

/// `foo-bar.baz` → `FooBarBaz`; never empty, never starting with a digit.
pub(crate) fn pascal(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let p = cleaned.to_upper_camel_case();
    if p.is_empty() {
        "Field".to_string()
    } else if p.starts_with(|c: char| c.is_ascii_digit()) {
        format!("E{p}")
    } else {
        p
    }
}

/// The Rust type name of an event type (`db.query` → `DbQuery`).
pub(crate) fn type_name(event_type: &str) -> String {
    pascal(event_type)
}

fn snake(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let s = cleaned.to_snake_case();
    if s.is_empty() {
        "field".to_string()
    } else if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{s}")
    } else {
        s
    }
}

fn is_keyword(s: &str) -> bool {
    syn::parse_str::<syn::Ident>(s).is_err()
}

/// A valid identifier (possibly raw) for a snake-case name.
fn ident_for(name: &str) -> Ident {
    if matches!(name, "self" | "Self" | "super" | "crate" | "_") {
        Ident::new(&format!("{name}_"), Span::call_site())
    } else if is_keyword(name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// The module name of a schema folder.
pub(crate) fn module_ident(folder: &str) -> String {
    let s = snake(folder);
    if is_keyword(&s) || matches!(s.as_str(), "self" | "super" | "crate" | "_") {
        format!("{s}_")
    } else {
        s
    }
}

/// How the runtime hooks treat a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Str,
    Float,
    Value,
    Map,
    Array,
    Other,
}

/// The Rust type typify chose for a property.
#[derive(Debug, Clone)]
pub(crate) struct FieldType {
    /// The full type (may be `Option<..>` when the schema allows `null`).
    tokens: TokenStream,
    /// When the schema allows `null`: the type inside the `Option`.
    nullable_inner: Option<TokenStream>,
    kind: Kind,
    has_default: bool,
}

fn simplify(s: &str) -> String {
    s.replace(' ', "")
        .replace("::std::string::String", "String")
        .replace("::std::option::Option", "Option")
        .replace("::std::vec::Vec", "Vec")
        .replace("::std::boxed::Box", "Box")
}

fn classify(s: &str) -> Kind {
    match s {
        "String" => Kind::Str,
        "f64" | "f32" => Kind::Float,
        "::serde_json::Value" => Kind::Value,
        "::serde_json::Map<String,::serde_json::Value>" => Kind::Map,
        "Vec<::serde_json::Value>" => Kind::Array,
        _ => Kind::Other,
    }
}

fn known_default(s: &str) -> bool {
    matches!(
        s,
        "String"
            | "bool"
            | "f32"
            | "f64"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "u8"
            | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "isize"
            | "usize"
            | "::serde_json::Value"
    ) || s.starts_with("Option<")
        || s.starts_with("Vec<")
        || s.starts_with("::serde_json::Map<")
        || s.starts_with("::std::collections::")
}

impl FieldType {
    /// A plain `f64` (not nullable).
    fn is_f64(&self) -> bool {
        self.nullable_inner.is_none() && self.tokens.to_string() == "f64"
    }

    pub(crate) fn new(tokens: TokenStream, typify_default: bool) -> Self {
        let s = simplify(&tokens.to_string());
        let tokens: TokenStream = s.parse().expect("re-parsing a type");
        let (nullable_inner, kind) =
            match s.strip_prefix("Option<").and_then(|r| r.strip_suffix('>')) {
                Some(inner) => (
                    Some(inner.parse().expect("re-parsing a type")),
                    classify(inner),
                ),
                None => (None, classify(&s)),
            };
        let has_default = typify_default || known_default(&s);
        FieldType {
            tokens,
            nullable_inner,
            kind,
            has_default,
        }
    }
}

/// Human form of a type for `FieldInfo::rust_type`.
fn display_type(t: &TokenStream) -> String {
    simplify(&t.to_string())
        .replace("::serde_json::", "serde_json::")
        .replace("::std::collections::", "")
        .replace("::std::num::", "std::num::")
        .replace(',', ", ")
}

/// Drops typify's `error` module when nothing uses it.
pub(crate) fn tidy_typify_items(items: Vec<syn::Item>) -> Vec<syn::Item> {
    let is_error_mod = |item: &syn::Item| matches!(item, syn::Item::Mod(m) if m.ident == "error");
    let rest: String = items
        .iter()
        .filter(|i| !is_error_mod(i))
        .map(|i| quote!(#i).to_string())
        .collect();
    let uses_error = rest.contains("ConversionError");
    items
        .into_iter()
        .filter(|i| uses_error || !is_error_mod(i))
        .collect()
}

fn item_name(item: &syn::Item) -> Option<String> {
    match item {
        syn::Item::Struct(s) => Some(s.ident.to_string()),
        syn::Item::Enum(e) => Some(e.ident.to_string()),
        syn::Item::Type(t) => Some(t.ident.to_string()),
        syn::Item::Mod(m) => Some(m.ident.to_string()),
        _ => None,
    }
}

/// Fails when a typify-generated type would clash with an event struct or
/// shadow a std type the generated code uses.
pub(crate) fn check_name_clashes(
    file: &str,
    events: &[EventSpec],
    items: &[syn::Item],
) -> Result<(), Error> {
    for item in items {
        let Some(name) = item_name(item) else {
            continue;
        };
        if let Some(ev) = events.iter().find(|e| e.type_name == name) {
            return Err(Error::schema(
                &ev.file,
                "",
                format!("a definition or nested type generates the Rust type `{name}`, which clashes with the struct for event type \"{}\"", ev.event_type),
            ));
        }
        if matches!(
            name.as_str(),
            "String" | "Option" | "Vec" | "Box" | "Result" | "Some" | "None" | "Ok" | "Err"
        ) {
            return Err(Error::schema(
                file,
                "",
                format!("a definition generates the Rust type `{name}`, which would shadow the std type of that name"),
            ));
        }
    }
    Ok(())
}

struct FieldOut<'a> {
    key: &'a str,
    ident: Ident,
    /// The name without `r#` (for locals and messages).
    plain: String,
    setter: Ident,
    required: bool,
    ty: &'a FieldType,
    /// The type of the struct field.
    field_ty: TokenStream,
    doc: String,
    json_type: &'a str,
    description: &'a str,
    bounds: &'a crate::Bounds,
}

fn field_outs<'a>(ev: &'a EventSpec, types: &'a [FieldType]) -> Vec<FieldOut<'a>> {
    let mut used: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (f, ty) in ev.fields.iter().zip(types) {
        let mut name = snake(&f.key);
        if name == "extra" {
            name = "extra_".to_string();
        }
        if matches!(name.as_str(), "self" | "super" | "crate" | "_") {
            name.push('_');
        }
        let base = name.clone();
        let mut n = 2;
        while used.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        used.push(name.clone());
        let ident = ident_for(&name);
        let setter = if matches!(
            name.as_str(),
            "new" | "send" | "send_with" | "into_event" | "extra"
        ) {
            format_ident!("with_{}", name)
        } else {
            ident.clone()
        };
        let t = &ty.tokens;
        let field_ty = if f.required || ty.nullable_inner.is_some() {
            quote!(#t)
        } else {
            quote!(Option<#t>)
        };
        let mut doc = if f.description.is_empty() {
            format!("The `{}` field.", f.key)
        } else {
            f.description.clone()
        };
        if let Some(ex) = &f.example {
            doc.push_str(&format!("\n\nExample: `{ex}`"));
        }
        if f.required {
            doc.push_str("\n\nRequired.");
        }
        out.push(FieldOut {
            key: &f.key,
            ident,
            plain: name,
            setter,
            required: f.required,
            ty,
            field_ty,
            doc: doc
                .lines()
                .map(|l| format!(" {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
            json_type: &f.json_type,
            description: &f.description,
            bounds: &f.bounds,
        });
    }
    out
}

/// The local variable holding a field while deserializing.
fn local_ident(plain: &str) -> Ident {
    if plain.starts_with('_') {
        format_ident!("__f{}", plain)
    } else {
        format_ident!("__f_{}", plain)
    }
}

fn doc_attr(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| {
        let l = if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        };
        quote!(#[doc = #l])
    });
    quote!(#(#lines)*)
}

fn emit_event(
    rt: &syn::Path,
    ev: &EventSpec,
    types: &[FieldType],
    extra_type: Option<&TokenStream>,
    inline_send: bool,
) -> TokenStream {
    let send_methods = if inline_send {
        send_methods(rt)
    } else {
        TokenStream::new()
    };
    let name = format_ident!("{}", ev.type_name);
    let fields = field_outs(ev, types);
    let event_type = &ev.event_type;
    let schema_id = &ev.schema_id;

    // Struct docs.
    let mut doc = String::new();
    if !ev.title.is_empty() {
        doc.push_str(&ev.title);
        doc.push_str("\n\n");
    }
    if !ev.description.is_empty() {
        doc.push_str(&ev.description);
        doc.push_str("\n\n");
    }
    if ev.free {
        doc.push_str(&format!(
            "Event type chosen by the sender (the `event_type` field; `{event_type}` unless set)"
        ));
    } else {
        doc.push_str(&format!("Event type `{event_type}`"));
    }
    if !schema_id.is_empty() {
        doc.push_str(&format!(", schema `$id` `{schema_id}`"));
    }
    doc.push_str(". Generated from `");
    doc.push_str(&ev.rel);
    doc.push_str("`.");
    for c in &ev.consts {
        doc.push_str(&format!(
            "\n\nAlways sends `\"{}\": {}` (a `const` of the schema).",
            c.key, c.json
        ));
    }
    let doc = doc_attr(&doc);

    let all_default = fields.iter().all(|f| !f.required || f.ty.has_default);
    let derives = if all_default && !ev.free {
        quote!(#[derive(Clone, Debug, PartialEq, Default)])
    } else {
        quote!(#[derive(Clone, Debug, PartialEq)])
    };
    // A free event type starts as the default name, so `Default` is written out.
    let manual_default = if all_default && ev.free {
        let inits = fields.iter().map(|f| {
            let ident = &f.ident;
            quote!(#ident: ::std::default::Default::default(),)
        });
        quote! {
            impl ::std::default::Default for #name {
                fn default() -> Self {
                    Self {
                        event_type: Self::EVENT_TYPE.to_string(),
                        #(#inits)*
                        extra: ::serde_json::Map::new(),
                    }
                }
            }
        }
    } else {
        TokenStream::new()
    };
    let event_type_field = if ev.free {
        quote! {
            /// The event type: the sender chooses it (the schema fixes no
            /// value). Starts as the default name, `EVENT_TYPE`.
            pub event_type: String,
        }
    } else {
        TokenStream::new()
    };
    let event_type_init = if ev.free {
        quote!(event_type: Self::EVENT_TYPE.to_string(),)
    } else {
        TokenStream::new()
    };
    let event_type_setter = if ev.free {
        quote! {
            /// Sets the event type (the schema leaves it to the sender).
            #[must_use]
            pub fn with_event_type(mut self, v: impl Into<String>) -> Self {
                self.event_type = v.into();
                self
            }
        }
    } else {
        TokenStream::new()
    };

    let struct_fields = fields.iter().map(|f| {
        let FieldOut {
            ident,
            field_ty,
            doc,
            ..
        } = f;
        let doc_lines = doc.lines().map(|l| quote!(#[doc = #l]));
        quote! { #(#doc_lines)* pub #ident: #field_ty, }
    });

    // Constructor and setters.
    let new_params = fields.iter().filter(|f| f.required).map(|f| {
        let ident = &f.ident;
        let t = &f.ty.tokens;
        match (f.ty.nullable_inner.is_some(), f.ty.kind) {
            (false, Kind::Str) => quote!(#ident: impl Into<String>),
            (false, Kind::Value) => quote!(#ident: impl Into<::serde_json::Value>),
            _ => quote!(#ident: #t),
        }
    });
    let new_inits = fields.iter().map(|f| {
        let ident = &f.ident;
        if !f.required {
            quote!(#ident: None)
        } else if f.ty.nullable_inner.is_none() && matches!(f.ty.kind, Kind::Str | Kind::Value) {
            quote!(#ident: #ident.into())
        } else {
            quote!(#ident)
        }
    });
    let setters = fields.iter().filter(|f| !f.required).map(|f| {
        let ident = &f.ident;
        let setter = &f.setter;
        let inner = f.ty.nullable_inner.as_ref().unwrap_or(&f.ty.tokens);
        let doc = format!(" Sets `{}`.", f.key);
        let (param, value) = match f.ty.kind {
            Kind::Str => (quote!(impl Into<String>), quote!(v.into())),
            Kind::Value => (quote!(impl Into<::serde_json::Value>), quote!(v.into())),
            _ => (quote!(#inner), quote!(v)),
        };
        quote! {
            #[doc = #doc]
            #[must_use]
            pub fn #setter(mut self, v: #param) -> Self {
                self.#ident = Some(#value);
                self
            }
        }
    });
    let new_doc = if fields.iter().any(|f| f.required) {
        " Creates the event from its required fields; optional fields start as `None`."
    } else {
        " Creates the event; every field starts as `None`."
    };

    // Serialize.
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
    let const_value = |json: &str| -> TokenStream {
        let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
        let tokens = json_tokens(&value);
        quote!(::serde_json::json!(#tokens))
    };
    let ser_consts = ev.consts.iter().map(|c| {
        let key = &c.key;
        let value = const_value(&c.json);
        quote!(map.serialize_entry(#key, &#value)?;)
    });
    // Packing: keys and punctuation as literal segments built at compile
    // time (keys escaped here), strings and `f64`s written directly.
    let quoted = |k: &str| serde_json::to_string(k).unwrap_or_default();
    let mut segs: Vec<TokenStream> = Vec::new();
    let mut seg = |text: String| -> TokenStream {
        let name = format_ident!("SEG{}", segs.len());
        segs.push(quote! {
            const #name: &[u8] = &#rt::__private::segment::<
                { #text.len() + #rt::__private::SEGMENT_HEADER }
            >(#text);
        });
        quote!(p.seg(#name);)
    };
    let mut pack_fields = Vec::new();
    let mut open = if ev.free {
        pack_fields.push(seg("{\"event_type\":".to_string()));
        pack_fields.push(quote!(p.str(&self.event_type)?;));
        String::new()
    } else {
        format!("{{\"event_type\":{}", quoted(&ev.event_type))
    };
    for c in &ev.consts {
        open.push_str(&format!(",{}:{}", quoted(&c.key), c.json));
    }
    for f in &fields {
        let ident = &f.ident;
        let key = format!(",{}:", quoted(f.key));
        let (required, optional) = match (f.ty.kind, f.ty.is_f64()) {
            _ if f.ty.nullable_inner.is_some() => {
                (quote!(p.value(&self.#ident)?;), quote!(p.value(v)?;))
            }
            (Kind::Str, _) => (quote!(p.str(&self.#ident)?;), quote!(p.str(v)?;)),
            (_, true) => (quote!(p.f64(self.#ident);), quote!(p.f64(*v);)),
            _ => (quote!(p.value(&self.#ident)?;), quote!(p.value(v)?;)),
        };
        if f.required {
            let s = seg(std::mem::take(&mut open) + &key);
            pack_fields.push(quote! {
                #s
                #required
            });
        } else {
            if !open.is_empty() {
                pack_fields.push(seg(std::mem::take(&mut open)));
            }
            let s = seg(key);
            pack_fields.push(quote! {
                if let Some(v) = &self.#ident {
                    #s
                    #optional
                }
            });
        }
    }
    if !open.is_empty() {
        pack_fields.push(seg(open));
    }
    let pack_comma = seg(",".to_string());
    let pack_close = seg("}".to_string());
    let known_keys: Vec<&str> = std::iter::once("event_type")
        .chain(ev.consts.iter().map(|c| c.key.as_str()))
        .chain(fields.iter().map(|f| f.key))
        .collect();

    // Deserialize.
    let locals = fields.iter().map(|f| {
        let local = local_ident(&f.plain);
        let t = &f.field_ty;
        quote!(let mut #local: Option<#t> = None;)
    });
    let arms = fields.iter().map(|f| {
        let local = local_ident(&f.plain);
        let key = f.key;
        let t = &f.field_ty;
        if f.bounds.is_empty() {
            quote! {
                #key => {
                    #local = Some(super::__field::<#t, __A::Error>(#key, map.next_value()?)?);
                }
            }
        } else {
            let b = &f.bounds;
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
                #key => {
                    let __v: ::serde_json::Value = map.next_value()?;
                    super::__check_bounds::<__A::Error>(#key, &__v, &super::__Bounds {
                        minimum: #min,
                        maximum: #max,
                        exclusive_minimum: #xmin,
                        exclusive_maximum: #xmax,
                        min_length: #min_len,
                        max_length: #max_len,
                    })?;
                    #local = Some(super::__field::<#t, __A::Error>(#key, __v)?);
                }
            }
        }
    });
    let const_locals = ev.consts.iter().enumerate().map(|(i, _)| {
        let seen = format_ident!("__const_seen_{}", i);
        quote!(let mut #seen = false;)
    });
    let const_arms = ev.consts.iter().enumerate().map(|(i, c)| {
        let seen = format_ident!("__const_seen_{}", i);
        let key = &c.key;
        let json = &c.json;
        quote! {
            #key => {
                super::__check_const::<__A::Error>(#key, #json, &map.next_value()?)?;
                #seen = true;
            }
        }
    });
    let const_checks = ev
        .consts
        .iter()
        .enumerate()
        .filter(|(_, c)| c.required)
        .map(|(i, c)| {
            let seen = format_ident!("__const_seen_{}", i);
            let key = &c.key;
            quote! {
                if !#seen {
                    return Err(<__A::Error as ::serde::de::Error>::missing_field(#key));
                }
            }
        });
    let event_type_arm = if ev.free {
        quote! {
            "event_type" => {
                __event_type = Some(super::__field::<String, __A::Error>("event_type", map.next_value()?)?);
            }
        }
    } else {
        quote! {
            "event_type" => {
                super::__check_event_type::<__A::Error>(#name::EVENT_TYPE, map.next_value()?)?;
                __event_type = Some(());
            }
        }
    };
    let event_type_local = if ev.free {
        quote!(let mut __event_type: Option<String> = None;)
    } else {
        quote!(let mut __event_type: Option<()> = None;)
    };
    let event_type_build = if ev.free {
        quote!(event_type: __event_type,)
    } else {
        TokenStream::new()
    };
    let other_arm = match (&ev.extra, extra_type) {
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
    };
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
    let expecting = format!("a \"{event_type}\" event object");

    // TypedEvent hooks.
    let has_key_arms = fields.iter().map(|f| {
        let key = f.key;
        let ident = &f.ident;
        if f.required {
            quote!(#key => true,)
        } else {
            quote!(#key => self.#ident.is_some(),)
        }
    });
    let const_keys = ev.consts.iter().map(|c| c.key.as_str());
    let event_type_fn = if ev.free {
        quote! {
            fn event_type_str(&self) -> &str {
                &self.event_type
            }
        }
    } else {
        TokenStream::new()
    };
    let request_id = fields.iter().find(|f| f.key == "request_id");
    let request_id_body = match request_id {
        None => quote!(self
            .extra
            .get("request_id")
            .and_then(::serde_json::Value::as_str)),
        Some(f) => {
            let ident = &f.ident;
            let optional = !f.required || f.ty.nullable_inner.is_some();
            match (optional, f.ty.kind) {
                (false, Kind::Str) => quote!(Some(self.#ident.as_str())),
                (true, Kind::Str) => quote!(self.#ident.as_deref()),
                (false, Kind::Value) => quote!(self.#ident.as_str()),
                (true, Kind::Value) => {
                    quote!(self.#ident.as_ref().and_then(::serde_json::Value::as_str))
                }
                _ => quote!(None),
            }
        }
    };
    let non_finite = fields.iter().filter(|f| f.ty.kind == Kind::Float).map(|f| {
        let ident = &f.ident;
        let key = f.key;
        let optional = !f.required || f.ty.nullable_inner.is_some();
        if optional {
            quote! {
                if let Some(v) = self.#ident {
                    if !v.is_finite() {
                        return Some(#key);
                    }
                }
            }
        } else {
            quote! {
                if !self.#ident.is_finite() {
                    return Some(#key);
                }
            }
        }
    });
    let visits = fields
        .iter()
        .filter(|f| matches!(f.ty.kind, Kind::Map | Kind::Array | Kind::Value))
        .map(|f| {
            let ident = &f.ident;
            let key = f.key;
            let variant = match f.ty.kind {
                Kind::Map => quote!(Object),
                Kind::Array => quote!(Array),
                _ => quote!(Value),
            };
            let optional = !f.required || f.ty.nullable_inner.is_some();
            if optional {
                quote! {
                    if let Some(v) = &mut self.#ident {
                        f(#key, #rt::JsonFieldMut::#variant(v));
                    }
                }
            } else {
                quote!(f(#key, #rt::JsonFieldMut::#variant(&mut self.#ident));)
            }
        });

    quote! {
        #doc
        #derives
        pub struct #name {
            #event_type_field
            #(#struct_fields)*
            /// Keys not described by the schema (e.g. `ts`, context keys);
            /// kept on a round trip and serialized after the schema fields.
            pub extra: ::serde_json::Map<String, ::serde_json::Value>,
        }

        #manual_default

        impl #name {
            /// The value of the `event_type` key.
            pub const EVENT_TYPE: &'static str = #event_type;
            /// The schema's `$id` (empty when the schema has none).
            pub const SCHEMA_ID: &'static str = #schema_id;

            #[doc = #new_doc]
            pub fn new(#(#new_params),*) -> Self {
                Self {
                    #event_type_init
                    #(#new_inits,)*
                    extra: ::serde_json::Map::new(),
                }
            }

            #event_type_setter
            #(#setters)*

            #send_methods

            /// Converts the typed event into a generic event.
            pub fn into_event(self) -> #rt::Event {
                <Self as #rt::TypedEvent>::into_event(self)
            }
        }

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
                        #(#const_locals)*
                        #(#locals)*
                        let mut __extra = ::serde_json::Map::new();
                        while let Some(__key) = map.next_key::<String>()? {
                            match __key.as_str() {
                                #event_type_arm
                                #(#const_arms)*
                                #(#arms)*
                                #other_arm
                            }
                        }
                        let Some(__event_type) = __event_type else {
                            return Err(<__A::Error as ::serde::de::Error>::missing_field("event_type"));
                        };
                        #(#const_checks)*
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

        impl #rt::TypedEvent for #name {
            const EVENT_TYPE: &'static str = #event_type;
            const SCHEMA_ID: &'static str = #schema_id;

            fn has_key(&self, key: &str) -> bool {
                match key {
                    "event_type" #(| #const_keys)* => true,
                    #(#has_key_arms)*
                    _ => !self.extra.is_empty() && self.extra.contains_key(key),
                }
            }

            #event_type_fn

            fn request_id_str(&self) -> Option<&str> {
                #request_id_body
            }

            fn non_finite_field(&self) -> Option<&'static str> {
                #(#non_finite)*
                None
            }

            fn visit_json_fields_mut(&mut self, f: &mut dyn FnMut(&str, #rt::JsonFieldMut<'_>)) {
                #(#visits)*
                for (k, v) in self.extra.iter_mut() {
                    f(k, #rt::JsonFieldMut::Value(v));
                }
            }

            fn pack<__W: #rt::EventWriter>(&self, p: &mut __W) -> Result<(), ::serde_json::Error> {
                #(#segs)*
                #(#pack_fields)*
                for (k, v) in &self.extra {
                    if !matches!(k.as_str(), #(#known_keys)|*) {
                        #pack_comma
                        p.key(k)?;
                        p.value(v)?;
                    }
                }
                #pack_close
                Ok(())
            }
        }
    }
}

fn schema_info(rt: &syn::Path, ns: &Namespace, ev: &EventSpec, types: &[FieldType]) -> TokenStream {
    let fields = field_outs(ev, types);
    let infos = fields.iter().map(|f| {
        let name = f.key;
        let json_type = f.json_type;
        let rust_type = display_type(&f.field_ty);
        let required = f.required;
        let description = f.description;
        quote! {
            #rt::FieldInfo {
                name: #name,
                json_type: #json_type,
                rust_type: #rust_type,
                required: #required,
                description: #description,
            }
        }
    });
    let namespace = &ns.folder;
    let event_type = &ev.event_type;
    let type_name = &ev.type_name;
    let schema_id = &ev.schema_id;
    let title = &ev.title;
    let description = &ev.description;
    let name = format!("{}/{}", ns.folder, ev.stem);
    let free = ev.free;
    let consts = ev.consts.iter().map(|c| {
        let (k, j) = (&c.key, &c.json);
        quote!((#k, #j))
    });
    let examples = &ev.examples;
    quote! {
        #rt::SchemaInfo {
            namespace: #namespace,
            name: #name,
            event_type: #event_type,
            free_event_type: #free,
            type_name: #type_name,
            schema_id: #schema_id,
            title: #title,
            description: #description,
            fields: &[#(#infos),*],
            consts: &[#(#consts),*],
            examples: &[#(#examples),*],
        }
    }
}

/// A JSON value as the tokens of a `serde_json::json!` argument (strings as
/// Rust literals, so any escape in the schema survives).
fn json_tokens(v: &serde_json::Value) -> TokenStream {
    use serde_json::Value;
    match v {
        Value::Null => quote!(null),
        Value::Bool(b) => quote!(#b),
        Value::Number(n) => {
            if let Some(i) = n.as_u64() {
                quote!(#i)
            } else if let Some(i) = n.as_i64() {
                quote!(#i)
            } else {
                let f = n.as_f64().unwrap_or_default();
                quote!(#f)
            }
        }
        Value::String(s) => quote!(#s),
        Value::Array(a) => {
            let items = a.iter().map(json_tokens);
            quote!([#(#items),*])
        }
        Value::Object(o) => {
            let entries = o.iter().map(|(k, v)| {
                let v = json_tokens(v);
                quote!(#k: #v)
            });
            quote!({#(#entries),*})
        }
    }
}

/// The `send()` and `send_with()` methods of a generated type.
fn send_methods(rt: &syn::Path) -> TokenStream {
    quote! {
        /// Sends the event through the global client.
        pub fn send(self) -> Result<(), #rt::SendError> {
            #rt::__private::send_typed(self)
        }

        /// Sends the event through `client`.
        pub fn send_with(self, client: &#rt::Client) -> Result<(), #rt::SendError> {
            #rt::__private::send_typed_with(self, client)
        }
    }
}

/// The `send()` methods of every type, as `impl` blocks that name the types
/// through `types` (the path of the generated module), for a file of their
/// own (see `Config::send_methods_file`).
pub(crate) fn emit_send_impls(
    rt: &syn::Path,
    types: &syn::Path,
    namespaces: &[Namespace],
) -> TokenStream {
    let methods = send_methods(rt);
    let impls = namespaces.iter().flat_map(|ns| {
        let module = format_ident!("{}", ns.module);
        let methods = methods.clone();
        ns.events.iter().map(move |ev| {
            let name = format_ident!("{}", ev.type_name);
            quote! {
                impl #types::#module::#name {
                    #methods
                }
            }
        })
    });
    quote! { #(#impls)* }
}

/// The whole generated file (with each type's `send()` methods when
/// `inline_send`).
pub(crate) fn emit_all(
    rt: &syn::Path,
    namespaces: &[Namespace],
    inline_send: bool,
) -> Result<TokenStream, Error> {
    let mut modules = Vec::new();
    let mut infos = Vec::new();
    // (variant, module, type, event_type)
    let mut variants: Vec<(Ident, Ident, Ident, String)> = Vec::new();
    // The spec and folder behind each variant, same order.
    let mut specs: Vec<(&EventSpec, &str)> = Vec::new();
    let mut type_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for ns in namespaces {
        for ev in &ns.events {
            *type_counts.entry(ev.type_name.as_str()).or_default() += 1;
        }
    }
    for ns in namespaces {
        let module = format_ident!("{}", ns.module);
        let items = &ns.items;
        let events = ns
            .events
            .iter()
            .zip(&ns.field_types)
            .zip(&ns.extra_types)
            .map(|((ev, types), extra)| emit_event(rt, ev, types, extra.as_ref(), inline_send));
        let doc = format!(
            " Event types generated from the schemas in `{}/`.",
            ns.folder
        );
        // A schema that repeats an earlier folder's is that folder's type.
        let reexports = ns.aliases.iter().map(|a| {
            let target = &namespaces[a.target.0];
            let tm = format_ident!("{}", target.module);
            let tt = format_ident!("{}", target.events[a.target.1].type_name);
            let doc = format!(
                " `{}` repeats `{}/{}` (the same schema but for its annotations): it is that folder's type.",
                a.spec.rel, target.folder, target.events[a.target.1].stem
            );
            quote!(#[doc = #doc] pub use super::#tm::#tt;)
        });
        modules.push(quote! {
            #[doc = #doc]
            #[allow(
                missing_docs,
            )]
            pub mod #module {
                #(#items)*
                #(#events)*
                #(#reexports)*
            }
        });
        // `SCHEMAS`: this folder's schemas in file order, repeats included.
        let mut ns_infos: Vec<(&str, TokenStream)> = ns
            .events
            .iter()
            .zip(&ns.field_types)
            .map(|(ev, types)| (ev.file.as_str(), schema_info(rt, ns, ev, types)))
            .collect();
        for a in &ns.aliases {
            let types = &namespaces[a.target.0].field_types[a.target.1];
            ns_infos.push((a.spec.file.as_str(), schema_info(rt, ns, &a.spec, types)));
        }
        ns_infos.sort_by(|x, y| x.0.cmp(y.0));
        infos.extend(ns_infos.into_iter().map(|(_, t)| t));
        for ev in &ns.events {
            let variant = if type_counts[ev.type_name.as_str()] > 1 || ev.type_name == "Unknown" {
                format!("{}{}", pascal(&ns.module), ev.type_name)
            } else {
                ev.type_name.clone()
            };
            if variants.iter().any(|v| v.0 == variant) {
                return Err(Error::schema(
                    &ev.file,
                    "",
                    format!("the `AnyEvent` variant name `{variant}` is produced twice"),
                ));
            }
            variants.push((
                format_ident!("{}", variant),
                module.clone(),
                format_ident!("{}", ev.type_name),
                ev.event_type.clone(),
            ));
            specs.push((ev, ns.folder.as_str()));
        }
    }

    let variant_defs = variants.iter().map(|(v, m, t, et)| {
        let doc = format!(" A `{et}` event.");
        quote!(#[doc = #doc] #v(#m::#t),)
    });
    // Dispatch on `event_type`: schemas with a fixed event type first, in
    // namespace order, then free ones under their default name. Schemas that
    // share an event type are told apart by their `const` properties; the
    // first whose consts all match wins (so with no consts, the first
    // namespace in sorted order wins, as before).
    // Schemas whose event type is free are not in the `match`: they are
    // placed by `placing::place` (below) when no fixed event type matches.
    let mut order: Vec<String> = Vec::new();
    for (spec, _) in &specs {
        if !spec.free && !order.contains(&spec.event_type) {
            order.push(spec.event_type.clone());
        }
    }
    let dispatch: Vec<TokenStream> = order.iter().map(|et| {
        let candidates: Vec<usize> = specs
            .iter()
            .enumerate()
            .filter(|(_, (spec, _))| !spec.free && spec.event_type == *et)
            .map(|(i, _)| i)
            .collect();
        let mut body = Vec::new();
        let mut exhaustive = false;
        for &i in &candidates {
            let (v, m, t, _) = &variants[i];
            let parse = quote!(::serde_json::from_value::<#m::#t>(::serde_json::Value::Object(map)).map(Self::#v));
            let consts = &specs[i].0.consts;
            if consts.is_empty() || candidates.len() == 1 {
                body.push(quote!(#parse));
                exhaustive = true;
                break;
            }
            let checks = consts.iter().map(|c| {
                let key = &c.key;
                let json = &c.json;
                let required = c.required;
                quote!((#key, #json, #required))
            });
            body.push(quote! {
                if #rt::__private::consts_match(&map, &[#(#checks),*]) {
                    return #parse;
                }
            });
        }
        if !exhaustive {
            let described: Vec<String> = candidates
                .iter()
                .map(|&i| {
                    let (spec, folder) = specs[i];
                    let consts: Vec<String> =
                        spec.consts.iter().map(|c| format!("{} {}", c.key, c.json)).collect();
                    format!("{folder}/{} ({})", spec.stem, consts.join(", "))
                })
                .collect();
            let msg = format!(
                "event type \"{et}\" is shared by {}, and this event matches none of them",
                described.join(" and ")
            );
            body.push(quote!(Err(::serde_json::Error::custom(#msg))));
        }
        if body.len() == 1 {
            quote!(#et => #(#body)*,)
        } else {
            quote!(#et => { #(#body)* })
        }
    }).collect();
    // The claims of the schemas without an `event_type` const, for
    // `placing::place`: their required consts, their name patterns.
    let claimants: Vec<usize> = (0..specs.len()).filter(|&i| specs[i].0.free).collect();
    let fallback = if claimants.is_empty() {
        quote!(_ => Ok(Self::Unknown(map)),)
    } else {
        let claims = claimants.iter().map(|&i| {
            let spec = specs[i].0;
            let consts = spec.consts.iter().filter(|c| c.required).map(|c| {
                let (k, j) = (&c.key, &c.json);
                quote!((#k, #j))
            });
            let patterns = &spec.name_patterns;
            quote! {
                #rt::placing::Claim {
                    required_consts: &[#(#consts),*],
                    name_patterns: &[#(#patterns),*],
                }
            }
        });
        let names = claimants
            .iter()
            .map(|&i| format!("{}/{}", specs[i].1, specs[i].0.stem));
        let arms = claimants.iter().enumerate().map(|(n, &i)| {
            let (v, m, t, _) = &variants[i];
            quote! {
                #rt::placing::Placed::One(#n) => {
                    ::serde_json::from_value::<#m::#t>(::serde_json::Value::Object(map)).map(Self::#v)
                }
            }
        });
        quote! {
            _ => {
                /// The schemas without an `event_type` const, as
                /// `placing::place` sees them (same order as `NAMES`).
                static CLAIMS: &[#rt::placing::Claim<'static>] = &[#(#claims),*];
                /// Their `folder/file` names.
                static NAMES: &[&str] = &[#(#names),*];
                match #rt::placing::place(CLAIMS, &event_type, &map) {
                    #(#arms)*
                    #rt::placing::Placed::Ambiguous(found) => {
                        let names: Vec<&str> = found.iter().filter_map(|i| NAMES.get(*i).copied()).collect();
                        Err(::serde_json::Error::custom(format_args!(
                            "event type \"{}\" is claimed by more than one schema ({}): it is not guessed; parse it as one of them with AnyEvent::from_value_as(name, ..)",
                            event_type,
                            names.join(", ")
                        )))
                    }
                    _ => Ok(Self::Unknown(map)),
                }
            }
        }
    };
    let dispatch_match = if dispatch.is_empty() && claimants.is_empty() {
        quote! {
            let _ = event_type;
            Ok(Self::Unknown(map))
        }
    } else {
        quote! {
            match event_type.as_str() {
                #(#dispatch)*
                #fallback
            }
        }
    };
    // `from_value_as`: each schema answers to `folder/stem`, `folder::Type`,
    // and (first come) its bare type name and file name.
    // A bare name that two schemas share is nobody's: `check::find_schema`
    // resolves names the same way.
    // Repeats answer to their own names, as the type they repeat.
    // (spec, folder, module, variant index)
    let mut named: Vec<(&EventSpec, &str, &str, usize)> = Vec::new();
    let mut variant_of: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for (ni, ns) in namespaces.iter().enumerate() {
        for (ei, ev) in ns.events.iter().enumerate() {
            variant_of.insert((ni, ei), named.len());
            named.push((ev, ns.folder.as_str(), ns.module.as_str(), named.len()));
        }
    }
    for ns in namespaces {
        for a in &ns.aliases {
            named.push((
                &a.spec,
                ns.folder.as_str(),
                ns.module.as_str(),
                variant_of[&a.target],
            ));
        }
    }
    let mut bare_counts: BTreeMap<String, usize> = BTreeMap::new();
    for (spec, ..) in &named {
        let mut bare = vec![spec.type_name.clone(), spec.stem.clone()];
        bare.dedup();
        for n in bare {
            *bare_counts.entry(n).or_default() += 1;
        }
    }
    let mut name_arms = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    for (spec, folder, module, i) in named {
        let (v, m, t, _) = &variants[i];
        let mut names = Vec::new();
        let qualified = [
            format!("{folder}/{}", spec.stem),
            format!("{module}::{}", spec.type_name),
            format!("{folder}::{}", spec.type_name),
        ];
        let bare = [spec.type_name.clone(), spec.stem.clone()]
            .into_iter()
            .filter(|n| bare_counts.get(n) == Some(&1));
        for n in qualified.into_iter().chain(bare) {
            if !taken.contains(&n) {
                taken.push(n.clone());
                names.push(n);
            }
        }
        if !names.is_empty() {
            name_arms.push(quote! {
                #(#names)|* => ::serde_json::from_value::<#m::#t>(value).map(Self::#v),
            });
        }
    }
    let no_names = if name_arms.is_empty() {
        quote!(let _ = value;)
    } else {
        TokenStream::new()
    };
    let et_arms = variants
        .iter()
        .zip(&specs)
        .map(|((v, m, t, _), (spec, _))| {
            if spec.free {
                quote!(Self::#v(e) => Some(e.event_type.as_str()),)
            } else {
                quote!(Self::#v(_) => Some(#m::#t::EVENT_TYPE),)
            }
        });
    let into_arms = variants
        .iter()
        .map(|(v, m, t, _)| quote!(Self::#v(e) => <#m::#t as #rt::TypedEvent>::into_event(e),));
    let ser_arms = variants
        .iter()
        .map(|(v, _, _, _)| quote!(Self::#v(e) => ::serde::Serialize::serialize(e, serializer),));
    let froms = variants.iter().map(|(v, m, t, _)| {
        quote! {
            impl From<#m::#t> for AnyEvent {
                fn from(e: #m::#t) -> Self {
                    Self::#v(e)
                }
            }
        }
    });

    Ok(quote! {
        /// Deserializes one field value, naming the field (and the path
        /// inside it) in the error, in JSON's words.
        #[allow(dead_code)]
        fn __field<T: ::serde::de::DeserializeOwned, E: ::serde::de::Error>(
            name: &str,
            value: ::serde_json::Value,
        ) -> Result<T, E> {
            #rt::__private::field_value(name, value)
        }

        /// Bounds of a field that its Rust type does not carry.
        #[allow(dead_code)]
        struct __Bounds {
            minimum: Option<f64>,
            maximum: Option<f64>,
            exclusive_minimum: Option<f64>,
            exclusive_maximum: Option<f64>,
            min_length: Option<u64>,
            max_length: Option<u64>,
        }

        /// Checks a field's value against its schema's bounds.
        #[allow(dead_code)]
        fn __check_bounds<E: ::serde::de::Error>(
            name: &str,
            value: &::serde_json::Value,
            b: &__Bounds,
        ) -> Result<(), E> {
            #rt::__private::check_bounds(
                name,
                value,
                [b.minimum, b.maximum, b.exclusive_minimum, b.exclusive_maximum],
                [b.min_length, b.max_length],
            )
        }

        /// Checks the value of a `const` property.
        #[allow(dead_code)]
        fn __check_const<E: ::serde::de::Error>(
            name: &str,
            expected: &str,
            value: &::serde_json::Value,
        ) -> Result<(), E> {
            if #rt::__private::const_eq(value, expected) {
                Ok(())
            } else {
                Err(E::custom(format_args!(
                    "field \"{}\": expected {}, found {}",
                    name, expected, value
                )))
            }
        }

        /// Checks the `event_type` value of a typed event.
        #[allow(dead_code)]
        fn __check_event_type<E: ::serde::de::Error>(
            expected: &str,
            value: ::serde_json::Value,
        ) -> Result<(), E> {
            match value.as_str() {
                Some(s) if s == expected => Ok(()),
                _ => Err(E::custom(format_args!(
                    "event_type mismatch: expected \"{}\", found {}",
                    expected, value
                ))),
            }
        }

        #(#modules)*

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

        /// Every generated event type, in namespace then file order.
        pub static SCHEMAS: &[#rt::SchemaInfo] = &[#(#infos),*];
    })
}

/// The key order of every object schema with `properties` under `v` (the
/// order typify loses: it sorts them).
pub(crate) fn property_orders(v: &serde_json::Value, out: &mut Vec<Vec<String>>) {
    use serde_json::Value;
    match v {
        Value::Object(o) => {
            if let Some(Value::Object(props)) = o.get("properties") {
                out.push(props.keys().cloned().collect());
            }
            o.values().for_each(|v| property_orders(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| property_orders(v, out)),
        _ => {}
    }
}

/// What a typify struct field's `#[serde(..)]` attributes say.
#[derive(Default)]
struct SerdeField {
    rename: Option<String>,
    default: bool,
    flatten: bool,
    deserialize_with: bool,
}

fn serde_field(attrs: &[syn::Attribute]) -> SerdeField {
    let mut out = SerdeField::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            let has_value = meta.input.peek(syn::Token![=]);
            if meta.path.is_ident("rename") && has_value {
                let s: syn::LitStr = meta.value()?.parse()?;
                out.rename = Some(s.value());
                return Ok(());
            }
            if meta.path.is_ident("default") {
                out.default = true;
            } else if meta.path.is_ident("flatten") {
                out.flatten = true;
            } else if meta.path.is_ident("deserialize_with") {
                out.deserialize_with = true;
            }
            if has_value {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    out
}

/// `T` when `ty` is `Option<T>` (any path to `Option`).
fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    match &last.arguments {
        syn::PathArguments::AngleBracketed(a) => match a.args.first()? {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

fn is_string(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| s.ident == "String" && s.arguments.is_empty()))
}

/// Gives typify's structs (nested objects, definitions) what the event
/// types have: their fields in the schema's order (so they serialize in
/// it; typify sorts them), a `new` taking the required fields and a setter
/// for each optional one.
pub(crate) fn finish_nested_types(items: Vec<syn::Item>, orders: &[Vec<String>]) -> Vec<syn::Item> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let syn::Item::Struct(mut st) = item else {
            out.push(item);
            continue;
        };
        let syn::Fields::Named(named) = &mut st.fields else {
            out.push(syn::Item::Struct(st));
            continue;
        };
        let key_of = |f: &syn::Field| {
            serde_field(&f.attrs).rename.unwrap_or_else(|| {
                f.ident
                    .as_ref()
                    .map(|i| i.to_string().trim_start_matches("r#").to_string())
                    .unwrap_or_default()
            })
        };
        // Schema order: the object schema with exactly these keys.
        let keys: Vec<String> = named
            .named
            .iter()
            .filter(|f| !serde_field(&f.attrs).flatten)
            .map(key_of)
            .collect();
        if let Some(order) = orders
            .iter()
            .find(|o| o.len() == keys.len() && keys.iter().all(|k| o.contains(k)))
        {
            let mut fields: Vec<syn::Field> =
                std::mem::take(&mut named.named).into_iter().collect();
            fields.sort_by_key(|f| {
                if serde_field(&f.attrs).flatten {
                    usize::MAX
                } else {
                    let k = key_of(f);
                    order.iter().position(|o| *o == k).unwrap_or(usize::MAX)
                }
            });
            named.named = fields.into_iter().collect();
        }
        let name = st.ident.clone();
        let mut params = Vec::new();
        let mut inits = Vec::new();
        let mut setters = Vec::new();
        for f in &named.named {
            let Some(ident) = f.ident.clone() else {
                continue;
            };
            let sf = serde_field(&f.attrs);
            let key = key_of(f);
            let ty = &f.ty;
            let inner = option_inner(ty);
            let optional = sf.default || (inner.is_some() && !sf.deserialize_with);
            if sf.flatten {
                inits.push(quote!(#ident: ::std::default::Default::default()));
            } else if !optional {
                if is_string(ty) {
                    params.push(quote!(#ident: impl Into<String>));
                    inits.push(quote!(#ident: #ident.into()));
                } else {
                    params.push(quote!(#ident: #ty));
                    inits.push(quote!(#ident));
                }
            } else {
                inits.push(quote!(#ident: ::std::default::Default::default()));
                let plain = ident.to_string().trim_start_matches("r#").to_string();
                let setter = if plain == "new" {
                    format_ident!("with_new")
                } else {
                    ident.clone()
                };
                let doc = format!(" Sets `{key}`.");
                let (param, value) = match inner {
                    Some(t) if is_string(t) => (quote!(impl Into<String>), quote!(Some(v.into()))),
                    Some(t) => (quote!(#t), quote!(Some(v))),
                    None => (quote!(#ty), quote!(v)),
                };
                setters.push(quote! {
                    #[doc = #doc]
                    #[must_use]
                    pub fn #setter(mut self, v: #param) -> Self {
                        self.#ident = #value;
                        self
                    }
                });
            }
        }
        let new_doc = if params.is_empty() {
            " Creates the value; every field starts empty."
        } else {
            " Creates the value from its required fields; optional fields start empty."
        };
        let imp: syn::ItemImpl = syn::parse_quote! {
            impl #name {
                #[doc = #new_doc]
                #[allow(clippy::too_many_arguments)]
                pub fn new(#(#params),*) -> Self {
                    Self {
                        #(#inits,)*
                    }
                }
                #(#setters)*
            }
        };
        out.push(syn::Item::Struct(st));
        out.push(syn::Item::Impl(imp));
    }
    out
}
