//! The event types a free `event_type` claims: its name patterns.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::Error;

/// The name patterns one `examples` entry of a free `event_type` stands
/// for: the example itself, and, when it has three dotted segments or
/// more, the same with its first segment as `*` (`my_app.repo.query` gives
/// `*.repo.query`).
///
/// The same derivation as the runtime's
/// `insights_events::placing::patterns_from_example` (the generated
/// `AnyEvent` and the schemas the runtime loads must place events alike);
/// a test compares the two.
///
/// ```
/// assert_eq!(
///     insights_events_codegen::patterns_from_example("my_app.repo.query"),
///     ["my_app.repo.query", "*.repo.query"]
/// );
/// ```
pub fn patterns_from_example(example: &str) -> Vec<String> {
    let mut out = vec![example.to_owned()];
    if example.split('.').count() >= 3 && !example.starts_with('.') {
        if let Some((_, rest)) = example.split_once('.') {
            out.push(format!("*.{rest}"));
        }
    }
    out
}

/// The name patterns of a free event type: its file name, then the globs
/// of `x-event-type-pattern` on the `event_type` property (a string or an
/// array of strings), or else those of each of its examples.
pub(super) fn name_patterns_of(
    file: &str,
    stem: &str,
    et_schema: Option<&Value>,
    et_examples: &[String],
) -> Result<Vec<String>, Error> {
    let pointer = "/properties/event_type/x-event-type-pattern";
    let bad = |found: &Value| {
        Error::schema(
            file,
            pointer,
            format!("expected a non-empty string or an array of them (globs, `*` for one or more characters), found {found}"),
        )
    };
    let mut out = vec![stem.to_string()];
    match et_schema.and_then(|e| e.get("x-event-type-pattern")) {
        None => {
            for ex in et_examples {
                out.extend(patterns_from_example(ex));
            }
        }
        Some(Value::String(p)) if !p.is_empty() => out.push(p.clone()),
        Some(Value::Array(list)) if !list.is_empty() => {
            for p in list {
                match p {
                    Value::String(p) if !p.is_empty() => out.push(p.clone()),
                    other => return Err(bad(other)),
                }
            }
        }
        Some(other) => return Err(bad(other)),
    }
    let mut seen = BTreeSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}
