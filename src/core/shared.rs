//! The state the callers, the worker and the send tasks share: the
//! counters, the in-flight table, the responses stream, the slot registry,
//! and the wake-ups between callers and the worker.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{self as channel, TrySendError};
use serde_json::Value;

use super::fast::slots::{Chunk, Registry, SlotOwner};
use super::inflight::{EventMeta, InFlight};
use super::loss::{Loss, LossLog, Lost};
use super::stats::{Counter, Counters};
use crate::model::response::{DropReason, Response};
use crate::notice;
use crate::transport::Report;

/// State shared by callers, the worker and the send tasks.
pub(crate) struct Shared {
    pub(crate) stats: Counters,
    pub(crate) in_flight: Mutex<InFlight>,
    pub(crate) in_flight_changed: Condvar,
    /// Taken at the end of `close`, so the stream ends for its readers
    /// once they have read what is in it.
    responses: Mutex<Option<channel::Sender<Response>>>,
    pub(crate) responses_rx: channel::Receiver<Response>,
    /// Responses are built only once somebody asked for the stream.
    pub(crate) responses_wanted: AtomicBool,
    pub(crate) block_on_response: bool,
    /// Set when close's deadline passed: the worker stops waiting.
    pub(crate) abort: AtomicBool,
    /// The deadline of a `close` under way: past it, the worker sends
    /// nothing more and counts what is left as dropped.
    pub(crate) close_deadline: Mutex<Option<Instant>>,
    /// What a person is told of events given up on.
    pub(crate) losses: LossLog,
    /// The losses counted when the last `flush` or `close` returned.
    flushed_lost: Mutex<Lost>,
    /// Every thread's send slot.
    pub(crate) slots: Registry,
    /// Events put on the queue (in chunks) by callers, ever.
    pub(crate) handed_off: AtomicU64,
    /// Events the worker took off the queue, ever.
    pub(crate) taken_from_queue: AtomicU64,
    /// The worker is about to park: a send into an empty slot wakes it.
    pub(crate) idle: AtomicBool,
    wake: channel::Sender<()>,
    /// Callers waiting for room on a full queue (`block_on_send`), and what
    /// they wait on: the worker wakes them when the queue is half empty, so
    /// a full queue costs one wake-up per many chunks, not one per chunk.
    pub(crate) room_waiters: AtomicUsize,
    room_lock: Mutex<()>,
    room: Condvar,
    /// Chunks the queue holds when full.
    pub(crate) queue_chunks: usize,
}

impl Shared {
    /// The state of a core whose queue holds `queue_chunks` chunks and
    /// whose responses stream holds `responses` responses; with the
    /// receiving end of the worker's wake-up channel.
    pub(crate) fn new(
        queue_chunks: usize,
        responses: usize,
        block_on_response: bool,
        losses: LossLog,
    ) -> (Self, channel::Receiver<()>) {
        let (wake, wake_rx) = channel::bounded(1);
        let (responses, responses_rx) = channel::bounded(responses);
        let shared = Shared {
            stats: Counters::default(),
            in_flight: Mutex::new(InFlight::default()),
            in_flight_changed: Condvar::new(),
            responses: Mutex::new(Some(responses)),
            responses_rx,
            responses_wanted: AtomicBool::new(false),
            block_on_response,
            abort: AtomicBool::new(false),
            close_deadline: Mutex::new(None),
            losses,
            flushed_lost: Mutex::new(Lost::default()),
            slots: Registry::default(),
            handed_off: AtomicU64::new(0),
            taken_from_queue: AtomicU64::new(0),
            idle: AtomicBool::new(false),
            wake,
            room_waiters: AtomicUsize::new(0),
            room_lock: Mutex::new(()),
            room: Condvar::new(),
            queue_chunks,
        };
        (shared, wake_rx)
    }

    /// Called by the worker after taking chunks off the queue.
    pub(crate) fn room_made(&self, queued_chunks: usize) {
        if self.room_waiters.load(Ordering::SeqCst) > 0 && queued_chunks <= self.queue_chunks / 2 {
            let _g = self.room_lock.lock().unwrap_or_else(|e| e.into_inner());
            self.room.notify_all();
        }
    }

    /// Waits until the queue is at most half full (or a short while, so a
    /// wake-up missed in a race, or a close, costs only that).
    pub(crate) fn wait_for_room(&self, queue: &channel::Sender<Chunk>) {
        let g = self.room_lock.lock().unwrap_or_else(|e| e.into_inner());
        self.room_waiters.fetch_add(1, Ordering::SeqCst);
        if queue.len() > self.queue_chunks / 2 {
            let _ = self
                .room
                .wait_timeout(g, Duration::from_millis(5))
                .unwrap_or_else(|e| e.into_inner());
        }
        self.room_waiters.fetch_sub(1, Ordering::SeqCst);
    }

    /// Wakes the worker if it is parked (or about to park).
    pub(crate) fn wake_worker(&self) {
        if self.idle.load(Ordering::SeqCst) && self.idle.swap(false, Ordering::SeqCst) {
            let _ = self.wake.try_send(());
        }
    }

