//! Generates the typed events from `schemas/` (see `codegen/`).

fn main() {
    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    // The `send()` methods go into a file of their own, included by the
    // client layer (`src/client/typed.rs`): the generated types sit below
    // it and do not depend on it.
    if let Err(e) = insights_events_codegen::Config::new()
        .runtime_path("crate")
        .send_methods_file("insights_events_send.rs", "crate::schema::generated")
        .compile("schemas", out_dir)
    {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    user_agent_parts();
}

/// The rustc version and target, for the `User-Agent` header.
fn user_agent_parts() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.split_whitespace().nth(1).map(str::to_owned))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=INSIGHTS_EVENTS_RUSTC_VERSION={version}");
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=INSIGHTS_EVENTS_TARGET={target}");
}
