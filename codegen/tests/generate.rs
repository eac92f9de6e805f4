//! The generator on temporary schema folders.

use insights_events_codegen::{Config, Error};

/// Writes `files` (`"folder/name.schema.json"`, contents) into a temp dir and
/// runs the generator over it.
fn generate(files: &[(&str, &str)]) -> (tempfile::TempDir, Result<String, Error>) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let out = Config::new().generate(dir.path());
    (dir, out)
}

fn ok(files: &[(&str, &str)]) -> String {
    let (_dir, out) = generate(files);
    let src = out.unwrap_or_else(|e| panic!("generation failed: {e}"));
    syn::parse_file(&src).expect("generated source parses");
    src
}

fn err(files: &[(&str, &str)]) -> String {
    let (_dir, out) = generate(files);
    match out {
        Ok(src) => panic!("expected an error, got:\n{src}"),
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "error is not one line: {msg}");
            msg
        }
    }
}

/// Collapses whitespace so snippets can be matched regardless of formatting.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn assert_contains(src: &str, snippet: &str) {
    assert!(
        squash(src).contains(&squash(snippet)),
        "missing `{snippet}` in:\n{src}"
    );
}

const RICH: &str = r##"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "$id": "test/orders/order.placed.json",
  "title": "Order placed",
  "description": "An order was placed.",
  "type": "object",
  "properties": {
    "event_type": {"type": "string", "const": "order.placed"},
    "order_id": {"type": "string", "description": "Order ID.", "examples": ["o_1"]},
    "coupon": {"type": ["string", "null"], "description": "Coupon code."},
    "status": {"type": "string", "enum": ["pending", "paid", "shipped"]},
    "quantity": {"type": "integer", "minimum": 1, "maximum": 1000},
    "http_status": {"type": "integer", "minimum": 100, "maximum": 599},
    "shipping": {
      "type": "object",
      "properties": {
        "city": {"type": "string"},
        "zip": {"type": "string"}
      },
      "required": ["city"]
    },
    "customer": {"$ref": "#/$defs/Customer"},
    "total": {"type": "number", "format": "double"},
    "created_at": {"type": "string", "format": "date-time"},
    "sku": {"type": "string", "pattern": "^[A-Z]+$"},
    "type": {"type": "string"},
    "Content-Type": {"type": "string"},
    "extra": {"type": "string"},
    "new": {"type": "boolean"}
  },
  "required": ["event_type", "order_id", "status"],
  "$defs": {
    "Customer": {
      "type": "object",
      "properties": {"id": {"type": "string"}, "vip": {"type": "boolean"}},
      "required": ["id"]
    }
  }
}"##;

const REFUND: &str = r##"{
  "type": "object",
  "properties": {
    "event_type": {"type": "string", "const": "order.refunded"},
    "customer": {"$ref": "#/definitions/Customer"},
    "amount": {"type": "number"}
  },
  "required": ["event_type", "customer"],
  "definitions": {
    "Customer": {
      "type": "object",
      "properties": {"id": {"type": "string"}, "vip": {"type": "boolean"}},
      "required": ["id"]
    }
  }
}"##;

