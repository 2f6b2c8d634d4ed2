//! Read: looks at every owned object and reports each one's state under a stable key, so a
//! plan shows exactly what drifted (`owned_objects`), and apply knows what to repair. Only the
//! services the inventory names are called: a cluster whose nodes use SSM never calls IAM
//! Roles Anywhere.

use std::collections::BTreeMap;

use aws_sdk_eks::types::Cluster;

use super::inventory::Inventory;
use super::objects::{ObjectKey, ObjectStatus as Status};
use super::policies::{self, Scope};
use super::spec::{nat_gateway_count, DEFAULT_ROUTE};
use super::spec::{ClusterSpec, CredentialsProvider, Gateway, VpcSpec};
use crate::aws::rolesanywhere::AnchorSource;
use crate::aws::{ec2, eks, iam, rolesanywhere, ssm, AwsClients, AwsResult};

#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub statuses: BTreeMap<ObjectKey, Status>,
    pub cluster: Option<Cluster>,
    pub cluster_role_arn: Option<String>,
    pub nodes_role_arn: Option<String>,
    pub trust_anchor_arn: Option<String>,
    pub profile_arn: Option<String>,
    pub access_entry_arn: Option<String>,
    /// The nodes role as read, for the access entry's check.
    pub nodes_role: Option<iam::RoleDetails>,
    /// A cluster of our cluster's name that EKS created at another time than ours: ours was
    /// deleted outside Terraform and someone made this one. It is never read as ours.
    pub other_cluster: Option<Cluster>,
}

impl Observed {
    pub fn status(&self, key: &ObjectKey) -> Option<&Status> {
        self.statuses.get(key)
    }

    /// Observed and not healthy.
    pub fn is_missing(&self, key: &ObjectKey) -> bool {
        self.statuses.get(key).is_some_and(|s| *s != Status::Ok)
    }

    /// Records when EKS created our cluster, as this read found it: a state from before the
    /// time was kept gets it now, and a cluster the provider made again replaces the old time.
    pub fn record_cluster_created_at(&self, inv: &mut Inventory) {
        if let Some(at) = self.cluster.as_ref().and_then(eks::created_at) {
            inv.cluster_created_at = Some(at);
        }
    }

    pub fn all_ok(&self) -> bool {
        self.statuses.values().all(|s| *s == Status::Ok)
    }

    fn put(&mut self, key: ObjectKey, status: Status) {
        self.statuses.insert(key, status);
    }
}

/// The route tables of every subnet the cluster uses, in the provider's VPC.
pub fn cluster_route_tables(inv: &Inventory) -> Vec<String> {
    inv.private_route_table_ids
        .iter()
        .chain(&inv.public_route_table_id)
        .cloned()
        .collect()
}

/// Every read at once: none depends on another's answer, so a refresh takes one round trip
/// (plus one for a brought role behind the access entry, and any further pages).
pub async fn observe(aws: &AwsClients, inv: &Inventory, spec: &ClusterSpec) -> AwsResult<Observed> {
    let (network, identity, cluster) = tokio::join!(
        observe_network(aws, inv, spec),
        observe_identity(aws, inv, spec),
        observe_cluster(aws, inv)
    );
    let (mut o, entry) = cluster?;
    let (net, ident) = (network?, identity?);
    o.statuses.extend(net.statuses);
    o.statuses.extend(ident.statuses);
    if let (Some(name), Some(principal)) = (&inv.cluster_name, &inv.access_entry_principal) {
        let status = match &entry {
            Some(e) if e.kind == "HYBRID_LINUX" => {
                if bound_to_an_older_role(aws, principal, e, &ident.nodes_role).await? {
                    Status::Changed
                } else {
                    Status::Ok
                }
            }
            _ => Status::Missing,
        };
        o.put(ObjectKey::AccessEntry(name.clone()), status);
    }
    o.cluster_role_arn = ident.cluster_role_arn;
    o.nodes_role_arn = ident.nodes_role_arn;
    o.trust_anchor_arn = ident.trust_anchor_arn;
    o.profile_arn = ident.profile_arn;
    Ok(o)
}

