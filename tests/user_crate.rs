//! A user's crate with schemas of its own, built by cargo as a user builds
//! it: a copy of `examples/custom-schema` (its own `Cargo.toml`, three-line
//! `build.rs` and `schemas/`, path dependencies on this workspace) in a
//! temporary directory, built offline with a target directory of its own
//! (`target/user-crate`, kept between runs so only the first one compiles
//! the dependencies).
//!
//! One test, in steps, because each step is a real `cargo build` of the
//! previous step's tree: a schema is added, changed and removed and the
//! type follows each time; skipped files and a mismatched `event_type` show
//! as warnings; a bad schema fails the build with one line; the published
//! catalog's edge cases (a shared `event_type` told apart by a const, a free
//! `event_type`, nullable type arrays, a top-level `additionalProperties`
//! schema) dispatch and validate (`tests/user-crate/edges/`); the whole
//! published catalog (`../shared/catalog/`) compiles in and every example
//! places itself (`tests/user-crate/catalog/`); with no schema at all the
//! generated code compiles without a warning.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[path = "common/files.rs"]
mod files;
use files::copy_dir;

/// The user crate, copied out of the workspace, depending on it by path.
struct UserCrate {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    target: PathBuf,
}

impl UserCrate {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("user");
        let example = root().join("examples/custom-schema");
        for part in ["src", "schemas"] {
            copy_dir(&example.join(part), &dir.join(part));
        }
        std::fs::copy(example.join("build.rs"), dir.join("build.rs")).unwrap();
        let manifest = std::fs::read_to_string(example.join("Cargo.toml"))
            .unwrap()
            .replace(
                "path = \"../../codegen\"",
                &format!("path = {:?}", root().join("codegen")),
            )
            .replace("path = \"../..\"", &format!("path = {:?}", root()));
        assert!(!manifest.contains("../"), "{manifest}");
        // Its own workspace; the same versions as this one (offline).
        std::fs::write(dir.join("Cargo.toml"), manifest + "\n[workspace]\n").unwrap();
        std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        UserCrate {
            _tmp: tmp,
            dir,
            target: root().join("target/user-crate"),
        }
    }

    fn write(&self, path: &str, text: &str) {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn remove(&self, path: &str) {
        std::fs::remove_file(self.dir.join(path)).unwrap();
    }

    fn cargo(&self, args: &[&str]) -> Output {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut c = Command::new(cargo);
        // `--offline` right after the subcommand: anything after a `--`
        // goes to the program.
        c.args(&args[..1])
            .arg("--offline")
            .args(&args[1..])
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS");
        for (k, _) in std::env::vars() {
            if k.starts_with("HONEYBADGER_") || k.starts_with("HONEYCOMB_") {
                c.env_remove(k);
            }
        }
        c.output().expect("run cargo")
    }

    /// `cargo build`; panics with cargo's output unless it succeeds.
    fn build(&self) -> String {
        let out = self.cargo(&["build"]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "cargo build failed:\n{stderr}");
        stderr
    }

    /// `cargo build` that must fail; returns its stderr.
    fn build_fails(&self) -> String {
        let out = self.cargo(&["build"]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "cargo build succeeded:\n{stderr}");
        stderr
    }

    fn run(&self, bin: &str, args: &[&str]) -> String {
        let out = self.cargo(&[&["run", "--bin", bin, "--"][..], args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{bin} failed:\n{stderr}");
        String::from_utf8(out.stdout).unwrap()
    }
}

const MAIN: &str = "insights-events-example-custom-schema";

/// The generator's `cargo:warning` lines in cargo's output.
fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("warning: insights-events-example-custom-schema@"))
        .collect()
}

const SHIPPED: &str = r#"{
  "type": "object",
  "properties": {
    "event_type": {"type": "string", "const": "order.shipped"},
    "order_id": {"type": "string"},
    "carrier": {"type": "string"}
  },
  "required": ["event_type", "order_id", "carrier"]
}"#;

const SHIPPED_WITH_TRACKING: &str = r#"{
  "type": "object",
  "properties": {
    "event_type": {"type": "string", "const": "order.shipped"},
    "order_id": {"type": "string"},
    "carrier": {"type": "string"},
    "tracking": {"type": ["string", "null"]}
  },
  "required": ["event_type", "order_id", "carrier"]
}"#;

