//! End-to-end throughput: realistic `db.query` events through the real
//! client, worker, encoder, compression and HTTP senders, into a fast local
//! HTTP sink that counts what arrives.
//!
//! ```sh
//! cargo run --release -p insights-events-bench --bin throughput -- --events 1000000 --backend honeybadger [--compression gzip] [--no-block]
//! ```
//!
//! Flags (lists are comma-separated; every combination is run in turn):
//!
//! * `--events N[,N...]`       events per run (default 1000000)
//! * `--backend B[,B...]`      `honeybadger`, `honeycomb` or `both` (default honeybadger)
//! * `--compression C[,C...]`  `none`, `gzip`, `deflate`, `zstd` (Honeycomb; `--features zstd`) (default none)
//! * `--event S[,S...]`        event shape (default typed): `typed` (the generated `DbQuery`,
//!   `send_with`), `hand` (`client.new_event()` with the typed event's keys and values, in its
//!   order: `event_type`, `query`, `duration`, `params`, `request_id`; then `send()`) or
//!   `builder` (one `client.builder()` per sending thread with `service` and two dynamic
//!   fields, `seq` and `worker`; per event `new_event()` + `query` + `duration` + `send()`)
//! * `--block` / `--no-block`  `block_on_send` (default: block; must lose 0)
//! * `--threads T`             sending threads (default 1)
//! * `--batch-size N`          override the backend's default batch size
//! * `--max-in-flight N`       override the default (4)
//! * `--queue N`               `max_queue_size` (default 10000, the library's)
//! * `--ceiling-events N`      events POSTed in the sink-ceiling phase (default min(events, 1000000); 0 skips)
//!
//! The sink runs as a child process (this same binary with `--sink`), so
//! the CPU time and peak RSS reported are the sending process's alone. It
//! answers Honeybadger with 201 and Honeycomb with 200 and one status per
//! item; it decompresses gzip/deflate and counts newlines (NDJSON) or
//! top-level array items (Honeycomb).
//!
//! For each run it prints: the sink's ceiling (pre-serialized batches
//! POSTed with reqwest as fast as they go), the serialization floor
//! measured just before the run (the same workload as a derived struct,
//! `serde_json::to_writer` into a reused buffer, one thread) and delivered
//! events/s as a share of it, delivered events/s from the
//! first send to the last event counted at the sink, events lost, the
//! sending process's CPU seconds per million events, its peak RSS (VmHWM,
//! reset before the run through /proc/self/clear_refs), body bytes per
//! event on the wire and before compression, and the caller's ns per send
//! (each sending thread's wall time for its send loop, generating the
//! workload included, summed over the threads and divided by the events).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use insights_events::{Backend, Client, Compression, Config, DbQuery, SendError};
use serde_json::Value;

#[path = "../../benches/common/bodies.rs"]
mod bodies;
#[path = "../../benches/common/workload.rs"]
mod workload;

// ---------------------------------------------------------------------------
// Clocks and process measurements.

