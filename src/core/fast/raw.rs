//! The fast path's raw operations: every `unsafe` block of the core is
//! here, each behind a safe interface, with a `SAFETY:` comment (denied
//! otherwise by `clippy::undocumented_unsafe_blocks`) and a test that
//! runs it.
//!
//! * [`blocks`]: typed events' heap blocks, reused on the thread that sent
//!   them.
//! * [`spool`]: a spool buffer, written by its owning thread without a
//!   lock and read by the worker under the slot's lock, and the marks
//!   between them.
//! * [`cpu`]: `clock_gettime(CLOCK_REALTIME)`, the TSC, and the CPU's
//!   invariant-TSC bit, for the clock a typed send reads.
//! * [`fork`]: `pthread_atfork`, so a forked child notices it is one.

pub(crate) mod blocks {
    //! Reuse of typed events' heap blocks on the thread that sends them.
    //!
    //! A typed struct travels in an [`Event`](crate::Event) behind a `Box`. The
    //! worker gives processed events back to the thread that sent them (see
    //! `core::fast::slots`), and that thread's next hand-off would free
    //! them. Instead, each emptied box's block is kept here, and the next typed
    //! event of the same size and alignment is written into it: in steady state
    //! a typed `send()` makes no allocation of its own, and the system
    //! allocator's slow path (a block too large for its per-thread cache,
    //! freed in bursts of a whole chunk) is off the sending thread's path.
    //!
    //! What a thread keeps is bounded: [`MAX_LAYOUTS`] sizes, [`MAX_BLOCKS`]
    //! blocks of each, blocks of at most [`MAX_BLOCK_BYTES`]. The blocks are
    //! freed when the thread exits.
    //!

    use std::alloc::Layout;
    use std::cell::RefCell;
    use std::ptr::NonNull;

    use crate::model::erased::ErasedTyped;

    /// Different block layouts a thread keeps (a thread usually sends one or
    /// two event types).
    pub(crate) const MAX_LAYOUTS: usize = 4;
    /// Blocks kept per layout: two chunks' worth, enough for the events a
    /// thread sends between two hand-offs.
    pub(crate) const MAX_BLOCKS: usize = 64;
    /// Larger blocks are freed as usual.
    pub(crate) const MAX_BLOCK_BYTES: usize = 1024;

    /// Free blocks of one layout. Every pointer was allocated by the global
    /// allocator with exactly `layout`, and holds no value.
    struct Pool {
        layout: Layout,
        free: Vec<NonNull<u8>>,
    }

    #[derive(Default)]
    struct Pools(Vec<Pool>);

    impl Drop for Pools {
        fn drop(&mut self) {
            for pool in &mut self.0 {
                for ptr in pool.free.drain(..) {
                    // SAFETY: `ptr` was allocated by the global allocator with
                    // `pool.layout` (see `put`) and holds no value.
                    unsafe { std::alloc::dealloc(ptr.as_ptr(), pool.layout) };
                }
            }
        }
    }

    thread_local! {
        static POOLS: RefCell<Pools> = const { RefCell::new(Pools(Vec::new())) };
    }

