//! The worker thread: takes events off the queue in bursts, runs hooks,
//! filters and checks, serializes them into batches, and hands full (or old
//! enough) batches to the sender runtime, keeping at most `max_in_flight` of
//! them in flight. What happens to each event (hooks, filters, checks) is
//! decided by [`Policy::prepare`](crate::pipeline::prepare::Policy::prepare);
//! the worker carries it out.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{self as channel, select, Receiver, TryRecvError};
use serde_json::Value;

use super::fast::slots::{Chunk, SPOOL_RECHECK};
use super::inflight::EventMeta;
use super::loss::Loss;
use super::settings::CoreSettings;
use super::shared::Shared;
use super::stats::Counter;
use crate::encode::batch::{BatchBuilder, PushError, BODY_GRAIN};
use crate::encode::packed::{self, Packed, Record};
use crate::model::event::Event;
use crate::model::response::{DropReason, Response};
use crate::transport::{Outcome, SendContext, Sender};

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

/// Events processed between two looks at the control channel.
const BURST: usize = 256;

/// How long the worker lets events gather when it finds the queue empty
/// right after a burst.
const LINGER: Duration = Duration::from_micros(200);

pub(crate) struct Worker {
    config: CoreSettings,
    sender: Arc<dyn Sender>,
    shared: Arc<Shared>,
    queue: Receiver<Chunk>,
    control: Receiver<Control>,
    wake: Receiver<()>,
    runtime: tokio::runtime::Runtime,
    batch: BatchBuilder,
    meta: Vec<EventMeta>,
    batch_started: Option<Instant>,
    next_batch_id: u64,
    hook_panic_warned: bool,
    /// A thread held a spool at the last look at the slots.
    spools: bool,
}

