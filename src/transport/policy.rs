//! What an HTTP sender does with an answer: deliver, retry, wait out a
//! throttle, split a batch, pause, or give up. One pure function,
//! [`classify`], from the answer (status and `Retry-After`, or no answer),
//! the batch's size and the attempt number to a [`Decision`]; the request
//! loop in `http` only carries decisions out.

use std::time::Duration;

use super::compress::Compression;

/// Retry and throttling settings.
#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    /// The timeout of one request.
    pub(crate) request_timeout: Duration,
    /// Retries after the first attempt, for 5xx answers and transport errors.
    pub(crate) max_retries: u32,
    /// The first backoff; doubled each retry.
    pub(crate) backoff: Duration,
    /// The largest backoff.
    pub(crate) backoff_max: Duration,
    /// The wait after a 429 without `Retry-After`, and the pause after a
    /// 401/403.
    pub(crate) throttle_wait: Duration,
    /// Body compression.
    pub(crate) compression: Compression,
}

/// What came back for a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Answer {
    /// An HTTP answer, with its `Retry-After` header (seconds) if it had
    /// a usable one.
    Status {
        /// The status code.
        status: u16,
        /// `Retry-After`, capped at an hour.
        retry_after: Option<Duration>,
    },
    /// No answer: the connection failed or the request timed out.
    NoAnswer,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Decision {
    /// 2xx: the endpoint reads one outcome per event from the body.
    Delivered,
    /// 429: wait, then send again; a throttle uses up no retry.
    Throttled {
        /// How long to wait.
        wait: Duration,
    },
    /// 413 for a batch of several events: send each half on its own.
    Split,
    /// 413 for a single event: it is too large.
    TooLarge,
    /// 401/403: the key is refused; every event of the batch fails, and
    /// sending pauses for `pause`.
    Unauthorized {
        /// How long sending pauses.
        pause: Duration,
    },
    /// Another 4xx: the backend refused the batch.
    Rejected,
    /// 5xx or no answer, within the retry budget: send again after `wait`.
    Retry {
        /// The backoff.
        wait: Duration,
    },
    /// 5xx or no answer, past the retry budget.
    GiveUp,
}

/// The decision for `answer` to attempt `attempt` (0 for the first send)
/// of a batch of `events` events. `jitter`, in `[0, 1)`, spreads the
/// backoff between half and all of its value.
pub(crate) fn classify(
    answer: Answer,
    events: usize,
    attempt: u32,
    policy: &RetryPolicy,
    jitter: f64,
) -> Decision {
    let transient = match answer {
        Answer::Status { status, .. } if (200..=299).contains(&status) => {
            return Decision::Delivered
        }
        Answer::Status {
            status: 429,
            retry_after,
        } => {
            return Decision::Throttled {
                wait: retry_after.unwrap_or(policy.throttle_wait),
            }
        }
        Answer::Status { status: 413, .. } if events > 1 => return Decision::Split,
        Answer::Status { status: 413, .. } => return Decision::TooLarge,
        Answer::Status {
            status: 401 | 403, ..
        } => {
            return Decision::Unauthorized {
                pause: policy.throttle_wait,
            }
        }
        Answer::Status { status, .. } => (500..=599).contains(&status),
        Answer::NoAnswer => true,
    };
    if !transient {
        return Decision::Rejected;
    }
    if attempt >= policy.max_retries {
        return Decision::GiveUp;
    }
    Decision::Retry {
        wait: backoff(policy, attempt, jitter),
    }
}

/// The wait before retry number `attempt + 1`: `backoff × 2^attempt`, at
/// most `backoff_max`, then scaled by `0.5 + jitter / 2`.
fn backoff(policy: &RetryPolicy, attempt: u32, jitter: f64) -> Duration {
    let base = policy
        .backoff
        .saturating_mul(1u32 << attempt.min(16))
        .min(policy.backoff_max);
    base.mul_f64(0.5 + jitter.clamp(0.0, 1.0) * 0.5)
}

