//! The bounded queue between callers and the worker, and the bookkeeping
//! that lets `flush` and `close` know when the events before them are done.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{self as channel, TrySendError};
use serde_json::Value;

use super::stats::{Counter, Counters, DropReason};
use super::worker::Worker;
use super::{FlushOutcome, Response, Sender};
use crate::config::Config;
use crate::event::Event;

/// Messages from callers to the worker.
pub(crate) enum Control {
    /// Process every event queued now, send the open batch, and reply with
    /// the id of the last batch that holds them.
    Flush { reply: channel::Sender<u64> },
    /// Flush, then stop: wait for batches in flight until `deadline`, count
    /// the rest as dropped, and reply.
    Shutdown {
        deadline: Instant,
        reply: channel::Sender<()>,
    },
}

/// Per event of a batch: its metadata and timestamp (for the response).
pub(crate) type EventMeta = (Option<Value>, SystemTime);

/// Batches handed to the sender and not finished yet, by id.
#[derive(Default)]
pub(crate) struct InFlight {
    pub(crate) batches: BTreeMap<u64, Vec<EventMeta>>,
}

impl InFlight {
    pub(crate) fn events_upto(&self, last: u64) -> u64 {
        self.batches
            .range(..=last)
            .map(|(_, m)| m.len() as u64)
            .sum()
    }
}

/// State shared by callers, the worker and the send tasks.
pub(crate) struct Shared {
    pub(crate) stats: Counters,
    pub(crate) in_flight: Mutex<InFlight>,
    pub(crate) in_flight_changed: Condvar,
    pub(crate) responses: channel::Sender<Response>,
    pub(crate) responses_rx: channel::Receiver<Response>,
    /// Responses are built only once somebody asked for the stream.
    pub(crate) responses_wanted: AtomicBool,
    pub(crate) block_on_response: bool,
    /// Set when close's deadline passed: the worker stops waiting.
    pub(crate) abort: AtomicBool,
    /// The deadline of a `close` under way: past it, the worker sends
    /// nothing more and counts what is left as dropped.
    pub(crate) close_deadline: Mutex<Option<Instant>>,
    overflow_warned: AtomicBool,
}

impl Shared {
    pub(crate) fn set_close_deadline(&self, deadline: Instant) {
        *self
            .close_deadline
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(deadline);
    }

    /// Whether a `close` is under way and its deadline has passed.
    pub(crate) fn past_close_deadline(&self) -> bool {
        self.abort.load(Ordering::Acquire)
            || self
                .close_deadline
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some_and(|d| Instant::now() >= d)
    }

    pub(crate) fn in_flight(&self) -> MutexGuard<'_, InFlight> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn wants_responses(&self) -> bool {
        self.responses_wanted.load(Ordering::Relaxed)
    }

    /// Publishes one response; never stalls the core unless the user chose
    /// `block_on_response`.
    pub(crate) fn respond(&self, r: Response, may_block: bool) {
        if self.block_on_response && may_block {
            let _ = self.responses.send(r);
        } else if let Err(TrySendError::Full(r)) = self.responses.try_send(r) {
            // Nobody is reading: the oldest response is the least useful.
            let _ = self.responses_rx.try_recv();
            let _ = self.responses.try_send(r);
        }
    }

    /// Counts a dropped event and reports it (no response for sampling).
    pub(crate) fn drop_event(
        &self,
        reason: DropReason,
        metadata: Option<Value>,
        at: SystemTime,
        error: String,
        may_block: bool,
    ) {
        self.stats.drop_event(reason, 1);
        if reason != DropReason::Sampled && self.wants_responses() {
            let duration = SystemTime::now().duration_since(at).unwrap_or_default();
            self.respond(
                Response {
                    status_code: None,
                    duration,
                    metadata,
                    error: Some(error),
                    reason: Some(reason),
                },
                may_block,
            );
        }
    }
}

