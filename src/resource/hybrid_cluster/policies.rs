//! IAM documents for the roles the resource creates, following eksctl and AWS's own templates
//! (with the additions the reference notes: eks:ListAccessEntries, SSM source conditions).

use serde_json::{json, Value as Json};

use super::model::CredentialsProvider;

pub const NODES_INLINE_POLICY: &str = "EKSHybridNodes";
pub const CLUSTER_MANAGED_POLICY: &str = "AmazonEKSClusterPolicy";
pub const NODES_MANAGED_POLICIES: [&str; 2] = [
    "AmazonSSMManagedInstanceCore",
    "AmazonEC2ContainerRegistryPullOnly",
];

pub fn managed_policy_arn(partition: &str, name: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/{name}")
}

pub fn cluster_trust_policy() -> Json {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"]
        }]
    })
}

/// SSM: ssm.amazonaws.com, limited to this account's activations in this region (as AWS's
/// reference template). IRA: rolesanywhere.amazonaws.com, limited to our trust anchor.
pub fn nodes_trust_policy(
    provider: &CredentialsProvider,
    partition: &str,
    region: &str,
    account: &str,
    trust_anchor_arn: Option<&str>,
) -> Json {
    match provider {
        CredentialsProvider::Ssm => json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "ssm.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnEquals": {"aws:SourceArn": format!("arn:{partition}:ssm:{region}:{account}:*")}
                }
            }]
        }),
        CredentialsProvider::Ira => json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "rolesanywhere.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                "Condition": {"ArnEquals": {"aws:SourceArn": trust_anchor_arn.unwrap_or_default()}}
            }]
        }),
    }
}

/// eks:DescribeCluster and eks:ListAccessEntries (nodeadm's init checks fail without the
/// latter) on this cluster only; for SSM also deregistration of the nodes' managed instances.
pub fn nodes_inline_policy(
    provider: &CredentialsProvider,
    cluster_arn: &str,
    partition: &str,
) -> Json {
    let mut statements = vec![json!({
        "Sid": "EKSHybridNodesClusterAccess",
        "Effect": "Allow",
        "Action": ["eks:DescribeCluster", "eks:ListAccessEntries"],
        "Resource": cluster_arn
    })];
    if *provider == CredentialsProvider::Ssm {
        statements.push(json!({
            "Sid": "SSMDescribe",
            "Effect": "Allow",
            "Action": "ssm:DescribeInstanceInformation",
            "Resource": "*"
        }));
        statements.push(json!({
            "Sid": "SSMDeregister",
            "Effect": "Allow",
            "Action": "ssm:DeregisterManagedInstance",
            "Resource": format!("arn:{partition}:ssm:*:*:managed-instance/*")
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ira_trust_is_conditioned_on_the_trust_anchor() {
        let p = nodes_trust_policy(
            &CredentialsProvider::Ira,
            "aws",
            "us-west-2",
            "123456789012",
            Some("arn:ta"),
        );
        let s = &p["Statement"][0];
        assert_eq!(s["Principal"]["Service"], "rolesanywhere.amazonaws.com");
        assert_eq!(s["Condition"]["ArnEquals"]["aws:SourceArn"], "arn:ta");
        assert_eq!(s["Action"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn ssm_trust_is_conditioned_on_account_and_region() {
        let p = nodes_trust_policy(
            &CredentialsProvider::Ssm,
            "aws",
            "us-west-2",
            "123456789012",
            None,
        );
        let c = &p["Statement"][0]["Condition"];
        assert_eq!(c["StringEquals"]["aws:SourceAccount"], "123456789012");
        assert_eq!(
            c["ArnEquals"]["aws:SourceArn"],
            "arn:aws:ssm:us-west-2:123456789012:*"
        );
    }

    #[test]
    fn inline_policy_grants_list_access_entries_on_the_cluster_only() {
        let p = nodes_inline_policy(
            &CredentialsProvider::Ira,
            "arn:aws:eks:r:1:cluster/c",
            "aws",
        );
        assert_eq!(p["Statement"].as_array().unwrap().len(), 1);
        assert_eq!(p["Statement"][0]["Resource"], "arn:aws:eks:r:1:cluster/c");
        assert!(p["Statement"][0]["Action"]
            .as_array()
            .unwrap()
            .contains(&json!("eks:ListAccessEntries")));
        let ssm = nodes_inline_policy(&CredentialsProvider::Ssm, "arn:c", "aws");
        assert_eq!(ssm["Statement"].as_array().unwrap().len(), 3);
    }
}
