//! Finding the schema files: the sorted folders under the schema directory
//! and their `*.json` files, with a warning for whatever is skipped.

use std::path::{Path, PathBuf};

use crate::Error;

/// One schema folder: its name and sorted `*.json` files.
pub(crate) type Listing = Vec<(String, Vec<PathBuf>)>;

fn hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.'))
}

/// The visible entries of `dir`, unsorted.
fn visible_entries(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let path = entry.map_err(Error::io(dir))?.path();
        if !hidden(&path) {
            out.push(path);
        }
    }
    Ok(out)
}

/// The sorted subfolders of `dir` with their sorted `*.json` files; what
/// it skips goes into `warnings`.
pub(crate) fn list_schema_files(dir: &Path, warnings: &mut Vec<String>) -> Result<Listing, Error> {
    let mut folders = Vec::new();
    let mut root_files = Vec::new();
    for path in visible_entries(dir)? {
        if path.is_dir() {
            if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                folders.push(name.to_string());
            }
        } else {
            root_files.push(path);
        }
    }
    root_files.sort();
    for f in root_files {
        warnings.push(format!(
            "{}: skipped: a schema file belongs in a folder under {} (the folder names the module, e.g. {}/myapp/)",
            f.display(),
            dir.display(),
            dir.display()
        ));
    }
    folders.sort();
    let mut out = Vec::new();
    for folder in folders {
        let files = list_folder(&dir.join(&folder), warnings)?;
        out.push((folder, files));
    }
    Ok(out)
}

/// The sorted `*.json` files of one schema folder.
fn list_folder(fdir: &Path, warnings: &mut Vec<String>) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for path in visible_entries(fdir)? {
        let is_json = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".json"));
        if is_json && path.is_file() {
            files.push(path);
        } else {
            skipped.push(path);
        }
    }
    files.sort();
    skipped.sort();
    for p in skipped {
        let what = if p.is_dir() {
            "a folder inside a schema folder (schema folders are one level deep)"
        } else {
            "not a `.json` file"
        };
        warnings.push(format!("{}: skipped: {what}", p.display()));
    }
    if files.is_empty() {
        warnings.push(format!(
            "{}: no schema files (`*.schema.json`) in this folder; no module generated",
            fdir.display()
        ));
    }
    Ok(files)
}