    /// Events on the queue or in slots: sent, not yet taken by the worker.
    pub(crate) fn queue_len(&self) -> usize {
        let queued = self
            .handed_off
            .load(Ordering::Acquire)
            .saturating_sub(self.taken_from_queue.load(Ordering::Acquire));
        queued as usize + self.slots.pending()
    }

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
        self.respond_all(std::iter::once(r), may_block);
    }

    /// Publishes responses (nothing once the client is closed).
    pub(crate) fn respond_all(&self, rs: impl IntoIterator<Item = Response>, may_block: bool) {
        // A clone, so that a blocking send does not hold the lock.
        let Some(tx) = self
            .responses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        else {
            return;
        };
        for r in rs {
            if self.block_on_response && may_block {
                let _ = tx.send(r);
            } else if let Err(TrySendError::Full(r)) = tx.try_send(r) {
                // Nobody is reading: the oldest response is the least useful.
                let _ = self.responses_rx.try_recv();
                let _ = tx.try_send(r);
            }
        }
    }

    /// Ends the responses stream: readers get what is in it, then the end.
    pub(crate) fn end_responses(&self) {
        self.responses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }

    /// Counts a dropped event, publishes its response (none for sampling),
    /// and tells a person (see [`Shared::report_loss`]).
    pub(crate) fn drop_event(
        &self,
        reason: DropReason,
        metadata: Option<Value>,
        at: SystemTime,
        error: String,
        may_block: bool,
    ) {
        self.count_drop(reason, metadata, at, &error, may_block);
        self.report_loss(&Loss {
            reason,
            events: 1,
            status: None,
            error: Some(&error),
        });
    }

    /// [`Shared::drop_event`] for many events at once: one report for all.
    pub(crate) fn drop_many(
        &self,
        reason: DropReason,
        events: impl IntoIterator<Item = EventMeta>,
        error: &str,
        may_block: bool,
    ) {
        let mut n = 0;
        for (metadata, at) in events {
            n += 1;
            self.count_drop(reason, metadata, at, error, may_block);
        }
        self.report_loss(&Loss {
            reason,
            events: n,
            status: None,
            error: Some(error),
        });
    }

    /// Counts a dropped event and publishes its response (none for
    /// sampling), telling nobody: for drops under a lock, which the next
    /// summary reports.
    fn count_drop(
        &self,
        reason: DropReason,
        metadata: Option<Value>,
        at: SystemTime,
        error: &str,
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
                    error: Some(error.to_owned()),
                    reason: Some(reason),
                },
                may_block,
            );
        }
    }

    /// Tells a person of a loss already counted: its reason's first
    /// warning, or the summary if one is due (see `core::loss`). Call it
    /// with no lock held: the warning may reach a tracing layer that sends.
    pub(crate) fn report_loss(&self, loss: &Loss<'_>) {
        Self::guarded(|| {
            let said = self.losses.record(loss, &self.stats);
            if said.is_none() && self.losses.arm() {
                // Not said yet: the parked worker sets a timer for the
                // summary, so it comes even if nothing else happens.
                self.wake_worker();
            }
            said
        });
    }

    /// The summary of losses not reported yet: if one is due, or `force`
    /// (at close, the last chance).
    pub(crate) fn report_due(&self, force: bool) {
        Self::guarded(|| self.losses.due(Instant::now(), &self.stats, force));
    }

    /// Shows what `say` returns, unless this thread is already showing a
    /// warning of the crate's (a subscriber that sends, and loses that
    /// event, does not make the crate warn inside its own warning).
    fn guarded(say: impl FnOnce() -> Option<String>) {
        thread_local! {
            static WARNING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        }
        if WARNING.try_with(|w| w.replace(true)).unwrap_or(true) {
            return;
        }
        if let Some(text) = say() {
            notice::warn(&text);
        }
        let _ = WARNING.try_with(|w| w.set(false));
    }

    /// The losses since the last call (the previous `flush` or `close`).
    pub(crate) fn take_lost(&self) -> Lost {
        let now = Lost::counted(&self.stats);
        let mut mark = self.flushed_lost.lock().unwrap_or_else(|e| e.into_inner());
        let lost = now.since(&mark);
        *mark = now;
        lost
    }
}

impl SlotOwner for Shared {
    fn registry(&self) -> &Registry {
        &self.slots
    }

    fn wake_worker(&self) {
        Shared::wake_worker(self);
    }

    fn drop_stranded(&self, metadata: Option<Value>, at: SystemTime) {
        // Under the slot's lock: counted, and reported by the next summary.
        self.stats.add(Counter::Received, 1);
        self.count_drop(
            DropReason::Closed,
            metadata,
            at,
            "client closed before the event was sent",
            false,
        );
    }
}

impl Report for Shared {
    fn retry(&self) {
        self.stats.add(Counter::Retried, 1);
    }
}
