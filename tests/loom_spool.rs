//! Model checks (loom) of the spool's publish/take protocol, on the real
//! code: `src/core/fast/raw.rs`'s `spool` (`OwnSpool::put`'s release
//! store of `committed`, `SpoolView::published`'s acquire load and its
//! read of the bytes, `Marks`, `OwnSpool::rewind` and `reclaim`), built
//! with `--cfg loom` so that its atomics and the slot's lock are loom's
//! (`src/core/fast/sync.rs`), and driven through the hidden
//! `insights_events::__loom` (`src/core/fast/loom_entry.rs`) the way
//! `core::fast::slots` drives it. Every byte of a spool buffer is a loom
//! cell (`sync::Bytes`): loom reports a read of a byte not ordered after
//! its write (the worker reading unpublished bytes), and a write or free
//! racing a read.
//!
//! The rest of the hand-off (seal, install, the queue, close, the
//! thread's exit, the wake-up) is still checked on a miniature, in
//! `tests/loom_handoff.rs`.
//!
//! Planted bugs (`__loom::Plant`, honoured by the real code only under
//! `--cfg loom`) show that the checks catch what they are meant to.
//!
//! Run as `.ci/run` does (see RELIABILITY.md, "Model checking and
//! valgrind"):
//!
//! ```sh
//! mkdir -p target && printf '#!/bin/sh\nexec "$@" --cfg loom\n' > target/loom-rustc
//! chmod +x target/loom-rustc
//! RUSTC_WORKSPACE_WRAPPER="$PWD/target/loom-rustc" CARGO_TARGET_DIR=target/loom \
//!   cargo test --release --test loom_spool --test loom_handoff -- --nocapture --test-threads=1
//! ```
#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use insights_events::__loom::{self, Plant};
use loom::thread;

/// The planted bug is a process-wide switch: one model at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `f` under loom (every interleaving) with `plant` planted;
/// prints the executions explored and the time.
fn check(name: &str, plant: Plant, f: impl Fn() + Sync + Send + 'static) {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    plant.set();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let start = Instant::now();
    loom::model::Builder::new().check(move || {
        counted.fetch_add(1, Ordering::Relaxed);
        f();
    });
    Plant::None.set();
    println!(
        "loom model {name} (real spool): {} executions explored in {:.2?}",
        runs.load(Ordering::Relaxed),
        start.elapsed()
    );
}

/// Record `k`: two bytes, `[k, k]`.
fn rec(k: u8) -> [u8; 2] {
    [k, k]
}

/// The owning thread appends records 1 and 2 without the lock, rewinds
/// its spool if the worker took both (writing record 3 over record 1's
/// bytes), appends record 3, and takes the buffer back (under the lock).
/// Meanwhile the worker takes published records twice. Every record is
/// taken once, whole, in order: by the worker, or left in the buffer the
/// owner took back; loom checks that no byte is read before it is
/// published or while it is written, nor after the buffer was taken back.
fn spool_model() {
    let (mut owner, slot) = __loom::spool(6);
    let worker = {
        let slot = slot.clone();
        thread::spawn(move || {
            let mut got = Vec::new();
            for _ in 0..2 {
                let bytes = slot.take();
                assert_eq!(bytes.len() % 2, 0, "a record taken in part: {bytes:?}");
                got.extend(bytes);
            }
            got
        })
    };
    let sender = thread::spawn(move || {
        for k in [1, 2] {
            assert!(owner.try_append(&rec(k)).is_some(), "record {k} fits");
        }
        owner.rewind_if_drained();
        assert!(owner.try_append(&rec(3)).is_some(), "record 3 fits");
        owner.reclaim().expect("the spool's own view")
    });
    let mut delivered = worker.join().expect("worker");
    let (buf, taken) = sender.join().expect("sender");
    assert!(
        slot.take().is_empty(),
        "the view was taken out with the buffer"
    );
    delivered.extend_from_slice(&buf[taken..]);
    assert_eq!(delivered, [1, 1, 2, 2, 3, 3]);
}

#[test]
fn records_are_taken_once_whole_in_order_and_never_before_they_are_published() {
    check(
        "spool (append/take/rewind/reclaim)",
        Plant::None,
        spool_model,
    );
}

/// `OwnSpool::put` publishing with Relaxed: loom must report the worker
/// reading bytes not ordered after their write, which shows that the
/// check sees what the Release is for.
#[test]
#[should_panic(expected = "Causality violation")]
fn planted_relaxed_publish_is_caught() {
    check(
        "spool, planted Relaxed publish",
        Plant::RelaxedPublish,
        spool_model,
    );
}

/// `SpoolView::published` loading `committed` Relaxed: caught likewise.
#[test]
#[should_panic(expected = "Causality violation")]
fn planted_relaxed_read_of_committed_is_caught() {
    check(
        "spool, planted Relaxed read of committed",
        Plant::RelaxedReadOfCommitted,
        spool_model,
    );
}
