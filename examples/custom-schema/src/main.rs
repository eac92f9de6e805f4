//! A crate with event schemas of its own.
//!
//! `schemas/orders/order.placed.schema.json` and
//! `schemas/myapp/signup.completed.schema.json` become `events::orders::OrderPlaced`
//! and `events::myapp::SignupCompleted` (in `src/lib.rs`) through `build.rs`
//! (three lines) and `include_events!()`. The crate depends only on
//! `insights-events` and, for the build, `insights-events-codegen`: no
//! `serde` of its own.
//!
//! ```sh
//! cargo run -p insights-events-example-custom-schema            # sends two events (NDJSON on stdout without a key)
//! cargo run -p insights-events-example-custom-schema -- schemas  # the generated types and their fields
//! ```

use insights_events_example_custom_schema::events;
use insights_events_example_custom_schema::events::myapp::{SignupCompleted, SignupCompletedPlan};
use insights_events_example_custom_schema::events::orders::OrderPlaced;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().nth(1).as_deref() == Some("schemas") {
        for s in events::SCHEMAS {
            println!("{} {} ({})", s.name, s.type_name, s.event_type);
            for f in s.fields {
                println!("  {} {}", f.name, f.rust_type);
            }
        }
        return Ok(());
    }
    // Without HONEYBADGER_API_KEY the client writes NDJSON on stdout.
    let guard = insights_events::init(insights_events::Config::from_env()?)?;
    OrderPlaced::new("o_1001", 3).total(59.9).send()?;
    SignupCompleted::new("u_42", SignupCompletedPlan::Pro)
        .seats(5)
        .send()?;
    drop(guard); // flushes
    Ok(())
}