    /// Boxes `value`, in a block this thread kept if it has one that fits.
    pub(crate) fn boxed<T: ErasedTyped + 'static>(value: T) -> Box<dyn ErasedTyped> {
        let layout = Layout::new::<T>();
        if !kept_size(layout) {
            return Box::new(value);
        }
        match take(layout) {
            Some(ptr) => {
                let ptr = ptr.as_ptr().cast::<T>();
                // SAFETY: `ptr` was allocated by the global allocator with a
                // layout equal to `Layout::new::<T>()` (same size and alignment)
                // and holds no value; writing `value` makes it a valid `T`, and
                // `Box::from_raw` takes ownership of exactly that allocation.
                unsafe {
                    ptr.write(value);
                    Box::from_raw(ptr)
                }
            }
            None => Box::new(value),
        }
    }

    /// Drops each boxed value and keeps its block for [`boxed`] (or frees it
    /// when this thread keeps enough already). Takes a whole batch of returned
    /// events at once: one look at the thread-local pools.
    pub(crate) fn put_all(values: impl Iterator<Item = Box<dyn ErasedTyped>>) {
        // If the pools are gone (the thread is exiting) or in use, the
        // iterator is dropped unread and the values are freed as usual.
        let _ = POOLS.try_with(|pools| {
            let Ok(mut pools) = pools.try_borrow_mut() else {
                return;
            };
            for value in values {
                pools.keep(value);
            }
        });
    }

    impl Pools {
        /// Keeps the block of `value` after dropping the value, or frees it.
        fn keep(&mut self, value: Box<dyn ErasedTyped>) {
            let layout = Layout::for_value(&*value);
            if !kept_size(layout) {
                return;
            }
            let idx = match self.0.iter().position(|p| p.layout == layout) {
                Some(i) => i,
                None if self.0.len() < MAX_LAYOUTS => {
                    self.0.push(Pool {
                        layout,
                        free: Vec::with_capacity(MAX_BLOCKS),
                    });
                    self.0.len() - 1
                }
                None => return,
            };
            let pool = &mut self.0[idx];
            if pool.free.len() >= MAX_BLOCKS {
                return;
            }
            let raw: *mut dyn ErasedTyped = Box::into_raw(value);
            // SAFETY: `raw` comes from `Box::into_raw`, so it is valid and owned
            // here; after `drop_in_place` the value is gone and only the block
            // (allocated by the global allocator with `layout`, the value's
            // `Layout::for_value`) is kept. A panicking destructor would leak
            // the block, never free it twice.
            unsafe { std::ptr::drop_in_place(raw) };
            if let Some(ptr) = NonNull::new(raw.cast::<u8>()) {
                pool.free.push(ptr);
            }
        }
    }

    /// Whether blocks of this layout are kept: not zero-sized (a `Box` of a
    /// zero-sized value allocates nothing) and not larger than
    /// [`MAX_BLOCK_BYTES`].
    fn kept_size(layout: Layout) -> bool {
        layout.size() != 0 && layout.size() <= MAX_BLOCK_BYTES
    }

    fn take(layout: Layout) -> Option<NonNull<u8>> {
        POOLS
            .try_with(|pools| {
                let mut pools = pools.try_borrow_mut().ok()?;
                let pool = pools.0.iter_mut().find(|p| p.layout == layout)?;
                pool.free.pop()
            })
            .ok()
            .flatten()
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::schema::generated::python::DbQuery;

        #[test]
        fn a_kept_block_is_reused_for_the_next_event_of_that_type() {
            let first = boxed(DbQuery::new("SELECT 1", 1.0).request_id("a"));
            let addr = (&*first as *const dyn ErasedTyped).cast::<u8>();
            put_all(std::iter::once(first));
            let second = boxed(DbQuery::new("SELECT 2", 2.0));
            assert_eq!((&*second as *const dyn ErasedTyped).cast::<u8>(), addr);
            let mut buf = Vec::new();
            second.write_json(&mut buf).expect("json");
            let text = String::from_utf8(buf).expect("utf8");
            assert!(text.contains("SELECT 2"), "{text}");
            assert!(!text.contains("request_id"), "{text}");
        }

        #[test]
        fn a_thread_keeps_a_bounded_number_of_blocks() {
            std::thread::spawn(|| {
                let many: Vec<_> = (0..MAX_BLOCKS + 10)
                    .map(|i| boxed(DbQuery::new(format!("q{i}"), 1.0)))
                    .collect();
                put_all(many.into_iter());
                let kept = POOLS.with(|p| p.borrow().0.iter().map(|p| p.free.len()).sum::<usize>());
                assert_eq!(kept, MAX_BLOCKS);
            })
            .join()
            .expect("thread");
        }
    }
}

pub(crate) mod spool {
    //! A spool buffer: its owning thread appends records and publishes
    //! each with one release store of `committed`, without a lock; the
    //! worker reads the published bytes under the slot's lock through a
    //! [`SpoolView`] kept in the slot's locked state. The buffer is freed
    //! or moved only through [`OwnSpool::reclaim`], which takes the view
    //! out of that state: so never while the worker reads.

    use std::mem::ManuallyDrop;
    use std::ptr::NonNull;

