//! The crate's hand-written pieces against the well-kept crates they stand
//! in for, on this machine: the clock a typed send reads
//! (`core::fast::clock`) against `quanta` and `SystemTime::now`, and the
//! reused compressor of `transport::compress` against a fresh
//! `flate2::write::GzEncoder` per body. The module docs quote its figures
//! (and `BENCHMARKS.md`).
//!
//! ```sh
//! cargo run --release -p insights-events-bench --bin twins
//! cargo run --release -p insights-events-bench --bin twins -- compressors
//! ```
//!
//! Each figure is the median of 7 rounds; run it twice (the VM is noisy).
//!
//! `compressors` compares deflate implementations and levels on the
//! throughput harness's own batch bodies (`bench/benches/common/workload.rs`:
//! 1,000-event Honeybadger NDJSON and 500-event Honeycomb JSON-array
//! bodies, 8 of each): µs of CPU per body and bytes per event on the wire.
//! Every candidate runs once per round, in turn (A, B, C, A, B, C, ...),
//! so a slow stretch of the VM hits all of them alike; 9 rounds, medians.

use std::hint::black_box;
use std::io::Write;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use insights_events::Compression;

#[path = "../../benches/common/bodies.rs"]
mod bodies;
#[path = "../../benches/common/workload.rs"]
mod workload;

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
    if std::env::args().nth(1).as_deref() == Some("compressors") {
        compressors();
        return;
    }
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

// ---------------------------------------------------------------------------
// Compressors on the harness's bodies.

/// `bodies` batch bodies of `events` events each, built as the throughput
/// harness's `preencoded` builds them (the worker's bytes for `db.query`).
fn harness_bodies(honeycomb: bool, events: usize, bodies: usize) -> Vec<Vec<u8>> {
    let mut w = workload::Workload::new(7);
    let ts = || "2026-12-01T20:00:00.123456Z".to_owned();
    (0..bodies)
        .map(|_| bodies::body(&mut w, honeycomb, events, ts))
        .collect()
}

/// A compressor under test: gzip of the input, its length out.
type Gzip = Box<dyn FnMut(&[u8]) -> usize>;
type Candidate = (String, Gzip);

/// gzip framing around a reused flate2 raw-deflate `Compress`, as
/// `transport::compress` does it at level 1, here at any level and window.
fn flate2_gzip(level: u32, window_bits: u8) -> Gzip {
    let mut c =
        flate2::Compress::new_with_window_bits(flate2::Compression::new(level), false, window_bits);
    Box::new(move |input: &[u8]| {
        c.reset();
        let mut out = Vec::with_capacity(input.len() / 4 + 64);
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        loop {
            let consumed = c.total_in() as usize;
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity());
            }
            match c.compress_vec(&input[consumed..], &mut out, flate2::FlushCompress::Finish) {
                Ok(flate2::Status::StreamEnd) => break,
                Ok(_) => out.reserve(out.capacity()),
                Err(e) => panic!("{e}"),
            }
        }
        let mut crc = flate2::Crc::new();
        crc.update(input);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&(input.len() as u32).to_le_bytes());
        black_box(&out);
        out.len()
    })
}

/// zlib-rs's own API (`zlib_rs::Deflate`, reused and reset per body) with
/// its gzip wrapper (window bits + 16), at a level, window and memLevel
/// that flate2 does not expose; the output into a `Vec` of the bound.
fn zlib_rs_gzip(level: i32, window_bits: i32, mem_level: i32) -> Gzip {
    let mut c = zlib_rs::Deflate::new_with_config(zlib_rs::DeflateConfig {
        level,
        window_bits: window_bits + 16,
        mem_level,
        ..Default::default()
    });
    Box::new(move |input: &[u8]| {
        c.reset();
        let mut out = vec![0u8; zlib_rs::compress_bound(input.len()) + 32];
        let status = c
            .compress(input, &mut out, zlib_rs::DeflateFlush::Finish)
            .expect("deflate");
        assert_eq!(status, zlib_rs::Status::StreamEnd);
        out.truncate(c.total_out() as usize);
        black_box(&out);
        out.len()
    })
}

/// libdeflate's whole-buffer gzip with a reused compressor; the output
/// goes to a new `Vec` of the bound's capacity (as a body would).
fn libdeflate_gzip(level: i32) -> Gzip {
    let mut c =
        libdeflater::Compressor::new(libdeflater::CompressionLvl::new(level).expect("level"));
    Box::new(move |input: &[u8]| {
        let mut out = vec![0u8; c.gzip_compress_bound(input.len())];
        let n = c.gzip_compress(input, &mut out).expect("room");
        out.truncate(n);
        black_box(&out);
        n
    })
}

fn compressors() {
    let sets = [
        (
            "Honeybadger NDJSON, 1,000 events",
            harness_bodies(false, 1000, 8),
            1000,
        ),
        (
            "Honeycomb array, 500 events",
            harness_bodies(true, 500, 8),
            500,
        ),
    ];
    for (name, bodies, events) in sets {
        let raw: usize = bodies.iter().map(Vec::len).sum();
        println!(
            "\n{name}: {} bodies, {:.1} B/event uncompressed",
            bodies.len(),
            raw as f64 / (bodies.len() * events) as f64
        );
        let mut cands: Vec<Candidate> = vec![(
            "transport::compress (the crate's gzip)".into(),
            Box::new(|input: &[u8]| {
                let z = insights_events::__private::compress(
                    Compression::Gzip,
                    bytes::Bytes::copy_from_slice(input),
                )
                .expect("compress");
                z.len()
            }),
        )];
        for level in 1..=6 {
            cands.push((
                format!("flate2 + zlib-rs, level {level}"),
                flate2_gzip(level, 15),
            ));
        }
        for wb in [9, 12] {
            cands.push((
                format!("flate2 + zlib-rs, level 1, window 2^{wb}"),
                flate2_gzip(1, wb),
            ));
        }
        for (level, mem) in [(1, 8), (1, 9), (2, 8), (2, 9)] {
            cands.push((
                format!("zlib_rs::Deflate, level {level}, memLevel {mem}"),
                zlib_rs_gzip(level, 15, mem),
            ));
        }
        for level in 1..=6 {
            cands.push((
                format!("libdeflater, level {level}"),
                libdeflate_gzip(level),
            ));
        }
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); cands.len()];
        let mut sizes = vec![0usize; cands.len()];
        for round in 0..10 {
            for (i, (_, f)) in cands.iter_mut().enumerate() {
                let start = Instant::now();
                let total: usize = bodies.iter().map(|b| f(b)).sum();
                let us = start.elapsed().as_nanos() as f64 / 1000.0 / bodies.len() as f64;
                sizes[i] = total;
                // Round 0 warms caches and allocations up; not counted.
                if round > 0 {
                    times[i].push(us);
                }
            }
        }
        println!(
            "  {:<58} {:>9} {:>9} {:>9}",
            "compressor", "µs/body", "ns/event", "B/event"
        );
        for (i, (label, _)) in cands.iter().enumerate() {
            let us = median(times[i].clone());
            println!(
                "  {label:<58} {us:9.1} {:9.1} {:9.2}",
                us * 1000.0 / events as f64,
                sizes[i] as f64 / (bodies.len() * events) as f64
            );
        }
    }
}
