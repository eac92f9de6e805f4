//! Sending to Honeycomb: typed and hand-built events through the batch API,
//! with libhoney's 1-in-N sampling and per-event responses.
//!
//! ```sh
//! HONEYCOMB_API_KEY=... HONEYCOMB_DATASET=my-service cargo run --example honeycomb
//! # without a key, the events are printed as NDJSON instead
//! ```

use std::time::Duration;

use insights_events::{Client, Config, DbQuery};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One in N events is kept; Honeycomb receives N as `samplerate` and weights
    // the event accordingly (`Event::set_sample_rate` overrides it per event).
    let client = Client::new(Config::from_env()?.honeycomb_sample_rate(1))?;
    eprintln!("backend: {}", client.backend_name());
    let responses = client.responses();

    DbQuery::new("SELECT * FROM orders WHERE id = $1", 1.7)
        .request_id("r-1")
        .send_with(&client)?;

    let mut ev = client.new_event();
    ev.add_field("name", "cache.lookup")
        .add_field("hit", true)
        .add_field("duration_ms", 0.2);
    ev.set_metadata("lookup-1");
    ev.send()?;

    client.flush(Duration::from_secs(10));
    for r in responses.try_iter() {
        eprintln!(
            "response: status {:?} metadata {:?} error {:?}",
            r.status_code, r.metadata, r.error
        );
    }
    Ok(())
}
