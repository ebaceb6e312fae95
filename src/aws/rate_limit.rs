//! A client-side limit on how fast the operator calls AWS. AWS throttles AppConfig per account
//! and region, and every other tool of the account draws from the same budget: a restart over
//! many resources must not spend it all at once. One bucket per region is shared by AppConfig
//! and AppConfig Data, and so by both controllers.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::time::Instant;

use crate::metrics::Metrics;

/// How many calls a second, and how many at once after a quiet spell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Calls per second; 0 turns the limit off.
    pub per_second: f64,
    /// Calls that may go at once before the rate applies (at least 1).
    pub burst: u32,
}

impl Rate {
    pub const DEFAULT: Self = Self {
        per_second: 10.0,
        burst: 20,
    };
    pub const UNLIMITED: Self = Self {
        per_second: 0.0,
        burst: 1,
    };
}

impl Default for Rate {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A token bucket: holds up to `burst` tokens, refilled at `per_second`. A call that finds it
/// empty reserves the next token (the count goes below zero) and sleeps until it is due, so
/// waiting calls go in the order they arrived and never spin.
#[derive(Debug)]
struct Bucket {
    rate: Rate,
    state: Mutex<(f64, Instant)>,
}

impl Bucket {
    /// How long the caller must wait for its token, which is taken now.
    fn reserve(&self) -> Duration {
        let mut state = self.state.lock().expect("never poisoned");
        let (tokens, updated) = &mut *state;
        let now = Instant::now();
        let burst = f64::from(self.rate.burst.max(1));
        *tokens = (*tokens + now.duration_since(*updated).as_secs_f64() * self.rate.per_second)
            .min(burst);
        *updated = now;
        *tokens -= 1.0;
        if *tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-*tokens / self.rate.per_second)
        }
    }
}

/// The limit of one region, shared by its clients; a clone shares the bucket.
#[derive(Debug, Clone, Default)]
pub struct RateLimit {
    bucket: Option<Arc<Bucket>>,
}

impl RateLimit {
    pub fn new(rate: Rate) -> Self {
        let on = rate.per_second > 0.0 && rate.per_second.is_finite();
        Self {
            bucket: on.then(|| {
                Arc::new(Bucket {
                    rate,
                    state: Mutex::new((f64::from(rate.burst.max(1)), Instant::now())),
                })
            }),
        }
    }

    /// Waits until a call to `service` may go, counting the wait in `metrics`.
    pub async fn admit(&self, metrics: &Metrics, service: &'static str) {
        let Some(bucket) = &self.bucket else {
            return;
        };
        let wait = bucket.reserve();
        if !wait.is_zero() {
            metrics.aws_rate_limited(service, wait);
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_and_the_rest_at_the_rate() {
        let limit = RateLimit::new(Rate {
            per_second: 10.0,
            burst: 5,
        });
        let metrics = Metrics::default();
        let started = Instant::now();
        for _ in 0..5 {
            limit.admit(&metrics, "appconfig").await;
        }
        assert_eq!(started.elapsed(), Duration::ZERO, "the burst does not wait");
        for _ in 0..10 {
            limit.admit(&metrics, "appconfig").await;
        }
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(999) && took <= Duration::from_millis(1001),
            "10 more calls at 10 a second take a second: {took:?}"
        );
        let text = metrics.encode();
        assert!(
            text.contains(
                r#"appconfig_operator_aws_rate_limit_waits_total{service="appconfig"} 10"#
            ),
            "{text}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn calls_waiting_together_are_spread_at_the_rate() {
        let limit = RateLimit::new(Rate {
            per_second: 4.0,
            burst: 1,
        });
        let metrics = Metrics::default();
        let started = Instant::now();
        let waits = futures::future::join_all((0..5).map(|_| {
            let limit = limit.clone();
            let metrics = metrics.clone();
            async move {
                limit.admit(&metrics, "appconfigdata").await;
                started.elapsed()
            }
        }))
        .await;
        assert_eq!(
            waits.iter().map(Duration::as_millis).collect::<Vec<_>>(),
            [0, 250, 500, 750, 1000]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn zero_turns_the_limit_off() {
        let limit = RateLimit::new(Rate::UNLIMITED);
        let metrics = Metrics::default();
        let started = Instant::now();
        for _ in 0..1000 {
            limit.admit(&metrics, "appconfig").await;
        }
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert!(!metrics.encode().contains("rate_limit_waits_total{"));
    }
}
