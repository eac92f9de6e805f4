//! Prints the Rust code generated from a schema directory.
//!
//! Usage: `insights-events-codegen <schema-dir> [--runtime-path <path>]`

use std::process::exit;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut config = insights_events_codegen::Config::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runtime-path" => match args.next() {
                Some(p) => {
                    config.runtime_path(&p);
                }
                None => usage(),
            },
            "-h" | "--help" => usage(),
            _ if dir.is_none() => dir = Some(arg),
            _ => usage(),
        }
    }
    let Some(dir) = dir else { usage() };
    match config.generate(&dir) {
        Ok(source) => print!("{source}"),
        Err(e) => {
            eprintln!("error: {e}");
            exit(1);
        }
    }
}

fn usage() -> ! {
    eprintln!("usage: insights-events-codegen <schema-dir> [--runtime-path <path>]");
    exit(2);
}
