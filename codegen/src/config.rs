//! [`Config`], the generator's options, and the one entry every public
//! function goes through: `Config::load` reads the schema directory,
//! `Config::emit` writes the code.

use std::path::{Path, PathBuf};

use crate::load::{load_dir, Loaded};
use crate::render::render;
use crate::{emit, Error};

/// Configuration for the code generator (builder style).
#[derive(Debug, Clone)]
pub struct Config {
    runtime_path: String,
    out_file_name: String,
    /// `(file name, path of the generated module)` when the `send()`
    /// methods go into a file of their own.
    send_methods_file: Option<(String, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

/// File name [`Config::compile`] writes into the output directory by default.
pub const DEFAULT_OUT_FILE_NAME: &str = "insights_events_generated.rs";

impl Config {
    /// A configuration with the defaults: runtime at `::insights_events`,
    /// output file `insights_events_generated.rs`.
    pub fn new() -> Self {
        Config {
            runtime_path: "::insights_events".to_string(),
            out_file_name: DEFAULT_OUT_FILE_NAME.to_string(),
            send_methods_file: None,
        }
    }

    /// The path under which the generated code finds the runtime
    /// (`TypedEvent`, `Event`, `Client`, ...). Default `::insights_events`;
    /// the `insights-events` crate itself uses `crate`.
    pub fn runtime_path(&mut self, path: &str) -> &mut Self {
        self.runtime_path = path.to_string();
        self
    }

    /// The name of the file [`Config::compile`] writes (default
    /// [`DEFAULT_OUT_FILE_NAME`]).
    pub fn out_file_name(&mut self, name: &str) -> &mut Self {
        self.out_file_name = name.to_string();
        self
    }

    /// Writes the generated types' `send()` and `send_with()` methods into
    /// a file of their own, `file_name` in the output directory, as `impl`
    /// blocks naming the types under `types_path` (where the main file is
    /// included, e.g. `crate::schema::generated`), instead of beside each
    /// type. [`Config::generate`] then returns the types without them.
    ///
    /// For a runtime crate that keeps its schema types below the layer
    /// that sends (the `insights-events` crate itself); a user's crate
    /// needs none of this.
    pub fn send_methods_file(&mut self, file_name: &str, types_path: &str) -> &mut Self {
        self.send_methods_file = Some((file_name.to_string(), types_path.to_string()));
        self
    }

    /// Generates the Rust source for every schema under `schema_dir` and
    /// returns it, formatted. Warnings are dropped; see
    /// [`Config::generate_with_warnings`].
    pub fn generate(&self, schema_dir: impl AsRef<Path>) -> Result<String, Error> {
        Ok(self.generate_with_warnings(schema_dir)?.source)
    }

    /// Like [`Config::generate`], and also returns what the generator
    /// noticed but did not fail on: files it skipped, folders without
    /// schemas, an `event_type` const that differs from the file name, a
    /// schema whose event type an earlier folder defines differently.
    pub fn generate_with_warnings(&self, schema_dir: impl AsRef<Path>) -> Result<Generated, Error> {
        let (runtime, loaded) = self.load(schema_dir.as_ref())?;
        Ok(Generated {
            source: self.emit(&runtime, &loaded)?,
            warnings: loaded.warnings,
        })
    }

    /// Generates the code for `schema_dir` and writes it to
    /// `<out_dir>/insights_events_generated.rs` (see
    /// [`Config::out_file_name`]), returning the path written.
    ///
    /// Meant to be called from a build script: prints
    /// `cargo:rerun-if-changed` lines for the directory, each folder and
    /// every schema file (so adding, changing or removing a schema rebuilds),
    /// and a `cargo:warning` line for each [`Generated::warnings`] entry.
    pub fn compile(
        &self,
        schema_dir: impl AsRef<Path>,
        out_dir: impl AsRef<Path>,
    ) -> Result<PathBuf, Error> {
        let schema_dir = schema_dir.as_ref();
        println!("cargo:rerun-if-changed={}", schema_dir.display());
        let (runtime, loaded) = self.load(schema_dir)?;
        for w in &loaded.warnings {
            println!("cargo:warning={w}");
        }
        for folder in &loaded.folders {
            println!("cargo:rerun-if-changed={}", folder.display());
        }
        for f in loaded.namespaces.iter().flat_map(|ns| &ns.files) {
            println!("cargo:rerun-if-changed={}", f.display());
        }
        let out = out_dir.as_ref().join(&self.out_file_name);
        write_if_changed(&out, &self.emit(&runtime, &loaded)?)?;
        if let Some((file, types)) = &self.send_methods_file {
            let types: syn::Path = syn::parse_str(types).map_err(|e| {
                Error::config(format!(
                    "send_methods_file's types path {types:?} is not a Rust path: {e}"
                ))
            })?;
            let impls = emit::emit_send_impls(&runtime, &types, &loaded.namespaces);
            write_if_changed(&out_dir.as_ref().join(file), &render(impls, &runtime)?)?;
        }
        Ok(out)
    }

    /// The one entry: the runtime path checked, and the schema directory
    /// loaded.
    fn load(&self, dir: &Path) -> Result<(syn::Path, Loaded), Error> {
        let runtime: syn::Path = syn::parse_str(&self.runtime_path).map_err(|e| {
            Error::config(format!(
                "runtime_path {:?} is not a Rust path: {e}",
                self.runtime_path
            ))
        })?;
        Ok((runtime, load_dir(dir)?))
    }

    /// The code for what `Config::load` read, formatted.
    fn emit(&self, runtime: &syn::Path, loaded: &Loaded) -> Result<String, Error> {
        let inline_send = self.send_methods_file.is_none();
        let tokens = emit::emit_all(runtime, &loaded.namespaces, inline_send)?;
        render(tokens, runtime)
    }
}

/// What [`Config::generate_with_warnings`] produced.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Generated {
    /// The generated Rust source, formatted.
    pub source: String,
    /// One line per thing the generator skipped or noticed, each naming the
    /// file (what [`Config::compile`] prints as `cargo:warning`).
    pub warnings: Vec<String>,
}

/// Writes `source` to `path` unless it holds it already (keeps rebuilds
/// incremental).
fn write_if_changed(path: &Path, source: &str) -> Result<(), Error> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(source) {
        std::fs::write(path, source).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}
