//! When a deployment reaches each percentage, starts baking and completes (pure arithmetic).

use jiff::SignedDuration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrowthType {
    Linear,
    Exponential,
}

impl GrowthType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Linear => "LINEAR",
            Self::Exponential => "EXPONENTIAL",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "LINEAR" => Some(Self::Linear),
            "EXPONENTIAL" => Some(Self::Exponential),
            _ => None,
        }
    }
}

/// How steps are spread over the deployment duration D with N steps.
///
/// AWS documents `D/N` (the user guide's "10 hours, 20% linear" timeline); the one real event log
/// published shows `D/(N+1)` with 100% reached one interval before baking. Both agree that baking
/// starts at D. `Documented` is the default; `Observed` reproduces the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StepSchedule {
    #[default]
    Documented,
    Observed,
}

/// The percentages a deployment passes through, ending at 100.
pub fn percentages(growth_type: GrowthType, growth_factor: f64) -> Vec<f64> {
    // A tolerance keeps 3 x 33.333... from producing a 100.00000000000001% step before 100%.
    const EPSILON: f64 = 1e-9;
    let mut steps = Vec::new();
    match growth_type {
        GrowthType::Linear => {
            let mut k = 1.0;
            while k * growth_factor < 100.0 - EPSILON {
                steps.push(k * growth_factor);
                k += 1.0;
            }
        }
        GrowthType::Exponential => {
            let mut p = growth_factor;
            while p < 100.0 - EPSILON {
                steps.push(p);
                p *= 2.0;
            }
        }
    }
    steps.push(100.0);
    steps
}

/// A deployment's timetable, as offsets from its start.
#[derive(Debug, Clone, PartialEq)]
pub struct Timetable {
    /// (offset, percentage) in order.
    pub steps: Vec<(SignedDuration, f64)>,
    pub bake_starts: SignedDuration,
    pub completes: SignedDuration,
}

pub fn timetable(
    duration_minutes: u32,
    growth_type: GrowthType,
    growth_factor: f64,
    bake_minutes: u32,
    schedule: StepSchedule,
) -> Timetable {
    let percentages = percentages(growth_type, growth_factor);
    let n = percentages.len() as i128;
    let intervals = match schedule {
        StepSchedule::Documented => n,
        StepSchedule::Observed => n + 1,
    };
    let duration_nanos = i128::from(duration_minutes) * 60 * 1_000_000_000;
    let steps = percentages
        .into_iter()
        .zip(1..)
        .map(|(percent, k)| {
            let nanos = duration_nanos * k / intervals;
            (SignedDuration::from_nanos_i128(nanos), percent)
        })
        .collect();
    let bake_starts = SignedDuration::from_mins(i64::from(duration_minutes));
    Timetable {
        steps,
        bake_starts,
        completes: bake_starts + SignedDuration::from_mins(i64::from(bake_minutes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mmss(d: SignedDuration) -> String {
        let s = d.as_secs();
        format!("{}:{:02}", s / 60, s % 60)
    }

    fn steps(t: &Timetable) -> Vec<String> {
        t.steps
            .iter()
            .map(|(at, p)| format!("{p}%@{}", mmss(*at)))
            .collect()
    }

    #[test]
    fn linear_and_exponential_percentages() {
        assert_eq!(
            percentages(GrowthType::Linear, 25.0),
            [25.0, 50.0, 75.0, 100.0]
        );
        assert_eq!(
            percentages(GrowthType::Linear, 30.0),
            [30.0, 60.0, 90.0, 100.0]
        );
        assert_eq!(percentages(GrowthType::Linear, 100.0), [100.0]);
        assert_eq!(
            percentages(GrowthType::Exponential, 10.0),
            [10.0, 20.0, 40.0, 80.0, 100.0]
        );
        assert_eq!(
            percentages(GrowthType::Exponential, 2.0),
            [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 100.0]
        );
        assert_eq!(percentages(GrowthType::Linear, 100.0 / 3.0).len(), 3);
    }

    // The worked schedules of the reference, both modes.
    #[test]
    fn predefined_strategies_documented() {
        let all = timetable(0, GrowthType::Linear, 100.0, 10, StepSchedule::Documented);
        assert_eq!(steps(&all), ["100%@0:00"]);
        assert_eq!(
            (mmss(all.bake_starts), mmss(all.completes)),
            ("0:00".into(), "10:00".into())
        );

        let linear50 = timetable(1, GrowthType::Linear, 50.0, 1, StepSchedule::Documented);
        assert_eq!(steps(&linear50), ["50%@0:30", "100%@1:00"]);
        assert_eq!(mmss(linear50.completes), "2:00");

        let canary = timetable(
            20,
            GrowthType::Exponential,
            10.0,
            10,
            StepSchedule::Documented,
        );
        assert_eq!(
            steps(&canary),
            [
                "10%@4:00",
                "20%@8:00",
                "40%@12:00",
                "80%@16:00",
                "100%@20:00"
            ]
        );
        assert_eq!(
            (mmss(canary.bake_starts), mmss(canary.completes)),
            ("20:00".into(), "30:00".into())
        );

        let linear20 = timetable(30, GrowthType::Linear, 20.0, 30, StepSchedule::Documented);
        assert_eq!(
            steps(&linear20),
            [
                "20%@6:00",
                "40%@12:00",
                "60%@18:00",
                "80%@24:00",
                "100%@30:00"
            ]
        );
        assert_eq!(mmss(linear20.completes), "60:00");
    }

    #[test]
    fn observed_mode_matches_the_capture() {
        let capture = timetable(15, GrowthType::Linear, 25.0, 0, StepSchedule::Observed);
        assert_eq!(
            steps(&capture),
            ["25%@3:00", "50%@6:00", "75%@9:00", "100%@12:00"]
        );
        assert_eq!(
            (mmss(capture.bake_starts), mmss(capture.completes)),
            ("15:00".into(), "15:00".into())
        );

        let canary = timetable(
            20,
            GrowthType::Exponential,
            10.0,
            10,
            StepSchedule::Observed,
        );
        assert_eq!(
            steps(&canary),
            [
                "10%@3:20",
                "20%@6:40",
                "40%@10:00",
                "80%@13:20",
                "100%@16:40"
            ]
        );
        let linear50 = timetable(1, GrowthType::Linear, 50.0, 1, StepSchedule::Observed);
        assert_eq!(steps(&linear50), ["50%@0:20", "100%@0:40"]);
    }

    #[test]
    fn documented_capture_example_and_exponential_two() {
        let capture = timetable(15, GrowthType::Linear, 25.0, 0, StepSchedule::Documented);
        assert_eq!(
            steps(&capture),
            ["25%@3:45", "50%@7:30", "75%@11:15", "100%@15:00"]
        );
        let e2 = timetable(
            60,
            GrowthType::Exponential,
            2.0,
            0,
            StepSchedule::Documented,
        );
        assert_eq!(e2.steps.len(), 7);
        assert_eq!(mmss(e2.steps[0].0), "8:34");
        assert_eq!(mmss(e2.steps[6].0), "60:00");
        let e2_observed = timetable(60, GrowthType::Exponential, 2.0, 0, StepSchedule::Observed);
        assert_eq!(mmss(e2_observed.steps[0].0), "7:30");
        assert_eq!(mmss(e2_observed.steps[6].0), "52:30");
    }
}
