//! Model checks (loom) of the fast path's hand-off protocol, in miniature.
//!
//! The spool itself (`raw::spool`: publish, take, rewind, reclaim) runs
//! under loom on the real code, through `core::fast::sync`: see
//! `tests/loom_spool.rs`. The slots, the worker and the wake-up still use
//! `std`'s atomics and locks directly, which loom does not see. So this
//! file is a small, faithful model of the protocol of `src/core/fast/raw.rs` (the spool buffer and its
//! marks) and `src/core/fast/slots.rs` (the slot, seal, install, take,
//! drop_stranded, the thread's exit), with the worker's side from
//! `src/core/worker.rs` and the wake-up from `src/core/shared.rs`, written
//! with loom's atomics, mutex, cells and threads and the same orderings as
//! the real code. Every step names the real function it stands for. It
//! depends on nothing of the crate, and compiles to nothing without
//! `cfg(loom)`.
//!
//! What the model keeps and what it leaves out:
//! * A record is one `u32` (an event's id, never 0) in one cell of a spool
//!   buffer of [`CAP`] cells; a chunk holds [`CHUNK`] records. Each cell is
//!   a `loom::cell::UnsafeCell`, so loom reports any read of a cell that is
//!   not ordered after its write (the worker reading unpublished bytes) and
//!   any write racing a read.
//! * A buffer's allocation is a `live` cell: freeing it writes it, every
//!   access asserts it, so a use after free, a double free and a free that
//!   races a read are all caught. A `SpoolView` holds the buffer like the
//!   raw pointer does (no ownership).
//! * Reference records and `spool_events` are left out: they live under
//!   the slot's lock only. The queue is a locked `VecDeque` that never
//!   fills (the real one is a bounded crossbeam channel: a full queue only
//!   keeps a chunk in `pending`, which the model reaches anyway), and the
//!   wake-up channel (`bounded(1)`, `try_send`) is a flag under a mutex.
//!   `block_on_send`'s wait for room, the fork handler and the clock are
//!   not modelled.
//! * Two workarounds for loom, which orders the writes to one atomic by
//!   two threads with no happens-before between them only partially (C11
//!   orders them totally), so that a later load may read the older write:
//!   the wake-up channel is a mutex (not an atomic flag), and the worker's
//!   stores to `idle` are swaps (same value, same ordering; a swap reads
//!   the newest write, which keeps the order total). Without them loom
//!   reported lost wake-ups that C11 forbids (see `Shared::idle`). loom
//!   also treats SeqCst accesses as AcqRel (SeqCst fences are modelled),
//!   and does not explore load buffering.
//! * Observations (what was delivered, counted closed, ...) go into a
//!   `std` mutex that loom does not see: it only records, never orders.
//! * A few planted bugs (`Mutant`) check that the
//!   models' checks catch what they are meant to.
//!
//! Run (see RELIABILITY.md, "Model checking and valgrind", for why the
//! wrapper: `RUSTFLAGS="--cfg loom"` would build tokio with `cfg(loom)`,
//! which leaves out `tokio::net`, and hyper-util under reqwest breaks):
//!
//! ```sh
//! mkdir -p target && printf '#!/bin/sh\nexec "$@" --cfg loom\n' > target/loom-rustc
//! chmod +x target/loom-rustc
//! RUSTC_WORKSPACE_WRAPPER="$PWD/target/loom-rustc" CARGO_TARGET_DIR=target/loom \
//!   cargo test --release --test loom_spool --test loom_handoff -- --nocapture --test-threads=1
//! ```
#![cfg(loom)]

use std::collections::VecDeque;
use std::sync::atomic::AtomicUsize as StdCounter;
use std::sync::Arc;
use std::time::Instant;

use loom::cell::UnsafeCell;
use loom::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use loom::sync::Mutex;
use loom::thread;

use Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};

/// Records a spool buffer holds (`SPOOL_BYTES` in slots.rs).
const CAP: usize = 2;
/// Records a thread gathers before handing them off (`MAX_CHUNK`).
const CHUNK: usize = 2;
/// Processed chunks a slot keeps for its owner (`MAX_SPENT`).
const MAX_SPENT: usize = 16;

// The size of each model: events sent, worker turns, loom's preemption
// bound (`None`: every interleaving).
const A_EVENTS: u32 = 5;
const A_TURNS: usize = 2;
const A_BOUND: Option<usize> = None;
const R_BOUND: Option<usize> = None;
const B_BOUND: Option<usize> = None;
const C_EVENTS: u32 = 4;
const C_BOUND: Option<usize> = None;
const D_EVENTS: u32 = 5;
const D_TURNS: usize = 2;
const D_BOUND: Option<usize> = None;

/// Orderings the model runs with: the real code's, or a variant.
#[derive(Clone, Copy)]
struct Cfg {
    /// `OwnSpool::put`'s store of `committed` (raw.rs: `Release`).
    publish: Ordering,
    /// `SpoolView::published`'s load of `committed` (raw.rs: `Acquire`).
    read_committed: Ordering,
    /// A `fence(SeqCst)` after a lock-free append (before reading `taken`)
    /// and after the worker's `idle` store: NOT in the real code; the fix
    /// model (b) tries.
    sc_fences: bool,
    /// A deliberate bug, to show that a model's checks catch it.
    mutant: Mutant,
}

