//! The wall clock, read cheaply for typed sends.
//!
//! A typed send stamps its event with the time since the Unix epoch. Read
//! with `clock_gettime(CLOCK_REALTIME)` that costs about 24 ns on a KVM
//! guest (the vDSO orders its `rdtsc` with a fence, which waits for
//! everything before it), a sixth of the whole send. Where the kernel
//! itself keeps time with the TSC (Linux on x86-64, clocksource `tsc`, an
//! invariant TSC), each thread instead reads the TSC (7–10 ns, no fence)
//! and turns it into wall time from the last `(CLOCK_REALTIME, TSC)` pair
//! it read. At most [`REFRESH_NS`] after that pair it reads the real clock
//! again, and measures the TSC's rate against it: a rate is used once two
//! measurements in a row agree, so one taken across a step of the clock
//! is never used, and the wall clock's corrections (NTP slewing, steps)
//! are followed within a millisecond or two. The extrapolation error is
//! far below the microseconds a timestamp is written with. A TSC that
//! goes backwards or jumps past the refresh makes the thread read the
//! real clock again.
//!
//! Elsewhere, and until a thread has confirmed the rate, `CLOCK_REALTIME`
//! is read every time.
//!
//! Why not `quanta`: it calibrates the TSC against the *monotonic* clock
//! and gives an `Instant`; a send needs wall time since the Unix epoch,
//! following NTP steps within a millisecond, which a `quanta` user would
//! build on top of it with the same extrapolation and resync this module
//! does. Measured by `cargo run --release -p insights-events-bench --bin
//! twins` (two runs): `since_epoch` 18.0 / 19.0 ns per read,
//! `quanta::Clock::now` 14.8 / 15.2 ns (no wall time), `SystemTime::now`
//! 31.1 / 33.9 ns.

use std::time::Duration;
#[cfg(not(unix))]
use std::time::{SystemTime, UNIX_EPOCH};

/// Longest a thread extrapolates from one reading of the real clock.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const REFRESH_NS: u64 = 1_000_000;

/// Time since the Unix epoch, now; `None` if the clock reads before 1970.
#[inline]
pub fn since_epoch() -> Option<Duration> {
    #[cfg(target_arch = "x86_64")]
    if tsc::usable() {
        let ns = tsc::now_ns()?;
        return Some(Duration::new(
            ns / 1_000_000_000,
            (ns % 1_000_000_000) as u32,
        ));
    }
    realtime()
}

/// `CLOCK_REALTIME`, read straight into a `Duration` (through `SystemTime`
/// and `duration_since` it costs about 80 instructions more).
#[inline]
fn realtime() -> Option<Duration> {
    #[cfg(unix)]
    {
        super::raw::cpu::realtime()
    }
    #[cfg(not(unix))]
    {
        SystemTime::now().duration_since(UNIX_EPOCH).ok()
    }
}

/// Wall time from the last reading of the real clock and the TSC ticks
/// since (pure arithmetic, tested on its own).
#[derive(Debug, Clone, Copy, Default)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
struct Calibration {
    /// The last reading: nanoseconds since the epoch, and the TSC then.
    base_ns: u64,
    base_tsc: u64,
    /// The reading the rate is measured from next.
    anchor_ns: u64,
    anchor_tsc: u64,
    /// Nanoseconds per tick, in 32.32 fixed point, as last measured; 0
    /// until measured.
    mult: u64,
    /// Ticks past `base_tsc` the extrapolation may cover (0: none).
    span: u64,
}

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
impl Calibration {
    /// The time at `tsc`, if it can be extrapolated from the last reading.
    #[inline]
    fn at(&self, tsc: u64) -> Option<u64> {
        let ticks = tsc.wrapping_sub(self.base_tsc);
        if ticks >= self.span {
            // Too long since the last reading, the rate not measured (`span`
            // is 0), or the TSC went backwards.
            return None;
        }
        // `ticks < span <= u32::MAX` and `mult < 2^32`: no overflow.
        Some(self.base_ns + ((ticks * self.mult) >> 32))
    }

