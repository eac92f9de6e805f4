//! The crate's hand-written pieces against the well-kept crates they stand
//! in for, on this machine: the clock a typed send reads
//! (`core::fast::clock`) against `quanta` and `SystemTime::now`, and the
//! reused compressor of `transport::compress` against a fresh
//! `flate2::write::GzEncoder` per body. The module docs quote its figures
//! (and `BENCHMARKS.md`).
//!
//! ```sh
//! cargo run --release --example twins
//! ```
//!
//! Each figure is the median of 7 rounds; run it twice (the VM is noisy).

use std::hint::black_box;
use std::io::Write;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use insights_events::Compression;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median ns per call of `f` over rounds of `n` calls.
fn ns_per_call(n: usize, mut f: impl FnMut()) -> f64 {
    median(
        (0..7)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..n {
                    f();
                }
                start.elapsed().as_nanos() as f64 / n as f64
            })
            .collect(),
    )
}

/// An NDJSON body like the throughput harness's: `events` `db.query` lines.
fn body(events: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..events {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        writeln!(
            out,
            r#"{{"event_type":"db.query","query":"SELECT * FROM table_{} WHERE id = %s","duration":{}.{},"params":[{}],"request_id":"{:016x}-{:04x}","ts":"2026-12-01T20:00:00.{:06}Z"}}"#,
            i % 40,
            x % 40,
            x % 1000,
            x % 100_000,
            x,
            i % 0xffff,
            i % 1_000_000
        )
        .expect("write");
    }
    out
}

fn main() {
    let n = 2_000_000;
    let ours = ns_per_call(n, || {
        black_box(insights_events::__private::since_epoch());
    });
    let clock = quanta::Clock::new();
    let quanta_now = ns_per_call(n, || {
        black_box(clock.now());
    });
    let quanta_raw = ns_per_call(n, || {
        black_box(clock.raw());
    });
    let std_now = ns_per_call(n, || {
        black_box(SystemTime::now().duration_since(UNIX_EPOCH).ok());
    });
    println!("clock, ns per read (median of 7 rounds of {n}):");
    println!("  core::fast::clock::since_epoch (wall time)      {ours:6.1}");
    println!("  quanta::Clock::now (monotonic Instant)          {quanta_now:6.1}");
    println!("  quanta::Clock::raw (TSC, not yet a time)        {quanta_raw:6.1}");
    println!("  SystemTime::now + duration_since (wall time)    {std_now:6.1}");

    for events in [50, 1000] {
        gzip(events);
    }
}

/// The two gzip compressors on a body of `events` events.
fn gzip(events: usize) {
    let body = bytes::Bytes::from(body(events));
    let bodies = 400_000 / events;
    let reused = ns_per_call(bodies, || {
        let z = insights_events::__private::compress(Compression::Gzip, body.clone())
            .expect("compress");
        black_box(z);
    });
    let fresh = ns_per_call(bodies, || {
        let mut e = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 4 + 64),
            flate2::Compression::fast(),
        );
        e.write_all(&body).expect("write");
        black_box(e.finish().expect("finish"));
    });
    let sizes = (
        insights_events::__private::compress(Compression::Gzip, body.clone())
            .expect("compress")
            .len(),
        {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&body).expect("write");
            e.finish().expect("finish").len()
        },
    );
    let per_event = |ns: f64| ns / events as f64;
    println!(
        "gzip of a {events}-event body ({} bytes), µs per body (ns per event):",
        body.len()
    );
    println!(
        "  transport::compress (reused Compress)           {:7.1} ({:5.1})  {} bytes",
        reused / 1000.0,
        per_event(reused),
        sizes.0
    );
    println!(
        "  flate2::write::GzEncoder, new per body          {:7.1} ({:5.1})  {} bytes",
        fresh / 1000.0,
        per_event(fresh),
        sizes.1
    );
}