/// Bugs planted in the model (never in the real code), each expected to
/// make its model fail.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mutant {
    None,
    /// The exiting thread seals its spool even when the slot is closed
    /// (instead of `drop_stranded`): its late records are counted nowhere.
    ExitIgnoresClosed,
    /// The exiting thread frees its spool buffer before taking the slot's
    /// lock (so while the worker may read it through the view).
    FreeSpoolBeforeLock,
    /// `Registry::slots` forgets a slot once its thread exited, whether or
    /// not it still holds records.
    ForgetOwnerlessSlots,
}

/// The real code's orderings.
const REAL: Cfg = Cfg {
    publish: Release,
    read_committed: Acquire,
    sc_fences: false,
    mutant: Mutant::None,
};

// ---------------------------------------------------------------------
// What the models observe (outside loom).

#[derive(Default)]
struct Log {
    /// Records the worker processed (`Worker::take_chunk`), in order.
    delivered: Vec<u32>,
    /// Records `close` took from the slots and counted as dropped
    /// (closed) (`Control::close`, `Registry::close`).
    closed_by_close: Vec<u32>,
    /// Records counted dropped (closed) by their own thread after the
    /// close (`ThreadBuffers::drop_stranded`).
    stranded: Vec<u32>,
    /// Sends refused as closed (`Client::send_typed`'s `is_closed` check,
    /// `Placed::Closed`, a slot that cannot be registered).
    rejected: Vec<u32>,
    /// Every buffer allocated, to check at the end that each was freed.
    bufs: Vec<Arc<Buf>>,
}

type Obs = Arc<std::sync::Mutex<Log>>;

fn note(obs: &Obs, f: impl FnOnce(&mut Log)) {
    f(&mut obs.lock().expect("log"));
}

// ---------------------------------------------------------------------
// raw::spool

/// A spool buffer's allocation (the vector `OwnSpool` takes apart).
struct Buf {
    cells: [UnsafeCell<u32>; CAP],
    /// Allocated: cleared by the free (`Vec::from_raw_parts` then drop).
    live: UnsafeCell<bool>,
}

// SAFETY: shared between the model's threads as the real buffer is (its
// `SpoolView` is `Send`); the cells are loom's, which check every access
// and report any that is not ordered with a conflicting one.
unsafe impl Send for Buf {}
// SAFETY: as above.
unsafe impl Sync for Buf {}

impl Buf {
    /// `Vec::with_capacity` in `OwnSpool::new`.
    fn alloc(obs: &Obs) -> Arc<Buf> {
        let buf = Arc::new(Buf {
            cells: [UnsafeCell::new(0), UnsafeCell::new(0)],
            live: UnsafeCell::new(true),
        });
        note(obs, |l| l.bufs.push(buf.clone()));
        buf
    }

    fn assert_live(&self) {
        // SAFETY: a loom cell; loom checks the access against the free.
        let live = self.live.with(|p| unsafe { *p });
        assert!(live, "a buffer used after it was freed");
    }

    /// `OwnSpool::put`'s `copy_nonoverlapping`.
    fn write(&self, at: usize, id: u32) {
        self.assert_live();
        // SAFETY: a loom cell; loom checks the write against every read.
        self.cells[at].with_mut(|p| unsafe { *p = id });
    }

    /// The worker's read of a published record (`SpoolView::published`'s
    /// slice, copied by `Slot::take_spool`), or of a chunk's buffer
    /// (`Worker::take_chunk`).
    fn read(&self, at: usize) -> u32 {
        self.assert_live();
        // SAFETY: a loom cell; loom checks the read against the writes.
        let id = self.cells[at].with(|p| unsafe { *p });
        assert_ne!(id, 0, "read a cell that was never written");
        id
    }

    /// The buffer's `Vec` dropped.
    fn free(&self) {
        // SAFETY: a loom cell; loom checks the free against every access.
        self.live.with_mut(|p| unsafe {
            assert!(*p, "a buffer freed twice");
            *p = false;
        });
    }

    fn is_live(&self) -> bool {
        // SAFETY: a loom cell, read once every thread has been joined.
        self.live.with(|p| unsafe { *p })
    }
}

/// `raw::spool::Marks`.
#[derive(Default)]
struct Marks {
    committed: AtomicUsize,
    taken: AtomicUsize,
}

impl Marks {
    /// `Marks::taken`: Relaxed (read by the owner without the lock).
    fn taken(&self) -> usize {
        self.taken.load(Relaxed)
    }

    /// `Marks::set_taken`: Release, under the lock.
    fn set_taken(&self, to: usize) {
        self.taken.store(to, Release);
    }

    /// `Marks::reset`: both Release, under the lock.
    fn reset(&self) {
        self.committed.store(0, Release);
        self.taken.store(0, Release);
    }
}

/// `raw::spool::SpoolView`: where the buffer is, not an owner of it.
struct SpoolView {
    buf: Arc<Buf>,
}

impl SpoolView {
    /// `SpoolView::published`: the range `[taken, committed)` not taken
    /// yet (the real one returns it as a slice of the buffer).
    fn published(&self, marks: &Marks, cfg: Cfg) -> (usize, usize) {
        let committed = marks.committed.load(cfg.read_committed).min(CAP);
        let taken = marks.taken.load(Relaxed);
        if committed <= taken {
            return (committed, committed);
        }
        (taken, committed)
    }
}

/// `raw::spool::OwnSpool`.
struct OwnSpool {
    buf: Arc<Buf>,
    len: usize,
    count: usize,
    viewed: bool,
}

