//! `insights-events`: validate, send and receive Insights events, and keep
//! the schemas up to date.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use insights_events::loaded::LoadedSchemas;

mod input;
mod receive;
mod schemas;
mod send;
mod validate;

#[derive(Debug, Parser)]
#[command(
    name = "insights-events",
    version,
    about = "Validate, send and receive Honeybadger Insights / Honeycomb events",
    after_help = "Examples:\n  insights-events validate events.ndjson\n  \
                  insights-events send events.ndjson\n  \
                  insights-events receive --port 8080 --out received.ndjson\n  \
                  insights-events schemas list"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check NDJSON events (one JSON object per line) against the schemas.
    ///
    /// Prints `FILE:LINE: FIELD: REASON` for each invalid line on stdout and
    /// a summary per event type on stderr. Exits 0 only when every line is
    /// valid, 1 when some are not, 2 on other errors.
    #[command(
        after_help = "Examples:\n  insights-events validate events.ndjson more.ndjson\n  \
                            gunzip -c events.ndjson.gz | insights-events validate -\n  \
                            insights-events validate --allow-unknown events.ndjson\n  \
                            insights-events validate --schemas my-schemas events.ndjson\n  \
                            insights-events validate --schemas catalog/honeybadger-elixir --type honeybadger-elixir/ecto.query ecto.ndjson"
    )]
    Validate {
        /// NDJSON files (`-` or nothing: stdin).
        files: Vec<PathBuf>,
        #[command(flatten)]
        check: CheckArgs,
        #[command(flatten)]
        schemas: SchemaArgs,
        /// Check every line as this schema (`folder/file`: `python/db.query`
        /// as in `schemas list`, or `honeybadger-elixir/ecto.query` from
        /// `--schemas`), whatever its `event_type`: for schemas that leave
        /// the event type to the sender.
        #[arg(long = "type", value_name = "SCHEMA")]
        as_type: Option<String>,
        /// Do not print the summary.
        #[arg(short, long)]
        quiet: bool,
        /// Worker threads (0: one per CPU).
        #[arg(short, long, default_value_t = 0)]
        jobs: usize,
    },
    /// Send NDJSON events through the client (configured from the environment).
    ///
    /// Uses HONEYBADGER_API_KEY / HONEYBADGER_ENDPOINT / HONEYCOMB_* like the
    /// library; with no key, the events are written to stdout. Invalid lines
    /// are reported and not sent. Exits non-zero when any event was not
    /// delivered.
    #[command(
        after_help = "Examples:\n  HONEYBADGER_API_KEY=hbp_xxx insights-events send events.ndjson\n  \
                            insights-events send --endpoint http://127.0.0.1:8080 --api-key test events.ndjson\n  \
                            insights-events send --dry-run events.ndjson"
    )]
    Send {
        /// NDJSON files (`-` or nothing: stdin).
        files: Vec<PathBuf>,
        #[command(flatten)]
        check: CheckArgs,
        /// Honeybadger endpoint (overrides HONEYBADGER_ENDPOINT).
        #[arg(long, value_name = "URL")]
        endpoint: Option<String>,
        /// Honeybadger API key (overrides HONEYBADGER_API_KEY).
        #[arg(long, value_name = "KEY")]
        api_key: Option<String>,
        /// Only validate: send nothing.
        #[arg(long)]
        dry_run: bool,
        /// How long to wait for delivery at the end, in seconds.
        #[arg(long, default_value_t = 30.0, value_name = "SECS")]
        timeout: f64,
    },
    /// Run a local receiver, compatible with Honeybadger Insights and Honeycomb.
    ///
    /// `POST /v1/events` (NDJSON, X-API-Key) and `POST /1/batch/DATASET`
    /// (Honeycomb JSON array). Every event is validated and printed on one
    /// line; `--out` appends the raw events as NDJSON. Ctrl-C (or SIGTERM)
    /// stops it, with a summary: events received, valid, invalid, of an
    /// unknown event type, and the counts per event type.
    #[command(
        after_help = "Examples:\n  insights-events receive --port 8080 --out received.ndjson\n  \
                            insights-events receive --port 8080 --schemas my-schemas\n  \
                            HONEYBADGER_ENDPOINT=http://127.0.0.1:8080 HONEYBADGER_API_KEY=test python app.py"
    )]
    Receive {
        /// Port to listen on (0: any free port).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        bind: IpAddr,
        /// Append every received event (one JSON per line) to this file.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        check: CheckArgs,
        #[command(flatten)]
        schemas: SchemaArgs,
    },
    /// List or update the event schemas.
    #[command(subcommand)]
    Schemas(SchemasCommand),
}

