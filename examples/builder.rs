//! libhoney's three scopes: client-wide fields, builders (cloned to
//! specialise), and events; plus dynamic fields evaluated per event.
//!
//! ```sh
//! cargo run --example builder
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use insights_events::{Client, Config};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let gauge = in_flight.clone();

    // Global scope: fields and dynamic fields on every event of the client.
    let client = Client::new(
        Config::from_env()?
            .field("service", "checkout")
            .field("hostname", "appserver15")
            .dynamic_field("requests_in_flight", move || gauge.load(Ordering::Relaxed)),
    )?;

    // Builder scope: what a component adds to all of its events.
    let mut http = client.builder();
    http.add_field("component", "http");
    http.add_dynamic_field("pid", std::process::id);

    // A clone inherits fields and dynamic fields, and can specialise.
    let mut payments = http.clone();
    payments.add_field("area", "payments");

    for (i, amount) in [12.5, 99.0, 3.25].into_iter().enumerate() {
        in_flight.fetch_add(1, Ordering::Relaxed);
        // Event scope: fields for this event only; the last value for a key wins.
        let mut ev = payments.new_event();
        ev.add_field("event_type", "payment.captured")
            .add_field("amount", amount)
            .add_field("attempt", i + 1)
            .add_field("area", "payments/capture"); // overrides the builder's value
        ev.set_metadata(format!("payment-{i}")); // comes back on the response, never sent
        ev.send()?;
        in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    let mut ev = http.new_event();
    ev.add(serde_json::json!({"event_type": "http.request", "method": "get", "path": "/health", "duration_ms": 0.4}));
    ev.send()?;

    let outcome = client.close(Duration::from_secs(5));
    eprintln!("closed: {outcome:?}; {}", client.stats());
    Ok(())
}
