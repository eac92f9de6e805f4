//! Every name the generator writes: one keyword rule, one case rule.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};
use quote::format_ident;

/// Whether `s` is a Rust keyword, strict or reserved (`type`, `self`,
/// `async`, ...): whatever `syn` refuses as a plain identifier.
pub(crate) fn is_keyword(s: &str) -> bool {
    syn::parse_str::<syn::Ident>(s).is_err()
}

/// The keywords that are path segments (`self::x`, `crate::x`) and so
/// cannot be raw identifiers either; `_` with them.
pub(crate) fn is_path_keyword(s: &str) -> bool {
    matches!(s, "self" | "Self" | "super" | "crate" | "_")
}

/// The one case rule: non-alphanumerics become `_`, then `heck` does the
/// case.
fn cleaned(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `foo-bar.baz` → `FooBarBaz`; never empty, never starting with a digit.
pub(crate) fn pascal(s: &str) -> String {
    let p = cleaned(s).to_upper_camel_case();
    if p.is_empty() {
        "Field".to_string()
    } else if p.starts_with(|c: char| c.is_ascii_digit()) {
        format!("E{p}")
    } else {
        p
    }
}

/// `Foo-Bar.baz` → `foo_bar_baz`; never empty, never starting with a digit.
pub(crate) fn snake(s: &str) -> String {
    let s = cleaned(s).to_snake_case();
    if s.is_empty() {
        "field".to_string()
    } else if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{s}")
    } else {
        s
    }
}

/// The Rust type name of an event type (`db.query` → `DbQuery`).
pub(crate) fn type_name(event_type: &str) -> String {
    pascal(event_type)
}

/// A valid identifier (possibly raw) for a snake-case name.
pub(crate) fn ident_for(name: &str) -> Ident {
    if is_path_keyword(name) {
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
    if is_keyword(&s) || is_path_keyword(&s) {
        format!("{s}_")
    } else {
        s
    }
}

/// The field names of an event struct, one per key in order: snake case,
/// never `extra` (the struct's own map) nor a path keyword, numbered when
/// two keys give the same name.
pub(crate) fn field_names<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut used: Vec<String> = Vec::new();
    for key in keys {
        let mut name = snake(key);
        if name == "extra" {
            name = "extra_".to_string();
        }
        if is_path_keyword(&name) {
            name.push('_');
        }
        let base = name.clone();
        let mut n = 2;
        while used.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        used.push(name);
    }
    used
}

/// The setter of an optional field: the field's name, or `with_<name>`
/// when that is taken by a method of the event type.
pub(crate) fn setter_for(plain: &str, ident: &Ident) -> Ident {
    if matches!(plain, "new" | "send" | "send_with" | "into_event" | "extra") {
        format_ident!("with_{}", plain)
    } else {
        ident.clone()
    }
}

/// The setter of a nested struct's optional field (only `new` is taken).
pub(crate) fn nested_setter_for(ident: &Ident) -> Ident {
    if ident.to_string().trim_start_matches("r#") == "new" {
        format_ident!("with_new")
    } else {
        ident.clone()
    }
}

/// The local variable holding a field while deserializing.
pub(crate) fn local_ident(plain: &str) -> Ident {
    if plain.starts_with('_') {
        format_ident!("__f{}", plain)
    } else {
        format_ident!("__f_{}", plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One keyword rule for every name the generator writes.
    #[test]
    fn keyword_table() {
        for (name, field, module) in [
            ("type", "r#type", "type_"),
            ("self", "self_", "self_"),
            ("crate", "crate_", "crate_"),
            ("async", "r#async", "async_"),
            ("order", "order", "order"),
        ] {
            assert_eq!(ident_for(name).to_string(), field, "{name}");
            assert_eq!(module_ident(name), module, "{name}");
        }
    }

    /// Field names: snake case, never `extra` or a path keyword, numbered
    /// when two keys give the same name.
    #[test]
    fn field_name_table() {
        let keys = ["a-b", "a_b", "extra", "self", "9lives", ""];
        assert_eq!(
            field_names(keys.into_iter()),
            ["a_b", "a_b_2", "extra_", "self_", "_9lives", "field"]
        );
    }
}