#[test]
fn rich_schema_generates_expected_fields() {
    let src = ok(&[("orders/order.placed.schema.json", RICH)]);
    assert_contains(&src, "pub mod orders {");
    assert_contains(&src, "pub struct OrderPlaced {");
    assert_contains(&src, "pub order_id: String,");
    // nullable: Option, not Option<Option<..>>
    assert_contains(&src, "pub coupon: Option<String>,");
    // enum
    assert_contains(&src, "pub enum OrderPlacedStatus {");
    assert_contains(&src, "pub status: OrderPlacedStatus,");
    // integers with bounds: a plain integer type (issue 19: `minimum: 1`
    // no longer forces `NonZeroU64`); the bounds are checked on parsing
    assert_contains(&src, "pub quantity: Option<i64>,");
    assert_contains(
        &src,
        "super::__check_bounds::< __A::Error, >( \"quantity\",",
    );
    assert_contains(&src, "minimum: Some(1f64), maximum: Some(1000f64),");
    assert_contains(&src, "pub http_status: Option<i64>,");
    // nested object
    assert_contains(&src, "pub struct OrderPlacedShipping {");
    assert_contains(&src, "pub shipping: Option<OrderPlacedShipping>,");
    // $defs
    assert_contains(&src, "pub struct Customer {");
    assert_contains(&src, "pub customer: Option<Customer>,");
    // format/pattern fall back to plain types
    assert_contains(&src, "pub total: Option<f64>,");
    assert_contains(&src, "pub created_at: Option<String>,");
    assert_contains(&src, "pub sku: Option<String>,");
    // name sanitizing
    assert_contains(&src, "pub r#type: Option<String>,");
    assert_contains(&src, "pub content_type: Option<String>,");
    assert_contains(&src, "map.serialize_entry(\"Content-Type\", v)?;");
    assert_contains(&src, "pub extra_: Option<String>,");
    assert_contains(&src, "pub fn with_new(mut self, v: bool) -> Self");
    assert_contains(
        &src,
        "pub fn extra_(mut self, v: impl Into<String>) -> Self",
    );
    // required enum has no Default → no derive(Default)
    assert_contains(
        &src,
        "#[derive(Clone, Debug, PartialEq)] pub struct OrderPlaced",
    );
    assert_contains(
        &src,
        "pub const EVENT_TYPE: &'static str = \"order.placed\";",
    );
    assert_contains(
        &src,
        "pub const SCHEMA_ID: &'static str = \"test/orders/order.placed.json\";",
    );
    assert_contains(
        &src,
        "pub fn new(order_id: impl Into<String>, status: OrderPlacedStatus) -> Self",
    );
    assert_contains(&src, "impl ::insights_events::TypedEvent for OrderPlaced");
    assert_contains(&src, "OrderPlaced(orders::OrderPlaced),");
    assert_contains(
        &src,
        "\"order.placed\" => { ::insights_events::__private::serde_json::from_value::< orders::OrderPlaced, >",
    );
}

#[test]
fn shared_defs_are_emitted_once() {
    let src = ok(&[
        ("orders/order.placed.schema.json", RICH),
        ("orders/order.refunded.schema.json", REFUND),
    ]);
    assert_eq!(
        squash(&src).matches("pub struct Customer {").count(),
        1,
        "{src}"
    );
    assert_contains(&src, "pub customer: Customer,");
    assert_contains(&src, "pub struct OrderRefunded {");
}

#[test]
fn conflicting_defs_are_an_error() {
    let other = REFUND.replace(
        "\"vip\": {\"type\": \"boolean\"}",
        "\"vip\": {\"type\": \"string\"}",
    );
    let msg = err(&[
        ("orders/order.placed.schema.json", RICH),
        ("orders/order.refunded.schema.json", &other),
    ]);
    assert!(
        msg.contains("order.refunded.schema.json: /definitions/Customer:"),
        "{msg}"
    );
    assert!(msg.contains("order.placed.schema.json"), "{msg}");
}

#[test]
fn schema_without_title_and_const_uses_file_name() {
    let schema = r#"{"type": "object", "properties": {"user_id": {"type": "string"}}, "required": ["user_id"]}"#;
    let src = ok(&[("my-app/user.signed_up.json", schema)]);
    assert_contains(&src, "pub mod my_app {");
    assert_contains(&src, "pub struct UserSignedUp {");
    assert_contains(
        &src,
        "pub const EVENT_TYPE: &'static str = \"user.signed_up\";",
    );
    assert_contains(&src, "pub const SCHEMA_ID: &'static str = \"\";");
    assert_contains(
        &src,
        "#[derive(Clone, Debug, PartialEq, Default)] pub struct UserSignedUp",
    );
}

#[test]
fn same_event_type_in_two_namespaces() {
    let schema = r#"{"type": "object", "properties": {"event_type": {"type": "string", "const": "db.query"}, "sql": {"type": "string"}}}"#;
    let src = ok(&[
        ("alpha/db.query.schema.json", schema),
        ("beta/db.query.schema.json", schema),
    ]);
    assert_contains(&src, "pub mod alpha {");
    assert_contains(&src, "pub mod beta {");
    assert_contains(&src, "AlphaDbQuery(alpha::DbQuery),");
    assert_contains(&src, "BetaDbQuery(beta::DbQuery),");
    // The first namespace wins the dispatch.
    assert_contains(
        &src,
        "\"db.query\" => { ::insights_events::__private::serde_json::from_value::< alpha::DbQuery, >",
    );
    assert_contains(&src, ".map(Self::AlphaDbQuery)");
    // (`from_value_as` names both; the dispatch on `event_type` only alpha.)
    let squashed = squash(&src);
    let dispatch = &squashed[squashed.find("pub fn from_value(").unwrap()
        ..squashed.find("pub fn from_value_as(").unwrap()];
    assert!(!dispatch.contains(".map(Self::BetaDbQuery)"), "{src}");
}