/// The cluster, and its access entry (only when the cluster exists), read at once.
async fn observe_cluster(
    aws: &AwsClients,
    inv: &Inventory,
) -> AwsResult<(Observed, Option<eks::AccessEntry>)> {
    let mut o = Observed::default();
    let Some(name) = &inv.cluster_name else {
        return Ok((o, None));
    };
    let entry = async {
        match &inv.access_entry_principal {
            Some(principal) => eks::access_entry(&aws.eks, name, principal).await,
            None => Ok(None),
        }
    };
    let (cluster, entry) = tokio::join!(eks::describe_cluster(&aws.eks, name), entry);
    let (ours, other) = split_by_creation(cluster?, inv.cluster_created_at.as_deref());
    o.cluster = ours;
    let status = match &other {
        Some(_) => Status::not_ours(),
        None => cluster_status(o.cluster.as_ref()),
    };
    o.put(ObjectKey::Cluster(name.clone()), status);
    o.other_cluster = other;
    let entry = if o.cluster.is_some() { entry? } else { None };
    o.access_entry_arn = entry.as_ref().map(|e| e.arn.clone());
    Ok((o, entry))
}

/// EKS binds an access entry to its principal's unique ID (`AROA…`), not its ARN (EKS user
/// guide, "Create access entries": a principal deleted and re-created under the same ARN must
/// get a new entry). A role made after its entry is such a new principal, and nodes assuming
/// it are not authorized by the old entry; so is a role that is gone, which the next apply
/// makes again (the old entry would stay bound to the deleted role). The nodes role was read
/// already; only a brought role is read here.
async fn bound_to_an_older_role(
    aws: &AwsClients,
    principal: &str,
    entry: &eks::AccessEntry,
    nodes_role: &Option<iam::RoleDetails>,
) -> AwsResult<bool> {
    let Some(entry_created) = entry.created_at else {
        return Ok(false);
    };
    let role = match nodes_role.as_ref().filter(|r| r.arn == principal) {
        Some(read) => Some(read.clone()),
        // The published policies let the provider read any role (`ReadRoles`); a caller
        // whose own policy does not reach a brought role gets AccessDenied: then nothing can
        // be told, and the refresh goes on.
        None => match iam::role_details(&aws.iam, iam::role_name_of(principal)).await {
            Ok(None) => return Ok(true),
            Ok(role) => role,
            Err(e) if matches!(e.code(), "AccessDenied" | "AccessDeniedException") => None,
            Err(e) => return Err(e),
        },
    };
    Ok(role
        .and_then(|r| r.created)
        .is_some_and(|role_created| role_created > entry_created))
}

/// A cluster EKS is deleting or has failed is drift: apply makes it again, and what EKS
/// assigns it (endpoint, CA, security group) is planned unknown.
/// (ours, another's): a cluster EKS created at another time than the one recorded is not
/// ours, whatever its name and tags say. With no time recorded (a state from before it was
/// kept) the cluster of that name is taken as ours, as before, and its time recorded.
fn split_by_creation(
    found: Option<Cluster>,
    recorded: Option<&str>,
) -> (Option<Cluster>, Option<Cluster>) {
    match (found, recorded) {
        (Some(c), Some(at)) if eks::created_at(&c).as_deref() != Some(at) => (None, Some(c)),
        (found, _) => (found, None),
    }
}

fn cluster_status(cluster: Option<&aws_sdk_eks::types::Cluster>) -> Status {
    use aws_sdk_eks::types::ClusterStatus as C;
    match cluster.map(|c| c.status()) {
        None => Status::Missing,
        Some(Some(C::Deleting)) => Status::Other("deleting".into()),
        Some(Some(C::Failed)) => Status::failed(),
        Some(_) => Status::Ok,
    }
}

async fn observe_network(
    aws: &AwsClients,
    inv: &Inventory,
    spec: &ClusterSpec,
) -> AwsResult<Observed> {
    let mut o = Observed::default();
    let owned_vpc = inv.vpc_id.as_deref().filter(|_| inv.vpc_owned);
    let vpc = async {
        match owned_vpc {
            // A VPC that is gone has no contents: the filtered reads answer empty.
            Some(id) => {
                let (cidrs, contents) = tokio::join!(
                    ec2::vpc_cidrs(&aws.ec2, id),
                    ec2::vpc_contents(&aws.ec2, id)
                );
                Ok(Some((cidrs?.is_some(), contents?)))
            }
            None => Ok(None),
        }
    };
    let attachment = async {
        match (owned_vpc, inv.gateway(), &inv.gateway_attachment_id) {
            (Some(vpc_id), Some(gw), Some(att)) => gateway_attachment_status(aws, &gw, att, vpc_id)
                .await
                .map(|s| Some((gw, att, s))),
            _ => Ok(None),
        }
    };
    let rules = async {
        match &inv.control_plane_security_group_id {
            Some(sg) => ec2::https_ingress_cidrs(&aws.ec2, sg)
                .await
                .map(|c| Some((sg, c))),
            None => Ok(None),
        }
    };
    let (vpc, attachment, rules) = tokio::join!(vpc, attachment, rules);
    if let (Some(vpc_id), Some((exists, contents))) = (owned_vpc, vpc?) {
        o.put(
            ObjectKey::Vpc(vpc_id.to_string()),
            Status::ok_or(exists, Status::Missing),
        );
        observe_vpc_contents(&mut o, inv, spec, &contents);
    }
    if let Some((gw, att, status)) = attachment? {
        o.put(ObjectKey::gateway_attachment(&gw, att), status);
    }
    if let Some((sg, cidrs)) = rules? {
        o.put(
            ObjectKey::SecurityGroup(sg.clone()),
            Status::ok_or(cidrs.is_some(), Status::Missing),
        );
        let cidrs = cidrs.unwrap_or_default();
        for c in spec.remote.all_cidrs() {
            o.put(
                ObjectKey::security_group_rule(sg, &c),
                Status::ok_or(cidrs.contains(&c), Status::Missing),
            );
        }
    }
    Ok(o)
}

