//! A minimal `tracing` subscriber that keeps every event as a line of text,
//! so tests can count warnings and search the logs for secrets.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

#[derive(Clone, Default)]
pub struct Captured {
    lines: Arc<Mutex<Vec<(Level, String)>>>,
}

impl Captured {
    /// Installs it as the global subscriber (one per test binary).
    pub fn install() -> Self {
        let c = Captured::default();
        tracing::subscriber::set_global_default(c.clone())
            .expect("one global subscriber per test binary");
        c
    }

    pub fn lines(&self) -> Vec<(Level, String)> {
        self.lines.lock().unwrap().clone()
    }

    pub fn count(&self, level: Level, needle: &str) -> usize {
        self.lines()
            .iter()
            .filter(|(l, s)| *l == level && s.contains(needle))
            .count()
    }
}

struct Text(String);
impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Captured {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut t = Text(event.metadata().target().to_owned());
        event.record(&mut t);
        self.lines
            .lock()
            .unwrap()
            .push((*event.metadata().level(), t.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}
