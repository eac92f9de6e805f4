//! The callers' side of the core: the handle a client holds. It starts the
//! worker, puts events into this thread's slot (and full chunks onto the
//! bounded queue), packs typed events into the spool, and accounts for
//! what the queue cannot take. `flush` and `close` are in `core::control`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::SystemTime;

use crossbeam_channel::{self as channel, TrySendError};
use serde_json::Value;

use super::fast::slots::{
    self as local, Chunk, Pending, Placed, Slot, SlotState, ThreadBuffers, MAX_CHUNK,
};
use super::loss::{Destination, LossLog};
use super::settings::CoreSettings;
use super::shared::Shared;
use super::stats::Counter;
use super::worker::{Control, Worker};
use crate::encode::packed::{self, PackMeta};
use crate::error::SendError;
use crate::model::event::Event;
use crate::model::packed_fields::PackedFields;
use crate::model::response::DropReason;
use crate::model::typed::TypedEvent;
use crate::transport::Sender;

/// How a packed event's lock-free attempt ended.
enum Fast {
    /// In the spool.
    Done,
    /// In the spool, which the worker had emptied: wake it if it is parked.
    First,
    /// The spool's chunk is full (or the record does not fit): take the
    /// lock.
    Locked,
    /// The event cannot be packed.
    Refused,
}

/// Why a slot did not take an event.
enum NotTaken<E> {
    /// The slot and the queue are full.
    Overflow(E),
    /// The client is closed, or the event could not be packed.
    Back(E),
}

/// The caller's side of the core.
pub(crate) struct Transmission {
    /// Identifies this core in each thread's slot table.
    pub(super) id: u64,
    pub(super) queue: channel::Sender<Chunk>,
    /// Kept to drain what is left at close; dropped then, so a caller
    /// blocked on a full queue is released.
    pub(super) queue_rx: Mutex<Option<channel::Receiver<Chunk>>>,
    pub(super) control: channel::Sender<Control>,
    pub(crate) shared: Arc<Shared>,
    block_on_send: bool,
    /// Typed events are packed on the sending thread.
    packing: bool,
    /// Events a thread gathers before handing them to the queue.
    chunk: usize,
    pub(super) closed: AtomicBool,
    /// A `close` from outside the crate's threads has begun (it waits,
    /// counts what is left and ends the responses stream; once).
    pub(super) full_close: AtomicBool,
    pub(super) worker: Mutex<Option<JoinHandle<()>>>,
}

