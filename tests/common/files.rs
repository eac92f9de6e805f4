//! Copying a folder tree, for the tests that build a user's crate from
//! files of this repository (`tests/user_crate.rs`,
//! `tests/loaded_catalog_agreement.rs`). Included with `#[path]`, apart
//! from `common/mod.rs`, so those tests do not compile its HTTP server.

use std::path::Path;

/// Copies `from` into `to` (created), folders and files.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