impl OwnSpool {
    /// `OwnSpool::new`: takes over `buf` (a recycled chunk buffer, big
    /// enough) or allocates; resets the marks (under the lock).
    fn new(buf: Option<Arc<Buf>>, marks: &Marks, obs: &Obs) -> OwnSpool {
        let buf = buf.unwrap_or_else(|| Buf::alloc(obs));
        marks.reset();
        OwnSpool {
            buf,
            len: 0,
            count: 0,
            viewed: false,
        }
    }

    /// `OwnSpool::view`.
    fn view(&mut self) -> SpoolView {
        self.viewed = true;
        SpoolView {
            buf: self.buf.clone(),
        }
    }

    fn room(&self) -> usize {
        CAP - self.len
    }

    /// `OwnSpool::put`: writes past the published cells, then publishes.
    fn put(&mut self, marks: &Marks, id: u32, cfg: Cfg) {
        assert!(self.room() >= 1);
        self.buf.write(self.len, id);
        self.len += 1;
        self.count += 1;
        marks.committed.store(self.len, cfg.publish);
    }

    /// `OwnSpool::rewind` (under the lock).
    fn rewind(&mut self, marks: &Marks) {
        self.len = 0;
        self.count = 0;
        marks.reset();
    }

    /// `OwnSpool::reclaim`: the buffer back (as a chunk's `packed`), the
    /// view first taken out of the locked state; leaked if the view is
    /// another buffer's.
    fn reclaim(self, view: &mut Option<SpoolView>) -> Option<(Arc<Buf>, usize)> {
        let mine = match view.take() {
            Some(v) => Arc::ptr_eq(&v.buf, &self.buf),
            None => !self.viewed,
        };
        mine.then_some((self.buf, self.len))
    }
}

// ---------------------------------------------------------------------
// slots: the slot and its locked state

/// `slots::Pending` (packed records only): the records of a sealed spool
/// buffer (`whole`: the buffer became the chunk), then records copied out
/// of a spool (`copied`).
#[derive(Default)]
struct Pending {
    whole: Option<(Arc<Buf>, usize)>,
    copied: Vec<u32>,
    len: usize,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunk's records: the buffer's cells (read outside any lock, as
    /// `Worker::take_chunk` and `Control::close` do), then the copied ones.
    fn ids(&self) -> Vec<u32> {
        let mut ids = Vec::new();
        if let Some((buf, len)) = &self.whole {
            for at in 0..*len {
                ids.push(buf.read(at));
            }
        }
        ids.extend_from_slice(&self.copied);
        assert_eq!(ids.len(), self.len, "a chunk's count is its records");
        ids
    }

    /// Dropping a chunk frees its buffer.
    fn free(self) {
        if let Some((buf, _)) = self.whole {
            buf.free();
        }
    }
}

/// `slots::SlotState`.
#[derive(Default)]
struct SlotState {
    pending: Pending,
    spent: Vec<Pending>,
    in_queue: usize,
    owner_gone: bool,
    closed: bool,
    spool: Option<SpoolView>,
}

/// `slots::Slot`.
struct Slot {
    state: Mutex<SlotState>,
    marks: Marks,
    cfg: Cfg,
}

impl Slot {
    fn new(cfg: Cfg) -> Slot {
        Slot {
            state: Mutex::new(SlotState::default()),
            marks: Marks::default(),
            cfg,
        }
    }

    /// `Slot::spooled`.
    fn spooled(&self, st: &SlotState) -> (usize, usize) {
        match &st.spool {
            Some(view) => view.published(&self.marks, self.cfg),
            None => (0, 0),
        }
    }

    /// `Slot::holds`.
    fn holds(&self, st: &SlotState) -> bool {
        let (from, to) = self.spooled(st);
        !st.pending.is_empty() || to > from
    }

    /// `Slot::take_spool` (under the lock): copies the published records
    /// not taken yet, then moves `taken`.
    fn take_spool(&self, st: &mut SlotState, out: &mut Pending) {
        let (from, committed) = self.spooled(st);
        if committed <= from {
            return;
        }
        let view = st.spool.as_ref().expect("a spool");
        for at in from..committed {
            out.copied.push(view.buf.read(at));
            out.len += 1;
        }
        self.marks.set_taken(committed);
    }

    /// `Slot::take_all` (under the lock).
    fn take_all(&self, st: &mut SlotState) -> Pending {
        let mut out = std::mem::take(&mut st.pending);
        self.take_spool(st, &mut out);
        out
    }

