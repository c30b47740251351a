//! When to try again: the sync loop's policy and its exponential backoff
//! with jitter (so a commune's devices do not all come back at once).

use std::time::Duration;

/// Settings of the sync loop.
#[derive(Debug, Clone)]
pub struct LoopPolicy {
    /// Pause between successful syncs.
    pub interval: Duration,
    /// First retry delay after a failure.
    pub backoff_base: Duration,
    /// Longest retry delay (before jitter).
    pub backoff_max: Duration,
}

impl Default for LoopPolicy {
    fn default() -> Self {
        LoopPolicy {
            interval: Duration::from_secs(60),
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(600),
        }
    }
}

/// Delay before retry number `attempt` (0-based) for a given `jitter` in
/// `[0, 1)`: `min(base · 2^attempt, max) · (0.5 + jitter)` — exponential,
/// capped, spread over ±50 %. Pure: the caller brings the randomness.
pub fn backoff_delay_with(policy: &LoopPolicy, attempt: u32, jitter: f64) -> Duration {
    let exp = policy
        .backoff_base
        .saturating_mul(2u32.saturating_pow(attempt.min(20)));
    let capped = exp.min(policy.backoff_max);
    capped.mul_f64(0.5 + jitter.clamp(0.0, 1.0))
}

/// Delay before retry number `attempt` (0-based): [`backoff_delay_with`] a
/// random jitter.
pub fn backoff_delay(policy: &LoopPolicy, attempt: u32) -> Duration {
    backoff_delay_with(policy, attempt, rand::random_range(0.0..1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LoopPolicy {
        LoopPolicy {
            interval: Duration::from_secs(60),
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(600),
        }
    }

    #[test]
    fn delays_double_until_the_cap() {
        let p = policy();
        // Jitter 0.5 is the middle: exactly base · 2^attempt, then the cap.
        let middle: Vec<u64> = (0..12)
            .map(|a| backoff_delay_with(&p, a, 0.5).as_secs())
            .collect();
        assert_eq!(middle, [2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600, 600]);
        // Far attempts neither overflow nor pass the cap.
        assert_eq!(
            backoff_delay_with(&p, u32::MAX, 0.5),
            Duration::from_secs(600)
        );
    }

    #[test]
    fn jitter_spreads_each_delay_over_half_to_one_and_a_half_times() {
        let p = policy();
        for attempt in 0..12 {
            let middle = backoff_delay_with(&p, attempt, 0.5);
            assert_eq!(backoff_delay_with(&p, attempt, 0.0), middle / 2);
            assert_eq!(backoff_delay_with(&p, attempt, 1.0), middle.mul_f64(1.5));
            assert!(backoff_delay_with(&p, attempt, 0.25) < middle);
            assert!(backoff_delay_with(&p, attempt, 0.75) > middle);
        }
    }

    #[test]
    fn random_delays_grow_and_differ_from_one_retry_to_the_next() {
        let p = policy();
        // Attempt 3 (8 s ± 50 %) is always longer than attempt 0 (2 s ± 50 %),
        // whatever the jitter; a constant delay would fail here.
        for _ in 0..200 {
            assert!(backoff_delay(&p, 3) > backoff_delay(&p, 0));
        }
        // Jitter: 200 draws for one attempt are spread over the whole range,
        // not one value repeated.
        let draws: Vec<Duration> = (0..200).map(|_| backoff_delay(&p, 2)).collect();
        let (lo, hi) = (Duration::from_secs(4), Duration::from_secs(12));
        assert!(draws.iter().all(|d| *d >= lo && *d <= hi), "{draws:?}");
        let distinct: std::collections::BTreeSet<_> = draws.iter().collect();
        assert!(
            distinct.len() > 150,
            "only {} distinct delays",
            distinct.len()
        );
        let below = draws
            .iter()
            .filter(|d| **d < Duration::from_secs(8))
            .count();
        assert!(
            (40..=160).contains(&below),
            "{below} of 200 below the middle"
        );
    }
}
