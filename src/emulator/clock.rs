//! The emulated clock: wall time scaled by a factor, plus explicit jumps forward.
//!
//! Deployment timing and data-plane session rules read this clock only, so a test can run a
//! 30-minute deployment in milliseconds and an interactive user can watch one at 60x.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use jiff::{SignedDuration, Timestamp};

#[derive(Debug)]
pub struct Clock {
    wall_origin: Instant,
    origin: Timestamp,
    scale: f64,
    jumped: Mutex<SignedDuration>,
}

impl Clock {
    /// A clock starting at the current wall time and running `scale` times faster.
    pub fn new(scale: f64) -> Self {
        assert!(
            scale.is_finite() && scale > 0.0,
            "time scale must be positive"
        );
        Self {
            wall_origin: Instant::now(),
            origin: Timestamp::now(),
            scale,
            jumped: Mutex::new(SignedDuration::ZERO),
        }
    }

    /// Emulated now, truncated to milliseconds (the precision timestamps have on the wire).
    pub fn now(&self) -> Timestamp {
        self.now_with(*self.jumped.lock().expect("clock lock"))
    }

    fn now_with(&self, jumped: SignedDuration) -> Timestamp {
        let elapsed = self.wall_origin.elapsed().mul_f64(self.scale);
        let now =
            self.origin + SignedDuration::try_from(elapsed).expect("elapsed time fits") + jumped;
        Timestamp::from_millisecond(now.as_millisecond()).expect("now is a valid timestamp")
    }

    /// Moves emulated time forward by `by` (emulated time never goes back). Refuses a jump past
    /// [`LATEST`], which would leave every later timestamp computation overflowing.
    pub fn advance(&self, by: Duration) -> Result<Timestamp, String> {
        let mut jumped = self.jumped.lock().expect("clock lock");
        let target = SignedDuration::try_from(by)
            .ok()
            .and_then(|by| self.now_with(*jumped).checked_add(by).ok())
            .filter(|target| *target <= LATEST);
        match target {
            Some(_) => {
                *jumped += SignedDuration::try_from(by).expect("checked above");
                Ok(self.now_with(*jumped))
            }
            None => Err(format!(
                "advancing by {by:?} would move the clock past {}",
                format_timestamp(LATEST)
            )),
        }
    }
}

/// The latest time the clock can be moved to.
pub const LATEST: Timestamp = Timestamp::constant(221_845_392_000, 0); // 9000-01-01T00:00:00Z

/// `YYYY-MM-DDTHH:MM:SS.sssZ`, the form AppConfig uses for timestamps.
pub fn format_timestamp(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_time_forward() {
        let clock = Clock::new(1.0);
        let before = clock.now();
        let after = clock.advance(Duration::from_secs(3600)).unwrap();
        let gap = after.duration_since(before);
        assert!(gap >= SignedDuration::from_hours(1), "{gap:?}");
        assert!(
            gap < SignedDuration::from_hours(1) + SignedDuration::from_secs(5),
            "{gap:?}"
        );
    }

    #[test]
    fn jumps_beyond_the_representable_range_are_refused_and_change_nothing() {
        let clock = Clock::new(1.0);
        let before = clock.now();
        let error = clock.advance(Duration::from_secs(1 << 40)).unwrap_err();
        assert!(error.contains("9000-01-01T00:00:00.000Z"), "{error}");
        assert!(clock.now().duration_since(before) < SignedDuration::from_secs(5));
    }

    #[test]
    fn scale_speeds_up_wall_time() {
        let clock = Clock::new(10_000.0);
        let before = clock.now();
        std::thread::sleep(Duration::from_millis(20));
        assert!(clock.now().duration_since(before) >= SignedDuration::from_secs(200));
    }

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let at: Timestamp = "2021-09-17T21:43:54.205Z".parse().unwrap();
        assert_eq!(format_timestamp(at), "2021-09-17T21:43:54.205Z");
        let whole: Timestamp = "2021-09-17T21:43:54Z".parse().unwrap();
        assert_eq!(format_timestamp(whole), "2021-09-17T21:43:54.000Z");
    }
}