/// CLOCK_MONOTONIC in nanoseconds: the same clock in the sink process.
fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// User + system CPU seconds of this process.
fn cpu_secs() -> f64 {
    // SAFETY: getrusage fills the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// A `/proc/self/status` value in KiB (`VmHWM`, `VmRSS`).
fn proc_status_kib(key: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU seconds (user + system) of every thread of this process, by tid,
/// with its name.
fn thread_cpu() -> std::collections::BTreeMap<u64, (String, f64)> {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let mut out = std::collections::BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for e in dir.flatten() {
        let Ok(tid) = e.file_name().to_string_lossy().parse::<u64>() else {
            continue;
        };
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // The fields after the `(comm)`: utime and stime are the 12th and 13th.
        let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        out.insert(tid, (comm.trim().to_owned(), (ticks(11) + ticks(12)) / hz));
    }
    out
}

/// Per-thread-name CPU seconds spent between two snapshots.
fn thread_cpu_delta(
    before: &std::collections::BTreeMap<u64, (String, f64)>,
    after: &std::collections::BTreeMap<u64, (String, f64)>,
) -> Vec<(String, f64)> {
    let mut by_name: std::collections::BTreeMap<String, f64> = Default::default();
    for (tid, (name, cpu)) in after {
        let prev = before.get(tid).map(|b| b.1).unwrap_or(0.0);
        // Names are cut to 15 bytes: `insights-events` (the worker) and
        // `insights-events-send` (the sender runtime) look alike; the tid
        // tells them apart (the runtime's thread is started first).
        *by_name.entry(format!("{name}[{tid}]")).or_default() += cpu - prev;
    }
    by_name.into_iter().filter(|(_, c)| *c > 0.0).collect()
}

/// Resets VmHWM to the current RSS (Linux: write 5 to clear_refs).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

// ---------------------------------------------------------------------------
// The sink (child process).

#[derive(Default)]
struct SinkCounters {
    events: AtomicU64,
    requests: AtomicU64,
    wire_bytes: AtomicU64,
    body_bytes: AtomicU64,
    last_ns: AtomicU64,
    first_ns: AtomicU64,
}

/// Top-level items of a JSON array (`[{...},{...}]`), string-aware.
///
/// 64 bytes at a time, as simdjson finds structure: bit masks of the quotes,
/// backslashes and brackets of a block (SSE2 compares), the escaped bytes
/// from the backslashes, the bytes inside strings as the prefix XOR of the
/// quotes that are not escaped, and then only the brackets outside strings
/// are looked at one by one (four per event). A byte-by-byte scan, and then
/// one `memchr` per string piece (ORM queries are full of `\"`), took more
/// of the sink's CPU than the rest of a request; on a 2-core machine that
/// CPU is taken from the process measured.
fn count_array_items(b: &[u8]) -> u64 {
    let (mut depth, mut n) = (0i32, 0u64);
    // Carried from block to block: inside a string (all ones), and whether
    // the block's first byte is escaped.
    let (mut in_string, mut escape_carry) = (0u64, false);
    let blocks = b.chunks_exact(64);
    let mut tail = [b' '; 64];
    tail[..blocks.remainder().len()].copy_from_slice(blocks.remainder());
    let padded = blocks.map(|c| <&[u8; 64]>::try_from(c).unwrap_or(&[b' '; 64]));
    for block in padded.chain(std::iter::once(&tail)) {
        let m = masks(block);
        // Escaped bytes: each backslash that is not itself escaped escapes
        // the next byte (few per block: one pass over their bits).
        let mut escaped = u64::from(escape_carry);
        let mut bs = m.backslash & !escaped;
        escape_carry = false;
        while bs != 0 {
            let i = bs.trailing_zeros();
            if i == 63 {
                escape_carry = true;
                break;
            }
            escaped |= 1 << (i + 1);
            bs &= !(3u64 << i);
        }
        let strings = prefix_xor(m.quote & !escaped) ^ in_string;
        in_string = ((strings as i64) >> 63) as u64;
        let mut brackets = (m.open | m.close) & !strings;
        while brackets != 0 {
            let i = brackets.trailing_zeros();
            if m.open >> i & 1 == 1 {
                n += u64::from(depth == 1);
                depth += 1;
            } else {
                depth -= 1;
            }
            brackets &= brackets - 1;
        }
    }
    n
}

/// Where a 64-byte block has each kind of byte [`count_array_items`] needs.
#[derive(Default)]
struct Masks {
    quote: u64,
    backslash: u64,
    open: u64,
    close: u64,
}

#[cfg(target_arch = "x86_64")]
fn masks(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    let mut m = Masks::default();
    for k in 0..4 {
        // SAFETY: SSE2 is part of x86-64, and the load reads bytes
        // `16k..16k + 16` of the 64-byte block.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast());
            let eq = |c: u8| {
                u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))) as u16)
            };
            m.quote |= eq(b'"') << (16 * k);
            m.backslash |= eq(b'\\') << (16 * k);
            m.open |= (eq(b'{') | eq(b'[')) << (16 * k);
            m.close |= (eq(b'}') | eq(b']')) << (16 * k);
        }
    }
    m
}

#[cfg(not(target_arch = "x86_64"))]
fn masks(block: &[u8; 64]) -> Masks {
    let mut m = Masks::default();
    for (i, &c) in block.iter().enumerate() {
        m.quote |= u64::from(c == b'"') << i;
        m.backslash |= u64::from(c == b'\\') << i;
        m.open |= u64::from(c == b'{' || c == b'[') << i;
        m.close |= u64::from(c == b'}' || c == b']') << i;
    }
    m
}

/// Bit `i` of the result is the XOR of bits `0..=i` of `x`: set from an
/// opening quote up to (not including) its closing quote.
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// Lines of an NDJSON body (a last line without its newline counts).
///
/// With `memchr`'s vectorized search: a byte-by-byte count took half the
/// sink's CPU, which on a 2-core machine is taken from the process measured.
fn count_lines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
        + u64::from(!b.is_empty() && b.last() != Some(&b'\n'))
}