#[test]
fn runtime_path_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("x")).unwrap();
    std::fs::write(
        dir.path().join("x/a.b.json"),
        r#"{"type": "object", "properties": {}}"#,
    )
    .unwrap();
    let src = Config::new()
        .runtime_path("crate")
        .generate(dir.path())
        .unwrap();
    assert_contains(&src, "impl crate::TypedEvent for AB");
    assert!(!src.contains("insights_events::"), "{src}");
}

#[test]
fn compile_writes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("x")).unwrap();
    std::fs::write(
        dir.path().join("x/a.b.json"),
        r#"{"type": "object", "properties": {}}"#,
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let path = Config::new().compile(dir.path(), out.path()).unwrap();
    assert_eq!(path, out.path().join("insights_events_generated.rs"));
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("pub struct AB"));
}

#[test]
fn bad_json_names_line_and_column() {
    let msg = err(&[(
        "python/db.query.schema.json",
        "{\n  \"type\": \"object\",\n  \"properties\": {,}\n}",
    )]);
    assert!(
        msg.contains("db.query.schema.json: invalid JSON at line 3 column"),
        "{msg}"
    );
}

#[test]
fn bad_type_names_path() {
    let schema = r#"{"type": "object", "properties": {"duration": {"type": "decimal"}}}"#;
    let msg = err(&[("python/db.query.schema.json", schema)]);
    assert!(
        msg.ends_with(
            "python/db.query.schema.json: /properties/duration/type: unsupported type \"decimal\""
        ),
        "{msg}"
    );
}

#[test]
fn ref_to_missing_definition() {
    let schema =
        r##"{"type": "object", "properties": {"c": {"$ref": "#/$defs/Nope"}}, "$defs": {}}"##;
    let msg = err(&[("python/x.schema.json", schema)]);
    assert!(
        msg.contains("x.schema.json: /properties/c/$ref: $ref \"#/$defs/Nope\" points to a missing definition \"Nope\""),
        "{msg}"
    );
    let schema = r#"{"type": "object", "properties": {"c": {"$ref": "other.json#/x"}}}"#;
    let msg = err(&[("python/x.schema.json", schema)]);
    assert!(
        msg.contains("/properties/c/$ref: unsupported $ref \"other.json#/x\""),
        "{msg}"
    );
}

#[test]
fn required_not_array() {
    let schema = r#"{"type": "object", "properties": {}, "required": "a"}"#;
    let msg = err(&[("python/x.schema.json", schema)]);
    assert!(
        msg.contains("x.schema.json: /required: `required` must be an array of strings"),
        "{msg}"
    );
    let schema = r#"{"type": "object", "properties": {}, "required": ["a", 3]}"#;
    let msg = err(&[("python/x.schema.json", schema)]);
    assert!(
        msg.contains("x.schema.json: /required/1: `required` must be an array of strings"),
        "{msg}"
    );
}

#[test]
fn other_malformed_inputs() {
    let cases: &[(&str, &str)] = &[
        (
            "[1, 2]",
            "x.schema.json: root schema must be a JSON object, found an array",
        ),
        (
            r#"{"type": "string"}"#,
            "x.schema.json: /type: root schema must have type \"object\"",
        ),
        (
            r#"{"properties": []}"#,
            "x.schema.json: /properties: `properties` must be an object",
        ),
        (
            r#"{"properties": {"a": 5}}"#,
            "x.schema.json: /properties/a: expected a schema",
        ),
        (
            r#"{"properties": {"a": {"type": ["string", "nul"]}}}"#,
            "/properties/a/type/1: unsupported type \"nul\"",
        ),
        (
            r#"{"properties": {"a": {"type": 7}}}"#,
            "/properties/a/type: unsupported type 7",
        ),
        (
            r#"{"properties": {"a": {"enum": []}}}"#,
            "/properties/a/enum: `enum` must be a non-empty array",
        ),
        (
            r#"{"properties": {"a": {"items": 3}}}"#,
            "/properties/a/items: expected a schema",
        ),
        (
            r#"{"properties": {"a": {"minimum": "1"}}}"#,
            "/properties/a/minimum: `minimum` must be a number",
        ),
        (
            r#"{"properties": {"a": false}}"#,
            "/properties/a: unsupported property schema false",
        ),
        (
            r#"{"properties": {"a/b": {"type": "x"}}}"#,
            "/properties/a~1b/type: unsupported type \"x\"",
        ),
        (
            r#"{"oneOf": [{"type": "object"}]}"#,
            "/oneOf: unsupported root-level `oneOf`",
        ),
        (
            r#"{"properties": {"event_type": {"const": 5}}}"#,
            "/properties/event_type/const: `const` of `event_type` must be a string",
        ),
    ];
    for (schema, expected) in cases {
        let msg = err(&[("python/x.schema.json", schema)]);
        assert!(
            msg.contains(expected),
            "schema {schema}: got {msg}, expected {expected}"
        );
    }
}