impl Worker {
    pub(crate) fn new(
        config: CoreSettings,
        sender: Arc<dyn Sender>,
        shared: Arc<Shared>,
        queue: Receiver<Chunk>,
        control: Receiver<Control>,
        wake: Receiver<()>,
    ) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("insights-events-send")
            .on_thread_start(super::own_thread::mark)
            .enable_all()
            .build()?;
        Ok(Worker {
            batch: BatchBuilder::new(sender.format()),
            meta: Vec::with_capacity(config.batch_size.min(4096)),
            batch_started: None,
            next_batch_id: 1,
            hook_panic_warned: false,
            spools: false,
            config,
            sender,
            shared,
            queue,
            control,
            wake,
            runtime,
        })
    }

    pub(crate) fn run(mut self) {
        super::own_thread::mark();
        let drop_timeout = self.config.drop_timeout;
        loop {
            // A burst: take what is queued without waiting, looking at the
            // control channel now and then so a flush is never starved.
            let mut taken = 0;
            loop {
                match self.queue.try_recv() {
                    Ok(chunk) => {
                        taken += self.take_chunk(chunk, true);
                        if taken >= BURST && !self.control.is_empty() {
                            break;
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        return self.shutdown(Instant::now() + drop_timeout, None)
                    }
                }
            }
            if let Ok(msg) = self.control.try_recv() {
                if let Some(reply) = self.control_message(msg) {
                    return self.shutdown(reply.0, Some(reply.1));
                }
                continue;
            }
            if taken == 0 {
                // The queue is empty: take the partial chunks threads hold.
                taken = self.collect_slots().0;
            }
            if taken > 0 {
                // Under load: instead of parking on the channel (which makes
                // every send() pay for a wake-up), let events gather for a
                // moment. Idle, the worker parks below.
                if self
                    .batch_started
                    .is_some_and(|t| t.elapsed() >= self.config.batch_timeout)
                {
                    self.dispatch();
                }
                std::thread::sleep(LINGER);
                continue;
            }
            let wait = match self.batch_started {
                Some(t) => {
                    let wait =
                        (t + self.config.batch_timeout).saturating_duration_since(Instant::now());
                    if wait.is_zero() {
                        self.dispatch();
                        continue;
                    }
                    wait
                }
                None => Duration::from_secs(3600),
            };
            // A spool append does not take the slot's lock, so it can miss
            // this park: look again after a while (see `core::fast::slots`).
            let wait = if self.spools {
                wait.min(SPOOL_RECHECK)
            } else {
                wait
            };
            // Park. A send into an empty slot after this store sees it and
            // wakes the worker; a send before it is found by the look below.
            self.shared.slots.release_spent();
            self.shared.idle.store(true, Ordering::SeqCst);
            if self.collect_slots().0 > 0 {
                self.shared.idle.store(false, Ordering::SeqCst);
                continue;
            }
            // Losses not reported yet are summarised when their summary is
            // due, even if nothing happens after them: a loss after the
            // disarm wakes the worker, one before it is seen here.
            self.shared.losses.disarm();
            self.shared.report_due(false);
            let wait = match self
                .shared
                .losses
                .next_due(Instant::now(), &self.shared.stats)
            {
                Some(due) => wait.min(due.max(Duration::from_millis(1))),
                None => wait,
            };
            select! {
                recv(self.queue) -> msg => match msg {
                    Ok(chunk) => { self.take_chunk(chunk, true); }
                    Err(_) => return self.shutdown(Instant::now() + drop_timeout, None),
                },
                recv(self.control) -> msg => match msg {
                    Ok(msg) => if let Some((deadline, reply)) = self.control_message(msg) {
                        return self.shutdown(deadline, Some(reply));
                    },
                    Err(_) => return self.shutdown(Instant::now() + drop_timeout, None),
                },
                recv(self.wake) -> _ => {}
                // The loop dispatches the batch if its time has come.
                default(wait) => {}
            }
            self.shared.idle.store(false, Ordering::SeqCst);
        }
    }

    /// Handles a flush; returns the shutdown request, if that is what came.
    fn control_message(
        &mut self,
        msg: Control,
    ) -> Option<(Instant, crossbeam_channel::Sender<()>)> {
        match msg {
            Control::Flush { reply } => {
                // Everything sent before the flush is queued or in a slot.
                self.take_everything();
                self.dispatch();
                let _ = reply.send(self.next_batch_id - 1);
                None
            }
            Control::Shutdown { deadline, reply } => Some((deadline, reply)),
        }
    }

    /// Processes a chunk and gives its events back to the thread that sent
    /// them (to be freed there). Returns the number of events.
    fn take_chunk(&mut self, chunk: Chunk, from_queue: bool) -> usize {
        let Chunk { mut events, from } = chunk;
        let n = events.len;
        if from_queue {
            self.shared
                .taken_from_queue
                .fetch_add(n as u64, Ordering::AcqRel);
            self.shared.room_made(self.queue.len());
        }
        self.shared.stats.add(Counter::Received, n as u64);
        if events.packed.is_empty() {
            for event in &mut events.events {
                self.process(event);
            }
        } else {
            let mut unpacked = events.events.iter_mut();
            for record in packed::records(&events.packed) {
                match record {
                    Record::Ref => {
                        if let Some(event) = unpacked.next() {
                            self.process(event);
                        }
                    }
                    Record::Packed(p) => self.process_packed(&p),
                }
            }
        }
        let left = match from {
            Some(slot) => slot.give_back(events, from_queue),
            None => Some(events),
        };
        drop(left);
        n
    }

    /// Takes the pending events of every slot whose earlier chunks are all
    /// processed. Returns the events taken, and whether a slot had to be
    /// skipped (it has chunks on the queue still).
    fn collect_slots(&mut self) -> (usize, bool) {
        let mut taken = 0;
        let mut skipped = false;
        let mut spools = false;
        for slot in self.shared.slots.slots() {
            let events = {
                let mut st = slot.lock();
                spools |= st.has_spool() && !st.owner_gone;
                if !slot.holds(&st) {
                    continue;
                }
                if st.in_queue > 0 {
                    skipped = true;
                    continue;
                }
                slot.take_all(&mut st)
            };
            taken += self.take_chunk(
                Chunk {
                    events,
                    from: Some(slot),
                },
                false,
            );
        }
        self.spools = spools;
        (taken, skipped)
    }

    /// Processes every event sent so far: the queue up to what callers have
    /// put on it, then the slots, until neither has anything older.
    fn take_everything(&mut self) {
        for _ in 0..16 {
            let target = self.shared.handed_off.load(Ordering::Acquire);
            let mut quiet = Instant::now();
            while self.shared.taken_from_queue.load(Ordering::Acquire) < target {
                match self.queue.recv_timeout(Duration::from_millis(50)) {
                    Ok(chunk) => {
                        self.take_chunk(chunk, true);
                        quiet = Instant::now();
                    }
                    // A chunk counted but not yet sent (its thread waits for
                    // room): give up only if nothing comes for long.
                    Err(_) if quiet.elapsed() < Duration::from_secs(1) => {
                        if self.shared.past_close_deadline() {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
            let (_, skipped) = self.collect_slots();
            if !skipped && self.shared.handed_off.load(Ordering::Acquire) == target {
                return;
            }
        }
    }

    fn shutdown(mut self, deadline: Instant, reply: Option<crossbeam_channel::Sender<()>>) {
        self.shared.set_close_deadline(deadline);
        self.take_everything();
        while let Ok(chunk) = self.queue.try_recv() {
            self.take_chunk(chunk, true);
        }
        self.dispatch();
        {
            let mut g = self.shared.in_flight();
            while !g.is_empty() && !self.shared.abort.load(std::sync::atomic::Ordering::Acquire) {
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
        self.shared.drop_many(
            DropReason::Closed,
            left.into_values().flatten(),
            "client closed before the backend answered",
            false,
        );
        self.shared.in_flight_changed.notify_all();
        if let Some(reply) = reply {
            let _ = reply.send(());
        }
    }

    /// Checks and encodes one event. The event stays where it is (its memory
    /// goes back to the thread that sent it); its metadata moves out.
    fn process(&mut self, event: &mut Event) {
        let drop = |shared: &Shared, event: &mut Event, reason, error: String| {
            shared.drop_event(reason, event.take_metadata(), event.timestamp, error, true);
        };
        let shared = &self.shared;
        let warned = &mut self.hook_panic_warned;
        let prepared = self.config.policy.prepare(event, || {
            shared.stats.add(Counter::HookPanics, 1);
            if !*warned {
                *warned = true;
                crate::notice::warn("insights-events: a before_event hook panicked; the event was sent as it was (counted in stats.hook_panics; shown once)");
            }
        });
        if let Err(rejected) = prepared {
            return drop(&self.shared, event, rejected.reason, rejected.error);
        }
        let pushed = self.batch.push(
            event,
            &self.config.policy.fields,
            self.config.max_event_bytes,
        );
        let at = event.timestamp;
        self.pushed(pushed, event.take_metadata(), at);
    }

    /// Checks and encodes one packed event. The checks that need the
    /// struct ran on the sending thread (see `Client::send_typed`).
    fn process_packed(&mut self, p: &Packed<'_>) {
        let pushed =
            self.batch
                .push_packed(p, &self.config.policy.fields, self.config.max_event_bytes);
        self.pushed(pushed, None, p.head.at());
    }

    /// Records an event's place in the batch (or why it has none), and
    /// sends the batch when it is full.
    fn pushed(&mut self, pushed: Result<(), PushError>, metadata: Option<Value>, at: SystemTime) {
        match pushed {
            Ok(()) => {
                self.meta.push((metadata, at));
                if self.batch_started.is_none() {
                    self.batch_started = Some(Instant::now());
                }
            }
            Err(PushError::TooLarge(n)) => {
                let reason = format!(
                    "event is {n} bytes of JSON, over the limit of {}",
                    self.config.max_event_bytes
                );
                return self
                    .shared
                    .drop_event(DropReason::TooLarge, metadata, at, reason, true);
            }
            Err(PushError::Invalid(e)) => {
                return self
                    .shared
                    .drop_event(DropReason::Invalid, metadata, at, e, true)
            }
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
        if self.batch.len() >= self.config.batch_size
            || self.batch.byte_len() >= self.config.batch_max_bytes
        {
            self.dispatch();
        }
    }

    /// Hands the open batch to the sender runtime.
    fn dispatch(&mut self) {
        self.batch_started = None;
        if self.batch.is_empty() {
            return;
        }
        let format = self.batch.format();
        // Rounded up, so that every batch's buffer has one of few sizes: a
        // freed one fits the next, instead of each leaving a hole in the
        // allocator's heap (peak RSS with gzip, `BENCHMARKS.md`).
        let cap = self.batch.byte_len().next_multiple_of(BODY_GRAIN);
        let batch = std::mem::replace(
            &mut self.batch,
            BatchBuilder::with_capacity(format, cap, self.config.batch_size.min(4096)),
        );
        let meta = std::mem::replace(
            &mut self.meta,
            Vec::with_capacity(self.config.batch_size.min(4096)),
        );
        let id = self.next_batch_id;
        self.next_batch_id += 1;
        {
            let mut g = self.shared.in_flight();
            while g.batches.len() >= self.config.max_in_flight {
                if self.shared.past_close_deadline() {
                    drop(g);
                    self.shared.drop_many(
                        DropReason::Closed,
                        meta,
                        "client closed before the event was sent",
                        false,
                    );
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
        let batch = batch.freeze();
        let sender = self.sender.clone();
        let shared = self.shared.clone();
        let ctx = SendContext::new(shared.clone());
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

/// Records the outcome of a batch: stats, one response per event (when
/// someone reads them), and the in-flight bookkeeping that `flush` waits on.
fn complete(shared: &Shared, id: u64, outcomes: Vec<Outcome>) {
    let meta = {
        let mut g = shared.in_flight();
        let Some(meta) = g.batches.remove(&id) else {
            return; // already counted as closed
        };
        g.completing.insert(id, meta.len() as u64);
        meta
    };
    let respond = shared.wants_responses();
    let now = SystemTime::now();
    let mut outcomes = outcomes.into_iter();
    let mut sent = 0;
    // Per reason: the events lost, and the first one's status and error
    // (for the warning).
    let mut lost: Vec<(DropReason, u64, Option<u16>, Option<String>)> = Vec::new();
    let mut responses = Vec::with_capacity(if respond { meta.len() } else { 0 });
    for (metadata, at) in meta {
        let o = outcomes.next().unwrap_or_else(|| {
            Outcome::failed(
                None,
                DropReason::Rejected,
                "the sender reported no outcome for this event",
            )
        });
        match o.reason {
            None if o.error.is_none() => sent += 1,
            reason => {
                let reason = reason.unwrap_or(DropReason::Rejected);
                match lost.iter_mut().find(|l| l.0 == reason) {
                    Some(l) => l.1 += 1,
                    None => lost.push((reason, 1, o.status, o.error.clone())),
                }
            }
        }
        if respond {
            let duration = now.duration_since(at).unwrap_or_default();
            let r = Response {
                status_code: o.status,
                duration,
                metadata,
                error: o.error,
                reason: o.reason,
            };
            responses.push(r);
        }
    }
    if respond {
        shared.respond_all(responses, true);
    }
    shared.stats.add(Counter::Sent, sent);
    // Counted per reason at once, so a summary never shows half a batch.
    for &(reason, events, ..) in &lost {
        shared.stats.drop_event(reason, events);
    }
    for (reason, events, status, error) in &lost {
        shared.report_loss(&Loss {
            reason: *reason,
            events: *events,
            status: *status,
            error: error.as_deref(),
        });
    }
    // Only now may a flush waiting for this batch return (its stats,
    // responses and warnings are out).
    shared.in_flight().completing.remove(&id);
    shared.in_flight_changed.notify_all();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::handle::Transmission;
    use crate::transport::memory::MemorySender;

    /// What `flush` waits on (the batch's events without an outcome) never
    /// reaches 0 before the outcomes are in the stats: a flush that returns
    /// leaves final stats. A large batch makes the window, if there is one,
    /// long enough for the watcher to see it.
    #[test]
    fn a_batch_leaves_the_in_flight_table_only_once_its_outcomes_are_counted() {
        const N: usize = 200_000;
        let core = Transmission::start(
            crate::Config::new().core_settings(),
            Arc::new(MemorySender::new()),
        )
        .expect("start");
        let shared = core.shared.clone();
        let meta: Vec<EventMeta> = (0..N).map(|_| (None, SystemTime::now())).collect();
        shared.in_flight().batches.insert(u64::MAX, meta);
        let watcher = {
            let shared = shared.clone();
            let deadline = Instant::now() + Duration::from_secs(20);
            std::thread::spawn(move || loop {
                let pending = shared.in_flight().events_upto(u64::MAX);
                let sent = shared.stats.get(Counter::Sent);
                if pending == 0 || Instant::now() > deadline {
                    return sent;
                }
            })
        };
        complete(&shared, u64::MAX, vec![Outcome::ok(None); N]);
        assert_eq!(watcher.join().expect("watcher"), N as u64);
        drop(core);
    }
}