#[derive(Debug, Subcommand)]
enum SchemasCommand {
    /// List every known event type with its fields.
    #[command(after_help = "Example:\n  insights-events schemas list")]
    List,
    /// Download the Honeybadger Python schemas and update the local copies.
    #[command(after_help = "Examples:\n  insights-events schemas update --check\n  \
                            insights-events schemas update --from http://127.0.0.1:8000/python/ --dir schemas/python")]
    Update {
        /// Base URL; `<URL>/<event_type>.schema.json` is fetched.
        #[arg(long, value_name = "URL", default_value = schemas::DEFAULT_BASE)]
        from: String,
        /// Folder holding the local copies.
        #[arg(long, value_name = "DIR", default_value = "schemas/python")]
        dir: PathBuf,
        /// Change nothing; exit 1 when the local copies differ.
        #[arg(long)]
        check: bool,
        /// Request timeout, in seconds.
        #[arg(long, default_value_t = 30.0, value_name = "SECS")]
        timeout: f64,
    },
}

#[derive(Debug, Args, Clone, Copy)]
struct CheckArgs {
    /// Accept event types that no schema describes.
    #[arg(long)]
    allow_unknown: bool,
}

#[derive(Debug, Args, Clone)]
struct SchemaArgs {
    /// Your own event schemas, checked with the built-in ones (and before
    /// them, for the same event type): a folder of JSON Schema files
    /// (`*.json`), or a folder of such folders. Repeatable.
    #[arg(long = "schemas", value_name = "DIR")]
    dirs: Vec<PathBuf>,
}

impl SchemaArgs {
    /// Loads the folders, saying on stderr what was loaded.
    fn load(&self) -> Result<LoadedSchemas, String> {
        if self.dirs.is_empty() {
            return Ok(LoadedSchemas::new());
        }
        let loaded = LoadedSchemas::load(&self.dirs).map_err(|e| format!("--schemas: {e}"))?;
        for w in loaded.warnings() {
            eprintln!("insights-events: {w}");
        }
        let dirs: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
        let replaced = loaded.replaced();
        eprintln!(
            "insights-events: loaded {} schema{} from {}{}",
            loaded.schemas().len(),
            if loaded.schemas().len() == 1 { "" } else { "s" },
            dirs.join(", "),
            if replaced.is_empty() {
                String::new()
            } else {
                format!(
                    "; they replace the built-in {} (same event type)",
                    replaced.join(", ")
                )
            }
        );
        Ok(loaded)
    }
}

impl From<CheckArgs> for insights_events::check::Options {
    fn from(a: CheckArgs) -> Self {
        insights_events::check::Options {
            allow_unknown: a.allow_unknown,
        }
    }
}

fn secs(name: &str, s: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| format!("invalid --{name} {s}: expected seconds >= 0"))
}

fn run(cli: Cli) -> Result<i32, String> {
    match cli.command {
        Command::Validate {
            files,
            check,
            schemas,
            as_type,
            quiet,
            jobs,
        } => {
            let loaded = schemas.load()?;
            let as_type = match as_type {
                None => None,
                Some(name) => Some(
                    loaded
                        .find(&name)
                        .map(|s| s.name().to_owned())
                        .or_else(|| {
                            insights_events::check::find_schema(&name).map(|s| s.name.to_owned())
                        })
                        .ok_or_else(|| {
                            format!(
                                "no schema is called {name:?}; the schemas are: {}",
                                loaded.all_names().join(", ")
                            )
                        })?,
                ),
            };
            validate::run(
                &files,
                check.into(),
                &loaded,
                as_type.as_deref(),
                quiet,
                jobs,
            )
        }
        Command::Send {
            files,
            check,
            endpoint,
            api_key,
            dry_run,
            timeout,
        } => send::run(send::SendArgs {
            files,
            opts: check.into(),
            endpoint,
            api_key,
            dry_run,
            timeout: secs("timeout", timeout)?,
        }),
        Command::Receive {
            port,
            bind,
            out,
            check,
            schemas,
        } => receive::run(bind, port, out, check.into(), schemas.load()?),
        Command::Schemas(SchemasCommand::List) => schemas::list(),
        Command::Schemas(SchemasCommand::Update {
            from,
            dir,
            check,
            timeout,
        }) => schemas::update(&from, &dir, check, secs("timeout", timeout)?),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("insights-events: error: {e}");
            ExitCode::from(2)
        }
    }
}
