//! What it costs a sending thread to hand a typed event to another thread,
//! with nothing of this crate in between: the physical limit under the
//! caller bench (`benches/caller.rs`).
//!
//! The producer builds what a typed send builds (a `DbQuery` with its two
//! own strings, in a `Box`, plus a timestamp) and hands it over; the
//! consumer reads every byte of both strings (as an encoder would) and the
//! producer frees the event once the consumer is done with it (as the
//! crate's slots do). Three ways:
//!
//! * `local`: no consumer; build and free on one thread, in runs of 32.
//!   What the event costs by itself.
//! * `ring`: a lock-free single-producer ring of 1,024 events. The producer
//!   writes events in place and publishes them 32 at a time with one
//!   release store; the consumer reads them in place and publishes how far
//!   it got; the producer frees what the consumer finished. No locked
//!   instruction at all: the cheapest hand-off there is.
//! * `chunks`: the crate's design in miniature before packing: a
//!   mutex-guarded pending chunk, full chunks of 32 over a bounded crossbeam
//!   channel, processed chunks given back to the producer to free.
//! * `bytes`: what packing does (`src/encode/packed.rs`): the producer
//!   copies the strings, the float and the timestamp into a 64 KiB byte ring
//!   and frees the event on the spot; the consumer reads the bytes. Only the
//!   copied bytes cross between cores.
//!
//! Prints the producer thread's CPU ns per event (median of 5 runs of 2M
//! events each).
//!
//! ```sh
//! cargo bench -p insights-events-bench --bench handoff
//! ```

use std::cell::UnsafeCell;
use std::hint::black_box;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use insights_events::DbQuery;

#[path = "common/clock.rs"]
mod clock;
use clock::thread_cpu;

const EVENTS: usize = 2_000_000;
const RUNS: usize = 5;
const CHUNK: usize = 32;
const RING: usize = 1024;

const QUERIES: [&str; 2] = [
    "SELECT \"users\".* FROM \"users\" WHERE \"users\".\"id\" = %s LIMIT 1",
    "UPDATE \"sessions\" SET \"last_seen_at\" = %s WHERE \"sessions\".\"id\" = %s",
];

/// What a typed send carries: the boxed struct and a timestamp.
struct Item {
    typed: Box<DbQuery>,
    _at: SystemTime,
}

#[inline(always)]
fn make(i: usize) -> Item {
    let q = DbQuery::new(QUERIES[i & 1], i as f64 * 0.013)
        .request_id("1f9f6f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a");
    Item {
        typed: Box::new(q),
        _at: SystemTime::now(),
    }
}

/// Reads every byte of the strings, as an encoder would.
fn consume(item: &Item, sum: &mut u64) {
    let t = &item.typed;
    *sum += t.query.bytes().map(u64::from).sum::<u64>();
    *sum += t.request_id.as_deref().map_or(0, |r| r.len() as u64);
}

fn per_event(start: Duration, n: usize) -> f64 {
    (thread_cpu() - start).as_nanos() as f64 / n as f64
}

fn local(n: usize) -> f64 {
    let mut run = Vec::with_capacity(CHUNK);
    let start = thread_cpu();
    for i in 0..n {
        run.push(make(i));
        if run.len() == CHUNK {
            black_box(&run);
            run.clear();
        }
    }
    per_event(start, n)
}

/// A single-producer, single-consumer ring. Slots `[freed, head)` hold
/// events; the consumer has finished `[freed, done)`.
struct Ring {
    slots: Box<[UnsafeCell<MaybeUninit<Item>>]>,
    head: AtomicUsize,
    done: AtomicUsize,
    stop: AtomicBool,
}

// SAFETY: a slot is written only by the producer while it is outside
// `[done, head)`, and read only by the consumer while inside it; `head`
// and `done` are published with release stores and read with acquire loads.
unsafe impl Sync for Ring {}

