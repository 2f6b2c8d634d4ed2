//! Import by cluster name: the cluster is read from EKS, the objects this provider created for
//! it are found by name and by the ownership tag, and the result is a state (and inventory)
//! with which a plan of the matching configuration shows no changes.

use std::collections::BTreeMap;

use aws_sdk_eks::types::Cluster;

use super::inventory::{ActivationRecord, Inventory, Route};
use super::model::{ActivationSpec, ClusterSpec};
use super::names::{self, OWNERSHIP_TAG};
use super::{schema, Outcome};
use crate::aws::{ec2, eks, iam, rolesanywhere, ssm, AwsClients, AwsError, AwsResult};
use crate::plugin::{Diagnostics, Value};

pub async fn import(
    aws: &AwsClients,
    name: &str,
    default_tags: &BTreeMap<String, String>,
) -> Outcome {
    let mut d = Diagnostics::default();
    match discover(aws, name, default_tags).await {
        Ok(Some((state, inv))) => Outcome {
            state,
            private: inv.to_private(),
            diagnostics: d,
        },
        Ok(None) => {
            d.error(
                "Cannot import eks_hybrid_cluster",
                format!("No EKS cluster named {name:?} exists in this account and region."),
            );
            Outcome {
                state: Value::Null,
                private: Vec::new(),
                diagnostics: d,
            }
        }
        Err(e) => {
            super::report(vec![e], &mut d);
            Outcome {
                state: Value::Null,
                private: Vec::new(),
                diagnostics: d,
            }
        }
    }
}

fn owned(tags: &BTreeMap<String, String>, name: &str) -> bool {
    tags.get(OWNERSHIP_TAG).map(String::as_str) == Some(name)
}

struct Network {
    inv: Inventory,
    vpc_block: Option<Value>,
    gateway_id: Option<String>,
}