    /// `Slot::give_back` (the worker, once per chunk it processed).
    fn give_back(&self, events: Pending, from_queue: bool) -> Option<Pending> {
        let mut st = self.state.lock().unwrap();
        if from_queue {
            st.in_queue = st.in_queue.saturating_sub(1);
        }
        if st.owner_gone || st.closed || st.spent.len() >= MAX_SPENT {
            return Some(events);
        }
        st.spent.push(events);
        None
    }
}

/// `slots::Registry`.
#[derive(Default)]
struct RegistryState {
    slots: Vec<Arc<Slot>>,
    closed: bool,
}

/// The core's shared state (`core::shared::Shared`), as far as the fast
/// path sees it.
struct Shared {
    registry: Mutex<RegistryState>,
    queue: Mutex<VecDeque<Pending>>,
    /// `Shared::idle`. The worker's stores to it are modelled as swaps:
    /// in C11 a store and the sender's swap are in one total modification
    /// order, but loom orders a store and another thread's
    /// read-modify-write with no happens-before between them only
    /// partially, and then lets a later load read the older write (with
    /// plain stores, the fenced variant of model (b) reported lost
    /// wake-ups whose traces had the sender's `idle` load, after both
    /// SeqCst fences, reading its own earlier swap: impossible in C11).
    /// A swap reads the newest write, so loom keeps the order total.
    idle: AtomicBool,
    /// The wake-up channel (`bounded(1)`): a token, or none. A mutex: the
    /// channel is linearizable, and as an atomic flag (stored by the
    /// sender, swapped by the worker) loom let the final look read it as
    /// never stored after the worker's swap: a false lost wake-up.
    wake: Mutex<bool>,
    /// `Transmission::closed`.
    closed: AtomicBool,
    cfg: Cfg,
    obs: Obs,
}

impl Shared {
    fn new(cfg: Cfg) -> Arc<Shared> {
        Arc::new(Shared {
            registry: Mutex::new(RegistryState::default()),
            queue: Mutex::new(VecDeque::new()),
            idle: AtomicBool::new(false),
            wake: Mutex::new(false),
            closed: AtomicBool::new(false),
            cfg,
            obs: Obs::default(),
        })
    }

    /// `Registry::register`.
    fn register(&self) -> Option<Arc<Slot>> {
        let mut reg = self.registry.lock().unwrap();
        if reg.closed {
            return None;
        }
        let slot = Arc::new(Slot::new(self.cfg));
        reg.slots.push(slot.clone());
        Some(slot)
    }

    /// `Registry::slots`: forgets the slots whose thread exited and that
    /// hold nothing more.
    fn slots(&self) -> Vec<Arc<Slot>> {
        let mut reg = self.registry.lock().unwrap();
        let forget_any = self.cfg.mutant == Mutant::ForgetOwnerlessSlots;
        reg.slots.retain(|slot| {
            let s = slot.state.lock().unwrap();
            !(s.owner_gone && (forget_any || (!slot.holds(&s) && s.in_queue == 0)))
        });
        reg.slots.clone()
    }

    /// `Registry::close`.
    fn close_slots(&self) -> Vec<Pending> {
        let mut reg = self.registry.lock().unwrap();
        reg.closed = true;
        let mut left = Vec::new();
        for slot in reg.slots.drain(..) {
            let mut s = slot.state.lock().unwrap();
            s.closed = true;
            left.push(slot.take_all(&mut s));
            for p in s.spent.drain(..) {
                p.free();
            }
        }
        left
    }

    /// `Shared::wake_worker`.
    fn wake_worker(&self) {
        if self.idle.load(SeqCst) && self.idle.swap(false, SeqCst) {
            // `wake.try_send(())`.
            *self.wake.lock().unwrap() = true;
        }
    }

    /// `Transmission::try_hand_off` (under the slot's lock; the model's
    /// queue always has room).
    fn hand_off(&self, st: &mut SlotState) {
        let events = std::mem::take(&mut st.pending);
        self.queue.lock().unwrap().push_back(events);
        st.in_queue += 1;
    }

    // --- the worker (core/worker.rs) ---

    /// `Worker::take_chunk`: processes a chunk (outside the slot's lock),
    /// then gives it back.
    fn take_chunk(&self, slot: &Slot, events: Pending, from_queue: bool) -> usize {
        let n = events.len;
        let ids = events.ids();
        note(&self.obs, |l| l.delivered.extend(ids));
        if let Some(left) = slot.give_back(events, from_queue) {
            left.free();
        }
        n
    }

    /// The worker's burst: the chunks on the queue. The model has one
    /// slot per run, so every chunk is that slot's.
    fn drain_queue(&self, slot: &Slot) -> usize {
        let mut n = 0;
        loop {
            let chunk = self.queue.lock().unwrap().pop_front();
            match chunk {
                Some(c) => n += self.take_chunk(slot, c, true),
                None => return n,
            }
        }
    }

    /// `Worker::collect_slots`.
    fn collect_slots(&self) -> usize {
        let mut taken = 0;
        for slot in self.slots() {
            let events = {
                let mut st = slot.state.lock().unwrap();
                if !slot.holds(&st) || st.in_queue > 0 {
                    continue;
                }
                slot.take_all(&mut st)
            };
            taken += self.take_chunk(&slot, events, false);
        }
        taken
    }

    /// One turn of `Worker::run`'s loop, up to the park: the queue, the
    /// slots, then `idle`, a last look, and the wait. Returns whether the
    /// worker parked (found nothing and no wake-up token).
    fn worker_turn(&self, slot: &Slot) -> bool {
        if self.drain_queue(slot) > 0 || self.collect_slots() > 0 {
            return false;
        }
        // `idle.store(true, SeqCst)`: written as a swap (same value, same
        // ordering; see `Shared::idle`).
        self.idle.swap(true, SeqCst);
        if self.cfg.sc_fences {
            fence(SeqCst);
        }
        if self.collect_slots() > 0 {
            self.idle.swap(false, SeqCst);
            return false;
        }
        // `select!`: a token in the wake-up channel returns at once.
        if std::mem::take(&mut *self.wake.lock().unwrap()) {
            self.idle.swap(false, SeqCst);
            return false;
        }
        true
    }
}

// ---------------------------------------------------------------------
// slots: the owning thread (ThreadBuffers, Local) and core::handle's send

/// `slots::Local` with its `ThreadBuffers`.
struct Local {
    shared: Arc<Shared>,
    slot: Arc<Slot>,
    /// `ThreadBuffers::spare` (its packed buffer).
    spare: Option<Arc<Buf>>,
    /// `ThreadBuffers::spool`.
    spool: Option<OwnSpool>,
}

impl Local {
    /// `slots::register` (from `with_local`, the thread's first send).
    fn register(shared: &Arc<Shared>) -> Option<Local> {
        let slot = shared.register()?;
        Some(Local {
            shared: shared.clone(),
            slot,
            spare: None,
            spool: None,
        })
    }