fn run_sink() {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper::{Request, Response, StatusCode};

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let counters = Arc::new(SinkCounters::default());
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("PORT {}", listener.local_addr().expect("addr").port());
        std::io::stdout().flush().ok();
        // Stop when the parent goes away (stdin closes).
        std::thread::spawn(|| {
            let mut buf = [0u8; 64];
            while let Ok(n) = std::io::stdin().read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
            std::process::exit(0);
        });
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let counters = counters.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let c = counters.clone();
                    async move {
                        let path = req.uri().path().to_owned();
                        let enc = req
                            .headers()
                            .get("content-encoding")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        let body = req.into_body().collect().await?.to_bytes();
                        let resp = |status: StatusCode, body: Vec<u8>| {
                            let mut r = Response::new(Full::new(Bytes::from(body)));
                            *r.status_mut() = status;
                            r
                        };
                        if path == "/stats" {
                            let ru = cpu_secs();
                            let s = serde_json::json!({
                                "events": c.events.load(Ordering::SeqCst),
                                "requests": c.requests.load(Ordering::SeqCst),
                                "wire_bytes": c.wire_bytes.load(Ordering::SeqCst),
                                "body_bytes": c.body_bytes.load(Ordering::SeqCst),
                                "first_ns": c.first_ns.load(Ordering::SeqCst),
                                "last_ns": c.last_ns.load(Ordering::SeqCst),
                                "cpu_secs": ru,
                                "peak_rss_kib": proc_status_kib("VmHWM:"),
                            });
                            return Ok::<_, hyper::Error>(resp(
                                StatusCode::OK,
                                s.to_string().into_bytes(),
                            ));
                        }
                        if path == "/reset" {
                            for a in [
                                &c.events,
                                &c.requests,
                                &c.wire_bytes,
                                &c.body_bytes,
                                &c.last_ns,
                                &c.first_ns,
                            ] {
                                a.store(0, Ordering::SeqCst);
                            }
                            return Ok(resp(StatusCode::OK, Vec::new()));
                        }
                        let wire = body.len() as u64;
                        let decoded: Vec<u8>;
                        let plain: &[u8] = match enc.as_str() {
                            "gzip" => {
                                let mut d = flate2::read::GzDecoder::new(&body[..]);
                                let mut v = Vec::with_capacity(body.len() * 6);
                                if d.read_to_end(&mut v).is_err() {
                                    return Ok(resp(StatusCode::BAD_REQUEST, b"bad gzip".to_vec()));
                                }
                                decoded = v;
                                &decoded
                            }
                            "deflate" => {
                                let mut d = flate2::read::ZlibDecoder::new(&body[..]);
                                let mut v = Vec::with_capacity(body.len() * 6);
                                if d.read_to_end(&mut v).is_err() {
                                    return Ok(resp(
                                        StatusCode::BAD_REQUEST,
                                        b"bad deflate".to_vec(),
                                    ));
                                }
                                decoded = v;
                                &decoded
                            }
                            #[cfg(feature = "zstd")]
                            "zstd" => match zstd::decode_all(&body[..]) {
                                Ok(v) => {
                                    decoded = v;
                                    &decoded
                                }
                                Err(_) => {
                                    return Ok(resp(StatusCode::BAD_REQUEST, b"bad zstd".to_vec()))
                                }
                            },
                            _ => &body,
                        };
                        let honeycomb = path.starts_with("/1/batch/");
                        let n = if honeycomb {
                            count_array_items(plain)
                        } else {
                            count_lines(plain)
                        };
                        c.requests.fetch_add(1, Ordering::Relaxed);
                        c.wire_bytes.fetch_add(wire, Ordering::Relaxed);
                        c.body_bytes
                            .fetch_add(plain.len() as u64, Ordering::Relaxed);
                        let now = mono_ns();
                        let _ =
                            c.first_ns
                                .compare_exchange(0, now, Ordering::SeqCst, Ordering::SeqCst);
                        c.events.fetch_add(n, Ordering::SeqCst);
                        c.last_ns.fetch_max(now, Ordering::SeqCst);
                        if honeycomb {
                            let mut out = Vec::with_capacity(n as usize * 15 + 2);
                            out.push(b'[');
                            for i in 0..n {
                                if i > 0 {
                                    out.push(b',');
                                }
                                out.extend_from_slice(b"{\"status\":202}");
                            }
                            out.push(b']');
                            Ok(resp(StatusCode::OK, out))
                        } else {
                            Ok(resp(StatusCode::CREATED, Vec::new()))
                        }
                    }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, svc)
                    .await;
            });
        }
    });
}

struct Sink {
    child: Child,
    port: u16,
}

