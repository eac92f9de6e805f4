//! Snapshot of the code generated for the published Python schemas.
//!
//! Update with `UPDATE_SNAPSHOTS=1 cargo test -p insights-events-codegen --test snapshot`.

use std::path::Path;

#[test]
fn python_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    // Only the `python` folder, so other example schemas don't churn the snapshot.
    let python = dir.path().join("python");
    std::fs::create_dir(&python).unwrap();
    let mut names: Vec<_> = std::fs::read_dir(root.join("../schemas/python"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        5,
        "expected the five python schemas: {names:?}"
    );
    for path in names {
        std::fs::copy(&path, python.join(path.file_name().unwrap())).unwrap();
    }
    let generated = insights_events_codegen::Config::new()
        .generate(dir.path())
        .unwrap_or_else(|e| panic!("{e}"));
    let snapshot = root.join("tests/snapshots/python.rs");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::write(&snapshot, &generated).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
    if expected != generated {
        let first_diff = expected
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(generated.lines().count()));
        panic!(
            "generated code differs from {} (first difference at line {}).\n\
             If the change is intended, update the snapshot with:\n\
             \n    UPDATE_SNAPSHOTS=1 cargo test -p insights-events-codegen --test snapshot\n",
            snapshot.display(),
            first_diff + 1
        );
    }
}
