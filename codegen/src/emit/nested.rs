//! typify's structs (nested objects, definitions) given what the event
//! types have: the schema's field order, `new` and setters.

use quote::quote;

use crate::ident::nested_setter_for;

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

/// The key a typify struct field is (de)serialized under.
fn key_of(f: &syn::Field) -> String {
    serde_field(&f.attrs).rename.unwrap_or_else(|| {
        f.ident
            .as_ref()
            .map(|i| i.to_string().trim_start_matches("r#").to_string())
            .unwrap_or_default()
    })
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
        sort_in_schema_order(named, orders);
        let imp = builders(&st.ident, named);
        out.push(syn::Item::Struct(st));
        out.push(syn::Item::Impl(imp));
    }
    out
}

/// Puts the fields in the order of the object schema with exactly these
/// keys (flattened ones last).
fn sort_in_schema_order(named: &mut syn::FieldsNamed, orders: &[Vec<String>]) {
    let keys: Vec<String> = named
        .named
        .iter()
        .filter(|f| !serde_field(&f.attrs).flatten)
        .map(key_of)
        .collect();
    let Some(order) = orders
        .iter()
        .find(|o| o.len() == keys.len() && keys.iter().all(|k| o.contains(k)))
    else {
        return;
    };
    let mut fields: Vec<syn::Field> = std::mem::take(&mut named.named).into_iter().collect();
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

/// `impl Name { new(..), setters }` for a typify struct.
fn builders(name: &syn::Ident, named: &syn::FieldsNamed) -> syn::ItemImpl {
    let mut params = Vec::new();
    let mut inits = Vec::new();
    let mut setters = Vec::new();
    for f in &named.named {
        let Some(ident) = f.ident.clone() else {
            continue;
        };
        let sf = serde_field(&f.attrs);
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
            setters.push(setter(&ident, &key_of(f), ty, inner));
        }
    }
    let new_doc = if params.is_empty() {
        " Creates the value; every field starts empty."
    } else {
        " Creates the value from its required fields; optional fields start empty."
    };
    syn::parse_quote! {
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
    }
}

/// The setter of an optional field.
fn setter(
    ident: &syn::Ident,
    key: &str,
    ty: &syn::Type,
    inner: Option<&syn::Type>,
) -> proc_macro2::TokenStream {
    let setter = nested_setter_for(ident);
    let doc = format!(" Sets `{key}`.");
    let (param, value) = match inner {
        Some(t) if is_string(t) => (quote!(impl Into<String>), quote!(Some(v.into()))),
        Some(t) => (quote!(#t), quote!(Some(v))),
        None => (quote!(#ty), quote!(v)),
    };
    quote! {
        #[doc = #doc]
        #[must_use]
        pub fn #setter(mut self, v: #param) -> Self {
            self.#ident = #value;
            self
        }
    }
}
