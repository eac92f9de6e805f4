//! The Rust type typify chose for a field, and what the emitters need to
//! know about it.

use proc_macro2::TokenStream;
use typify::{TypeDetails, TypeId, TypeSpace};

use super::typify_call;
use crate::Error;

/// The field type typify chose for `id`: its tokens from `Type::ident`,
/// what it is from `Type::details`.
pub(super) fn of(space: &TypeSpace, at: (&str, &str), id: &TypeId) -> Result<FieldType, Error> {
    typify_call(at, "cannot convert schema", || {
        let t = space.get_type(id)?;
        let tokens = simplified(&t.ident());
        let details = t.details();
        let has_default = t.has_impl(typify::TypeSpaceImpl::Default) || known_default(&details);
        let (nullable_inner, shape) = match details {
            TypeDetails::Option(inner) => {
                let inner = space.get_type(&inner)?;
                let shape = shape_of(space, &inner.details())?;
                (Some(simplified(&inner.ident())), shape)
            }
            other => (None, shape_of(space, &other)?),
        };
        Ok::<_, typify::Error>(FieldType {
            tokens,
            is_f64: nullable_inner.is_none() && shape.1,
            nullable_inner,
            kind: shape.0,
            has_default,
        })
    })
}

/// A type's tokens with the std prelude's paths shortened.
fn simplified(t: &TokenStream) -> TokenStream {
    simplify(&t.to_string()).parse().expect("re-parsing a type")
}

/// How the hooks treat a type (`serde_json`'s `Map<String, Value>` is a
/// map whatever typify's map type), and whether it is `f64`.
fn shape_of(space: &TypeSpace, details: &TypeDetails) -> Result<(Kind, bool), typify::Error> {
    let is_json = |id: &TypeId| -> Result<bool, typify::Error> {
        Ok(matches!(
            space.get_type(id)?.details(),
            TypeDetails::Builtin("::serde_json::Value")
        ))
    };
    let kind = match details {
        TypeDetails::String => Kind::Str,
        TypeDetails::Builtin("f64" | "f32") => Kind::Float,
        TypeDetails::Builtin("::serde_json::Value") => Kind::Value,
        TypeDetails::Map(k, v)
            if matches!(space.get_type(k)?.details(), TypeDetails::String) && is_json(v)? =>
        {
            Kind::Map
        }
        TypeDetails::Vec(v) | TypeDetails::Set(v) if is_json(v)? => Kind::Array,
        _ => Kind::Other,
    };
    Ok((kind, matches!(details, TypeDetails::Builtin("f64"))))
}

/// Whether a type has a `Default` whatever typify says: std's types and
/// containers.
fn known_default(details: &TypeDetails) -> bool {
    match details {
        TypeDetails::String
        | TypeDetails::Option(_)
        | TypeDetails::Vec(_)
        | TypeDetails::Set(_)
        | TypeDetails::Map(..) => true,
        TypeDetails::Builtin(name) => matches!(
            *name,
            "bool"
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
        ),
        _ => false,
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
    pub(crate) tokens: TokenStream,
    /// When the schema allows `null`: the type inside the `Option`.
    pub(crate) nullable_inner: Option<TokenStream>,
    pub(crate) kind: Kind,
    pub(crate) has_default: bool,
    /// A plain `f64` (not nullable).
    pub(crate) is_f64: bool,
}

fn simplify(s: &str) -> String {
    s.replace(' ', "")
        .replace("::std::string::String", "String")
        .replace("::std::option::Option", "Option")
        .replace("::std::vec::Vec", "Vec")
        .replace("::std::boxed::Box", "Box")
}

/// Human form of a type for `FieldInfo::rust_type`.
pub(crate) fn display_type(t: &TokenStream) -> String {
    simplify(&t.to_string())
        .replace("::serde_json::", "serde_json::")
        .replace("::std::collections::", "")
        .replace("::std::num::", "std::num::")
        .replace(',', ", ")
}
