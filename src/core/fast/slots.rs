//! Per-thread send slots: how `send()` hands events to the worker cheaply.
//!
//! Each thread that sends through a client gets a [`Slot`] of its own. An
//! event goes into the slot's `pending` chunk (an uncontended lock: only the
//! owning thread and, now and then, the worker take it), and a full chunk
//! goes onto the bounded queue in one operation, so the queue's shared
//! cache lines are touched once per chunk instead of once per event.
//!
//! In a client that packs typed events (`encode::packed`), the slot's records
//! go into a *spool* instead: a buffer the owning thread appends to without
//! taking the lock. A typed event is packed into a scratch buffer that never
//! leaves the thread, copied to the end of the spool, and published with one
//! release store of the spool's length; the lock is taken once per chunk,
//! when the spool is full and its records are sealed into a chunk for the
//! queue (the buffer itself becomes the chunk). A lock per event cost more
//! than the rest of a typed send: releasing it waits until every byte
//! written to the spool's cache lines, which the worker read last, has
//! reached this core. Events that are not packed go in under the lock, as a
//! reference record in the spool and the event in `spool_events`, so a
//! thread's events stay in order.
//!
//! The spool buffer belongs to the owning thread: only it writes, moves or
//! frees it, and it moves or frees it only under the lock. The worker reads
//! the published records under the lock and copies them out (see
//! [`Slot::take_all`]).
//!
//! The worker gives each processed chunk back to the slot it came from, and
//! the owning thread frees those events the next time it hands off a chunk.
//! Memory is then freed by the thread that allocated it: with the system
//! allocator, freeing on the worker what callers allocated makes both sides
//! fight over the allocator's arena lock, which was most of the cost of a
//! send (about 400 ns against 120 ns in a plain Rust experiment). The typed
//! structs' blocks are not even freed: the thread keeps them for its next
//! typed events (see `core::fast::raw::blocks`).
//!
//! A thread that sends a few events and then goes quiet does not hold them
//! back: the worker takes partial chunks (and published spool records) from
//! the slots whenever the queue is empty, on flush and on close, and a send
//! into an empty slot wakes the worker if it is parked. A spool append does
//! not take the lock, so it can miss the worker going to sleep at that very
//! moment; while threads hold spools the worker therefore sleeps at most
//! [`SPOOL_RECHECK`] at a time.
//!
//! What a slot holds is bounded: at most one chunk of pending events, one
//! spool, and [`MAX_SPENT`] chunks of processed events waiting to be freed
//! (released by the worker when it goes idle). A spool or scratch buffer
//! enlarged for one large event is freed once that event is handed off.
//!
//! A send that races `close()` (it started before `close` and publishes to
//! the spool after `close` took the slot's records) is not lost silently:
//! the thread counts it as dropped (closed) when it exits, or when it
//! first sends through another client (a later send to the closed client
//! is refused before it reaches the slot). Until then `stats()` shows it
//! as pending: typically at most one such record per thread.
//!
//! The core that owns the slots is reached through the [`SlotOwner`]
//! trait, not named.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use crossbeam_utils::CachePadded;
use serde_json::Value;

use super::raw::blocks;
use super::raw::spool::{Marks, OwnSpool, SpoolView};
use crate::core::inflight::EventMeta;
use crate::encode::packed::{self, Record};
use crate::model::event::Event;

/// What the fast path needs from the core that owns the slots (the core's
/// shared state implements it): the slot table, a way to wake the worker,
/// and the accounting of an event stranded by a close.
pub(crate) trait SlotOwner: Send + Sync {
    /// Every thread's slot for this core.
    fn registry(&self) -> &Registry;
    /// Wakes the worker if it is parked.
    fn wake_worker(&self);
    /// Counts as received and dropped (closed) an event that reached a
    /// slot after `close` took the slot's records.
    fn drop_stranded(&self, metadata: Option<Value>, at: std::time::SystemTime);
}

/// Largest number of events a thread gathers before handing them off.
pub(crate) const MAX_CHUNK: usize = 32;