fn ring(n: usize) -> f64 {
    let ring = Arc::new(Ring {
        slots: (0..RING)
            .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
            .collect(),
        head: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    });
    let consumer = {
        let ring = ring.clone();
        std::thread::spawn(move || {
            let mut sum = 0;
            let mut done = 0;
            loop {
                let head = ring.head.load(Ordering::Acquire);
                if head == done {
                    if ring.stop.load(Ordering::Acquire) {
                        break;
                    }
                    std::hint::spin_loop();
                    continue;
                }
                while done < head {
                    // SAFETY: `done < head`: the producer wrote this slot and
                    // will not touch it until `done` passes it.
                    let item = unsafe { (*ring.slots[done % RING].get()).assume_init_ref() };
                    consume(item, &mut sum);
                    done += 1;
                    if done % CHUNK == 0 {
                        ring.done.store(done, Ordering::Release);
                    }
                }
                ring.done.store(done, Ordering::Release);
            }
            black_box(sum);
        })
    };
    let mut freed = 0;
    let free_to = |freed: &mut usize, done: usize| {
        while *freed < done {
            // SAFETY: the consumer is done with this slot, which holds an
            // event the producer wrote.
            unsafe { (*ring.slots[*freed % RING].get()).assume_init_drop() };
            *freed += 1;
        }
    };
    let start = thread_cpu();
    for head in 0..n {
        let item = make(head);
        if head - freed == RING {
            let mut done;
            loop {
                done = ring.done.load(Ordering::Acquire);
                if done > freed {
                    break;
                }
                std::hint::spin_loop();
            }
            free_to(&mut freed, done);
        } else if head % CHUNK == 0 {
            free_to(&mut freed, ring.done.load(Ordering::Acquire));
        }
        // SAFETY: `head - freed < RING`: this slot is free.
        unsafe { (*ring.slots[head % RING].get()).write(item) };
        if (head + 1) % CHUNK == 0 {
            ring.head.store(head + 1, Ordering::Release);
        }
    }
    ring.head.store(n, Ordering::Release);
    let ns = per_event(start, n);
    while ring.done.load(Ordering::Acquire) < n {
        std::hint::spin_loop();
    }
    free_to(&mut freed, n);
    ring.stop.store(true, Ordering::Release);
    consumer.join().expect("consumer");
    ns
}

fn chunks(n: usize) -> f64 {
    type State = (Vec<Item>, Vec<Vec<Item>>);
    let slot: Arc<Mutex<State>> = Arc::new(Mutex::new((Vec::with_capacity(CHUNK), Vec::new())));
    let (tx, rx) = crossbeam_channel::bounded::<Vec<Item>>(RING / CHUNK);
    let consumer = {
        let slot = slot.clone();
        std::thread::spawn(move || {
            let mut sum = 0;
            for chunk in rx {
                for item in &chunk {
                    consume(item, &mut sum);
                }
                let mut st = slot.lock().expect("slot");
                if st.1.len() < 16 {
                    st.1.push(chunk);
                } else {
                    drop(st);
                    drop(chunk);
                }
            }
            black_box(sum);
        })
    };
    let start = thread_cpu();
    for i in 0..n {
        let item = make(i);
        let mut st = slot.lock().expect("slot");
        st.0.push(item);
        if st.0.len() == CHUNK {
            let mut spent = std::mem::take(&mut st.1);
            let next = spent.pop().map_or_else(
                || Vec::with_capacity(CHUNK),
                |mut v| {
                    v.clear();
                    v
                },
            );
            let full = std::mem::replace(&mut st.0, next);
            drop(st);
            tx.send(full).expect("send");
            drop(spent);
        }
    }
    let ns = per_event(start, n);
    drop(tx);
    consumer.join().expect("consumer");
    ns
}

/// Bytes of the `bytes` case's ring.
const BYTE_RING: usize = 64 * 1024;

/// A single-producer, single-consumer ring of bytes: `[freed, head)` holds
/// records; the consumer has finished `[.., done)`.
struct ByteRing {
    buf: Box<[UnsafeCell<u8>]>,
    head: AtomicUsize,
    done: AtomicUsize,
    stop: AtomicBool,
}

// SAFETY: as for `Ring`: the producer writes only outside `[done, head)`,
// the consumer reads only inside it.
unsafe impl Sync for ByteRing {}

impl ByteRing {
    fn ptr(&self, pos: usize) -> *mut u8 {
        self.buf[pos % BYTE_RING].get()
    }
}

