//! Sampling decisions.
//!
//! * Honeybadger: the rule honeybadger-python applies, so that a request
//!   sampled in one language is sampled in the other: with a rate of 0–100,
//!   keep the event when `md5(request_id)`, read as a 128-bit integer, modulo
//!   100 is below the rate; without a `request_id`, a random key decides.
//! * Honeycomb: libhoney's "one in N": keep with probability `1/N`, and send
//!   `samplerate: N` so the backend can weight the event.

use md5::{Digest, Md5};

/// Whether honeybadger-python would keep an event with this `request_id` at
/// `rate` percent (0–100). An empty `request_id` counts as none.
///
/// ```
/// use insights_events::sampling::honeybadger_keep;
/// assert!(honeybadger_keep(Some("anything"), 100));
/// assert!(!honeybadger_keep(Some("anything"), 0));
/// ```
pub fn honeybadger_keep(request_id: Option<&str>, rate: u32) -> bool {
    if rate >= 100 {
        return true;
    }
    if rate == 0 {
        return false;
    }
    let bucket = match request_id.filter(|id| !id.is_empty()) {
        Some(id) => md5_bucket(id),
        None => rand::random::<u32>() % 100,
    };
    bucket < rate
}

/// `int(md5(key).hexdigest(), 16) % 100`.
pub fn md5_bucket(key: &str) -> u32 {
    let digest = Md5::digest(key.as_bytes());
    let n = u128::from_be_bytes(digest.into());
    (n % 100) as u32
}

/// libhoney's decision for a "one in `rate`" sample rate.
pub fn honeycomb_keep(rate: u32) -> bool {
    rate <= 1 || rand::random::<u32>() % rate == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_bucket_matches_python() {
        // python3 -c 'import hashlib;print(int(hashlib.md5(b"abc").hexdigest(),16)%100)'
        assert_eq!(md5_bucket("abc"), 70);
    }
}