    fn obs(&self) -> &Obs {
        &self.shared.obs
    }

    /// `Client::send_typed` -> `Transmission::enqueue_packed`: the closed
    /// check, the lock-free append, else the locked part.
    fn send(&mut self, id: u32) {
        if self.shared.closed.load(Acquire) {
            note(self.obs(), |l| l.rejected.push(id));
            return;
        }
        match self.try_append(id) {
            Some(true) => self.shared.wake_worker(),
            Some(false) => {}
            None => self.append_packed_locked(id),
        }
    }

    /// `ThreadBuffers::try_append`: without the lock.
    fn try_append(&mut self, id: u32) -> Option<bool> {
        let cfg = self.shared.cfg;
        let sp = self.spool.as_mut()?;
        if sp.count >= CHUNK || sp.room() < 1 {
            return None;
        }
        let before = sp.len;
        sp.put(&self.slot.marks, id, cfg);
        if cfg.sc_fences {
            fence(SeqCst);
        }
        Some(self.slot.marks.taken() == before)
    }

    /// `Transmission::append_packed_locked` -> `Local::locked` ->
    /// `Transmission::place_spooled`, then `Transmission::placed`.
    fn append_packed_locked(&mut self, id: u32) {
        let slot = self.slot.clone();
        let cfg = self.shared.cfg;
        let mut st = slot.state.lock().unwrap();
        if st.closed {
            self.drop_stranded(&slot, &mut st);
            drop(st);
            // `Placed::Closed`: the event takes the usual path, which
            // refuses it.
            note(self.obs(), |l| l.rejected.push(id));
            return;
        }
        let mut sealed = false;
        if !self.fits() {
            if !st.pending.is_empty() {
                self.shared.hand_off(&mut st);
            }
            self.seal(&slot, &mut st);
            sealed = !st.pending.is_empty();
            self.install(&slot, &mut st);
        }
        let first = self.drained(&slot);
        // `ThreadBuffers::append_locked`.
        self.spool
            .as_mut()
            .expect("installed")
            .put(&slot.marks, id, cfg);
        let mut spent = Vec::new();
        let mut wake = false;
        if sealed {
            // `Transmission::full` -> `try_hand_off`: `Placed::HandedOff`,
            // and `Local::locked` takes the processed chunks.
            self.shared.hand_off(&mut st);
            spent = std::mem::take(&mut st.spent);
        } else {
            // `Placed::First` or `Placed::Done`.
            wake = first;
        }
        drop(st);
        self.recycle(spent);
        if wake {
            self.shared.wake_worker();
        }
    }

    /// `ThreadBuffers::fits`.
    fn fits(&self) -> bool {
        self.spool
            .as_ref()
            .is_some_and(|sp| sp.count < CHUNK && sp.room() >= 1)
    }

    /// `ThreadBuffers::drained` (under the lock).
    fn drained(&self, slot: &Slot) -> bool {
        self.spool
            .as_ref()
            .is_none_or(|sp| slot.marks.taken() == sp.len)
    }

    /// `ThreadBuffers::seal` (under the lock).
    fn seal(&mut self, slot: &Slot, st: &mut SlotState) {
        let Some(sp) = self.spool.as_mut() else {
            return;
        };
        let whole = slot.marks.taken() == 0;
        if sp.len > 0 && whole && st.pending.is_empty() {
            let count = sp.count;
            slot.marks.reset();
            let Some(sp) = self.spool.take() else { return };
            let Some((buf, len)) = sp.reclaim(&mut st.spool) else {
                return;
            };
            st.pending = Pending {
                whole: Some((buf, len)),
                copied: Vec::new(),
                len: count,
            };
            return;
        }
        let mut pending = std::mem::take(&mut st.pending);
        slot.take_spool(st, &mut pending);
        st.pending = pending;
        sp.rewind(&slot.marks);
    }

    /// `ThreadBuffers::install` (under the lock, right after a seal).
    fn install(&mut self, slot: &Slot, st: &mut SlotState) {
        if let Some(sp) = &self.spool {
            if sp.room() >= 1 {
                return;
            }
            self.free_spool(st);
        }
        let mut sp = OwnSpool::new(self.spare.take(), &slot.marks, self.obs());
        st.spool = Some(sp.view());
        self.spool = Some(sp);
    }

    /// `ThreadBuffers::drop_stranded` (under the lock) with
    /// `SlotOwner::drop_stranded`.
    fn drop_stranded(&mut self, slot: &Slot, st: &mut SlotState) {
        let mut left = Pending::default();
        slot.take_spool(st, &mut left);
        note(self.obs(), |l| l.stranded.extend(&left.copied));
    }

    /// `ThreadBuffers::free_spool` (under the lock).
    fn free_spool(&mut self, st: &mut SlotState) {
        match self.spool.take() {
            Some(sp) => {
                if let Some((buf, _)) = sp.reclaim(&mut st.spool) {
                    buf.free();
                }
            }
            None => st.spool = None,
        }
    }

