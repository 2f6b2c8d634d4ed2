//! IAM documents for the roles the resource creates, following AWS's own hybrid nodes
//! templates (aws/eks-hybrid `example/hybrid-ssm-cfn.yaml`, `example/hybrid-ira-cfn.yaml`,
//! `test/e2e/credentials/cfn-templates/hybrid-cfn.yaml`) and the EKS user guide
//! ("Prepare credentials for hybrid nodes"), plus eks:ListAccessEntries, which nodeadm's
//! init checks need.

use serde_json::{json, Value as Json};

use super::spec::CredentialsProvider;

pub const NODES_INLINE_POLICY: &str = "EKSHybridNodes";
pub const CLUSTER_MANAGED_POLICY: &str = "AmazonEKSClusterPolicy";
/// The managed policies this provider attaches to a nodes role, for either provider.
pub const NODES_MANAGED_POLICIES: [&str; 2] = [
    "AmazonSSMManagedInstanceCore",
    "AmazonEC2ContainerRegistryPullOnly",
];
/// The tag the SSM activation carries, and the nodes role's deregistration permission is
/// conditioned on, as the EKS user guide's example does.
pub const CLUSTER_ARN_TAG: &str = "EKSClusterARN";
/// What the EKS Pod Identity agent calls with the node's credentials.
pub const POD_IDENTITY_ACTION: &str = "eks-auth:AssumeRoleForPodIdentity";

/// SSM nodes need SSM's managed-instance policy and ECR; IAM Roles Anywhere nodes only ECR,
/// as AWS's IRA template.
pub fn nodes_managed_policies(provider: &CredentialsProvider) -> &'static [&'static str] {
    match provider {
        CredentialsProvider::Ssm => &NODES_MANAGED_POLICIES,
        CredentialsProvider::Ira => &NODES_MANAGED_POLICIES[1..],
    }
}

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

/// Where the nodes role lives: what its documents name.
pub struct Scope<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
}

/// SSM: ssm.amazonaws.com, limited to this account's activations in this region. IRA:
/// rolesanywhere.amazonaws.com for certificates from our trust anchor only, and a node may
/// take only the role session named after its own certificate's CN (AWS's IRA template), so
/// one node's certificate cannot claim another node's name.
pub fn nodes_trust_policy(
    provider: &CredentialsProvider,
    scope: &Scope<'_>,
    trust_anchor_arn: Option<&str>,
) -> Json {
    let Scope {
        partition,
        region,
        account,
    } = scope;
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
        CredentialsProvider::Ira => {
            let anchor = trust_anchor_arn.unwrap_or_default();
            json!({
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "rolesanywhere.amazonaws.com"},
                        "Action": ["sts:TagSession", "sts:SetSourceIdentity"],
                        "Condition": {"ArnEquals": {"aws:SourceArn": anchor}}
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "rolesanywhere.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "StringEquals": {"sts:RoleSessionName": "${aws:PrincipalTag/x509Subject/CN}"},
                            "ArnEquals": {"aws:SourceArn": anchor}
                        }
                    }
                ]
            })
        }
    }
}

