//! Per-resource exponential backoff with jitter, for retries and for waiting on an environment.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

#[derive(Clone)]
pub struct Backoff {
    cap: Duration,
    attempts: Arc<Mutex<HashMap<String, u32>>>,
}

impl Backoff {
    pub fn new(cap: Duration) -> Self {
        Self {
            cap,
            attempts: Arc::default(),
        }
    }

    /// The delay before attempt n+1 of `key`: `base`·2ⁿ capped, then jittered into its upper
    /// half so that resources failing together do not retry together.
    pub fn next(&self, key: &str, base: Duration) -> Duration {
        let mut attempts = self.attempts.lock().expect("never poisoned");
        let n = attempts.entry(key.to_owned()).or_insert(0);
        let delay = delay(base, *n, self.cap);
        *n = n.saturating_add(1);
        delay.mul_f64(0.5 + fastrand::f64() * 0.5)
    }

    /// The delay before attempt n+1 of `key`: `base`·2ⁿ capped, then drawn anywhere between zero
    /// and that ("full jitter"), so that many resources refused together (throttled) spread
    /// their retries over the whole window instead of arriving together again.
    pub fn next_full_jitter(&self, key: &str, base: Duration) -> Duration {
        let mut attempts = self.attempts.lock().expect("never poisoned");
        let n = attempts.entry(key.to_owned()).or_insert(0);
        let delay = delay(base, *n, self.cap);
        *n = n.saturating_add(1);
        delay.mul_f64(fastrand::f64())
    }

    pub fn reset(&self, key: &str) {
        self.attempts.lock().expect("never poisoned").remove(key);
    }
}

fn delay(base: Duration, attempt: u32, cap: Duration) -> Duration {
    base.saturating_mul(2u32.saturating_pow(attempt.min(20)))
        .min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap() {
        let base = Duration::from_secs(1);
        let cap = Duration::from_secs(10);
        let delays: Vec<u64> = (0..6).map(|n| delay(base, n, cap).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
        assert_eq!(delay(base, 1000, cap), cap);
    }

    #[test]
    fn jitter_stays_in_the_upper_half_and_reset_starts_over() {
        let b = Backoff::new(Duration::from_secs(60));
        let base = Duration::from_secs(4);
        let first = b.next("x", base);
        assert!(first >= Duration::from_secs(2) && first <= base);
        let second = b.next("x", base);
        assert!(second >= Duration::from_secs(4) && second <= Duration::from_secs(8));
        b.reset("x");
        assert!(b.next("x", base) <= base);
    }

    #[test]
    fn full_jitter_spreads_over_the_whole_window() {
        let b = Backoff::new(Duration::from_secs(60));
        let base = Duration::from_secs(4);
        let delays: Vec<Duration> = (0..200)
            .map(|i| b.next_full_jitter(&i.to_string(), base))
            .collect();
        assert!(delays.iter().all(|d| *d <= base));
        assert!(
            delays.iter().any(|d| *d < base / 2),
            "retries also land in the lower half"
        );
        let second = b.next_full_jitter("0", base);
        assert!(second <= base * 2, "the window doubles per attempt");
    }
}
