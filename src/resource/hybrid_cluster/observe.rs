//! Read: looks at every owned object and reports each one's state under a stable key, so a
//! plan shows exactly what drifted (`owned_objects`), and apply knows what to repair. Only the
//! services the inventory names are called: a cluster whose nodes use SSM never calls IAM
//! Roles Anywhere.

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_eks::types::Cluster;

use super::inventory::Inventory;
use super::model::{ClusterSpec, CredentialsProvider, Gateway};
use super::network::{nat_gateway_count, DEFAULT_ROUTE};
use super::policies::{self, Scope};
use crate::aws::{ec2, eks, iam, rolesanywhere, ssm, AwsClients, AwsResult};

/// What a read found of one owned object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    Missing,
    /// Present, but not as the provider made it (a policy document edited, a route repointed).
    Changed,
    Disabled,
    Detached,
    Expired,
    /// Attached though the provider's configuration no longer wants it.
    Attached,
    /// Any other state AWS reports (`deleted`, `failed`, `pendingAcceptance`, …).
    Other(String),
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Ok => "ok",
            Status::Missing => "missing",
            Status::Changed => "changed",
            Status::Disabled => "disabled",
            Status::Detached => "detached",
            Status::Expired => "expired",
            Status::Attached => "attached",
            Status::Other(s) => s,
        })
    }
}

impl std::str::FromStr for Status {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Status, Self::Err> {
        Ok(match s {
            "ok" => Status::Ok,
            "missing" => Status::Missing,
            "changed" => Status::Changed,
            "disabled" => Status::Disabled,
            "detached" => Status::Detached,
            "expired" => Status::Expired,
            "attached" => Status::Attached,
            other => Status::Other(other.to_string()),
        })
    }
}