/// Copies what the encoder needs into the ring at `pos` and returns the
/// record's length: the strings are freed right away, on this thread.
#[inline(always)]
fn encode(ring: &ByteRing, pos: usize, i: usize) -> usize {
    let q = DbQuery::new(QUERIES[i & 1], i as f64 * 0.013)
        .request_id("1f9f6f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a");
    let at = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let rid = q.request_id.as_deref().unwrap_or("");
    let len = (24 + q.query.len() + rid.len() + 7) & !7;
    let p = ring.ptr(pos);
    // SAFETY: the caller checked that `[pos, pos + len)` is free and does
    // not wrap.
    unsafe {
        (p as *mut u32).write_unaligned(len as u32);
        (p.add(4) as *mut u32).write_unaligned(q.query.len() as u32);
        (p.add(8) as *mut u64).write_unaligned(q.duration.to_bits());
        (p.add(16) as *mut u64).write_unaligned(at);
        std::ptr::copy_nonoverlapping(q.query.as_ptr(), p.add(24), q.query.len());
        std::ptr::copy_nonoverlapping(rid.as_ptr(), p.add(24 + q.query.len()), rid.len());
    }
    len
}

fn bytes(n: usize) -> f64 {
    let ring = Arc::new(ByteRing {
        buf: (0..BYTE_RING).map(|_| UnsafeCell::new(0)).collect(),
        head: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    });
    let consumer = {
        let ring = ring.clone();
        std::thread::spawn(move || {
            let mut sum = 0u64;
            let mut done = 0;
            loop {
                let head = ring.head.load(Ordering::Acquire);
                if head == done {
                    if ring.stop.load(Ordering::Acquire) {
                        break;
                    }
                    std::hint::spin_loop();
                    continue;
                }
                while done < head {
                    let p = ring.ptr(done);
                    // SAFETY: `[done, head)` was written by the producer.
                    let len = unsafe { (p as *const u32).read_unaligned() } as usize;
                    if len == 0 {
                        // Skip to the start of the ring.
                        done += BYTE_RING - done % BYTE_RING;
                        continue;
                    }
                    for k in 24..len {
                        // SAFETY: inside the record.
                        sum += u64::from(unsafe { *p.add(k) });
                    }
                    done += len;
                }
                ring.done.store(done, Ordering::Release);
            }
            black_box(sum);
        })
    };
    let max_len = 24 + 128 + 64;
    let mut head = 0;
    let mut seen = 0;
    let start = thread_cpu();
    for i in 0..n {
        let room_to_end = BYTE_RING - head % BYTE_RING;
        if room_to_end < max_len {
            // SAFETY: below, the producer waits until these bytes are free.
            while head + room_to_end - seen > BYTE_RING {
                seen = ring.done.load(Ordering::Acquire);
            }
            unsafe { (ring.ptr(head) as *mut u32).write_unaligned(0) };
            head += room_to_end;
        }
        while head + max_len - seen > BYTE_RING {
            seen = ring.done.load(Ordering::Acquire);
        }
        head += encode(&ring, head, i);
        if (i + 1) % CHUNK == 0 {
            ring.head.store(head, Ordering::Release);
        }
    }
    ring.head.store(head, Ordering::Release);
    let ns = per_event(start, n);
    while ring.done.load(Ordering::Acquire) < head {
        std::hint::spin_loop();
    }
    ring.stop.store(true, Ordering::Release);
    consumer.join().expect("consumer");
    ns
}

/// The median of [`RUNS`] runs, and every run (the spread shows when the
/// machine changed between runs).
fn median(f: fn(usize) -> f64, n: usize) -> (f64, Vec<f64>) {
    let runs: Vec<f64> = (0..RUNS).map(|_| f(n)).collect();
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    (sorted[RUNS / 2], runs)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // a short smoke run.
    let n = if std::env::args().any(|a| a == "--bench") {
        EVENTS
    } else {
        20_000
    };
    println!("producer thread CPU ns per event (median of {RUNS} runs of {n}; every run):");
    for (name, f) in [
        (
            "local  (build + free, one thread)    ",
            local as fn(usize) -> f64,
        ),
        ("ring   (lock-free SPSC hand-off)     ", ring),
        ("chunks (mutex slot + 32-event chunks)", chunks),
        ("bytes  (strings copied to a byte ring)", bytes),
    ] {
        let (median, runs) = median(f, n);
        println!("  {name} {median:6.0}   {runs:.0?}");
    }
}
