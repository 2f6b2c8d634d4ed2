//! The Terraform model and the domain's input: a planned configuration read as a
//! [`ClusterSpec`], and the public half of a state read as what it owns.

use std::collections::BTreeMap;
use std::time::Duration;

use tfplugin6::model::{known_elements, ToValue};
use tfplugin6::{Unknown, Value};

use super::model::{ClusterConfig, ClusterState, Networks};
use crate::cluster::apply::update::PriorArns;
use crate::cluster::inventory::{self, Inventory, PublicRecord};
use crate::cluster::spec::{
    parse_duration, parse_nat, parse_provider, ActivationSpec, ClusterSpec, CredentialsProvider,
    Gateway, NatMode, RemoteNetworks, Timeouts, VpcSpec, DEFAULT_AUTHENTICATION_MODE,
    DEFAULT_VPC_CIDR,
};

fn known<T: Clone>(v: &Unknown<Option<T>>) -> Option<T> {
    v.value().cloned()
}

/// Reads planned arguments, defaults filled by the plan. `tags` is the merged `tags_all`.
pub fn spec_of_config(c: &ClusterConfig, tags: BTreeMap<String, String>) -> ClusterSpec {
    let vpc = c.vpc.known().and_then(|v| v.get());
    let vpc = match vpc.and_then(|v| known(&v.id)) {
        Some(id) => VpcSpec::Existing {
            id,
            subnet_ids: vpc
                .map(|v| known_elements(&v.subnet_ids))
                .unwrap_or_default(),
            security_group_ids: vpc
                .map(|v| known_elements(&v.security_group_ids))
                .unwrap_or_default(),
        },
        None => VpcSpec::Create {
            cidr: vpc
                .and_then(|v| known(&v.cidr))
                .unwrap_or_else(|| DEFAULT_VPC_CIDR.into()),
            availability_zones: vpc
                .map(|v| known_elements(&v.availability_zones))
                .unwrap_or_default(),
            nat: vpc
                .and_then(|v| v.nat_gateway.value())
                .and_then(|n| parse_nat(n))
                .unwrap_or(NatMode::Single),
        },
    };
    let rnc = c.remote_network_config.known().and_then(|r| r.get());
    let iam = rnc.and_then(|r| r.iam.known()).and_then(|i| i.get());
    let cidrs_of = |networks: Option<&Unknown<Vec<Networks>>>| -> Vec<String> {
        networks
            .and_then(Unknown::known)
            .map(|ns| {
                ns.iter()
                    .filter_map(|n| n.cidrs.known())
                    .flatten()
                    .filter_map(|c| c.known().cloned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let remote = RemoteNetworks {
        gateway: rnc
            .and_then(|r| r.vpc_gateway_id.value())
            .and_then(|g| Gateway::parse(g)),
        node_cidrs: cidrs_of(rnc.map(|r| &r.remote_node_networks)),
        pod_cidrs: cidrs_of(rnc.map(|r| &r.remote_pod_networks)),
        pod_routes_by_gateway: known(&c.pod_routes_by_hybrid_nodes_gateway).unwrap_or(false),
        pod_identity: known(&c.nodes_pod_identity).unwrap_or(true),
        provider: iam
            .and_then(|i| i.provider.value())
            .and_then(|p| parse_provider(p))
            .unwrap_or(CredentialsProvider::Ssm),
        ca_bundle_cert: iam.and_then(|i| known(&i.ca_bundle_cert)),
        acm_pca_arn: iam.and_then(|i| known(&i.acm_pca_arn)),
        role_arn: iam.and_then(|i| known(&i.role_arn)),
    };
    let t = c.timeouts.known().and_then(|t| t.get());
    let timeout = |pick: fn(&super::model::Timeouts) -> &Unknown<Option<String>>,
                   default_min: u64| {
        t.and_then(|t| pick(t).value())
            .and_then(|s| parse_duration(s))
            .unwrap_or(Duration::from_secs(default_min * 60))
    };
    ClusterSpec {
        name: c.name.known().cloned().unwrap_or_default(),
        kubernetes_version: known(&c.kubernetes_version),
        force_update_version: known(&c.force_update_version).unwrap_or(false),
        deregister_nodes_on_destroy: known(&c.deregister_nodes_on_destroy).unwrap_or(true),
        tags,
        endpoint_public_access: known(&c.endpoint_public_access).unwrap_or(true),
        endpoint_private_access: known(&c.endpoint_private_access).unwrap_or(false),
        authentication_mode: known(&c.authentication_mode)
            .unwrap_or_else(|| DEFAULT_AUTHENTICATION_MODE.into()),
        service_ipv4_cidr: known(&c.service_ipv4_cidr),
        cluster_role_arn: known(&c.cluster_role_arn),
        role_permissions_boundary: known(&c.role_permissions_boundary),
        vpc,
        remote,
        ssm_activation: c
            .ssm_activation
            .known()
            .and_then(|a| a.get())
            .map(|a| ActivationSpec {
                registration_limit: known(&a.registration_limit).map_or(1, |n| n as i32),
                expiration: known(&a.expiration),
            }),
        timeouts: Timeouts {
            create: timeout(|t| &t.create, 40),
            update: timeout(|t| &t.update, 60),
            delete: timeout(|t| &t.delete, 40),
        },
    }
}

/// What a state says in public of the objects it owns.
pub fn public_record(state: &ClusterState) -> PublicRecord {
    let ids = |v: &Unknown<Option<Vec<String>>>| v.value().cloned().unwrap_or_default();
    PublicRecord {
        owned: state
            .owned_objects
            .value()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default(),
        created_at: state.created_at.value().cloned(),
        remote_nodes_role_arn: state.remote_nodes_role_arn.value().cloned(),
        vpc_id: state.vpc_id.value().cloned(),
        public_subnet_ids: ids(&state.public_subnet_ids),
        private_subnet_ids: ids(&state.private_subnet_ids),
        route_table_ids: ids(&state.route_table_ids),
    }
}

/// The desired configuration of a planned (or prior) state, with its merged tags.
pub fn spec_of(s: &ClusterState) -> ClusterSpec {
    spec_of_config(&s.config, s.tags_all.value().cloned().unwrap_or_default())
}

pub fn state_value(s: &ClusterState) -> Value {
    s.to_value().without_unknowns()
}

/// The private inventory, with when EKS created our cluster from the public state when the
/// private one does not have it (private state from before it was kept).
pub fn recorded_inventory(prior: Option<&ClusterState>, private: &[u8]) -> Inventory {
    let mut inv = Inventory::from_private(private);
    if inv.cluster_created_at.is_none() {
        inv.cluster_created_at = prior.and_then(|p| p.created_at.value().cloned());
    }
    inv
}

/// What a state holds: its private inventory, and the objects its public attributes name.
pub fn held_by(state: Option<&ClusterState>, private: &[u8]) -> Inventory {
    let from_state = state.map(|s| {
        inventory::recorded_in_state(&public_record(s), spec_of(s).remote.gateway.as_ref())
    });
    inventory::merge(
        Inventory::from_private(private),
        from_state.unwrap_or_default(),
    )
}

/// What the prior state knew of the objects whose identifiers change when made anew.
pub fn prior_arns(prior: &ClusterState) -> PriorArns {
    PriorArns {
        cluster: prior.arn.value().cloned(),
        trust_anchor: prior.remote_nodes_trust_anchor_arn.value().cloned(),
        profile: prior.remote_nodes_anywhere_profile_arn.value().cloned(),
    }
}
