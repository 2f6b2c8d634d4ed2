//! What destroying or replacing a cluster deletes and what it keeps, said at plan time (the
//! protocol's `plan_destroy` capability lets the provider see destroy plans), from the
//! objects the state says the cluster owns.

use std::collections::BTreeMap;

use tfplugin6::Diagnostics;

use super::model::ClusterState;
use super::name_checks::name_held_by_another_cluster;
use crate::cluster::objects::ObjectKey;
use crate::cluster::spec::Gateway;

/// A plan warning for destroying (`replacing` false) or replacing the cluster `prior`.
pub fn warn(prior: &ClusterState, replacing: Option<&str>, d: &mut Diagnostics) {
    let name = prior.config.name.known().map_or("?", String::as_str);
    let summary = match replacing {
        Some(_) => {
            format!("Replacing eks_hybrid_cluster {name:?} deletes the cluster and what it owns")
        }
        None => {
            format!("Destroying eks_hybrid_cluster {name:?} deletes the cluster and what it owns")
        }
    };
    let mut detail = String::new();
    if let Some(why) = replacing {
        detail.push_str(&format!(
            "{why} can only change by replacing the cluster: everything below is deleted, then made anew.\n\n"
        ));
    }
    let (nodes_go, nodes_stay) = registered_nodes(prior);
    detail.push_str("Deleted:\n");
    for line in goes(prior).into_iter().chain(nodes_go) {
        detail.push_str(&format!("- {line}\n"));
    }
    if name_held_by_another_cluster(prior).is_none() {
        detail.push_str(
            "\nHybrid nodes registered with this cluster stop working: their control plane, access entry and credentials go with it, and each node must join again with nodeadm.\n",
        );
    }
    let kept: Vec<String> = stays(prior).into_iter().chain(nodes_stay).collect();
    if !kept.is_empty() {
        detail.push_str("\nKept (not made by this provider):\n");
        for line in kept {
            detail.push_str(&format!("- {line}\n"));
        }
    }
    d.warning(summary, detail.trim_end().to_string());
}