/// Processed chunks a slot keeps for its owner to free; beyond that the
/// worker frees them itself. Enough for the chunks the worker processes
/// between two hand-offs of a fast sender; when the worker goes idle it
/// frees what quiet threads left (see [`Registry::release_spent`]).
pub(crate) const MAX_SPENT: usize = 16;

/// Bytes of a spool buffer: a chunk of typical packed events. A record
/// that does not fit in a fresh one gets a buffer of its size.
const SPOOL_BYTES: usize = MAX_CHUNK * 256;

/// Longest the worker sleeps while threads hold spools: the bound on how
/// late a spool append that raced the worker going to sleep is seen.
pub(crate) const SPOOL_RECHECK: Duration = Duration::from_millis(250);

/// Events gathered by one thread: in a client that packs typed events
/// (see `encode::packed`), a record for every event in `packed`, with the
/// events that are not packed in `events`; otherwise `events` only.
#[derive(Default)]
pub(crate) struct Pending {
    pub(crate) events: Vec<Event>,
    pub(crate) packed: Vec<u8>,
    /// Number of events.
    pub(crate) len: usize,
}

/// Packed bytes a kept chunk buffer may hold on to.
const MAX_KEPT_PACKED: usize = 256 * 1024;

impl Pending {
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds an event (a client that does not pack).
    pub(crate) fn push_event(&mut self, ev: Event) {
        self.events.push(ev);
        self.len += 1;
    }

    /// Empties the chunk, keeping its buffers (unless the packed one grew
    /// large); typed events' blocks go back to this thread.
    fn clear(&mut self) {
        blocks::put_all(self.events.iter_mut().filter_map(|ev| ev.take_typed()));
        self.events.clear();
        self.packed.clear();
        if self.packed.capacity() > MAX_KEPT_PACKED {
            self.packed = Vec::new();
        }
        self.len = 0;
    }

    /// The metadata and timestamp of each event, in order (to count and
    /// report events that will not be sent).
    pub(crate) fn into_meta(self) -> Vec<EventMeta> {
        let mut events = self.events.into_iter();
        let take = |ev: Option<Event>| {
            ev.map(|mut ev| {
                let at = ev.timestamp;
                (ev.take_metadata(), at)
            })
        };
        if self.packed.is_empty() {
            return events.filter_map(|ev| take(Some(ev))).collect();
        }
        packed::records(&self.packed)
            .filter_map(|rec| match rec {
                Record::Ref => take(events.next()),
                Record::Packed(p) => Some((None, p.head.at())),
            })
            .collect()
    }
}

/// Events on their way from one thread to the worker.
pub(crate) struct Chunk {
    pub(crate) events: Pending,
    /// The slot to give the processed events back to.
    pub(crate) from: Option<Arc<Slot>>,
}

/// One thread's send buffer for one client.
#[derive(Default)]
pub(crate) struct Slot {
    state: Mutex<SlotState>,
    /// The spool's marks, on cache lines of their own.
    marks: CachePadded<Marks>,
}

#[derive(Default)]
pub(crate) struct SlotState {
    /// Events sent and not yet handed to the queue (in a client that packs:
    /// a sealed spool, waiting for room on the queue).
    pub(crate) pending: Pending,
    /// Processed chunks, for the owning thread to free.
    pub(crate) spent: Vec<Pending>,
    /// Chunks from this slot on the queue; while there are any, the worker
    /// does not take `pending` (that would reorder the thread's events).
    pub(crate) in_queue: usize,
    /// The owning thread has exited.
    pub(crate) owner_gone: bool,
    /// The client was closed: nothing more is accepted.
    pub(crate) closed: bool,
    /// The owner's spool buffer, if it has one.
    spool: Option<SpoolView>,
    /// The events of the reference records in the spool not taken yet.
    spool_events: Vec<Event>,
}

impl SlotState {
    /// Whether the owner has a spool buffer.
    pub(crate) fn has_spool(&self) -> bool {
        self.spool.is_some()
    }

    /// Keeps the event of a reference record appended to the spool.
    pub(crate) fn push_spooled(&mut self, ev: Event) {
        self.spool_events.push(ev);
    }
}

