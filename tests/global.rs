//! The global client: `send()` without a client, `init`, and the guard that
//! delivers on the way out. One test: the global client is process-wide.

mod common;

use std::time::Duration;

use common::{Reply, TestServer};
use insights_events::{init, Config, DbQuery, Event, SendError};

#[test]
fn global_client_lifecycle() {
    // No global client: an error that says so, never a panic.
    let err = DbQuery::new("SELECT 1", 1.0).send().unwrap_err();
    assert_eq!(err, SendError::NoGlobalClient);
    assert!(err.to_string().contains("insights_events::init"));
    assert_eq!(Event::new().send(), Err(SendError::NoGlobalClient));
    assert!(insights_events::flush(Duration::from_secs(1)).is_none());

    let server = TestServer::start(Reply::Status(201));
    let config = Config::new()
        .api_key("k")
        .endpoint(server.url.clone())
        .batch_timeout(Duration::from_secs(3600));
    let guard = init(config).unwrap();
    assert_eq!(
        insights_events::global().unwrap().backend_name(),
        "honeybadger"
    );
    DbQuery::new("SELECT 1", 1.0).send().unwrap();
    let mut ev = Event::new();
    ev.add_field("event_type", "custom.thing");
    ev.send().unwrap();
    // Dropping the guard closes the global client: the batch (which would
    // otherwise wait an hour) is delivered.
    drop(guard);
    let got: Vec<_> = server
        .accepted_events()
        .iter()
        .map(|e| e["event_type"].clone())
        .collect();
    assert_eq!(got, vec!["db.query", "custom.thing"]);
    assert_eq!(
        DbQuery::new("SELECT 2", 1.0).send(),
        Err(SendError::NoGlobalClient)
    );
}
