//! A cluster found by name, whoever made it: EKS's view of it, the objects this provider
//! made for it (found by name and by the ownership tag, never by name alone where a name can
//! be another's), and the [`ClusterSpec`] that describes it. Import, `terraform query` and
//! the data source start here.

use std::collections::BTreeMap;

use aws_sdk_eks::types::Cluster;

use super::inventory::{Inventory, Route};
use super::names::{self, OWNERSHIP_TAG};
use super::policies;
use super::spec::{
    parse_nat, ClusterSpec, CredentialsProvider, Gateway, NatMode, RemoteNetworks, Timeouts,
    VpcSpec, DEFAULT_AUTHENTICATION_MODE,
};
use crate::aws::rolesanywhere::AnchorSource;
use crate::aws::{ec2, eks, iam, rolesanywhere, AwsClients, AwsError, AwsResult};

/// A cluster as found: EKS's description, what of it is ours, and what it is.
pub struct Discovered {
    pub cluster: Cluster,
    pub inventory: Inventory,
    /// Its settings; `cluster_role_arn` and `remote.role_arn` name roles it did not get from
    /// this provider, `tags` are the cluster's without the ownership tag.
    pub spec: ClusterSpec,
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
    vpc: VpcSpec,
    gateway: Option<Gateway>,
}

/// The cluster named `name`, or None when EKS has none.
pub async fn discover(aws: &AwsClients, name: &str) -> AwsResult<Option<Discovered>> {
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
        let vpc = VpcSpec::Existing {
            id: vpc_id.clone(),
            subnet_ids: vpc_cfg.subnet_ids().to_vec(),
            security_group_ids: user_sgs,
        };
        Network {
            inv: Inventory {
                vpc_id: Some(vpc_id.clone()),
                vpc_owned: false,
                private_subnet_ids: vpc_cfg.subnet_ids().to_vec(),
                control_plane_security_group_id: sg,
                ..Inventory::default()
            },
            vpc,
            gateway: None,
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
    let (credentials, nodes_principal) = match iam::role_details(&aws.iam, &nodes_role_name).await?
    {
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
                (
                    Credentials::ours(CredentialsProvider::Ira, source),
                    principal,
                )
            } else {
                (Credentials::ours(CredentialsProvider::Ssm, None), principal)
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
                Credentials {
                    provider: CredentialsProvider::Ssm,
                    source: None,
                    role_arn: Some(principal.clone()),
                },
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
    let spec = spec_of(&cluster, &net, credentials, pod_identity, boundary);
    Ok(Some(Discovered {
        cluster,
        inventory: net.inv,
        spec,
    }))
}

/// How the nodes get credentials: the provider, the trust anchor's source, and a role of
/// the user's (None: ours).
struct Credentials {
    provider: CredentialsProvider,
    source: Option<AnchorSource>,
    role_arn: Option<String>,
}

impl Credentials {
    fn ours(provider: CredentialsProvider, source: Option<AnchorSource>) -> Credentials {
        Credentials {
            provider,
            source,
            role_arn: None,
        }
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
    let vpc = VpcSpec::Create {
        cidr,
        availability_zones: zones.clone(),
        nat: parse_nat(nat_mode).unwrap_or(NatMode::Single),
    };
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
        vpc,
        gateway: gateway.as_deref().and_then(Gateway::parse),
    })
}

/// What the cluster is, as found.
fn spec_of(
    cluster: &Cluster,
    net: &Network,
    credentials: Credentials,
    pod_identity: bool,
    boundary: Option<String>,
) -> ClusterSpec {
    let name = cluster.name().unwrap_or_default().to_string();
    let mut tags: BTreeMap<String, String> = cluster
        .tags()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    tags.remove(OWNERSHIP_TAG);
    let (node_cidrs, pod_cidrs) = remote_cidrs(cluster);
    // Pod CIDRs the provider does not route in a VPC it made: the Hybrid Nodes gateway does.
    let pods_routed_by_us = net.inv.routes.iter().any(|r| pod_cidrs.contains(&r.cidr));
    let pod_routes_by_gateway = net.inv.vpc_owned
        && !pod_cidrs.is_empty()
        && !net.inv.routes.is_empty()
        && !pods_routed_by_us;
    let vpc_config = cluster.resources_vpc_config();
    let (ca_bundle_cert, acm_pca_arn) = match credentials.source {
        Some(AnchorSource::Bundle(pem)) => (Some(pem), None),
        Some(AnchorSource::PrivateCa(arn)) => (None, Some(arn)),
        None => (None, None),
    };
    let cluster_role = cluster.role_arn().map(str::to_string);
    let ours = |role: &String| role.ends_with(&format!("role/{}", names::cluster_role(&name)));
    let default = |minutes: u64| std::time::Duration::from_secs(minutes * 60);
    ClusterSpec {
        kubernetes_version: cluster.version().map(str::to_string),
        force_update_version: false,
        deregister_nodes_on_destroy: true,
        tags,
        endpoint_public_access: vpc_config.is_none_or(|v| v.endpoint_public_access()),
        endpoint_private_access: vpc_config.is_some_and(|v| v.endpoint_private_access()),
        authentication_mode: cluster
            .access_config()
            .and_then(|a| a.authentication_mode())
            .map_or(DEFAULT_AUTHENTICATION_MODE.to_string(), |m| {
                m.as_str().to_string()
            }),
        service_ipv4_cidr: cluster
            .kubernetes_network_config()
            .and_then(|k| k.service_ipv4_cidr())
            .map(str::to_string),
        cluster_role_arn: cluster_role
            .filter(|r| !(ours(r) && net.inv.cluster_role_name.is_some())),
        role_permissions_boundary: boundary,
        vpc: net.vpc.clone(),
        remote: RemoteNetworks {
            gateway: net.gateway.clone(),
            node_cidrs,
            pod_cidrs,
            pod_routes_by_gateway,
            pod_identity,
            provider: credentials.provider,
            ca_bundle_cert,
            acm_pca_arn,
            role_arn: credentials.role_arn,
        },
        ssm_activation: None,
        timeouts: Timeouts {
            create: default(40),
            update: default(60),
            delete: default(40),
        },
        name,
    }
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