/// The caller's side of the core.
pub(crate) struct Transmission {
    queue: channel::Sender<Event>,
    queue_rx: channel::Receiver<Event>,
    control: channel::Sender<Control>,
    pub(crate) shared: Arc<Shared>,
    block_on_send: bool,
    closed: AtomicBool,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Transmission {
    pub(crate) fn start(config: Arc<Config>, sender: Arc<dyn Sender>) -> std::io::Result<Self> {
        let (queue, queue_rx) = channel::bounded(config.max_queue_size);
        let (control, control_rx) = channel::unbounded();
        let (responses, responses_rx) = channel::bounded(config.response_queue_size);
        let shared = Arc::new(Shared {
            stats: Counters::default(),
            in_flight: Mutex::new(InFlight::default()),
            in_flight_changed: Condvar::new(),
            responses,
            responses_rx,
            responses_wanted: AtomicBool::new(false),
            block_on_response: config.block_on_response,
            abort: AtomicBool::new(false),
            close_deadline: Mutex::new(None),
            overflow_warned: AtomicBool::new(false),
        });
        let worker = Worker::new(
            config.clone(),
            sender,
            shared.clone(),
            queue_rx.clone(),
            control_rx,
        )?;
        let handle = std::thread::Builder::new()
            .name("insights-events".into())
            // Dropping a deeply nested value (rejected as too deep) recurses.
            .stack_size(8 * 1024 * 1024)
            .spawn(move || worker.run())?;
        Ok(Transmission {
            queue,
            queue_rx,
            control,
            shared,
            block_on_send: config.block_on_send,
            closed: AtomicBool::new(false),
            worker: Mutex::new(Some(handle)),
        })
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn queue_len(&self) -> usize {
        self.queue_rx.len()
    }

    /// Puts an event on the queue. Never blocks unless `block_on_send`.
    /// Touches no shared counter on success.
    pub(crate) fn enqueue(&self, event: Event) -> Result<(), crate::SendError> {
        let res = if self.block_on_send {
            self.queue
                .send(event)
                .map_err(|e| TrySendError::Disconnected(e.0))
        } else {
            self.queue.try_send(event)
        };
        match res {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(event)) => {
                if !self.shared.overflow_warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        capacity = self.queue.capacity().unwrap_or(0),
                        "insights-events: queue full, dropping events (counted in stats.dropped_overflow; this warning is shown once)"
                    );
                }
                let at = event.timestamp;
                self.shared.drop_event(
                    DropReason::Overflow,
                    event.metadata,
                    at,
                    "queue full: event dropped".into(),
                    false,
                );
                Err(crate::SendError::QueueFull)
            }
            Err(TrySendError::Disconnected(event)) => {
                self.reject_closed(event);
                Err(crate::SendError::Closed)
            }
        }
    }

    /// Counts an event refused because the client is closed.
    pub(crate) fn reject_closed(&self, event: Event) {
        self.shared.stats.add(Counter::ClosedUnqueued, 1);
        let at = event.timestamp;
        self.shared.drop_event(
            DropReason::Closed,
            event.metadata,
            at,
            "client closed".into(),
            false,
        );
    }

    /// Waits until every event enqueued before the call has a final outcome,
    /// or `deadline`.
    pub(crate) fn flush_until(&self, deadline: Instant) -> FlushOutcome {
        let (reply, reply_rx) = channel::bounded(1);
        if self.control.send(Control::Flush { reply }).is_err() {
            return FlushOutcome {
                completed: self.queue_len() == 0,
                pending: self.queue_len() as u64,
            };
        }
        let last_batch = match reply_rx.recv_deadline(deadline) {
            Ok(id) => id,
            Err(_) => {
                let pending =
                    self.queue_len() as u64 + self.shared.in_flight().events_upto(u64::MAX);
                return FlushOutcome {
                    completed: false,
                    pending: pending.max(1),
                };
            }
        };
        let mut guard = self.shared.in_flight();
        loop {
            let pending = guard.events_upto(last_batch);
            if pending == 0 {
                return FlushOutcome {
                    completed: true,
                    pending: 0,
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return FlushOutcome {
                    completed: false,
                    pending,
                };
            }
            guard = self
                .shared
                .in_flight_changed
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Stops accepting events, delivers what it can before `timeout`, and
    /// stops the worker. Idempotent.
    pub(crate) fn close(&self, timeout: Duration) -> FlushOutcome {
        let deadline = Instant::now() + timeout;
        if self.closed.swap(true, Ordering::AcqRel) {
            return FlushOutcome {
                completed: true,
                pending: 0,
            };
        }
        self.shared.set_close_deadline(deadline);
        let flushed = self.flush_until(deadline);
        let (reply, reply_rx) = channel::bounded(1);
        let _ = self.control.send(Control::Shutdown { deadline, reply });
        let stopped = reply_rx
            .recv_deadline(deadline + Duration::from_secs(1))
            .is_ok();
        if !stopped {
            self.shared.abort.store(true, Ordering::Release);
            self.shared.in_flight_changed.notify_all();
        }
        let handle = self.worker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if stopped {
            if let Some(h) = handle {
                let _ = h.join();
            }
        }
        // Whatever is left in the queue now will never be sent.
        let mut left = 0;
        while let Ok(event) = self.queue_rx.try_recv() {
            left += 1;
            self.shared.stats.add(Counter::Received, 1);
            let at = event.timestamp;
            let why = "client closed before the event was sent".to_owned();
            self.shared
                .drop_event(DropReason::Closed, event.metadata, at, why, false);
        }
        FlushOutcome {
            completed: flushed.completed && left == 0,
            pending: flushed.pending + left,
        }
    }
}
