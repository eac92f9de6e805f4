//! An event type: its struct, `Default`, constructor and setters (the
//! serde and `TypedEvent` impls are in their own modules).

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::fields::{field_outs, FieldOut};
use super::{doc_attr, send_methods, serde, typed};
use crate::bridge::{FieldType, Kind};
use crate::model::EventSpec;

/// Everything generated for one event type (with its `send()` methods
/// when `inline_send`).
pub(super) fn emit_event(
    rt: &syn::Path,
    ev: &EventSpec,
    types: &[FieldType],
    extra_type: Option<&TokenStream>,
    inline_send: bool,
) -> TokenStream {
    let name = format_ident!("{}", ev.type_name);
    let fields = field_outs(ev, types);
    let definition = struct_def(ev, &name, &fields);
    let inherent = inherent_impl(rt, ev, &name, &fields, inline_send);
    let ser = serde::serialize_impl(ev, &name, &fields);
    let de = serde::deserialize_impl(ev, &name, &fields, extra_type);
    let typed = typed::typed_event_impl(rt, ev, &name, &fields);
    quote! {
        #definition
        #inherent
        #ser
        #de
        #typed
    }
}

/// The struct's doc comment.
fn struct_doc(ev: &EventSpec) -> String {
    let event_type = &ev.event_type;
    let mut doc = String::new();
    for part in [&ev.title, &ev.description] {
        if !part.is_empty() {
            doc.push_str(part);
            doc.push_str("\n\n");
        }
    }
    if ev.free {
        doc.push_str(&format!(
            "Event type chosen by the sender (the `event_type` field; `{event_type}` unless set)"
        ));
    } else {
        doc.push_str(&format!("Event type `{event_type}`"));
    }
    if !ev.schema_id.is_empty() {
        doc.push_str(&format!(", schema `$id` `{}`", ev.schema_id));
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
    doc
}

/// The struct, and its `Default` (derived, or written out for a free
/// event type, which starts as the default name).
fn struct_def(ev: &EventSpec, name: &Ident, fields: &[FieldOut]) -> TokenStream {
    let doc = doc_attr(&struct_doc(ev));
    let all_default = fields.iter().all(|f| !f.required || f.ty.has_default);
    let derives = if all_default && !ev.free {
        quote!(#[derive(Clone, Debug, PartialEq, Default)])
    } else {
        quote!(#[derive(Clone, Debug, PartialEq)])
    };
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
    }
}

/// `impl Type`: the consts, `new`, the setters, `send()` and `into_event`.
fn inherent_impl(
    rt: &syn::Path,
    ev: &EventSpec,
    name: &Ident,
    fields: &[FieldOut],
    inline_send: bool,
) -> TokenStream {
    let send_methods = if inline_send {
        send_methods(rt)
    } else {
        TokenStream::new()
    };
    let event_type = &ev.event_type;
    let schema_id = &ev.schema_id;
    let constructor = constructor(ev, fields);
    let setters = setters(ev, fields);
    quote! {
        impl #name {
            /// The value of the `event_type` key.
            pub const EVENT_TYPE: &'static str = #event_type;
            /// The schema's `$id` (empty when the schema has none).
            pub const SCHEMA_ID: &'static str = #schema_id;

            #constructor

            #setters

            #send_methods

            /// Converts the typed event into a generic event.
            pub fn into_event(self) -> #rt::Event {
                <Self as #rt::TypedEvent>::into_event(self)
            }
        }
    }
}

/// `new`, taking the required fields.
fn constructor(ev: &EventSpec, fields: &[FieldOut]) -> TokenStream {
    let params = fields.iter().filter(|f| f.required).map(|f| {
        let ident = &f.ident;
        let t = &f.ty.tokens;
        match (f.ty.nullable_inner.is_some(), f.ty.kind) {
            (false, Kind::Str) => quote!(#ident: impl Into<String>),
            (false, Kind::Value) => quote!(#ident: impl Into<::serde_json::Value>),
            _ => quote!(#ident: #t),
        }
    });
    let inits = fields.iter().map(|f| {
        let ident = &f.ident;
        if !f.required {
            quote!(#ident: None)
        } else if f.ty.nullable_inner.is_none() && matches!(f.ty.kind, Kind::Str | Kind::Value) {
            quote!(#ident: #ident.into())
        } else {
            quote!(#ident)
        }
    });
    let doc = if fields.iter().any(|f| f.required) {
        " Creates the event from its required fields; optional fields start as `None`."
    } else {
        " Creates the event; every field starts as `None`."
    };
    let event_type_init = if ev.free {
        quote!(event_type: Self::EVENT_TYPE.to_string(),)
    } else {
        TokenStream::new()
    };
    quote! {
        #[doc = #doc]
        pub fn new(#(#params),*) -> Self {
            Self {
                #event_type_init
                #(#inits,)*
                extra: ::serde_json::Map::new(),
            }
        }
    }
}

/// `with_event_type` (for a free event type) and a setter for each
/// optional field.
fn setters(ev: &EventSpec, fields: &[FieldOut]) -> TokenStream {
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
    quote! {
        #event_type_setter
        #(#setters)*
    }
}