const PROBE: &str = r#"
use insights_events_example_custom_schema::events::orders::OrderShipped;
fn main() {
    let e = OrderShipped::new("o_1", "DHL");
    println!("{} {} {}", OrderShipped::EVENT_TYPE, e.order_id, e.carrier);
}
"#;

const PROBE_TRACKING: &str = r#"
use insights_events_example_custom_schema::events::orders::OrderShipped;
fn main() {
    let e = OrderShipped::new("o_1", "DHL").tracking("T-9");
    println!("{} {:?}", OrderShipped::EVENT_TYPE, e.tracking);
}
"#;

#[test]
fn a_users_crate_builds_and_follows_its_schemas() {
    let user = UserCrate::new();

    // 1. As copied: builds without a warning and sends its two events
    // (NDJSON on stdout, no key set).
    let stderr = user.build();
    assert!(warnings(&stderr).is_empty(), "{stderr}");
    let sent = user.run(MAIN, &[]);
    let lines: Vec<&str> = sent.lines().collect();
    assert_eq!(lines.len(), 2, "{sent}");
    assert!(
        lines[0].starts_with(r#"{"event_type":"order.placed","order_id":"o_1001","items":3,"#),
        "{sent}"
    );
    assert!(
        lines[1].starts_with(r#"{"event_type":"signup.completed""#),
        "{sent}"
    );

    // 2. A schema added: the next build has the type.
    user.write("schemas/orders/order.shipped.schema.json", SHIPPED);
    user.write("src/bin/probe.rs", PROBE);
    user.build();
    assert_eq!(user.run("probe", &[]).trim(), "order.shipped o_1 DHL");

    // 3. Changed: a new field, usable at once.
    user.write(
        "schemas/orders/order.shipped.schema.json",
        SHIPPED_WITH_TRACKING,
    );
    user.write("src/bin/probe.rs", PROBE_TRACKING);
    user.build();
    assert_eq!(user.run("probe", &[]).trim(), "order.shipped Some(\"T-9\")");

    // 4. Removed: the type is gone (code naming it no longer compiles).
    user.remove("schemas/orders/order.shipped.schema.json");
    let stderr = user.build_fails();
    assert!(stderr.contains("OrderShipped"), "{stderr}");
    user.remove("src/bin/probe.rs");
    user.build();
    let listed = user.run(MAIN, &["schemas"]);
    assert!(!listed.contains("order.shipped"), "{listed}");
    assert!(
        listed.contains("orders/order.placed OrderPlaced"),
        "{listed}"
    );

    // 5. What the generator skips, it says.
    user.write("schemas/stray.schema.json", SHIPPED);
    user.write("schemas/orders/NOTES.md", "notes");
    user.write("schemas/empty/.keep", "");
    user.write(
        "schemas/orders/order.refund.schema.json",
        &SHIPPED.replace("order.shipped", "order.refunded"),
    );
    let stderr = user.build();
    let w = warnings(&stderr);
    assert_eq!(w.len(), 4, "{stderr}");
    let joined = w.join("\n");
    assert!(joined.contains("stray.schema.json: skipped"), "{joined}");
    assert!(
        joined.contains("NOTES.md: skipped: not a `.json` file"),
        "{joined}"
    );
    assert!(joined.contains("empty: no schema files"), "{joined}");
    assert!(
        joined.contains(
            r#"the event_type const "order.refunded" differs from the file name "order.refund""#
        ),
        "{joined}"
    );
    for f in [
        "schemas/stray.schema.json",
        "schemas/orders/NOTES.md",
        "schemas/empty/.keep",
        "schemas/orders/order.refund.schema.json",
    ] {
        user.remove(f);
    }
    std::fs::remove_dir(user.dir.join("schemas/empty")).unwrap();

    // 6. A bad schema fails the build with one line naming the file and
    // the JSON path (not a struct dump, not a backtrace).
    user.write(
        "schemas/orders/bad.schema.json",
        r#"{"type":"object","properties":{"amount":{"type":"decimal"}}}"#,
    );
    let stderr = user.build_fails();
    let line = stderr
        .lines()
        .find(|l| l.contains("bad.schema.json"))
        .unwrap_or_else(|| panic!("no line names the file:\n{stderr}"));
    assert!(
        line.contains("bad.schema.json: /properties/amount/type: "),
        "{line}"
    );
    assert!(!stderr.contains("Schema {"), "{stderr}");
    assert!(!stderr.contains("stack backtrace"), "{stderr}");
    user.remove("schemas/orders/bad.schema.json");

    // 7. The published catalog's edge cases.
    let edges = root().join("tests/user-crate/edges");
    copy_dir(&edges.join("schemas"), &user.dir.join("schemas"));
    std::fs::create_dir_all(user.dir.join("tests")).unwrap();
    std::fs::copy(
        edges.join("catalog_edges.rs"),
        user.dir.join("tests/catalog_edges.rs"),
    )
    .unwrap();
    let out = user.cargo(&["test", "--test", "catalog_edges"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains(" 0 passed"), "{stdout}");

    // 8. The whole published catalog compiles in, without a warning that
    // is not so (each said once), and places itself: every example
    // validates and dispatches to its own schema (`user-crate/catalog/`).
    let catalog = root().join("../shared/catalog");
    if catalog.is_dir() {
        for f in ["heroku", "elixir"] {
            std::fs::remove_dir_all(user.dir.join("schemas").join(f)).unwrap();
        }
        user.remove("tests/catalog_edges.rs");
        let mut folders = 0;
        for entry in std::fs::read_dir(&catalog).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                copy_dir(
                    &entry.path(),
                    &user.dir.join("schemas").join(entry.file_name()),
                );
                folders += 1;
            }
        }
        assert_eq!(folders, 8);
        std::fs::copy(
            root().join("tests/user-crate/catalog/catalog.rs"),
            user.dir.join("tests/catalog.rs"),
        )
        .unwrap();
        let out = user.cargo(&["test", "--test", "catalog", "--", "--nocapture"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.contains("catalog: 109 schemas"), "{stdout}");
        if let Some(line) = stdout.lines().find(|l| l.starts_with("catalog: ")) {
            println!("{line}");
        }
        assert!(!stdout.contains(" 0 passed"), "{stdout}");
        // The generator's only warnings: two event types whose const cannot
        // be a file name (`cache_exist?.active_support`), true and said once.
        let w = warnings(&stderr);
        assert_eq!(w.len(), 2, "{stderr}");
        for (file, ty) in [
            (
                "cache_exist_predicate.active_support.json",
                "CacheExistActiveSupport",
            ),
            (
                "exist_fragment_predicate.action_controller.json",
                "ExistFragmentActionController",
            ),
        ] {
            let line = w
                .iter()
                .find(|l| l.contains(file))
                .unwrap_or_else(|| panic!("{stderr}"));
            assert!(
                line.ends_with(&format!(
                    "the type is named {ty} after the const \"{}\", not after the file name",
                    file.replace("_predicate", "?").trim_end_matches(".json")
                )),
                "{line}"
            );
            assert_eq!(stderr.matches(*line).count(), 1, "said twice:\n{stderr}");
        }
        // No compiler warning in the user's crate (its generated code).
        assert!(
            !stderr.contains("`insights-events-example-custom-schema` ("),
            "{stderr}"
        );
    } else {
        println!(
            "note: {} is absent: the catalog step is skipped",
            catalog.display()
        );
    }

    // 9. No schema at all: one warning saying so, and the generated code
    // compiles without a compiler warning.
    std::fs::remove_dir_all(user.dir.join("schemas")).unwrap();
    std::fs::create_dir(user.dir.join("schemas")).unwrap();
    user.write("src/main.rs", "fn main() {}\n");
    let stderr = user.build();
    let w = warnings(&stderr);
    assert_eq!(w.len(), 1, "{stderr}");
    assert!(w[0].contains("no schema files found"), "{stderr}");
    assert!(
        !stderr.contains("`insights-events-example-custom-schema` ("),
        "{stderr}"
    );
}
