//! Events given up on: what [`crate::Client::flush`] and
//! [`crate::Client::close`] report of them ([`Lost`]), and what a person is
//! told. The policy is plain functions: which drops are losses
//! ([`is_loss`]), the first warning for a reason ([`first_warning`], with
//! its cause and fix), the summary of later losses ([`summary`]) and when
//! one is due ([`summary_due`]). [`LossLog`] keeps the little state they
//! need (the reasons warned about, what the last report covered); the
//! worker, the send tasks and the callers only call it.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::stats::Counters;
use crate::model::response::DropReason;
use crate::notice::Once;

const REASONS: usize = DropReason::ALL.len();

/// Events given up on, by reason: what a [`FlushOutcome`](crate::FlushOutcome)
/// reports since the previous flush or close of the client.
///
/// Sampled events and events a `before_event` hook dropped are left out:
/// those were dropped on purpose, not lost (they are in
/// [`Stats`](crate::Stats)).
///
/// ```
/// use insights_events::{DropReason, Lost};
/// let lost = Lost::default();
/// assert_eq!(lost.total(), 0);
/// assert_eq!(lost.by_reason(DropReason::RetriesExhausted), 0);
/// assert_eq!(lost.to_string(), "none");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Lost {
    counts: [u64; REASONS],
}

/// `Lost { retries_exhausted: 27 }`: the reasons with events lost.
impl fmt::Debug for Lost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Name(DropReason);
        impl fmt::Debug for Name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0.as_str())
            }
        }
        f.write_str("Lost ")?;
        f.debug_map()
            .entries(self.iter().map(|(r, n)| (Name(r), n)))
            .finish()
    }
}

impl Lost {
    /// Events lost, all reasons together.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Whether nothing was lost.
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    /// Events lost for `reason` (always 0 for [`DropReason::Sampled`] and
    /// [`DropReason::Hook`]).
    pub fn by_reason(&self, reason: DropReason) -> u64 {
        self.counts[reason.index()]
    }

    /// Each reason with events lost, and how many, in the order of
    /// [`DropReason::ALL`].
    pub fn iter(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        DropReason::ALL
            .into_iter()
            .map(|r| (r, self.by_reason(r)))
            .filter(|&(_, n)| n > 0)
    }

    /// The losses counted in `counters` so far.
    pub(crate) fn counted(counters: &Counters) -> Self {
        let mut lost = Lost::default();
        for r in DropReason::ALL {
            if is_loss(r) {
                lost.counts[r.index()] = counters.dropped(r);
            }
        }
        lost
    }

    /// What `self` has more than `earlier`.
    pub(crate) fn since(&self, earlier: &Lost) -> Lost {
        let mut d = Lost::default();
        for i in 0..REASONS {
            d.counts[i] = self.counts[i].saturating_sub(earlier.counts[i]);
        }
        d
    }

    pub(crate) fn add(&mut self, reason: DropReason, n: u64) {
        if is_loss(reason) {
            self.counts[reason.index()] += n;
        }
    }
}

/// `retries_exhausted 27, closed 3`, or `none`.
impl fmt::Display for Lost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (r, n) in self.iter() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{r} {n}")?;
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// Whether a drop for `reason` is a loss (said and reported): every reason
/// but sampling and a hook's choice, which are deliberate.
pub(crate) fn is_loss(reason: DropReason) -> bool {
    !matches!(reason, DropReason::Sampled | DropReason::Hook)
}

/// Where events go, as a warning describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Destination {
    /// The sender's name (`honeybadger`, `honeycomb`, a custom one).
    pub(crate) sender: &'static str,
    /// `scheme://host:port/path`, no key, no query (none for local senders).
    pub(crate) url: Option<String>,
    /// Events the queue holds.
    pub(crate) queue_capacity: usize,
}

/// One batch's (or one event's) loss, as the first warning describes it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Loss<'a> {
    pub(crate) reason: DropReason,
    pub(crate) events: u64,
    /// The HTTP status that decided it, if any.
    pub(crate) status: Option<u16>,
    /// The outcome's error text.
    pub(crate) error: Option<&'a str>,
}

