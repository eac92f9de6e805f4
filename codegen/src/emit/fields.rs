//! The fields of an event struct as the emitters write them.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::bridge::FieldType;
use crate::ident::{field_names, ident_for, setter_for};
use crate::model::{Bounds, EventSpec, FieldSpec};

/// One struct field of an event type.
pub(super) struct FieldOut<'a> {
    pub key: &'a str,
    pub ident: Ident,
    /// The name without `r#` (for locals and messages).
    pub plain: String,
    pub setter: Ident,
    pub required: bool,
    pub ty: &'a FieldType,
    /// The type of the struct field.
    pub field_ty: TokenStream,
    pub doc: String,
    pub json_type: &'a str,
    pub description: &'a str,
    pub bounds: &'a Bounds,
}

impl FieldOut<'_> {
    /// Whether the struct field is an `Option` (not required, or nullable).
    pub fn optional(&self) -> bool {
        !self.required || self.ty.nullable_inner.is_some()
    }
}

/// The fields of `ev`, with the types typify chose for them.
pub(super) fn field_outs<'a>(ev: &'a EventSpec, types: &'a [FieldType]) -> Vec<FieldOut<'a>> {
    let names = field_names(ev.fields.iter().map(|f| f.key.as_str()));
    ev.fields
        .iter()
        .zip(types)
        .zip(names)
        .map(|((f, ty), name)| {
            let ident = ident_for(&name);
            let t = &ty.tokens;
            let field_ty = if f.required || ty.nullable_inner.is_some() {
                quote!(#t)
            } else {
                quote!(Option<#t>)
            };
            FieldOut {
                key: &f.key,
                setter: setter_for(&name, &ident),
                ident,
                plain: name,
                required: f.required,
                ty,
                field_ty,
                doc: field_doc(f),
                json_type: &f.json_type,
                description: &f.description,
                bounds: &f.bounds,
            }
        })
        .collect()
}

/// A field's doc comment: its description (or key), example, and whether
/// it is required; each line starting with a space.
fn field_doc(f: &FieldSpec) -> String {
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
    doc.lines()
        .map(|l| format!(" {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The keys the struct holds outside `extra` (an `extra` entry with one of
/// them is not written twice).
pub(super) fn known_keys<'a>(ev: &'a EventSpec, fields: &[FieldOut<'a>]) -> Vec<&'a str> {
    std::iter::once("event_type")
        .chain(ev.consts.iter().map(|c| c.key.as_str()))
        .chain(fields.iter().map(|f| f.key))
        .collect()
}
