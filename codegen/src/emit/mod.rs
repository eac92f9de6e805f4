//! Emission, one module per output: an event type's struct and builders
//! (`event`), its serde impls (`serde`), its `TypedEvent` impl and packing
//! (`typed`), `AnyEvent` and its dispatch (`any_event`, `dispatch`), the
//! `SCHEMAS` table (`schema_info`), the helpers they call (`support`), and
//! typify's nested types finished (`nested`).

mod any_event;
mod dispatch;
mod event;
mod fields;
mod nested;
mod schema_info;
mod serde;
mod support;
mod typed;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::Namespace;
use crate::Error;

pub(crate) use nested::finish_nested_types;

/// The whole generated file (with each type's `send()` methods when
/// `inline_send`).
pub(crate) fn emit_all(
    rt: &syn::Path,
    namespaces: &[Namespace],
    inline_send: bool,
) -> Result<TokenStream, Error> {
    let variants = any_event::variants(namespaces)?;
    let helpers = support::helpers(rt);
    let modules = namespaces
        .iter()
        .map(|ns| module(rt, namespaces, ns, inline_send));
    let any_event = any_event::any_event(rt, namespaces, &variants);
    let infos = namespaces
        .iter()
        .flat_map(|ns| schema_infos(rt, namespaces, ns));
    Ok(quote! {
        #helpers

        #(#modules)*

        #any_event

        /// Every generated event type, in namespace then file order.
        pub static SCHEMAS: &[#rt::SchemaInfo] = &[#(#infos),*];
    })
}

/// The module of one folder: typify's items, the event types, and the
/// re-exports of the types it repeats.
fn module(
    rt: &syn::Path,
    namespaces: &[Namespace],
    ns: &Namespace,
    inline_send: bool,
) -> TokenStream {
    let module = format_ident!("{}", ns.module);
    let items = &ns.items;
    let events = ns
        .events
        .iter()
        .zip(&ns.field_types)
        .zip(&ns.extra_types)
        .map(|((ev, types), extra)| event::emit_event(rt, ev, types, extra.as_ref(), inline_send));
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
    quote! {
        #[doc = #doc]
        #[allow(
            missing_docs,
        )]
        pub mod #module {
            #(#items)*
            #(#events)*
            #(#reexports)*
        }
    }
}

/// `SCHEMAS`' entries of a folder: its schemas in file order, repeats
/// included.
fn schema_infos(rt: &syn::Path, namespaces: &[Namespace], ns: &Namespace) -> Vec<TokenStream> {
    let mut infos: Vec<(&str, TokenStream)> = ns
        .events
        .iter()
        .zip(&ns.field_types)
        .map(|(ev, types)| {
            (
                ev.file.as_str(),
                schema_info::schema_info(rt, ns, ev, types),
            )
        })
        .collect();
    for a in &ns.aliases {
        let types = &namespaces[a.target.0].field_types[a.target.1];
        infos.push((
            a.spec.file.as_str(),
            schema_info::schema_info(rt, ns, &a.spec, types),
        ));
    }
    infos.sort_by(|x, y| x.0.cmp(y.0));
    infos.into_iter().map(|(_, t)| t).collect()
}

/// `#[doc]` attributes for `text`, a line each.
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
