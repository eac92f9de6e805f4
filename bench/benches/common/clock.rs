//! This thread's CPU time, shared by the benches (`#[path]`-included, not
//! a bench target of its own).

use std::time::Duration;

/// This thread's CPU time (immune to being descheduled by other processes).
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
