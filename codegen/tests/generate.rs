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
    // integers with bounds: a plain `i64` (`minimum: 1` does not make a
    // `NonZeroU64`, which a literal cannot be passed as); the bounds are
    // checked on parsing
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
    // Two different schemas (identical ones are one type: see
    // `identical_schemas_in_two_folders_are_one_type`).
    let schema = r#"{"type": "object", "properties": {"event_type": {"type": "string", "const": "db.query"}, "sql": {"type": "string"}}}"#;
    let other = r#"{"type": "object", "properties": {"event_type": {"type": "string", "const": "db.query"}, "sql": {"type": "string"}, "rows": {"type": "integer"}}}"#;
    let src = ok(&[
        ("alpha/db.query.schema.json", schema),
        ("beta/db.query.schema.json", other),
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

// ---------------------------------------------------------------------------
// Warnings (`Config::generate_with_warnings`).
// ---------------------------------------------------------------------------

/// A plain schema with a fixed event type matching its file name
/// (`order.placed.schema.json`).
const PLACED: &str = r#"{"type": "object", "properties": {"event_type": {"const": "order.placed"}, "order_id": {"type": "string"}}}"#;

/// Writes `files` into a temp dir, creates the (empty) folders `dirs`, and
/// returns the warnings of a successful generation.
fn warnings_of(files: &[(&str, &str)], dirs: &[&str]) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    for d in dirs {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let generated = Config::new()
        .generate_with_warnings(dir.path())
        .unwrap_or_else(|e| panic!("generation failed: {e}"));
    syn::parse_file(&generated.source).expect("generated source parses");
    for w in &generated.warnings {
        assert!(!w.contains('\n'), "warning is not one line: {w}");
    }
    (dir, generated.warnings)
}

#[test]
fn warning_for_a_file_directly_in_the_schema_root() {
    let (dir, warnings) = warnings_of(
        &[
            ("stray.schema.json", PLACED),
            ("orders/order.placed.schema.json", PLACED),
        ],
        &[],
    );
    let path = dir.path().join("stray.schema.json").display().to_string();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains(&path), "{warnings:?}");
    assert!(warnings[0].contains("skipped"), "{warnings:?}");
}

#[test]
fn root_file_is_not_generated() {
    let (dir, out) = generate(&[("order.placed.schema.json", PLACED)]);
    let generated = Config::new().generate_with_warnings(dir.path()).unwrap();
    assert!(
        !generated.source.contains("pub struct OrderPlaced"),
        "{}",
        generated.source
    );
    assert!(!out.unwrap().contains("pub struct OrderPlaced"));
}

#[test]
fn warning_for_a_non_json_file_in_a_folder() {
    let (dir, warnings) = warnings_of(
        &[
            ("orders/order.placed.schema.json", PLACED),
            ("orders/notes.txt", "not a schema"),
        ],
        &[],
    );
    let path = dir.path().join("orders/notes.txt").display().to_string();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains(&path), "{warnings:?}");
    assert!(warnings[0].contains("skipped"), "{warnings:?}");
}

#[test]
fn warning_for_a_folder_without_schema_files() {
    let (dir, warnings) = warnings_of(&[("orders/order.placed.schema.json", PLACED)], &["empty"]);
    let path = dir.path().join("empty").display().to_string();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains(&path), "{warnings:?}");
    assert!(warnings[0].contains("no schema files"), "{warnings:?}");
}

#[test]
fn warning_for_a_folder_holding_only_non_json_files() {
    let (dir, warnings) = warnings_of(
        &[
            ("orders/order.placed.schema.json", PLACED),
            ("docs/README.md", "# docs"),
        ],
        &[],
    );
    let folder = dir.path().join("docs").display().to_string();
    let file = dir.path().join("docs/README.md").display().to_string();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(&file) && w.contains("skipped")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with(&format!("{folder}:")) && w.contains("no schema files")),
        "{warnings:?}"
    );
}

#[test]
fn warning_for_a_schema_dir_without_schemas() {
    let (dir, warnings) = warnings_of(&[], &[]);
    let path = dir.path().display().to_string();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains(&path), "{warnings:?}");
    assert!(warnings[0].contains("no schema files"), "{warnings:?}");
}

#[test]
fn warning_when_event_type_const_differs_from_file_name() {
    let (dir, warnings) = warnings_of(&[("orders/placed.schema.json", PLACED)], &[]);
    let path = dir
        .path()
        .join("orders/placed.schema.json")
        .display()
        .to_string();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0];
    assert!(w.contains(&path), "{w}");
    assert!(w.contains("\"order.placed\""), "{w}");
    assert!(w.contains("\"placed\""), "{w}");
    assert_eq!(
        w,
        &format!("{path}: the event_type const \"order.placed\" differs from the file name \"placed\": the event type is \"order.placed\", and the type is named OrderPlaced after the const \"order.placed\", not after the file name (rename the file to order.placed.schema.json to silence this)")
    );
}

/// A const that cannot be a file name (`?`) gets no advice to rename; the
/// advice keeps the file's own extension.
#[test]
fn name_warning_without_impossible_rename_advice() {
    let predicate = PLACED.replace("order.placed", "exist?.cache");
    let (_dir, warnings) = warnings_of(
        &[
            ("ruby/exist_predicate.cache.json", predicate.as_str()),
            ("shop/placed.json", PLACED),
        ],
        &[],
    );
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].ends_with("the type is named ExistCache after the const \"exist?.cache\", not after the file name"),
        "{warnings:?}"
    );
    assert!(
        warnings[1].ends_with("(rename the file to order.placed.json to silence this)"),
        "{warnings:?}"
    );
}

