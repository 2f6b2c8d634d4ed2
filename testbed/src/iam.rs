//! IAM propagation, as the services that use a role see it. IAM is eventually consistent
//! (IAM user guide, "Changes that I make are not always immediately visible"): for
//! `iam_propagation` after a role is created or its policies change, EKS and SSM do not see
//! it yet and answer the messages the Terraform AWS provider retries on
//! (`internal/service/eks/cluster.go` resourceClusterCreate, `access_entry.go`,
//! `internal/service/ssm/activation.go`). moto's IAM, which the testbed forwards to, is
//! consistent at once, so the testbed watches the IAM calls it forwards.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Until when each kind of change is still propagating.
#[derive(Default)]
struct RoleChanges {
    created: Option<Instant>,
    policies: Option<Instant>,
    trust: Option<Instant>,
    /// How many times a service was told the role is not usable yet, to vary the message.
    refusals: usize,
}

/// What a service sees of a role during propagation.
#[derive(Debug, PartialEq)]
pub enum Propagation {
    /// Created moments ago: not visible, or its trust not yet effective.
    Role,
    /// Its trust policy changed moments ago.
    Trust,
    /// A policy was attached or put moments ago.
    Policies,
}

#[derive(Default)]
pub struct IamWatch {
    roles: HashMap<String, RoleChanges>,
}

impl IamWatch {
    /// Notes a successful IAM call the testbed forwarded to moto: its change reaches other
    /// services once `window` has passed.
    pub fn observe(&mut self, params: &[(String, String)], window: Duration) {
        let get = |k: &str| {
            params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let (Some(action), Some(role)) = (get("Action"), get("RoleName")) else {
            return;
        };
        let now = Some(Instant::now() + window);
        let changes = self.roles.entry(role).or_default();
        match action.as_str() {
            "CreateRole" => {
                *changes = RoleChanges {
                    created: now,
                    ..RoleChanges::default()
                }
            }
            "AttachRolePolicy" | "PutRolePolicy" | "DetachRolePolicy" | "DeleteRolePolicy" => {
                changes.policies = now
            }
            "UpdateAssumeRolePolicy" => changes.trust = now,
            _ => {}
        }
    }

    /// How the role looks to a service now, or None once every change has propagated.
    pub fn propagating(&self, role_name: &str) -> Option<Propagation> {
        let c = self.roles.get(role_name)?;
        let recent = |until: Option<Instant>| until.is_some_and(|t| Instant::now() < t);
        if recent(c.created) {
            Some(Propagation::Role)
        } else if recent(c.trust) {
            Some(Propagation::Trust)
        } else if recent(c.policies) {
            Some(Propagation::Policies)
        } else {
            None
        }
    }

    /// Counts a refusal and returns how many came before it.
    pub fn refuse(&mut self, role_name: &str) -> usize {
        let c = self.roles.entry(role_name.to_string()).or_default();
        c.refusals += 1;
        c.refusals - 1
    }
}

/// The role name in a role ARN (`arn:aws:iam::1:role/path/name` → `name`).
pub fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// What EKS CreateCluster answers while the cluster role propagates, varied the way EKS
/// varies it (the messages the Terraform AWS provider lists).
pub fn cluster_role_message(p: &Propagation, role_arn: &str, refusals: usize) -> String {
    match p {
        Propagation::Role => [
            format!("roleArn, {role_arn}, does not exist"),
            "Role could not be assumed because the trusted entity is not correct".to_string(),
            "Error in role params".to_string(),
        ][refusals % 3]
            .clone(),
        Propagation::Trust => {
            "Role could not be assumed because the trusted entity is not correct".to_string()
        }
        Propagation::Policies => [
            "The provided role doesn't have the Amazon EKS Managed Policies associated with it. Please ensure the following policy is attached: arn:aws:iam::aws:policy/AmazonEKSClusterPolicy".to_string(),
            "IAM role's policy must include the `ec2:DescribeSubnets` action".to_string(),
        ][refusals % 2]
            .clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(action: &str, role: &str) -> Vec<(String, String)> {
        vec![
            ("Action".into(), action.into()),
            ("RoleName".into(), role.into()),
        ]
    }

    #[test]
    fn changes_propagate_after_the_window() {
        let mut w = IamWatch::default();
        w.observe(&params("CreateRole", "r"), Duration::from_secs(60));
        assert_eq!(w.propagating("r"), Some(Propagation::Role));
        w.observe(&params("CreateRole", "quick"), Duration::ZERO);
        assert_eq!(w.propagating("quick"), None);
        w.observe(
            &params("AttachRolePolicy", "quick"),
            Duration::from_secs(60),
        );
        assert_eq!(w.propagating("quick"), Some(Propagation::Policies));
        assert_eq!(w.propagating("other"), None);
    }

    #[test]
    fn messages_vary_like_eks() {
        let arn = "arn:aws:iam::123456789012:role/r";
        let seen: Vec<String> = (0..3)
            .map(|n| cluster_role_message(&Propagation::Role, arn, n))
            .collect();
        assert!(seen[0].contains("does not exist"));
        assert!(seen[1].contains("trusted entity is not correct"));
        assert!(seen[2].contains("Error in role params"));
        assert!(cluster_role_message(&Propagation::Policies, arn, 0)
            .contains("Amazon EKS Managed Policies"));
    }
}
