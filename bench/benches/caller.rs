//! Caller cost of `send()`: what the host program's thread pays per event.
//!
//! The client's backend is `Backend::Custom(Arc::new(DiscardSender))`; the
//! background worker drains the queue (and serializes) on its own thread.
//! `block_on_send(true)` with a large queue: each timed chunk fits in the
//! queue, and the queue is flushed (untimed) between chunks, so the figures
//! are the cost of building + enqueueing, not of waiting for the worker.
//!
//! Allocations are counted by a global allocator wrapper, only on the
//! threads that send and only inside the timed region (the worker's
//! allocations are not counted). After each case the bench prints
//! `allocs/event` and the drops it saw.
//!
//! ```sh
//! cargo bench -p insights-events-bench --bench caller
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use insights_events::transmission::DiscardSender;
use insights_events::{Backend, Client, Config, DbQuery, Event};

#[path = "common/clock.rs"]
mod clock;
use clock::thread_cpu;
#[path = "common/fixed.rs"]
mod fixed;
use fixed::{QUERIES, REQUEST_IDS};

// ---------------------------------------------------------------------------
// Counting allocator.

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static REALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static TRACK: Cell<bool> = const { Cell::new(false) };
}

fn tracking() -> bool {
    TRACK.try_with(Cell::get).unwrap_or(false)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if tracking() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if tracking() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if tracking() {
            REALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Default, Clone, Copy)]
struct AllocSnap {
    allocs: u64,
    reallocs: u64,
    bytes: u64,
}

fn snap() -> AllocSnap {
    AllocSnap {
        allocs: ALLOCS.load(Ordering::Relaxed),
        reallocs: REALLOCS.load(Ordering::Relaxed),
        bytes: BYTES.load(Ordering::Relaxed),
    }
}

/// Allocation totals over every timed chunk of one case.
#[derive(Default)]
struct Tally {
    cpu: Duration,
    events: u64,
    allocs: u64,
    reallocs: u64,
    bytes: u64,
}

impl Tally {
    fn add(&mut self, events: u64, before: AllocSnap, after: AllocSnap) {
        self.events += events;
        self.allocs += after.allocs - before.allocs;
        self.reallocs += after.reallocs - before.reallocs;
        self.bytes += after.bytes - before.bytes;
    }
}

// ---------------------------------------------------------------------------
// The events.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Case {
    /// `DbQuery::new(q, d).request_id(id).send_with(&client)`: 2 own strings.
    Typed,
    /// The same with `.params(json!([n, "active"]))`.
    TypedParams,
    /// `client.new_event()` + 5 `add_field`s + `send()`.
    Event5,
    /// A builder with 2 dynamic fields; `new_event()` + 2 `add_field`s + `send()`.
    Builder2Dyn,
}

impl Case {
    /// Allocations that belong to the event's own data (strings it owns).
    fn own_strings(self) -> u64 {
        match self {
            // query, request_id
            Case::Typed => 2,
            // query, request_id, params: the array, the string in it
            Case::TypedParams => 4,
            // 5 keys + 3 string values (event_type, query, request_id)
            Case::Event5 => 8,
            // 2 added keys + 1 string value (query)
            Case::Builder2Dyn => 3,
        }
    }
}

fn client() -> Client {
    Client::new(
        Config::new()
            .backend(Backend::Custom(Arc::new(DiscardSender)))
            .max_queue_size(CHUNK * 4)
            .block_on_send(true)
            .drop_timeout(Duration::from_secs(30)),
    )
    .expect("client")
}

/// Largest number of events sent in one timed stretch (all threads); the
/// queue is drained between stretches.
const CHUNK: usize = 200_000;

fn builder_for(client: &Client) -> insights_events::Builder {
    let mut b = client.builder();
    b.add_field("service", "checkout");
    let counter = Arc::new(AtomicU64::new(0));
    b.add_dynamic_field("seq", move || counter.fetch_add(1, Ordering::Relaxed));
    b.add_dynamic_field("worker", || 3u32);
    b
}

