//! The nodeadm `NodeConfig` hybrid nodes join with, as the resource and the data source
//! show it.

use super::spec::{ClusterSpec, CredentialsProvider};

/// The nodeadm configuration hybrid nodes join with. Placeholders in <ANGLE_BRACKETS> are per
/// node or per activation and never known to Terraform.
pub fn node_config(
    spec: &ClusterSpec,
    region: &str,
    (anchor, profile, role): (Option<String>, Option<String>, Option<String>),
) -> String {
    let credentials = match spec.remote.provider {
        CredentialsProvider::Ssm => {
            "    ssm:\n      activationCode: <SSM_ACTIVATION_CODE>\n      activationId: <SSM_ACTIVATION_ID>\n".to_string()
        }
        CredentialsProvider::Ira => {
            let or = |v: Option<String>, placeholder: &str| v.unwrap_or_else(|| placeholder.to_string());
            format!(
                "    iamRolesAnywhere:\n      nodeName: <NODE_NAME>\n      trustAnchorArn: {}\n      profileArn: {}\n      roleArn: {}\n      certificatePath: /etc/iam/pki/server.pem\n      privateKeyPath: /etc/iam/pki/server.key\n",
                or(anchor, "<TRUST_ANCHOR_ARN>"),
                or(profile, "<PROFILE_ARN>"),
                or(role, "<ROLE_ARN>"),
            )
        }
    };
    format!(
        "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: {}\n    region: {region}\n  hybrid:\n{credentials}",
        spec.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::spec::{parse_provider, NatMode, RemoteNetworks, Timeouts, VpcSpec};

    fn spec(provider: &str) -> ClusterSpec {
        let minutes = |m: u64| std::time::Duration::from_secs(m * 60);
        ClusterSpec {
            name: "demo".into(),
            kubernetes_version: None,
            force_update_version: false,
            deregister_nodes_on_destroy: true,
            tags: Default::default(),
            endpoint_public_access: true,
            endpoint_private_access: false,
            authentication_mode: "API_AND_CONFIG_MAP".into(),
            service_ipv4_cidr: None,
            cluster_role_arn: None,
            role_permissions_boundary: None,
            vpc: VpcSpec::Create {
                cidr: "192.168.0.0/16".into(),
                availability_zones: vec![],
                nat: NatMode::Single,
            },
            remote: RemoteNetworks {
                gateway: None,
                node_cidrs: vec!["10.80.146.0/24".into()],
                pod_cidrs: vec![],
                pod_routes_by_gateway: false,
                pod_identity: true,
                provider: parse_provider(provider).unwrap(),
                ca_bundle_cert: None,
                acm_pca_arn: None,
                role_arn: None,
            },
            ssm_activation: None,
            timeouts: Timeouts {
                create: minutes(40),
                update: minutes(60),
                delete: minutes(40),
            },
        }
    }

    #[test]
    fn ssm_node_config_leaves_the_activation_to_fill_in() {
        let yaml = node_config(&spec("SSM"), "us-west-2", (None, None, None));
        assert!(yaml.starts_with("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n"));
        assert!(yaml.contains("    name: demo\n    region: us-west-2\n"));
        assert!(
            yaml.contains("activationCode: <SSM_ACTIVATION_CODE>")
                && yaml.contains("activationId: <SSM_ACTIVATION_ID>")
        );
    }

    #[test]
    fn ira_node_config_carries_the_arns() {
        let yaml = node_config(
            &spec("ira"),
            "eu-west-1",
            (
                Some("arn:ta".into()),
                Some("arn:p".into()),
                Some("arn:r".into()),
            ),
        );
        assert!(yaml.contains("iamRolesAnywhere:\n      nodeName: <NODE_NAME>\n      trustAnchorArn: arn:ta\n      profileArn: arn:p\n      roleArn: arn:r\n"));
        assert!(yaml.contains("certificatePath: /etc/iam/pki/server.pem"));
        let byo = node_config(
            &spec("ira"),
            "eu-west-1",
            (None, None, Some("arn:r".into())),
        );
        assert!(byo.contains("trustAnchorArn: <TRUST_ANCHOR_ARN>"));
    }
}
