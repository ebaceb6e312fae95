//! A local AWS AppConfig: the control plane (2019-10-09) and the AppConfig Data API
//! (2021-11-11) on one port, wire-compatible with the official SDKs, with deployments that
//! progress on an emulated clock.
//!
//! - [`state`]: the pure state core, one method per AWS operation;
//! - [`deployment`] and [`schedule`]: the deployment state machine and its timetable;
//! - `content`: the checks of configuration content (feature-flag documents, JSON Schema
//!   validators);
//! - `http`: restJson1 routing and encoding, STS's query protocol, and the `/_emulator/`
//!   endpoints;
//! - [`iam`]: OIDC providers, roles, STS sessions and the policies that authorize calls;
//! - [`Emulator`]: the server, started in-process or by `appconfig-operator emulator`.

mod clock;
mod content;
mod control;
pub mod deployment;
pub mod error;
mod faults;
mod http;
pub mod iam;
mod page;
pub mod schedule;
mod server;
pub mod state;
mod validate;

pub use control::Control;
pub use faults::Fault;
pub use http::RequestLog;
pub use schedule::StepSchedule;
pub use server::{Emulator, EmulatorConfig};
pub use state::{AlarmState, EnvironmentStateStyle, Quotas, Settings};