#[test]
fn duplicate_type_names_in_a_folder() {
    let a = r#"{"properties": {"event_type": {"const": "db.query"}}}"#;
    let b = r#"{"properties": {"event_type": {"const": "db_query"}}}"#;
    let msg = err(&[("p/a.json", a), ("p/b.json", b)]);
    assert!(msg.contains("maps to Rust type `DbQuery`"), "{msg}");
    let msg = err(&[("p/a.json", a), ("p/b.json", a)]);
    assert!(
        msg.contains("event type \"db.query\" is already defined by"),
        "{msg}"
    );
}

/// Odd but valid inputs never panic: they either generate parseable code or
/// return an error.
#[test]
fn odd_inputs_never_panic() {
    let cases = [
        r#"{"properties": {"a": {"allOf": [{"type": "string"}, {"type": "integer"}]}}}"#,
        r#"{"properties": {"a": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}}"#,
        r#"{"properties": {"a": {"oneOf": [{"type": "object", "properties": {"x": {"type": "string"}}}, {"type": "null"}]}}}"#,
        r#"{"properties": {"a": {"not": {"type": "string"}}}}"#,
        r#"{"properties": {"a": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]}}}"#,
        r#"{"properties": {"a": {"type": "object", "patternProperties": {"^x": {"type": "string"}}}}}"#,
        r#"{"properties": {"a": {"enum": [1, "two", null, {"x": 1}]}}}"#,
        r#"{"properties": {"a": {"const": {"x": [1, 2]}}}}"#,
        r#"{"properties": {"a": {"type": ["integer", "string", "null"]}}}"#,
        r#"{"properties": {"a": {"type": "string", "enum": ["A", "a", "a-", "a_", ""]}}}"#,
        r#"{"properties": {"a": {"type": "integer", "minimum": -5, "maximum": 1e30}}}"#,
        r#"{"properties": {"a": {"type": "object", "additionalProperties": {"type": "integer"}}}}"#,
        r##"{"properties": {"a": {"$ref": "#/definitions/Node"}}, "definitions": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/definitions/Node"}}}}}"##,
        r##"{"properties": {"a": {"$ref": "#/definitions/String"}}, "definitions": {"String": {"type": "integer"}}}"##,
        r#"{"properties": {"": {"type": "string"}, "1x": {"type": "string"}, "self": {"type": "string"}, "a b": {"type": "string"}, "a_b": {"type": "string"}}}"#,
        r#"{"properties": {"a": {"type": "object", "properties": {"b": {"type": "object", "properties": {"c": {"type": "number"}}}}}}}"#,
        r#"{"properties": {"a": {"if": {"type": "string"}, "then": {"minLength": 1}}}}"#,
        r#"{"properties": {"a": true}}"#,
    ];
    for schema in cases {
        let (_dir, out) = generate(&[("odd/odd.event.json", schema)]);
        match out {
            Ok(src) => {
                syn::parse_file(&src).unwrap_or_else(|e| panic!("{schema}: {e}"));
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.contains("odd.event.json"), "{schema}: {msg}");
                assert!(!msg.contains('\n'), "{msg}");
            }
        }
    }
}

#[test]
fn missing_dir_is_an_io_error() {
    let e = Config::new()
        .generate("/nonexistent/schemas/dir")
        .unwrap_err();
    assert!(
        e.to_string().starts_with("/nonexistent/schemas/dir: "),
        "{e}"
    );
}
