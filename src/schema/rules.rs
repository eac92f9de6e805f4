//! The checks generated types make while an event is parsed, beyond what
//! their Rust types carry, and the words their errors use.
//!
//! Generated code calls these through `__private`: a field's value with the
//! path inside it ([`field_value`]), the bounds a schema puts on a top-level
//! field ([`check_bounds`]), `const` properties ([`const_eq`],
//! [`consts_match`]). Every message speaks JSON, not Rust: "expected a
//! number", never "expected f64" ([`json_words`]).

use serde::de::{DeserializeOwned, Error};
use serde_json::{Map, Value};

/// Deserializes the value of top-level field `name`. On failure the error
/// names the field and the path inside it (`field "request.headers[2]": ...`),
/// with the reason in JSON's words.
pub fn field_value<T: DeserializeOwned, E: Error>(name: &str, value: Value) -> Result<T, E> {
    if !matches!(value, Value::Object(_) | Value::Array(_)) {
        // A scalar has no path inside it: the plain (faster) parse.
        return serde_json::from_value(value).map_err(|e| {
            E::custom(format_args!(
                "field \"{name}\": {}",
                json_words(&e.to_string())
            ))
        });
    }
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let reason = json_words(&e.into_inner().to_string());
        let at = if path.is_empty() || path == "." {
            name.to_owned()
        } else if path.starts_with('[') {
            format!("{name}{path}")
        } else {
            format!("{name}.{path}")
        };
        E::custom(format_args!("field \"{at}\": {reason}"))
    })
}

/// A bound as people write it: `1`, not `1.0`.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// `1 character`, `4 characters`.
fn chars(n: u64) -> String {
    if n == 1 {
        "1 character".to_owned()
    } else {
        format!("{n} characters")
    }
}

