//! The outbox's delivery rules, pure: when a dossier's next packet may go, what an answer
//! means, and when the platform is left alone.
//!
//! - Per dossier, in order: the shell sends only a dossier's oldest undelivered packet, and
//!   only when [`Scheduler::begin`] allows it.
//! - A transient failure (a 5xx, a timeout, a lost connection, a dropped acknowledgement)
//!   retries the same packet after an exponential backoff with ±50 % jitter, capped.
//! - A refusal (`error_code` other than `"00"`/`"401"`) is final for that packet: it goes to
//!   dead letter with the platform's code and message, and the dossier's later packets wait
//!   until an officer retries it after a fix.
//! - A session that expired is not a failure: sign in again and resend at once (three in a
//!   row count as one failure, so a platform that never accepts the session is backed off).
//! - A circuit breaker: after `breaker_after` failures in a row the platform is left alone
//!   for a cool-down that doubles with each trip (to `max_retry`); then one probe goes, and
//!   its success closes the breaker.
//!
//! Time comes in as an argument, and so does the jitter's randomness.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// The knobs.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Backoff after the first failure.
    pub first_retry: Duration,
    /// Longest backoff and longest cool-down.
    pub max_retry: Duration,
    /// Failures in a row that open the breaker.
    pub breaker_after: u32,
    /// First cool-down of the breaker.
    pub cool_down: Duration,
}

impl Default for Policy {
    /// 2 s first retry, 10 min at most, the breaker opens after 5 failures in a row for 30 s,
    /// doubling.
    fn default() -> Policy {
        Policy {
            first_retry: Duration::from_secs(2),
            max_retry: Duration::from_secs(600),
            breaker_after: 5,
            cool_down: Duration::from_secs(30),
        }
    }
}

/// What the platform answered (or did not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `error_code` `"00"`.
    Acknowledged,
    /// Any other `error_code`: the packet is refused as it is.
    Refused { code: String, message: String },
    /// No usable answer: 5xx, timeout, connection lost, answer lost.
    Failed { reason: String },
    /// HTTP 401 or `error_code` `"401"`.
    SessionExpired,
}

/// What to do after an outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Mark the packet delivered; the dossier's next packet may go.
    Delivered,
    /// Keep the packet in dead letter with the platform's code and message.
    DeadLetter { code: String, message: String },
    /// Send the same packet again, not before this time.
    RetryAt(Timestamp),
    /// Sign in again, then send the same packet at once.
    SignInAgain,
}

#[derive(Debug, Clone, Default)]
struct Retry {
    attempts: u32,
    not_before: Option<Timestamp>,
    expired_in_a_row: u32,
}

#[derive(Debug, Clone, Default)]
struct Breaker {
    failures: u32,
    trips: u32,
    open_until: Option<Timestamp>,
    probing: bool,
}

/// The delivery state of one platform (memory only: after a restart every dossier may be
/// tried at once, which is what a restart is for).
#[derive(Debug, Clone)]
pub struct Scheduler {
    policy: Policy,
    dossiers: BTreeMap<String, Retry>,
    breaker: Breaker,
    last_failure: Option<String>,
}