impl Slot {
    pub(crate) fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Gives a processed chunk back to its owner (called by the worker, once
    /// per chunk taken off the queue). Returns the events when the owner will
    /// not free them; the caller drops them.
    pub(crate) fn give_back(&self, events: Pending, from_queue: bool) -> Option<Pending> {
        let mut st = self.lock();
        if from_queue {
            st.in_queue = st.in_queue.saturating_sub(1);
        }
        if st.owner_gone || st.closed || st.spent.len() >= MAX_SPENT {
            return Some(events);
        }
        st.spent.push(events);
        None
    }

    /// The spool's published records not taken yet (under the lock).
    fn spooled<'a>(&self, st: &'a SlotState) -> (&'a [u8], usize) {
        match &st.spool {
            Some(view) => view.published(&self.marks),
            None => (&[], 0),
        }
    }

    /// Whether the slot holds events the worker has not taken.
    pub(crate) fn holds(&self, st: &SlotState) -> bool {
        !st.pending.is_empty() || !self.spooled(st).0.is_empty()
    }

    /// Events the slot holds (for the stats).
    fn held(&self, st: &SlotState) -> usize {
        st.pending.len + packed::records(self.spooled(st).0).count()
    }

    /// Moves the spool's records not taken yet to the end of `out`, with
    /// their events (under the lock).
    fn take_spool(&self, st: &mut SlotState, out: &mut Pending) {
        let (bytes, committed) = self.spooled(st);
        if bytes.is_empty() {
            return;
        }
        let (mut n, mut refs) = (0, 0);
        for rec in packed::records(bytes) {
            n += 1;
            refs += usize::from(matches!(rec, Record::Ref));
        }
        out.packed.extend_from_slice(bytes);
        out.len += n;
        let refs = refs.min(st.spool_events.len());
        out.events.extend(st.spool_events.drain(..refs));
        self.marks.set_taken(committed);
    }

    /// Takes every event the slot holds, in order: the pending chunk, then
    /// the spool's records (under the lock).
    pub(crate) fn take_all(&self, st: &mut SlotState) -> Pending {
        let mut out = std::mem::take(&mut st.pending);
        self.take_spool(st, &mut out);
        out
    }
}

/// Every slot of one client, for the worker to visit.
#[derive(Default)]
pub(crate) struct Registry {
    state: Mutex<RegistryState>,
}

#[derive(Default)]
struct RegistryState {
    slots: Vec<Arc<Slot>>,
    closed: bool,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, RegistryState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new slot, or `None` once the client is closed.
    fn register(&self) -> Option<Arc<Slot>> {
        let mut st = self.lock();
        if st.closed {
            return None;
        }
        let slot = Arc::new(Slot::default());
        st.slots.push(slot.clone());
        Some(slot)
    }

    /// The slots now registered; forgets those whose thread exited and that
    /// hold nothing more.
    pub(crate) fn slots(&self) -> Vec<Arc<Slot>> {
        let mut st = self.lock();
        st.slots.retain(|slot| {
            let s = slot.lock();
            !(s.owner_gone && !slot.holds(&s) && s.in_queue == 0)
        });
        st.slots.clone()
    }

    /// Frees the processed events slots still hold (the worker does this
    /// before it parks, so a thread that stopped sending keeps nothing).
    pub(crate) fn release_spent(&self) {
        let slots = self.lock().slots.clone();
        for slot in slots {
            let spent = std::mem::take(&mut slot.lock().spent);
            drop(spent);
        }
    }

    /// Events waiting in slots (for the stats).
    pub(crate) fn pending(&self) -> usize {
        self.lock()
            .slots
            .iter()
            .map(|slot| slot.held(&slot.lock()))
            .sum()
    }

    /// Closes every slot and returns what was still in them.
    pub(crate) fn close(&self) -> Vec<Pending> {
        let mut st = self.lock();
        st.closed = true;
        let mut left = Vec::new();
        for slot in st.slots.drain(..) {
            let mut s = slot.lock();
            s.closed = true;
            left.push(slot.take_all(&mut s));
            s.spent.clear();
        }
        left
    }
}

