//! The convergence rules: from what was observed to what to do. Pure, so every rule is tested
//! case by case without Kubernetes or AWS.

use crate::aws::model::{DeploymentState, DeploymentSummary, served};

/// The deployment a resource's status describes, and the spec generation it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracked {
    pub number: i32,
    pub generation: i64,
}

/// Everything the decision depends on.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    pub generation: i64,
    pub suspend: bool,
    /// The declared version, then its other names (a hosted version's number and label).
    pub versions: &'a [String],
    pub profile_id: &'a str,
    /// The environment's deployments, newest first, each with its profile known.
    pub deployments: &'a [DeploymentSummary],
    pub tracked: Option<Tracked>,
}

/// What AppConfig must be asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    Nothing,
    /// StartDeployment of the declared version, guarded by the newest number seen.
    Start {
        latest_deployment_number: i32,
    },
    /// StopDeployment of a deployment of this profile that carries another version.
    Stop {
        number: i32,
    },
}

/// Where the resource stands, which becomes its conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Situation {
    /// The declared version is served and nothing of this profile is in progress.
    Deployed,
    /// The tracked deployment of the declared version is in progress.
    InProgress(DeploymentState),
    /// A deployment of this profile with another version is being stopped.
    Superseding { number: i32 },
    /// A deployment of another profile holds the environment.
    WaitingForEnvironment { number: i32, profile_id: String },
    /// The declared version was attempted for this generation and rolled back or reverted.
    Failed { number: i32, state: DeploymentState },
    /// A deployment of the declared version is about to start.
    Starting,
    /// Observe only; `served` says whether the declared version is served.
    Suspended { served: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub act: Act,
    pub situation: Situation,
    /// The deployment status describes from now on (a started one is tracked once AWS numbers it).
    pub tracked: Option<Tracked>,
}

pub fn decide(o: &Observation<'_>) -> Decision {
    let ours = |d: &&DeploymentSummary| d.profile_id.as_deref() == Some(o.profile_id);
    let in_progress = o.deployments.iter().find(|d| d.state.is_in_progress());
    let served = served(o.deployments, o.profile_id);
    let declared_served = served.is_some_and(|d| d.carries(o.versions));
    // A deployment of the declared version serves the current generation from now on.
    let adopt = |d: &DeploymentSummary| {
        Some(Tracked {
            number: d.number,
            generation: o.generation,
        })
    };

    if o.suspend {
        let tracked = match in_progress.filter(ours) {
            Some(d) if d.carries(o.versions) => adopt(d),
            _ => o.tracked,
        };
        return decision(
            Act::Nothing,
            Situation::Suspended {
                served: declared_served,
            },
            tracked,
        );
    }

    if let Some(d) = in_progress.filter(ours) {
        if d.carries(o.versions) {
            if d.state != DeploymentState::RollingBack {
                return decision(
                    Act::Nothing,
                    Situation::InProgress(d.state.clone()),
                    adopt(d),
                );
            }
            // Rolling back is a failure of the attempt it belongs to, not of a newer spec:
            // a new generation waits for it to end, then tries again.
            let situation = if o.tracked == adopt(d) {
                Situation::Failed {
                    number: d.number,
                    state: d.state.clone(),
                }
            } else {
                Situation::Superseding { number: d.number }
            };
            return decision(Act::Nothing, situation, o.tracked);
        }
        // A deployment that is already rolling back cannot be stopped again: wait for it.
        let act = if d.state == DeploymentState::RollingBack {
            Act::Nothing
        } else {
            Act::Stop { number: d.number }
        };
        return decision(act, Situation::Superseding { number: d.number }, o.tracked);
    }

    // Another profile's deployment does not change what this one serves: only a start has to
    // wait for it.
    if let Some(d) = served.filter(|_| declared_served) {
        return decision(Act::Nothing, Situation::Deployed, adopt(d));
    }

    if let Some(failed) = o.tracked.and_then(|t| tracked_failed_for(o, t)) {
        let situation = Situation::Failed {
            number: failed.number,
            state: failed.state.clone(),
        };
        return decision(Act::Nothing, situation, o.tracked);
    }

    if let Some(d) = in_progress {
        let situation = Situation::WaitingForEnvironment {
            number: d.number,
            profile_id: d.profile_id.clone().unwrap_or_default(),
        };
        return decision(Act::Nothing, situation, o.tracked);
    }

    let latest_deployment_number = o.deployments.first().map_or(0, |d| d.number);
    decision(
        Act::Start {
            latest_deployment_number,
        },
        Situation::Starting,
        o.tracked,
    )
}

