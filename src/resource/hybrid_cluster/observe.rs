//! Read: looks at every owned object and reports each one's state under a stable key, so a
//! plan shows exactly what drifted (`owned_objects`), and apply knows what to repair.

use std::collections::BTreeMap;

use aws_sdk_eks::types::Cluster;

use super::inventory::Inventory;
use super::model::ClusterSpec;
use super::policies;
use crate::aws::{ec2, eks, iam, rolesanywhere, ssm, AwsClients, AwsResult};

pub const OK: &str = "ok";
pub const MISSING: &str = "missing";

#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub statuses: BTreeMap<String, String>,
    pub cluster: Option<Cluster>,
    pub cluster_role_arn: Option<String>,
    pub nodes_role_arn: Option<String>,
    pub trust_anchor_arn: Option<String>,
    pub profile_arn: Option<String>,
    pub access_entry_arn: Option<String>,
}

impl Observed {
    pub fn is_missing(&self, key: &str) -> bool {
        self.statuses.get(key).is_some_and(|s| s != OK)
    }

    fn put(&mut self, key: String, ok: bool, otherwise: &str) {
        self.statuses
            .insert(key, if ok { OK } else { otherwise }.to_string());
    }
}

pub fn route_key(rtb: &str, cidr: &str) -> String {
    format!("route/{rtb}/{cidr}")
}

pub fn sg_rule_key(sg: &str, cidr: &str) -> String {
    format!("security_group_rule/{sg}/tcp443/{cidr}")
}

pub async fn observe(aws: &AwsClients, inv: &Inventory, spec: &ClusterSpec) -> AwsResult<Observed> {
    let (network, identity, cluster) = tokio::join!(
        observe_network(aws, inv, spec),
        observe_identity(aws, inv),
        observe_cluster(aws, inv)
    );
    let mut o = cluster?;
    let (net, ident) = (network?, identity?);
    o.statuses.extend(net.statuses);
    o.statuses.extend(ident.statuses);
    o.cluster_role_arn = ident.cluster_role_arn;
    o.nodes_role_arn = ident.nodes_role_arn;
    o.trust_anchor_arn = ident.trust_anchor_arn;
    o.profile_arn = ident.profile_arn;
    Ok(o)
}

async fn observe_cluster(aws: &AwsClients, inv: &Inventory) -> AwsResult<Observed> {
    let mut o = Observed::default();
    let Some(name) = &inv.cluster_name else {
        return Ok(o);
    };
    o.cluster = eks::describe_cluster(&aws.eks, name).await?;
    o.put(format!("cluster/{name}"), o.cluster.is_some(), MISSING);
    if let Some(principal) = &inv.access_entry_principal {
        let entry = if o.cluster.is_some() {
            eks::access_entry(&aws.eks, name, principal).await?
        } else {
            None
        };
        o.put(
            format!("access_entry/{name}"),
            entry.as_ref().is_some_and(|(_, t)| t == "HYBRID_LINUX"),
            MISSING,
        );
        o.access_entry_arn = entry.map(|(arn, _)| arn);
    }
    Ok(o)
}