/// Sends one event of `case`; `i` varies the data.
#[inline(always)]
fn send_one(case: Case, client: &Client, builder: &insights_events::Builder, i: usize) {
    let q = QUERIES[i & 3];
    let rid = REQUEST_IDS[(i >> 2) & 3];
    let d = (i & 1023) as f64 * 0.013 + 0.2;
    let r = match case {
        Case::Typed => DbQuery::new(q, d).request_id(rid).send_with(client),
        Case::TypedParams => DbQuery::new(q, d)
            .params(serde_json::json!([i as u64, "active"]))
            .request_id(rid)
            .send_with(client),
        Case::Event5 => {
            let mut ev: Event = client.new_event();
            ev.add_field("event_type", "db.query")
                .add_field("query", q)
                .add_field("duration", d)
                .add_field("request_id", rid)
                .add_field("rows", i as u64 & 63);
            ev.send()
        }
        Case::Builder2Dyn => {
            let mut ev = builder.new_event();
            ev.add_field("query", q).add_field("duration", d);
            ev.send()
        }
    };
    black_box(r).expect("send");
}

/// Runs `iters` sends on each of `threads` threads; returns the mean time
/// one caller spent per its `iters` sends (so criterion reports the cost of
/// one send as seen by one caller while `threads` callers send at once).
fn run(case: Case, client: &Client, threads: usize, iters: u64, tally: &mut Tally) -> Duration {
    let builder = builder_for(client);
    let mut total = Duration::ZERO;
    let mut left = iters as usize;
    let per_chunk = (CHUNK / threads).max(1);
    while left > 0 {
        let n = left.min(per_chunk);
        left -= n;
        let before = snap();
        let elapsed = if threads == 1 {
            TRACK.with(|t| t.set(true));
            let cpu0 = thread_cpu();
            let start = Instant::now();
            for i in 0..n {
                send_one(case, client, &builder, i);
            }
            let e = start.elapsed();
            tally.cpu += thread_cpu() - cpu0;
            TRACK.with(|t| t.set(false));
            e
        } else {
            let barrier = Barrier::new(threads);
            let times: Vec<(Duration, Duration)> = std::thread::scope(|s| {
                let hs: Vec<_> = (0..threads)
                    .map(|t| {
                        let barrier = &barrier;
                        let builder = &builder;
                        s.spawn(move || {
                            barrier.wait();
                            TRACK.with(|c| c.set(true));
                            let cpu0 = thread_cpu();
                            let start = Instant::now();
                            for i in 0..n {
                                send_one(case, client, builder, i + t);
                            }
                            let e = start.elapsed();
                            let cpu = thread_cpu() - cpu0;
                            TRACK.with(|c| c.set(false));
                            (e, cpu)
                        })
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().expect("thread")).collect()
            });
            tally.cpu += times.iter().map(|t| t.1).sum::<Duration>();
            times.iter().map(|t| t.0).sum::<Duration>() / threads as u32
        };
        let after = snap();
        tally.add((n * threads) as u64, before, after);
        total += elapsed;
        // Untimed: let the worker drain so the next chunk enqueues into an
        // empty queue.
        let f = client.flush(Duration::from_secs(60));
        assert!(f.completed, "flush did not complete: {f:?}");
    }
    total
}

fn bench_case(c: &mut Criterion, case: Case, threads: usize) {
    let client = client();
    let mut tally = Tally::default();
    let name = format!("send/{case:?}/threads={threads}");
    c.bench_function(&name, |b| {
        b.iter_custom(|iters| run(case, &client, threads, iters, &mut tally))
    });
    let f = client.flush(Duration::from_secs(60));
    if tally.events == 0 {
        return; // filtered out on the command line
    }
    let st = client.stats();
    let ev = tally.events.max(1) as f64;
    let allocs = tally.allocs as f64 / ev;
    println!(
        "CPU {name}: {:.0} ns of sending-thread CPU per event (mean over all samples)",
        tally.cpu.as_nanos() as f64 / ev
    );
    println!(
        "ALLOCS {name}: {allocs:.2} allocs/event ({:.2} beyond the event's {} own strings), {:.2} reallocs/event, {:.0} bytes/event; \
         stats: attempted={} sent={} dropped={} failed={} flush_completed={}",
        allocs - case.own_strings() as f64,
        case.own_strings(),
        tally.reallocs as f64 / ev,
        tally.bytes as f64 / ev,
        st.attempted,
        st.sent,
        st.dropped(),
        st.failed(),
        f.completed,
    );
    assert_eq!(st.dropped() + st.failed(), 0, "events were lost");
}

fn caller(c: &mut Criterion) {
    for case in [
        Case::Typed,
        Case::TypedParams,
        Case::Event5,
        Case::Builder2Dyn,
    ] {
        bench_case(c, case, 1);
    }
    for threads in [2, 4] {
        for case in [Case::Typed, Case::Event5, Case::Builder2Dyn] {
            bench_case(c, case, threads);
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(40)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = caller
}
criterion_main!(benches);
