//! Ready, Reconciling and Stalled, as the Kubernetes API conventions and kstatus read them.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

pub const READY: &str = "Ready";
pub const RECONCILING: &str = "Reconciling";
pub const STALLED: &str = "Stalled";

/// One reason and message for the three conditions.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// "True", "False" or "Unknown".
    pub ready: &'static str,
    pub reconciling: bool,
    pub stalled: bool,
    pub reason: &'static str,
    pub message: String,
}

/// The three conditions for `generation`; a condition whose status holds keeps its
/// lastTransitionTime, so rewriting the same summary changes nothing.
pub fn conditions(
    previous: &[Condition],
    summary: &Summary,
    generation: i64,
    now: Timestamp,
) -> Vec<Condition> {
    let flag = |on: bool| if on { "True" } else { "False" };
    [
        (READY, summary.ready),
        (RECONCILING, flag(summary.reconciling)),
        (STALLED, flag(summary.stalled)),
    ]
    .into_iter()
    .map(|(type_, status)| {
        let since = previous
            .iter()
            .find(|c| c.type_ == type_ && c.status == status)
            .map_or(Time(now), |c| c.last_transition_time.clone());
        Condition {
            type_: type_.to_owned(),
            status: status.to_owned(),
            reason: summary.reason.to_owned(),
            message: summary.message.clone(),
            observed_generation: Some(generation),
            last_transition_time: since,
        }
    })
    .collect()
}

/// The Ready condition of `previous` when it describes `generation`.
pub fn current_ready(previous: &[Condition], generation: i64) -> Option<&Condition> {
    previous
        .iter()
        .find(|c| c.type_ == READY && c.observed_generation == Some(generation))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(ready: &'static str, reason: &'static str) -> Summary {
        Summary {
            ready,
            reconciling: ready == "False",
            stalled: false,
            reason,
            message: format!("{reason} message"),
        }
    }

    #[test]
    fn transition_times_hold_while_a_status_holds() {
        let t0: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let t1: Timestamp = "2026-11-21T10:05:00Z".parse().unwrap();
        let first = conditions(&[], &summary("False", "Deploying"), 1, t0);
        assert!(first.iter().all(|c| c.last_transition_time == Time(t0)));

        let second = conditions(&first, &summary("True", "Deployed"), 1, t1);
        let by_type =
            |cs: &[Condition], t: &str| cs.iter().find(|c| c.type_ == t).cloned().unwrap();
        assert_eq!(by_type(&second, READY).last_transition_time, Time(t1));
        assert_eq!(by_type(&second, READY).reason, "Deployed");
        assert_eq!(by_type(&second, RECONCILING).last_transition_time, Time(t1));
        // Stalled was False and stays False.
        assert_eq!(by_type(&second, STALLED).last_transition_time, Time(t0));
        assert!(second.iter().all(|c| c.observed_generation == Some(1)));
    }

    #[test]
    fn the_ready_condition_of_an_older_generation_is_not_current() {
        let t0: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let cs = conditions(&[], &summary("True", "Deployed"), 3, t0);
        assert!(current_ready(&cs, 3).is_some());
        assert!(current_ready(&cs, 4).is_none());
    }
}