#[test]
fn hidden_files_give_no_warning() {
    let (_dir, warnings) = warnings_of(
        &[
            (".DS_Store", "\0\0"),
            ("orders/.DS_Store", "\0\0"),
            ("orders/order.placed.schema.json", PLACED),
        ],
        &[".git"],
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn clean_folder_gives_no_warnings() {
    let (_dir, warnings) = warnings_of(
        &[
            ("orders/order.placed.schema.json", PLACED),
            ("orders/order.refunded.schema.json", REFUND),
        ],
        &[],
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

// ---------------------------------------------------------------------------
// `Error`'s `Debug`.
// ---------------------------------------------------------------------------

#[test]
fn error_debug_is_its_display_for_a_schema_error() {
    let schema = r#"{"type": "object", "properties": {"duration": {"type": "decimal"}}}"#;
    let (_dir, out) = generate(&[("python/db.query.schema.json", schema)]);
    let e = out.unwrap_err();
    assert!(matches!(e, Error::Schema { .. }), "{e}");
    assert_eq!(format!("{e:?}"), e.to_string());
    assert!(!format!("{e:?}").contains('\n'), "{e:?}");
    assert!(
        format!("{e:?}").ends_with("unsupported type \"decimal\""),
        "{e:?}"
    );
}

#[test]
fn error_debug_is_its_display_for_an_io_error() {
    let e = Config::new()
        .generate("/nonexistent/schemas/dir")
        .unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert_eq!(format!("{e:?}"), e.to_string());
    assert_eq!(format!("{e:#?}"), e.to_string());
    assert!(!format!("{e:?}").contains('\n'), "{e:?}");
}

// ---------------------------------------------------------------------------
// Integer bounds.
// ---------------------------------------------------------------------------

#[test]
fn integer_minimum_one_is_i64_with_bounds_checked() {
    let schema = r#"{"type": "object", "properties": {
        "count": {"type": "integer", "minimum": 1},
        "total": {"type": "integer", "minimum": 1}
    }, "required": ["total"]}"#;
    let src = ok(&[("orders/order.counted.json", schema)]);
    assert!(!src.contains("NonZero"), "{src}");
    assert_contains(&src, "pub count: Option<i64>,");
    assert_contains(&src, "pub total: i64,");
    assert_contains(
        &src,
        "super::__check_bounds::< __A::Error, >( \"count\", &__v, &super::__Bounds { minimum: Some(1f64), maximum: None, exclusive_minimum: None, exclusive_maximum: None, min_length: None, max_length: None, }, )?;",
    );
    assert_contains(
        &src,
        "super::__check_bounds::< __A::Error, >( \"total\", &__v, &super::__Bounds { minimum: Some(1f64),",
    );
    assert_contains(&src, "rust_type: \"Option<i64>\",");
    assert_contains(&src, "rust_type: \"i64\",");
}

#[test]
fn integer_minimum_zero_is_i64_with_bounds_checked() {
    let schema = r#"{"type": "object", "properties": {
        "retries": {"type": "integer", "minimum": 0},
        "port": {"type": "integer", "exclusiveMinimum": 0, "maximum": 65535}
    }}"#;
    let src = ok(&[("net/conn.opened.json", schema)]);
    assert!(!src.contains("NonZero"), "{src}");
    assert_contains(&src, "pub retries: Option<i64>,");
    assert_contains(&src, "pub port: Option<i64>,");
    assert_contains(
        &src,
        "super::__check_bounds::< __A::Error, >( \"retries\", &__v, &super::__Bounds { minimum: Some(0f64), maximum: None, exclusive_minimum: None,",
    );
    assert_contains(
        &src,
        "super::__check_bounds::< __A::Error, >( \"port\", &__v, &super::__Bounds { minimum: None, maximum: Some(65535f64), exclusive_minimum: Some(0f64), exclusive_maximum: None,",
    );
}

#[test]
fn nullable_integer_with_minimum_is_option_i64() {
    let schema = r#"{"type": "object", "properties": {
        "count": {"type": ["integer", "null"], "minimum": 1}
    }, "required": ["count"]}"#;
    let src = ok(&[("orders/order.counted.json", schema)]);
    assert!(!src.contains("NonZero"), "{src}");
    assert_contains(&src, "pub count: Option<i64>,");
    assert_contains(
        &src,
        "( \"count\", &__v, &super::__Bounds { minimum: Some(1f64),",
    );
}

#[test]
fn unbounded_integer_has_no_bounds_check() {
    let schema = r#"{"type": "object", "properties": {"count": {"type": "integer"}}}"#;
    let src = ok(&[("orders/order.counted.json", schema)]);
    assert_contains(&src, "pub count: Option<i64>,");
    assert!(
        !squash(&src).contains("super::__check_bounds::< __A::Error, >( \"count\""),
        "{src}"
    );
}

#[test]
fn nested_integer_bounds_never_produce_nonzero() {
    let schema = r##"{"type": "object", "properties": {
        "shipping": {"type": "object", "properties": {
            "parcels": {"type": "integer", "minimum": 1},
            "weight": {"type": "integer", "exclusiveMinimum": 0},
            "inner": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}}
        }},
        "sizes": {"type": "array", "items": {"type": "integer", "minimum": 1}},
        "counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}},
        "either": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]},
        "copies": {"$ref": "#/$defs/Copies"}
    }, "$defs": {"Copies": {"type": "integer", "minimum": 1}}}"##;
    let src = ok(&[("orders/order.shipped.json", schema)]);
    assert!(!src.contains("NonZero"), "{src}");
    assert_contains(&src, "pub struct OrderShippedShipping {");
    assert_contains(&src, "pub parcels: ::std::option::Option<i64>,");
    assert_contains(&src, "pub weight: ::std::option::Option<i64>,");
    assert_contains(&src, "pub n: ::std::option::Option<i64>,");
    assert_contains(&src, "pub sizes: Option<Vec<i64>>,");
    assert_contains(&src, "pub struct Copies(pub i64);");
}