fn after(now: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| now.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

fn doubled(first: Duration, times: u32, cap: Duration) -> Duration {
    let factor = 1u32.checked_shl(times.min(30)).unwrap_or(u32::MAX);
    first.checked_mul(factor).unwrap_or(cap).min(cap)
}

impl Scheduler {
    pub fn new(policy: Policy) -> Scheduler {
        Scheduler {
            policy,
            dossiers: BTreeMap::new(),
            breaker: Breaker::default(),
            last_failure: None,
        }
    }

    /// Whether the breaker keeps the platform alone at `now` (and until when).
    pub fn open_until(&self, now: Timestamp) -> Option<Timestamp> {
        self.breaker.open_until.filter(|t| *t > now)
    }

    /// The reason of the latest failure, until a packet is delivered again.
    pub fn last_failure(&self) -> Option<&str> {
        self.last_failure.as_deref()
    }

    /// When dossier `code`'s next packet may go at the earliest (now if nothing holds it).
    pub fn ready_at(&self, code: &str, now: Timestamp) -> Timestamp {
        let own = self
            .dossiers
            .get(code)
            .and_then(|r| r.not_before)
            .unwrap_or(now);
        let platform = self.breaker.open_until.unwrap_or(now);
        own.max(platform).max(now)
    }

    /// Ask to send dossier `code`'s next packet at `now`: `false` while it waits for its
    /// backoff, while the breaker is open, or while the breaker's one probe is out.
    pub fn begin(&mut self, code: &str, now: Timestamp) -> bool {
        if self.ready_at(code, now) > now {
            return false;
        }
        if self.breaker.open_until.is_some() {
            // cool-down over: half open, one probe at a time
            if self.breaker.probing {
                return false;
            }
            self.breaker.probing = true;
        }
        true
    }

    /// Record what happened to dossier `code`'s packet at `now`. `jitter` is a random number
    /// in [0, 1) (the spread of the backoff).
    pub fn record(&mut self, code: &str, outcome: &Outcome, now: Timestamp, jitter: f64) -> Next {
        match outcome {
            Outcome::Acknowledged => {
                if self.breaker.trips > 0 {
                    // the platform is back: the other dossiers' backoffs were its outage
                    self.dossiers.clear();
                } else {
                    self.dossiers.remove(code);
                }
                self.breaker = Breaker::default();
                self.last_failure = None;
                Next::Delivered
            }
            Outcome::Refused { code: c, message } => {
                self.dossiers.remove(code);
                self.breaker = Breaker::default();
                Next::DeadLetter {
                    code: c.clone(),
                    message: message.clone(),
                }
            }
            Outcome::SessionExpired => {
                let retry = self.dossiers.entry(code.to_owned()).or_default();
                retry.expired_in_a_row += 1;
                if retry.expired_in_a_row < 3 {
                    self.breaker.probing = false;
                    return Next::SignInAgain;
                }
                retry.expired_in_a_row = 0;
                self.fail(
                    code,
                    "the platform does not accept the session",
                    now,
                    jitter,
                )
            }
            Outcome::Failed { reason } => self.fail(code, reason, now, jitter),
        }
    }

    fn fail(&mut self, code: &str, reason: &str, now: Timestamp, jitter: f64) -> Next {
        self.last_failure = Some(reason.to_owned());
        let retry = self.dossiers.entry(code.to_owned()).or_default();
        let base = doubled(
            self.policy.first_retry,
            retry.attempts,
            self.policy.max_retry,
        );
        retry.attempts = retry.attempts.saturating_add(1);
        let spread = 0.5 + jitter.clamp(0.0, 1.0);
        let delay = base.mul_f64(spread).min(self.policy.max_retry);
        let at = after(now, delay);
        retry.not_before = Some(at);
        let b = &mut self.breaker;
        b.failures = b.failures.saturating_add(1);
        if b.probing || b.failures >= self.policy.breaker_after {
            let cool = doubled(self.policy.cool_down, b.trips, self.policy.max_retry);
            b.trips = b.trips.saturating_add(1);
            b.open_until = Some(after(now, cool));
            b.probing = false;
        }
        Next::RetryAt(at)
    }

    /// Forget a dossier's backoff (an officer asked to retry it now).
    pub fn reset(&mut self, code: &str) {
        self.dossiers.remove(code);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn t0() -> Timestamp {
        "2026-12-01T01:00:00Z".parse().unwrap()
    }

    fn failed() -> Outcome {
        Outcome::Failed {
            reason: "HTTP 503".into(),
        }
    }

    #[test]
    fn a_failure_backs_off_doubling_with_jitter_and_a_delivery_clears_it() {
        let mut s = Scheduler::new(Policy {
            breaker_after: 100,
            ..Policy::default()
        });
        let now = t0();
        assert!(s.begin("A", now));
        let Next::RetryAt(first) = s.record("A", &failed(), now, 0.5) else {
            panic!()
        };
        assert_eq!(first.duration_since(now).as_secs(), 2);
        assert!(!s.begin("A", now), "must wait for its backoff");
        assert!(s.begin("B", now), "another dossier is not held up");
        let Next::RetryAt(second) = s.record("A", &failed(), first, 0.5) else {
            panic!()
        };
        assert_eq!(second.duration_since(first).as_secs(), 4);
        // the spread: jitter 0 halves, jitter ~1 gives 1.5x
        let mut low = s.clone();
        let Next::RetryAt(l) = low.record("A", &failed(), second, 0.0) else {
            panic!()
        };
        assert_eq!(l.duration_since(second).as_secs(), 4);
        assert_eq!(s.last_failure(), Some("HTTP 503"));
        assert!(s.begin("A", second));
        assert_eq!(
            s.record("A", &Outcome::Acknowledged, second, 0.5),
            Next::Delivered
        );
        assert!(s.begin("A", second));
        assert_eq!(s.last_failure(), None);
    }

    #[test]
    fn the_backoff_is_capped() {
        let mut s = Scheduler::new(Policy {
            breaker_after: 1000,
            ..Policy::default()
        });
        let mut now = t0();
        for _ in 0..40 {
            if let Next::RetryAt(at) = s.record("A", &failed(), now, 0.99) {
                assert!(at.duration_since(now).as_secs() <= 600);
                now = at;
            }
        }
    }

    #[test]
    fn a_refusal_is_dead_letter_at_once_with_the_platform_reason() {
        let mut s = Scheduler::new(Policy::default());
        let next = s.record(
            "A",
            &Outcome::Refused {
                code: "12".into(),
                message: "MaTTHC không tồn tại".into(),
            },
            t0(),
            0.5,
        );
        assert_eq!(
            next,
            Next::DeadLetter {
                code: "12".into(),
                message: "MaTTHC không tồn tại".into()
            }
        );
    }

    #[test]
    fn an_expired_session_signs_in_again_but_not_forever() {
        let mut s = Scheduler::new(Policy::default());
        assert_eq!(
            s.record("A", &Outcome::SessionExpired, t0(), 0.5),
            Next::SignInAgain
        );
        assert_eq!(
            s.record("A", &Outcome::SessionExpired, t0(), 0.5),
            Next::SignInAgain
        );
        assert!(matches!(
            s.record("A", &Outcome::SessionExpired, t0(), 0.5),
            Next::RetryAt(_)
        ));
    }

    /// A platform down for a whole day: the breaker keeps the attempts few (cool-downs
    /// doubling to 10 minutes), and once the platform is back one probe closes it and every
    /// dossier goes.
    #[test]
    fn a_day_down_costs_few_attempts_and_the_outbox_drains_after() {
        let mut s = Scheduler::new(Policy::default());
        let codes: Vec<String> = (0..50).map(|i| format!("D{i}")).collect();
        let start = t0();
        let day_end = after(start, Duration::from_secs(86_400));
        let mut now = start;
        let mut attempts = 0u32;
        while now < day_end {
            for c in &codes {
                if s.begin(c, now) {
                    attempts += 1;
                    s.record(c, &failed(), now, 0.5);
                }
            }
            now = after(now, Duration::from_secs(1));
        }
        // a probe every ≤ 10 min plus the first burst: far from 50 dossiers × 86,400 s
        assert!(attempts < 200, "{attempts} attempts in a day");
        assert!(s.open_until(now).is_some() || s.last_failure().is_some());
        // back up: wait for the cool-down, one probe, then everything
        let mut delivered = std::collections::BTreeSet::new();
        let mut rounds = 0;
        while delivered.len() < codes.len() && rounds < 3_600 {
            for c in &codes {
                if !delivered.contains(c) && s.begin(c, now) {
                    assert_eq!(
                        s.record(c, &Outcome::Acknowledged, now, 0.5),
                        Next::Delivered
                    );
                    delivered.insert(c.clone());
                }
            }
            now = after(now, Duration::from_secs(1));
            rounds += 1;
        }
        assert_eq!(delivered.len(), codes.len());
        assert!(rounds <= 601, "drained after {rounds} s");
    }

    #[test]
    fn while_half_open_only_one_probe_goes() {
        let mut s = Scheduler::new(Policy {
            breaker_after: 1,
            ..Policy::default()
        });
        let now = t0();
        assert!(s.begin("A", now));
        s.record("A", &failed(), now, 0.5);
        let open = s.open_until(now).unwrap();
        assert!(!s.begin("B", now));
        assert!(s.begin("B", open), "the probe");
        assert!(!s.begin("C", open), "a second probe while the first is out");
        s.record("B", &failed(), open, 0.5);
        let again = s.open_until(open).unwrap();
        assert_eq!(
            again.duration_since(open).as_secs(),
            60,
            "cool-down doubled"
        );
        assert!(s.begin("C", again));
        s.record("C", &Outcome::Acknowledged, again, 0.5);
        assert!(s.begin("D", again) && s.begin("E", again), "closed again");
    }
}
