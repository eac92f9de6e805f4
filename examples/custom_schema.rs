//! A schema of your own becoming a type.
//!
//! `schemas/myapp/signup.completed.schema.json` is an ordinary JSON Schema
//! file in this repository; the build turned it into
//! `insights_events::generated::myapp::SignupCompleted` with no other change
//! (a required enum `plan`, a nullable `referrer`, ...). In your own crate,
//! do the same from your `build.rs`:
//!
//! ```ignore
//! fn main() {
//!     let out = std::env::var("OUT_DIR").unwrap();
//!     if let Err(e) = insights_events_codegen::Config::new().compile("schemas", out) {
//!         eprintln!("error: {e}");
//!         std::process::exit(1);
//!     }
//! }
//! // src/lib.rs: include!(concat!(env!("OUT_DIR"), "/insights_events_generated.rs"));
//! ```
//!
//! ```sh
//! cargo run --example custom_schema
//! cargo run -p insights-events-codegen -- schemas   # read the generated code
//! ```

use insights_events::generated::myapp::SignupCompleted;
use insights_events::{AnyEvent, Config, SCHEMAS};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _guard = insights_events::init(Config::from_env()?)?;

    let info = SCHEMAS
        .iter()
        .find(|s| s.event_type == SignupCompleted::EVENT_TYPE)
        .ok_or("schema missing")?;
    eprintln!("{} ({}): {}", info.type_name, info.event_type, info.title);
    for f in info.fields {
        eprintln!(
            "  {:<10} {:<24} {}",
            f.name,
            f.rust_type,
            if f.required { "required" } else { "optional" }
        );
    }

    // Parsed from JSON (as it would arrive from another service)...
    let json = r#"{"event_type":"signup.completed","user_id":"u-42","plan":"pro","referrer":null}"#;
    let event = match AnyEvent::from_json_str(json)? {
        AnyEvent::SignupCompleted(e) => e,
        other => return Err(format!("unexpected {other:?}").into()),
    };
    // ...and sent like any generated type.
    event.send()?;
    Ok(())
}
