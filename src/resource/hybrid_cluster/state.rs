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
    s.set("owned_objects", Value::string_map(obs.statuses.clone()));
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