// ---------------------------------------------------------------------------
// Const properties.
// ---------------------------------------------------------------------------

const ROUTER: &str = r#"{"type": "object", "properties": {
    "event_type": {"type": "string", "const": "logplex"},
    "proc_id": {"const": "router"},
    "path": {"type": "string"}
}, "required": ["event_type", "proc_id"]}"#;

const POSTGRES: &str = r#"{"type": "object", "properties": {
    "event_type": {"type": "string", "const": "logplex"},
    "proc_id": {"const": "heroku-postgres"},
    "sql": {"type": "string"}
}, "required": ["event_type", "proc_id"]}"#;

#[test]
fn const_property_is_not_a_struct_field() {
    let src = ok(&[("heroku/logplex.schema.json", ROUTER)]);
    assert!(!src.contains("pub proc_id"), "{src}");
    assert!(!src.contains("fn proc_id"), "{src}");
    assert_contains(&src, "pub path: Option<String>,");
    // not a constructor parameter either (the only required key is a const)
    assert_contains(&src, "pub fn new() -> Self");
}

#[test]
fn const_property_is_in_the_packed_literal() {
    let src = ok(&[("heroku/logplex.schema.json", ROUTER)]);
    assert!(
        src.contains(r#"("{\"event_type\":\"logplex\",\"proc_id\":\"router\"");"#),
        "{src}"
    );
}

#[test]
fn const_property_is_serialized_and_checked() {
    let src = ok(&[("heroku/logplex.schema.json", ROUTER)]);
    // Serialize writes it
    assert_contains(
        &src,
        "map.serialize_entry( \"proc_id\", &::insights_events::__private::serde_json::json!(\"router\"), )?;",
    );
    // Deserialize checks it and, being required, wants it present
    assert_contains(
        &src,
        "super::__check_const::< __A::Error, >(\"proc_id\", \"\\\"router\\\"\", &map.next_value()?)?;",
    );
    assert_contains(&src, "missing_field( \"proc_id\", )");
    // the key is known (not kept in `extra`) and always present
    assert_contains(&src, "\"event_type\" | \"proc_id\" => true,");
}

#[test]
fn const_property_is_in_schemas() {
    let src = ok(&[("heroku/logplex.schema.json", ROUTER)]);
    assert!(
        src.contains(r#"consts: &[("proc_id", "\"router\"")],"#),
        "{src}"
    );
    // and not listed as a field
    assert!(!src.contains("name: \"proc_id\""), "{src}");
}

#[test]
fn non_string_const_property() {
    let schema = r#"{"type": "object", "properties": {
        "version": {"const": 2},
        "meta": {"const": {"a": [1, "x"]}}
    }}"#;
    let src = ok(&[("app/app.started.json", schema)]);
    assert!(!src.contains("pub version"), "{src}");
    assert!(!src.contains("pub meta"), "{src}");
    assert!(
        src.contains(r#"consts: &[("version", "2"), ("meta", "{\"a\":[1,\"x\"]}")],"#),
        "{src}"
    );
    assert!(
        src.contains(r#"\"version\":2,\"meta\":{\"a\":[1,\"x\"]}"#),
        "{src}"
    );
}

/// A string const whose compact JSON holds an escape Rust has no form for
/// (`\f`, `\b`, `\u0001`) is still the value `Serialize` writes.
#[test]
fn const_with_control_character_is_serialized_as_its_value() {
    let schema = r#"{"type": "object", "properties": {"sep": {"const": "a\fb"}}}"#;
    let src = ok(&[("app/app.started.json", schema)]);
    assert!(
        !squash(&src).contains("map.serialize_entry( \"sep\", &::insights_events::__private::serde_json::json!(null), )"),
        "{src}"
    );
}

// ---------------------------------------------------------------------------
// Shared event types.
// ---------------------------------------------------------------------------

#[test]
fn shared_event_type_told_apart_by_a_required_const() {
    let src = ok(&[
        ("heroku/router.schema.json", ROUTER),
        ("heroku/postgres.schema.json", POSTGRES),
    ]);
    assert_contains(&src, "pub struct Router {");
    assert_contains(&src, "pub struct Postgres {");
    assert!(!src.contains("pub struct Logplex"), "{src}");
    assert_contains(&src, "Router(heroku::Router),");
    assert_contains(&src, "Postgres(heroku::Postgres),");
    // Both keep the shared event type.
    assert_eq!(
        squash(&src)
            .matches("pub const EVENT_TYPE: &'static str = \"logplex\";")
            .count(),
        2,
        "{src}"
    );
    let squashed = squash(&src);
    let dispatch = &squashed[squashed.find("pub fn from_value(").unwrap()
        ..squashed.find("pub fn from_value_as(").unwrap()];
    let arm = &dispatch[dispatch.find("\"logplex\" =>").expect("a logplex arm")..];
    assert!(
        arm.starts_with("\"logplex\" => { if ::insights_events::__private::consts_match("),
        "{dispatch}"
    );
    assert!(
        arm.contains("consts_match( &map, &[(\"proc_id\", \"\\\"heroku-postgres\\\"\", true)], ) { return ::insights_events::__private::serde_json::from_value::< heroku::Postgres, >"),
        "{dispatch}"
    );
    assert!(
        arm.contains("consts_match( &map, &[(\"proc_id\", \"\\\"router\\\"\", true)], ) { return ::insights_events::__private::serde_json::from_value::< heroku::Router, >"),
        "{dispatch}"
    );
    assert!(arm.contains("matches none of them"), "{dispatch}");
    // SCHEMAS names both, with their consts.
    assert!(
        src.contains(r#"consts: &[("proc_id", "\"router\"")],"#),
        "{src}"
    );
    assert!(
        src.contains(r#"consts: &[("proc_id", "\"heroku-postgres\"")],"#),
        "{src}"
    );
    assert_contains(&src, "type_name: \"Router\",");
    assert_contains(&src, "type_name: \"Postgres\",");
}

#[test]
fn shared_event_type_without_consts_is_an_error() {
    let a = r#"{"type": "object", "properties": {"event_type": {"const": "logplex"}, "path": {"type": "string"}}}"#;
    let msg = err(&[
        ("heroku/router.schema.json", a),
        ("heroku/postgres.schema.json", a),
    ]);
    assert!(msg.contains("is already defined by"), "{msg}");
    assert!(msg.contains("\"logplex\""), "{msg}");
}

#[test]
fn shared_event_type_with_only_optional_differing_consts_is_an_error() {
    let router = ROUTER.replace(
        r#""required": ["event_type", "proc_id"]"#,
        r#""required": ["event_type"]"#,
    );
    let postgres = POSTGRES.replace(
        r#""required": ["event_type", "proc_id"]"#,
        r#""required": ["event_type"]"#,
    );
    let msg = err(&[
        ("heroku/router.schema.json", &router),
        ("heroku/postgres.schema.json", &postgres),
    ]);
    assert!(msg.contains("is already defined by"), "{msg}");
}

#[test]
fn shared_event_type_with_equal_consts_is_an_error() {
    let msg = err(&[
        ("heroku/router.schema.json", ROUTER),
        ("heroku/router2.schema.json", ROUTER),
    ]);
    assert!(msg.contains("is already defined by"), "{msg}");
}

// ---------------------------------------------------------------------------
// Free event types.
// ---------------------------------------------------------------------------

const ECTO: &str = r#"{"type": "object", "properties": {
    "event_type": {"type": "string"},
    "query": {"type": "string"}
}}"#;

#[test]
fn free_event_type_is_a_string_field_with_a_setter() {
    let src = ok(&[("elixir/ecto.query.schema.json", ECTO)]);
    assert_contains(&src, "pub struct EctoQuery {");
    assert_contains(&src, "pub event_type: String,");
    assert_contains(
        &src,
        "pub fn with_event_type(mut self, v: impl Into<String>) -> Self",
    );
    assert_contains(&src, "pub const EVENT_TYPE: &'static str = \"ecto.query\";");
    // serialized and packed from the field, not the constant
    assert_contains(
        &src,
        "map.serialize_entry(\"event_type\", &self.event_type)?;",
    );
    assert_contains(&src, "p.str(&self.event_type)?;");
    assert_contains(&src, "Self::EctoQuery(e) => Some(e.event_type.as_str()),");
}

#[test]
fn free_event_type_in_schemas() {
    let src = ok(&[("elixir/ecto.query.schema.json", ECTO)]);
    assert_contains(&src, "name: \"elixir/ecto.query\",");
    assert_contains(&src, "free_event_type: true,");
    assert_contains(&src, "type_name: \"EctoQuery\",");
    assert!(!src.contains("free_event_type: false"), "{src}");
}

#[test]
fn free_event_type_in_from_value_as() {
    let src = ok(&[("elixir/ecto.query.schema.json", ECTO)]);
    let squashed = squash(&src);
    let as_fn = &squashed[squashed.find("pub fn from_value_as(").unwrap()..];
    assert!(
        as_fn.contains("\"elixir/ecto.query\" | \"elixir::EctoQuery\" | \"EctoQuery\" | \"ecto.query\" => { ::insights_events::__private::serde_json::from_value::< elixir::EctoQuery, >(value) .map(Self::EctoQuery) }"),
        "{src}"
    );
}

#[test]
fn free_event_type_named_after_the_file() {
    // The `event_type` property has no const and the title says otherwise:
    // the type is still named after the file.
    let schema = r#"{"title": "Query", "type": "object", "properties": {
        "event_type": {"type": "string", "description": "Sender's choice."}
    }}"#;
    let src = ok(&[("elixir/repo.call.schema.json", schema)]);
    assert_contains(&src, "pub struct RepoCall {");
    assert_contains(&src, "pub event_type: String,");
    assert_contains(&src, "free_event_type: true,");
}