/// A new spool buffer for `marks`' slot, from `buf` if it is large
/// enough: never smaller than [`SPOOL_BYTES`] (a recycled chunk the worker
/// copied out of a spool holds a few records: a spool made from it would
/// seal every few events), and at least `min` bytes.
fn new_spool(buf: Vec<u8>, min: usize, marks: &Marks) -> OwnSpool {
    OwnSpool::new(buf, min.max(SPOOL_BYTES), marks)
}

/// What a thread keeps for its slot of one client, besides the slot.
pub(crate) struct ThreadBuffers {
    /// An emptied chunk buffer, reused as the next `pending` or spool.
    pub(crate) spare: Pending,
    /// The spool buffer (a client that packs).
    spool: Option<OwnSpool>,
    /// Where a typed event is packed before it is copied to the spool.
    pub(crate) scratch: Vec<u8>,
}

impl ThreadBuffers {
    /// Appends `self.scratch` to the spool without the lock, if the spool
    /// has room and its chunk is not full. Returns `None` when it did not
    /// (the caller takes the lock: [`ThreadBuffers::fits`]), else whether the worker
    /// had taken everything before it (to wake the worker).
    #[inline]
    pub(crate) fn try_append(&mut self, slot: &Slot, chunk: usize) -> Option<bool> {
        let sp = self.spool.as_mut()?;
        let n = self.scratch.len();
        if sp.count() >= chunk || sp.room() < n {
            return None;
        }
        let before = sp.len();
        sp.put(&slot.marks, &self.scratch);
        Some(slot.marks.taken() == before)
    }

    /// Whether the spool can take a record of `n` bytes without sealing.
    pub(crate) fn fits(&self, n: usize, chunk: usize) -> bool {
        self.spool
            .as_ref()
            .is_some_and(|sp| sp.count() < chunk && sp.room() >= n)
    }

    /// Whether the worker has taken every record of the spool (under the
    /// lock).
    pub(crate) fn drained(&self, slot: &Slot) -> bool {
        self.spool
            .as_ref()
            .is_none_or(|sp| slot.marks.taken() == sp.len())
    }

    /// Seals the spool's records into `st.pending` (under the lock); the
    /// buffer itself becomes the chunk when nothing was taken from it and
    /// nothing is pending, else the records are copied.
    pub(crate) fn seal(&mut self, slot: &Slot, st: &mut SlotState) {
        let Some(sp) = self.spool.as_mut() else {
            return;
        };
        let whole = slot.marks.taken() == 0;
        if sp.len() > 0 && whole && st.pending.is_empty() {
            let count = sp.count();
            slot.marks.reset();
            let Some(sp) = self.spool.take() else { return };
            let Some(packed) = sp.reclaim(&mut st.spool) else {
                return;
            };
            st.pending = Pending {
                events: std::mem::replace(
                    &mut st.spool_events,
                    std::mem::take(&mut self.spare.events),
                ),
                packed,
                len: count,
            };
            return;
        }
        let mut pending = std::mem::take(&mut st.pending);
        slot.take_spool(st, &mut pending);
        st.pending = pending;
        sp.rewind(&slot.marks);
        let oversized = sp.cap() > MAX_KEPT_PACKED;
        if oversized {
            // Enlarged for one large event: not kept for the thread's life.
            self.free_spool(st);
        }
    }

    /// Makes sure there is a spool with room for `n` bytes, right after a
    /// seal (under the lock): a spool too small for the record (an event
    /// larger than a spool buffer) is replaced, as it holds nothing unread.
    pub(crate) fn install(&mut self, slot: &Slot, st: &mut SlotState, n: usize) {
        if let Some(sp) = &self.spool {
            if sp.room() >= n {
                return;
            }
            debug_assert_eq!(sp.len(), 0, "a spool is replaced only once sealed");
            self.free_spool(st);
        }
        let mut sp = new_spool(std::mem::take(&mut self.spare.packed), n, &slot.marks);
        st.spool = Some(sp.view());
        self.spool = Some(sp);
    }