    use crate::core::fast::sync::{AtomicUsize, Bytes, Ordering};

    /// The ordering of `put`'s store of `committed`: `Release` (a loom
    /// test may plant `Relaxed`, see `sync::Plant`).
    #[inline(always)]
    fn publish_order() -> Ordering {
        #[cfg(loom)]
        if crate::core::fast::sync::Plant::RelaxedPublish.is() {
            return Ordering::Relaxed;
        }
        Ordering::Release
    }

    /// The ordering of `published`'s load of `committed`: `Acquire` (a
    /// loom test may plant `Relaxed`, see `sync::Plant`).
    #[inline(always)]
    fn read_committed_order() -> Ordering {
        #[cfg(loom)]
        if crate::core::fast::sync::Plant::RelaxedReadOfCommitted.is() {
            return Ordering::Relaxed;
        }
        Ordering::Acquire
    }

    /// How far the owner has written its spool, and the worker read it.
    #[derive(Default)]
    pub(crate) struct Marks {
        /// Bytes of whole records in the spool: stored by the owner after
        /// each record (release), read by the worker under the lock
        /// (acquire).
        committed: AtomicUsize,
        /// Bytes of the spool the worker has taken: written under the
        /// lock, read by the owner without it (to know whether to wake the
        /// worker).
        taken: AtomicUsize,
    }

    impl Marks {
        /// Bytes the worker has taken.
        #[inline]
        pub(crate) fn taken(&self) -> usize {
            self.taken.load(Ordering::Relaxed)
        }

        /// The worker took the published bytes up to `to` (under the lock).
        pub(crate) fn set_taken(&self, to: usize) {
            self.taken.store(to, Ordering::Release);
        }

        /// Both marks back to the start (under the lock, with the spool's
        /// records sealed or taken).
        pub(crate) fn reset(&self) {
            self.committed.store(0, Ordering::Release);
            self.taken.store(0, Ordering::Release);
        }
    }

    /// The worker's view of a spool buffer; kept in the slot's locked state.
    pub(crate) struct SpoolView {
        ptr: NonNull<u8>,
        cap: usize,
        /// The buffer's bytes as loom sees them (nothing without loom).
        bytes: Bytes,
    }

    // SAFETY: the pointer is only dereferenced through `published`, under
    // the slot's lock, for bytes the owner published and no longer writes;
    // the owner frees or moves the buffer only in `OwnSpool::reclaim`,
    // which first takes this view out of the locked state.
    unsafe impl Send for SpoolView {}

