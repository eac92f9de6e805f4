//! Request body compression (gzip or zlib "deflate", level 1; zstd, level
//! 1, for Honeycomb, with the `zstd` feature).
//!
//! Each thread that compresses keeps one compressor per format and resets
//! it between bodies: setting up a deflate state costs more than
//! compressing a small batch (50 events). The backend is `zlib-rs`
//! (pure Rust), 2–6× faster than `miniz_oxide` on these bodies, and the
//! cheapest measured: libdeflate's whole-buffer level 1 makes bodies 21%
//! smaller for 1.5× the CPU (`cargo run --release -p insights-events-bench
//! --bin twins -- compressors`; figures in `BENCHMARKS.md`, "Compression").
//!
//! Why the gzip header and trailer are written here, around flate2's
//! `Compress` and `Crc`, instead of using `flate2::write::GzEncoder`: the
//! encoder cannot be reset, so each body would set up a new deflate state.
//! Measured by `cargo run --release -p insights-events-bench --bin twins`
//! (two runs): a 50-event body takes 14.4 / 15.2 µs here against 20.9 /
//! 22.2 µs with a new `GzEncoder`; a 1,000-event body 355 / 335 µs against
//! 351 / 344 µs (the same within noise); the output is the same size within
//! a byte.

use std::cell::RefCell;
use std::io;

use flate2::{Compress, Crc, FlushCompress, Status};

/// Body compression for HTTP backends.
///
/// Compression runs on the sending runtime's thread, at level 1 (the
/// fastest): on realistic `db.query` events gzip makes bodies about 6×
/// smaller (44 bytes per event instead of 270) for 0.3–0.45 µs of CPU per
/// event. See `BENCHMARKS.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// No compression.
    #[default]
    None,
    /// `Content-Encoding: gzip`.
    Gzip,
    /// `Content-Encoding: deflate` (zlib stream).
    Deflate,
    /// `Content-Encoding: zstd`: Honeycomb only (libhoney-go's default),
    /// with the `zstd` cargo feature; level 1. Honeybadger does not take it
    /// (refused when the client is built).
    Zstd,
}

/// The `Content-Encoding` header value for a compression.
pub(crate) fn content_encoding(c: Compression) -> Option<&'static str> {
    match c {
        Compression::None => None,
        Compression::Gzip => Some("gzip"),
        Compression::Deflate => Some("deflate"),
        Compression::Zstd => Some("zstd"),
    }
}

/// Compresses a body (shared as it is when uncompressed: retries clone it
/// cheaply).
///
/// The output is written to the thread's scratch buffer and copied out at
/// its exact size: a body in flight (up to `max_in_flight` of them, and
/// each kept for its retries) holds its bytes only, not the room the
/// compressor needed (zstd's bound is the input's size, 6–9× the output).
pub fn compress(c: Compression, body: bytes::Bytes) -> io::Result<bytes::Bytes> {
    thread_local! {
        static RAW: RefCell<Option<Compress>> = const { RefCell::new(None) };
        static ZLIB: RefCell<Option<Compress>> = const { RefCell::new(None) };
        static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    if c == Compression::None {
        return Ok(body);
    }
    SCRATCH
        .try_with(|cell| {
            let mut scratch = cell.borrow_mut();
            let out = compress_into(c, &body, &mut scratch, &RAW, &ZLIB);
            let out = out.map(|()| bytes::Bytes::copy_from_slice(&scratch));
            scratch.clear();
            // A rare huge body does not leave its room behind.
            if scratch.capacity() > SCRATCH_KEPT {
                *scratch = Vec::new();
            }
            out
        })
        // The thread is exiting: a buffer of its own.
        .unwrap_or_else(|_| {
            let mut out = Vec::new();
            compress_into(c, &body, &mut out, &RAW, &ZLIB).map(|()| bytes::Bytes::from(out))
        })
}

/// The most room a thread's scratch buffer keeps between bodies (a
/// 1,000-event body of 270 KB needs about 70 KB with gzip, its 270 KB
/// bound with zstd).
const SCRATCH_KEPT: usize = 1 << 20;

type Cell = std::thread::LocalKey<RefCell<Option<Compress>>>;

/// Compresses `body` to the end of the empty `out`, with the thread's
/// compressor for the format (`raw` for gzip, `zlib` for deflate).
fn compress_into(
    c: Compression,
    body: &[u8],
    out: &mut Vec<u8>,
    raw: &'static Cell,
    zlib: &'static Cell,
) -> io::Result<()> {
    let (cell, zlib_header) = match c {
        Compression::None => {
            out.extend_from_slice(body);
            return Ok(());
        }
        Compression::Zstd => return zstd_body(body, out),
        Compression::Gzip => (raw, false),
        Compression::Deflate => (zlib, true),
    };
    out.reserve(body.len() / 4 + 64);
    if c == Compression::Gzip {
        // ID1 ID2, CM = deflate, no flags, no mtime, XFL 0, OS unknown.
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    }
    let fresh = || Compress::new(flate2::Compression::fast(), zlib_header);
    // The thread's compressor; a new one if the thread is exiting.
    cell.try_with(|cell| {
        let mut slot = cell.borrow_mut();
        deflate(slot.get_or_insert_with(fresh), body, out)
    })
    .unwrap_or_else(|_| deflate(&mut fresh(), body, out))?;
    if c == Compression::Gzip {
        let mut crc = Crc::new();
        crc.update(body);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        // ISIZE: the input length modulo 2^32.
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    }
    Ok(())
}

/// A zstd frame of `body` at level 1 to the end of the empty `out`, with
/// the thread's reused context.
#[cfg(feature = "zstd")]
fn zstd_body(body: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    thread_local! {
        static ZSTD: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    }
    let fresh = || zstd::bulk::Compressor::new(1);
    out.reserve(zstd::zstd_safe::compress_bound(body.len()));
    ZSTD.try_with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(fresh()?);
        }
        match slot.as_mut() {
            Some(c) => c.compress_to_buffer(body, out).map(drop),
            None => Err(io::Error::other("no zstd context")),
        }
    })
    .unwrap_or_else(|_| fresh()?.compress_to_buffer(body, out).map(drop))
}