    /// Takes a new reading of the real clock (`ns`) at `tsc`, and measures
    /// the rate against the anchor once enough time has passed. A rate is
    /// used once two measurements in a row agree within 1%: one taken
    /// across a step of the clock (or a change of TSC) is never used.
    fn rebase(&mut self, ns: u64, tsc: u64) {
        self.base_ns = ns;
        self.base_tsc = tsc;
        let (dns, dtsc) = (
            ns.wrapping_sub(self.anchor_ns),
            tsc.wrapping_sub(self.anchor_tsc),
        );
        if self.anchor_ns == 0 || ns < self.anchor_ns || tsc <= self.anchor_tsc || dns > 1 << 40 {
            // The first reading, or time went backwards: measure from here.
            self.anchor_ns = ns;
            self.anchor_tsc = tsc;
            return;
        }
        if dns < REFRESH_NS / 2 {
            return;
        }
        self.anchor_ns = ns;
        self.anchor_tsc = tsc;
        let measured = (u128::from(dns) << 32) / u128::from(dtsc);
        // A TSC slower than a tick per nanosecond is not one to trust.
        if measured == 0 || measured >= 1 << 32 {
            self.mult = 0;
            self.span = 0;
            return;
        }
        let agrees = self.mult != 0 && u128::from(self.mult).abs_diff(measured) <= measured / 100;
        self.mult = measured as u64;
        self.span = if agrees {
            // The ticks in REFRESH_NS.
            ((u128::from(REFRESH_NS) << 32) / measured).min(u128::from(u32::MAX)) as u64
        } else {
            0
        };
    }
}

#[cfg(target_arch = "x86_64")]
mod tsc {
    use std::cell::Cell;
    use std::sync::OnceLock;

    use super::Calibration;

    /// Most ticks a reading of the real clock may take for its pair with
    /// the TSC to be kept (about 20 µs at 5 GHz; a vDSO read takes well
    /// under a microsecond).
    const PAIR_TICKS: u64 = 100_000;

    thread_local! {
        static CALIBRATION: Cell<Calibration> = const {
            Cell::new(Calibration {
                base_ns: 0,
                base_tsc: 0,
                anchor_ns: 0,
                anchor_tsc: 0,
                mult: 0,
                span: 0,
            })
        };
    }

    /// Whether the TSC can stand in for the real clock: the CPU says it
    /// ticks at a constant rate in every power state (CPUID's invariant
    /// TSC bit), and Linux keeps its own time with it (its clocksource is
    /// `tsc`: the kernel found it synchronized across cores and stable).
    pub(super) fn usable() -> bool {
        static USABLE: OnceLock<bool> = OnceLock::new();
        *USABLE.get_or_init(|| {
            crate::core::fast::raw::cpu::invariant_tsc()
                && std::fs::read_to_string(
                    "/sys/devices/system/clocksource/clocksource0/current_clocksource",
                )
                .is_ok_and(|source| source.trim() == "tsc")
        })
    }

    #[inline]
    fn read_tsc() -> u64 {
        crate::core::fast::raw::cpu::read_tsc()
    }

    /// Nanoseconds since the epoch.
    #[inline]
    pub(super) fn now_ns() -> Option<u64> {
        let tsc = read_tsc();
        let cal = CALIBRATION.try_with(Cell::get).unwrap_or_default();
        match cal.at(tsc) {
            Some(ns) => Some(ns),
            None => refresh(cal),
        }
    }

    /// Whether this thread extrapolates from the TSC now.
    #[cfg(test)]
    pub(super) fn extrapolating() -> bool {
        CALIBRATION.with(|c| c.get().span > 0)
    }

