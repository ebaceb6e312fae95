//! The role a ServiceAccount's annotation names, read from the API server (a GET, never a
//! watch: the operator reads only the ServiceAccounts its resources name), and reused for a
//! while so that many resources naming one ServiceAccount cost one read.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use k8s_openapi::api::core::v1::ServiceAccount;
use kube::{Api, Client};

use super::error::{AccountRef, IdentityError};
use crate::aws::arn::is_role_arn;

/// The IRSA convention: one annotation serves pods (through the EKS webhook) and this operator.
pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

type Lookup = Result<String, IdentityError>;

pub struct ServiceAccounts {
    client: Client,
    /// (namespace, name) → when it was read, and the role it named or why none.
    read: Mutex<HashMap<(String, String), (Instant, Lookup)>>,
}

impl ServiceAccounts {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            read: Mutex::default(),
        }
    }

    /// The role ARN of `account` (or why there is none), read at most `max_age` ago: a changed
    /// annotation or ServiceAccount takes effect within that time.
    pub async fn role_arn(&self, account: &AccountRef, max_age: Duration) -> Lookup {
        let key = (account.namespace.clone(), account.name.clone());
        if let Some((at, lookup)) = self.read.lock().expect("never poisoned").get(&key)
            && at.elapsed() < max_age
        {
            return with_account(lookup.clone(), account);
        }
        let lookup = self.read_role_arn(account).await;
        let mut read = self.read.lock().expect("never poisoned");
        read.retain(|_, (at, _)| at.elapsed() < max_age);
        read.insert(key, (Instant::now(), lookup.clone()));
        lookup
    }

    async fn read_role_arn(&self, account: &AccountRef) -> Lookup {
        let api: Api<ServiceAccount> = Api::namespaced(self.client.clone(), &account.namespace);
        let found = api
            .get_opt(&account.name)
            .await
            .map_err(|e| IdentityError::from_kubernetes(account.clone(), "read", e))?;
        let Some(found) = found else {
            return Err(IdentityError::ServiceAccountNotFound {
                account: account.clone(),
            });
        };
        role_arn_of(&found, account)
    }
}

/// The role `service_account`'s annotation names, if it is a role ARN.
fn role_arn_of(service_account: &ServiceAccount, account: &AccountRef) -> Lookup {
    let value = service_account
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ROLE_ARN_ANNOTATION))
        .map(|v| v.trim())
        .ok_or_else(|| IdentityError::RoleAnnotationMissing {
            account: account.clone(),
        })?;
    if !is_role_arn(value) {
        return Err(IdentityError::RoleAnnotationInvalid {
            account: account.clone(),
            value: value.to_owned(),
        });
    }
    Ok(value.to_owned())
}

/// A lookup made for one resource, told to another that names the same ServiceAccount: the
/// message names the field that chose it for this one.
fn with_account(lookup: Lookup, account: &AccountRef) -> Lookup {
    lookup.map_err(|mut e| {
        e.set_account(account.clone());
        e
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use kube::api::ObjectMeta;

    use super::*;
    use crate::tenancy::error::ChosenBy;

    fn account() -> AccountRef {
        AccountRef {
            namespace: "team-a".into(),
            name: "deployer".into(),
            chosen_by: ChosenBy::Spec,
        }
    }

    fn annotated(value: Option<&str>) -> ServiceAccount {
        ServiceAccount {
            metadata: ObjectMeta {
                annotations: value
                    .map(|v| BTreeMap::from([(ROLE_ARN_ANNOTATION.to_owned(), v.to_owned())])),
                ..ObjectMeta::default()
            },
            ..ServiceAccount::default()
        }
    }

    #[test]
    fn the_annotation_must_name_a_role() {
        let role = "arn:aws:iam::123456789012:role/team-a";
        assert_eq!(
            role_arn_of(&annotated(Some(role)), &account()).unwrap(),
            role
        );
        assert!(matches!(
            role_arn_of(&annotated(None), &account()),
            Err(IdentityError::RoleAnnotationMissing { .. })
        ));
        let error = role_arn_of(&annotated(Some("team-a")), &account()).unwrap_err();
        assert_eq!(error.reason(), "RoleAnnotationInvalid");
        assert!(error.to_string().contains("\"team-a\""), "{error}");
    }
}
