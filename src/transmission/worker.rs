//! The worker thread: takes events off the queue, runs hooks, filters and
//! checks, serializes them into batches, and hands full (or old enough)
//! batches to the sender runtime, keeping at most `max_in_flight` of them
//! in flight.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{select, Receiver};

use super::batch::{Batch, PushError};
use super::queue::{Control, EventMeta, Queued, Shared};
use super::stats::{Counter, DropReason};
use super::{Outcome, Response, SendContext, Sender};
use crate::config::Config;

pub(crate) struct Worker {
    config: Arc<Config>,
    sender: Arc<dyn Sender>,
    shared: Arc<Shared>,
    queue: Receiver<Queued>,
    control: Receiver<Control>,
    runtime: tokio::runtime::Runtime,
    batch: Batch,
    meta: Vec<EventMeta>,
    batch_started: Option<Instant>,
    batch_size: usize,
    batch_timeout: Duration,
    next_batch_id: u64,
    received: u64,
    hook_panic_warned: bool,
}

impl Worker {
    pub(crate) fn new(
        config: Arc<Config>,
        sender: Arc<dyn Sender>,
        shared: Arc<Shared>,
        queue: Receiver<Queued>,
        control: Receiver<Control>,
    ) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("insights-events-send")
            .enable_all()
            .build()?;
        let batch_size = config.effective_batch_size();
        Ok(Worker {
            batch_size,
            batch_timeout: config.effective_batch_timeout(),
            batch: Batch::new(sender.format()),
            meta: Vec::new(),
            batch_started: None,
            next_batch_id: 1,
            received: 0,
            hook_panic_warned: false,
            config,
            sender,
            shared,
            queue,
            control,
            runtime,
        })
    }

    pub(crate) fn run(mut self) {
        let drop_timeout = self.config.drop_timeout;
        loop {
            let wait = match self.batch_started {
                Some(t) => (t + self.batch_timeout).saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            select! {
                recv(self.queue) -> msg => match msg {
                    Ok(item) => self.process(item),
                    Err(_) => return self.shutdown(Instant::now() + drop_timeout, None),
                },
                recv(self.control) -> msg => match msg {
                    Ok(Control::Flush { target, reply }) => {
                        self.drain(target);
                        self.dispatch();
                        let _ = reply.send(self.next_batch_id - 1);
                    }
                    Ok(Control::Shutdown { deadline, reply }) => return self.shutdown(deadline, Some(reply)),
                    Err(_) => return self.shutdown(Instant::now() + drop_timeout, None),
                },
                default(wait) => self.dispatch(),
            }
        }
    }

    /// Processes queued events until `target` have been received (or the
    /// queue is empty).
    fn drain(&mut self, target: u64) {
        while self.received < target {
            match self.queue.try_recv() {
                Ok(item) => self.process(item),
                Err(_) => break,
            }
        }
    }

    fn shutdown(mut self, deadline: Instant, reply: Option<crossbeam_channel::Sender<()>>) {
        self.shared.set_close_deadline(deadline);
        self.drain(u64::MAX);
        self.dispatch();
        {
            let mut g = self.shared.in_flight();
            while !g.batches.is_empty() && !self.shared.abort.load(Ordering::Acquire) {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                g = self
                    .shared
                    .in_flight_changed
                    .wait_timeout(g, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        self.runtime.shutdown_timeout(Duration::ZERO);
        let left = std::mem::take(&mut self.shared.in_flight().batches);
        for meta in left.into_values() {
            for (metadata, sent_at) in meta {
                self.shared.drop_event(
                    DropReason::Closed,
                    metadata,
                    sent_at,
                    "client closed before the backend answered".into(),
                    false,
                );
            }
        }
        self.shared.in_flight_changed.notify_all();
        if let Some(reply) = reply {
            let _ = reply.send(());
        }
    }

    fn process(&mut self, item: Queued) {
        self.received += 1;
        let Queued { mut event, sent_at } = item;
        let drop = |shared: &Shared, event: crate::Event, reason, error: String| {
            shared.drop_event(reason, event.metadata, sent_at, error, true);
        };

        for hook in &self.config.before_event {
            match catch_unwind(AssertUnwindSafe(|| hook(&mut event))) {
                Ok(true) => {}
                Ok(false) => {
                    return drop(
                        &self.shared,
                        event,
                        DropReason::Hook,
                        "dropped by a before_event hook".into(),
                    )
                }
                Err(_) => {
                    self.shared.stats.add(Counter::HookPanics, 1);
                    if !self.hook_panic_warned {
                        self.hook_panic_warned = true;
                        tracing::warn!("insights-events: a before_event hook panicked; the event was sent as it was (counted in stats.hook_panics; shown once)");
                    }
                }
            }
        }
        self.config.params_filter.apply(&mut event);
        if event.has_own_key("_hb") {
            event.remove("_hb");
        }
        if let Some(reason) = event.invalid.take() {
            return drop(&self.shared, event, DropReason::Invalid, reason);
        }
        if let Some(reason) = self.structural_problem(&mut event) {
            return drop(&self.shared, event, DropReason::Invalid, reason);
        }
        if let Some(field) = event.typed.as_ref().and_then(|t| t.non_finite_field()) {
            let reason =
                format!("field `{field}`: non-finite number cannot be represented in JSON");
            return drop(&self.shared, event, DropReason::Invalid, reason);
        }
        match self
            .batch
            .push(&event, &self.config.fields, self.config.max_event_bytes)
        {
            Ok(()) => {
                self.meta.push((event.metadata, sent_at));
                self.batch_started.get_or_insert_with(Instant::now);
            }
            Err(PushError::TooLarge(n)) => {
                let reason = format!(
                    "event is {n} bytes of JSON, over the limit of {}",
                    self.config.max_event_bytes
                );
                return drop(&self.shared, event, DropReason::TooLarge, reason);
            }
            Err(PushError::Invalid(e)) => return drop(&self.shared, event, DropReason::Invalid, e),
        }
        if self.batch.byte_len() > self.config.batch_max_bytes && self.batch.len() > 1 {
            // The newest event would push the batch over the byte limit:
            // send the others, and start the next batch with it.
            if let (Some(last), Some(last_meta)) = (self.batch.pop_last(), self.meta.pop()) {
                self.dispatch();
                self.batch = last;
                self.meta.push(last_meta);
                self.batch_started = Some(Instant::now());
            }
        }
        if self.batch.len() >= self.batch_size
            || self.batch.byte_len() >= self.config.batch_max_bytes
        {
            self.dispatch();
        }
    }

    /// An empty event, or one nested deeper than receivers can parse.
    fn structural_problem(&self, event: &mut crate::Event) -> Option<String> {
        use crate::json::{deeper_than, MAX_DEPTH};
        let layers_empty =
            event.under.iter().all(|l| l.is_empty()) && self.config.fields.is_empty();
        if event.typed.is_none() && event.fields.is_empty() && layers_empty {
            return Some("empty event: it has no fields".into());
        }
        // Each top-level value sits at depth 2 of the event object.
        let limit = MAX_DEPTH - 1;
        let mut deep = event
            .fields
            .iter()
            .find(|(_, v)| deeper_than(v, limit))
            .map(|(k, _)| k.clone());
        if deep.is_none() {
            if let Some(typed) = event.typed.as_mut() {
                typed.visit_json_fields_mut(&mut |name, field| {
                    use crate::typed::JsonFieldMut;
                    let too_deep = match field {
                        JsonFieldMut::Object(m) => m.values().any(|v| deeper_than(v, limit - 1)),
                        JsonFieldMut::Array(a) => a.iter().any(|v| deeper_than(v, limit - 1)),
                        JsonFieldMut::Value(v) => deeper_than(v, limit),
                    };
                    if too_deep && deep.is_none() {
                        deep = Some(name.to_owned());
                    }
                });
            }
        }
        deep.map(|k| format!("field `{k}` is nested more than {MAX_DEPTH} levels deep"))
    }

    /// Hands the open batch to the sender runtime.
    fn dispatch(&mut self) {
        self.batch_started = None;
        if self.batch.is_empty() {
            return;
        }
        let format = self.batch.format();
        let cap = self.batch.byte_len();
        let batch = std::mem::replace(
            &mut self.batch,
            Batch::with_capacity(format, cap, self.batch_size.min(4096)),
        );
        let meta = std::mem::take(&mut self.meta);
        let id = self.next_batch_id;
        self.next_batch_id += 1;
        {
            let mut g = self.shared.in_flight();
            while g.batches.len() >= self.config.max_in_flight {
                if self.shared.past_close_deadline() {
                    drop(g);
                    for (metadata, sent_at) in meta {
                        let why = "client closed before the event was sent".to_owned();
                        self.shared
                            .drop_event(DropReason::Closed, metadata, sent_at, why, false);
                    }
                    return;
                }
                g = self
                    .shared
                    .in_flight_changed
                    .wait_timeout(g, Duration::from_millis(50))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            g.batches.insert(id, meta);
        }
        let sender = self.sender.clone();
        let shared = self.shared.clone();
        let ctx = SendContext {
            shared: shared.clone(),
        };
        let n = batch.len();
        self.runtime.spawn(async move {
            let outcomes = match tokio::spawn(sender.send(batch, ctx)).await {
                Ok(o) => o,
                Err(e) => {
                    let why = if e.is_panic() {
                        "the sender panicked"
                    } else {
                        "the send was cancelled"
                    };
                    vec![Outcome::failed(None, DropReason::RetriesExhausted, why); n]
                }
            };
            complete(&shared, id, outcomes);
        });
    }
}

/// Records the outcome of a batch: stats, one response per event, and the
/// in-flight bookkeeping that `flush` waits on.
fn complete(shared: &Shared, id: u64, outcomes: Vec<Outcome>) {
    let Some(meta) = shared.in_flight().batches.remove(&id) else {
        return; // already counted as closed
    };
    let mut outcomes = outcomes.into_iter();
    let mut sent = 0;
    for (metadata, sent_at) in meta {
        let o = outcomes.next().unwrap_or_else(|| {
            Outcome::failed(
                None,
                DropReason::Rejected,
                "the sender reported no outcome for this event",
            )
        });
        match o.reason {
            None if o.error.is_none() => sent += 1,
            reason => shared
                .stats
                .drop_event(reason.unwrap_or(DropReason::Rejected), 1),
        }
        shared.respond(
            Response {
                status_code: o.status,
                duration: sent_at.elapsed(),
                metadata,
                error: o.error,
                reason: o.reason,
            },
            true,
        );
    }
    shared.stats.add(Counter::Sent, sent);
    shared.in_flight_changed.notify_all();
}
