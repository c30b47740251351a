//! The idle timer: a session nobody touches is wiped, after a visible countdown.

use std::time::{Duration, Instant};

/// Idle policy: after `timeout` without a touch the session is wiped; the last `warning` of
/// it shows a countdown with "I'm still here".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdlePolicy {
    pub timeout: Duration,
    pub warning: Duration,
}

impl Default for IdlePolicy {
    fn default() -> Self {
        IdlePolicy {
            timeout: Duration::from_secs(120),
            warning: Duration::from_secs(30),
        }
    }
}

/// When the person last touched the screen, under a policy. Any journey keeps one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleTimer {
    pub policy: IdlePolicy,
    last_touch: Instant,
}

impl IdleTimer {
    pub fn new(policy: IdlePolicy, now: Instant) -> IdleTimer {
        IdleTimer {
            policy,
            last_touch: now,
        }
    }

    pub fn touch(&mut self, now: Instant) {
        self.last_touch = now;
    }

    /// The session has been left alone for the whole timeout.
    pub fn expired(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_touch) >= self.policy.timeout
    }

    /// Whole seconds left before the wipe, once inside the warning.
    pub fn countdown(&self, now: Instant) -> Option<u64> {
        let idle_for = now.saturating_duration_since(self.last_touch);
        let left = self.policy.timeout.saturating_sub(idle_for);
        (left <= self.policy.warning).then(|| left.as_secs_f64().ceil() as u64)
    }
}