async fn observe_network(
    aws: &AwsClients,
    inv: &Inventory,
    spec: &ClusterSpec,
) -> AwsResult<Observed> {
    let mut o = Observed::default();
    let Some(vpc_id) = &inv.vpc_id else {
        return Ok(o);
    };
    if inv.vpc_owned {
        let exists = ec2::vpc_cidrs(&aws.ec2, vpc_id).await?.is_some();
        o.put(format!("vpc/{vpc_id}"), exists, MISSING);
        let contents = if exists {
            ec2::vpc_contents(&aws.ec2, vpc_id).await?
        } else {
            Default::default()
        };
        for s in inv.public_subnet_ids.iter().chain(&inv.private_subnet_ids) {
            o.put(
                format!("subnet/{s}"),
                contents.subnet_ids.contains(s),
                MISSING,
            );
        }
        if let Some(igw) = &inv.internet_gateway_id {
            o.put(
                format!("internet_gateway/{igw}"),
                contents.internet_gateway_ids.contains(igw),
                MISSING,
            );
        }
        for nat in &inv.nat_gateway_ids {
            let state = contents
                .nat_gateways
                .get(nat)
                .map(String::as_str)
                .unwrap_or(MISSING);
            o.put(
                format!("nat_gateway/{nat}"),
                state == "available" || state == "pending",
                state,
            );
        }
        for r in &inv.routes {
            let present = contents
                .routes
                .get(&r.route_table_id)
                .is_some_and(|t| t.contains_key(&r.cidr));
            o.put(route_key(&r.route_table_id, &r.cidr), present, MISSING);
        }
        if let (Some(gw), Some(att)) = (&inv.gateway_id, &inv.gateway_attachment_id) {
            if gw.starts_with("tgw-") {
                let state = ec2::tgw_attachment_state(&aws.ec2, att).await?;
                let s = state
                    .as_ref()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| MISSING.into());
                o.put(
                    format!("transit_gateway_attachment/{att}"),
                    s == "available" || s == "pendingAcceptance" || s == "pending",
                    &s,
                );
            } else {
                let state = ec2::vpn_gateway_attachment(&aws.ec2, gw, vpc_id).await?;
                let s = state.unwrap_or_else(|| "detached".into());
                o.put(
                    format!("vpn_gateway_attachment/{gw}"),
                    s == "attached" || s == "attaching",
                    &s,
                );
            }
        }
    }
    if let Some(sg) = &inv.control_plane_security_group_id {
        let cidrs = ec2::https_ingress_cidrs(&aws.ec2, sg).await?;
        o.put(format!("security_group/{sg}"), cidrs.is_some(), MISSING);
        let cidrs = cidrs.unwrap_or_default();
        for c in spec.remote.all_cidrs() {
            o.put(sg_rule_key(sg, &c), cidrs.contains(&c), MISSING);
        }
    }
    Ok(o)
}

async fn observe_identity(aws: &AwsClients, inv: &Inventory) -> AwsResult<Observed> {
    let mut o = Observed::default();
    if let Some(name) = &inv.cluster_role_name {
        o.cluster_role_arn = iam::role_arn(&aws.iam, name).await?;
        o.put(
            format!("iam_role/{name}"),
            o.cluster_role_arn.is_some(),
            MISSING,
        );
        if o.cluster_role_arn.is_some() {
            let attached = iam::attached_policies(&aws.iam, name).await?;
            let has = attached
                .iter()
                .any(|a| a.ends_with(&format!("/{}", policies::CLUSTER_MANAGED_POLICY)));
            o.put(
                format!(
                    "iam_role_policy_attachment/{name}/{}",
                    policies::CLUSTER_MANAGED_POLICY
                ),
                has,
                "detached",
            );
        }
    }
    if let Some(name) = &inv.nodes_role_name {
        o.nodes_role_arn = iam::role_arn(&aws.iam, name).await?;
        o.put(
            format!("iam_role/{name}"),
            o.nodes_role_arn.is_some(),
            MISSING,
        );
        if o.nodes_role_arn.is_some() {
            let (attached, inline) = tokio::join!(
                iam::attached_policies(&aws.iam, name),
                iam::inline_policies(&aws.iam, name)
            );
            let (attached, inline) = (attached?, inline?);
            for m in policies::NODES_MANAGED_POLICIES {
                let has = attached.iter().any(|a| a.ends_with(&format!("/{m}")));
                o.put(
                    format!("iam_role_policy_attachment/{name}/{m}"),
                    has,
                    "detached",
                );
            }
            let has = inline.iter().any(|p| p == policies::NODES_INLINE_POLICY);
            o.put(
                format!("iam_role_policy/{name}/{}", policies::NODES_INLINE_POLICY),
                has,
                MISSING,
            );
        }
    }
    if let Some(id) = &inv.trust_anchor_id {
        let anchor = rolesanywhere::trust_anchor(&aws.rolesanywhere, id).await?;
        let status = match &anchor {
            None => MISSING,
            Some((_, false)) => "disabled",
            Some(_) => OK,
        };
        o.put(format!("trust_anchor/{id}"), status == OK, status);
        o.trust_anchor_arn = anchor.map(|(arn, _)| arn);
    }
    if let Some(a) = &inv.ssm_activation {
        let status = match ssm::activation_expired(&aws.ssm, &a.id).await? {
            None => MISSING,
            Some(true) => "expired",
            Some(false) => OK,
        };
        o.put(format!("ssm_activation/{}", a.id), status == OK, status);
    }
    if let Some(id) = &inv.profile_id {
        let profile = rolesanywhere::profile(&aws.rolesanywhere, id).await?;
        let status = match &profile {
            None => MISSING,
            Some((_, false)) => "disabled",
            Some(_) => OK,
        };
        o.put(format!("profile/{id}"), status == OK, status);
        o.profile_arn = profile.map(|(arn, _)| arn);
    }
    Ok(o)
}