/// The settings a fix names, by backend.
struct Names {
    endpoint: &'static str,
    base: &'static str,
    posted: &'static str,
    key: &'static str,
}

fn names(sender: &str) -> Option<Names> {
    match sender {
        "honeybadger" => Some(Names {
            endpoint: "HONEYBADGER_ENDPOINT",
            base: "the base URL, such as https://api.honeybadger.io",
            posted: "<base>/v1/events",
            key: "HONEYBADGER_API_KEY, Config::api_key",
        }),
        "honeycomb" => Some(Names {
            endpoint: "HONEYCOMB_API_HOST",
            base: "the host only, such as https://api.honeycomb.io",
            posted: "<host>/1/batch/<HONEYCOMB_DATASET>",
            key: "HONEYCOMB_API_KEY, Config::honeycomb_write_key",
        }),
        _ => None,
    }
}

fn events(n: u64) -> String {
    if n == 1 {
        "1 event".to_owned()
    } else {
        format!("{n} events")
    }
}

fn more_events(n: u64) -> String {
    if n == 1 {
        "1 more event".to_owned()
    } else {
        format!("{n} more events")
    }
}

/// The first warning for a reason: what was lost, why, and what to do.
/// `None` for a drop that is not a loss.
pub(crate) fn first_warning(
    loss: &Loss<'_>,
    to: &Destination,
    interval: Duration,
) -> Option<String> {
    if !is_loss(loss.reason) {
        return None;
    }
    let backend = match &to.url {
        Some(url) => format!("the backend at {url}"),
        None => format!("the {} backend", to.sender),
    };
    let error = loss
        .error
        .map(|e| e.trim().trim_end_matches(':').trim_end())
        .filter(|e| !e.is_empty());
    let names = names(to.sender);
    let status = loss
        .status
        .map(|s| format!(", HTTP {s}"))
        .unwrap_or_default();
    let why = match loss.reason {
        DropReason::RetriesExhausted => {
            let fix = match &names {
                Some(n) => format!(
                    "Check that the backend is up and that {} is right ({}); retries are set by max_batch_retries",
                    n.endpoint, n.base
                ),
                None => "Check that the backend is up and reachable; retries are set by max_batch_retries".to_owned(),
            };
            let error = error.unwrap_or("no answer");
            if error.starts_with("the backend answered") {
                // 5xx until the retries ran out: it answers, but fails.
                format!("{backend} kept failing: {error}. {fix}")
            } else {
                format!("{backend} could not be reached: {error}. {fix}")
            }
        }
        DropReason::Rejected => {
            let wrong_url = loss
                .status
                .is_some_and(|s| matches!(s, 404 | 405 | 301 | 302 | 303 | 307 | 308));
            let fix = match (&names, wrong_url) {
                (Some(n), true) => format!(
                    "Check {}: it is {}; events are posted to {}",
                    n.endpoint, n.base, n.posted
                ),
                _ => "The backend refused the events as they were sent; its answer is above".to_owned(),
            };
            format!(
                "{backend} refused them: {}. {fix}",
                error.unwrap_or("rejected")
            )
        }
        DropReason::Unauthorized => {
            let fix = match &names {
                Some(n) => format!("Check the API key ({})", n.key),
                None => "Check the API key".to_owned(),
            };
            format!("{backend} refused the API key, and sending pauses for throttle_wait after each refusal. {fix}")
        }
        DropReason::TooLarge => format!(
            "{}. Keep each event under max_event_bytes (Honeybadger takes up to 102,400 bytes of JSON): trim or split large fields",
            error.unwrap_or("event too large")
        ),
        DropReason::Invalid => format!(
            "{}. The event cannot be encoded as JSON: fix the code that builds it",
            error.unwrap_or("invalid event")
        ),
        DropReason::Overflow => format!(
            "queue full ({} events): {backend} is not taking events as fast as they are sent. Raise max_queue_size (HONEYBADGER_EVENTS_MAX_QUEUE_SIZE), send fewer, or set block_on_send",
            to.queue_capacity
        ),
        DropReason::Closed => format!(
            "{}. Flush or close the client before the process exits, and give close() (or drop_timeout) enough time; {backend} may be slow",
            error.unwrap_or("the client was closed before the event was delivered")
        ),
        DropReason::Reentrant => format!(
            "{}. Do not send from hooks or senders, or raise max_queue_size",
            error.unwrap_or("sent from one of insights-events' own threads while the queue was full")
        ),
        DropReason::Sampled | DropReason::Hook => return None,
    };
    let later = if interval.is_zero() {
        "as they come".to_owned()
    } else {
        format!("at most every {interval:?}")
    };
    Some(format!(
        "insights-events: lost {} ({}{status}): {why}. (Shown once; later losses are summarised {later}, and counted in Client::stats.)",
        events(loss.events),
        loss.reason,
    ))
}

