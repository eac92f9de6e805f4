//! An in-memory recorder, for users' own tests: every event the core would
//! have sent, as the JSON a backend would receive.
//!
//! ```
//! use std::time::Duration;
//! use insights_events::{Backend, Client, Config, DbQuery};
//! use insights_events::transmission::MemorySender;
//!
//! let recorder = MemorySender::new();
//! let client = Client::new(Config::new().backend(Backend::Custom(recorder.clone().into()))).unwrap();
//! DbQuery::new("SELECT 1", 0.5).send_with(&client).unwrap();
//! client.flush(Duration::from_secs(5));
//! let events = recorder.events();
//! assert_eq!(events[0].fields["event_type"], "db.query");
//! assert_eq!(events[0].fields["query"], "SELECT 1");
//! ```

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{BoxFuture, Outcome, SendContext, Sender};
use crate::encode::batch::{parse_event, Batch};

/// One recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// The event as the backend would receive it (with `ts`).
    pub fields: Value,
}

#[derive(Default)]
struct Inner {
    events: Mutex<Vec<RecordedEvent>>,
    changed: Condvar,
}

/// Records events in memory. Clones share the same record.
#[derive(Clone, Default)]
pub struct MemorySender {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MemorySender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySender")
            .field("len", &self.len())
            .finish()
    }
}

impl From<MemorySender> for Arc<dyn Sender> {
    fn from(m: MemorySender) -> Self {
        Arc::new(m)
    }
}

impl MemorySender {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RecordedEvent>> {
        self.inner.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of every event recorded so far, in order.
    pub fn events(&self) -> Vec<RecordedEvent> {
        self.lock().clone()
    }

    /// Number of events recorded.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every recorded event.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Waits until at least `n` events are recorded or `timeout` passes;
    /// returns whether they are.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut g = self.lock();
        while g.len() < n {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            g = self
                .inner
                .changed
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

impl Sender for MemorySender {
    fn name(&self) -> &'static str {
        "memory"
    }
    fn send(&self, batch: Batch, _ctx: SendContext) -> BoxFuture<Vec<Outcome>> {
        let n = batch.len();
        self.lock().extend(batch.events().map(|b| RecordedEvent {
            fields: parse_event(b),
        }));
        self.inner.changed.notify_all();
        Box::pin(std::future::ready(vec![Outcome::ok(None); n]))
    }
}
