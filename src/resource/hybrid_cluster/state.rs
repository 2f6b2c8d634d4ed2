//! Builds the resource's state from the plan (or prior state), the inventory and what AWS
//! reported, leaving no unknown behind.

use super::inventory::Inventory;
use super::model::ClusterSpec;
use super::observe::Observed;
use crate::plugin::Value;

pub fn build(base: &Value, inv: &Inventory, obs: &Observed, spec: &ClusterSpec) -> Value {
    let mut s = base.clone();
    s.set("id", Value::string(&spec.name));
    if let Some(c) = &obs.cluster {
        s.set("arn", Value::opt_string(c.arn()));
        s.set("endpoint", Value::opt_string(c.endpoint()));
        s.set(
            "certificate_authority_data",
            Value::opt_string(c.certificate_authority().and_then(|a| a.data())),
        );
        s.set("status", Value::opt_string(c.status().map(|x| x.as_str())));
        s.set("platform_version", Value::opt_string(c.platform_version()));
        s.set("kubernetes_version", Value::opt_string(c.version()));
        let vpc_cfg = c.resources_vpc_config();
        s.set(
            "cluster_security_group_id",
            Value::opt_string(vpc_cfg.and_then(|v| v.cluster_security_group_id())),
        );
        if let Some(v) = vpc_cfg {
            s.set(
                "endpoint_public_access",
                Value::Bool(v.endpoint_public_access()),
            );
            s.set(
                "endpoint_private_access",
                Value::Bool(v.endpoint_private_access()),
            );
        }
        if let Some(tags) = c.tags() {
            // Tags changed outside Terraform show as drift on tags_all.
            let observed = tags
                .iter()
                .filter(|(k, _)| k.as_str() != super::names::OWNERSHIP_TAG)
                .map(|(k, v)| (k.clone(), v.clone()));
            s.set(
                "tags_all",
                Value::string_map(observed.collect::<std::collections::BTreeMap<_, _>>()),
            );
        }
        if let Some(cidr) = c
            .kubernetes_network_config()
            .and_then(|k| k.service_ipv4_cidr())
        {
            s.set("service_ipv4_cidr", Value::string(cidr));
        }
    } else if obs.statuses.keys().any(|k| k.starts_with("cluster/")) {
        s.set("status", Value::string("DELETED"));
    }
    s.set("vpc_id", Value::opt_string(inv.vpc_id.clone()));
    s.set(
        "public_subnet_ids",
        Value::string_list(inv.public_subnet_ids.clone()),
    );
    s.set(
        "private_subnet_ids",
        Value::string_list(inv.private_subnet_ids.clone()),
    );
    s.set(
        "control_plane_security_group_id",
        Value::opt_string(inv.control_plane_security_group_id.clone()),
    );
    s.set(
        "vpc_gateway_attachment_id",
        Value::opt_string(inv.gateway_attachment_id.clone()),
    );
    let cluster_role = spec
        .cluster_role_arn
        .clone()
        .filter(|_| inv.cluster_role_name.is_none())
        .or(obs.cluster_role_arn.clone());
    keep_or_set(&mut s, "cluster_role_arn", cluster_role);
    keep_or_set(
        &mut s,
        "remote_nodes_role_arn",
        spec.remote.role_arn.clone().or(obs.nodes_role_arn.clone()),
    );
    keep_or_set(
        &mut s,
        "remote_nodes_trust_anchor_arn",
        obs.trust_anchor_arn.clone(),
    );
    keep_or_set(
        &mut s,
        "remote_nodes_anywhere_profile_arn",
        obs.profile_arn.clone(),
    );
    keep_or_set(&mut s, "access_entry_arn", obs.access_entry_arn.clone());
    s.set("owned_objects", Value::string_map(obs.shown()));
    let region = s
        .get("arn")
        .as_str()
        .and_then(|arn| arn.split(':').nth(3))
        .map(str::to_string);
    if let Some(region) = region {
        let arn = |k: &str| s.get(k).as_str().map(str::to_string);
        let ira = (
            arn("remote_nodes_trust_anchor_arn"),
            arn("remote_nodes_anywhere_profile_arn"),
            arn("remote_nodes_role_arn"),
        );
        s.set(
            "node_config",
            Value::string(node_config(spec, &region, ira)),
        );
    }
    if let (Some(Value::List(blocks)), Some(a)) = (s.get_mut("ssm_activation"), &inv.ssm_activation)
    {
        for b in blocks {
            b.set("activation_id", Value::string(&a.id));
        }
    }
    if let Some(Value::List(vpcs)) = s.get_mut("vpc") {
        if let Some(vpc) = vpcs.first_mut() {
            if vpc.get("availability_zones").is_unknown() {
                vpc.set(
                    "availability_zones",
                    Value::string_list(inv.availability_zones.clone()),
                );
            }
        }
    }
    unknowns_to_null(&mut s);
    s
}

/// AWS returns an activation's code only when it creates it, so it comes from the apply.
pub fn set_activation_code(state: &mut Value, code: &str) {
    if let Some(Value::List(blocks)) = state.get_mut("ssm_activation") {
        for b in blocks {
            b.set("activation_code", Value::string(code));
        }
    }
}

/// An ARN AWS did not report this time (object drifted away) keeps its last known value, so
/// drift shows in `owned_objects` rather than as a flapping ARN.
fn keep_or_set(s: &mut Value, key: &str, v: Option<String>) {
    match v {
        Some(v) => s.set(key, Value::string(v)),
        None if s.get(key).is_unknown() => s.set(key, Value::Null),
        None => {}
    }
}

fn unknowns_to_null(v: &mut Value) {
    match v {
        Value::Unknown => *v = Value::Null,
        Value::List(items) => items.iter_mut().for_each(unknowns_to_null),
        Value::Map(entries) => entries.values_mut().for_each(unknowns_to_null),
        _ => {}
    }
}

/// The nodeadm configuration hybrid nodes join with. Placeholders in <ANGLE_BRACKETS> are per
/// node or per activation and never known to Terraform.
pub fn node_config(
    spec: &ClusterSpec,
    region: &str,
    (anchor, profile, role): (Option<String>, Option<String>, Option<String>),
) -> String {
    let credentials = match spec.remote.provider {
        super::model::CredentialsProvider::Ssm => {
            "    ssm:\n      activationCode: <SSM_ACTIVATION_CODE>\n      activationId: <SSM_ACTIVATION_ID>\n".to_string()
        }
        super::model::CredentialsProvider::Ira => {
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
    use crate::resource::hybrid_cluster::model::ClusterSpec;
    use crate::resource::hybrid_cluster::schema::schema;

    fn spec(provider: &str) -> ClusterSpec {
        let mut v = schema().block.null_object();
        v.set("name", Value::string("demo"));
        let mut iam = Value::Map(Default::default());
        iam.set("provider", Value::string(provider));
        let mut rnc = Value::Map(Default::default());
        rnc.set("iam", Value::List(vec![iam]));
        v.set("remote_network_config", Value::List(vec![rnc]));
        ClusterSpec::from_value(&v)
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
