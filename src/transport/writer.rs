//! The writer: the NDJSON lines a backend would receive, to stdout or any
//! `Write`. The default backend when no API key is set.

use std::io::Write;
use std::sync::Mutex;

use super::{BoxFuture, Outcome, SendContext, Sender};
use crate::encode::batch::Batch;
use crate::model::response::DropReason;

/// Writes each batch as NDJSON lines and flushes after each batch, so a
/// file always ends with a whole line.
pub struct WriterSender {
    out: Mutex<Box<dyn Write + Send>>,
    name: &'static str,
}

impl std::fmt::Debug for WriterSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterSender")
            .field("to", &self.name)
            .finish()
    }
}

impl WriterSender {
    /// Writes to standard output.
    pub fn stdout() -> Self {
        WriterSender {
            out: Mutex::new(Box::new(std::io::stdout())),
            name: "stdout",
        }
    }

    /// Writes to any writer (a file, a buffer).
    pub fn new(out: impl Write + Send + 'static) -> Self {
        WriterSender {
            out: Mutex::new(Box::new(out)),
            name: "writer",
        }
    }
}

impl Sender for WriterSender {
    fn name(&self) -> &'static str {
        self.name
    }
    fn send(&self, batch: Batch, _ctx: SendContext) -> BoxFuture<Vec<Outcome>> {
        let n = batch.len();
        let res = {
            let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
            out.write_all(&batch.body()).and_then(|()| out.flush())
        };
        let outcomes = match res {
            Ok(()) => vec![Outcome::ok(None); n],
            Err(e) => vec![
                Outcome::failed(
                    None,
                    DropReason::RetriesExhausted,
                    format!("write failed: {e}")
                );
                n
            ],
        };
        Box::pin(std::future::ready(outcomes))
    }
}