// ---------------------------------------------------------------------------
// `additionalProperties` at top level.
// ---------------------------------------------------------------------------

#[test]
fn additional_properties_false_rejects_unknown_keys() {
    let schema = r#"{"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false}"#;
    let src = ok(&[("strict/strict.event.json", schema)]);
    assert!(
        src.contains(r#"not allowed (the schema sets \"additionalProperties\": false)"#),
        "{src}"
    );
    assert!(!squash(&src).contains("__extra.insert(__key, v);"), "{src}");
}

#[test]
fn additional_properties_schema_checks_extra_values() {
    let schema = r#"{"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "number"}}"#;
    let src = ok(&[("metrics/metrics.event.json", schema)]);
    assert_contains(
        &src,
        "super::__field::<f64, __A::Error>(&__key, v.clone())?; __extra.insert(__key, v);",
    );
    assert!(!src.contains("not allowed (the schema sets"), "{src}");
}

#[test]
fn additional_properties_object_schema_gets_a_typify_type() {
    let schema = r#"{"type": "object", "properties": {}, "additionalProperties": {"type": "object", "properties": {"unit": {"type": "string"}}, "required": ["unit"]}}"#;
    let src = ok(&[("metrics/metrics.event.json", schema)]);
    assert_contains(&src, "pub struct MetricsEventExtra {");
    assert_contains(
        &src,
        "super::__field::< MetricsEventExtra, __A::Error, >(&__key, v.clone())?;",
    );
}

#[test]
fn additional_properties_true_or_absent_keeps_any_extra() {
    for extra in [
        "",
        r#", "additionalProperties": true"#,
        r#", "additionalProperties": {}"#,
    ] {
        let schema =
            format!(r#"{{"type": "object", "properties": {{"a": {{"type": "string"}}}}{extra}}}"#);
        let src = ok(&[("loose/loose.event.json", &schema)]);
        assert!(
            !src.contains("not allowed (the schema sets"),
            "{schema}: {src}"
        );
        assert!(
            !squash(&src).contains("(&__key, v.clone())"),
            "{schema}: {src}"
        );
        assert_contains(&src, "__extra.insert(__key, v);");
    }
}

// ---------------------------------------------------------------------------
// Examples in `SCHEMAS`.
// ---------------------------------------------------------------------------

/// Asserts that the (only) `SCHEMAS` entry's `examples` are exactly
/// `expected`, whatever the formatter's line breaks and trailing commas.
fn assert_examples(src: &str, expected: &[&str]) {
    let normalized = squash(src).replace(", ]", "]").replace("[ ", "[");
    let list: Vec<String> = expected.iter().map(|e| format!("{e:?}")).collect();
    let want = format!("examples: &[{}]", list.join(", "));
    assert_eq!(normalized.matches("examples: &[").count(), 1, "{src}");
    assert!(normalized.contains(&want), "missing `{want}` in:\n{src}");
}

#[test]
fn schema_examples_go_into_schemas() {
    let schema = r#"{"type": "object", "properties": {
        "event_type": {"const": "order.placed"},
        "order_id": {"type": "string", "examples": ["ignored"]}
    }, "required": ["order_id"],
    "examples": [{"event_type": "order.placed", "order_id": "o_1"}, "nonobject-example", {"event_type": "order.placed", "order_id": "o_2", "n": 1.5}]}"#;
    let src = ok(&[("orders/order.placed.schema.json", schema)]);
    assert_examples(
        &src,
        &[
            r#"{"event_type":"order.placed","order_id":"o_1"}"#,
            r#"{"event_type":"order.placed","order_id":"o_2","n":1.5}"#,
        ],
    );
    assert!(!src.contains("nonobject-example"), "{src}");
    assert!(!src.contains(r#"\"ignored\""#), "{src}");
}

#[test]
fn example_built_from_field_examples() {
    let schema = r#"{"type": "object", "properties": {
        "event_type": {"const": "order.placed"},
        "proc_id": {"const": "web"},
        "order_id": {"type": "string", "examples": ["o_1", "o_2"]},
        "qty": {"type": "integer", "examples": [2]},
        "note": {"type": "string"}
    }, "required": ["event_type", "order_id", "qty"]}"#;
    let src = ok(&[("orders/order.placed.schema.json", schema)]);
    assert_examples(
        &src,
        &[r#"{"event_type":"order.placed","proc_id":"web","order_id":"o_1","qty":2}"#],
    );
}

#[test]
fn no_example_when_a_required_field_has_none() {
    let schema = r#"{"type": "object", "properties": {
        "event_type": {"const": "order.placed"},
        "order_id": {"type": "string", "examples": ["o_1"]},
        "qty": {"type": "integer"}
    }, "required": ["event_type", "order_id", "qty"]}"#;
    let src = ok(&[("orders/order.placed.schema.json", schema)]);
    assert_examples(&src, &[]);
    assert!(!src.contains(r#"\"o_1\""#), "{src}");
}

#[test]
fn schema_examples_of_only_non_objects_fall_back_to_field_examples() {
    let schema = r#"{"type": "object", "properties": {
        "event_type": {"const": "order.placed"},
        "order_id": {"type": "string", "examples": ["o_1"]}
    }, "required": ["order_id"], "examples": ["x", 3]}"#;
    let src = ok(&[("orders/order.placed.schema.json", schema)]);
    assert_examples(&src, &[r#"{"event_type":"order.placed","order_id":"o_1"}"#]);
}

// ---------------------------------------------------------------------------
// serde only through the runtime.
// ---------------------------------------------------------------------------

/// Schemas exercising every kind of item the generator and typify emit.
fn serde_heavy_source() -> String {
    let mixed = r##"{"type": "object", "properties": {
        "event_type": {"const": "mixed.event"},
        "proc_id": {"const": "web"},
        "kind": {"type": "string", "enum": ["a", "b"]},
        "level": {"type": "string", "enum": ["info", "warn-ing", "ERROR"]},
        "either": {"type": ["integer", "string", "null"]},
        "one": {"oneOf": [{"type": "object", "properties": {"x": {"type": "string"}}}, {"type": "null"}]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "any": {},
        "map": {"type": "object"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "def": {"$ref": "#/$defs/Thing"},
        "short": {"type": "string", "maxLength": 5},
        "size": {"type": "string", "enum": ["s", "m", "l"], "default": "m"},
        "both": {"allOf": [{"$ref": "#/$defs/Thing"}, {"type": "object", "properties": {"extra_flag": {"type": "boolean"}}}]}
    }, "required": ["kind"], "additionalProperties": {"type": "object", "properties": {"v": {"type": "number"}}},
    "$defs": {"Thing": {"type": "object", "properties": {"id": {"type": "string"}, "n": {"type": "integer", "minimum": 1}}, "required": ["id"]},
              "Code": {"type": "string", "enum": ["x", "y"]}}}"##;
    ok(&[
        ("orders/order.placed.schema.json", RICH),
        ("orders/order.refunded.schema.json", REFUND),
        ("mixed/mixed.event.schema.json", mixed),
        ("elixir/ecto.query.schema.json", ECTO),
        ("heroku/router.schema.json", ROUTER),
        ("heroku/postgres.schema.json", POSTGRES),
    ])
}

#[test]
fn generated_code_reaches_serde_only_through_private() {
    let src = serde_heavy_source();
    // Paths may be broken across lines by the formatter: look without whitespace.
    let flat: String = src.split_whitespace().collect();
    assert!(
        flat.contains("::insights_events::__private::serde::"),
        "{src}"
    );
    assert!(
        flat.contains("::insights_events::__private::serde_json::"),
        "{src}"
    );
    for needle in ["::serde::", "::serde_json::"] {
        for (i, _) in flat.match_indices(needle) {
            assert!(
                flat[..i].ends_with("__private"),
                "`{needle}` not through `__private` at …{}…",
                &flat[i.saturating_sub(80)..(i + 80).min(flat.len())]
            );
        }
    }
    // No `use serde...;` or `extern crate serde` either.
    assert!(!flat.contains("useserde"), "{src}");
    assert!(!flat.contains("externcrateserde"), "{src}");
}

fn check_serde_crate_attrs(items: &[syn::Item], checked: &mut usize) {
    use quote::ToTokens;
    for item in items {
        let (name, attrs) = match item {
            syn::Item::Struct(s) => (s.ident.to_string(), &s.attrs),
            syn::Item::Enum(e) => (e.ident.to_string(), &e.attrs),
            syn::Item::Union(u) => (u.ident.to_string(), &u.attrs),
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    check_serde_crate_attrs(items, checked);
                }
                continue;
            }
            _ => continue,
        };
        let derives_serde = attrs.iter().any(|a| {
            a.path().is_ident("derive") && {
                let text = a.to_token_stream().to_string();
                text.contains("Serialize") || text.contains("Deserialize")
            }
        });
        if !derives_serde {
            continue;
        }
        *checked += 1;
        let has_crate = attrs.iter().any(|a| {
            a.path().is_ident("serde")
                && a.to_token_stream().to_string().replace(' ', "")
                    == "#[serde(crate=\"::insights_events::__private::serde\")]"
        });
        assert!(
            has_crate,
            "`{name}` derives serde without #[serde(crate = ...)]"
        );
    }
}