/// eks:DescribeCluster and eks:ListAccessEntries on this cluster only. For SSM also
/// ssm:DescribeInstanceInformation, and deregistration of managed instances of this region
/// and account that carry the cluster's tag (from the activation they registered with), as
/// AWS's SSM template and the user guide scope it. With `pod_identity`, what the EKS Pod
/// Identity agent needs, on `*` as the EKS user guide and terraform-aws-eks grant it (the
/// action takes no resource narrower than a cluster, and EKS answers only for roles
/// associated in the cluster the token comes from).
pub fn nodes_inline_policy(
    provider: &CredentialsProvider,
    cluster_arn: &str,
    scope: &Scope<'_>,
    pod_identity: bool,
) -> Json {
    let mut statements = vec![json!({
        "Sid": "EKSHybridNodesClusterAccess",
        "Effect": "Allow",
        "Action": ["eks:DescribeCluster", "eks:ListAccessEntries"],
        "Resource": cluster_arn
    })];
    if *provider == CredentialsProvider::Ssm {
        let Scope {
            partition,
            region,
            account,
        } = scope;
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
            "Resource": format!("arn:{partition}:ssm:{region}:{account}:managed-instance/*"),
            "Condition": {"StringEquals": {format!("ssm:resourceTag/{CLUSTER_ARN_TAG}"): cluster_arn}}
        }));
    }
    if pod_identity {
        statements.push(json!({
            "Sid": "EKSPodIdentityAgent",
            "Effect": "Allow",
            "Action": POD_IDENTITY_ACTION,
            "Resource": "*"
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Whether two policy documents say the same thing, as IAM reads them: statement order,
/// action order, and `"x"` versus `["x"]` do not matter.
pub fn equivalent(a: &Json, b: &Json) -> bool {
    normalize(a, None) == normalize(b, None)
}

fn normalize(v: &Json, key: Option<&str>) -> Json {
    match v {
        Json::Object(m) => {
            let object = Json::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), normalize(v, Some(k))))
                    .collect(),
            );
            if key == Some("Statement") {
                Json::Array(vec![object])
            } else {
                object
            }
        }
        Json::Array(items) => {
            let mut items: Vec<Json> = items.iter().map(|i| normalize(i, None)).collect();
            items.sort_by_key(|i| i.to_string());
            items.dedup();
            Json::Array(items)
        }
        Json::String(_) if !matches!(key, None | Some("Version" | "Sid" | "Effect")) => {
            Json::Array(vec![v.clone()])
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCOPE: Scope<'static> = Scope {
        partition: "aws",
        region: "us-west-2",
        account: "123456789012",
    };

    #[test]
    fn ira_trust_ties_session_names_to_certificates_from_our_anchor() {
        let p = nodes_trust_policy(&CredentialsProvider::Ira, &SCOPE, Some("arn:ta"));
        let statements = p["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 2);
        for s in statements {
            assert_eq!(s["Principal"]["Service"], "rolesanywhere.amazonaws.com");
            assert_eq!(s["Condition"]["ArnEquals"]["aws:SourceArn"], "arn:ta");
        }
        let assume = statements
            .iter()
            .find(|s| s["Action"] == "sts:AssumeRole")
            .unwrap();
        assert_eq!(
            assume["Condition"]["StringEquals"]["sts:RoleSessionName"],
            "${aws:PrincipalTag/x509Subject/CN}"
        );
    }

    #[test]
    fn ssm_trust_is_conditioned_on_account_and_region() {
        let p = nodes_trust_policy(&CredentialsProvider::Ssm, &SCOPE, None);
        let c = &p["Statement"][0]["Condition"];
        assert_eq!(c["StringEquals"]["aws:SourceAccount"], "123456789012");
        assert_eq!(
            c["ArnEquals"]["aws:SourceArn"],
            "arn:aws:ssm:us-west-2:123456789012:*"
        );
    }

    #[test]
    fn inline_policy_is_scoped_to_the_cluster() {
        let cluster = "arn:aws:eks:us-west-2:123456789012:cluster/c";
        let p = nodes_inline_policy(&CredentialsProvider::Ira, cluster, &SCOPE, false);
        assert_eq!(p["Statement"].as_array().unwrap().len(), 1);
        assert_eq!(p["Statement"][0]["Resource"], cluster);
        let ssm = nodes_inline_policy(&CredentialsProvider::Ssm, cluster, &SCOPE, false);
        let deregister = &ssm["Statement"][2];
        assert_eq!(
            deregister["Resource"],
            "arn:aws:ssm:us-west-2:123456789012:managed-instance/*"
        );
        assert_eq!(
            deregister["Condition"]["StringEquals"]["ssm:resourceTag/EKSClusterARN"],
            cluster
        );
    }

    #[test]
    fn either_role_may_serve_the_pod_identity_agent() {
        let cluster = "arn:aws:eks:us-west-2:123456789012:cluster/c";
        for p in [CredentialsProvider::Ssm, CredentialsProvider::Ira] {
            let with = nodes_inline_policy(&p, cluster, &SCOPE, true);
            let agent = with["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["Action"] == "eks-auth:AssumeRoleForPodIdentity")
                .expect("the agent's statement");
            assert_eq!(agent["Resource"], "*");
            let without = nodes_inline_policy(&p, cluster, &SCOPE, false);
            assert!(!without.to_string().contains("eks-auth"));
        }
    }

    #[test]
    fn ira_roles_get_ecr_but_not_ssm() {
        assert_eq!(
            nodes_managed_policies(&CredentialsProvider::Ira),
            ["AmazonEC2ContainerRegistryPullOnly"]
        );
        assert_eq!(nodes_managed_policies(&CredentialsProvider::Ssm).len(), 2);
    }

    #[test]
    fn equivalence_ignores_order_and_singletons() {
        let a = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["b", "a"], "Resource": "*"}]});
        let b = json!({"Statement": {"Resource": ["*"], "Action": ["a", "b"], "Effect": "Allow"}, "Version": "2012-10-17"});
        assert!(equivalent(&a, &b));
        let c = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": ["a", "b"], "Resource": "*"}]});
        assert!(!equivalent(&a, &c));
    }
}