    /// Appends a record under the lock, after [`ThreadBuffers::install`] (and a
    /// seal, if the spool had no room), which made room for it. Returns
    /// whether it did (always, unless that room was not made).
    #[must_use]
    pub(crate) fn append_locked(&mut self, slot: &Slot, record: &[u8]) -> bool {
        let Some(sp) = self.spool.as_mut() else {
            debug_assert!(false, "no spool installed");
            return false;
        };
        if sp.room() < record.len() {
            debug_assert!(false, "no room made for the record");
            return false;
        }
        sp.put(&slot.marks, record);
        true
    }

    /// Counts as dropped what a closed slot's spool received after the
    /// close took its records (under the lock).
    pub(crate) fn drop_stranded(&mut self, slot: &Slot, st: &mut SlotState, owner: &dyn SlotOwner) {
        let mut left = Pending::default();
        slot.take_spool(st, &mut left);
        for (metadata, at) in left.into_meta() {
            owner.drop_stranded(metadata, at);
        }
    }

    /// Frees the spool buffer (under the lock, once its records are sealed
    /// or counted).
    fn free_spool(&mut self, st: &mut SlotState) {
        match self.spool.take() {
            Some(sp) => drop(sp.reclaim(&mut st.spool)),
            None => st.spool = None,
        }
    }
}

/// This thread's slot for one client.
pub(crate) struct Local {
    core: u64,
    pub(crate) slot: Arc<Slot>,
    /// Weak: a thread that never sends again must not keep a closed
    /// client's state alive.
    owner: Weak<dyn SlotOwner>,
    pub(crate) bufs: ThreadBuffers,
}

impl Local {
    /// Runs `f` under the slot's lock; returns what it placed, and the
    /// processed chunks to free when it handed off a chunk.
    pub(crate) fn locked<E>(
        &mut self,
        ev: E,
        f: impl FnOnce(&Arc<Slot>, &mut ThreadBuffers, &mut SlotState, E) -> Placed<E>,
    ) -> (Placed<E>, Vec<Pending>) {
        let mut st = self.slot.lock();
        let placed = f(&self.slot, &mut self.bufs, &mut st, ev);
        let spent = if matches!(
            placed,
            Placed::HandedOff | Placed::Full(_) | Placed::Overflow(_)
        ) {
            std::mem::take(&mut st.spent)
        } else {
            Vec::new()
        };
        (placed, spent)
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        // The thread is exiting (or the client was closed): free what it
        // allocated, and let the worker pick up what it had not handed off.
        let owner = self.owner.upgrade();
        let (spent, wake) = {
            let mut st = self.slot.lock();
            st.owner_gone = true;
            if st.closed {
                if let Some(owner) = &owner {
                    self.bufs.drop_stranded(&self.slot, &mut st, &**owner);
                }
            } else {
                self.bufs.seal(&self.slot, &mut st);
            }
            self.bufs.free_spool(&mut st);
            (std::mem::take(&mut st.spent), !st.pending.is_empty())
        };
        drop(spent);
        if wake {
            if let Some(owner) = owner {
                owner.wake_worker();
            }
        }
    }
}

struct Locals(Vec<Local>);

thread_local! {
    static LOCALS: RefCell<Locals> = const { RefCell::new(Locals(Vec::new())) };
}

/// What the caller's thread does after handing an event (`E`) to its slot.
pub(crate) enum Placed<E> {
    /// In the slot; nothing more to do.
    Done,
    /// In the slot, which was empty: wake the worker if it is parked.
    First,
    /// The slot's chunk went onto the queue.
    HandedOff,
    /// The slot filled up: this chunk must go onto the queue (blocking).
    Full(Chunk),
    /// The slot is full and the queue too: the event was not taken.
    Overflow(E),
    /// The client is closed.
    Closed(E),
}

/// Runs `f` with this thread's slot for the client `core`, registering one
/// the first time. `None` when this thread has no usable slot (it is
/// exiting, or the slot table is in use further up the stack), or the
/// client is closed and no slot can be made.
pub(crate) fn with_local<S: SlotOwner + 'static, R>(
    core: u64,
    shared: &Arc<S>,
    f: impl FnOnce(&mut Local) -> R,
) -> Option<R> {
    LOCALS
        .try_with(|cell| {
            let mut locals = cell.try_borrow_mut().ok()?;
            let idx = match locals.0.iter().position(|l| l.core == core) {
                Some(i) => i,
                None => register(&mut locals, core, shared)?,
            };
            Some(f(&mut locals.0[idx]))
        })
        .ok()
        .flatten()
}