    /// `slots::recycle`: one chunk buffer kept as the spare (the next
    /// spool), the others freed, on this thread.
    fn recycle(&mut self, spent: Vec<Pending>) {
        for p in spent {
            match p.whole {
                Some((buf, _)) if self.spare.is_none() => self.spare = Some(buf),
                Some((buf, _)) => buf.free(),
                None => {}
            }
        }
    }

    /// `impl Drop for Local`: the thread exits.
    fn exit(mut self) {
        let slot = self.slot.clone();
        let mutant = self.shared.cfg.mutant;
        if mutant == Mutant::FreeSpoolBeforeLock {
            if let Some(sp) = self.spool.take() {
                sp.buf.free();
            }
        }
        let (spent, wake) = {
            let mut st = slot.state.lock().unwrap();
            st.owner_gone = true;
            if st.closed && mutant != Mutant::ExitIgnoresClosed {
                self.drop_stranded(&slot, &mut st);
            } else {
                self.seal(&slot, &mut st);
            }
            self.free_spool(&mut st);
            (std::mem::take(&mut st.spent), !st.pending.is_empty())
        };
        for p in spent {
            p.free();
        }
        // The thread's buffers (`ThreadBuffers::spare`) are dropped.
        if let Some(buf) = self.spare.take() {
            buf.free();
        }
        if wake {
            self.shared.wake_worker();
        }
    }
}

// ---------------------------------------------------------------------
// Running a model

/// Runs `f` under loom with a preemption bound; prints the executions
/// explored and the time.
fn check(name: &str, preemptions: Option<usize>, f: impl Fn() + Sync + Send + 'static) -> usize {
    let runs = Arc::new(StdCounter::new(0));
    let counted = runs.clone();
    let start = Instant::now();
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = preemptions;
    builder.check(move || {
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    let n = runs.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "loom model {name}: {n} executions explored (preemption bound {}) in {:.2?}",
        preemptions.map_or("none".to_string(), |b| b.to_string()),
        start.elapsed()
    );
    n
}

fn ids(n: u32) -> Vec<u32> {
    (1..=n).collect()
}

/// Every buffer the run allocated was freed exactly once (double frees
/// assert in `Buf::free`).
fn assert_all_freed(obs: &Obs) {
    let log = obs.lock().expect("log");
    let live = log.bufs.iter().filter(|b| b.is_live()).count();
    assert_eq!(live, 0, "{live} of {} buffers never freed", log.bufs.len());
}

// ---------------------------------------------------------------------
// (a) A sender appending and publishing while the worker takes records
// and the sender seals its spool.

/// A thread sends 3 events (the first installs a spool under the lock,
/// the second is appended without it, the third finds the chunk full and
/// seals the spool: the buffer becomes the chunk if the worker took
/// nothing from it, else what is left is copied and the buffer rewound
/// and written again from its start). Meanwhile the worker takes chunks
/// off the queue and published records out of the slot, twice. At the
/// end (a flush: everything taken) every event was delivered once, in
/// the order sent; loom checks that no cell is read before it is
/// published or while it is written, and no buffer is used after free.
fn model_a(cfg: Cfg, n: u32, turns: usize) {
    let shared = Shared::new(cfg);
    let mut local = Local::register(&shared).expect("open");
    let slot = local.slot.clone();
    let worker = {
        let (shared, slot) = (shared.clone(), slot.clone());
        thread::spawn(move || {
            for _ in 0..turns {
                shared.drain_queue(&slot);
                shared.collect_slots();
            }
        })
    };
    let sender = thread::spawn(move || {
        for id in ids(n) {
            local.send(id);
        }
        local
    });
    worker.join().unwrap();
    let _local = sender.join().unwrap();
    // A flush: the queue, then the slots.
    shared.drain_queue(&slot);
    shared.collect_slots();
    assert_eq!(shared.obs.lock().unwrap().delivered, ids(n));
}

#[test]
fn a_records_are_taken_once_in_order_and_never_before_they_are_published() {
    check("a (append/take/seal)", A_BOUND, || {
        model_a(REAL, A_EVENTS, A_TURNS)
    });
}

// The planted Relaxed publish and Relaxed read of `committed` run on the
// real spool now: tests/loom_spool.rs.

/// (a) across a recycled buffer: the worker processes a whole-buffer
/// chunk (reading its cells outside any lock) and gives it back; the
/// owner takes it at its next hand-off, keeps it as its spare, and later
/// writes it again as its spool. The worker's reads must be ordered
/// before the owner's new writes (through the slot's lock in
/// `give_back` and `Local::locked`).
fn model_a_recycle(cfg: Cfg) {
    let shared = Shared::new(cfg);
    let mut local = Local::register(&shared).expect("open");
    let slot = local.slot.clone();
    {
        // Start: events 1, 2 sealed whole into buffer A, on the queue;
        // events 3, 4 published in spool B, whose chunk is full.
        let mut st = slot.state.lock().unwrap();
        let mut a = OwnSpool::new(None, &slot.marks, &shared.obs);
        a.put(&slot.marks, 1, cfg);
        a.put(&slot.marks, 2, cfg);
        st.pending = Pending {
            whole: Some((a.buf.clone(), 2)),
            copied: Vec::new(),
            len: 2,
        };
        shared.hand_off(&mut st);
        local.install(&slot, &mut st);
        drop(st);
        let b = local.spool.as_mut().expect("spool B");
        b.put(&slot.marks, 3, cfg);
        b.put(&slot.marks, 4, cfg);
    }
    let worker = {
        let (shared, slot) = (shared.clone(), slot.clone());
        thread::spawn(move || {
            shared.drain_queue(&slot);
            shared.drain_queue(&slot);
        })
    };
    let sender = thread::spawn(move || {
        // 5 seals B (handed off) and takes A back if it was given back;
        // 6 goes in without the lock; 7 seals and installs A if kept.
        for id in 5..=7 {
            local.send(id);
        }
        local
    });
    worker.join().unwrap();
    let local = sender.join().unwrap();
    shared.drain_queue(&slot);
    shared.collect_slots();
    assert_eq!(shared.obs.lock().unwrap().delivered, ids(7));
    local.exit();
    shared.drain_queue(&slot);
    shared.collect_slots();
    assert_all_freed(&shared.obs);
}

#[test]
fn a_a_recycled_chunk_buffer_is_rewritten_only_after_the_worker_read_it() {
    check("a (recycled buffer)", R_BOUND, || model_a_recycle(REAL));
}

// ---------------------------------------------------------------------
// (b) A send racing the worker going to sleep.

/// A thread with a spool whose records the worker has all taken (so the
/// worker may go to sleep) sends `n` events without the lock; the worker
/// looks for work, and parks if it finds none (one turn, or two). Then:
/// did the worker park with published records it had not taken, and no
/// wake-up token on its channel? That is a lost wake-up; without
/// `SPOOL_RECHECK` the records would wait until some other event wakes
/// the worker. The recheck (the worker's timed wait ending) is then a
/// look at the slots made after the sender's stores are visible: it must
/// take every record.
fn model_b(cfg: Cfg, n: u32, lost: &StdCounter) {
    let shared = Shared::new(cfg);
    let mut local = Local::register(&shared).expect("open");
    let slot = local.slot.clone();
    {
        let mut st = slot.state.lock().unwrap();
        local.install(&slot, &mut st);
    }
    let worker = {
        let (shared, slot) = (shared.clone(), slot.clone());
        thread::spawn(move || (0..2).any(|_| shared.worker_turn(&slot)))
    };
    let sender = thread::spawn(move || {
        for id in ids(n) {
            local.send(id);
        }
        local
    });
    let parked = worker.join().unwrap();
    let _local = sender.join().unwrap();
    let token = *shared.wake.lock().unwrap();
    let left = {
        let st = slot.state.lock().unwrap();
        slot.holds(&st)
    };
    if parked && !token && left {
        lost.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    // Woken (a token), or the recheck: the worker looks again.
    shared.collect_slots();
    assert_eq!(shared.obs.lock().unwrap().delivered, ids(n));
}

fn run_b(name: &str, cfg: Cfg, n: u32) -> (usize, usize) {
    // How many executions lost the wake-up (counted outside loom).
    let lost = Arc::new(StdCounter::new(0));
    let l = lost.clone();
    let runs = check(name, B_BOUND, move || model_b(cfg, n, &l));
    let lost = lost.load(std::sync::atomic::Ordering::Relaxed);
    println!("loom model {name}: {lost} of {runs} executions lose the wake-up");
    (lost, runs)
}

/// The real orderings, one event: the store-buffering race between the
/// sender's `committed` store (Release) then `idle` load, and the
/// worker's `idle` store then `committed` load (Acquire): both can read
/// the old value. The model finds lost wake-ups; the recheck delivers
/// the event late instead of never.
#[test]
fn b_a_lock_free_append_can_miss_the_worker_parking_so_the_recheck_is_needed() {
    let (lost, _) = run_b("b (real, 1 event)", REAL, 1);
    assert!(lost > 0, "the model should show the lost wake-up");
}

/// The real orderings, two events: besides the race above, the second
/// append reads `taken` (Relaxed) and may see the worker's old value,
/// decide the worker is busy with the first record, and not wake it.
#[test]
fn b_two_lock_free_appends_lose_the_wake_up_too() {
    let (lost, _) = run_b("b (real, 2 events)", REAL, 2);
    assert!(lost > 0, "the model should show the lost wake-up");
}

/// With a `fence(SeqCst)` after the lock-free append and after the
/// worker's `idle` store (not in the real code), no execution loses the
/// wake-up: what the recheck stands in for, and what the fix would cost
/// (a full fence on every lock-free send).
#[test]
fn b_with_seqcst_fences_no_wake_up_is_lost() {
    let fenced = Cfg {
        sc_fences: true,
        ..REAL
    };
    let (lost, _) = run_b("b (SeqCst fences, 1 event)", fenced, 1);
    assert_eq!(lost, 0);
    let (lost, _) = run_b("b (SeqCst fences, 2 events)", fenced, 2);
    assert_eq!(lost, 0);
}

// ---------------------------------------------------------------------
// (c) A send racing close.

/// A thread sends `n` events (the first under the lock, installing the
/// spool; the second without it; a third finds the chunk full, seals it
/// and hands it off) and exits, while `close` runs (`Control::close`): it
/// sets `closed`, flushes (the queue and the slots: delivered), closes
/// the registry (what the slots still hold is counted closed), and counts
/// closed what is still on the queue. Every event is exactly one of:
/// delivered, counted closed by close, counted closed by its own thread
/// (stranded: published after close took the slot's records, counted at
/// the thread's next locked send or its exit), refused as closed. Never
/// two, never none; every buffer is freed once.
fn model_c(cfg: Cfg, n: u32) {
    let shared = Shared::new(cfg);
    let closer = {
        let shared = shared.clone();
        thread::spawn(move || {
            if shared.closed.swap(true, AcqRel) {
                return;
            }
            // `flush_until`, then the worker's `shutdown` (`take_everything`).
            // One slot per run: `drain_queue` needs it, and it is the
            // registry's only slot if there is one.
            let slot = shared.registry.lock().unwrap().slots.first().cloned();
            if let Some(slot) = &slot {
                shared.drain_queue(slot);
            }
            shared.collect_slots();
            // `Registry::close`, then what is left on the queue.
            let mut left = shared.close_slots();
            left.extend(shared.queue.lock().unwrap().drain(..));
            for p in left {
                let ids = p.ids();
                note(&shared.obs, |l| l.closed_by_close.extend(ids));
                p.free();
            }
        })
    };
    let sender = {
        let shared = shared.clone();
        thread::spawn(move || match Local::register(&shared) {
            Some(mut local) => {
                for id in ids(n) {
                    local.send(id);
                }
                local.exit();
            }
            None => note(&shared.obs, |l| l.rejected.extend(ids(n))),
        })
    };
    closer.join().unwrap();
    sender.join().unwrap();
    let log = shared.obs.lock().unwrap();
    let mut all: Vec<u32> = [
        &log.delivered,
        &log.closed_by_close,
        &log.stranded,
        &log.rejected,
    ]
    .into_iter()
    .flatten()
    .copied()
    .collect();
    all.sort_unstable();
    assert_eq!(
        all,
        ids(n),
        "each event exactly once: delivered {:?}, closed by close {:?}, stranded {:?}, rejected {:?}",
        log.delivered,
        log.closed_by_close,
        log.stranded,
        log.rejected
    );
    drop(log);
    assert_all_freed(&shared.obs);
}

#[test]
fn c_a_send_racing_close_is_delivered_or_counted_closed_exactly_once() {
    check("c (send vs close)", C_BOUND, || model_c(REAL, C_EVENTS));
}

/// (c) with the exiting thread sealing a closed slot's records instead of
/// counting them: some event is counted nowhere.
#[test]
#[should_panic(expected = "each event exactly once")]
fn c_mutant_exit_ignoring_closed_is_caught() {
    let cfg = Cfg {
        mutant: Mutant::ExitIgnoresClosed,
        ..REAL
    };
    check("c mutant (exit ignores closed)", C_BOUND, move || {
        model_c(cfg, C_EVENTS)
    });
}

// ---------------------------------------------------------------------
// (d) A thread exiting while the worker takes its records.

/// A thread sends `n` events (the third seals the spool and hands a chunk
/// off) and exits (`Local`'s drop: seal what is left into `pending`, free
/// the spool buffer, wake the worker), while the worker takes chunks off
/// the queue and records out of the slot. Then the worker's next looks
/// (the exit woke it). Every event is delivered once, in order; no buffer
/// is read after it is freed or freed while read; every buffer is freed
/// once (by the thread, or by the worker for a chunk given back after the
/// thread left); the registry forgets the slot only once it holds
/// nothing.
fn model_d(cfg: Cfg, n: u32, turns: usize) {
    let shared = Shared::new(cfg);
    let local = Local::register(&shared).expect("open");
    let slot = local.slot.clone();
    let worker = {
        let (shared, slot) = (shared.clone(), slot.clone());
        thread::spawn(move || {
            for _ in 0..turns {
                shared.drain_queue(&slot);
                shared.collect_slots();
            }
        })
    };
    let sender = thread::spawn(move || {
        let mut local = local;
        for id in ids(n) {
            local.send(id);
        }
        local.exit();
    });
    worker.join().unwrap();
    sender.join().unwrap();
    shared.drain_queue(&slot);
    shared.collect_slots();
    assert_eq!(
        shared.obs.lock().unwrap().delivered,
        ids(n),
        "every event delivered once, in order"
    );
    // One more look: the slot, empty and ownerless, is forgotten.
    shared.collect_slots();
    assert!(shared.registry.lock().unwrap().slots.is_empty());
    assert_all_freed(&shared.obs);
}

#[test]
fn d_a_thread_exiting_while_the_worker_takes_its_records_loses_nothing() {
    check("d (exit vs take)", D_BOUND, || {
        model_d(REAL, D_EVENTS, D_TURNS)
    });
}

/// (d) with the spool buffer freed before the exiting thread takes the
/// lock: the worker reads freed memory (or loom sees the free race the
/// read).
#[test]
#[should_panic]
fn d_mutant_free_before_the_lock_is_caught() {
    let cfg = Cfg {
        mutant: Mutant::FreeSpoolBeforeLock,
        ..REAL
    };
    check("d mutant (free before lock)", D_BOUND, move || {
        model_d(cfg, D_EVENTS, D_TURNS)
    });
}

/// (d) with the registry forgetting an exited thread's slot that still
/// holds records: they are never delivered.
#[test]
#[should_panic(expected = "every event delivered once")]
fn d_mutant_forgetting_a_slot_that_holds_records_is_caught() {
    let cfg = Cfg {
        mutant: Mutant::ForgetOwnerlessSlots,
        ..REAL
    };
    check("d mutant (forget ownerless slots)", D_BOUND, move || {
        model_d(cfg, D_EVENTS, D_TURNS)
    });
}
