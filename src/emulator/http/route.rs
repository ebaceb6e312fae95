//! Maps an HTTP method and path to the AWS operation it calls (restJson1 `http` bindings).

use axum::http::Method;
use percent_encoding::percent_decode_str;

/// An AWS operation with its path labels, percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    CreateApplication,
    ListApplications,
    GetApplication {
        application: String,
    },
    DeleteApplication {
        application: String,
    },
    CreateEnvironment {
        application: String,
    },
    ListEnvironments {
        application: String,
    },
    GetEnvironment {
        application: String,
        environment: String,
    },
    DeleteEnvironment {
        application: String,
        environment: String,
    },
    CreateConfigurationProfile {
        application: String,
    },
    ListConfigurationProfiles {
        application: String,
    },
    GetConfigurationProfile {
        application: String,
        profile: String,
    },
    DeleteConfigurationProfile {
        application: String,
        profile: String,
    },
    CreateHostedConfigurationVersion {
        application: String,
        profile: String,
    },
    ListHostedConfigurationVersions {
        application: String,
        profile: String,
    },
    GetHostedConfigurationVersion {
        application: String,
        profile: String,
        version: String,
    },
    DeleteHostedConfigurationVersion {
        application: String,
        profile: String,
        version: String,
    },
    CreateDeploymentStrategy,
    ListDeploymentStrategies,
    GetDeploymentStrategy {
        strategy: String,
    },
    StartDeployment {
        application: String,
        environment: String,
    },
    ListDeployments {
        application: String,
        environment: String,
    },
    GetDeployment {
        application: String,
        environment: String,
        deployment: String,
    },
    StopDeployment {
        application: String,
        environment: String,
        deployment: String,
    },
    TagResource {
        arn: String,
    },
    UntagResource {
        arn: String,
    },
    ListTagsForResource {
        arn: String,
    },
    StartConfigurationSession,
    GetLatestConfiguration,
}

impl Operation {
    /// The operation's AWS name, as call counts and fault rules spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::CreateApplication => "CreateApplication",
            Self::ListApplications => "ListApplications",
            Self::GetApplication { .. } => "GetApplication",
            Self::DeleteApplication { .. } => "DeleteApplication",
            Self::CreateEnvironment { .. } => "CreateEnvironment",
            Self::ListEnvironments { .. } => "ListEnvironments",
            Self::GetEnvironment { .. } => "GetEnvironment",
            Self::DeleteEnvironment { .. } => "DeleteEnvironment",
            Self::CreateConfigurationProfile { .. } => "CreateConfigurationProfile",
            Self::ListConfigurationProfiles { .. } => "ListConfigurationProfiles",
            Self::GetConfigurationProfile { .. } => "GetConfigurationProfile",
            Self::DeleteConfigurationProfile { .. } => "DeleteConfigurationProfile",
            Self::CreateHostedConfigurationVersion { .. } => "CreateHostedConfigurationVersion",
            Self::ListHostedConfigurationVersions { .. } => "ListHostedConfigurationVersions",
            Self::GetHostedConfigurationVersion { .. } => "GetHostedConfigurationVersion",
            Self::DeleteHostedConfigurationVersion { .. } => "DeleteHostedConfigurationVersion",
            Self::CreateDeploymentStrategy => "CreateDeploymentStrategy",
            Self::ListDeploymentStrategies => "ListDeploymentStrategies",
            Self::GetDeploymentStrategy { .. } => "GetDeploymentStrategy",
            Self::StartDeployment { .. } => "StartDeployment",
            Self::ListDeployments { .. } => "ListDeployments",
            Self::GetDeployment { .. } => "GetDeployment",
            Self::StopDeployment { .. } => "StopDeployment",
            Self::TagResource { .. } => "TagResource",
            Self::UntagResource { .. } => "UntagResource",
            Self::ListTagsForResource { .. } => "ListTagsForResource",
            Self::StartConfigurationSession => "StartConfigurationSession",
            Self::GetLatestConfiguration => "GetLatestConfiguration",
        }
    }
}

