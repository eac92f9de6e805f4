//! `insights-events send`: ships NDJSON events through the client.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use insights_events::{Client, Config};

use crate::input::Input;
use insights_events::check::{check_line, Options, Tally};

pub struct SendArgs {
    pub files: Vec<PathBuf>,
    pub opts: Options,
    pub endpoint: Option<String>,
    pub api_key: Option<String>,
    pub dry_run: bool,
    pub timeout: Duration,
}

fn progress_bar(inputs: &[Input]) -> ProgressBar {
    let files: Vec<u64> = inputs.iter().filter_map(Input::len).collect();
    if files.len() != inputs.len() || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(
        Some(files.iter().sum()),
        ProgressDrawTarget::stderr_with_hz(10),
    );
    pb.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb
}

/// Runs `send`; returns the exit code.
pub fn run(args: SendArgs) -> Result<i32, String> {
    let inputs = Input::from_args(&args.files);
    let client = if args.dry_run {
        None
    } else {
        let mut config = Config::from_env().map_err(|e| e.to_string())?;
        if let Some(url) = &args.endpoint {
            match reqwest::Url::parse(url) {
                Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
                _ => {
                    return Err(format!(
                        "invalid --endpoint {url:?}: expected an http:// or https:// URL"
                    ))
                }
            }
            config = config.endpoint(url.trim_end_matches('/'));
        }
        if let Some(key) = &args.api_key {
            config = config.api_key(key);
        }
        config = config.block_on_send(true);
        Some(Client::new(config).map_err(|e| e.to_string())?)
    };

    let pb = progress_bar(&inputs);
    let mut tally = Tally::default();
    let mut send_errors = 0u64;
    let mut done_before = 0u64;
    for input in &inputs {
        let name = input.name();
        let mut last_pos = 0u64;
        input.for_each_line(|line_no, line, read| {
            match check_line(line, args.opts) {
                Ok(ev) => {
                    tally.valid(ev.event_type().unwrap_or("(no event_type)"));
                    if let Some(client) = &client {
                        // Events in a file were sampled when they were recorded.
                        if client.send_presampled(ev.into_event()).is_err() {
                            send_errors += 1;
                        }
                    }
                }
                Err(e) => {
                    tally.invalid(e.event_type.as_deref());
                    pb.suspend(|| eprintln!("{name}:{line_no}: {e}"));
                }
            }
            if read - last_pos > 64 << 10 {
                last_pos = read;
                pb.set_position(done_before + read);
            }
            true
        })?;
        done_before += input.len().unwrap_or(0);
        pb.set_position(done_before);
    }
    pb.finish_and_clear();

    let (valid, invalid) = tally.totals();
    let Some(client) = client else {
        eprintln!("{tally}");
        eprintln!("dry run: {valid} valid events would be sent, {invalid} invalid lines");
        return Ok(if invalid == 0 { 0 } else { 1 });
    };
    let outcome = client.close(args.timeout);
    let stats = client.stats();
    eprintln!(
        "{} via {}; invalid lines {invalid}{}",
        stats,
        client.backend_name(),
        if outcome.completed {
            String::new()
        } else {
            format!(
                "; not completed within {:?}: {} pending",
                args.timeout, outcome.pending
            )
        }
    );
    let lost = stats.failed() + stats.dropped() + send_errors;
    Ok(if lost > 0 || !outcome.completed || invalid > 0 {
        1
    } else {
        0
    })
}
