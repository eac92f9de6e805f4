//! The `SCHEMAS` table: a `SchemaInfo` for every schema.

use proc_macro2::TokenStream;
use quote::quote;

use super::fields::field_outs;
use crate::bridge::{display_type, FieldType};
use crate::model::{EventSpec, Namespace};

pub(super) fn schema_info(
    rt: &syn::Path,
    ns: &Namespace,
    ev: &EventSpec,
    types: &[FieldType],
) -> TokenStream {
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