    impl SpoolView {
        /// The published bytes not taken yet, and the `committed` mark.
        /// `marks` are the marks of this view's spool (the slot's).
        pub(crate) fn published<'a>(&'a self, marks: &Marks) -> (&'a [u8], usize) {
            let committed = marks.committed.load(read_committed_order()).min(self.cap);
            let taken = marks.taken.load(Ordering::Relaxed);
            if committed <= taken {
                return (&[], committed);
            }
            self.bytes.read(taken, committed);
            // SAFETY: `self` is borrowed from the locked state, so the owner
            // cannot reclaim the buffer meanwhile; `committed` is a length the
            // owner wrote before its release store (marks start at 0 with
            // each buffer, see `OwnSpool::new`), and it writes only past it;
            // `committed <= cap` keeps the range inside the allocation.
            let bytes = unsafe {
                std::slice::from_raw_parts(self.ptr.as_ptr().add(taken), committed - taken)
            };
            (bytes, committed)
        }
    }

    /// The owner's side of a spool buffer (a vector's allocation, taken
    /// apart so that the worker's view can read it while the owner
    /// appends).
    pub(crate) struct OwnSpool {
        ptr: NonNull<u8>,
        cap: usize,
        /// Bytes written (and published).
        len: usize,
        /// Records written since the buffer was installed.
        count: usize,
        /// A view of the buffer was handed out.
        viewed: bool,
        /// The buffer's bytes as loom sees them (nothing without loom).
        bytes: Bytes,
    }

    impl OwnSpool {
        /// Takes over `buf`'s allocation if it holds `min` bytes, else a new
        /// one; resets `marks` (under the slot's lock), which then belong
        /// to this buffer.
        pub(crate) fn new(buf: Vec<u8>, min: usize, marks: &Marks) -> OwnSpool {
            let mut buf = if buf.capacity() >= min {
                buf
            } else {
                Vec::with_capacity(min)
            };
            buf.clear();
            marks.reset();
            let mut buf = ManuallyDrop::new(buf);
            OwnSpool {
                // A vector's pointer is never null.
                ptr: NonNull::new(buf.as_mut_ptr()).unwrap_or(NonNull::dangling()),
                cap: buf.capacity(),
                len: 0,
                count: 0,
                viewed: false,
                bytes: Bytes::new(buf.capacity()),
            }
        }

        /// The worker's view of this buffer, for the slot's locked state.
        pub(crate) fn view(&mut self) -> SpoolView {
            self.viewed = true;
            SpoolView {
                ptr: self.ptr,
                cap: self.cap,
                bytes: self.bytes.clone(),
            }
        }

        /// Bytes of the buffer.
        #[inline]
        pub(crate) fn cap(&self) -> usize {
            self.cap
        }

        /// Bytes written.
        #[inline]
        pub(crate) fn len(&self) -> usize {
            self.len
        }

        /// Records written.
        #[inline]
        pub(crate) fn count(&self) -> usize {
            self.count
        }

        /// Bytes left.
        #[inline]
        pub(crate) fn room(&self) -> usize {
            self.cap - self.len
        }

        /// Writes `record` past the published bytes and publishes it. The
        /// caller checked that it fits.
        #[inline]
        pub(crate) fn put(&mut self, marks: &Marks, record: &[u8]) {
            let n = record.len();
            assert!(self.cap - self.len >= n);
            self.bytes.write(self.len, self.len + n);
            // SAFETY: `[len, len + n)` is inside the buffer (asserted above)
            // and past the published bytes: nobody reads it until the store
            // below.
            unsafe {
                std::ptr::copy_nonoverlapping(record.as_ptr(), self.ptr.as_ptr().add(self.len), n);
            }
            self.len += n;
            self.count += 1;
            marks.committed.store(self.len, publish_order());
        }

        /// Forgets the records (sealed or taken: under the lock) and resets
        /// `marks`, to write the buffer again from its start.
        pub(crate) fn rewind(&mut self, marks: &Marks) {
            self.len = 0;
            self.count = 0;
            marks.reset();
        }

        /// The buffer as a vector of its written bytes, taking the worker's
        /// view out of the slot's locked state first (so `view` must be
        /// that state's field). A view that is not this buffer's leaves the
        /// buffer leaked rather than freed while something may read it.
        pub(crate) fn reclaim(self, view: &mut Option<SpoolView>) -> Option<Vec<u8>> {
            let taken = view.take();
            let mine = match taken {
                Some(v) => v.ptr == self.ptr,
                None => !self.viewed,
            };
            if !mine {
                return None;
            }
            // The free that follows, as loom sees it.
            self.bytes.write(0, self.cap);
            // SAFETY: `ptr` and `cap` come from a vector (`new`) whose first
            // `len` bytes were written; the only view of it was just taken
            // out of the locked state (or none was handed out), so nothing
            // reads it any more.
            Some(unsafe { Vec::from_raw_parts(self.ptr.as_ptr(), self.len, self.cap) })
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn published_bytes_are_what_was_put_and_not_taken() {
            let marks = Marks::default();
            let mut sp = OwnSpool::new(Vec::new(), 64, &marks);
            let mut view = Some(sp.view());
            sp.put(&marks, b"abc");
            sp.put(&marks, b"de");
            let v = view.as_ref().expect("view");
            assert_eq!(v.published(&marks), (&b"abcde"[..], 5));
            marks.set_taken(3);
            assert_eq!(v.published(&marks).0, b"de");
            marks.set_taken(5);
            assert!(v.published(&marks).0.is_empty());
            sp.rewind(&marks);
            sp.put(&marks, b"x");
            assert_eq!(view.as_ref().expect("view").published(&marks).0, b"x");
            let back = sp.reclaim(&mut view).expect("its own view");
            assert_eq!(back, b"x");
            assert!(view.is_none(), "the view is taken out");
        }

        #[test]
        fn a_spool_is_not_freed_with_another_spools_view() {
            let marks = Marks::default();
            let mut a = OwnSpool::new(Vec::new(), 16, &marks);
            let mut b = OwnSpool::new(Vec::new(), 16, &marks);
            let _view_a = a.view();
            let mut view_b = Some(b.view());
            // `a` is still read through its own view: leaked, not freed.
            assert!(a.reclaim(&mut view_b).is_none());
            let mut none = None;
            drop(OwnSpool::new(vec![1, 2, 3], 2, &marks).reclaim(&mut none));
        }
    }
}