/// The objects destroy deletes: all the state owns, less a cluster of our name that EKS made
/// at another time than ours (destroy leaves it).
fn owned(prior: &ClusterState) -> Vec<ObjectKey> {
    prior
        .owned_objects
        .value()
        .map(|m| {
            m.iter()
                .filter(|(_, s)| !s.is_not_ours())
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// One line per kind the cluster owns, in the order a reader thinks of them.
fn goes(prior: &ClusterState) -> Vec<String> {
    let keys = owned(prior);
    let mut by_kind: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for k in &keys {
        let (kind, id) = match k {
            ObjectKey::Cluster(n) => ("cluster", n.clone()),
            ObjectKey::AccessEntry(n) => ("access_entry", n.clone()),
            ObjectKey::Vpc(id) => ("vpc", id.clone()),
            ObjectKey::Subnet(id) => ("subnet", id.clone()),
            ObjectKey::InternetGateway(id) => ("igw", id.clone()),
            ObjectKey::NatGateway(id) => ("nat", id.clone()),
            ObjectKey::SecurityGroup(id) => ("sg", id.clone()),
            // Default routes to the NAT and internet gateways go with the VPC's tables.
            ObjectKey::Route { cidr, .. } if cidr == "0.0.0.0/0" => continue,
            ObjectKey::Route { table, cidr } => ("route", format!("{table}/{cidr}")),
            ObjectKey::TransitGatewayAttachment(id) => ("tgw_attachment", id.clone()),
            ObjectKey::VpnGatewayAttachment(id) => ("vgw_attachment", id.clone()),
            ObjectKey::IamRole(n) => ("role", n.clone()),
            ObjectKey::TrustAnchor(id) => ("anchor", id.clone()),
            ObjectKey::Profile(id) => ("profile", id.clone()),
            ObjectKey::SsmActivation(id) => ("activation", id.clone()),
            _ => continue,
        };
        by_kind.entry(kind).or_default().push(id);
    }
    let n = |kind: &str| by_kind.get(kind).map_or(0, Vec::len);
    let ids = |kind: &str| by_kind.get(kind).map(|v| v.join(", ")).unwrap_or_default();
    let mut lines = Vec::new();
    if n("cluster") > 0 {
        lines.push(format!(
            "the EKS cluster {} and its HYBRID_LINUX access entry",
            ids("cluster")
        ));
    }
    if n("vpc") > 0 {
        let mut parts = vec![count(n("subnet"), "subnet", "subnets")];
        if n("nat") > 0 {
            parts.push(count(n("nat"), "NAT gateway", "NAT gateways"));
        }
        if n("igw") > 0 {
            parts.push("its internet gateway".to_string());
        }
        lines.push(format!("the VPC {} with {}", ids("vpc"), parts.join(", ")));
    }
    if n("sg") > 0 {
        lines.push(format!("the control plane security group {}", ids("sg")));
    }
    if n("tgw_attachment") > 0 {
        lines.push(format!(
            "the transit gateway attachment {}",
            ids("tgw_attachment")
        ));
    }
    if n("vgw_attachment") > 0 {
        lines.push(format!(
            "the attachment of the virtual private gateway {}",
            ids("vgw_attachment")
        ));
    }
    if n("route") > 0 {
        lines.push(count(
            n("route"),
            "route to the remote networks",
            "routes to the remote networks",
        ));
    }
    if n("role") > 0 {
        lines.push(format!(
            "{} ({})",
            count(n("role"), "IAM role", "IAM roles"),
            ids("role")
        ));
    }
    if n("anchor") + n("profile") > 0 {
        lines.push("the IAM Roles Anywhere trust anchor and profile".to_string());
    }
    if n("activation") > 0 {
        lines.push(count(
            n("activation"),
            "SSM hybrid activation",
            "SSM hybrid activations",
        ));
    }
    lines
}

/// The SSM managed instances registered through the cluster's activations: deregistered, or
/// kept with the setting that keeps them. Nothing for IAM Roles Anywhere.
fn registered_nodes(prior: &ClusterState) -> (Option<String>, Option<String>) {
    let spec = super::convert::spec_of(prior);
    if spec.remote.provider != crate::cluster::spec::CredentialsProvider::Ssm
        || name_held_by_another_cluster(prior).is_some()
    {
        return (None, None);
    }
    let arn = prior
        .arn
        .value()
        .map_or("this cluster's ARN", String::as_str);
    let nodes = format!("the hybrid nodes registered through this cluster's SSM activations (SSM managed instances tagged EKSClusterARN = {arn})");
    if spec.deregisters_nodes() {
        (Some(format!("{nodes}: deregistered")), None)
    } else {
        (
            None,
            Some(format!(
                "{nodes}: they stay registered (deregister_nodes_on_destroy = false)"
            )),
        )
    }
}

/// What the cluster uses but did not make.
fn stays(prior: &ClusterState) -> Vec<String> {
    let c = &prior.config;
    let owned_roles: Vec<String> = owned(prior)
        .into_iter()
        .filter_map(|k| match k {
            ObjectKey::IamRole(n) => Some(n),
            _ => None,
        })
        .collect();
    let mut kept = Vec::new();
    if let Some(name) = name_held_by_another_cluster(prior) {
        kept.push(format!("the EKS cluster {name}: not the one this state created (that one was deleted outside Terraform), with its access entries and the nodes registered with it"));
    }
    let vpc = c.vpc.known().and_then(|v| v.0.as_ref());
    if let Some(id) = vpc.and_then(|v| v.id.value()) {
        kept.push(format!("the pre-existing VPC {id} and its subnets"));
    }
    let remote = c.remote_network_config.known().and_then(|r| r.0.as_ref());
    if let Some(g) = remote.and_then(|r| r.vpc_gateway_id.value()) {
        match Gateway::parse(g) {
            Some(Gateway::Transit(id)) => kept.push(format!("the transit gateway {id}")),
            Some(Gateway::Vpn(id)) => kept.push(format!("the virtual private gateway {id}")),
            None => {}
        }
    }
    let brought_nodes_role = remote
        .and_then(|r| r.iam.known())
        .and_then(|i| i.0.as_ref())
        .and_then(|i| i.role_arn.value());
    if let Some(arn) = brought_nodes_role {
        kept.push(format!("the hybrid nodes role {arn}"));
    }
    if let Some(arn) = c.cluster_role_arn.value() {
        let ours = owned_roles.iter().any(|r| arn.ends_with(&format!("/{r}")));
        if !ours {
            kept.push(format!("the cluster role {arn}"));
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin6::model::read;
    use tfplugin6::Value;

    fn state(owned: &[&str], extra: impl Fn(&mut Value)) -> ClusterState {
        let mut v = super::super::model::schema().block.null_object();
        v.set("name", Value::string("demo"));
        v.set(
            "owned_objects",
            Value::Map(
                owned
                    .iter()
                    .map(|k| (k.to_string(), Value::string("ok")))
                    .collect(),
            ),
        );
        extra(&mut v);
        read(&v).unwrap()
    }

    fn detail(s: &ClusterState, replacing: Option<&str>) -> String {
        let mut d = Diagnostics::default();
        warn(s, replacing, &mut d);
        format!("{} | {}", d.0[0].summary, d.0[0].detail)
    }

    #[test]
    fn counts_what_goes_and_leaves_default_routes_to_the_vpc() {
        let s = state(
            &[
                "cluster/demo",
                "vpc/vpc-1",
                "subnet/subnet-1",
                "subnet/subnet-2",
                "nat_gateway/nat-1",
                "route/rtb-1/0.0.0.0/0",
                "route/rtb-1/10.1.0.0/24",
                "route/rtb-2/10.1.0.0/24",
                "iam_role/demo-nodes",
            ],
            |_| {},
        );
        let text = detail(&s, None);
        assert!(
            text.starts_with("Destroying eks_hybrid_cluster \"demo\""),
            "{text}"
        );
        assert!(
            text.contains("- the VPC vpc-1 with 2 subnets, 1 NAT gateway\n"),
            "{text}"
        );
        assert!(
            text.contains("- 2 routes to the remote networks\n"),
            "{text}"
        );
        assert!(text.contains("- 1 IAM role (demo-nodes)\n"), "{text}");
        assert!(!text.contains("Kept"), "{text}");
    }

    #[test]
    fn a_replacement_names_its_cause_and_what_the_user_brought_stays() {
        let s = state(&["cluster/demo"], |v| {
            v.set(
                "cluster_role_arn",
                Value::string("arn:aws:iam::1:role/mine"),
            );
        });
        let text = detail(&s, Some("remote_network_config"));
        assert!(text.starts_with("Replacing"), "{text}");
        assert!(
            text.contains("remote_network_config can only change by replacing"),
            "{text}"
        );
        assert!(
            text.contains("- the cluster role arn:aws:iam::1:role/mine"),
            "{text}"
        );
    }
}
