//! JSON string escaping, byte for byte what `serde_json` writes, 16 bytes
//! at a time.
//!
//! Event payloads are full of characters JSON must escape: an ORM query has a
//! `"` every few bytes. `serde_json` looks at one byte at a time and copies
//! every run between two escapes with its own `memcpy`, which made string
//! escaping half of the worker's encoding time (`cargo bench -p
//! insights-events-bench --bench serialize` compares the worker's encoder
//! with serde_json's on 1,000 `db.query` events; figures in
//! `BENCHMARKS.md`). Here a 16-byte block is loaded, stored to the
//! output as it is, and checked for `"`, `\` and control characters with three
//! SSE2 compares (SSE2 is part of every x86-64 CPU). A clean block is done. In
//! a block with escapes, each one moves the output cursor to its position,
//! writes the two-byte escape, and the rest of the block is loaded and stored
//! again after it. The last bytes (fewer than 16, and all of a short string
//! such as a key) are checked and copied as two overlapping words. Nothing is
//! read outside the string.
//!
//! Other targets, and the rare `\u00XX` control characters, take the plain
//! byte loop ([`write_str_scalar`]).
//!
//! One of the two modules allowed `unsafe` code: every block has a
//! `SAFETY:` comment and the tests below (and the property tests against
//! serde_json) exercise it.

