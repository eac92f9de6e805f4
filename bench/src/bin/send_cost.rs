//! What a typed `send()` costs the calling thread, in parts, without
//! criterion in the way: a steady loop of `DbQuery::new(..).request_id(..)
//! .send_with(&client)` into a client whose background worker discards, next
//! to the same loop that only builds and drops the event, and one that also
//! reads the clock the send reads (`core::fast::clock` in `src/core/fast/clock.rs`: the TSC where Linux keeps
//! time with it, `clock_gettime` elsewhere). Small enough to run under
//! callgrind, whose instruction counts do not depend on the machine's mood
//! (`BENCHMARKS.md`).
//!
//! ```sh
//! cargo run --release -p insights-events-bench --bin send_cost                 # ns per event, 4 rounds
//! cargo build --release -p insights-events-bench --bin send_cost
//! valgrind --tool=callgrind --separate-threads=yes \
//!     ./target/release/send_cost --only-send --rounds 1 100000
//! callgrind_annotate --inclusive=yes callgrind.out.<pid>-01 | grep send_typed
//! ```
//!
//! Arguments: `[--only-send] [--rounds R] [--shape typed|hand|builder] [N]`
//! (N events per loop, default 200,000). `--shape hand` builds the same
//! event by hand (`new_event`, five `add_field`s, `send`); `--shape builder`
//! sends a builder's event (one builder field, two dynamic fields, two
//! added fields). Each shape's whole event, construction included, is one
//! function that is never inlined (`send_typed_event`, `send_hand_event`,
//! `send_builder_event`), so its inclusive count divided by N is the
//! all-in cost on the calling thread:
//!
//! ```sh
//! valgrind --tool=callgrind --separate-threads=yes \
//!     ./target/release/send_cost --only-send --rounds 1 --shape hand 100000
//! callgrind_annotate --inclusive=yes callgrind.out.<pid>-01 | grep send_hand_event
//! ```

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use insights_events::transmission::DiscardSender;
use insights_events::{Backend, Builder, Client, Config, DbQuery};

#[path = "../../benches/common/fixed.rs"]
mod fixed;
use fixed::{QUERIES, REQUEST_IDS};

fn event(i: usize) -> DbQuery {
    DbQuery::new(QUERIES[i & 3], i as f64 * 0.01).request_id(REQUEST_IDS[(i >> 2) & 3])
}

/// A typed event, built and sent.
#[inline(never)]
fn send_typed_event(i: usize, client: &Client) {
    let _ = black_box(event(i).send_with(client));
}

/// The same five fields, added by hand.
#[inline(never)]
fn send_hand_event(i: usize, client: &Client) {
    let mut ev = client.new_event();
    ev.add_field("event_type", "db.query")
        .add_field("query", QUERIES[i & 3])
        .add_field("duration", i as f64 * 0.01)
        .add_field("request_id", REQUEST_IDS[(i >> 2) & 3])
        .add_field("rows", i as u64 & 63);
    let _ = black_box(ev.send());
}

/// A builder's event: its field and two dynamic fields, two added fields.
#[inline(never)]
fn send_builder_event(i: usize, builder: &Builder) {
    let mut ev = builder.new_event();
    ev.add_field("query", QUERIES[i & 3])
        .add_field("duration", i as f64 * 0.01);
    let _ = black_box(ev.send());
}

/// What `--shape` picked.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Typed,
    Hand,
    Builder,
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
    let mut shape = Shape::Typed;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--only-send" => only_send = true,
            "--rounds" => rounds = args.next().and_then(|r| r.parse().ok()).unwrap_or(rounds),
            "--shape" => {
                shape = match args.next().as_deref() {
                    Some("hand") => Shape::Hand,
                    Some("builder") => Shape::Builder,
                    _ => Shape::Typed,
                }
            }
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
    let mut builder = client.builder();
    builder.add_field("service", "checkout");
    let counter = Arc::new(AtomicU64::new(0));
    builder.add_dynamic_field("seq", move || counter.fetch_add(1, Ordering::Relaxed));
    builder.add_dynamic_field("worker", || 3u32);
    for round in 0..rounds {
        let send = per_event(n, |i| match shape {
            Shape::Typed => send_typed_event(i, &client),
            Shape::Hand => send_hand_event(i, &client),
            Shape::Builder => send_builder_event(i, &builder),
        });
        flush();
        if only_send || shape != Shape::Typed {
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