async fn gateway_attachment_status(
    aws: &AwsClients,
    gw: &Gateway,
    att: &str,
    vpc_id: &str,
) -> AwsResult<Status> {
    Ok(match gw {
        Gateway::Transit(_) => match ec2::tgw_attachment_state(&aws.ec2, att).await? {
            None => Status::Missing,
            Some(s) => Status::ok_or(
                s.as_str() == "available",
                s.as_str().parse().unwrap_or_else(|never| match never {}),
            ),
        },
        Gateway::Vpn(vgw) => {
            let state = ec2::vpn_gateway_attachment(&aws.ec2, vgw, vpc_id).await?;
            let s = state.unwrap_or_else(|| "detached".into());
            Status::ok_or(s == "attached" || s == "attaching", Status::Other(s))
        }
    })
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
            ObjectKey::Subnet(s.clone()),
            Status::ok_or(contents.subnet_ids.contains(s), Status::Missing),
        );
    }
    if let Some(igw) = &inv.internet_gateway_id {
        o.put(
            ObjectKey::InternetGateway(igw.clone()),
            Status::ok_or(contents.internet_gateway_ids.contains(igw), Status::Missing),
        );
    }
    for nat in &inv.nat_gateway_ids {
        let status = match contents.nat_gateways.get(nat).map(String::as_str) {
            None => Status::Missing,
            Some("available" | "pending") => Status::Ok,
            Some(state) => Status::Other(state.to_string()),
        };
        o.put(ObjectKey::NatGateway(nat.clone()), status);
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
            for cidr in spec.remote.routed_cidrs() {
                let status = match route_to(&rtb, &cidr) {
                    None => Status::Missing,
                    Some(t) => Status::ok_or(t == gw.id(), Status::Changed),
                };
                o.put(ObjectKey::route(&rtb, &cidr), status);
            }
        }
    }
    let default_route = |rtb: &str, target: &str| match route_to(rtb, DEFAULT_ROUTE) {
        None => Status::Missing,
        Some(t) => Status::ok_or(t == target, Status::Changed),
    };
    if let (Some(rtb), Some(igw)) = (&inv.public_route_table_id, &inv.internet_gateway_id) {
        o.put(
            ObjectKey::route(rtb, DEFAULT_ROUTE),
            default_route(rtb, igw),
        );
    }
    let zones = inv.private_route_table_ids.len();
    let expects_nat = match &spec.vpc {
        VpcSpec::Create { nat, .. } => nat_gateway_count(nat, zones) > 0,
        VpcSpec::Existing { .. } => false,
    };
    if expects_nat {
        for (i, rtb) in inv.private_route_table_ids.iter().enumerate() {
            if let Some(nat) = inv.nat_gateway_ids.get(i).or(inv.nat_gateway_ids.first()) {
                o.put(
                    ObjectKey::route(rtb, DEFAULT_ROUTE),
                    default_route(rtb, nat),
                );
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

/// A role and its managed policies, read at once (a missing role has none).
async fn role_and_policies(
    aws: &AwsClients,
    name: &str,
) -> AwsResult<(Option<iam::RoleDetails>, Vec<String>)> {
    let (details, attached) = tokio::join!(
        iam::role_details(&aws.iam, name),
        iam::attached_policies_if_any(&aws.iam, name)
    );
    Ok((details?, attached?))
}

/// What each Option names is read, all at once.
async fn read_each<'a, T, F, Fut>(
    id: Option<&'a String>,
    read: F,
) -> AwsResult<Option<(&'a String, T)>>
where
    F: FnOnce(&'a String) -> Fut,
    Fut: std::future::Future<Output = AwsResult<T>>,
{
    match id {
        Some(id) => Ok(Some((id, read(id).await?))),
        None => Ok(None),
    }
}

async fn observe_identity(
    aws: &AwsClients,
    inv: &Inventory,
    spec: &ClusterSpec,
) -> AwsResult<Observed> {
    let ra = &aws.rolesanywhere;
    let activation = inv.ssm_activation.as_ref().map(|a| &a.id);
    let (cluster_role, anchor, nodes_role, activation, profile) = tokio::join!(
        read_each(inv.cluster_role_name.as_ref(), |n| role_and_policies(
            aws, n
        )),
        read_each(inv.trust_anchor_id.as_ref(), |id| {
            rolesanywhere::trust_anchor(ra, id)
        }),
        read_each(inv.nodes_role_name.as_ref(), |n| read_nodes_role(aws, n)),
        read_each(activation, |id| ssm::activation_expired(&aws.ssm, id)),
        read_each(inv.profile_id.as_ref(), |id| rolesanywhere::profile(ra, id)),
    );
    let mut o = Observed::default();
    if let Some((name, (details, attached))) = cluster_role? {
        observe_boundary(&mut o, name, details.as_ref(), spec);
        observe_cluster_role(&mut o, name, details, &attached);
    }
    if let Some((id, anchor)) = anchor? {
        let status = anchor_status(anchor.as_ref(), &spec.remote.anchor_source());
        o.put(ObjectKey::TrustAnchor(id.clone()), status);
        o.trust_anchor_arn = anchor.map(|a| a.arn);
    }
    if let Some((name, read)) = nodes_role? {
        observe_boundary(&mut o, name, read.details.as_ref(), spec);
        observe_nodes_role(aws, &mut o, name, spec, read);
    }
    if let Some((id, expired)) = activation? {
        let status = match expired {
            None => Status::Missing,
            Some(true) => Status::Expired,
            Some(false) => Status::Ok,
        };
        o.put(ObjectKey::SsmActivation(id.clone()), status);
    }
    if let Some((id, profile)) = profile? {
        let status = profile_status(profile.as_ref(), o.nodes_role_arn.as_deref());
        o.put(ObjectKey::Profile(id.clone()), status);
        o.profile_arn = profile.map(|p| p.arn);
    }
    Ok(o)
}

/// A Roles Anywhere object: missing, disabled or fine.
/// Disabled, or trusting another CA than the configuration's (UpdateTrustAnchor behind
/// Terraform's back): either way nodes' certificates stop working, and apply puts it back.
fn anchor_status(anchor: Option<&rolesanywhere::TrustAnchor>, wanted: &AnchorSource) -> Status {
    match anchor {
        None => Status::Missing,
        Some(a) if !a.enabled => Status::Disabled,
        Some(a)
            if !a
                .source
                .as_ref()
                .is_some_and(|s| trusts_the_same(s, wanted)) =>
        {
            Status::Changed
        }
        Some(_) => Status::Ok,
    }
}

pub fn trusts_the_same(found: &AnchorSource, wanted: &AnchorSource) -> bool {
    match (found, wanted) {
        (AnchorSource::Bundle(a), AnchorSource::Bundle(b)) => super::certs::same_certificates(a, b),
        (a, b) => a == b,
    }
}

/// Disabled, or handing out another role or refusing the node's session name: apply puts it
/// back. With the nodes role unread (missing), its ARN, which a repair keeps, is not checked.
fn profile_status(profile: Option<&rolesanywhere::Profile>, nodes_role: Option<&str>) -> Status {
    match profile {
        None => Status::Missing,
        Some(p) if !p.enabled => Status::Disabled,
        Some(p) if nodes_role.is_some_and(|role| !p.serves_only(role)) => Status::Changed,
        Some(_) => Status::Ok,
    }
}

/// With `role_permissions_boundary` set, whether a role of ours carries it (a missing role
/// is the role's own drift). Without it, a boundary is not looked at.
fn observe_boundary(
    o: &mut Observed,
    name: &str,
    details: Option<&iam::RoleDetails>,
    spec: &ClusterSpec,
) {
    let (Some(wanted), Some(role)) = (&spec.role_permissions_boundary, details) else {
        return;
    };
    o.put(
        ObjectKey::IamRolePermissionsBoundary(name.to_string()),
        Status::ok_or(role.boundary.as_ref() == Some(wanted), Status::Changed),
    );
}

fn observe_cluster_role(
    o: &mut Observed,
    name: &str,
    details: Option<iam::RoleDetails>,
    attached: &[String],
) {
    o.cluster_role_arn = details.as_ref().map(|d| d.arn.clone());
    o.put(
        ObjectKey::IamRole(name.to_string()),
        Status::ok_or(details.is_some(), Status::Missing),
    );
    if let Some(d) = &details {
        let has = attached
            .iter()
            .any(|a| a.ends_with(&format!("/{}", policies::CLUSTER_MANAGED_POLICY)));
        o.put(
            ObjectKey::policy_attachment(name, policies::CLUSTER_MANAGED_POLICY),
            Status::ok_or(has, Status::Detached),
        );
        o.put(
            ObjectKey::IamRoleTrustPolicy(name.to_string()),
            document_status(Some(&d.trust), &policies::cluster_trust_policy()),
        );
    }
}

/// The nodes role, its managed policies and its inline policy, read at once.
struct NodesRoleRead {
    details: Option<iam::RoleDetails>,
    attached: Vec<String>,
    inline: Option<String>,
}

async fn read_nodes_role(aws: &AwsClients, name: &str) -> AwsResult<NodesRoleRead> {
    let (role, inline) = tokio::join!(
        role_and_policies(aws, name),
        iam::inline_policy(&aws.iam, name, policies::NODES_INLINE_POLICY)
    );
    let (details, attached) = role?;
    // GetRolePolicy answers NoSuchEntity for a missing role too: no inline policy then.
    Ok(NodesRoleRead {
        details,
        attached,
        inline: inline?,
    })
}

/// The nodes role, its managed policies (and none of ours it should not have), its inline
/// policy and its trust policy, each compared with what the configuration wants.
fn observe_nodes_role(
    aws: &AwsClients,
    o: &mut Observed,
    name: &str,
    spec: &ClusterSpec,
    read: NodesRoleRead,
) {
    o.nodes_role_arn = read.details.as_ref().map(|d| d.arn.clone());
    o.nodes_role = read.details.clone();
    o.put(
        ObjectKey::IamRole(name.to_string()),
        Status::ok_or(read.details.is_some(), Status::Missing),
    );
    let Some(details) = read.details else {
        return;
    };
    let provider = &spec.remote.provider;
    let wanted = policies::nodes_managed_policies(provider);
    for m in policies::NODES_MANAGED_POLICIES {
        let has = read.attached.iter().any(|a| a.ends_with(&format!("/{m}")));
        let status = match (wanted.contains(&m), has) {
            (true, true) => Status::Ok,
            (true, false) => Status::Detached,
            (false, true) => Status::Attached,
            (false, false) => continue,
        };
        o.put(ObjectKey::policy_attachment(name, m), status);
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
    let wanted_inline =
        policies::nodes_inline_policy(provider, &cluster_arn, &scope, spec.remote.pod_identity);
    o.put(
        ObjectKey::inline_policy(name, policies::NODES_INLINE_POLICY),
        document_status(read.inline.as_deref(), &wanted_inline),
    );
    let anchor = o.trust_anchor_arn.clone();
    let wanted_trust = policies::nodes_trust_policy(provider, &scope, anchor.as_deref());
    let trust_known = *provider == CredentialsProvider::Ssm || anchor.is_some();
    if trust_known {
        o.put(
            ObjectKey::IamRoleTrustPolicy(name.to_string()),
            document_status(Some(&details.trust), &wanted_trust),
        );
    }
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
    fn a_cluster_made_at_another_time_than_ours_is_not_ours() {
        let made_at = |secs: i64| {
            Cluster::builder()
                .name("demo")
                .created_at(aws_sdk_eks::primitives::DateTime::from_secs(secs))
                .build()
        };
        let ours = eks::created_at(&made_at(1_790_000_000)).unwrap();
        assert_eq!(ours, "2026-09-21T14:13:20Z");
        let (mine, other) = split_by_creation(Some(made_at(1_790_000_000)), Some(&ours));
        assert!(mine.is_some() && other.is_none());
        let (mine, other) = split_by_creation(Some(made_at(1_790_000_900)), Some(&ours));
        assert!(mine.is_none() && other.is_some());
        // A state from before the time was kept takes the cluster of its name, as before.
        let (mine, other) = split_by_creation(Some(made_at(1_790_000_900)), None);
        assert!(mine.is_some() && other.is_none());
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