impl Sink {
    fn start() -> Sink {
        let exe = std::env::current_exe().expect("current_exe");
        let mut child = Command::new(exe)
            .arg("--sink")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the sink");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("sink port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .expect("sink port line");
        Sink { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Blocking GET/POST of the control endpoints (std only: no runtime).
    fn control(&self, path: &str) -> Value {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        let body = out.split("\r\n\r\n").nth(1).unwrap_or("");
        serde_json::from_str(body).unwrap_or(Value::Null)
    }

    fn reset(&self) {
        self.control("/reset");
    }

    fn stats(&self) -> Value {
        self.control("/stats")
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        // Our own child, by its id.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// Options.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Honeybadger,
    Honeycomb,
}

/// How each event is built and sent (`--event`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    /// The generated `DbQuery`, `send_with(&client)`.
    Typed,
    /// `client.new_event()` + the typed event's fields by `add_field`.
    Hand,
    /// A per-thread `client.builder()` (1 field, 2 dynamic fields) +
    /// `new_event()` + 2 `add_field`s.
    Builder,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Typed => "typed",
            Shape::Hand => "hand",
            Shape::Builder => "builder",
        }
    }
}

struct Opts {
    events: Vec<u64>,
    backends: Vec<Kind>,
    compressions: Vec<Compression>,
    shapes: Vec<Shape>,
    block: bool,
    threads: usize,
    batch_size: Option<usize>,
    max_in_flight: usize,
    queue: usize,
    ceiling_events: Option<u64>,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        events: vec![1_000_000],
        backends: vec![Kind::Honeybadger],
        compressions: vec![Compression::None],
        shapes: vec![Shape::Typed],
        block: true,
        threads: 1,
        batch_size: None,
        max_in_flight: 4,
        queue: 10_000,
        ceiling_events: None,
    };
    let mut args = std::env::args().skip(1);
    let num = |v: Option<String>, name: &str| -> u64 {
        v.and_then(|s| s.replace('_', "").parse().ok())
            .unwrap_or_else(|| panic!("{name} takes a number"))
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--events" => {
                o.events = args
                    .next()
                    .expect("--events N")
                    .split(',')
                    .map(|s| num(Some(s.to_owned()), "--events"))
                    .collect()
            }
            "--backend" => {
                o.backends = args
                    .next()
                    .expect("--backend B")
                    .split(',')
                    .flat_map(|s| match s {
                        "honeybadger" => vec![Kind::Honeybadger],
                        "honeycomb" => vec![Kind::Honeycomb],
                        "both" => vec![Kind::Honeybadger, Kind::Honeycomb],
                        _ => panic!("--backend honeybadger|honeycomb|both"),
                    })
                    .collect()
            }
            "--compression" => {
                o.compressions = args
                    .next()
                    .expect("--compression C")
                    .split(',')
                    .map(|s| match s {
                        "none" => Compression::None,
                        "gzip" => Compression::Gzip,
                        "deflate" => Compression::Deflate,
                        // Honeycomb only; build with `--features zstd`.
                        "zstd" => Compression::Zstd,
                        _ => panic!("--compression none|gzip|deflate|zstd"),
                    })
                    .collect()
            }
            "--event" => {
                o.shapes = args
                    .next()
                    .expect("--event S")
                    .split(',')
                    .map(|s| match s {
                        "typed" => Shape::Typed,
                        "hand" => Shape::Hand,
                        "builder" => Shape::Builder,
                        _ => panic!("--event typed|hand|builder"),
                    })
                    .collect()
            }
            "--block" => o.block = true,
            "--no-block" => o.block = false,
            "--threads" => o.threads = num(args.next(), "--threads").max(1) as usize,
            "--batch-size" => o.batch_size = Some(num(args.next(), "--batch-size") as usize),
            "--max-in-flight" => o.max_in_flight = num(args.next(), "--max-in-flight") as usize,
            "--queue" => o.queue = num(args.next(), "--queue") as usize,
            "--ceiling-events" => o.ceiling_events = Some(num(args.next(), "--ceiling-events")),
            "--bench" => {} // passed by `cargo bench`
            other => {
                panic!("unknown argument {other:?} (see the top of bench/src/bin/throughput.rs)")
            }
        }
    }
    o
}

fn comp_name(c: Compression) -> &'static str {
    match c {
        Compression::None => "none",
        Compression::Gzip => "gzip",
        Compression::Deflate => "deflate",
        Compression::Zstd => "zstd",
    }
}