/// `Retry-After` in seconds, as a duration capped at an hour (`None` for
/// an HTTP date or anything else).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            request_timeout: Duration::from_secs(10),
            max_retries: 3,
            backoff: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
            throttle_wait: Duration::from_secs(7),
            compression: Compression::None,
        }
    }

    fn status(status: u16) -> Answer {
        Answer::Status {
            status,
            retry_after: None,
        }
    }

    #[test]
    fn classify_table() {
        let ms = Duration::from_millis;
        // (answer, events in the batch, attempt, jitter, decision)
        let rows: &[(Answer, usize, u32, f64, Decision)] = &[
            (status(200), 5, 0, 0.0, Decision::Delivered),
            (status(201), 5, 3, 0.0, Decision::Delivered),
            (status(202), 1, 0, 0.0, Decision::Delivered),
            (
                status(429),
                5,
                0,
                0.0,
                Decision::Throttled {
                    wait: Duration::from_secs(7),
                },
            ),
            (
                Answer::Status {
                    status: 429,
                    retry_after: Some(ms(1500)),
                },
                5,
                9,
                0.0,
                Decision::Throttled { wait: ms(1500) },
            ),
            (status(413), 2, 0, 0.0, Decision::Split),
            (status(413), 1, 0, 0.0, Decision::TooLarge),
            (
                status(401),
                5,
                0,
                0.0,
                Decision::Unauthorized {
                    pause: Duration::from_secs(7),
                },
            ),
            (
                status(403),
                1,
                2,
                0.0,
                Decision::Unauthorized {
                    pause: Duration::from_secs(7),
                },
            ),
            (status(400), 5, 0, 0.0, Decision::Rejected),
            (status(422), 5, 0, 0.0, Decision::Rejected),
            (status(404), 5, 0, 0.0, Decision::Rejected),
            (status(302), 5, 0, 0.0, Decision::Rejected),
            (status(500), 5, 0, 0.0, Decision::Retry { wait: ms(50) }),
            (status(503), 5, 0, 1.0, Decision::Retry { wait: ms(100) }),
            (status(502), 5, 1, 0.0, Decision::Retry { wait: ms(100) }),
            (status(500), 5, 2, 1.0, Decision::Retry { wait: ms(400) }),
            (status(500), 5, 3, 0.0, Decision::GiveUp),
            (
                Answer::NoAnswer,
                5,
                0,
                0.0,
                Decision::Retry { wait: ms(50) },
            ),
            (Answer::NoAnswer, 5, 3, 0.0, Decision::GiveUp),
        ];
        for (i, &(answer, events, attempt, jitter, want)) in rows.iter().enumerate() {
            assert_eq!(
                classify(answer, events, attempt, &policy(), jitter),
                want,
                "row {i}: {answer:?}, {events} events, attempt {attempt}"
            );
        }
    }

    #[test]
    fn the_backoff_doubles_up_to_its_maximum() {
        let p = policy();
        let waits: Vec<_> = (0..6).map(|a| backoff(&p, a, 1.0)).collect();
        let ms = Duration::from_millis;
        assert_eq!(
            waits,
            [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]
        );
        assert_eq!(backoff(&p, 40, 0.0), ms(500), "a huge attempt saturates");
    }

    #[test]
    fn retry_after_table() {
        let rows: &[(&str, Option<Duration>)] = &[
            ("3", Some(Duration::from_secs(3))),
            (" 0.5 ", Some(Duration::from_millis(500))),
            ("0", Some(Duration::ZERO)),
            ("999999", Some(Duration::from_secs(3600))),
            ("-1", None),
            ("NaN", None),
            ("Wed, 21 Oct 2015 07:28:00 GMT", None),
            ("", None),
        ];
        for &(v, want) in rows {
            assert_eq!(parse_retry_after(v), want, "{v:?}");
        }
    }
}