impl Status {
    fn ok_or(ok: bool, otherwise: Status) -> Status {
        if ok {
            Status::Ok
        } else {
            otherwise
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub statuses: BTreeMap<String, Status>,
    pub cluster: Option<Cluster>,
    pub cluster_role_arn: Option<String>,
    pub nodes_role_arn: Option<String>,
    pub trust_anchor_arn: Option<String>,
    pub profile_arn: Option<String>,
    pub access_entry_arn: Option<String>,
}

impl Observed {
    pub fn status(&self, key: &str) -> Option<&Status> {
        self.statuses.get(key)
    }

    /// Observed and not healthy.
    pub fn is_missing(&self, key: &str) -> bool {
        self.statuses.get(key).is_some_and(|s| *s != Status::Ok)
    }

    pub fn all_ok(&self) -> bool {
        self.statuses.values().all(|s| *s == Status::Ok)
    }

    /// The statuses as `owned_objects` shows them.
    pub fn shown(&self) -> BTreeMap<String, String> {
        self.statuses
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect()
    }

    fn put(&mut self, key: String, status: Status) {
        self.statuses.insert(key, status);
    }
}

pub fn route_key(rtb: &str, cidr: &str) -> String {
    format!("route/{rtb}/{cidr}")
}

pub fn sg_rule_key(sg: &str, cidr: &str) -> String {
    format!("security_group_rule/{sg}/tcp443/{cidr}")
}

pub fn gateway_attachment_key(gateway: &Gateway, attachment: &str) -> String {
    match gateway {
        Gateway::Transit(_) => format!("transit_gateway_attachment/{attachment}"),
        Gateway::Vpn(vgw) => format!("vpn_gateway_attachment/{vgw}"),
    }
}

pub fn trust_policy_key(role: &str) -> String {
    format!("iam_role_trust_policy/{role}")
}

pub fn inline_policy_key(role: &str) -> String {
    format!("iam_role_policy/{role}/{}", policies::NODES_INLINE_POLICY)
}

pub fn attachment_key(role: &str, policy: &str) -> String {
    format!("iam_role_policy_attachment/{role}/{policy}")
}

/// The route tables of every subnet the cluster uses, in the provider's VPC.
pub fn cluster_route_tables(inv: &Inventory) -> Vec<String> {
    inv.private_route_table_ids
        .iter()
        .chain(&inv.public_route_table_id)
        .cloned()
        .collect()
}

pub async fn observe(aws: &AwsClients, inv: &Inventory, spec: &ClusterSpec) -> AwsResult<Observed> {
    let (network, identity, cluster) = tokio::join!(
        observe_network(aws, inv, spec),
        observe_identity(aws, inv, spec),
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
    o.put(
        format!("cluster/{name}"),
        Status::ok_or(o.cluster.is_some(), Status::Missing),
    );
    if let Some(principal) = &inv.access_entry_principal {
        let entry = if o.cluster.is_some() {
            eks::access_entry(&aws.eks, name, principal).await?
        } else {
            None
        };
        let hybrid = entry.as_ref().is_some_and(|(_, t)| t == "HYBRID_LINUX");
        o.put(
            format!("access_entry/{name}"),
            Status::ok_or(hybrid, Status::Missing),
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
        o.put(
            format!("vpc/{vpc_id}"),
            Status::ok_or(exists, Status::Missing),
        );
        let contents = if exists {
            ec2::vpc_contents(&aws.ec2, vpc_id).await?
        } else {
            Default::default()
        };
        observe_vpc_contents(&mut o, inv, spec, &contents);
        if let (Some(gw), Some(att)) = (inv.gateway(), &inv.gateway_attachment_id) {
            let status = match &gw {
                Gateway::Transit(_) => match ec2::tgw_attachment_state(&aws.ec2, att).await? {
                    None => Status::Missing,
                    Some(s) => {
                        Status::ok_or(s.as_str() == "available", Status::Other(s.as_str().into()))
                    }
                },
                Gateway::Vpn(vgw) => {
                    let state = ec2::vpn_gateway_attachment(&aws.ec2, vgw, vpc_id).await?;
                    let s = state.unwrap_or_else(|| "detached".into());
                    Status::ok_or(s == "attached" || s == "attaching", Status::Other(s))
                }
            };
            o.put(gateway_attachment_key(&gw, att), status);
        }
    }
    if let Some(sg) = &inv.control_plane_security_group_id {
        let cidrs = ec2::https_ingress_cidrs(&aws.ec2, sg).await?;
        o.put(
            format!("security_group/{sg}"),
            Status::ok_or(cidrs.is_some(), Status::Missing),
        );
        let cidrs = cidrs.unwrap_or_default();
        for c in spec.remote.all_cidrs() {
            o.put(
                sg_rule_key(sg, &c),
                Status::ok_or(cidrs.contains(&c), Status::Missing),
            );
        }
    }
    Ok(o)
}

/// Subnets, the internet gateway, NAT gateways, and the routes of every cluster route table:
/// to the gateway for each remote CIDR, and the private tables' default route to their NAT
/// gateway.
fn observe_vpc_contents(
    o: &mut Observed,
    inv: &Inventory,
    spec: &ClusterSpec,
    contents: &ec2::VpcContents,
) {
    for s in inv.public_subnet_ids.iter().chain(&inv.private_subnet_ids) {
        o.put(
            format!("subnet/{s}"),
            Status::ok_or(contents.subnet_ids.contains(s), Status::Missing),
        );
    }
    if let Some(igw) = &inv.internet_gateway_id {
        o.put(
            format!("internet_gateway/{igw}"),
            Status::ok_or(contents.internet_gateway_ids.contains(igw), Status::Missing),
        );
    }
    for nat in &inv.nat_gateway_ids {
        let status = match contents.nat_gateways.get(nat).map(String::as_str) {
            None => Status::Missing,
            Some("available" | "pending") => Status::Ok,
            Some(state) => Status::Other(state.to_string()),
        };
        o.put(format!("nat_gateway/{nat}"), status);
    }
    let route_to = |rtb: &str, cidr: &str| {
        contents
            .routes
            .get(rtb)
            .and_then(|t| t.get(cidr))
            .map(String::as_str)
    };
    if let Some(gw) = inv.gateway().filter(|_| spec.remote.gateway.is_some()) {
        for rtb in cluster_route_tables(inv) {
            for cidr in spec.remote.all_cidrs() {
                let status = match route_to(&rtb, &cidr) {
                    None => Status::Missing,
                    Some(t) => Status::ok_or(t == gw.id(), Status::Changed),
                };
                o.put(route_key(&rtb, &cidr), status);
            }
        }
    }
    let default_route = |rtb: &str, target: &str| match route_to(rtb, DEFAULT_ROUTE) {
        None => Status::Missing,
        Some(t) => Status::ok_or(t == target, Status::Changed),
    };
    if let (Some(rtb), Some(igw)) = (&inv.public_route_table_id, &inv.internet_gateway_id) {
        o.put(route_key(rtb, DEFAULT_ROUTE), default_route(rtb, igw));
    }
    let zones = inv.private_route_table_ids.len();
    let expects_nat = match &spec.vpc {
        super::model::VpcSpec::Create { nat, .. } => nat_gateway_count(nat, zones) > 0,
        super::model::VpcSpec::Existing { .. } => false,
    };
    if expects_nat {
        for (i, rtb) in inv.private_route_table_ids.iter().enumerate() {
            if let Some(nat) = inv.nat_gateway_ids.get(i).or(inv.nat_gateway_ids.first()) {
                o.put(route_key(rtb, DEFAULT_ROUTE), default_route(rtb, nat));
            }
        }
    }
}

/// A policy document as IAM returns it, compared with the one the provider wants.
fn document_status(actual: Option<&str>, wanted: &serde_json::Value) -> Status {
    match actual.map(serde_json::from_str::<serde_json::Value>) {
        None => Status::Missing,
        Some(Ok(doc)) => Status::ok_or(policies::equivalent(&doc, wanted), Status::Changed),
        Some(Err(_)) => Status::Changed,
    }
}

async fn observe_identity(
    aws: &AwsClients,
    inv: &Inventory,
    spec: &ClusterSpec,
) -> AwsResult<Observed> {
    let mut o = Observed::default();
    if let Some(name) = &inv.cluster_role_name {
        let details = iam::role_details(&aws.iam, name).await?;
        o.cluster_role_arn = details.as_ref().map(|d| d.arn.clone());
        o.put(
            format!("iam_role/{name}"),
            Status::ok_or(details.is_some(), Status::Missing),
        );
        if let Some(d) = &details {
            let attached = iam::attached_policies(&aws.iam, name).await?;
            let has = attached
                .iter()
                .any(|a| a.ends_with(&format!("/{}", policies::CLUSTER_MANAGED_POLICY)));
            o.put(
                attachment_key(name, policies::CLUSTER_MANAGED_POLICY),
                Status::ok_or(has, Status::Detached),
            );
            o.put(
                trust_policy_key(name),
                document_status(Some(&d.trust), &policies::cluster_trust_policy()),
            );
        }
    }
    if let Some(id) = &inv.trust_anchor_id {
        let anchor = rolesanywhere::trust_anchor(&aws.rolesanywhere, id).await?;
        let status = match &anchor {
            None => Status::Missing,
            Some((_, false)) => Status::Disabled,
            Some(_) => Status::Ok,
        };
        o.put(format!("trust_anchor/{id}"), status);
        o.trust_anchor_arn = anchor.map(|(arn, _)| arn);
    }
    if let Some(name) = &inv.nodes_role_name {
        observe_nodes_role(aws, &mut o, name, spec).await?;
    }
    if let Some(a) = &inv.ssm_activation {
        let status = match ssm::activation_expired(&aws.ssm, &a.id).await? {
            None => Status::Missing,
            Some(true) => Status::Expired,
            Some(false) => Status::Ok,
        };
        o.put(format!("ssm_activation/{}", a.id), status);
    }
    if let Some(id) = &inv.profile_id {
        let profile = rolesanywhere::profile(&aws.rolesanywhere, id).await?;
        let status = match &profile {
            None => Status::Missing,
            Some((_, false)) => Status::Disabled,
            Some(_) => Status::Ok,
        };
        o.put(format!("profile/{id}"), status);
        o.profile_arn = profile.map(|(arn, _)| arn);
    }
    Ok(o)
}

/// The nodes role, its managed policies (and none of ours it should not have), its inline
/// policy and its trust policy, each compared with what the configuration wants.
async fn observe_nodes_role(
    aws: &AwsClients,
    o: &mut Observed,
    name: &str,
    spec: &ClusterSpec,
) -> AwsResult<()> {
    let details = iam::role_details(&aws.iam, name).await?;
    o.nodes_role_arn = details.as_ref().map(|d| d.arn.clone());
    o.put(
        format!("iam_role/{name}"),
        Status::ok_or(details.is_some(), Status::Missing),
    );
    let Some(details) = details else {
        return Ok(());
    };
    let provider = &spec.remote.provider;
    let (attached, inline) = tokio::join!(
        iam::attached_policies(&aws.iam, name),
        iam::inline_policy(&aws.iam, name, policies::NODES_INLINE_POLICY)
    );
    let (attached, inline) = (attached?, inline?);
    let wanted = policies::nodes_managed_policies(provider);
    for m in policies::NODES_MANAGED_POLICIES {
        let has = attached.iter().any(|a| a.ends_with(&format!("/{m}")));
        let status = match (wanted.contains(&m), has) {
            (true, true) => Status::Ok,
            (true, false) => Status::Detached,
            (false, true) => Status::Attached,
            (false, false) => continue,
        };
        o.put(attachment_key(name, m), status);
    }
    let arn = aws_arn::Parts::of(&details.arn);
    let scope = Scope {
        partition: arn.partition,
        region: &aws.region,
        account: arn.account,
    };
    let cluster_arn = format!(
        "arn:{}:eks:{}:{}:cluster/{}",
        scope.partition, scope.region, scope.account, spec.name
    );
    let wanted_inline = policies::nodes_inline_policy(provider, &cluster_arn, &scope);
    o.put(
        inline_policy_key(name),
        document_status(inline.as_deref(), &wanted_inline),
    );
    let anchor = o.trust_anchor_arn.clone();
    let wanted_trust = policies::nodes_trust_policy(provider, &scope, anchor.as_deref());
    let trust_known = *provider == CredentialsProvider::Ssm || anchor.is_some();
    if trust_known {
        o.put(
            trust_policy_key(name),
            document_status(Some(&details.trust), &wanted_trust),
        );
    }
    Ok(())
}

/// The parts of an ARN the documents need.
mod aws_arn {
    pub struct Parts<'a> {
        pub partition: &'a str,
        pub account: &'a str,
    }

    impl<'a> Parts<'a> {
        /// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`
        pub fn of(arn: &'a str) -> Parts<'a> {
            let mut parts = arn.split(':');
            let partition = parts.nth(1).unwrap_or("aws");
            let account = parts.nth(2).unwrap_or_default();
            Parts { partition, account }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_as_shown() {
        for s in [
            "ok",
            "missing",
            "changed",
            "disabled",
            "detached",
            "expired",
            "attached",
            "pendingAcceptance",
        ] {
            let status: Status = s.parse().unwrap();
            assert_eq!(status.to_string(), s);
        }
        assert_eq!(
            "deleted".parse::<Status>().unwrap(),
            Status::Other("deleted".into())
        );
    }

    #[test]
    fn arns_give_partition_and_account() {
        let p = aws_arn::Parts::of("arn:aws-us-gov:iam::123456789012:role/r");
        assert_eq!((p.partition, p.account), ("aws-us-gov", "123456789012"));
    }

    #[test]
    fn documents_drift_when_they_say_something_else() {
        let wanted = policies::cluster_trust_policy();
        assert_eq!(
            document_status(Some(&wanted.to_string()), &wanted),
            Status::Ok
        );
        assert_eq!(document_status(Some("{}"), &wanted), Status::Changed);
        assert_eq!(document_status(None, &wanted), Status::Missing);
    }
}