fn config(kind: Kind, url: &str, c: Compression, o: &Opts) -> Config {
    let mut cfg = match kind {
        Kind::Honeybadger => Config::new()
            .backend(Backend::Honeybadger)
            .api_key("bench-key")
            .endpoint(url),
        Kind::Honeycomb => Config::new()
            .backend(Backend::Honeycomb)
            .honeycomb_write_key("bench-key")
            .honeycomb_api_host(url)
            .honeycomb_dataset("bench"),
    }
    .compression(c)
    .block_on_send(o.block)
    .max_in_flight(o.max_in_flight)
    .max_queue_size(o.queue)
    .drop_timeout(Duration::from_secs(60));
    if let Some(b) = o.batch_size {
        cfg = cfg.batch_size(b);
    }
    cfg
}

// ---------------------------------------------------------------------------
// Phase 1: the sink's ceiling.

/// Batches encoded as the library's encoder would, compressed as it would.
fn preencoded(kind: Kind, c: Compression, batch: usize) -> (Vec<bytes::Bytes>, u64) {
    let mut w = workload::Workload::new(7);
    let mut bodies = Vec::new();
    let mut raw_total = 0u64;
    for _ in 0..16 {
        let buf = bodies::body(&mut w, kind == Kind::Honeycomb, batch, || {
            insights_events::transmission::format_timestamp(SystemTime::now())
        });
        raw_total += buf.len() as u64;
        let level = flate2::Compression::fast();
        let body = match c {
            Compression::None => buf,
            Compression::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
                e.write_all(&buf).expect("gzip");
                e.finish().expect("gzip")
            }
            Compression::Deflate => {
                let mut e = flate2::write::ZlibEncoder::new(Vec::new(), level);
                e.write_all(&buf).expect("deflate");
                e.finish().expect("deflate")
            }
            Compression::Zstd => insights_events::__private::compress(c, buf.into())
                .expect("zstd (build with --features zstd)")
                .to_vec(),
        };
        bodies.push(bytes::Bytes::from(body));
    }
    (bodies, raw_total / 16)
}

struct Ceiling {
    events_per_s: f64,
    events: u64,
}

fn sink_ceiling(
    sink: &Sink,
    kind: Kind,
    c: Compression,
    batch: usize,
    events: u64,
    in_flight: usize,
) -> Ceiling {
    let (bodies, _) = preencoded(kind, c, batch);
    let url = match kind {
        Kind::Honeybadger => format!("{}/v1/events", sink.url()),
        Kind::Honeycomb => format!("{}/1/batch/bench", sink.url()),
    };
    let batches = events.div_ceil(batch as u64);
    sink.reset();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let http = reqwest::Client::new();
    let next = Arc::new(AtomicU64::new(0));
    let start = mono_ns();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..in_flight {
            let (http, url, bodies, next) =
                (http.clone(), url.clone(), bodies.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= batches {
                        break;
                    }
                    let mut req = http
                        .post(&url)
                        .header("content-type", "application/x-ndjson")
                        .body(bodies[i as usize % bodies.len()].clone());
                    if c != Compression::None {
                        req = req.header("content-encoding", comp_name(c));
                    }
                    let r = req.send().await.expect("post");
                    assert!(r.status().is_success(), "sink answered {}", r.status());
                    let _ = r.bytes().await;
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
    });
    drop(rt);
    let s = sink.stats();
    let counted = s["events"].as_u64().unwrap_or(0);
    let last = s["last_ns"].as_u64().unwrap_or(start);
    Ceiling {
        events_per_s: counted as f64 / ((last - start) as f64 / 1e9),
        events: counted,
    }
}

// ---------------------------------------------------------------------------
// The serialization floor, measured in the same run: 1,000 events of the
// same workload as a plain `#[derive(Serialize)]` struct (with a
// pre-formatted `ts`), `serde_json::to_writer` into a reused buffer, one
// thread, for about 0.3 s. Same as `ndjson_ts/floor_derive` in
// `bench/benches/serialize.rs`.

#[derive(serde::Serialize)]
struct FloorEvent {
    event_type: &'static str,
    query: &'static str,
    duration: f64,
    params: Value,
    request_id: String,
    ts: String,
}

fn serialization_floor() -> f64 {
    let mut w = workload::Workload::new(7);
    let ts = insights_events::transmission::format_timestamp(SystemTime::now());
    let events: Vec<FloorEvent> = (0..1000)
        .map(|_| {
            let (query, duration, np) = w.shape();
            FloorEvent {
                event_type: "db.query",
                query,
                duration,
                params: w.params(np),
                request_id: w.request_id().to_owned(),
                ts: ts.clone(),
            }
        })
        .collect();
    let mut buf = Vec::with_capacity(1 << 20);
    let start = mono_ns();
    let mut done = 0u64;
    while mono_ns() - start < 300_000_000 {
        buf.clear();
        for e in &events {
            serde_json::to_writer(&mut buf, e).expect("json");
            buf.push(b'\n');
        }
        std::hint::black_box(&buf);
        done += events.len() as u64;
    }
    done as f64 / ((mono_ns() - start) as f64 / 1e9)
}

