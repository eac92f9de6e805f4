//! The Rust type typify chose for a field, and what the emitters need to
//! know about it.

use proc_macro2::TokenStream;
use typify::{TypeId, TypeSpace};

use super::typify_call;
use crate::Error;

/// The field type typify chose for `id`.
pub(super) fn of(space: &TypeSpace, at: (&str, &str), id: &TypeId) -> Result<FieldType, Error> {
    let (ident, has_default) = typify_call(at, "cannot convert schema", || {
        space.get_type(id).map(|t| {
            let has_default = t.has_impl(typify::TypeSpaceImpl::Default);
            (t.ident(), has_default)
        })
    })?;
    Ok(FieldType::new(ident, has_default))
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
    pub(crate) tokens: TokenStream,
    /// When the schema allows `null`: the type inside the `Option`.
    pub(crate) nullable_inner: Option<TokenStream>,
    pub(crate) kind: Kind,
    pub(crate) has_default: bool,
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
    pub(crate) fn is_f64(&self) -> bool {
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
pub(crate) fn display_type(t: &TokenStream) -> String {
    simplify(&t.to_string())
        .replace("::serde_json::", "serde_json::")
        .replace("::std::collections::", "")
        .replace("::std::num::", "std::num::")
        .replace(',', ", ")
}
