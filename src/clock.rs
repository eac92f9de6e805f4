//! The wall clock, read cheaply for typed sends.

use std::time::Duration;
#[cfg(not(unix))]
use std::time::{SystemTime, UNIX_EPOCH};

/// Time since the Unix epoch, now; `None` if the clock reads before 1970.
///
/// On Unix this reads `CLOCK_REALTIME` (the clock behind `SystemTime::now`)
/// straight into a `Duration`: through `SystemTime` and `duration_since`, a
/// typed send spent about 80 instructions here, as many as on copying its
/// two strings.
#[inline]
pub(crate) fn since_epoch() -> Option<Duration> {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `clock_gettime` only writes into the timespec we pass.
        if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) } != 0 {
            return None;
        }
        let secs = u64::try_from(ts.tv_sec).ok()?;
        let nanos = u32::try_from(ts.tv_nsec)
            .ok()
            .filter(|&n| n < 1_000_000_000)?;
        Some(Duration::new(secs, nanos))
    }
    #[cfg(not(unix))]
    {
        SystemTime::now().duration_since(UNIX_EPOCH).ok()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    #[test]
    fn reads_the_clock_system_time_reads() {
        let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let now = super::since_epoch().expect("a clock after 1970");
        let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        assert!(
            before <= now && now <= after,
            "{before:?} {now:?} {after:?}"
        );
    }
}