async fn discover(
    aws: &AwsClients,
    name: &str,
    default_tags: &BTreeMap<String, String>,
) -> AwsResult<Option<(Value, Inventory)>> {
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
        let mut block = schema::schema()
            .block
            .find_block("vpc")
            .expect("vpc block")
            .block
            .null_object();
        block.set("id", Value::string(&vpc_id));
        block.set(
            "subnet_ids",
            Value::string_list(vpc_cfg.subnet_ids().to_vec()),
        );
        block.set(
            "security_group_ids",
            if user_sgs.is_empty() {
                Value::Null
            } else {
                Value::string_list(user_sgs)
            },
        );
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

    let cluster_role = cluster.role_arn().unwrap_or_default().to_string();
    let cluster_role_name = names::cluster_role(name);
    if cluster_role.ends_with(&format!("role/{cluster_role_name}")) {
        if let Some(role) = iam::role_details(&aws.iam, &cluster_role_name).await? {
            if owned(&role.tags, name) {
                net.inv.cluster_role_name = Some(cluster_role_name);
            }
        }
    }
    let nodes_role_name = names::nodes_role(name);
    let (iam_block, nodes_principal) = match iam::role_details(&aws.iam, &nodes_role_name).await? {
        Some(role) if owned(&role.tags, name) => {
            net.inv.nodes_role_name = Some(nodes_role_name.clone());
            let principal = role.arn;
            if role.trust.contains("rolesanywhere.amazonaws.com") {
                let (anchor, profile) = rolesanywhere::find_by_names(
                    &aws.rolesanywhere,
                    &names::trust_anchor(name),
                    &names::profile(name),
                )
                .await?;
                let bundle = match &anchor {
                    Some(id) => rolesanywhere::trust_anchor_bundle(&aws.rolesanywhere, id).await?,
                    None => None,
                };
                net.inv.trust_anchor_id = anchor;
                net.inv.profile_id = profile;
                (Some(iam_block("IRA", bundle, None)), principal)
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
    let state = state_from(&cluster, &net, iam_block, &cluster_role, default_tags);
    Ok(Some((state, net.inv)))
}

fn iam_block(provider: &str, bundle: Option<String>, role_arn: Option<String>) -> Value {
    let block = schema::schema()
        .block
        .find_block("remote_network_config")
        .expect("block")
        .block
        .find_block("iam")
        .expect("iam")
        .block
        .null_object();
    let mut block = block;
    block.set("provider", Value::string(provider));
    block.set("ca_bundle_cert", Value::opt_string(bundle));
    block.set("role_arn", Value::opt_string(role_arn));
    block
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
    let defaults = cidr == schema::DEFAULT_VPC_CIDR && nat_mode == schema::DEFAULT_NAT_GATEWAY;
    let vpc_block = (!defaults).then(|| {
        let mut b = schema::schema()
            .block
            .find_block("vpc")
            .expect("vpc")
            .block
            .null_object();
        b.set("cidr", Value::string(&cidr));
        b.set("nat_gateway", Value::string(nat_mode));
        b.set("availability_zones", Value::string_list(zones.clone()));
        b
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
    iam_block: Option<Value>,
    cluster_role: &str,
    default_tags: &BTreeMap<String, String>,
) -> Value {
    let s = schema::schema();
    let mut v = s.block.null_object();
    let name = cluster.name().unwrap_or_default();
    v.set("name", Value::string(name));
    let mut tags_all: BTreeMap<String, String> = cluster
        .tags()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    tags_all.remove(OWNERSHIP_TAG);
    let tags: BTreeMap<String, String> = tags_all
        .iter()
        .filter(|(k, val)| default_tags.get(*k) != Some(*val))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    v.set(
        "tags",
        if tags.is_empty() {
            Value::Null
        } else {
            Value::string_map(tags)
        },
    );
    v.set("tags_all", Value::string_map(tags_all));
    v.set(
        "authentication_mode",
        Value::opt_string(
            cluster
                .access_config()
                .and_then(|a| a.authentication_mode())
                .map(|m| m.as_str().to_string()),
        ),
    );
    v.set("cluster_role_arn", Value::string(cluster_role));
    if let Some(b) = &net.vpc_block {
        v.set("vpc", Value::List(vec![b.clone()]));
    }
    let mut rnc = s
        .block
        .find_block("remote_network_config")
        .expect("block")
        .block
        .null_object();
    let remote = cluster.remote_network_config();
    let networks = |cidrs: Vec<String>| {
        if cidrs.is_empty() {
            Value::List(vec![])
        } else {
            let mut n = Value::Map(BTreeMap::new());
            n.set("cidrs", Value::string_list(cidrs));
            Value::List(vec![n])
        }
    };
    rnc.set(
        "remote_node_networks",
        networks(
            remote
                .map(|r| {
                    r.remote_node_networks()
                        .iter()
                        .flat_map(|n| n.cidrs().to_vec())
                        .collect()
                })
                .unwrap_or_default(),
        ),
    );
    rnc.set(
        "remote_pod_networks",
        networks(
            remote
                .map(|r| {
                    r.remote_pod_networks()
                        .iter()
                        .flat_map(|n| n.cidrs().to_vec())
                        .collect()
                })
                .unwrap_or_default(),
        ),
    );
    rnc.set("vpc_gateway_id", Value::opt_string(net.gateway_id.clone()));
    if let Some(iam) = iam_block {
        rnc.set("iam", Value::List(vec![iam]));
    }
    v.set("remote_network_config", Value::List(vec![rnc]));
    v.set("id", Value::string(name));
    v
}

/// Everything this provider created for cluster `name`, found without private state: the
/// cluster, the VPC and security group carrying the ownership tag, the roles by name (when
/// tagged as ours), and, only for a configuration that uses them, the Roles Anywhere objects
/// and the SSM activation. Destroy merges this with its records.
pub async fn discover_inventory(aws: &AwsClients, spec: &ClusterSpec) -> AwsResult<Inventory> {
    let name = spec.name.as_str();
    let tagged = ec2::tagged(&aws.ec2, OWNERSHIP_TAG, name).await?;
    let mut inv = match tagged.vpcs.first() {
        Some(vpc) => discover_owned_network(aws, name, vpc).await?.inv,
        None => Inventory::default(),
    };
    if inv.control_plane_security_group_id.is_none() {
        inv.control_plane_security_group_id = tagged.security_groups.first().cloned();
    }
    if inv.internet_gateway_id.is_none() {
        inv.internet_gateway_id = tagged.internet_gateways.first().cloned();
    }
    for eip in tagged.eip_allocations {
        if !inv.eip_allocation_ids.contains(&eip) {
            inv.eip_allocation_ids.push(eip);
        }
    }
    if let Some(cluster) = eks::describe_cluster(&aws.eks, name).await? {
        inv.cluster_name = Some(name.to_string());
        if inv.vpc_id.is_none() {
            inv.vpc_id = cluster
                .resources_vpc_config()
                .and_then(|v| v.vpc_id())
                .map(str::to_string);
        }
    }
    for (role, slot) in [
        (names::cluster_role(name), &mut inv.cluster_role_name),
        (names::nodes_role(name), &mut inv.nodes_role_name),
    ] {
        if let Some(details) = iam::role_details(&aws.iam, &role).await? {
            if owned(&details.tags, name) {
                *slot = Some(role);
            }
        }
    }
    if spec.creates_roles_anywhere_objects() {
        let (anchor, profile) = rolesanywhere::find_by_names(
            &aws.rolesanywhere,
            &names::trust_anchor(name),
            &names::profile(name),
        )
        .await?;
        inv.trust_anchor_id = anchor;
        inv.profile_id = profile;
    }
    if spec.ssm_activation.is_none() {
        return Ok(inv);
    }
    let activation = ssm::find_activation(&aws.ssm, name, &names::ssm_activation(name)).await?;
    inv.ssm_activation = activation.map(|id| ActivationRecord {
        id,
        // Unknown settings: an activation found this way is replaced if the block remains.
        settings: ActivationSpec {
            registration_limit: 0,
            expiration: None,
        },
    });
    Ok(inv)
}