pub(crate) mod cpu {
    //! The clock's raw reads.

    use std::time::Duration;

    /// `CLOCK_REALTIME`, read straight into a `Duration`.
    #[cfg(unix)]
    #[inline]
    pub(crate) fn realtime() -> Option<Duration> {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `clock_gettime` only writes into the timespec we pass.
        if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) } != 0 {
            return None;
        }
        let secs = u64::try_from(ts.tv_sec).ok()?;
        let nanos = u32::try_from(ts.tv_nsec)
            .ok()
            .filter(|&n| n < 1_000_000_000)?;
        Some(Duration::new(secs, nanos))
    }

    /// Whether the CPU says its TSC ticks at a constant rate in every power
    /// state (CPUID's invariant-TSC bit).
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn invariant_tsc() -> bool {
        // SAFETY: CPUID is on every x86-64 CPU; leaf 0x8000_0000 gives the
        // highest extended leaf, asked for before 0x8000_0007.
        #[allow(unused_unsafe)]
        unsafe {
            let max = std::arch::x86_64::__cpuid(0x8000_0000).eax;
            max >= 0x8000_0007 && std::arch::x86_64::__cpuid(0x8000_0007).edx & (1 << 8) != 0
        }
    }

    /// The TSC.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    pub(crate) fn read_tsc() -> u64 {
        // SAFETY: RDTSC is on every x86-64 CPU.
        #[allow(unused_unsafe)]
        unsafe {
            std::arch::x86_64::_rdtsc()
        }
    }

    #[cfg(test)]
    mod tests {
        #[cfg(unix)]
        #[test]
        fn realtime_is_the_system_clock() {
            let ours = super::realtime().expect("a clock after 1970");
            let std = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970");
            let gap = ours.abs_diff(std);
            assert!(gap < std::time::Duration::from_secs(5), "{gap:?}");
        }

        #[cfg(target_arch = "x86_64")]
        #[test]
        fn the_tsc_moves_forward() {
            let _ = super::invariant_tsc();
            let a = super::read_tsc();
            let b = super::read_tsc();
            assert!(b >= a);
        }
    }
}

pub(crate) mod fork {
    //! `pthread_atfork`: a function the child of a `fork()` runs before
    //! `fork` returns in it (used by `core::fork` to notice the fork).

    /// Registers `child` to run in the child process after every `fork()`.
    /// False where processes do not fork (not unix) or registration failed.
    #[cfg(unix)]
    pub(crate) fn on_child(child: extern "C" fn()) -> bool {
        // SAFETY: pthread_atfork only records the handlers: no prepare or
        // parent handler (null), and `child`, a plain `extern "C" fn()`
        // that lives as long as the program. What `child` does in the
        // child process is its own contract (see `core::fork::in_child`:
        // an atomic add and forgetting thread-local slots, no lock, no
        // allocation).
        unsafe { libc::pthread_atfork(None, None, Some(child)) == 0 }
    }

    /// Registers `child` to run in the child process after every `fork()`.
    /// False where processes do not fork (not unix) or registration failed.
    #[cfg(not(unix))]
    pub(crate) fn on_child(_child: extern "C" fn()) -> bool {
        false
    }

    #[cfg(test)]
    mod tests {
        extern "C" fn nothing() {}

        /// Registration succeeds (a real fork runs the handler in
        /// tests/process.rs).
        #[test]
        #[cfg(unix)]
        fn registers() {
            assert!(super::on_child(nothing));
        }
    }
}
