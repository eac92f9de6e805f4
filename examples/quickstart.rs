//! Typed events of all five Honeybadger Python types, plus a hand-built event
//! with a builder and a dynamic field, through the global client.
//!
//! With no `HONEYBADGER_API_KEY`, the writer backend prints the NDJSON a
//! backend would receive; with one, the events go to Honeybadger Insights.
//!
//! ```sh
//! cargo run --example quickstart
//! ```

use std::time::Duration;

use insights_events::{
    context, AsgiRequest, Builder, CeleryTaskFinished, Config, DbQuery, DjangoRequest, FlaskRequest,
};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the guard: dropping it (at the end of main) delivers what is queued.
    let _guard = insights_events::init(Config::from_env()?)?;

    let request_id = "1f9f6f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a";
    context::scope(
        [("request_id", json!(request_id))],
        || -> Result<(), insights_events::SendError> {
            // Struct literal with defaults...
            DbQuery {
                query: "SELECT \"users\".* FROM \"users\" WHERE \"users\".\"id\" = %s LIMIT 1"
                    .into(),
                duration: 2.4815,
                params: Some(json!([123])),
                ..Default::default()
            }
            .send()?;
            // ...or `new` with the required fields and chained setters.
            FlaskRequest::new("/users/123", "GET")
                .status(200)
                .view("users.show")
                .blueprint("users")
                .duration(32.1875)
                .send()?;
            DjangoRequest::new("/users/123", "GET")
                .status(200)
                .view("user_detail")
                .duration(58.3214)
                .send()?;
            AsgiRequest::new("/users/123", "GET")
                .status(200)
                .duration(23.4567)
                .send()?;
            CeleryTaskFinished::new(
                "9c5e8a2f-1b3d-4c6e-9f7a-2d4b6c8e0a1f",
                "myapp.tasks.send_email",
                "SUCCESS",
            )
            .retries(0)
            .duration(845.2103)
            .args(vec![json!("user@example.com")])
            .send()?;
            Ok(())
        },
    )?;

    // A hand-built event: builder fields, a dynamic field, event fields.
    let mut builder = Builder::new();
    builder.add_field("service", "quickstart");
    builder.add_dynamic_field("pid", std::process::id);
    let mut event = builder.new_event();
    event
        .add_field("event_type", "cache.miss")
        .add_field("key", "user:123")
        .add_field("duration", 0.31);
    event.send()?;

    if let Some(outcome) = insights_events::flush(Duration::from_secs(10)) {
        eprintln!("flushed: {outcome}"); // "all delivered", or what was lost and why
    }
    if let Some(client) = insights_events::global() {
        eprintln!("{}", client.stats());
    }
    Ok(())
}