/// The summary of losses since the last report (`None` when there are
/// none).
pub(crate) fn summary(lost: &Lost, to: &Destination) -> Option<String> {
    if lost.is_empty() {
        return None;
    }
    let at = match &to.url {
        Some(url) => format!(", backend at {url}"),
        None => format!(", {} backend", to.sender),
    };
    Some(format!(
        "insights-events: lost {} since the last report ({lost}){at}; counted in Client::stats",
        more_events(lost.total())
    ))
}

/// Whether a summary may be given at `now`: none was given yet (`last` is
/// the last warning or summary), or `interval` has passed since.
pub(crate) fn summary_due(last: Option<Instant>, now: Instant, interval: Duration) -> bool {
    last.is_none_or(|t| now.saturating_duration_since(t) >= interval)
}

/// What the last report covered.
struct Reported {
    /// Losses warned about or summarised, by reason.
    lost: Lost,
    /// When the last warning or summary was given.
    at: Option<Instant>,
}

/// A client's loss reporting: one warning per reason, then summaries at
/// most every `interval`. Each method returns the text to show, so the
/// caller shows it with no lock held.
pub(crate) struct LossLog {
    to: Destination,
    interval: Duration,
    warned: [Once; REASONS],
    reported: Mutex<Reported>,
    /// Nanoseconds after `epoch` before which no summary is due: a loss
    /// in between costs a clock read, not a lock.
    quiet_until: AtomicU64,
    epoch: Instant,
    /// The worker knows losses may wait for a summary (it parks no longer
    /// than until that summary is due).
    armed: AtomicBool,
}

impl LossLog {
    pub(crate) fn new(to: Destination, interval: Duration) -> Self {
        LossLog {
            to,
            interval,
            warned: std::array::from_fn(|_| Once::new()),
            reported: Mutex::new(Reported {
                lost: Lost::default(),
                at: None,
            }),
            quiet_until: AtomicU64::new(0),
            epoch: Instant::now(),
            armed: AtomicBool::new(false),
        }
    }