/// For each byte: 0 if it is written as is, else the character after the
/// backslash of its escape (`u` for the six-byte `\u00XX` form).
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` as a quoted JSON string to `buf`.
#[inline]
pub(crate) fn write_str(buf: &mut Vec<u8>, s: &str) {
    write_utf8(buf, s.as_bytes());
}

/// [`write_str`] for the bytes of a `str` (as events packed on the sending
/// thread carry them): escaping looks at ASCII bytes only, so the output is
/// valid UTF-8 when the input is.
#[inline]
pub(crate) fn write_utf8(buf: &mut Vec<u8>, s: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if sse2::write_short(buf, s) {
        return;
    }
    buf.push(b'"');
    #[cfg(target_arch = "x86_64")]
    let rest = sse2::write_until_long_escape(buf, s);
    #[cfg(not(target_arch = "x86_64"))]
    let rest = s;
    if !rest.is_empty() {
        write_str_scalar(buf, rest);
    }
    buf.push(b'"');
}

/// The contents of a JSON string for `bytes` (valid UTF-8, no quotes), one
/// byte at a time.
fn write_str_scalar(buf: &mut Vec<u8>, bytes: &[u8]) {
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let e = ESCAPE[b as usize];
        if e == 0 {
            continue;
        }
        buf.extend_from_slice(&bytes[run..i]);
        run = i + 1;
        if e == b'u' {
            buf.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ]);
        } else {
            buf.extend_from_slice(&[b'\\', e]);
        }
    }
    buf.extend_from_slice(&bytes[run..]);
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8, _mm_storeu_si128,
    };

    use super::ESCAPE;

    /// Loads 16 bytes at `p` and returns them with a bit set for each byte
    /// that needs an escape (`"`, `\`, below 0x20).
    ///
    /// # Safety
    /// `p..p + 16` must be readable.
    #[inline(always)]
    unsafe fn load(p: *const u8) -> (__m128i, u32) {
        // SAFETY: the caller guarantees 16 readable bytes; SSE2 is baseline
        // on x86-64, and the loads and stores are unaligned.
        unsafe {
            let v = _mm_loadu_si128(p.cast());
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            // v <= 0x1f (unsigned) exactly when min(v, 0x1f) == v.
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
            let m = _mm_or_si128(_mm_or_si128(quote, backslash), control);
            (v, _mm_movemask_epi8(m) as u32)
        }
    }

    /// Input taken at a time, so that the room reserved ahead (twice the
    /// input) stays small however long the string is.
    const SEGMENT: usize = 4096;

    /// Writes the escaped contents of `bytes` into `buf` up to the end or to
    /// the first character that needs the six-byte `\u00XX` form, and
    /// returns the bytes not yet written.
    pub(super) fn write_until_long_escape<'a>(buf: &mut Vec<u8>, bytes: &'a [u8]) -> &'a [u8] {
        let mut done = 0;
        for segment in bytes.chunks(SEGMENT) {
            let left = write_segment(buf, segment);
            if !left.is_empty() {
                return &bytes[done + segment.len() - left.len()..];
            }
            done += segment.len();
        }
        &[]
    }

    /// [`write_until_long_escape`] for at most [`SEGMENT`] bytes.
    fn write_segment<'a>(buf: &mut Vec<u8>, bytes: &'a [u8]) -> &'a [u8] {
        let len = bytes.len();
        // Each input byte becomes at most 2 output bytes, and a block store
        // may write up to 16 bytes past the end of the output.
        buf.reserve(2 * len + 32);
        let start = buf.len();
        let base = buf.as_mut_ptr();
        let src = bytes.as_ptr();
        // SAFETY: every load reads 16 bytes at `src + p` with
        // `p + 16 <= len`, inside `bytes`. With `i` input bytes done, at
        // most `2 * i` bytes have been written; a store at the cursor
        // writes 16 bytes for input that is not done yet, so every write
        // ends before `start + 2 * len + 16`, inside the reserved capacity.
        // `set_len` covers exactly the bytes written as output.
        unsafe {
            let mut out = base.add(start);
            let mut i = 0;
            'blocks: while i + 16 <= len {
                let (v, mut mask) = load(src.add(i));
                _mm_storeu_si128(out.cast(), v);
                if mask == 0 {
                    out = out.add(16);
                    i += 16;
                    continue;
                }
                // `done`: bytes of this block already written.
                let mut done = 0;
                while mask != 0 {
                    let idx = mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    let e = ESCAPE[*src.add(i + idx) as usize];
                    out = out.add(idx - done);
                    if e == b'u' {
                        buf.set_len(out.offset_from(base) as usize);
                        return &bytes[i + idx..];
                    }
                    *out = b'\\';
                    *out.add(1) = e;
                    out = out.add(2);
                    done = idx + 1;
                    if i + done + 16 > len {
                        // Too near the end to reload 16 bytes: go on from
                        // here with what is left.
                        i += done;
                        continue 'blocks;
                    }
                    // The rest of the block, after the escapes so far.
                    _mm_storeu_si128(out.cast(), _mm_loadu_si128(src.add(i + done).cast()));
                }
                out = out.add(16 - done);
                i += 16;
            }
            // Fewer than 16 bytes left.
            let rest = len - i;
            if clean_short(src.add(i), rest) {
                copy_short(src.add(i), out, rest);
                out = out.add(rest);
            } else {
                buf.set_len(out.offset_from(base) as usize);
                super::write_str_scalar(buf, &bytes[i..]);
                return &[];
            }
            buf.set_len(out.offset_from(base) as usize);
        }
        &[]
    }

    /// Writes `bytes` quoted if it is shorter than 16 bytes and needs no
    /// escape (most keys and many values), inline and without a `memcpy`
    /// call; returns whether it did.
    #[inline(always)]
    pub(super) fn write_short(buf: &mut Vec<u8>, bytes: &[u8]) -> bool {
        let n = bytes.len();
        // SAFETY: `clean_short` and `copy_short` read `bytes[..n]`; the
        // writes are `n + 2` bytes into the capacity reserved for them, and
        // `set_len` covers them.
        unsafe {
            if n >= 16 || !clean_short(bytes.as_ptr(), n) {
                return false;
            }
            buf.reserve(n + 2);
            let len = buf.len();
            let out = buf.as_mut_ptr().add(len);
            *out = b'"';
            copy_short(bytes.as_ptr(), out.add(1), n);
            *out.add(n + 1) = b'"';
            buf.set_len(len + n + 2);
        }
        true
    }

    /// Whether the `n` (< 16) bytes at `p` need no escape, read as two
    /// overlapping words (no read outside them).
    ///
    /// # Safety
    /// `p..p + n` must be readable.
    #[inline(always)]
    unsafe fn clean_short(p: *const u8, n: usize) -> bool {
        // A byte of `x` is `"`, `\` or below 0x20 (the classic "has a
        // byte less than" word tests, exact for whether any byte matches).
        fn dirty(x: u64) -> bool {
            const ONES: u64 = u64::from_ne_bytes([1; 8]);
            const HIGH: u64 = ONES * 0x80;
            let less = |y: u64, n: u8| y.wrapping_sub(ONES * u64::from(n)) & !y & HIGH;
            (less(x, 0x20) | less(x ^ (ONES * 0x22), 1) | less(x ^ (ONES * 0x5c), 1)) != 0
        }
        // SAFETY: the reads are inside `p..p + n`.
        unsafe {
            if n >= 8 {
                let a = p.cast::<u64>().read_unaligned();
                let b = p.add(n - 8).cast::<u64>().read_unaligned();
                !dirty(a) && !dirty(b)
            } else if n >= 4 {
                let a = u64::from(p.cast::<u32>().read_unaligned());
                let b = u64::from(p.add(n - 4).cast::<u32>().read_unaligned());
                // The upper four bytes are zero: count them as spaces.
                const SPACES: u64 = 0x2020_2020_0000_0000;
                !dirty(a | SPACES) && !dirty(b | SPACES)
            } else {
                (0..n).all(|k| ESCAPE[*p.add(k) as usize] == 0)
            }
        }
    }

    /// Copies `n` (< 16) bytes without a `memcpy` call: two overlapping
    /// words.
    ///
    /// # Safety
    /// `src..src + n` readable, `dst..dst + n` writable.
    #[inline(always)]
    unsafe fn copy_short(src: *const u8, dst: *mut u8, n: usize) {
        // SAFETY: the reads and writes are inside the two ranges.
        unsafe {
            if n >= 8 {
                let a = src.cast::<u64>().read_unaligned();
                let b = src.add(n - 8).cast::<u64>().read_unaligned();
                dst.cast::<u64>().write_unaligned(a);
                dst.add(n - 8).cast::<u64>().write_unaligned(b);
            } else if n >= 4 {
                let a = src.cast::<u32>().read_unaligned();
                let b = src.add(n - 4).cast::<u32>().read_unaligned();
                dst.cast::<u32>().write_unaligned(a);
                dst.add(n - 4).cast::<u32>().write_unaligned(b);
            } else {
                for k in 0..n {
                    *dst.add(k) = *src.add(k);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ours(s: &str) -> Vec<u8> {
        let mut buf = b"prefix".to_vec();
        write_str(&mut buf, s);
        buf.split_off(6)
    }

    #[test]
    fn matches_serde_json_on_edge_cases() {
        let mut cases: Vec<String> = vec![
            String::new(),
            "\"".into(),
            "\\".into(),
            "\u{0}".into(),
            "\u{1f}\u{7f}".into(),
            "a\nb\tc\rd\u{8}e\u{c}f".into(),
            "SELECT \"users\".* FROM \"users\" WHERE \"users\".\"id\" = %s LIMIT 1".into(),
            "é日本語🎉\"".into(),
        ];
        // Every length around the block and tail boundaries, with an escape
        // at every position and at none.
        for len in 0..70 {
            cases.push("x".repeat(len));
            for at in 0..len {
                for c in ['"', '\\', '\n', '\u{1}'] {
                    let mut s: Vec<char> = "y".repeat(len).chars().collect();
                    s[at] = c;
                    cases.push(s.into_iter().collect());
                }
            }
            cases.push("\"".repeat(len));
            cases.push("\u{2}".repeat(len));
        }
        // Longer than a segment, with escapes across the segment borders
        // and a long escape far in.
        let long: String = (0..20_000)
            .map(|i| match i % 97 {
                0 => '"',
                5 => '\\',
                50 => '\n',
                _ => 'x',
            })
            .collect();
        cases.push(long.clone());
        cases.push(format!("{long}\u{1}{long}"));
        for s in &cases {
            assert_eq!(
                ours(s),
                serde_json::to_vec(s).unwrap(),
                "escaping {s:?} (len {})",
                s.len()
            );
        }
    }

    proptest! {
        #[test]
        fn matches_serde_json(cs in prop::collection::vec(
            prop_oneof![(0u8..0x20).prop_map(char::from), Just('"'), Just('\\'), any::<char>()],
            0..80,
        )) {
            let s: String = cs.into_iter().collect();
            prop_assert_eq!(ours(&s), serde_json::to_vec(&s).unwrap());
        }

        #[test]
        fn matches_serde_json_on_any_string(s in any::<String>()) {
            prop_assert_eq!(ours(&s), serde_json::to_vec(&s).unwrap());
        }
    }
}