#[test]
fn every_serde_derive_names_the_private_serde_crate() {
    let src = serde_heavy_source();
    let file = syn::parse_file(&src).unwrap();
    let mut checked = 0;
    check_serde_crate_attrs(&file.items, &mut checked);
    // typify's structs and enums (nested objects, enums, definitions, extra)
    assert!(
        checked >= 5,
        "only {checked} serde derives found in:\n{src}"
    );
}

#[test]
fn serde_crate_attr_follows_runtime_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("orders")).unwrap();
    std::fs::write(dir.path().join("orders/order.placed.schema.json"), RICH).unwrap();
    let src = Config::new()
        .runtime_path("crate")
        .generate(dir.path())
        .unwrap();
    assert_contains(&src, "#[serde(crate = \"crate::__private::serde\")]");
    let flat: String = src.split_whitespace().collect();
    for (i, _) in flat.match_indices("::serde") {
        assert!(
            flat[..i].ends_with("crate::__private"),
            "…{}…",
            &flat[i.saturating_sub(80)..]
        );
    }
}

/// Schemas that share an event type differ from it in their file names by
/// design: no "differs from the file name" warning for them.
#[test]
fn shared_event_type_files_are_not_warned_about_their_names() {
    let (_dir, warnings) = warnings_of(
        &[
            ("heroku/router.schema.json", ROUTER),
            ("heroku/postgres.schema.json", POSTGRES),
        ],
        &[],
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

// ---------------------------------------------------------------------------
// The same event type in two folders.
// ---------------------------------------------------------------------------

const CPU_A: &str = r#"{"$id": "a/report.cpu.json", "title": "A", "type": "object", "properties": {
    "event_type": {"type": "string", "const": "report.cpu"},
    "host": {"type": "string", "description": "Host."},
    "used": {"type": "number"}
}, "required": ["event_type", "host", "used"]}"#;

