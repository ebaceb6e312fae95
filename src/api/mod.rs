//! The operator's Kubernetes API: the custom resource types users write and the
//! CustomResourceDefinitions that register them with the API server.

pub mod crds;
pub mod v1alpha1;

/// Prefix of every label, annotation, finalizer and AWS tag key the operator owns.
pub const OPERATOR_PREFIX: &str = "appconfig.operators.dev/";
