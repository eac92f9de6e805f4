//! How `AnyEvent` picks a type: `from_value`'s dispatch on `event_type`
//! and `from_value_as`'s names.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use super::any_event::Variant;
use crate::model::{EventSpec, Namespace};

/// `from_value`'s dispatch on `event_type`: schemas with a fixed event type
/// first, in namespace order; schemas that share an event type are told
/// apart by their `const` properties (the first whose consts all match
/// wins, so with no consts the first namespace in sorted order). Schemas
/// whose event type is free are not in the `match`: they are placed by
/// `placing::place` when no fixed event type matches.
pub(super) fn dispatch_match(rt: &syn::Path, variants: &[Variant]) -> TokenStream {
    let mut order: Vec<&str> = Vec::new();
    for v in variants {
        if !v.spec.free && !order.contains(&v.spec.event_type.as_str()) {
            order.push(&v.spec.event_type);
        }
    }
    let dispatch: Vec<TokenStream> = order.iter().map(|et| fixed_arm(rt, et, variants)).collect();
    let claimants: Vec<&Variant> = variants.iter().filter(|v| v.spec.free).collect();
    let fallback = if claimants.is_empty() {
        quote!(_ => Ok(Self::Unknown(map)),)
    } else {
        placed_arm(rt, &claimants)
    };
    if dispatch.is_empty() && claimants.is_empty() {
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
    }
}

/// The arm of one fixed event type.
fn fixed_arm(rt: &syn::Path, et: &str, variants: &[Variant]) -> TokenStream {
    let candidates: Vec<&Variant> = variants
        .iter()
        .filter(|v| !v.spec.free && v.spec.event_type == et)
        .collect();
    let mut body = Vec::new();
    let mut exhaustive = false;
    for var in &candidates {
        let (v, m, t) = (&var.ident, &var.module, &var.ty);
        let parse = quote!(::serde_json::from_value::<#m::#t>(::serde_json::Value::Object(map)).map(Self::#v));
        let consts = &var.spec.consts;
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
            .map(|v| {
                let consts: Vec<String> = v
                    .spec
                    .consts
                    .iter()
                    .map(|c| format!("{} {}", c.key, c.json))
                    .collect();
                format!("{}/{} ({})", v.folder, v.spec.stem, consts.join(", "))
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
}

/// The fallback arm: the claims of the schemas without an `event_type`
/// const (their required consts, their name patterns) for
/// `placing::place`.
fn placed_arm(rt: &syn::Path, claimants: &[&Variant]) -> TokenStream {
    let claims = claimants.iter().map(|v| {
        let consts = v.spec.consts.iter().filter(|c| c.required).map(|c| {
            let (k, j) = (&c.key, &c.json);
            quote!((#k, #j))
        });
        let patterns = &v.spec.name_patterns;
        quote! {
            #rt::placing::Claim {
                required_consts: &[#(#consts),*],
                name_patterns: &[#(#patterns),*],
            }
        }
    });
    let names = claimants
        .iter()
        .map(|v| format!("{}/{}", v.folder, v.spec.stem));
    let arms = claimants.iter().enumerate().map(|(n, var)| {
        let (v, m, t) = (&var.ident, &var.module, &var.ty);
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
}

/// A schema `from_value_as` answers for: (spec, folder, module, variant).
type Named<'a> = (&'a EventSpec, &'a str, &'a str, usize);

/// Every schema with its variant; repeats answer to their own names, as
/// the type they repeat.
fn named_schemas(namespaces: &[Namespace]) -> Vec<Named<'_>> {
    let mut named: Vec<Named> = Vec::new();
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
    named
}

/// `from_value_as`'s arms: each schema answers to `folder/stem`,
/// `folder::Type`, and (first come) its bare type name and file name. A
/// bare name that two schemas share is nobody's: `check::find_schema`
/// resolves names the same way.
pub(super) fn name_arms(namespaces: &[Namespace], variants: &[Variant]) -> Vec<TokenStream> {
    let named = named_schemas(namespaces);
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
        let (v, m, t) = (&variants[i].ident, &variants[i].module, &variants[i].ty);
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
    name_arms
}
