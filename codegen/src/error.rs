//! The generator's one error type.

use std::path::PathBuf;

/// Why code generation failed.
///
/// The `Display` form is one line: the file, the JSON Pointer inside it, and
/// what could not be handled, e.g.
/// `schemas/python/db.query.schema.json: /properties/duration/type: unsupported type "decimal"`.
///
/// `Debug` prints the same line, so `.unwrap()`, `.expect(..)` and `?` from
/// a build script's `fn main() -> Result<(), Error>` show one clear line, not
/// a struct dump.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading a schema file or folder, or writing the output, failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A schema file is malformed or uses a construct the generator cannot
    /// handle.
    #[error("{}", display_schema_error(file, pointer, message))]
    Schema {
        /// The schema file, as found under the schema directory.
        file: String,
        /// JSON Pointer of the offending value inside the file (empty for the
        /// whole document).
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// The generator produced code it could not parse back (a bug in the
    /// generator; please report it with the schema that triggered it).
    #[error("internal error: {0}")]
    Internal(String),
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

fn display_schema_error(file: &str, pointer: &str, message: &str) -> String {
    if pointer.is_empty() {
        format!("{file}: {message}")
    } else {
        format!("{file}: {pointer}: {message}")
    }
}

impl Error {
    /// A schema error, its message kept on one line.
    pub(crate) fn schema(file: &str, pointer: &str, message: impl Into<String>) -> Self {
        let message: String = message.into();
        // Keep it on one line whatever the underlying library said.
        let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
        Error::Schema {
            file: file.to_string(),
            pointer: pointer.to_string(),
            message,
        }
    }

    /// A bad [`crate::Config`] setting (reported as file `<config>`).
    pub(crate) fn config(message: String) -> Self {
        Error::Schema {
            file: "<config>".into(),
            pointer: String::new(),
            message,
        }
    }

    /// Reading or writing `path` failed.
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    }
}