/// Registers a slot of the client `core` for this thread (once per thread
/// and client, off the send's hot path); returns its index.
#[cold]
#[inline(never)]
fn register<S: SlotOwner + 'static>(
    locals: &mut Locals,
    core: u64,
    shared: &Arc<S>,
) -> Option<usize> {
    // Forget slots of clients that were closed since.
    locals.0.retain(|l| !l.slot.lock().closed);
    let slot = shared.registry().register()?;
    locals.0.push(Local {
        core,
        slot,
        owner: Arc::downgrade(shared) as Weak<dyn SlotOwner>,
        bufs: ThreadBuffers {
            spare: Pending::default(),
            spool: None,
            scratch: Vec::new(),
        },
    });
    Some(locals.0.len() - 1)
}

/// Runs `f` under the lock of this thread's slot for the client `core` (see
/// [`with_local`]), with the processed events the slot had for this thread
/// to free. Returns the event back when this thread has no usable slot.
pub(crate) fn with_slot<S: SlotOwner + 'static, E>(
    core: u64,
    shared: &Arc<S>,
    event: E,
    f: impl FnOnce(&Arc<Slot>, &mut ThreadBuffers, &mut SlotState, E) -> Placed<E>,
) -> Result<(Placed<E>, Vec<Pending>), E> {
    let mut event = Some(event);
    let res = with_local(core, shared, |local| {
        let ev = event.take()?;
        Some(local.locked(ev, f))
    });
    match (res.flatten(), event) {
        (Some(r), _) => Ok(r),
        (None, Some(ev)) => Err(ev),
        // The event was placed but the closure gave no result: cannot
        // happen (`f` always returns); report nothing to free.
        (None, None) => Ok((Placed::Done, Vec::new())),
    }
}

/// In a forked child (on the thread that forked, the only one there): lets
/// go of this thread's slots without touching them. Their locks may be
/// held by threads the child does not have, and their client is the
/// parent's; the memory is leaked, once per fork.
pub(crate) fn forget_after_fork() {
    let _ = LOCALS.try_with(|cell| {
        if let Ok(mut locals) = cell.try_borrow_mut() {
            std::mem::forget(std::mem::take(&mut locals.0));
        }
    });
}

/// Keeps one of the freed chunk buffers as this thread's next spare.
/// The typed structs' blocks are kept for this thread's next typed events.
pub(crate) fn recycle(core: u64, mut spent: Vec<Pending>) {
    for p in &mut spent {
        p.clear();
    }
    let Some(mut buf) = spent.pop() else { return };
    let _ = LOCALS.try_with(|cell| {
        if let Ok(mut locals) = cell.try_borrow_mut() {
            if let Some(l) = locals.0.iter_mut().find(|l| l.core == core) {
                let spare = &mut l.bufs.spare;
                // A client that packs reuses the packed buffer (as its next
                // spool); one that does not, the events' vector.
                let better = if buf.packed.capacity() > 0 || spare.packed.capacity() > 0 {
                    spare.packed.capacity() < buf.packed.capacity()
                } else {
                    spare.events.capacity() < buf.events.capacity()
                };
                if better {
                    std::mem::swap(spare, &mut buf);
                }
                if l.bufs.scratch.capacity() > MAX_KEPT_PACKED {
                    // Grown for one large event: not kept for the thread's
                    // life.
                    l.bufs.scratch = Vec::new();
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spool_is_never_smaller_than_a_chunk_of_typical_records() {
        // A recycled chunk the worker copied out of a spool holds a few
        // records: a spool made from it would seal every few events.
        let marks = Marks::default();
        let sp = new_spool(Vec::with_capacity(600), 300, &marks);
        assert!(sp.cap() >= SPOOL_BYTES, "{}", sp.cap());
        drop(sp.reclaim(&mut None));
        let sp = new_spool(Vec::new(), 3 * SPOOL_BYTES, &marks);
        assert!(sp.cap() >= 3 * SPOOL_BYTES);
        drop(sp.reclaim(&mut None));
    }
}