/// The tracked deployment, when it was attempted for the current generation with the declared
/// version and ended rolled back or reverted: a signal, not a glitch, so no automatic retry.
fn tracked_failed_for<'a>(o: &Observation<'a>, t: Tracked) -> Option<&'a DeploymentSummary> {
    if t.generation != o.generation {
        return None;
    }
    o.deployments.iter().find(|d| {
        d.number == t.number
            && d.profile_id.as_deref() == Some(o.profile_id)
            && d.carries(o.versions)
            && matches!(
                d.state,
                DeploymentState::RolledBack | DeploymentState::Reverted
            )
    })
}

fn decision(act: Act, situation: Situation, tracked: Option<Tracked>) -> Decision {
    Decision {
        act,
        situation,
        tracked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "prof1";
    const OTHER: &str = "prof2";

    fn dep(number: i32, profile: &str, version: &str, state: DeploymentState) -> DeploymentSummary {
        DeploymentSummary {
            number,
            profile_id: Some(profile.into()),
            version: version.into(),
            version_label: None,
            state,
            percentage_complete: 0.0,
        }
    }

    fn observe<'a>(
        deployments: &'a [DeploymentSummary],
        versions: &'a [String],
        tracked: Option<Tracked>,
    ) -> Observation<'a> {
        Observation {
            generation: 2,
            suspend: false,
            versions,
            profile_id: OURS,
            deployments,
            tracked,
        }
    }

    fn v(declared: &str) -> Vec<String> {
        vec![declared.to_owned()]
    }

    fn start_after(latest_deployment_number: i32) -> Act {
        Act::Start {
            latest_deployment_number,
        }
    }

    fn tracked(number: i32, generation: i64) -> Option<Tracked> {
        Some(Tracked { number, generation })
    }

    use DeploymentState::*;

    #[test]
    fn an_empty_environment_starts_from_number_zero() {
        let d = decide(&observe(&[], &v("1"), None));
        assert_eq!(d.act, start_after(0));
        assert_eq!(d.situation, Situation::Starting);
    }

    #[test]
    fn a_start_passes_the_newest_number_of_any_profile() {
        let deps = [dep(7, OTHER, "3", Complete), dep(6, OURS, "1", Complete)];
        let d = decide(&observe(&deps, &v("2"), tracked(6, 1)));
        assert_eq!(d.act, start_after(7));
    }

    #[test]
    fn an_in_progress_deployment_of_the_declared_version_is_tracked_not_restarted() {
        let deps = [dep(4, OURS, "2", Baking), dep(3, OURS, "1", Complete)];
        // Not started by this resource (no tracked deployment): adopted.
        let d = decide(&observe(&deps, &v("2"), None));
        assert_eq!(d.act, Act::Nothing);
        assert_eq!(d.situation, Situation::InProgress(Baking));
        assert_eq!(d.tracked, tracked(4, 2));
    }

    #[test]
    fn a_label_matches_like_a_number() {
        let mut labelled = dep(4, OURS, "9", Complete);
        labelled.version_label = Some("v1.4.0".into());
        let deps = [labelled];
        let d = decide(&observe(&deps, &v("v1.4.0"), None));
        assert_eq!(d.situation, Situation::Deployed);
        assert_eq!(d.act, Act::Nothing);
    }

    #[test]
    fn another_name_of_the_declared_version_matches() {
        // Deployed by label, declared by number: the same hosted version.
        let mut labelled = dep(4, OURS, "v1.4.0", Complete);
        labelled.version_label = Some("v1.4.0".into());
        let deps = [labelled];
        let names = ["9".to_owned(), "v1.4.0".to_owned()];
        let d = decide(&observe(&deps, &names, None));
        assert_eq!(d.situation, Situation::Deployed);
    }

    #[test]
    fn an_in_progress_deployment_of_another_version_of_this_profile_is_stopped() {
        let deps = [dep(5, OURS, "1", Deploying)];
        let d = decide(&observe(&deps, &v("2"), tracked(5, 1)));
        assert_eq!(d.act, Act::Stop { number: 5 });
        assert_eq!(d.situation, Situation::Superseding { number: 5 });
        // The tracked deployment stays what it was until the next one starts.
        assert_eq!(d.tracked, tracked(5, 1));
    }

    #[test]
    fn a_deployment_already_rolling_back_is_waited_for_not_stopped_again() {
        let deps = [dep(5, OURS, "1", RollingBack)];
        let d = decide(&observe(&deps, &v("2"), None));
        assert_eq!(d.act, Act::Nothing);
        assert_eq!(d.situation, Situation::Superseding { number: 5 });
    }

    #[test]
    fn another_profiles_deployment_is_waited_for_and_never_stopped() {
        let deps = [dep(8, OTHER, "1", Deploying), dep(7, OURS, "1", Complete)];
        let d = decide(&observe(&deps, &v("2"), tracked(7, 1)));
        assert_eq!(d.act, Act::Nothing);
        assert_eq!(
            d.situation,
            Situation::WaitingForEnvironment {
                number: 8,
                profile_id: OTHER.into()
            }
        );
        assert_eq!(d.tracked, tracked(7, 1));
    }

    #[test]
    fn another_profiles_deployment_does_not_unsettle_a_served_or_failed_resource() {
        let deps = [dep(9, OTHER, "1", Deploying), dep(8, OURS, "2", Complete)];
        let d = decide(&observe(&deps, &v("2"), tracked(8, 2)));
        assert_eq!(d.situation, Situation::Deployed);
        let deps = [dep(9, OTHER, "1", Deploying), dep(8, OURS, "2", RolledBack)];
        let d = decide(&observe(&deps, &v("2"), tracked(8, 2)));
        assert_eq!(
            d.situation,
            Situation::Failed {
                number: 8,
                state: RolledBack
            }
        );
    }

    #[test]
    fn a_rollback_in_progress_fails_its_own_attempt_but_not_a_newer_spec() {
        let deps = [dep(6, OURS, "2", RollingBack)];
        let d = decide(&observe(&deps, &v("2"), tracked(6, 2)));
        assert_eq!(
            d.situation,
            Situation::Failed {
                number: 6,
                state: RollingBack
            }
        );
        assert_eq!(d.act, Act::Nothing);
        // The spec changed (generation 2) while generation 1's attempt rolls back.
        let d = decide(&observe(&deps, &v("2"), tracked(6, 1)));
        assert_eq!(d.situation, Situation::Superseding { number: 6 });
        assert_eq!(d.act, Act::Nothing);
        assert_eq!(
            d.tracked,
            tracked(6, 1),
            "not adopted for the new generation"
        );
    }

    #[test]
    fn a_tracked_number_of_another_profile_is_not_a_failed_attempt() {
        let deps = [dep(6, OTHER, "2", RolledBack)];
        let d = decide(&observe(&deps, &v("2"), tracked(6, 2)));
        assert_eq!(d.act, start_after(6));
    }

    #[test]
    fn a_served_version_needs_no_write_and_is_adopted_for_this_generation() {
        let deps = [dep(9, OTHER, "5", Complete), dep(8, OURS, "2", Complete)];
        let d = decide(&observe(&deps, &v("2"), tracked(8, 1)));
        assert_eq!(d.act, Act::Nothing);
        assert_eq!(d.situation, Situation::Deployed);
        assert_eq!(d.tracked, tracked(8, 2));
    }

    #[test]
    fn served_means_the_newest_complete_deployment_of_this_profile() {
        // Version 2 completed once, then version 3 replaced it: 2 is not served any more.
        let deps = [dep(9, OURS, "3", Complete), dep(8, OURS, "2", Complete)];
        let d = decide(&observe(&deps, &v("2"), tracked(8, 2)));
        assert_eq!(d.act, start_after(9));
    }

    #[test]
    fn a_rollback_for_this_generation_is_not_retried() {
        let deps = [dep(6, OURS, "2", RolledBack), dep(5, OURS, "1", Complete)];
        let d = decide(&observe(&deps, &v("2"), tracked(6, 2)));
        assert_eq!(d.act, Act::Nothing);
        assert_eq!(
            d.situation,
            Situation::Failed {
                number: 6,
                state: RolledBack
            }
        );
    }

    #[test]
    fn a_revert_for_this_generation_is_not_retried() {
        let deps = [dep(6, OURS, "2", Reverted), dep(5, OURS, "1", Complete)];
        let d = decide(&observe(&deps, &v("2"), tracked(6, 2)));
        assert_eq!(
            d.situation,
            Situation::Failed {
                number: 6,
                state: Reverted
            }
        );
        assert_eq!(d.act, Act::Nothing);
    }

    #[test]
    fn a_new_generation_allows_a_new_attempt_after_a_rollback() {
        let deps = [dep(6, OURS, "2", RolledBack), dep(5, OURS, "1", Complete)];
        let d = decide(&observe(&deps, &v("2"), tracked(6, 1)));
        assert_eq!(d.act, start_after(6));
    }

    #[test]
    fn a_rollback_of_a_superseded_version_does_not_stall_the_new_one() {
        // Deployment 6 carried version 1 and was stopped for generation 2's version 2.
        let deps = [dep(6, OURS, "1", RolledBack), dep(5, OURS, "1", Complete)];
        let d = decide(&observe(&deps, &v("2"), tracked(6, 2)));
        assert_eq!(d.act, start_after(6));
    }

    #[test]
    fn drift_to_another_completed_version_is_converged_back() {
        let deps = [dep(7, OURS, "9", Complete), dep(6, OURS, "2", Complete)];
        let d = decide(&observe(&deps, &v("2"), tracked(6, 2)));
        assert_eq!(d.act, start_after(7));
    }

    #[test]
    fn suspended_resources_never_act() {
        let two = v("2");
        let cases: [&[DeploymentSummary]; 3] = [
            &[],
            &[dep(5, OURS, "1", Deploying)],
            &[dep(5, OURS, "2", Complete)],
        ];
        for deps in cases {
            let mut o = observe(deps, &two, None);
            o.suspend = true;
            assert_eq!(decide(&o).act, Act::Nothing, "{deps:?}");
        }
        let deps = [dep(5, OURS, "2", Complete)];
        let mut o = observe(&deps, &two, None);
        o.suspend = true;
        assert_eq!(decide(&o).situation, Situation::Suspended { served: true });
        let deps = [dep(5, OURS, "2", Deploying)];
        let mut o = observe(&deps, &two, None);
        o.suspend = true;
        let d = decide(&o);
        assert_eq!(d.situation, Situation::Suspended { served: false });
        assert_eq!(d.tracked, tracked(5, 2));
    }

    #[test]
    fn an_unknown_state_blocks_the_environment() {
        let deps = [dep(5, OTHER, "1", Other("PAUSED".into()))];
        let d = decide(&observe(&deps, &v("2"), None));
        assert_eq!(d.act, Act::Nothing);
        assert!(matches!(
            d.situation,
            Situation::WaitingForEnvironment { number: 5, .. }
        ));
    }
}