/// Checks field `name`'s `value` against `[minimum, maximum,
/// exclusiveMinimum, exclusiveMaximum]` (numbers) and `[minLength,
/// maxLength]` (strings, counted in characters). Values of other JSON types
/// pass: their type is checked when the field is parsed.
pub fn check_bounds<E: Error>(
    name: &str,
    value: &Value,
    numbers: [Option<f64>; 4],
    lengths: [Option<u64>; 2],
) -> Result<(), E> {
    let fail = |expected: String, found: &dyn std::fmt::Display| {
        Err(E::custom(format_args!(
            "field \"{name}\": expected {expected}, found {found}"
        )))
    };
    match value {
        Value::Number(n) => {
            let Some(x) = n.as_f64() else { return Ok(()) };
            let [min, max, xmin, xmax] = numbers;
            if let Some(m) = min.filter(|m| x < *m) {
                return fail(format!("a number of at least {}", number(m)), n);
            }
            if let Some(m) = max.filter(|m| x > *m) {
                return fail(format!("a number of at most {}", number(m)), n);
            }
            if let Some(m) = xmin.filter(|m| x <= *m) {
                return fail(format!("a number greater than {}", number(m)), n);
            }
            if let Some(m) = xmax.filter(|m| x >= *m) {
                return fail(format!("a number less than {}", number(m)), n);
            }
            Ok(())
        }
        Value::String(s) => {
            let [min, max] = lengths;
            let len = s.chars().count() as u64;
            if let Some(m) = min.filter(|m| len < *m) {
                return fail(format!("a string of at least {m} characters"), &chars(len));
            }
            if let Some(m) = max.filter(|m| len > *m) {
                return fail(format!("a string of at most {m} characters"), &chars(len));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Whether `value` equals the `const` written as compact JSON in `json`
/// (as JSON Schema compares: `1` and `1.0` are the same number).
pub fn const_eq(value: &Value, json: &str) -> bool {
    match value {
        Value::String(s) if json.starts_with('"') => {
            serde_json::from_str::<String>(json).is_ok_and(|c| c == *s)
        }
        _ => serde_json::from_str::<Value>(json).is_ok_and(|c| json_eq(&c, value)),
    }
}

/// JSON equality, numbers by value.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || matches!((x.as_f64(), y.as_f64()), (Some(p), Some(q)) if p == q)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| json_eq(p, q)))
        }
        _ => a == b,
    }
}

/// Whether an event's `map` agrees with every `(key, const as JSON,
/// required)`: a present key must hold the const, a required one must be
/// present. Picks between schemas that share an `event_type`.
pub fn consts_match(map: &Map<String, Value>, consts: &[(&str, &str, bool)]) -> bool {
    consts
        .iter()
        .all(|(key, json, required)| match map.get(*key) {
            Some(v) => const_eq(v, json),
            None => !required,
        })
}

/// One of serde's names for what it expected, in JSON's words.
fn expected_words(expected: &str) -> String {
    let e = expected.trim();
    let words = match e {
        "f64" | "f32" => "a number",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer",
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer",
        "a string" | "a borrowed string" | "a char" | "string" => "a string",
        "a boolean" | "bool" => "a boolean",
        "a sequence" | "sequence" => "an array",
        "a map" | "map" => "an object",
        "unit" => "null",
        _ => {
            if e.starts_with("struct ") || e.starts_with("a map ") {
                return "an object".to_owned();
            }
            if let Some(n) = e
                .strip_prefix("a tuple of size ")
                .or_else(|| e.strip_prefix("tuple of "))
            {
                return format!("an array of {n} items");
            }
            if let Some(rest) = e.strip_prefix("one of ") {
                return format!("one of {}", rest.replace('`', "\""));
            }
            if e.starts_with("a nonzero") || e.starts_with("a non-zero") || e.starts_with("nonzero")
            {
                return "a positive integer".to_owned();
            }
            return e.replace('`', "\"");
        }
    };
    words.to_owned()
}

/// One of serde's names for what it found, in JSON's words where serde
/// uses Rust's (`map`, `sequence`, `unit`); `integer \`3\`` and
/// `string "x"` stay as they are.
fn found_words(found: &str) -> String {
    match found.trim() {
        "map" => "an object".to_owned(),
        "sequence" => "an array".to_owned(),
        "unit value" | "unit" => "null".to_owned(),
        f => f.to_owned(),
    }
}

/// Rewrites a serde data error in JSON's words: `invalid type: string
/// "slow", expected f64` becomes `invalid type: string "slow", expected a
/// number`; `unknown variant \`gold\`, expected one of \`free\`, \`pro\``
/// becomes `expected one of "free", "pro", found "gold"`. Other messages
/// pass unchanged.
pub fn json_words(msg: &str) -> String {
    for head in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(head) {
            if let Some((found, expected)) = rest.split_once(", expected ") {
                return format!(
                    "{head}{}, expected {}",
                    found_words(found),
                    expected_words(expected)
                );
            }
        }
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            let found = found.trim_matches('`');
            let expected = expected_words(expected);
            return format!("expected {expected}, found \"{found}\"");
        }
        if let Some((found, _)) = rest.split_once(", there are no variants") {
            return format!("unexpected value \"{}\"", found.trim_matches('`'));
        }
    }
    if let Some(rest) = msg.strip_prefix("invalid length ") {
        if let Some((n, expected)) = rest.split_once(", expected ") {
            return format!(
                "expected {}, found an array of {n} items",
                expected_words(expected)
            );
        }
    }
    msg.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serde_messages_in_json_words() {
        let table = [
            (
                "invalid type: string \"slow\", expected f64",
                "invalid type: string \"slow\", expected a number",
            ),
            (
                "invalid type: floating point `1.5`, expected i64",
                "invalid type: floating point `1.5`, expected an integer",
            ),
            (
                "invalid value: integer `-1`, expected u64",
                "invalid value: integer `-1`, expected a non-negative integer",
            ),
            (
                "invalid type: map, expected a string",
                "invalid type: an object, expected a string",
            ),
            (
                "invalid type: sequence, expected a map",
                "invalid type: an array, expected an object",
            ),
            (
                "invalid type: boolean `true`, expected a sequence",
                "invalid type: boolean `true`, expected an array",
            ),
            (
                "invalid type: integer `3`, expected struct Headers",
                "invalid type: integer `3`, expected an object",
            ),
            (
                "invalid type: null, expected a boolean",
                "invalid type: null, expected a boolean",
            ),
            (
                "unknown variant `gold`, expected one of `free`, `pro`, `enterprise`",
                "expected one of \"free\", \"pro\", \"enterprise\", found \"gold\"",
            ),
            (
                "invalid length 3, expected a tuple of size 2",
                "expected an array of 2 items, found an array of 3 items",
            ),
            ("something else", "something else"),
        ];
        for (serde, ours) in table {
            assert_eq!(json_words(serde), ours, "{serde}");
        }
    }

    #[test]
    fn field_errors_name_the_path_inside_the_field() {
        #[derive(serde::Deserialize, Debug)]
        struct Inner {
            #[allow(dead_code)]
            n: f64,
        }
        let e =
            field_value::<Vec<Inner>, serde_json::Error>("items", json!([{"n": 1}, {"n": "x"}]))
                .unwrap_err()
                .to_string();
        assert_eq!(
            e,
            "field \"items[1].n\": invalid type: string \"x\", expected a number"
        );
        let e = field_value::<f64, serde_json::Error>("duration", json!("slow"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "field \"duration\": invalid type: string \"slow\", expected a number"
        );
        assert_eq!(
            field_value::<u64, serde_json::Error>("n", json!(3)).unwrap(),
            3
        );
    }

    #[test]
    fn bounds_table() {
        type R = Result<(), serde_json::Error>;
        let n = [Some(1.0), Some(10.0), None, None];
        let x = [None, None, Some(0.0), Some(5.5)];
        let l = [Some(2), Some(3)];
        let none = [None; 4];
        type Case = (
            Value,
            [Option<f64>; 4],
            [Option<u64>; 2],
            Option<&'static str>,
        );
        let cases: [Case; 10] = [
            (json!(1), n, [None; 2], None),
            (json!(10), n, [None; 2], None),
            (
                json!(0),
                n,
                [None; 2],
                Some("field \"f\": expected a number of at least 1, found 0"),
            ),
            (
                json!(10.5),
                n,
                [None; 2],
                Some("field \"f\": expected a number of at most 10, found 10.5"),
            ),
            (
                json!(0),
                x,
                [None; 2],
                Some("field \"f\": expected a number greater than 0, found 0"),
            ),
            (
                json!(5.5),
                x,
                [None; 2],
                Some("field \"f\": expected a number less than 5.5, found 5.5"),
            ),
            (json!("ab"), none, l, None),
            (
                json!("a"),
                none,
                l,
                Some("field \"f\": expected a string of at least 2 characters, found 1 character"),
            ),
            (
                json!("ééé€"),
                none,
                l,
                Some("field \"f\": expected a string of at most 3 characters, found 4 characters"),
            ),
            (json!(null), n, l, None),
        ];
        for (v, nums, lens, want) in cases {
            let got: R = check_bounds("f", &v, nums, lens);
            assert_eq!(got.err().map(|e| e.to_string()).as_deref(), want, "{v}");
        }
    }

    #[test]
    fn consts_table() {
        let map = json!({"proc_id": "router", "n": 1})
            .as_object()
            .unwrap()
            .clone();
        type Consts = &'static [(&'static str, &'static str, bool)];
        let cases: [(Consts, bool); 7] = [
            (&[("proc_id", "\"router\"", true)], true),
            (&[("proc_id", "\"heroku-postgres\"", true)], false),
            (&[("n", "1", true)], true),
            (&[("n", "2", false)], false),
            (&[("missing", "1", false)], true),
            (&[("missing", "1", true)], false),
            (&[("proc_id", "\"router\"", true), ("n", "1", true)], true),
        ];
        for (consts, want) in cases {
            assert_eq!(consts_match(&map, consts), want, "{consts:?}");
        }
        assert!(const_eq(&json!({"x": [1, 2]}), r#"{"x":[1,2]}"#));
        assert!(const_eq(&json!(1.0), "1"), "1 and 1.0 are the same number");
        assert!(const_eq(&json!({"x": [2.0]}), r#"{"x":[2]}"#));
        assert!(!const_eq(&json!(1.5), "1"));
        assert!(!const_eq(&json!("a"), "not json"));
    }
}