pub fn route(method: &Method, path: &str) -> Option<Operation> {
    use Operation::*;
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let own = |s: &str| s.to_owned();
    let operation = match (method.as_str(), s.as_slice()) {
        ("POST", ["applications"]) => CreateApplication,
        ("GET", ["applications"]) => ListApplications,
        ("GET", ["applications", a]) => GetApplication {
            application: own(a),
        },
        ("DELETE", ["applications", a]) => DeleteApplication {
            application: own(a),
        },
        ("POST", ["applications", a, "environments"]) => CreateEnvironment {
            application: own(a),
        },
        ("GET", ["applications", a, "environments"]) => ListEnvironments {
            application: own(a),
        },
        ("GET", ["applications", a, "environments", e]) => GetEnvironment {
            application: own(a),
            environment: own(e),
        },
        ("DELETE", ["applications", a, "environments", e]) => DeleteEnvironment {
            application: own(a),
            environment: own(e),
        },
        ("POST", ["applications", a, "configurationprofiles"]) => CreateConfigurationProfile {
            application: own(a),
        },
        ("GET", ["applications", a, "configurationprofiles"]) => ListConfigurationProfiles {
            application: own(a),
        },
        ("GET", ["applications", a, "configurationprofiles", p]) => GetConfigurationProfile {
            application: own(a),
            profile: own(p),
        },
        ("DELETE", ["applications", a, "configurationprofiles", p]) => DeleteConfigurationProfile {
            application: own(a),
            profile: own(p),
        },
        (
            "POST",
            [
                "applications",
                a,
                "configurationprofiles",
                p,
                "hostedconfigurationversions",
            ],
        ) => CreateHostedConfigurationVersion {
            application: own(a),
            profile: own(p),
        },
        (
            "GET",
            [
                "applications",
                a,
                "configurationprofiles",
                p,
                "hostedconfigurationversions",
            ],
        ) => ListHostedConfigurationVersions {
            application: own(a),
            profile: own(p),
        },
        (
            "GET",
            [
                "applications",
                a,
                "configurationprofiles",
                p,
                "hostedconfigurationversions",
                v,
            ],
        ) => GetHostedConfigurationVersion {
            application: own(a),
            profile: own(p),
            version: own(v),
        },
        (
            "DELETE",
            [
                "applications",
                a,
                "configurationprofiles",
                p,
                "hostedconfigurationversions",
                v,
            ],
        ) => DeleteHostedConfigurationVersion {
            application: own(a),
            profile: own(p),
            version: own(v),
        },
        ("POST", ["deploymentstrategies"]) => CreateDeploymentStrategy,
        ("GET", ["deploymentstrategies"]) => ListDeploymentStrategies,
        ("GET", ["deploymentstrategies", s]) => GetDeploymentStrategy { strategy: own(s) },
        ("POST", ["applications", a, "environments", e, "deployments"]) => StartDeployment {
            application: own(a),
            environment: own(e),
        },
        ("GET", ["applications", a, "environments", e, "deployments"]) => ListDeployments {
            application: own(a),
            environment: own(e),
        },
        ("GET", ["applications", a, "environments", e, "deployments", d]) => GetDeployment {
            application: own(a),
            environment: own(e),
            deployment: own(d),
        },
        ("DELETE", ["applications", a, "environments", e, "deployments", d]) => StopDeployment {
            application: own(a),
            environment: own(e),
            deployment: own(d),
        },
        ("POST", ["tags", arn]) => TagResource { arn: own(arn) },
        ("DELETE", ["tags", arn]) => UntagResource { arn: own(arn) },
        ("GET", ["tags", arn]) => ListTagsForResource { arn: own(arn) },
        ("POST", ["configurationsessions"]) => StartConfigurationSession,
        ("GET", ["configuration"]) => GetLatestConfiguration,
        _ => return None,
    };
    Some(operation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_percent_decoded() {
        let arn = "arn%3Aaws%3Aappconfig%3Aus-east-1%3A123456789012%3Aapplication%2Fabc1234";
        assert_eq!(
            route(&Method::GET, &format!("/tags/{arn}")),
            Some(Operation::ListTagsForResource {
                arn: "arn:aws:appconfig:us-east-1:123456789012:application/abc1234".into()
            })
        );
    }

    #[test]
    fn methods_select_the_operation() {
        let path = "/applications/a1b2c3d/environments/e1f2g3h/deployments/2";
        assert_eq!(route(&Method::GET, path).unwrap().name(), "GetDeployment");
        assert_eq!(
            route(&Method::DELETE, path).unwrap().name(),
            "StopDeployment"
        );
        assert_eq!(route(&Method::PUT, path), None);
        assert_eq!(route(&Method::GET, "/nothing/here"), None);
    }
}
