//! Builds the resource's state from the plan (or prior state), the inventory and what AWS
//! reported, leaving no unknown behind.

use std::collections::BTreeMap;

use tfplugin6::{One, Unknown};

use super::model::ClusterState;
use crate::cluster::inventory::Inventory;
use crate::cluster::objects::ObjectKey;
use crate::cluster::observe::Observed;
use crate::cluster::spec::ClusterSpec;

fn known<T>(v: Option<T>) -> Unknown<Option<T>> {
    Unknown::Known(v)
}

fn text(v: Option<&str>) -> Unknown<Option<String>> {
    known(v.map(str::to_string))
}

pub fn build(
    base: &ClusterState,
    inv: &Inventory,
    obs: &Observed,
    spec: &ClusterSpec,
) -> ClusterState {
    let mut s = base.clone();
    s.id = Unknown::some(spec.name.clone());
    // State from before this setting existed reads as its default, so upgrading plans nothing.
    s.config
        .pod_routes_by_hybrid_nodes_gateway
        .or_default_to(false);
    // Clusters made before this setting existed have roles without the permission: the
    // plan shows turning it on rather than drift in the role's policy.
    s.config.nodes_pod_identity.or_default_to(false);
    s.config.deregister_nodes_on_destroy.or_default_to(true);
    if let Some(c) = &obs.cluster {
        s.arn = text(c.arn());
        s.endpoint = text(c.endpoint());
        s.certificate_authority_data = text(c.certificate_authority().and_then(|a| a.data()));
        s.status = text(c.status().map(|x| x.as_str()));
        s.platform_version = text(c.platform_version());
        // A plan that kept it null (a state from before it was kept, planned without a
        // refresh) promised null; the next read records it.
        if !matches!(s.created_at, Unknown::Known(None)) {
            s.created_at = known(crate::aws::eks::created_at(c));
        }
        s.config.kubernetes_version = text(c.version());
        let vpc_cfg = c.resources_vpc_config();
        s.cluster_security_group_id = text(vpc_cfg.and_then(|v| v.cluster_security_group_id()));
        if let Some(v) = vpc_cfg {
            s.config.endpoint_public_access = Unknown::some(v.endpoint_public_access());
            s.config.endpoint_private_access = Unknown::some(v.endpoint_private_access());
        }
        if let Some(tags) = c.tags() {
            // Tags changed outside Terraform show as drift on tags_all.
            let observed: BTreeMap<String, String> = tags
                .iter()
                .filter(|(k, _)| k.as_str() != crate::cluster::names::OWNERSHIP_TAG)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            s.tags_all = Unknown::some(observed);
        }
        if let Some(cidr) = c
            .kubernetes_network_config()
            .and_then(|k| k.service_ipv4_cidr())
        {
            s.config.service_ipv4_cidr = Unknown::some(cidr.to_string());
        }
    } else if obs
        .statuses
        .keys()
        .any(|k| matches!(k, ObjectKey::Cluster(_)))
    {
        s.status = Unknown::some("DELETED".into());
    }
    s.vpc_id = known(inv.vpc_id.clone());
    s.public_subnet_ids = Unknown::some(inv.public_subnet_ids.clone());
    s.private_subnet_ids = Unknown::some(inv.private_subnet_ids.clone());
    s.route_table_ids = Unknown::some(crate::cluster::observe::cluster_route_tables(inv));
    s.control_plane_security_group_id = known(inv.control_plane_security_group_id.clone());
    s.vpc_gateway_attachment_id = known(inv.gateway_attachment_id.clone());
    let cluster_role = spec
        .cluster_role_arn
        .clone()
        .filter(|_| inv.cluster_role_name.is_none())
        .or(obs.cluster_role_arn.clone());
    keep_or_set(&mut s.config.cluster_role_arn, cluster_role);
    keep_or_set(
        &mut s.remote_nodes_role_arn,
        spec.remote.role_arn.clone().or(obs.nodes_role_arn.clone()),
    );
    keep_or_set(
        &mut s.remote_nodes_trust_anchor_arn,
        obs.trust_anchor_arn.clone(),
    );
    keep_or_set(
        &mut s.remote_nodes_anywhere_profile_arn,
        obs.profile_arn.clone(),
    );
    keep_or_set(&mut s.access_entry_arn, obs.access_entry_arn.clone());
    let mut owned = obs.statuses.clone();
    // A refresh keeps the mark of an unfinished create until an apply completes it.
    if super::plan::is_unfinished(base) {
        owned.insert(
            ObjectKey::UnfinishedCreate,
            crate::cluster::objects::ObjectStatus::failed(),
        );
    }
    s.owned_objects = Unknown::some(owned);
    let region = s
        .arn
        .value()
        .and_then(|arn| arn.split(':').nth(3))
        .map(str::to_string);
    if let Some(region) = region {
        let arn = |v: &Unknown<Option<String>>| v.value().cloned();
        let ira = (
            arn(&s.remote_nodes_trust_anchor_arn),
            arn(&s.remote_nodes_anywhere_profile_arn),
            arn(&s.remote_nodes_role_arn),
        );
        s.node_config = Unknown::some(crate::cluster::node_config::node_config(spec, &region, ira));
    }
    if let (Some(block), Some(a)) = (
        s.config.ssm_activation.known_mut().and_then(One::get_mut),
        &inv.ssm_activation,
    ) {
        block.activation_id = Unknown::some(a.id.clone());
    }
    if let Some(vpc) = s.config.vpc.known_mut().and_then(One::get_mut) {
        let pre_existing = vpc.id.known().is_some_and(Option::is_some);
        if vpc.availability_zones.is_unknown() && pre_existing {
            vpc.availability_zones = Unknown::null();
        } else if vpc.availability_zones.is_unknown() {
            vpc.availability_zones = Unknown::some(
                inv.availability_zones
                    .iter()
                    .map(|z| Unknown::Known(z.clone()))
                    .collect(),
            );
        }
    }
    s
}

/// AWS returns an activation's code only when it creates it, so it comes from the apply.
pub fn set_activation_code(state: &mut ClusterState, code: &str) {
    if let Some(block) = state
        .config
        .ssm_activation
        .known_mut()
        .and_then(One::get_mut)
    {
        block.activation_code = Unknown::some(code.to_string());
    }
}

/// An ARN AWS did not report this time (object drifted away) keeps its last known value, so
/// drift shows in `owned_objects` rather than as a flapping ARN.
fn keep_or_set(slot: &mut Unknown<Option<String>>, v: Option<String>) {
    match v {
        Some(v) => *slot = Unknown::some(v),
        None if slot.is_unknown() => *slot = Unknown::null(),
        None => {}
    }
}
