//! An event type's `TypedEvent` impl: the runtime's hooks, and `pack`,
//! which writes the event as JSON from literal segments.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::fields::{known_keys, FieldOut};
use crate::bridge::Kind;
use crate::model::EventSpec;

/// `impl TypedEvent`.
pub(super) fn typed_event_impl(
    rt: &syn::Path,
    ev: &EventSpec,
    name: &Ident,
    fields: &[FieldOut],
) -> TokenStream {
    let event_type = &ev.event_type;
    let schema_id = &ev.schema_id;
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
    let request_id_body = request_id_body(fields);
    let non_finite = fields
        .iter()
        .filter(|f| f.ty.kind == Kind::Float)
        .map(non_finite_check);
    let visits = visits(rt, fields);
    let pack = pack_fn(rt, ev, fields);
    quote! {
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

            #pack
        }
    }
}

/// `request_id_str`'s body: the `request_id` field when it is a string,
/// else the `extra` entry.
fn request_id_body(fields: &[FieldOut]) -> TokenStream {
    let Some(f) = fields.iter().find(|f| f.key == "request_id") else {
        return quote!(self
            .extra
            .get("request_id")
            .and_then(::serde_json::Value::as_str));
    };
    let ident = &f.ident;
    match (f.optional(), f.ty.kind) {
        (false, Kind::Str) => quote!(Some(self.#ident.as_str())),
        (true, Kind::Str) => quote!(self.#ident.as_deref()),
        (false, Kind::Value) => quote!(self.#ident.as_str()),
        (true, Kind::Value) => {
            quote!(self.#ident.as_ref().and_then(::serde_json::Value::as_str))
        }
        _ => quote!(None),
    }
}

/// The check that a float field is finite.
fn non_finite_check(f: &FieldOut) -> TokenStream {
    let ident = &f.ident;
    let key = f.key;
    if f.optional() {
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
}

/// `visit_json_fields_mut`'s visits of the JSON-valued fields.
fn visits<'a>(rt: &'a syn::Path, fields: &'a [FieldOut]) -> impl Iterator<Item = TokenStream> + 'a {
    fields
        .iter()
        .filter(|f| matches!(f.ty.kind, Kind::Map | Kind::Array | Kind::Value))
        .map(move |f| {
            let ident = &f.ident;
            let key = f.key;
            let variant = match f.ty.kind {
                Kind::Map => quote!(Object),
                Kind::Array => quote!(Array),
                _ => quote!(Value),
            };
            if f.optional() {
                quote! {
                    if let Some(v) = &mut self.#ident {
                        f(#key, #rt::JsonFieldMut::#variant(v));
                    }
                }
            } else {
                quote!(f(#key, #rt::JsonFieldMut::#variant(&mut self.#ident));)
            }
        })
}

/// The literal segments of `pack`: keys and punctuation built at compile
/// time (keys escaped here), each a `const`.
struct Segments<'a> {
    rt: &'a syn::Path,
    consts: Vec<TokenStream>,
}

impl Segments<'_> {
    /// A new segment; the statement that writes it.
    fn seg(&mut self, text: String) -> TokenStream {
        let rt = self.rt;
        let name = format_ident!("SEG{}", self.consts.len());
        self.consts.push(quote! {
            const #name: &[u8] = &#rt::__private::segment::<
                { #text.len() + #rt::__private::SEGMENT_HEADER }
            >(#text);
        });
        quote!(p.seg(#name);)
    }
}

fn quoted(k: &str) -> String {
    serde_json::to_string(k).unwrap_or_default()
}

/// `pack`: strings and `f64`s written directly, the rest as values.
fn pack_fn(rt: &syn::Path, ev: &EventSpec, fields: &[FieldOut]) -> TokenStream {
    let mut segs = Segments {
        rt,
        consts: Vec::new(),
    };
    let mut pack_fields = Vec::new();
    let mut open = if ev.free {
        pack_fields.push(segs.seg("{\"event_type\":".to_string()));
        pack_fields.push(quote!(p.str(&self.event_type)?;));
        String::new()
    } else {
        format!("{{\"event_type\":{}", quoted(&ev.event_type))
    };
    for c in &ev.consts {
        open.push_str(&format!(",{}:{}", quoted(&c.key), c.json));
    }
    for f in fields {
        pack_fields.push(pack_field(&mut segs, &mut open, f));
    }
    if !open.is_empty() {
        pack_fields.push(segs.seg(open));
    }
    let pack_comma = segs.seg(",".to_string());
    let pack_close = segs.seg("}".to_string());
    let known_keys = known_keys(ev, fields);
    let consts = &segs.consts;
    quote! {
        fn pack<__W: #rt::EventWriter>(&self, p: &mut __W) -> Result<(), ::serde_json::Error> {
            #(#consts)*
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

/// Packing one field; `open` is the literal text not yet written (a
/// required field's key joins it).
fn pack_field(segs: &mut Segments, open: &mut String, f: &FieldOut) -> TokenStream {
    let ident = &f.ident;
    let key = format!(",{}:", quoted(f.key));
    let (required, optional) = match (f.ty.kind, f.ty.is_f64) {
        _ if f.ty.nullable_inner.is_some() => {
            (quote!(p.value(&self.#ident)?;), quote!(p.value(v)?;))
        }
        (Kind::Str, _) => (quote!(p.str(&self.#ident)?;), quote!(p.str(v)?;)),
        (_, true) => (quote!(p.f64(self.#ident);), quote!(p.f64(*v);)),
        _ => (quote!(p.value(&self.#ident)?;), quote!(p.value(v)?;)),
    };
    if f.required {
        let s = segs.seg(std::mem::take(open) + &key);
        return quote! {
            #s
            #required
        };
    }
    let flush = if open.is_empty() {
        TokenStream::new()
    } else {
        segs.seg(std::mem::take(open))
    };
    let s = segs.seg(key);
    quote! {
        #flush
        if let Some(v) = &self.#ident {
            #s
            #optional
        }
    }
}