const CPU_B: &str = r#"{"$id": "b/report.cpu.json", "title": "B", "description": "Same schema, other words.", "x-hb": {"k": 1}, "type": "object", "properties": {
    "event_type": {"type": "string", "const": "report.cpu", "description": "The type."},
    "host": {"type": "string", "description": "The host.", "examples": ["web-1"]},
    "used": {"type": "number", "examples": [3.5]}
}, "required": ["event_type", "host", "used"]}"#;

/// The same schema but for its annotations, in two folders: one type, the
/// first folder's, re-exported by the second; no warning; both `SCHEMAS`
/// entries share their examples; both names parse as the one type.
#[test]
fn identical_schemas_in_two_folders_are_one_type() {
    let (_dir, warnings) = warnings_of(
        &[
            ("agent/report.cpu.json", CPU_A),
            ("system/report.cpu.json", CPU_B),
        ],
        &[],
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let src = ok(&[
        ("agent/report.cpu.json", CPU_A),
        ("system/report.cpu.json", CPU_B),
    ]);
    assert_contains(&src, "pub use super::agent::ReportCpu;");
    assert_eq!(
        squash(&src).matches("pub struct ReportCpu {").count(),
        1,
        "{src}"
    );
    assert_contains(&src, "ReportCpu(agent::ReportCpu),");
    assert!(!src.contains("SystemReportCpu"), "{src}");
    assert_contains(&src, "name: \"agent/report.cpu\",");
    assert_contains(&src, "name: \"system/report.cpu\",");
    assert_contains(&src, "schema_id: \"b/report.cpu.json\",");
    // The examples are pooled: `agent` has none of its own.
    let example = r#"{"event_type":"report.cpu","host":"web-1","used":3.5}"#;
    assert_eq!(src.matches(&format!("{example:?}")).count(), 2, "{src}");
    let squashed = squash(&src);
    let as_fn = &squashed[squashed.find("pub fn from_value_as(").unwrap()..];
    assert!(
        as_fn.contains("\"system/report.cpu\" | \"system::ReportCpu\" => { ::insights_events::__private::serde_json::from_value::< agent::ReportCpu, >(value) .map(Self::ReportCpu) }"),
        "{src}"
    );
}

/// Different schemas with one event type in two folders: both types, the
/// first folder's takes the dispatch, and one warning says so.
#[test]
fn different_schemas_in_two_folders_warn_once() {
    let other = CPU_B.replace(
        r#""used": {"type": "number""#,
        r#""used": {"type": "integer""#,
    );
    let (dir, warnings) = warnings_of(
        &[
            ("agent/report.cpu.json", CPU_A),
            ("system/report.cpu.json", &other),
        ],
        &[],
    );
    let a = dir
        .path()
        .join("agent/report.cpu.json")
        .display()
        .to_string();
    let b = dir
        .path()
        .join("system/report.cpu.json")
        .display()
        .to_string();
    assert_eq!(
        warnings,
        vec![format!("{b}: event type \"report.cpu\" is also defined by {a}, and the two schemas differ: AnyEvent::from_value reads \"report.cpu\" events as agent/report.cpu (the first folder's), this schema's type is system::ReportCpu; parse an event as this schema with AnyEvent::from_value_as(\"system/report.cpu\", ..)")]
    );
}

/// One event type in two folders, told apart by a required const: no
/// warning, dispatched by the const.
#[test]
fn event_type_told_apart_by_a_const_across_folders() {
    let (_dir, warnings) = warnings_of(
        &[
            ("one/router.schema.json", ROUTER),
            ("two/postgres.schema.json", POSTGRES),
        ],
        &[],
    );
    // (Each is told its type is named after the const, not the file.)
    assert!(
        !warnings.iter().any(|w| w.contains("also defined by")),
        "{warnings:?}"
    );
}

// ---------------------------------------------------------------------------
// Placing events whose event type no schema fixes.
// ---------------------------------------------------------------------------

const FREE_ROUTER: &str = r#"{"type": "object", "properties": {
    "event_type": {"type": "string", "examples": ["logplex"]},
    "proc_id": {"type": "string", "const": "router"},
    "method": {"type": "string", "examples": ["GET"]}
}, "required": ["proc_id"]}"#;

