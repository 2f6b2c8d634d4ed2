//! The cluster's identity, `{ name, region, account_id }`: what names it for good, read from
//! its ARN (`arn:<partition>:eks:<region>:<account>:cluster/<name>`), so it costs no call.

use tfplugin6::{Diagnostics, IdentitySchema, Value};

use super::model::ClusterState;

const NAME: &str = "name";
const REGION: &str = "region";
const ACCOUNT_ID: &str = "account_id";

pub fn schema() -> IdentitySchema {
    IdentitySchema::new()
        .required(NAME, "The EKS cluster's name.")
        .optional(REGION, "Its region; the provider's when left out.")
        .optional(
            ACCOUNT_ID,
            "Its account; the provider's credentials' when left out.",
        )
}

/// The identity of the cluster a state describes, once its ARN is known.
pub fn of_state(state: &Value) -> Option<Value> {
    of_arn(state.get(ClusterState::arn).as_str()?)
}

/// The identity an EKS cluster ARN names.
pub fn of_arn(arn: &str) -> Option<Value> {
    let (region, account, name) = parse_arn(arn)?;
    let mut id = Value::Map(Default::default());
    id.set(NAME, Value::string(name));
    id.set(REGION, Value::string(region));
    id.set(ACCOUNT_ID, Value::string(account));
    Some(id)
}

fn parse_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (_, _, service, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let name = resource.strip_prefix("cluster/")?;
    (service == "eks").then_some((region, account, name))
}

/// What `import { identity = { … } }` asked for.
pub struct Requested {
    pub name: String,
    region: Option<String>,
    account_id: Option<String>,
}

pub fn requested(identity: &Value) -> Result<Requested, Diagnostics> {
    let text = |k: &str| identity.get(k).as_str().map(str::to_string);
    match text(NAME) {
        Some(name) if !name.is_empty() => Ok(Requested {
            name,
            region: text(REGION),
            account_id: text(ACCOUNT_ID),
        }),
        _ => {
            let mut d = Diagnostics::default();
            d.error(
                "Cannot import eks_hybrid_cluster",
                "The identity needs the cluster's name: identity = { name = \"…\" }.",
            );
            Err(d)
        }
    }
}

impl Requested {
    /// A region other than the provider's cannot be reached by this provider configuration.
    pub fn check_region(&self, provider_region: &str) -> Diagnostics {
        self.mismatch(
            REGION,
            self.region.as_deref(),
            provider_region,
            "the provider's region",
        )
    }

    /// The cluster found has the account asked for.
    pub fn check_found(&self, state: &Value) -> Diagnostics {
        let found = of_state(state);
        let account = found.as_ref().and_then(|f| f.get(ACCOUNT_ID).as_str());
        match account {
            Some(a) => self.mismatch(
                ACCOUNT_ID,
                self.account_id.as_deref(),
                a,
                "the account the provider's credentials belong to",
            ),
            None => Diagnostics::default(),
        }
    }

    fn mismatch(&self, attr: &str, asked: Option<&str>, actual: &str, what: &str) -> Diagnostics {
        let mut d = Diagnostics::default();
        if let Some(asked) = asked.filter(|a| *a != actual) {
            d.error(
                "Cannot import eks_hybrid_cluster",
                format!(
                    "The identity's {attr} is {asked:?}, but {what} is {actual:?}. Import it with a provider configured for {asked:?}."
                ),
            );
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with_arn(arn: &str) -> Value {
        let mut v = Value::Map(Default::default());
        v.set(ClusterState::arn, Value::string(arn));
        v
    }

    #[test]
    fn identity_comes_from_the_arn() {
        let id = of_state(&state_with_arn(
            "arn:aws:eks:us-west-2:123456789012:cluster/hybrid-demo",
        ))
        .unwrap();
        assert_eq!(id.get(NAME), &Value::string("hybrid-demo"));
        assert_eq!(id.get(REGION), &Value::string("us-west-2"));
        assert_eq!(id.get(ACCOUNT_ID), &Value::string("123456789012"));
        assert!(of_state(&state_with_arn("arn:aws:iam::1:role/x")).is_none());
        assert!(of_state(&Value::Map(Default::default())).is_none());
    }

    #[test]
    fn another_region_or_account_is_refused_and_the_providers_accepted() {
        let mut asked = Value::Map(Default::default());
        asked.set(NAME, Value::string("c"));
        asked.set(REGION, Value::string("eu-west-1"));
        asked.set(ACCOUNT_ID, Value::string("111111111111"));
        let r = requested(&asked).unwrap();
        assert!(r.check_region("us-west-2").has_errors());
        assert!(!r.check_region("eu-west-1").has_errors());
        let found = state_with_arn("arn:aws:eks:eu-west-1:222222222222:cluster/c");
        assert!(r.check_found(&found).has_errors());
        let mut only_name = Value::Map(Default::default());
        only_name.set(NAME, Value::string("c"));
        let r = requested(&only_name).unwrap();
        assert!(!r.check_region("us-west-2").has_errors());
        assert!(!r.check_found(&found).has_errors());
        assert!(requested(&Value::Map(Default::default())).is_err());
    }
}