    /// Reads the real clock, and the TSC with it, for this thread's next
    /// extrapolations.
    #[cold]
    #[inline(never)]
    fn refresh(mut cal: Calibration) -> Option<u64> {
        for _ in 0..3 {
            let before = read_tsc();
            let now = super::realtime()?;
            let after = read_tsc();
            let ns = u64::try_from(now.as_nanos()).ok()?;
            // A pair read across a preemption would put every time until
            // the next reading off by as much: read again.
            if after.wrapping_sub(before) < PAIR_TICKS {
                cal.rebase(ns, before + (after - before) / 2);
                let _ = CALIBRATION.try_with(|c| c.set(cal));
                return Some(ns);
            }
        }
        super::realtime().and_then(|now| u64::try_from(now.as_nanos()).ok())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::{Calibration, REFRESH_NS};

    #[test]
    fn reads_the_clock_system_time_reads() {
        // Across several refreshes of the thread's reading, each time is
        // within a millisecond of what `SystemTime` reads around it.
        let slack = std::time::Duration::from_millis(1);
        let start = std::time::Instant::now();
        let mut reads = 0u64;
        while reads < 10_000_000
            && (reads < 1000 || start.elapsed().as_nanos() < 5 * u128::from(REFRESH_NS))
        {
            let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            let now = super::since_epoch().expect("a clock after 1970");
            let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            assert!(
                before <= now + slack && now <= after + slack,
                "{before:?} {now:?} {after:?}"
            );
            reads += 1;
        }
        #[cfg(target_arch = "x86_64")]
        if super::tsc::usable() {
            assert!(super::tsc::extrapolating(), "after {reads} reads");
        }
    }

    /// A TSC of 3 GHz that reads `tsc0` at the test's first reading: its
    /// value `ns_later` nanoseconds after.
    fn clock(tsc0: u64) -> impl Fn(u64) -> u64 {
        move |ns_later| tsc0 + ns_later * 3
    }

    #[test]
    fn extrapolates_only_once_the_rate_is_measured_and_then_within_its_span() {
        let ns0 = 1_700_000_000_000_000_000;
        let tsc_at = clock(1 << 40);
        let mut cal = Calibration::default();
        assert_eq!(cal.at(tsc_at(0)), None, "nothing read yet");
        cal.rebase(ns0, tsc_at(0));
        assert_eq!(cal.at(tsc_at(10)), None, "rate not measured yet");
        cal.rebase(ns0 + REFRESH_NS / 2, tsc_at(REFRESH_NS / 2));
        assert_eq!(cal.at(tsc_at(REFRESH_NS / 2 + 10)), None, "measured once");
        cal.rebase(ns0 + REFRESH_NS, tsc_at(REFRESH_NS));
        for later in [0, 1, 999, 123_456, REFRESH_NS - 1] {
            let got = cal.at(tsc_at(REFRESH_NS + later)).expect("within the span");
            let want = ns0 + REFRESH_NS + later;
            assert!(got.abs_diff(want) <= 1, "{later}: {got} vs {want}");
        }
        assert_eq!(cal.at(tsc_at(2 * REFRESH_NS + 1)), None, "past the span");
        assert_eq!(cal.at(tsc_at(REFRESH_NS) - 1), None, "TSC went backwards");
    }

    #[test]
    fn follows_the_wall_clock_when_it_is_stepped() {
        let ns0 = 1_700_000_000_000_000_000;
        let tsc_at = clock(5);
        let mut cal = Calibration::default();
        cal.rebase(ns0, tsc_at(0));
        cal.rebase(ns0 + REFRESH_NS / 2, tsc_at(REFRESH_NS / 2));
        cal.rebase(ns0 + REFRESH_NS, tsc_at(REFRESH_NS));
        assert!(cal.at(tsc_at(REFRESH_NS + 1)).is_some());
        // Stepped 3 s forward: the rate measured across the step is not
        // believed, and nothing is extrapolated until it is measured again.
        let fwd = ns0 + 2 * REFRESH_NS + 3_000_000_000;
        cal.rebase(fwd, tsc_at(2 * REFRESH_NS));
        assert_eq!(cal.at(tsc_at(2 * REFRESH_NS + 1)), None);
        cal.rebase(
            fwd + REFRESH_NS / 4,
            tsc_at(2 * REFRESH_NS + REFRESH_NS / 4),
        );
        assert_eq!(cal.at(tsc_at(2 * REFRESH_NS + REFRESH_NS / 4 + 1)), None);
        cal.rebase(fwd + REFRESH_NS, tsc_at(3 * REFRESH_NS));
        assert_eq!(cal.at(tsc_at(3 * REFRESH_NS + 1)), None, "measured once");
        cal.rebase(fwd + 2 * REFRESH_NS, tsc_at(4 * REFRESH_NS));
        let got = cal
            .at(tsc_at(4 * REFRESH_NS + 500))
            .expect("measured again");
        assert!(got.abs_diff(fwd + 2 * REFRESH_NS + 500) <= 1, "{got}");
        // Stepped 10 s back: the rate still holds, times follow the clock.
        let back = fwd - 10_000_000_000;
        cal.rebase(back, tsc_at(4 * REFRESH_NS + 1000));
        let got = cal.at(tsc_at(4 * REFRESH_NS + 1100)).expect("rate kept");
        assert!(got.abs_diff(back + 100) <= 1, "{got}");
    }

    #[test]
    fn a_rate_measured_across_a_step_is_never_used() {
        // Stepped 0.5 ms forward between the first two readings: that rate
        // (1.5 times the real one) is not confirmed by the next, which is.
        let ns0 = 1_700_000_000_000_000_000;
        let tsc_at = clock(5);
        let step = REFRESH_NS / 2;
        let mut cal = Calibration::default();
        cal.rebase(ns0, tsc_at(0));
        cal.rebase(ns0 + REFRESH_NS + step, tsc_at(REFRESH_NS));
        assert_eq!(cal.at(tsc_at(REFRESH_NS + 1)), None);
        cal.rebase(ns0 + 2 * REFRESH_NS + step, tsc_at(2 * REFRESH_NS));
        assert_eq!(cal.at(tsc_at(2 * REFRESH_NS + 1)), None);
        cal.rebase(ns0 + 3 * REFRESH_NS + step, tsc_at(3 * REFRESH_NS));
        let got = cal.at(tsc_at(3 * REFRESH_NS + 300)).expect("confirmed");
        assert!(
            got.abs_diff(ns0 + 3 * REFRESH_NS + step + 300) <= 1,
            "{got}"
        );
    }
}