const FREE_ECTO: &str = r#"{"type": "object", "properties": {
    "event_type": {"type": "string", "examples": ["my_app.repo.query"]},
    "query": {"type": "string", "examples": ["SELECT 1"]}
}, "required": ["event_type", "query"]}"#;

/// Each schema without an `event_type` const makes a claim (its required
/// consts, its name patterns: the file name, then its examples'), and the
/// `match` on fixed event types falls back to `placing::place`.
#[test]
fn free_event_types_make_claims() {
    let src = ok(&[
        ("heroku/router.json", FREE_ROUTER),
        ("elixir/ecto.query.json", FREE_ECTO),
    ]);
    // (Trailing commas as the formatter likes them.)
    let loose = |s: &str| {
        s.split_whitespace()
            .collect::<String>()
            .replace(",]", "]")
            .replace(",}", "}")
    };
    let want = loose(
        r#"static CLAIMS: &[::insights_events::placing::Claim<'static>] = &[
            ::insights_events::placing::Claim { required_consts: &[], name_patterns: &["ecto.query", "my_app.repo.query", "*.repo.query"] },
            ::insights_events::placing::Claim { required_consts: &[("proc_id", "\"router\"")], name_patterns: &["router", "logplex"] }
        ];"#,
    );
    assert!(loose(&src).contains(&want), "missing {want} in:\n{src}");
    assert_contains(
        &src,
        r#"static NAMES: &[&str] = &["elixir/ecto.query", "heroku/router"];"#,
    );
    assert_contains(
        &src,
        "match ::insights_events::placing::place(CLAIMS, &event_type, &map) {",
    );
    assert_contains(&src, "::insights_events::placing::Placed::One(1usize) => {");
    assert_contains(&src, "is claimed by more than one schema");
    // Not in the `match` under their file names any more.
    let squashed = squash(&src);
    let dispatch = &squashed[squashed.find("pub fn from_value(").unwrap()
        ..squashed.find("pub fn from_value_as(").unwrap()];
    assert!(!dispatch.contains("\"router\" =>"), "{dispatch}");
    assert!(!dispatch.contains("\"ecto.query\" =>"), "{dispatch}");
    // The built examples use the event type's own example.
    for want in [
        r#"examples: &["{\"event_type\":\"my_app.repo.query\",\"query\":\"SELECT 1\"}"]"#,
        r#"examples: &["{\"event_type\":\"logplex\",\"proc_id\":\"router\",\"method\":\"GET\"}"]"#,
    ] {
        assert!(
            loose(&src).contains(&loose(want)),
            "missing {want} in:\n{src}"
        );
    }
}

