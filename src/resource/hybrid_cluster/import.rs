//! Import by cluster name: the cluster is read from EKS, the objects this provider created for
//! it are found by name and by the ownership tag, and the result is a state (and inventory)
//! with which a plan of the matching configuration shows no changes.

use std::collections::BTreeMap;

use aws_sdk_eks::types::Cluster;

use tfplugin6::model::{read, ToValue};
use tfplugin6::{Diagnostics, One, Outcome, Unknown, Value};

use super::model::{
    ClusterConfig, ClusterState, Iam, Networks, RemoteNetworkConfig, Vpc, DEFAULT_NAT_GATEWAY,
    DEFAULT_VPC_CIDR,
};
use crate::aws::rolesanywhere::AnchorSource;
use crate::aws::{ec2, eks, iam, rolesanywhere, AwsClients, AwsError, AwsResult};
use crate::cluster::inventory::{Inventory, Route};
use crate::cluster::names::{self, OWNERSHIP_TAG};
use crate::cluster::policies;
use crate::cluster::spec::ClusterSpec;

pub async fn import(
    aws: &AwsClients,
    name: &str,
    default_tags: &BTreeMap<String, String>,
) -> Outcome {
    let mut d = Diagnostics::default();
    match discover(aws, name, default_tags).await {
        Ok(Some((state, inv))) => Outcome::new(state.to_value(), inv.to_private(), d),
        Ok(None) => {
            d.error(
                "Cannot import eks_hybrid_cluster",
                format!("No EKS cluster named {name:?} exists in this account and region."),
            );
            Outcome::new(Value::Null, Vec::new(), d)
        }
        Err(e) => {
            crate::provider::report::report(vec![e], &mut d);
            Outcome::new(Value::Null, Vec::new(), d)
        }
    }
}

/// The node and pod CIDRs of a cluster's `remoteNetworkConfig`.
pub fn remote_cidrs(cluster: &Cluster) -> (Vec<String>, Vec<String>) {
    let nodes = |networks: &[aws_sdk_eks::types::RemoteNodeNetwork]| -> Vec<String> {
        networks.iter().flat_map(|n| n.cidrs().to_vec()).collect()
    };
    let pods = |networks: &[aws_sdk_eks::types::RemotePodNetwork]| -> Vec<String> {
        networks.iter().flat_map(|n| n.cidrs().to_vec()).collect()
    };
    cluster
        .remote_network_config()
        .map_or((vec![], vec![]), |r| {
            (
                nodes(r.remote_node_networks()),
                pods(r.remote_pod_networks()),
            )
        })
}

fn owned(tags: &BTreeMap<String, String>, name: &str) -> bool {
    tags.get(OWNERSHIP_TAG).map(String::as_str) == Some(name)
}