// ---------------------------------------------------------------------------
// Phase 2: the real path.

struct RunResult {
    kind: Kind,
    compression: Compression,
    shape: Shape,
    events: u64,
    batch_size: usize,
    ceiling: Option<Ceiling>,
    floor_per_s: f64,
    enqueue_per_s: f64,
    caller_ns_per_send: f64,
    delivered_per_s: f64,
    delivered: u64,
    lost: u64,
    send_errors: u64,
    cpu_per_m: f64,
    sink_cpu_per_m: f64,
    peak_rss_mib: f64,
    base_rss_mib: f64,
    wire_per_event: f64,
    body_per_event: f64,
    requests: u64,
    stats: insights_events::Stats,
    elapsed: f64,
    per_thread: Vec<(String, f64)>,
}

fn run_one(sink: &Sink, kind: Kind, c: Compression, shape: Shape, n: u64, o: &Opts) -> RunResult {
    let batch_size = o.batch_size.unwrap_or(match kind {
        Kind::Honeybadger => 1000,
        // The library's defaults.
        Kind::Honeycomb => 500,
    });
    let ceiling_n = o.ceiling_events.unwrap_or(n.min(1_000_000));
    let ceiling = (ceiling_n > 0)
        .then(|| sink_ceiling(sink, kind, c, batch_size, ceiling_n, o.max_in_flight));
    let floor_per_s = serialization_floor();

    sink.reset();
    let sink_cpu0 = sink.stats()["cpu_secs"].as_f64().unwrap_or(0.0);
    let client = Client::new(config(kind, &sink.url(), c, o)).expect("client");
    let base_rss = proc_status_kib("VmRSS:");
    let reset_ok = reset_peak_rss();
    let cpu0 = cpu_secs();
    let threads0 = thread_cpu();
    let errors = AtomicU64::new(0);
    let caller_cpu = std::sync::Mutex::new(0.0f64);
    let caller_wall_ns = AtomicU64::new(0);
    let t0 = mono_ns();
    std::thread::scope(|s| {
        for t in 0..o.threads {
            let client = &client;
            let errors = &errors;
            let caller_cpu = &caller_cpu;
            let caller_wall_ns = &caller_wall_ns;
            let share = n / o.threads as u64 + u64::from((t as u64) < n % o.threads as u64);
            s.spawn(move || {
                let mut w = workload::Workload::new(1000 + t as u64);
                let builder = (shape == Shape::Builder).then(|| {
                    let mut b = client.builder();
                    b.add_field("service", "checkout");
                    let seq = Arc::new(AtomicU64::new(0));
                    b.add_dynamic_field("seq", move || seq.fetch_add(1, Ordering::Relaxed));
                    b.add_dynamic_field("worker", || 3u32);
                    b
                });
                let loop_start = mono_ns();
                for _ in 0..share {
                    let r = match shape {
                        Shape::Builder => {
                            let Some(b) = &builder else { unreachable!() };
                            let (query, duration, _) = w.shape();
                            let mut ev = b.new_event();
                            ev.add_field("query", query).add_field("duration", duration);
                            ev.send()
                        }
                        Shape::Hand => {
                            let (query, duration, np) = w.shape();
                            let params = w.params(np);
                            let rid = w.request_id().to_owned();
                            // The typed event's keys, in its order.
                            let mut ev = client.new_event();
                            ev.add_field("event_type", "db.query")
                                .add_field("query", query)
                                .add_field("duration", duration)
                                .add_field("params", params)
                                .add_field("request_id", rid);
                            ev.send()
                        }
                        Shape::Typed => {
                            let (query, duration, np) = w.shape();
                            let params = w.params(np);
                            let rid = w.request_id().to_owned();
                            DbQuery::new(query, duration)
                                .params(params)
                                .request_id(rid)
                                .send_with(client)
                        }
                    };
                    match r {
                        Ok(()) => {}
                        Err(SendError::QueueFull) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => panic!("send failed: {e}"),
                    }
                }
                caller_wall_ns.fetch_add(mono_ns() - loop_start, Ordering::Relaxed);
                // This thread's own CPU time (it ends before the snapshot below).
                let me = thread_cpu();
                // SAFETY: gettid has no preconditions.
                let tid = unsafe { libc::syscall(libc::SYS_gettid) } as u64;
                if let Some((_, c)) = me.get(&tid) {
                    *caller_cpu.lock().unwrap() += c;
                }
            });
        }
    });
    let t_sent = mono_ns();
    let f = client.flush(Duration::from_secs(3600));
    let cpu1 = cpu_secs();
    let mut per_thread = thread_cpu_delta(&threads0, &thread_cpu());
    per_thread.push(("callers".into(), *caller_cpu.lock().unwrap()));
    let peak = if reset_ok {
        proc_status_kib("VmHWM:")
    } else {
        0
    };
    let stats = client.stats();
    let s = sink.stats();
    drop(client);
    let delivered = s["events"].as_u64().unwrap_or(0);
    let last = s["last_ns"].as_u64().unwrap_or(t_sent).max(t0 + 1);
    if !f.completed {
        eprintln!("warning: flush did not complete: {f:?}");
    }
    let d = delivered.max(1) as f64;
    RunResult {
        kind,
        compression: c,
        shape,
        events: n,
        batch_size,
        ceiling,
        floor_per_s,
        enqueue_per_s: n as f64 / ((t_sent - t0) as f64 / 1e9),
        caller_ns_per_send: caller_wall_ns.load(Ordering::Relaxed) as f64 / n.max(1) as f64,
        delivered_per_s: delivered as f64 / ((last - t0) as f64 / 1e9),
        delivered,
        lost: n - delivered.min(n),
        send_errors: errors.load(Ordering::Relaxed),
        cpu_per_m: (cpu1 - cpu0) / d * 1e6,
        sink_cpu_per_m: (s["cpu_secs"].as_f64().unwrap_or(0.0) - sink_cpu0) / d * 1e6,
        peak_rss_mib: peak as f64 / 1024.0,
        base_rss_mib: base_rss as f64 / 1024.0,
        wire_per_event: s["wire_bytes"].as_u64().unwrap_or(0) as f64 / d,
        body_per_event: s["body_bytes"].as_u64().unwrap_or(0) as f64 / d,
        requests: s["requests"].as_u64().unwrap_or(0),
        stats,
        elapsed: (last - t0) as f64 / 1e9,
        per_thread: per_thread
            .into_iter()
            .map(|(n, c)| (n, c / d * 1e6))
            .collect(),
    }
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--sink") {
        return run_sink();
    }
    let o = parse_opts();
    if cfg!(debug_assertions) {
        eprintln!("note: a debug build; use `cargo run --release -p insights-events-bench --bin throughput`");
    }
    // What generating the events costs without sending them (the sending
    // loop below does the same work plus `send_with`).
    let gen_n = o.events.iter().copied().max().unwrap_or(0).min(1_000_000);
    if gen_n > 0 {
        let mut w = workload::Workload::new(1000);
        let (c0, t0) = (cpu_secs(), mono_ns());
        for _ in 0..gen_n {
            let (query, duration, np) = w.shape();
            let params = w.params(np);
            let rid = w.request_id().to_owned();
            std::hint::black_box(DbQuery::new(query, duration).params(params).request_id(rid));
        }
        let (c1, t1) = (cpu_secs(), mono_ns());
        println!(
            "generator alone: {:.0} ns/event, {:.2} CPU s per 1M events ({gen_n} events)",
            (t1 - t0) as f64 / gen_n as f64,
            (c1 - c0) / gen_n as f64 * 1e6
        );
    }
    let sink = Sink::start();
    let mut results = Vec::new();
    for &kind in &o.backends {
        for &c in &o.compressions {
            for &n in &o.events {
                for &shape in &o.shapes {
                    let r = run_one(&sink, kind, c, shape, n, &o);
                    println!(
                        "{:?} compression={} event={} events={} batch={} block={} threads={}: \
                         delivered {} ({} lost, {} QueueFull) in {:.2} s = {:.0} events/s \
                         [caller enqueue {:.0}/s, caller {:.0} ns/send; sink ceiling {}; serialization floor {:.0}/s, e2e = {:.0}% of it]; \
                         CPU {:.2} s/1M events (sink {:.2}); peak RSS {:.1} MiB (base {:.1}); \
                         wire {:.1} B/event, body {:.1} B/event, {} requests; stats {:?}",
                        r.kind,
                        comp_name(r.compression),
                        r.shape.name(),
                        r.events,
                        r.batch_size,
                        o.block,
                        o.threads,
                        r.delivered,
                        r.lost,
                        r.send_errors,
                        r.elapsed,
                        r.delivered_per_s,
                        r.enqueue_per_s,
                        r.caller_ns_per_send,
                        r.ceiling
                            .as_ref()
                            .map(|c| format!("{:.0}/s over {} events", c.events_per_s, c.events))
                            .unwrap_or_else(|| "skipped".into()),
                        r.floor_per_s,
                        100.0 * r.delivered_per_s / r.floor_per_s,
                        r.cpu_per_m,
                        r.sink_cpu_per_m,
                        r.peak_rss_mib,
                        r.base_rss_mib,
                        r.wire_per_event,
                        r.body_per_event,
                        r.requests,
                        r.stats,
                    );
                    println!(
                        "  CPU s per 1M events by thread: {}",
                        r.per_thread
                            .iter()
                            .map(|(n, c)| format!("{n}={c:.2}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    results.push(r);
                }
            }
        }
    }
    println!();
    println!("| backend | compression | event | events | batch | delivered/s | caller ns/send | sink ceiling/s | e2e/ceiling | floor/s | e2e/floor | lost | CPU s/1M | peak RSS MiB | wire B/event | body B/event |");
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &results {
        let (ceil, ratio) = match &r.ceiling {
            Some(c) => (
                format!("{:.0}", c.events_per_s),
                format!("{:.0}%", 100.0 * r.delivered_per_s / c.events_per_s),
            ),
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {:?} | {} | {} | {} | {} | {:.0} | {:.0} | {} | {} | {:.0} | {:.0}% | {} | {:.2} | {:.1} | {:.1} | {:.1} |",
            r.kind,
            comp_name(r.compression),
            r.shape.name(),
            r.events,
            r.batch_size,
            r.delivered_per_s,
            r.caller_ns_per_send,
            ceil,
            ratio,
            r.floor_per_s,
            100.0 * r.delivered_per_s / r.floor_per_s,
            r.lost,
            r.cpu_per_m,
            r.peak_rss_mib,
            r.wire_per_event,
            r.body_per_event,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{count_array_items, count_lines};

    /// Items counted byte by byte (the sink's first counter), for reference.
    fn reference(b: &[u8]) -> u64 {
        let (mut depth, mut n, mut in_str, mut esc) = (0i32, 0u64, false, false);
        for &c in b {
            if in_str {
                match (esc, c) {
                    (true, _) => esc = false,
                    (false, b'\\') => esc = true,
                    (false, b'"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match c {
                b'"' => in_str = true,
                b'[' | b'{' => {
                    n += u64::from(depth == 1);
                    depth += 1;
                }
                b']' | b'}' => depth -= 1,
                _ => {}
            }
        }
        n
    }

    #[test]
    fn counts_items_as_a_byte_by_byte_scan_does() {
        // Strings with brackets, escaped quotes, escaped backslashes and
        // runs of backslashes, nested arrays and objects, at every offset
        // against the 64-byte blocks (the padding shifts them).
        let pieces: [&str; 8] = [
            r#"{"data":{"query":"SELECT \"a\" FROM [t] WHERE x = '}'"},"time":"t"}"#,
            r#"{"s":"\\","t":"\\\"]{"}"#,
            r#"{"a":[1,{"b":[]}],"c":"\\\\"}"#,
            r#"[1,2,"]"]"#,
            r#"{"k":"ends in a backslash \\"}"#,
            r#""a string item with { and [""#,
            r#"{"long":"0123456789012345678901234567890123456789012345678901234567890123456789\"x"}"#,
            "7",
        ];
        let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
        for pad in 0..70 {
            for len in [0usize, 1, 2, 5, 17, 64] {
                let mut body = format!("{}[", " ".repeat(pad));
                let mut containers = 0;
                for k in 0..len {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    if k > 0 {
                        body.push(',');
                    }
                    let piece = pieces[(rng % pieces.len() as u64) as usize];
                    // A string or number item is not an object: not counted.
                    containers += u64::from(piece.starts_with(['{', '[']));
                    body.push_str(piece);
                }
                body.push(']');
                assert_eq!(
                    count_array_items(body.as_bytes()),
                    reference(body.as_bytes()),
                    "{body}"
                );
                assert_eq!(reference(body.as_bytes()), containers, "{body}");
            }
        }
    }

    #[test]
    fn counts_lines_with_or_without_the_last_newline() {
        assert_eq!(count_lines(b""), 0);
        assert_eq!(count_lines(b"{}\n{}\n"), 2);
        assert_eq!(count_lines(b"{}\n{}"), 2);
    }
}
