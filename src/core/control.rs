//! `flush` and `close`: the control messages a caller sends the worker,
//! and the waits on the in-flight table that follow them, under one
//! deadline.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel as channel;

use super::handle::Transmission;
use super::inflight::{deadline_after, FlushOutcome};
use super::stats::Counter;
use super::worker::Control;
use crate::model::response::DropReason;

impl Transmission {
    /// Waits until every event enqueued before the call has a final outcome,
    /// or `deadline`, and reports what was lost since the previous flush or
    /// close. On one of the crate's own threads (a hook, a `Sender`)
    /// it does not wait: the worker is what it would wait for.
    pub(crate) fn flush_until(&self, deadline: Instant) -> FlushOutcome {
        let mut outcome = self.wait_until(deadline);
        outcome.lost = self.shared.take_lost();
        outcome
    }

    /// [`Transmission::flush_until`] without the losses.
    fn wait_until(&self, deadline: Instant) -> FlushOutcome {
        if super::own_thread::is_own() {
            let pending = self.queue_len() as u64 + self.shared.in_flight().events_upto(u64::MAX);
            return FlushOutcome::new(pending == 0, pending);
        }
        let (reply, reply_rx) = channel::bounded(1);
        if self.control.send(Control::Flush { reply }).is_err() {
            let pending = self.queue_len() as u64;
            return FlushOutcome::new(pending == 0, pending);
        }
        let last_batch = match reply_rx.recv_deadline(deadline) {
            Ok(id) => id,
            Err(_) => {
                let pending =
                    self.queue_len() as u64 + self.shared.in_flight().events_upto(u64::MAX);
                return FlushOutcome::new(false, pending.max(1));
            }
        };
        let mut guard = self.shared.in_flight();
        loop {
            let pending = guard.events_upto(last_batch);
            if pending == 0 {
                return FlushOutcome::new(true, 0);
            }
            let now = Instant::now();
            if now >= deadline {
                return FlushOutcome::new(false, pending);
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
    /// stops the worker. Idempotent. On one of the crate's own threads (the
    /// last handle dropped by a hook, say) it only stops accepting events
    /// and asks the worker to stop: waiting there would wait for itself. A
    /// later `close` from another thread then does the rest (waits, counts
    /// what is left, ends the responses stream).
    pub(crate) fn close(&self, timeout: Duration) -> FlushOutcome {
        let deadline = deadline_after(timeout);
        if super::own_thread::is_own() {
            if !self.closed.swap(true, Ordering::AcqRel) {
                self.shared.set_close_deadline(deadline);
                let (reply, _) = channel::bounded(1);
                let _ = self.control.send(Control::Shutdown { deadline, reply });
            }
            let pending = self.queue_len() as u64 + self.shared.in_flight().events_upto(u64::MAX);
            let mut outcome = FlushOutcome::new(pending == 0, pending);
            outcome.lost = self.shared.take_lost();
            return outcome;
        }
        self.closed.store(true, Ordering::Release);
        if self.full_close.swap(true, Ordering::AcqRel) {
            let mut outcome = FlushOutcome::new(true, 0);
            outcome.lost = self.shared.take_lost();
            return outcome;
        }
        self.shared.set_close_deadline(deadline);
        let flushed = self.wait_until(deadline);
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
        // Whatever is left in the slots and the queue now will never be sent.
        let why = "client closed before the event was sent";
        let mut left = 0;
        let mut stranded = Vec::new();
        for pending in self.shared.slots.close() {
            for meta in pending.into_meta() {
                left += 1;
                self.shared.stats.add(Counter::Received, 1);
                stranded.push(meta);
            }
        }
        let rx = self
            .queue_rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(rx) = rx {
            while let Ok(chunk) = rx.try_recv() {
                let n = chunk.events.len as u64;
                left += n;
                self.shared.taken_from_queue.fetch_add(n, Ordering::AcqRel);
                self.shared.stats.add(Counter::Received, n);
                stranded.extend(chunk.events.into_meta());
            }
            // Dropping the receiver releases any caller still waiting for
            // room (it counts its events as closed).
        }
        if !stranded.is_empty() {
            self.shared
                .drop_many(DropReason::Closed, stranded, why, false);
        }
        self.shared.end_responses();
        // The last chance to say what was lost since the last report.
        self.shared.report_due(true);
        FlushOutcome {
            completed: flushed.completed && left == 0,
            pending: flushed.pending + left,
            lost: self.shared.take_lost(),
        }
    }
}