struct Network {
    inv: Inventory,
    vpc_block: Option<Vpc>,
    gateway_id: Option<String>,
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

fn strings(items: Vec<String>) -> Unknown<Option<super::model::Strings>> {
    Unknown::some(items.into_iter().map(Unknown::Known).collect())
}

async fn discover(
    aws: &AwsClients,
    name: &str,
    default_tags: &BTreeMap<String, String>,
) -> AwsResult<Option<(ClusterState, Inventory)>> {
    let Some(cluster) = eks::describe_cluster(&aws.eks, name).await? else {
        return Ok(None);
    };
    let vpc_cfg = cluster
        .resources_vpc_config()
        .cloned()
        .unwrap_or_else(|| aws_sdk_eks::types::VpcConfigResponse::builder().build());
    let vpc_id = vpc_cfg.vpc_id().unwrap_or_default().to_string();
    let tags = ec2::vpc_tags(&aws.ec2, &vpc_id).await?.unwrap_or_default();
    let mut net = if owned(&tags, name) {
        discover_owned_network(aws, name, &vpc_id).await?
    } else {
        let ours = names::control_plane_sg(name);
        let sg = ec2::security_group_named(&aws.ec2, &vpc_id, &ours).await?;
        let user_sgs: Vec<String> = vpc_cfg
            .security_group_ids()
            .iter()
            .filter(|g| Some(*g) != sg.as_ref())
            .cloned()
            .collect();
        let block = Vpc {
            id: Unknown::some(vpc_id.clone()),
            subnet_ids: strings(vpc_cfg.subnet_ids().to_vec()),
            security_group_ids: if user_sgs.is_empty() {
                Unknown::null()
            } else {
                strings(user_sgs)
            },
            ..empty("")
        };
        Network {
            inv: Inventory {
                vpc_id: Some(vpc_id.clone()),
                vpc_owned: false,
                private_subnet_ids: vpc_cfg.subnet_ids().to_vec(),
                control_plane_security_group_id: sg,
                ..Inventory::default()
            },
            vpc_block: Some(block),
            gateway_id: None,
        }
    };
    net.inv.cluster_name = Some(name.to_string());
    net.inv.cluster_created_at = eks::created_at(&cluster);

    let cluster_role = cluster.role_arn().unwrap_or_default().to_string();
    let cluster_role_name = names::cluster_role(name);
    // The permissions boundary of the roles the provider made, read back from them.
    let mut boundary = None;
    if cluster_role.ends_with(&format!("role/{cluster_role_name}")) {
        if let Some(role) = iam::role_details(&aws.iam, &cluster_role_name).await? {
            if owned(&role.tags, name) {
                net.inv.cluster_role_name = Some(cluster_role_name);
                boundary = role.boundary;
            }
        }
    }
    let nodes_role_name = names::nodes_role(name);
    // A brought role's policies are its owner's: the setting is unused, read as its default.
    let mut pod_identity = true;
    let (iam_block, nodes_principal) = match iam::role_details(&aws.iam, &nodes_role_name).await? {
        Some(role) if owned(&role.tags, name) => {
            net.inv.nodes_role_name = Some(nodes_role_name.clone());
            boundary = boundary.or(role.boundary.clone());
            let inline = policies::NODES_INLINE_POLICY;
            pod_identity = iam::inline_policy(&aws.iam, &nodes_role_name, inline)
                .await?
                .is_some_and(|doc| doc.contains(policies::POD_IDENTITY_ACTION));
            let principal = role.arn;
            if role.trust.contains("rolesanywhere.amazonaws.com") {
                let ra = &aws.rolesanywhere;
                let (anchors, profiles) = rolesanywhere::find_by_names(
                    ra,
                    &names::trust_anchor(name),
                    &names::profile(name),
                )
                .await?;
                let (anchor, profile) = tokio::try_join!(
                    rolesanywhere::first_tagged(ra, &anchors, OWNERSHIP_TAG, name),
                    rolesanywhere::first_tagged(ra, &profiles, OWNERSHIP_TAG, name),
                )?;
                let source = match &anchor {
                    Some(id) => rolesanywhere::trust_anchor_source(&aws.rolesanywhere, id).await?,
                    None => None,
                };
                net.inv.trust_anchor_id = anchor;
                net.inv.profile_id = profile;
                (Some(iam_block("IRA", source, None)), principal)
            } else {
                (None, principal)
            }
        }
        _ => {
            let principals = eks::hybrid_principals(&aws.eks, name).await?;
            let Some(principal) = principals.first().cloned() else {
                return Err(AwsError::refused(
                    "importing",
                    "NotAHybridCluster",
                    format!("cluster {name} has no HYBRID_LINUX access entry and no hybrid nodes role named {nodes_role_name}"),
                ));
            };
            (
                Some(iam_block("SSM", None, Some(principal.clone()))),
                principal,
            )
        }
    };
    if eks::access_entry(&aws.eks, name, &nodes_principal)
        .await?
        .is_some()
    {
        net.inv.access_entry_principal = Some(nodes_principal);
    }
    let mut state = state_from(&cluster, &net, iam_block, &cluster_role, default_tags);
    state.config.nodes_pod_identity = Unknown::some(pod_identity);
    state.config.role_permissions_boundary = Unknown::Known(boundary);
    state.config.deregister_nodes_on_destroy = Unknown::some(true);
    Ok(Some((state, net.inv)))
}

fn iam_block(provider: &str, source: Option<AnchorSource>, role_arn: Option<String>) -> Iam {
    let (bundle, pca) = match source {
        Some(AnchorSource::Bundle(pem)) => (Some(pem), None),
        Some(AnchorSource::PrivateCa(arn)) => (None, Some(arn)),
        None => (None, None),
    };
    Iam {
        provider: Unknown::some(provider.to_string()),
        ca_bundle_cert: Unknown::Known(bundle),
        acm_pca_arn: Unknown::Known(pca),
        role_arn: Unknown::Known(role_arn),
    }
}

async fn discover_owned_network(aws: &AwsClients, name: &str, vpc_id: &str) -> AwsResult<Network> {
    let c = &aws.ec2;
    let sg_name = names::control_plane_sg(name);
    let (subnets, tables, igw, nats, tgws, vgw, sg, cidrs) = tokio::join!(
        ec2::subnets_in(c, vpc_id),
        ec2::route_tables_in(c, vpc_id),
        ec2::internet_gateway_of(c, vpc_id),
        ec2::nat_gateways_in(c, vpc_id),
        ec2::tgw_attachments_of(c, vpc_id),
        ec2::vpn_gateway_of(c, vpc_id),
        ec2::security_group_named(c, vpc_id, &sg_name),
        ec2::vpc_cidrs(c, vpc_id),
    );
    let (subnets, tables, nats, tgws) = (subnets?, tables?, nats?, tgws?);
    let mut subnets = subnets;
    subnets.sort_by(|a, b| a.availability_zone.cmp(&b.availability_zone));
    let is_public = |s: &ec2::SubnetInfo| s.tags.contains_key("kubernetes.io/role/elb");
    let public: Vec<&ec2::SubnetInfo> = subnets.iter().filter(|s| is_public(s)).collect();
    let private: Vec<&ec2::SubnetInfo> = subnets
        .iter()
        .filter(|s| !is_public(s) && s.tags.contains_key("kubernetes.io/role/internal-elb"))
        .collect();
    let zones: Vec<String> = private
        .iter()
        .map(|s| s.availability_zone.clone())
        .collect();
    let named =
        |t: &ec2::RouteTableInfo, wanted: &str| t.tags.get("Name").is_some_and(|n| n == wanted);
    let public_table = tables
        .iter()
        .find(|t| named(t, &names::public_route_table(name)));
    // By association, or by name when a failed create never associated it.
    let mut private_tables: Vec<&ec2::RouteTableInfo> = private
        .iter()
        .filter_map(|s| {
            let by_name = names::private_route_table(name, &s.availability_zone);
            tables
                .iter()
                .find(|t| t.subnet_ids.contains(&s.id))
                .or_else(|| tables.iter().find(|t| named(t, &by_name)))
        })
        .collect();
    let stray_owned: Vec<&ec2::RouteTableInfo> = tables
        .iter()
        .filter(|t| {
            t.tags.get(OWNERSHIP_TAG).is_some_and(|owner| owner == name)
                && !private_tables.iter().any(|p| p.id == t.id)
                && public_table.is_none_or(|p| p.id != t.id)
        })
        .collect();
    private_tables.extend(stray_owned);
    let (attachment, gateway) = match (tgws.first(), vgw?) {
        (Some((att, tgw)), _) => (Some(att.clone()), Some(tgw.clone())),
        (None, Some(vgw)) => (Some(vpc_id.to_string()), Some(vgw)),
        _ => (None, None),
    };
    let routes = private_tables
        .iter()
        .flat_map(|t| {
            t.routes
                .iter()
                .filter(|(_, target)| gateway.as_ref() == Some(target))
                .map(|(dest, _)| Route {
                    route_table_id: t.id.clone(),
                    cidr: dest.clone(),
                })
        })
        .collect();
    let cidr = cidrs?.and_then(|c| c.first().cloned()).unwrap_or_default();
    let nat_mode = match nats.len() {
        0 => "Disable",
        n if n == zones.len() && n > 1 => "HighlyAvailable",
        _ => "Single",
    };
    let defaults = cidr == DEFAULT_VPC_CIDR && nat_mode == DEFAULT_NAT_GATEWAY;
    let vpc_block = (!defaults).then(|| Vpc {
        cidr: Unknown::some(cidr.clone()),
        nat_gateway: Unknown::some(nat_mode.to_string()),
        availability_zones: strings(zones.clone()),
        ..empty("")
    });
    Ok(Network {
        inv: Inventory {
            vpc_id: Some(vpc_id.to_string()),
            vpc_owned: true,
            availability_zones: zones,
            internet_gateway_id: igw?,
            public_route_table_id: public_table.map(|t| t.id.clone()),
            public_subnet_ids: public.iter().map(|s| s.id.clone()).collect(),
            private_subnet_ids: private.iter().map(|s| s.id.clone()).collect(),
            private_route_table_ids: private_tables.iter().map(|t| t.id.clone()).collect(),
            eip_allocation_ids: nats
                .iter()
                .map(|(_, a)| a.clone())
                .filter(|a| !a.is_empty())
                .collect(),
            nat_gateway_ids: nats.iter().map(|(n, _)| n.clone()).collect(),
            control_plane_security_group_id: sg?,
            gateway_id: gateway.clone(),
            gateway_attachment_id: attachment,
            routes,
            ..Inventory::default()
        },
        vpc_block,
        gateway_id: gateway,
    })
}

fn state_from(
    cluster: &Cluster,
    net: &Network,
    iam_block: Option<Iam>,
    cluster_role: &str,
    default_tags: &BTreeMap<String, String>,
) -> ClusterState {
    let name = cluster.name().unwrap_or_default();
    let mut s: ClusterState = empty(name);
    let mut tags_all: BTreeMap<String, String> = cluster
        .tags()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    tags_all.remove(OWNERSHIP_TAG);
    let tags: BTreeMap<String, Unknown<String>> = tags_all
        .iter()
        .filter(|(k, val)| default_tags.get(*k) != Some(*val))
        .map(|(k, v)| (k.clone(), Unknown::Known(v.clone())))
        .collect();
    s.config.tags = Unknown::Known((!tags.is_empty()).then_some(tags));
    s.tags_all = Unknown::some(tags_all);
    let (node_cidrs, pod_cidrs) = remote_cidrs(cluster);
    // Pod CIDRs the provider does not route in a VPC it made: the Hybrid Nodes gateway does.
    let pods_routed_by_us = net.inv.routes.iter().any(|r| pod_cidrs.contains(&r.cidr));
    s.config.pod_routes_by_hybrid_nodes_gateway = Unknown::some(
        net.inv.vpc_owned
            && !pod_cidrs.is_empty()
            && !net.inv.routes.is_empty()
            && !pods_routed_by_us,
    );
    s.config.authentication_mode = Unknown::Known(
        cluster
            .access_config()
            .and_then(|a| a.authentication_mode())
            .map(|m| m.as_str().to_string()),
    );
    s.config.cluster_role_arn = Unknown::some(cluster_role.to_string());
    // The ARN names the cluster for good: import returns it as the identity.
    s.arn = Unknown::Known(cluster.arn().map(str::to_string));
    s.created_at = Unknown::Known(eks::created_at(cluster));
    s.config.vpc = Unknown::Known(One(net.vpc_block.clone()));
    let networks = |cidrs: Vec<String>| -> Unknown<Vec<Networks>> {
        Unknown::Known(if cidrs.is_empty() {
            vec![]
        } else {
            vec![Networks {
                cidrs: Unknown::Known(cidrs.into_iter().map(Unknown::Known).collect()),
            }]
        })
    };
    s.config.remote_network_config = Unknown::Known(One(Some(RemoteNetworkConfig {
        vpc_gateway_id: Unknown::Known(net.gateway_id.clone()),
        remote_node_networks: networks(node_cidrs),
        remote_pod_networks: networks(pod_cidrs),
        iam: Unknown::Known(One(iam_block)),
    })));
    s.id = Unknown::some(name.to_string());
    s
}

/// Everything destroy removes: what this state recorded (`recorded`: its private inventory
/// merged with what its public attributes name), what is inside a VPC it recorded as its own,
/// and gateways and addresses attached to nothing that carry its ownership tag (left by a
/// create that failed between making and using them). Nothing is taken by name alone: another
/// workspace's cluster, roles or Roles Anywhere objects of the same name are not ours.
pub async fn owned_inventory(
    aws: &AwsClients,
    spec: &ClusterSpec,
    recorded: Inventory,
) -> AwsResult<Inventory> {
    let name = spec.name.as_str();
    let in_vpc = async {
        match recorded.vpc_id.as_deref().filter(|_| recorded.vpc_owned) {
            Some(vpc) => discover_owned_network(aws, name, vpc).await.map(|n| n.inv),
            None => Ok(Inventory::default()),
        }
    };
    let (in_vpc, loose) = tokio::join!(
        in_vpc,
        ec2::free_floating_tagged(&aws.ec2, OWNERSHIP_TAG, name)
    );
    let (in_vpc, loose) = (in_vpc?, loose?);
    let mut inv = crate::cluster::inventory::merge(recorded, in_vpc);
    if inv.internet_gateway_id.is_none() {
        inv.internet_gateway_id = loose.internet_gateways.first().cloned();
    }
    for eip in loose.eip_allocations {
        if !inv.eip_allocation_ids.contains(&eip) {
            inv.eip_allocation_ids.push(eip);
        }
    }
    Ok(inv)
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