/// `x-event-type-pattern` (a glob or a list) replaces the patterns of the
/// examples; anything else there is an error naming it.
#[test]
fn declared_event_type_patterns() {
    let one = FREE_ECTO.replace(
        r#""examples": ["my_app.repo.query"]"#,
        r#""examples": ["my_app.repo.query"], "x-event-type-pattern": "*.repo.*""#,
    );
    let src = ok(&[("elixir/ecto.query.json", &one)]);
    assert_contains(&src, r#"name_patterns: &["ecto.query", "*.repo.*"],"#);
    let list = FREE_ECTO.replace(
        r#""examples": ["my_app.repo.query"]"#,
        r#""x-event-type-pattern": ["*.repo.query", "ecto.query", "repo.*"]"#,
    );
    let src = ok(&[("elixir/ecto.query.json", &list)]);
    assert_contains(
        &src,
        r#"name_patterns: &["ecto.query", "*.repo.query", "repo.*"],"#,
    );
    for bad in ["3", "\"\"", "[]", "[\"a\", 1]"] {
        let schema = FREE_ECTO.replace(
            r#""examples": ["my_app.repo.query"]"#,
            &format!(r#""x-event-type-pattern": {bad}"#),
        );
        let e = err(&[("elixir/ecto.query.json", &schema)]);
        assert!(
            e.contains("ecto.query.json: /properties/event_type/x-event-type-pattern: expected a non-empty string or an array of them"),
            "{bad}: {e}"
        );
    }
}

/// The generator derives name patterns from examples as the runtime's
/// `placing::patterns_from_example` does (the generated `AnyEvent` and the
/// schemas the runtime loads must place events alike).
#[test]
fn patterns_from_example_agrees_with_the_runtime() {
    for example in [
        "my_app.repo.query",
        "logplex",
        "ecto.query",
        "a.b.c.d",
        ".repo.query",
        "a..b",
        "",
        "x.y.",
    ] {
        assert_eq!(
            insights_events_codegen::patterns_from_example(example),
            insights_events::placing::patterns_from_example(example),
            "{example:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Zero schemas, nested types.
// ---------------------------------------------------------------------------

/// With no schema at all, nothing in the generated code is unused.
#[test]
fn zero_schemas_leave_nothing_unused() {
    let dir = tempfile::tempdir().unwrap();
    let src = Config::new().generate(dir.path()).unwrap();
    syn::parse_file(&src).unwrap();
    assert_contains(&src, "let _ = value;");
    assert_contains(&src, "let _ = event_type; Ok(Self::Unknown(map))");
    assert!(!src.contains("match event_type"), "{src}");
    assert_eq!(
        squash(&src).matches("#[allow(dead_code)] fn __").count(),
        4,
        "every helper may go unused: {src}"
    );
}

const NESTED: &str = r#"{"type": "object", "properties": {
    "event_type": {"type": "string", "const": "order.placed"},
    "items": {"type": "array", "items": {"type": "object", "properties": {
        "sku": {"type": "string"},
        "quantity": {"type": "integer"},
        "note": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "price": {"type": ["number", "null"]},
        "type": {"type": "string"},
        "meta": {"type": "object"}
    }, "required": ["sku", "quantity", "price"]}}
}, "required": ["event_type", "items"]}"#;

/// Nested object types get `new` (required fields) and setters, and keep
/// the schema's key order (so they serialize in it).
#[test]
fn nested_types_have_new_setters_and_schema_order() {
    let src = ok(&[("orders/order.placed.schema.json", NESTED)]);
    let squashed = squash(&src);
    let st = &squashed[squashed.find("pub struct OrderPlacedItemsItem {").unwrap()..];
    let st = &st[..st.find('}').unwrap()];
    let order: Vec<usize> = [
        "pub sku:",
        "pub quantity:",
        "pub note:",
        "pub tags:",
        "pub price:",
        "pub type_:",
        "pub meta:",
    ]
    .iter()
    .map(|f| st.find(f).unwrap_or_else(|| panic!("{f} in {st}")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{st}");
    assert_contains(
        &src,
        "pub fn new( sku: impl Into<String>, quantity: i64, price: ::std::option::Option<f64>, ) -> Self {",
    );
    assert_contains(
        &src,
        "pub fn note(mut self, v: impl Into<String>) -> Self { self.note = Some(v.into()); self }",
    );
    assert_contains(&src, "pub fn tags(mut self, v: ::std::vec::Vec<::std::string::String>) -> Self { self.tags = v; self }");
    assert_contains(&src, "pub fn type_(mut self, v: impl Into<String>) -> Self");
    assert_contains(
        &src,
        "skip_serializing_if = \"::insights_events::__private::serde_json::Map::is_empty\"",
    );
    assert!(!src.contains("\"::serde_json"), "{src}");
}