    fn nanos(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.epoch)
            .as_nanos()
            .min(u64::MAX as u128) as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Reported> {
        self.reported.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A loss, already in `counters`: its first warning if it is the first
    /// of its reason, else the summary if one is due.
    pub(crate) fn record(&self, loss: &Loss<'_>, counters: &Counters) -> Option<String> {
        if !is_loss(loss.reason) || loss.events == 0 {
            return None;
        }
        let now = Instant::now();
        let warned = &self.warned[loss.reason.index()];
        if !warned.is_raised() {
            // The flag is raised under the lock, with what the warning
            // reports: a summary never reports the same events again.
            let mut r = self.lock();
            if warned.first() {
                r.lost.add(loss.reason, loss.events);
                r.at = Some(now);
                self.quiet(now);
                drop(r);
                return first_warning(loss, &self.to, self.interval);
            }
        }
        self.due(now, counters, false)
    }

    /// The summary of what was lost since the last report, if any, and if
    /// one is due (or `force`).
    pub(crate) fn due(&self, now: Instant, counters: &Counters, force: bool) -> Option<String> {
        if !force && self.nanos(now) < self.quiet_until.load(Ordering::Relaxed) {
            return None;
        }
        let mut r = self.lock();
        if !force && !summary_due(r.at, now, self.interval) {
            return None;
        }
        let new = self.unreported(&r, counters);
        if new.is_empty() {
            return None;
        }
        for (reason, n) in new.iter() {
            r.lost.add(reason, n);
        }
        r.at = Some(now);
        self.quiet(now);
        drop(r);
        summary(&new, &self.to)
    }

    /// No summary is due before `now + interval`.
    fn quiet(&self, now: Instant) {
        let interval = self.interval.as_nanos().min(u64::MAX as u128) as u64;
        self.quiet_until
            .store(self.nanos(now).saturating_add(interval), Ordering::Relaxed);
    }

    /// Marks that a loss may wait for a summary: `true` if the worker
    /// did not know yet (then it must be woken to set its timer).
    pub(crate) fn arm(&self) -> bool {
        !self.armed.load(Ordering::Relaxed) && !self.armed.swap(true, Ordering::SeqCst)
    }

    /// The worker is about to look at what waits (a loss after this arms
    /// again, and wakes it).
    pub(crate) fn disarm(&self) {
        self.armed.store(false, Ordering::SeqCst);
    }

    /// How long until the summary of losses not reported yet is due
    /// (`None`: there are none).
    pub(crate) fn next_due(&self, now: Instant, counters: &Counters) -> Option<Duration> {
        let r = self.lock();
        if self.unreported(&r, counters).is_empty() {
            return None;
        }
        Some(match r.at {
            Some(t) => (t + self.interval).saturating_duration_since(now),
            None => Duration::ZERO,
        })
    }

    /// Losses counted and not reported yet, of the reasons already warned
    /// about (a reason's first loss is its warning's to report).
    fn unreported(&self, r: &Reported, counters: &Counters) -> Lost {
        let mut new = Lost::counted(counters).since(&r.lost);
        for reason in DropReason::ALL {
            if !self.warned[reason.index()].is_raised() {
                new.counts[reason.index()] = 0;
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hb() -> Destination {
        Destination {
            sender: "honeybadger",
            url: Some("http://127.0.0.1:18083/v1/events".into()),
            queue_capacity: 10_000,
        }
    }

    fn hc() -> Destination {
        Destination {
            sender: "honeycomb",
            url: Some("https://api.honeycomb.io:443/1/batch/prod".into()),
            queue_capacity: 10_000,
        }
    }

    fn custom() -> Destination {
        Destination {
            sender: "memory",
            url: None,
            queue_capacity: 500,
        }
    }

    fn loss(reason: DropReason, events: u64, status: Option<u16>, error: &str) -> Loss<'_> {
        Loss {
            reason,
            events,
            status,
            error: Some(error),
        }
    }

    /// Which drops warn, and what each warning must say: the reason, the
    /// status, the destination, the number of events, and the fix.
    #[test]
    fn first_warning_table() {
        use DropReason::*;
        let minute = Duration::from_secs(60);
        let rows: Vec<(Loss<'_>, Destination, &[&str])> = vec![
            (
                loss(RetriesExhausted, 27, None, "connection failed: tcp connect error: Connection refused (os error 111) (gave up after 2 retries)"),
                hb(),
                &[
                    "insights-events: lost 27 events (retries_exhausted): ",
                    "the backend at http://127.0.0.1:18083/v1/events could not be reached: connection failed",
                    "Connection refused",
                    "HONEYBADGER_ENDPOINT",
                    "every 60s",
                ],
            ),
            (
                loss(Rejected, 26, Some(404), "the backend answered 404: "),
                hb(),
                &[
                    "lost 26 events (rejected, HTTP 404): the backend at http://127.0.0.1:18083/v1/events refused them: the backend answered 404. ",
                    "Check HONEYBADGER_ENDPOINT: it is the base URL, such as https://api.honeybadger.io; events are posted to <base>/v1/events",
                ],
            ),
            (
                loss(Rejected, 3, Some(404), "the backend answered 404: unknown dataset"),
                hc(),
                &["(rejected, HTTP 404)", "Check HONEYCOMB_API_HOST", "<host>/1/batch/<HONEYCOMB_DATASET>", "unknown dataset"],
            ),
            (
                loss(Rejected, 5, Some(422), "the backend answered 422: bad ts"),
                hb(),
                &["(rejected, HTTP 422)", "bad ts", "refused the events as they were sent"],
            ),
            (
                loss(Unauthorized, 4, Some(401), "the backend answered 401: check the API key"),
                hb(),
                &["lost 4 events (unauthorized, HTTP 401)", "refused the API key", "HONEYBADGER_API_KEY"],
            ),
            (
                loss(Unauthorized, 1, Some(403), "the backend answered 403"),
                hc(),
                &["lost 1 event (unauthorized, HTTP 403)", "HONEYCOMB_API_KEY"],
            ),
            (
                loss(TooLarge, 1, None, "event is 2048 bytes of JSON, over the limit of 100"),
                custom(),
                &["lost 1 event (too_large): event is 2048 bytes", "max_event_bytes"],
            ),
            (
                loss(TooLarge, 1, Some(413), "the backend answered 413: event too large"),
                hb(),
                &["(too_large, HTTP 413)", "answered 413"],
            ),
            (
                loss(Invalid, 1, None, "a non-finite number"),
                custom(),
                &["lost 1 event (invalid): a non-finite number", "cannot be encoded"],
            ),
            (
                loss(Overflow, 1, None, "queue full: event dropped"),
                hb(),
                &["lost 1 event (overflow): queue full (10000 events): the backend at http://127.0.0.1:18083/v1/events", "max_queue_size", "block_on_send"],
            ),
            (
                loss(Closed, 12, None, "client closed before the backend answered"),
                hb(),
                &["lost 12 events (closed): client closed before the backend answered", "close()", "drop_timeout"],
            ),
            (
                loss(Reentrant, 1, None, "sent from one of insights-events' own threads"),
                custom(),
                &["lost 1 event (reentrant)", "hooks or senders"],
            ),
            (
                loss(RetriesExhausted, 9, None, "the backend answered 503 (gave up after 3 retries)"),
                hb(),
                &["lost 9 events (retries_exhausted): the backend at http://127.0.0.1:18083/v1/events kept failing: the backend answered 503 (gave up after 3 retries)"],
            ),
            (
                loss(RetriesExhausted, 2, None, "the sender panicked"),
                custom(),
                &["the memory backend could not be reached: the sender panicked", "reachable"],
            ),
        ];
        for (i, (l, to, want)) in rows.iter().enumerate() {
            let text =
                first_warning(l, to, minute).unwrap_or_else(|| panic!("row {i}: no warning"));
            assert!(
                text.starts_with("insights-events: lost "),
                "row {i}: {text}"
            );
            assert!(!text.contains('\n'), "row {i}: {text}");
            for w in *want {
                assert!(text.contains(w), "row {i}: {w:?} not in {text}");
            }
        }
        let zero = first_warning(&loss(Overflow, 1, None, "q"), &hb(), Duration::ZERO);
        assert!(zero.is_some_and(|t| t.contains("summarised as they come")));
        for deliberate in [Sampled, Hook] {
            assert_eq!(
                first_warning(&loss(deliberate, 1, None, "x"), &hb(), minute),
                None
            );
            assert!(!is_loss(deliberate));
        }
    }

    #[test]
    fn summary_table() {
        let mut lost = Lost::default();
        assert_eq!(summary(&lost, &hb()), None);
        lost.add(DropReason::RetriesExhausted, 27);
        lost.add(DropReason::Overflow, 3);
        lost.add(DropReason::Sampled, 100); // not a loss: not counted
        assert_eq!(lost.total(), 30);
        assert_eq!(
            summary(&lost, &hb()).as_deref(),
            Some("insights-events: lost 30 more events since the last report (overflow 3, retries_exhausted 27), backend at http://127.0.0.1:18083/v1/events; counted in Client::stats")
        );
        assert!(summary(&lost, &custom()).is_some_and(|s| s.contains(", memory backend;")));
    }

    #[test]
    fn summary_due_table() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let rows = [
            (None, t0, s(60), true),
            (Some(t0), t0, s(60), false),
            (Some(t0), t0 + s(59), s(60), false),
            (Some(t0), t0 + s(60), s(60), true),
            (Some(t0), t0, Duration::ZERO, true),
            (Some(t0 + s(5)), t0, s(60), false),
        ];
        for (i, (last, now, interval, want)) in rows.into_iter().enumerate() {
            assert_eq!(summary_due(last, now, interval), want, "row {i}");
        }
    }

    #[test]
    fn lost_counts_and_says_what_it_holds() {
        let mut lost = Lost::default();
        assert_eq!(lost.to_string(), "none");
        lost.add(DropReason::Closed, 3);
        lost.add(DropReason::RetriesExhausted, 27);
        lost.add(DropReason::Hook, 5);
        assert_eq!(lost.to_string(), "retries_exhausted 27, closed 3");
        assert_eq!(
            format!("{lost:?}"),
            "Lost {retries_exhausted: 27, closed: 3}"
        );
        assert_eq!(lost.by_reason(DropReason::Hook), 0);
        assert_eq!(lost.total(), 30);
        let earlier = {
            let mut l = Lost::default();
            l.add(DropReason::Closed, 1);
            l
        };
        assert_eq!(lost.since(&earlier).by_reason(DropReason::Closed), 2);
    }

    /// The log: one warning per reason, then summaries of what is new,
    /// when due; losses of a reason not warned about yet wait for their
    /// warning.
    #[test]
    fn the_log_warns_once_per_reason_then_summarises() {
        let counters = Counters::default();
        let log = LossLog::new(hb(), Duration::from_secs(3600));
        let lose = |reason, n| {
            counters.drop_event(reason, n);
            log.record(&loss(reason, n, None, "e"), &counters)
        };
        assert!(lose(DropReason::RetriesExhausted, 10)
            .is_some_and(|t| t.contains("lost 10 events (retries_exhausted)")));
        assert_eq!(lose(DropReason::RetriesExhausted, 5), None, "not due yet");
        assert!(lose(DropReason::Sampled, 5).is_none());
        assert!(lose(DropReason::Closed, 2).is_some_and(|t| t.contains("(closed)")));
        let now = Instant::now();
        assert_eq!(
            log.next_due(now, &counters).map(|d| d > Duration::ZERO),
            Some(true)
        );
        let forced = log.due(now, &counters, true).expect("forced summary");
        assert!(
            forced.contains("lost 5 more events") && forced.contains("retries_exhausted 5"),
            "{forced}"
        );
        assert_eq!(log.due(now, &counters, true), None, "nothing new");
        assert_eq!(log.next_due(now, &counters), None);

        let every = LossLog::new(custom(), Duration::ZERO);
        let c2 = Counters::default();
        c2.drop_event(DropReason::Overflow, 1);
        assert!(every
            .record(&loss(DropReason::Overflow, 1, None, "q"), &c2)
            .is_some());
        c2.drop_event(DropReason::Overflow, 1);
        let s = every.record(&loss(DropReason::Overflow, 1, None, "q"), &c2);
        assert!(s.is_some_and(|t| t.contains("overflow 1")));
        // Counted before the first of its reason: left for its warning.
        c2.drop_event(DropReason::Invalid, 1);
        assert_eq!(every.due(Instant::now(), &c2, true), None);
    }
}