/// Without the `zstd` feature, `Compression::Zstd` is refused when the
/// client is built; this is never reached.
#[cfg(not(feature = "zstd"))]
fn zstd_body(_body: &[u8], _out: &mut Vec<u8>) -> io::Result<()> {
    Err(io::Error::other(
        "zstd compression needs the `zstd` feature of insights-events",
    ))
}

/// Compresses all of `input` to the end of `out` with a reset `c`.
fn deflate(c: &mut Compress, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    c.reset();
    loop {
        let consumed = c.total_in() as usize;
        // `compress_vec` writes into spare capacity only.
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(1024));
        }
        match c.compress_vec(&input[consumed..], out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => return Ok(()),
            // Out of room (or no progress possible without more): grow.
            Ok(Status::Ok | Status::BufError) => out.reserve(out.capacity().max(1024)),
            Err(e) => return Err(io::Error::other(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn body(seed: u64, len: usize) -> Vec<u8> {
        // Varied, only partly compressible bytes.
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if i % 3 == 0 {
                    b'a' + (x % 26) as u8
                } else {
                    b"{\"query\":\"SELECT 1\"}\n"[i % 21]
                }
            })
            .collect()
    }

    fn inflate(c: Compression, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match c {
            Compression::Gzip => flate2::read::GzDecoder::new(data).read_to_end(&mut out),
            Compression::Deflate => flate2::read::ZlibDecoder::new(data).read_to_end(&mut out),
            #[cfg(feature = "zstd")]
            Compression::Zstd => {
                zstd::stream::read::Decoder::new(data).and_then(|mut d| d.read_to_end(&mut out))
            }
            _ => unreachable!(),
        }
        .expect("a standard decoder reads it");
        out
    }

    #[test]
    fn reused_compressors_round_trip_body_after_body() {
        let all = [
            Compression::Gzip,
            Compression::Deflate,
            #[cfg(feature = "zstd")]
            Compression::Zstd,
        ];
        for c in all {
            // Sizes from empty to larger than the first output guess, in
            // an order that makes a reset matter.
            for (i, len) in [0, 1, 15_000, 300, 2_000_000, 40, 15_000]
                .into_iter()
                .enumerate()
            {
                let b = body(i as u64, len);
                let z = compress(c, bytes::Bytes::from(b.clone())).expect("compress");
                assert_eq!(inflate(c, &z), b, "{c:?}, body {i} of {len} bytes");
            }
        }
    }

    #[test]
    fn uncompressed_bodies_are_shared_as_they_are() {
        let b = bytes::Bytes::from_static(b"{}\n");
        let out = compress(Compression::None, b.clone()).unwrap();
        assert_eq!(out.as_ptr(), b.as_ptr());
        assert_eq!(content_encoding(Compression::None), None);
        assert_eq!(content_encoding(Compression::Gzip), Some("gzip"));
        assert_eq!(content_encoding(Compression::Zstd), Some("zstd"));
    }

    #[cfg(not(feature = "zstd"))]
    #[test]
    fn zstd_without_the_feature_is_an_error_not_a_panic() {
        let e = compress(Compression::Zstd, bytes::Bytes::from_static(b"{}\n")).unwrap_err();
        assert!(e.to_string().contains("`zstd` feature"), "{e}");
    }
}
