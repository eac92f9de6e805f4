//! What a typed `send()` costs the calling thread, in parts, without
//! criterion in the way: a steady loop of `DbQuery::new(..).request_id(..)
//! .send_with(&client)` into a client whose background worker discards, next
//! to the same loop that only builds and drops the event, and one that also
//! reads the clock the send reads (`src/clock.rs`: the TSC where Linux keeps
//! time with it, `clock_gettime` elsewhere). Small enough to run under
//! callgrind, whose instruction counts do not depend on the machine's mood
//! (`BENCHMARKS.md`).
//!
//! ```sh
//! cargo run --release --example send_cost                   # ns per event, 4 rounds
//! cargo build --release --example send_cost
//! valgrind --tool=callgrind --separate-threads=yes \
//!     ./target/release/examples/send_cost --only-send --rounds 1 100000
//! callgrind_annotate --inclusive=yes callgrind.out.<pid>-01 | grep send_typed
//! ```
//!
//! Arguments: `[--only-send] [--rounds R] [N]` (N events per loop, default
//! 200,000).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use insights_events::transmission::DiscardSender;
use insights_events::{Backend, Client, Config, DbQuery};

#[path = "../benches/common/fixed.rs"]
mod fixed;
use fixed::{QUERIES, REQUEST_IDS};

fn event(i: usize) -> DbQuery {
    DbQuery::new(QUERIES[i & 3], i as f64 * 0.01).request_id(REQUEST_IDS[(i >> 2) & 3])
}

/// Wall-clock ns per iteration of `f` over `n` iterations.
fn per_event(n: usize, mut f: impl FnMut(usize)) -> f64 {
    let start = Instant::now();
    for i in 0..n {
        f(i);
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

fn main() {
    let mut only_send = false;
    let mut rounds = 4;
    let mut n = 200_000;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--only-send" => only_send = true,
            "--rounds" => rounds = args.next().and_then(|r| r.parse().ok()).unwrap_or(rounds),
            _ => n = a.parse().unwrap_or(n),
        }
    }
    let client = Client::new(
        Config::new()
            .backend(Backend::Custom(Arc::new(DiscardSender)))
            .max_queue_size(4 * n.max(1))
            .block_on_send(true)
            .drop_timeout(Duration::from_secs(30)),
    )
    .expect("client");
    let flush = || assert!(client.flush(Duration::from_secs(30)).completed);
    for round in 0..rounds {
        let send = per_event(n, |i| {
            let _ = event(i).send_with(&client);
        });
        flush();
        if only_send {
            println!("round {round}: send {send:.0} ns/event");
            continue;
        }
        let build = per_event(n, |i| drop(black_box(event(i))));
        let clock = per_event(n, |i| {
            drop(black_box(event(i)));
            black_box(insights_events::__private::since_epoch());
        });
        println!(
            "round {round}: build + drop {build:.0}, + clock {clock:.0}, send {send:.0} ns/event"
        );
    }
    let s = client.stats();
    assert_eq!(s.sent, (rounds * n) as u64, "{s:?}");
}