/// Gives each core a distinct id.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Transmission {
    pub(crate) fn start(config: CoreSettings, sender: Arc<dyn Sender>) -> std::io::Result<Self> {
        super::fork::watch();
        // The queue holds chunks; with the events waiting in slots (at most
        // one chunk per sending thread), about `max_queue_size` events.
        let chunk = (config.max_queue_size / 8).clamp(1, MAX_CHUNK);
        let queue_chunks = (config.max_queue_size / chunk).max(1);
        let (queue, queue_rx) = channel::bounded(queue_chunks);
        let (control, control_rx) = channel::unbounded();
        let losses = LossLog::new(
            Destination {
                sender: sender.name(),
                url: sender.destination(),
                queue_capacity: config.max_queue_size,
            },
            config.loss_summary_interval,
        );
        let (shared, wake_rx) = Shared::new(
            queue_chunks,
            config.response_queue_size,
            config.block_on_response,
            losses,
        );
        let shared = Arc::new(shared);
        let block_on_send = config.block_on_send;
        let packing = config.policy.before_event.is_empty();
        let worker = Worker::new(
            config,
            sender,
            shared.clone(),
            queue_rx.clone(),
            control_rx,
            wake_rx,
        )?;
        let handle = std::thread::Builder::new()
            .name("insights-events".into())
            // Dropping a deeply nested value (rejected as too deep) recurses.
            .stack_size(8 * 1024 * 1024)
            .spawn(move || worker.run())?;
        Ok(Transmission {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            queue,
            queue_rx: Mutex::new(Some(queue_rx)),
            control,
            shared,
            block_on_send,
            packing,
            chunk,
            closed: AtomicBool::new(false),
            full_close: AtomicBool::new(false),
            worker: Mutex::new(Some(handle)),
        })
    }

    /// Whether a send on this thread may wait for room: only with
    /// `block_on_send`, and never on one of the crate's own threads (see
    /// [`own_thread`](super::own_thread)).
    fn blocks(&self) -> bool {
        self.block_on_send && !super::own_thread::is_own()
    }

    /// Refuses every send from now on, without waiting for anything (a
    /// forked child that cannot start its own core).
    pub(crate) fn mark_closed(&self) {
        self.closed.store(true, Ordering::Release);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn queue_len(&self) -> usize {
        self.shared.queue_len()
    }

    /// Counts an event the sampling decision dropped (it gets no response).
    pub(crate) fn count_sampled(&self) {
        self.shared.stats.drop_event(DropReason::Sampled, 1);
    }

    /// The responses stream (responses are built from now on).
    pub(crate) fn responses(&self) -> channel::Receiver<crate::model::response::Response> {
        self.shared.responses_wanted.store(true, Ordering::Relaxed);
        self.shared.responses_rx.clone()
    }

    /// A snapshot of the counters: two readings in a row that agree. An
    /// event the worker is taking moves from the queue's length to
    /// `Received` in two steps; one reading between them counts it twice
    /// or not at all, and `attempted` is off by a chunk. A reading that a
    /// second one repeats was not taken in such a gap (unless the worker
    /// stood still in it for both), at the cost of one more reading.
    pub(crate) fn stats(&self) -> super::stats::Stats {
        let mut last = self.shared.stats.snapshot(self.queue_len());
        for _ in 0..64 {
            let next = self.shared.stats.snapshot(self.queue_len());
            if next == last {
                break;
            }
            last = next;
        }
        last
    }

    /// Puts an event in this thread's slot (a full slot goes onto the
    /// queue). Never blocks unless `block_on_send`. Touches no shared
    /// counter, and frees on this thread the events it sent earlier.
    pub(crate) fn enqueue(&self, event: Event) -> Result<(), SendError> {
        let placed = local::with_slot(self.id, &self.shared, event, |slot, bufs, st, ev| {
            if self.packing {
                self.place_spooled(
                    slot,
                    bufs,
                    st,
                    ev,
                    packed::REF_RECORD.len(),
                    |bufs, st, ev| {
                        if bufs.append_locked(slot, &packed::REF_RECORD) {
                            st.push_spooled(ev);
                        }
                    },
                )
            } else {
                self.place(slot, &mut bufs.spare, st, ev)
            }
        });
        let (placed, spent) = match placed {
            Ok(r) => r,
            Err(event) => return self.enqueue_direct(event),
        };
        local::recycle(self.id, spent);
        match self.placed(placed) {
            Ok(r) => r,
            Err(NotTaken::Overflow(mut event)) => {
                let at = event.timestamp;
                Err(self.overflow(event.take_metadata(), at))
            }
            Err(NotTaken::Back(event)) => {
                self.reject_closed(event);
                Err(SendError::Closed)
            }
        }
    }

    /// Packs a typed event into this thread's spool: without a lock, unless
    /// the spool's chunk is full. `None` when the event must take the usual
    /// path instead: it cannot be packed, this thread has no slot, or the
    /// client is closed.
    #[inline]
    pub(crate) fn enqueue_packed<T: TypedEvent>(
        &self,
        typed: &T,
        head: &PackMeta,
    ) -> Option<Result<(), SendError>> {
        self.enqueue_record(head, |buf| packed::pack(buf, head, |p| typed.pack(p)))
    }

    /// [`Transmission::enqueue_packed`] for a hand-built event's packed
    /// fields.
    pub(crate) fn enqueue_fields(
        &self,
        fields: &PackedFields,
        head: &PackMeta,
    ) -> Option<Result<(), SendError>> {
        self.enqueue_record(head, |buf| packed::pack_fields(buf, head, fields))
    }

    /// [`Transmission::enqueue_packed`] for any record `write` appends
    /// (`false`: it could not).
    #[inline]
    fn enqueue_record(
        &self,
        head: &PackMeta,
        write: impl FnOnce(&mut Vec<u8>) -> bool,
    ) -> Option<Result<(), SendError>> {
        // The common case returns a byte: moving the slow path's large
        // result through the closures costs the store buffer a stall.
        let fast = local::with_local(self.id, &self.shared, |local| {
            let scratch = &mut local.bufs.scratch;
            scratch.clear();
            if !write(scratch) {
                return Fast::Refused;
            }
            match local.bufs.try_append(&local.slot, self.chunk) {
                Some(true) => Fast::First,
                Some(false) => Fast::Done,
                None => Fast::Locked,
            }
        });
        match fast {
            Some(Fast::Done) => return Some(Ok(())),
            Some(Fast::First) => {
                self.shared.wake_worker();
                return Some(Ok(()));
            }
            Some(Fast::Refused) | None => return None,
            Some(Fast::Locked) => {}
        }
        let (placed, spent) = self.append_packed_locked()?;
        local::recycle(self.id, spent);
        match self.placed(placed) {
            Ok(r) => Some(r),
            Err(NotTaken::Overflow(())) => Some(Err(self.overflow(None, head.at()))),
            Err(NotTaken::Back(())) => None,
        }
    }

    /// The locked part of [`Transmission::enqueue_packed`], once a packed
    /// record (in the thread's scratch buffer) did not go into the spool
    /// without the lock: once per chunk.
    #[inline(never)]
    fn append_packed_locked(&self) -> Option<(Placed<()>, Vec<Pending>)> {
        local::with_local(self.id, &self.shared, |local| {
            let n = local.bufs.scratch.len();
            local.locked((), |slot, bufs, st, ()| {
                self.place_spooled(slot, bufs, st, (), n, |bufs, _, ()| {
                    let record = std::mem::take(&mut bufs.scratch);
                    let _appended = bufs.append_locked(slot, &record);
                    bufs.scratch = record;
                })
            })
        })
    }

    /// What the sending thread does once its event is in the slot, or why
    /// the slot did not take it.
    fn placed<E>(&self, placed: Placed<E>) -> Result<Result<(), SendError>, NotTaken<E>> {
        match placed {
            Placed::Done | Placed::HandedOff => Ok(Ok(())),
            Placed::First => {
                self.shared.wake_worker();
                Ok(Ok(()))
            }
            Placed::Full(chunk) => Ok(self.send_blocking(chunk)),
            Placed::Overflow(e) => Err(NotTaken::Overflow(e)),
            Placed::Closed(e) => Err(NotTaken::Back(e)),
        }
    }

    /// The slot part of [`Transmission::enqueue`] in a client that does not
    /// pack, under the slot's lock.
    fn place(
        &self,
        slot: &Arc<Slot>,
        spare: &mut Pending,
        st: &mut SlotState,
        ev: Event,
    ) -> Placed<Event> {
        if st.closed {
            return Placed::Closed(ev);
        }
        if st.pending.len >= self.chunk && !self.try_hand_off(slot, st) {
            // The slot is full since an earlier send found the queue full,
            // and the queue is still full.
            return Placed::Overflow(ev);
        }
        let p = &mut st.pending;
        if p.is_empty() && p.events.capacity() == 0 {
            std::mem::swap(p, spare);
            p.events.reserve(self.chunk);
        }
        p.push_event(ev);
        let n = st.pending.len;
        if n < self.chunk {
            return if n == 1 { Placed::First } else { Placed::Done };
        }
        self.full(slot, st)
    }

    /// The locked part of a send in a client that packs: `append` adds the
    /// event's record (`n` bytes) to the spool, after the spool's records
    /// are sealed into a chunk and handed off if its chunk is full or the
    /// record does not fit.
    fn place_spooled<E>(
        &self,
        slot: &Arc<Slot>,
        bufs: &mut ThreadBuffers,
        st: &mut SlotState,
        ev: E,
        n: usize,
        append: impl FnOnce(&mut ThreadBuffers, &mut SlotState, E),
    ) -> Placed<E> {
        if st.closed {
            bufs.drop_stranded(slot, st, &*self.shared);
            return Placed::Closed(ev);
        }
        let mut sealed = false;
        if !bufs.fits(n, self.chunk) {
            if !st.pending.is_empty() && !self.try_hand_off(slot, st) {
                // A sealed chunk still waits for room, and the queue is
                // still full.
                return Placed::Overflow(ev);
            }
            bufs.seal(slot, st);
            sealed = !st.pending.is_empty();
            bufs.install(slot, st, n);
        }
        let first = bufs.drained(slot);
        append(bufs, st, ev);
        if sealed {
            self.full(slot, st)
        } else if first {
            Placed::First
        } else {
            Placed::Done
        }
    }

    /// Hands off the slot's full pending chunk: to the caller to put on the
    /// queue (`block_on_send`), or straight onto the queue if it has room.
    fn full<E>(&self, slot: &Arc<Slot>, st: &mut SlotState) -> Placed<E> {
        if self.blocks() {
            // Counted as queued before the lock is released, so a flush
            // waits for it; sent after, as it may wait for room.
            let n = st.pending.len as u64;
            self.count_handed_off(st, n);
            let events = std::mem::take(&mut st.pending);
            return Placed::Full(Chunk {
                events,
                from: Some(slot.clone()),
            });
        }
        // If the queue is full the chunk stays: the next send tries again,
        // and drops its event if the queue is still full.
        if self.try_hand_off(slot, st) {
            Placed::HandedOff
        } else {
            Placed::Done
        }
    }

    /// Moves the slot's pending chunk onto the queue if there is room.
    fn try_hand_off(&self, slot: &Arc<Slot>, st: &mut SlotState) -> bool {
        let events = std::mem::take(&mut st.pending);
        let n = events.len as u64;
        match self.queue.try_send(Chunk {
            events,
            from: Some(slot.clone()),
        }) {
            Ok(()) => {
                self.count_handed_off(st, n);
                true
            }
            Err(TrySendError::Full(c) | TrySendError::Disconnected(c)) => {
                st.pending = c.events;
                false
            }
        }
    }

    /// Records a chunk of `n` events from this slot as on the queue, under
    /// the slot's lock (the worker does not take from a slot with chunks on
    /// the queue, and a flush waits for `handed_off`).
    fn count_handed_off(&self, st: &mut SlotState, n: u64) {
        st.in_queue += 1;
        self.shared.handed_off.fetch_add(n, Ordering::AcqRel);
    }

    /// Waits for room on the queue (`block_on_send`).
    fn send_blocking(&self, mut chunk: Chunk) -> Result<(), SendError> {
        let res = loop {
            match self.queue.try_send(chunk) {
                Ok(()) => break Ok(()),
                Err(TrySendError::Full(c)) if !self.is_closed() => {
                    chunk = c;
                    self.shared.wait_for_room(&self.queue);
                }
                Err(TrySendError::Full(c) | TrySendError::Disconnected(c)) => break Err(c),
            }
        };
        match res {
            Ok(()) => Ok(()),
            Err(chunk) => {
                // The core stopped while this thread waited.
                let n = chunk.events.len as u64;
                self.shared.taken_from_queue.fetch_add(n, Ordering::AcqRel);
                self.shared.stats.add(Counter::Received, n);
                self.shared.drop_many(
                    DropReason::Closed,
                    chunk.events.into_meta(),
                    "client closed before the event was queued",
                    false,
                );
                Err(SendError::Closed)
            }
        }
    }

    /// A single event straight onto the queue, for a thread that cannot use
    /// its slot (it is exiting).
    fn enqueue_direct(&self, event: Event) -> Result<(), SendError> {
        if self.is_closed() {
            self.reject_closed(event);
            return Err(SendError::Closed);
        }
        let chunk = Chunk {
            events: Pending {
                events: vec![event],
                packed: Vec::new(),
                len: 1,
            },
            from: None,
        };
        if self.blocks() {
            self.shared.handed_off.fetch_add(1, Ordering::AcqRel);
            return self.send_blocking(chunk);
        }
        match self.queue.try_send(chunk) {
            Ok(()) => {
                self.shared.handed_off.fetch_add(1, Ordering::AcqRel);
                self.shared.wake_worker();
                Ok(())
            }
            Err(TrySendError::Full(mut c)) => match c.events.events.pop() {
                Some(mut ev) => {
                    let at = ev.timestamp;
                    Err(self.overflow(ev.take_metadata(), at))
                }
                None => Err(SendError::QueueFull),
            },
            Err(TrySendError::Disconnected(mut c)) => {
                if let Some(ev) = c.events.events.pop() {
                    self.reject_closed(ev);
                }
                Err(SendError::Closed)
            }
        }
    }

    /// Counts an event the full queue could not take (the first is
    /// warned about, later ones summarised: `core::loss`).
    fn overflow(&self, metadata: Option<Value>, at: SystemTime) -> SendError {
        if super::own_thread::is_own() {
            self.shared.drop_event(
                DropReason::Reentrant,
                metadata,
                at,
                "sent from one of insights-events' own threads (a hook, a Sender) while the queue was full: dropped, not waited for".into(),
                false,
            );
            return SendError::QueueFull;
        }
        self.shared.drop_event(
            DropReason::Overflow,
            metadata,
            at,
            "queue full: event dropped".into(),
            false,
        );
        SendError::QueueFull
    }

    /// Counts an event refused because the client is closed.
    pub(crate) fn reject_closed(&self, mut event: Event) {
        self.shared.stats.add(Counter::ClosedUnqueued, 1);
        let at = event.timestamp;
        self.shared.drop_event(
            DropReason::Closed,
            event.take_metadata(),
            at,
            "client closed".into(),
            false,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::generated::python::DbQuery;
    use crate::transport::memory::MemorySender;
    use std::time::Duration;

    fn head() -> PackMeta {
        PackMeta {
            since: Duration::new(1_700_000_000, 0),
            sample_rate: None,
            has_ts: false,
        }
    }

    /// A send that checked the client was open, then published to its
    /// spool after `close` took the slot's records: the event is counted as
    /// dropped (closed) when the thread exits, not lost.
    #[test]
    fn a_spool_append_that_raced_close_is_counted_when_the_thread_exits() {
        let recorder = MemorySender::new();
        let core = Arc::new(
            Transmission::start(
                crate::Config::new().core_settings(),
                Arc::new(recorder.clone()),
            )
            .unwrap(),
        );
        let (to_thread, thread_rx) = channel::bounded::<()>(0);
        let (to_main, main_rx) = channel::bounded::<()>(0);
        let c = core.clone();
        let thread = std::thread::spawn(move || {
            let sent = c.enqueue_packed(&DbQuery::new("before", 1.0), &head());
            assert!(matches!(sent, Some(Ok(()))));
            to_main.send(()).unwrap();
            thread_rx.recv().unwrap();
            // As if this send had checked `is_closed` before the close.
            let late = c.enqueue_packed(&DbQuery::new("late", 1.0), &head());
            assert!(matches!(late, Some(Ok(()))), "published without the lock");
            let s = c.shared.stats.snapshot(c.queue_len());
            assert_eq!(s.dropped_closed, 0, "not counted while the thread lives");
        });
        main_rx.recv().unwrap();
        assert!(core.close(Duration::from_secs(20)).completed);
        to_thread.send(()).unwrap();
        thread.join().unwrap();
        let s = core.shared.stats.snapshot(core.queue_len());
        assert_eq!((s.sent, s.dropped_closed), (1, 1), "{s:?}");
        assert_eq!(s.attempted, 2);
        assert_eq!(recorder.len(), 1);
    }
}
