//! JSON Schema → Rust code generator for `insights-events`, in the style of
//! `prost-build`: a user's crate turns its own event schemas into typed
//! events from its build script.
//!
//! ```toml
//! [dependencies]
//! insights-events = "0.1"
//!
//! [build-dependencies]
//! insights-events-codegen = "0.1"
//! ```
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), insights_events_codegen::Error> {
//!     insights_events_codegen::compile("schemas")
//! }
//! ```
//!
//! and in the crate, a module for the types:
//!
//! ```ignore
//! pub mod events {
//!     insights_events::include_events!();
//! }
//! ```
//!
//! The generated code reaches `serde` and `serde_json` through the runtime
//! crate (`insights_events::__private`), so the user's crate depends on
//! nothing else. [`Config`] holds the options (the runtime's path, the
//! output file's name); [`Config::generate_with_warnings`] returns the code
//! as a string.
//!
//! # Schema files
//!
//! Every `*.json` file (by convention `*.schema.json`) in each immediate
//! subfolder of the schema directory describes one event type, as a
//! draft-07 JSON Schema with `"type": "object"`. Each folder becomes a
//! module (`schemas/orders/order.placed.schema.json` →
//! `orders::OrderPlaced`); the generated file also has an `AnyEvent` enum
//! over every type and a `SCHEMAS` table. [`Config::compile`] prints a
//! `cargo:warning` for what it skips (a file at the root of the schema
//! directory, a file that is not `.json`, a folder without schemas, a
//! directory with none at all), for an `event_type` const that differs
//! from the file name (the type is named after the const), and for a
//! schema whose event type an earlier folder defines differently. Each
//! once.
//!
//! * **Event type**: the `event_type` property's `const`; without an
//!   `event_type` property, the file name (`order.placed`). An
//!   `event_type` property *without* a `const` leaves the value to the
//!   sender: the struct gets a `pub event_type: String` (the file name until
//!   set, `.with_event_type(..)`), and `AnyEvent::from_value_as("folder/file",
//!   value)` parses an event as that schema whatever its event type.
//! * **Type name**: from the event type (`db.query` → `DbQuery`); from the
//!   file name when the event type is free or shared.
//! * **Shared event types**: two schemas may have the same `event_type`
//!   const when a required `const` property tells them apart (heroku's
//!   `router` and `postgres` log events, both `logplex`, by `proc_id`);
//!   `AnyEvent` picks the one whose consts all match.
//! * **Placing the rest**: an event whose `event_type` no schema fixes goes
//!   to the schemas without an `event_type` const, by the runtime's
//!   `insights_events::placing::place`: first by their required consts
//!   (whatever the event type), then by name patterns: the file name, and
//!   the globs of an `"x-event-type-pattern"` keyword on the `event_type`
//!   property (a string or an array), or else each `event_type` example as
//!   itself and, with three dotted parts or more, with its first part as
//!   `*` ([`patterns_from_example`]: `my_app.repo.query` → `*.repo.query`).
//!   Claimed twice alike, an event is an error naming both schemas; not
//!   claimed, it is `AnyEvent::Unknown`.
//! * **The same event type in two folders** (folders are read in name
//!   order): the same schema but for its annotations (`title`,
//!   `description`, `$id`, `$schema`, `$comment`, `examples`, `x-…`) is one
//!   type, the first folder's, re-exported by the later one's module; both
//!   names parse as it, both `SCHEMAS` entries share their examples, and no
//!   warning is given. Schemas told apart by a required const are placed by
//!   it. Otherwise both types are generated, the first folder's takes the
//!   events of that type, and one `cargo:warning` names both files.
//! * **Nested objects** become structs like the event types: `new` takes
//!   the required fields, each optional one has a setter, and the fields
//!   are in the schema's order (the order they are written in).
//! * **`const` properties** other than `event_type` are not struct fields:
//!   they are written with every event and checked on parsing.
//! * **Other keys** go to the struct's `extra` map; a top-level
//!   `additionalProperties` schema checks their values, `false` rejects them.
//!
//! # Type mapping
//!
//! Chosen for the person writing `OrderPlaced::new(..)`: plain Rust types,
//! with the schema's finer rules checked when an event is parsed or
//! validated (`AnyEvent`, `insights-events validate`, the receiver).
//!
//! | JSON Schema | Rust type | checked on parsing |
//! |---|---|---|
//! | `"type": "string"` | `String` | `minLength`, `maxLength` (top-level fields) |
//! | `"type": "string"` with `format` or `pattern` | `String` | not checked |
//! | `"type": "string"`, `"enum": [..]` | an enum, one variant per value | the value is one of them |
//! | `"type": "integer"` (any `minimum`, `maximum`, `exclusive*`) | `i64` | the bounds (top-level fields) |
//! | `"type": "number"` | `f64` | the bounds (top-level fields); NaN and infinities never sent |
//! | `"type": "boolean"` | `bool` | |
//! | `"type": "object"` with `properties` | a struct named after the event and field (`OrderPlacedShipping`) | nested types and required keys |
//! | `"type": "object"` without `properties` | `serde_json::Map<String, serde_json::Value>` | |
//! | `"type": "array"`, `items` | `Vec<T>` | item types |
//! | no `type`, `true`, `anyOf` of mixed types | `serde_json::Value` (or typify's enum) | |
//! | `"type": [T, "null"]`, or `null` in `anyOf`/`oneOf` | `Option<T>` | |
//! | `$ref` to `$defs` / `definitions` | the definition's type, shared by the folder | |
//!
//! Not checked anywhere: `multipleOf`, `format`, `pattern` and
//! `patternProperties` (dropped before typify, which would need extra
//! crates for them), and draft-04's boolean `exclusiveMinimum` /
//! `exclusiveMaximum` (refused by the generator: use draft-07's numbers).
//!
//! A property not in `required` is `Option<T>` (`Option<T>` too when it is
//! also nullable: absent and `null` are both `None`). Integers are `i64`
//! whatever their bounds: typify would make `minimum: 1` a `NonZeroU64`
//! and `minimum: 0` a `u64`, which `OrderPlaced::new("o", 3)` cannot take
//! from a literal or an `i64` without a conversion, so the generator drops
//! integer bounds before typify and checks them itself. Bounds inside
//! nested objects and arrays are dropped the same way and are not checked
//! (top-level fields only).
//!
//! The generator never panics on bad input: any schema it cannot handle
//! produces an [`Error`] naming the file, the JSON Pointer and the construct,
//! on one line (for `Display` and `Debug` alike).

#![warn(missing_docs)]

mod bridge;
mod config;
mod discover;
mod emit;
mod error;
mod ident;
mod load;
mod model;
mod render;
mod validate;

use std::path::{Path, PathBuf};

pub use config::{Config, Generated, DEFAULT_OUT_FILE_NAME};
pub use error::Error;
pub use load::patterns_from_example;

/// Generates the types for every schema under `schema_dir` into `OUT_DIR`,
/// with the default [`Config`]: the one call a user's `build.rs` needs.
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), insights_events_codegen::Error> {
///     insights_events_codegen::compile("schemas")
/// }
/// ```
///
/// and in the crate, `insights_events::include_events!();`.
pub fn compile(schema_dir: impl AsRef<Path>) -> Result<(), Error> {
    let out_dir = std::env::var_os("OUT_DIR").ok_or_else(|| Error::Io {
        path: PathBuf::from("$OUT_DIR"),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "OUT_DIR is not set: call this from a build script, or use Config::compile with a directory",
        ),
    })?;
    Config::new().compile(schema_dir, out_dir).map(drop)
}
