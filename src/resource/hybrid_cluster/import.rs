//! Import by cluster name: the domain finds the cluster and what of it is ours
//! (`cluster::discover`); this writes the state (and inventory) with which a plan of the
//! matching configuration shows no changes.

use std::collections::BTreeMap;

use tfplugin6::model::{read, ToValue};
use tfplugin6::{Diagnostics, One, Outcome, Unknown, Value};

use super::model::{
    ClusterConfig, ClusterState, Iam, Networks, RemoteNetworkConfig, Strings, Vpc,
    DEFAULT_NAT_GATEWAY, DEFAULT_VPC_CIDR,
};
use crate::aws::{eks, AwsClients};
use crate::cluster::discover::{discover, Discovered};
use crate::cluster::spec::{CredentialsProvider, NatMode, VpcSpec};
use crate::provider::report::report;

pub async fn import(
    aws: &AwsClients,
    name: &str,
    default_tags: &BTreeMap<String, String>,
) -> Outcome {
    let mut d = Diagnostics::default();
    match discover(aws, name).await {
        Ok(Some(found)) => Outcome::new(
            state_of(&found, default_tags).to_value(),
            found.inventory.to_private(),
            d,
        ),
        Ok(None) => {
            d.error(
                "Cannot import eks_hybrid_cluster",
                format!("No EKS cluster named {name:?} exists in this account and region."),
            );
            Outcome::new(Value::Null, Vec::new(), d)
        }
        Err(e) => {
            report(vec![e], &mut d);
            Outcome::new(Value::Null, Vec::new(), d)
        }
    }
}

/// A block of the model with every attribute null (and `name` set for the cluster, which
/// requires it): what import starts from.
fn empty<T: tfplugin6::model::Object>(name: &str) -> T {
    let mut v = T::schema_block().null_object();
    if T::schema_block()
        .find_attribute(ClusterConfig::name)
        .is_some()
    {
        v.set(ClusterConfig::name, Value::string(name));
    }
    read(&v).expect("a null object with its required name fits its own model")
}

fn strings(items: Vec<String>) -> Unknown<Option<Strings>> {
    Unknown::some(items.into_iter().map(Unknown::Known).collect())
}

/// The `vpc` block: a VPC brought by ID, or ours with the settings that differ from eksctl's
/// defaults (none: no block).
fn vpc_block(vpc: &VpcSpec) -> Option<Vpc> {
    match vpc {
        VpcSpec::Existing {
            id,
            subnet_ids,
            security_group_ids,
        } => Some(Vpc {
            id: Unknown::some(id.clone()),
            subnet_ids: strings(subnet_ids.clone()),
            security_group_ids: if security_group_ids.is_empty() {
                Unknown::null()
            } else {
                strings(security_group_ids.clone())
            },
            ..empty("")
        }),
        VpcSpec::Create {
            cidr,
            availability_zones,
            nat,
        } => {
            let nat = match nat {
                NatMode::Single => "Single",
                NatMode::HighlyAvailable => "HighlyAvailable",
                NatMode::Disable => "Disable",
            };
            let defaults = cidr == DEFAULT_VPC_CIDR && nat == DEFAULT_NAT_GATEWAY;
            (!defaults).then(|| Vpc {
                cidr: Unknown::some(cidr.clone()),
                nat_gateway: Unknown::some(nat.to_string()),
                availability_zones: strings(availability_zones.clone()),
                ..empty("")
            })
        }
    }
}

/// The `iam` block: none for SSM with our role, the provider and the trust anchor's source
/// for IAM Roles Anywhere with ours, the role for a role of the user's.
fn iam_block(found: &Discovered) -> Option<Iam> {
    let remote = &found.spec.remote;
    let provider = match remote.provider {
        CredentialsProvider::Ssm => "SSM",
        CredentialsProvider::Ira => "IRA",
    };
    if remote.provider == CredentialsProvider::Ssm && remote.role_arn.is_none() {
        return None;
    }
    Some(Iam {
        provider: Unknown::some(provider.to_string()),
        ca_bundle_cert: Unknown::Known(remote.ca_bundle_cert.clone()),
        acm_pca_arn: Unknown::Known(remote.acm_pca_arn.clone()),
        role_arn: Unknown::Known(remote.role_arn.clone()),
    })
}

fn state_of(found: &Discovered, default_tags: &BTreeMap<String, String>) -> ClusterState {
    let (cluster, spec) = (&found.cluster, &found.spec);
    let mut s: ClusterState = empty(&spec.name);
    let tags: BTreeMap<String, Unknown<String>> = spec
        .tags
        .iter()
        .filter(|(k, val)| default_tags.get(*k) != Some(*val))
        .map(|(k, v)| (k.clone(), Unknown::Known(v.clone())))
        .collect();
    s.config.tags = Unknown::Known((!tags.is_empty()).then_some(tags));
    s.tags_all = Unknown::some(spec.tags.clone());
    s.config.pod_routes_by_hybrid_nodes_gateway = Unknown::some(spec.remote.pod_routes_by_gateway);
    s.config.authentication_mode = Unknown::Known(
        cluster
            .access_config()
            .and_then(|a| a.authentication_mode())
            .map(|m| m.as_str().to_string()),
    );
    s.config.cluster_role_arn = Unknown::some(cluster.role_arn().unwrap_or_default().to_string());
    // The ARN names the cluster for good: import returns it as the identity.
    s.arn = Unknown::Known(cluster.arn().map(str::to_string));
    s.created_at = Unknown::Known(eks::created_at(cluster));
    s.config.vpc = Unknown::Known(One(vpc_block(&spec.vpc)));
    let networks = |cidrs: &[String]| -> Unknown<Vec<Networks>> {
        Unknown::Known(if cidrs.is_empty() {
            vec![]
        } else {
            vec![Networks {
                cidrs: Unknown::Known(cidrs.iter().cloned().map(Unknown::Known).collect()),
            }]
        })
    };
    s.config.remote_network_config = Unknown::Known(One(Some(RemoteNetworkConfig {
        vpc_gateway_id: Unknown::Known(spec.remote.gateway.as_ref().map(|g| g.id().to_string())),
        remote_node_networks: networks(&spec.remote.node_cidrs),
        remote_pod_networks: networks(&spec.remote.pod_cidrs),
        iam: Unknown::Known(One(iam_block(found))),
    })));
    s.config.nodes_pod_identity = Unknown::some(spec.remote.pod_identity);
    s.config.role_permissions_boundary = Unknown::Known(spec.role_permissions_boundary.clone());
    s.config.deregister_nodes_on_destroy = Unknown::some(true);
    s.id = Unknown::some(spec.name.clone());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_starts_from_blank_models() {
        let s: ClusterState = empty("demo");
        assert_eq!(s.config.name.known().map(String::as_str), Some("demo"));
        assert!(s.arn.is_null());
        let v: Vpc = empty("");
        assert!(v.id.is_null() && v.cidr.is_null());
    }
}
