//! The EKS API (REST-JSON) as the provider uses it, with AWS's validation and messages. The
//! operation and its input (URI labels, query and body) come from botocore's model
//! (`model.rs`), which has already checked the request contract.

use std::collections::BTreeMap;
use std::time::Instant;

use ipnet::Ipv4Net;
use serde_json::{json, Value as Json};

use crate::http::{aws_error, aws_error_body, json as ok_json, now_epoch, page, Resp};
use crate::iam::{self, Propagation};
use crate::moto::Moto;
use crate::state::{partition_of, Shared, ACCOUNT};
use crate::zones;

pub struct Cluster {
    pub body: Json,
    pub region: String,
    pub created: Instant,
    pub deleting_since: Option<Instant>,
    pub updates: Vec<Update>,
    pub access_entries: BTreeMap<String, Json>,
    /// The unique ID (`AROA…`) of each entry's principal when the entry was made: EKS binds
    /// an access entry to the principal behind the ARN (EKS API reference,
    /// `AccessEntry.principalArn`; IAM user guide, "Unique identifiers"), so a role deleted
    /// and made again under the same ARN does not match its old entry.
    pub principal_ids: BTreeMap<String, String>,
    pub addons: BTreeMap<String, Json>,
    pub security_group_id: String,
    /// EKS's upgrade insights found an upgrade-blocking issue (a deprecated API in use, a
    /// kubelet version skew): a version update needs `force` (EKS API reference,
    /// UpdateClusterVersion `force`, InvalidStateException; EKS user guide, "Cluster insights").
    pub upgrade_blocked: bool,
}

pub struct Update {
    pub body: Json,
    pub started: Instant,
}

const NODE_TYPES: [&str; 4] = ["EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX"];
const VALID_TYPES: [&str; 7] = [
    "STANDARD",
    "FARGATE_LINUX",
    "EC2_LINUX",
    "EC2_WINDOWS",
    "EC2",
    "HYBRID_LINUX",
    "HYPERPOD_LINUX",
];

fn invalid(msg: &str) -> Resp {
    aws_error(400, "InvalidParameterException", msg)
}

fn not_found(msg: &str) -> Resp {
    aws_error(404, "ResourceNotFoundException", msg)
}

fn in_use(msg: &str) -> Resp {
    aws_error(409, "ResourceInUseException", msg)
}

fn server_error(e: &str) -> Resp {
    aws_error(500, "ServerException", e)
}

fn s<'a>(input: &'a Json, member: &str) -> &'a str {
    input[member].as_str().unwrap_or_default()
}

/// No such cluster. EKS answers a name it once had with `ClientException: No cluster found
/// for name` instead of ResourceNotFoundException (the Terraform AWS provider handles both:
/// `internal/service/eks/cluster.go`, findClusterByName).
fn no_cluster(deleted_before: bool, name: &str) -> Resp {
    let message = format!("No cluster found for name: {name}.");
    if deleted_before {
        aws_error(400, "ClientException", &message)
    } else {
        not_found(&message)
    }
}

/// Runs one EKS operation, named by the model.
pub async fn handle(shared: &Shared, moto: &Moto, region: &str, op: &str, input: &Json) -> Resp {
    advance(shared, moto).await;
    match op {
        "CreateCluster" => create_cluster(shared, moto, region, input).await,
        "ListClusters" => {
            let st = shared.lock().await;
            let names: Vec<&String> = st.clusters.keys().collect();
            let (names, next) = page(
                &names,
                input["nextToken"].as_str(),
                input["maxResults"].as_u64(),
                st.knobs.page_size,
            );
            ok_json(200, json!({"clusters": names, "nextToken": next}))
        }
        "DescribeCluster" => {
            with_cluster(shared, s(input, "name"), |c| {
                ok_json(200, json!({"cluster": c.body}))
            })
            .await
        }
        "DeleteCluster" => delete_cluster(shared, s(input, "name")).await,
        "UpdateClusterVersion" => update_version(shared, input).await,
        "UpdateClusterConfig" => update_config(shared, input).await,
        "DescribeUpdate" => {
            let id = s(input, "updateId");
            with_cluster(shared, s(input, "name"), |c| {
                match c.updates.iter().find(|u| u.body["id"] == id) {
                    Some(u) => ok_json(200, json!({"update": u.body})),
                    None => not_found(&format!("No update found for ID: {id}")),
                }
            })
            .await
        }
        "CreateAccessEntry" => create_access_entry(shared, moto, region, input).await,
        "ListAccessEntries" => {
            let page_size = shared.lock().await.knobs.page_size;
            with_cluster(shared, s(input, "clusterName"), |c| {
                let principals: Vec<&String> = c.access_entries.keys().collect();
                let (principals, next) = page(
                    &principals,
                    input["nextToken"].as_str(),
                    input["maxResults"].as_u64(),
                    page_size,
                );
                ok_json(200, json!({"accessEntries": principals, "nextToken": next}))
            })
            .await
        }
        "DescribeAccessEntry" => {
            let principal = s(input, "principalArn");
            with_cluster(shared, s(input, "clusterName"), |c| {
                match c.access_entries.get(principal) {
                    Some(e) => ok_json(200, json!({"accessEntry": e})),
                    None => not_found(&format!(
                        "The specified access entry resource is not found: {principal}"
                    )),
                }
            })
            .await
        }
        "UpdateAccessEntry" => update_access_entry(shared, input).await,
        "DeleteAccessEntry" => {
            let (name, principal) = (s(input, "clusterName"), s(input, "principalArn"));
            let mut st = shared.lock().await;
            let deleted_before = st.deleted_clusters.contains(name);
            match st.clusters.get_mut(name) {
                None => no_cluster(deleted_before, name),
                Some(c) => match c.access_entries.remove(principal) {
                    Some(_) => {
                        c.principal_ids.remove(principal);
                        ok_json(200, json!({}))
                    }
                    None => not_found(&format!(
                        "The specified access entry resource is not found: {principal}"
                    )),
                },
            }
        }
        "TagResource" | "UntagResource" | "ListTagsForResource" => tags(shared, op, input).await,
        "DescribeAddonVersions" => ok_json(200, json!({"addons": []})),
        "DescribeClusterVersions" => describe_cluster_versions(input),
        "CreateAddon" => create_addon(shared, input).await,
        "DescribeAddon" => {
            let addon = s(input, "addonName");
            let name = s(input, "clusterName");
            with_cluster(shared, name, |c| match c.addons.get(addon) {
                Some(a) => ok_json(200, json!({"addon": a})),
                None => not_found(&format!("No addon: {addon} found in cluster: {name}")),
            })
            .await
        }
        "DeleteAddon" => {
            let (name, addon) = (s(input, "clusterName"), s(input, "addonName"));
            let mut st = shared.lock().await;
            match st.clusters.get_mut(name).map(|c| c.addons.remove(addon)) {
                Some(Some(a)) => ok_json(200, json!({"addon": a})),
                _ => not_found(&format!("No addon: {addon} found in cluster: {name}")),
            }
        }
        _ => aws_error(
            404,
            "UnknownOperationException",
            &format!("{op} is an EKS operation the testbed does not model"),
        ),
    }
}

/// The Kubernetes versions EKS offers, as of 2026-12, with their support status: EKS user
/// guide, "Understand the Kubernetes version lifecycle on EKS" (14 months of standard support
/// from each version's EKS release, then 12 of extended support; the release calendar there).
/// Older versions are `UNSUPPORTED` and listed only with `includeAll`.
const CLUSTER_VERSIONS: [(&str, &str); 7] = [
    ("1.30", "UNSUPPORTED"),
    ("1.31", "UNSUPPORTED"),
    ("1.32", "EXTENDED_SUPPORT"),
    ("1.33", "EXTENDED_SUPPORT"),
    ("1.34", "STANDARD_SUPPORT"),
    ("1.35", "STANDARD_SUPPORT"),
    ("1.36", "STANDARD_SUPPORT"),
];

/// The cluster's version when CreateCluster gives none: EKS's default (`defaultVersion`).
pub const DEFAULT_VERSION: &str = "1.33";

/// Whether EKS creates clusters of this version (standard or extended support).
fn offered(version: &str) -> bool {
    CLUSTER_VERSIONS
        .iter()
        .any(|(v, status)| *v == version && *status != "UNSUPPORTED")
}

/// DescribeClusterVersions (botocore's eks model): the versions asked for (`clusterVersions`),
/// or all; unsupported ones only with `includeAll`.
fn describe_cluster_versions(input: &Json) -> Resp {
    let asked: Vec<&str> = input["clusterVersions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .collect();
    let include_all = input["includeAll"].as_bool().unwrap_or(false);
    let versions: Vec<Json> = CLUSTER_VERSIONS
        .iter()
        .filter(|(v, status)| {
            (asked.is_empty() || asked.contains(v)) && (include_all || *status != "UNSUPPORTED")
        })
        .map(|(v, status)| {
            json!({
                "clusterVersion": v,
                "clusterType": "eks",
                "defaultVersion": *v == DEFAULT_VERSION,
                "versionStatus": status,
            })
        })
        .collect();
    ok_json(200, json!({"clusterVersions": versions}))
}

/// An add-on is ACTIVE at once; only the name and version are modelled.
async fn create_addon(shared: &Shared, input: &Json) -> Resp {
    let (name, addon) = (s(input, "clusterName"), s(input, "addonName").to_string());
    let version = input["addonVersion"]
        .as_str()
        .unwrap_or("v1.19.0-eksbuild.1");
    if !version.starts_with('v') || !version.contains("-eksbuild.") {
        return invalid(&format!("Addon version {version} is not supported"));
    }
    let mut st = shared.lock().await;
    let Some(c) = st.clusters.get_mut(name) else {
        return not_found(&format!("No cluster found for name: {name}."));
    };
    if c.addons.contains_key(&addon) {
        return in_use(&format!("Addon already exists: {addon}"));
    }
    let body = json!({
        "addonName": addon,
        "clusterName": name,
        "status": "ACTIVE",
        "addonVersion": version,
        "addonArn": format!("arn:{}:eks:{}:{ACCOUNT}:addon/{name}/{addon}/0", partition_of(&c.region), c.region),
    });
    c.addons.insert(addon, body.clone());
    ok_json(200, json!({"addon": body}))
}

async fn with_cluster(shared: &Shared, name: &str, f: impl FnOnce(&Cluster) -> Resp) -> Resp {
    let st = shared.lock().await;
    match st.clusters.get(name) {
        Some(c) => f(c),
        None => no_cluster(st.deleted_clusters.contains(name), name),
    }
}

/// Moves clusters and updates along their lifecycles; deleted clusters take their security
/// group with them, as EKS does.
pub async fn advance(shared: &Shared, moto: &Moto) {
    let mut gone = Vec::new();
    {
        let mut st = shared.lock().await;
        let knobs = st.knobs.clone();
        for c in st.clusters.values_mut() {
            if c.body["status"] == "CREATING" && c.created.elapsed() >= knobs.eks_create {
                c.body["status"] = json!("ACTIVE");
            }
            for u in &mut c.updates {
                if u.body["status"] == "InProgress" && u.started.elapsed() >= knobs.eks_update {
                    u.body["status"] = json!("Successful");
                }
            }
            if c.body["status"] == "UPDATING"
                && c.updates.iter().all(|u| u.body["status"] != "InProgress")
            {
                c.body["status"] = json!("ACTIVE");
            }
        }
        let names: Vec<String> = st
            .clusters
            .iter()
            .filter(|(_, c)| {
                c.deleting_since
                    .is_some_and(|t| t.elapsed() >= knobs.eks_delete)
            })
            .map(|(n, _)| n.clone())
            .collect();
        for n in names {
            if let Some(c) = st.clusters.remove(&n) {
                gone.push((c.region, c.security_group_id));
            }
            st.deleted_clusters.insert(n);
        }
    }
    for (region, sg) in gone {
        let _ = moto.delete_security_group(&region, &sg).await;
    }
}

fn cidrs_of(v: &Json, key: &str) -> Result<Vec<Vec<String>>, String> {
    let Some(list) = v.get(key).and_then(Json::as_array) else {
        return Ok(vec![]);
    };
    list.iter()
        .map(|n| {
            n.get("cidrs")
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.as_str().map(str::to_string))
                        .collect()
                })
                .ok_or_else(|| format!("{key} entries need cidrs"))
        })
        .collect()
}

/// RFC 1918, and CGNAT (100.64.0.0/10) since EKS's service change of May 2026 (followed by
/// the Terraform AWS provider in PR #47988).
fn private_or_cgnat(n: &Ipv4Net) -> bool {
    [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
    ]
    .iter()
    .any(|r| r.parse::<Ipv4Net>().expect("range").contains(n))
}

fn overlap(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// EKS's checks on remoteNetworkConfig, with its wording.
fn check_remote_networks(
    remote: &Json,
    vpc_cidrs: &[Ipv4Net],
    service: &Ipv4Net,
) -> Result<(), String> {
    let nodes = cidrs_of(remote, "remoteNodeNetworks")?;
    let pods = cidrs_of(remote, "remotePodNetworks")?;
    let mut seen: Vec<(Ipv4Net, &str)> = Vec::new();
    for (kind, lists) in [("node", &nodes), ("pod", &pods)] {
        for c in lists.iter().flatten() {
            let net: Ipv4Net = c.parse().map_err(|_| {
                format!("Invalid remote {kind} network: {c} is not a valid IPv4 CIDR")
            })?;
            if net.trunc() != net {
                return Err(format!(
                    "Invalid remote {kind} network: {c} is not a valid network address"
                ));
            }
            if !(8..=32).contains(&net.prefix_len()) {
                return Err(format!(
                    "Invalid remote {kind} network: CIDR {c} must be between /8 and /32"
                ));
            }
            if !private_or_cgnat(&net) {
                return Err(format!("Invalid remote {kind} network: CIDR {c} must be within RFC-1918 private address space or 100.64.0.0/10"));
            }
            if let Some(v) = vpc_cidrs.iter().find(|v| overlap(v, &net)) {
                return Err(format!(
                    "Invalid remote {kind} network: CIDR {c} overlaps with VPC CIDR {v}"
                ));
            }
            if overlap(service, &net) {
                return Err(format!(
                    "Invalid remote {kind} network: CIDR {c} overlaps with service CIDR {service}"
                ));
            }
            if let Some((o, okind)) = seen.iter().find(|(o, _)| overlap(o, &net)) {
                return Err(format!("Invalid remote {kind} network: CIDR {c} overlaps with remote {okind} network CIDR {o}"));
            }
            seen.push((net, kind));
        }
    }
    Ok(())
}

/// What EKS checks of the cluster role: visible (after IAM propagation), trusting
/// eks.amazonaws.com, with permissions: AmazonEKSClusterPolicy or, since 2023, an equivalent
/// policy of the customer's own (aws/containers-roadmap #122), attached or inline. A role with
/// no policy at all is refused with the managed-policy message.
async fn check_cluster_role(
    shared: &Shared,
    moto: &Moto,
    region: &str,
    role_arn: &str,
) -> Result<(), Resp> {
    let name = iam::role_name(role_arn);
    // A role lives in one partition, the one its ARN names (IAM user guide, "Identify AWS
    // resources with ARNs": each account is scoped to one partition).
    if role_arn.split(':').nth(1) != Some(partition_of(region)) {
        return Err(invalid(&format!("roleArn, {role_arn}, does not exist")));
    }
    {
        let mut st = shared.lock().await;
        if let Some(p) = st.iam.propagating(name) {
            let refusals = st.iam.refuse(name);
            return Err(invalid(&iam::cluster_role_message(&p, role_arn, refusals)));
        }
    }
    let trust = match moto.role_trust(region, name).await {
        Ok(Some(trust)) => trust,
        Ok(None) => return Err(invalid(&format!("roleArn, {role_arn}, does not exist"))),
        Err(e) => return Err(server_error(&e)),
    };
    if !trust.contains("eks.amazonaws.com") {
        return Err(invalid(
            "Role could not be assumed because the trusted entity is not correct",
        ));
    }
    let (attached, inline) = tokio::join!(
        moto.attached_policies(region, name),
        moto.inline_policies(region, name)
    );
    match attached.and_then(|a| Ok((a, inline?))) {
        Ok((a, i)) if !a.is_empty() || !i.is_empty() => Ok(()),
        Ok(_) => Err(invalid(&iam::cluster_role_message(
            &Propagation::Policies,
            role_arn,
            0,
        ))),
        Err(e) => Err(server_error(&e)),
    }
}

/// EKS relays EC2's answer for a subnet or security group it cannot see.
fn ec2_unseen(id: &str) -> String {
    let (code, message) = crate::ec2::not_found(id)
        .unwrap_or(("InvalidParameterValue", format!("'{id}' does not exist")));
    format!("{message} (Service: AmazonEC2; Status Code: 400; Error Code: {code})")
}

/// Subnets and security groups EKS cannot see yet (EC2 eventual consistency) or at all.
async fn check_network(
    shared: &Shared,
    moto: &Moto,
    region: &str,
    subnet_ids: &[String],
    group_ids: &[String],
) -> Result<Vec<(String, String)>, Resp> {
    {
        let st = shared.lock().await;
        if let Some(id) = subnet_ids
            .iter()
            .chain(group_ids)
            .find(|id| st.ec2.is_fresh(id))
        {
            return Err(invalid(&ec2_unseen(id)));
        }
    }
    match moto.subnets(region, subnet_ids).await {
        Err(e) => Err(server_error(&e)),
        Ok(Err(missing)) => Err(invalid(&ec2_unseen(&missing))),
        Ok(Ok(s)) => Ok(s),
    }
}

/// EKS refuses subnets in the zone IDs it does not support, naming the zones it accepts
/// (UnsupportedAvailabilityZoneException carries `validZones`; the message is EKS's, as
/// rancher/rancher #14224 shows it).
async fn check_zones(
    shared: &Shared,
    moto: &Moto,
    region: &str,
    name: &str,
    subnets: &[(String, String)],
) -> Result<(), Resp> {
    let zones = zones::of_region(shared, moto, region).await;
    let refused = |z: &str| {
        zones::zone_id(&zones, z).is_some_and(|id| zones::EKS_UNSUPPORTED_ZONE_IDS.contains(&id))
    };
    let Some((_, zone)) = subnets.iter().find(|(_, z)| refused(z)) else {
        return Ok(());
    };
    let valid: Vec<&str> = zones
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|z| !refused(z))
        .collect();
    let message = format!("Cannot create cluster '{name}' because {zone}, the targeted availability zone, does not currently have sufficient capacity to support the cluster. Retry and choose from these availability zones: {}", valid.join(", "));
    Err(aws_error_body(
        400,
        "UnsupportedAvailabilityZoneException",
        json!({"message": message, "clusterName": name, "validZones": valid}),
    ))
}

async fn create_cluster(shared: &Shared, moto: &Moto, region: &str, input: &Json) -> Resp {
    let (name, role_arn) = (s(input, "name"), s(input, "roleArn"));
    if shared.lock().await.clusters.contains_key(name) {
        return in_use(&format!("Cluster already exists with name: {name}"));
    }
    if let Some(v) = input["version"].as_str() {
        if !offered(v) {
            return invalid(&format!("unsupported Kubernetes version {v}"));
        }
    }
    let vpc_cfg = &input["resourcesVpcConfig"];
    let strings = |v: &Json| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let subnet_ids = strings(&vpc_cfg["subnetIds"]);
    let group_ids = strings(&vpc_cfg["securityGroupIds"]);
    let subnets = match check_network(shared, moto, region, &subnet_ids, &group_ids).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut azs: Vec<&String> = subnets.iter().map(|(_, az)| az).collect();
    azs.sort();
    azs.dedup();
    if azs.len() < 2 {
        return invalid("Subnets specified must be in at least two different AZs");
    }
    let vpc_id = subnets[0].0.clone();
    if subnets.iter().any(|(v, _)| *v != vpc_id) {
        return invalid("Subnets must all be in the same VPC");
    }
    if let Err(r) = check_cluster_role(shared, moto, region, role_arn).await {
        return r;
    }
    if let Err(r) = check_zones(shared, moto, region, name, &subnets).await {
        return r;
    }
    let vpc_cidrs: Vec<Ipv4Net> = match moto.vpc_cidrs(region, &vpc_id).await {
        Ok(c) => c.iter().filter_map(|c| c.parse().ok()).collect(),
        Err(e) => return server_error(&e),
    };
    let service_cidr = match input["kubernetesNetworkConfig"]["serviceIpv4Cidr"].as_str() {
        Some(s) => s.to_string(),
        None if vpc_cidrs
            .iter()
            .any(|v| overlap(v, &"10.0.0.0/8".parse().expect("range"))) =>
        {
            "172.20.0.0/16".into()
        }
        None => "10.100.0.0/16".into(),
    };
    let Ok(service_net) = service_cidr.parse::<Ipv4Net>() else {
        return invalid(&format!("Invalid service CIDR {service_cidr}"));
    };
    let auth_mode = input["accessConfig"]["authenticationMode"]
        .as_str()
        .unwrap_or("CONFIG_MAP");
    let remote = &input["remoteNetworkConfig"];
    if remote.is_object() {
        if auth_mode == "CONFIG_MAP" {
            return invalid("AccessConfig AuthMode must be API_AND_CONFIG_MAP or API when remoteNetworkConfig is specified");
        }
        if let Err(e) = check_remote_networks(remote, &vpc_cidrs, &service_net) {
            return invalid(&e);
        }
    }
    let sg = match moto
        .create_security_group(region, &vpc_id, &format!("eks-cluster-sg-{name}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]), "EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, as well as any managed workloads.")
        .await
    {
        Ok(sg) => sg,
        Err(e) => return server_error(&e),
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let body = json!({
        "name": name,
        "arn": format!("arn:{}:eks:{region}:{ACCOUNT}:cluster/{name}", partition_of(region)),
        "createdAt": now_epoch(),
        "version": input["version"].as_str().unwrap_or(DEFAULT_VERSION),
        "endpoint": format!("https://{}.gr7.{region}.eks.amazonaws.com", id.to_uppercase()),
        "roleArn": role_arn,
        "resourcesVpcConfig": {
            "subnetIds": subnet_ids,
            "securityGroupIds": group_ids,
            "clusterSecurityGroupId": sg,
            "vpcId": vpc_id,
            "endpointPublicAccess": vpc_cfg["endpointPublicAccess"].as_bool().unwrap_or(true),
            "endpointPrivateAccess": vpc_cfg["endpointPrivateAccess"].as_bool().unwrap_or(false),
            "publicAccessCidrs": ["0.0.0.0/0"]
        },
        "kubernetesNetworkConfig": {"serviceIpv4Cidr": service_cidr, "ipFamily": "ipv4"},
        "status": "CREATING",
        "certificateAuthority": {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCnRlc3RiZWQKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="},
        "platformVersion": "eks.1",
        "tags": input["tags"].as_object().cloned().unwrap_or_default(),
        "accessConfig": {"authenticationMode": auth_mode, "bootstrapClusterCreatorAdminPermissions": true},
        "remoteNetworkConfig": if remote.is_object() { remote.clone() } else { Json::Null },
    });
    let mut st = shared.lock().await;
    if st.clusters.contains_key(name) {
        drop(st);
        let _ = moto.delete_security_group(region, &sg).await;
        return in_use(&format!("Cluster already exists with name: {name}"));
    }
    st.deleted_clusters.remove(name);
    st.clusters.insert(
        name.to_string(),
        Cluster {
            body: body.clone(),
            region: region.into(),
            created: Instant::now(),
            deleting_since: None,
            updates: vec![],
            access_entries: BTreeMap::new(),
            principal_ids: BTreeMap::new(),
            addons: BTreeMap::new(),
            security_group_id: sg,
            upgrade_blocked: false,
        },
    );
    ok_json(200, json!({"cluster": body}))
}

async fn delete_cluster(shared: &Shared, name: &str) -> Resp {
    let mut st = shared.lock().await;
    let deleted_before = st.deleted_clusters.contains(name);
    let Some(c) = st.clusters.get_mut(name) else {
        return no_cluster(deleted_before, name);
    };
    if c.body["status"] == "CREATING" || c.body["status"] == "UPDATING" {
        return in_use(&format!(
            "Cannot delete because cluster {name} currently has an update in progress"
        ));
    }
    if c.deleting_since.is_none() {
        c.deleting_since = Some(Instant::now());
        c.body["status"] = json!("DELETING");
    }
    ok_json(200, json!({"cluster": c.body}))
}

fn start_update(c: &mut Cluster, kind: &str, params: Vec<Json>) -> Resp {
    let update = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "status": "InProgress",
        "type": kind,
        "params": params,
        "createdAt": now_epoch(),
        "errors": []
    });
    c.updates.push(Update {
        body: update.clone(),
        started: Instant::now(),
    });
    c.body["status"] = json!("UPDATING");
    ok_json(200, json!({"update": update}))
}

#[allow(clippy::result_large_err)]
fn ready_for_update<'a>(
    st: &'a mut crate::state::State,
    name: &str,
) -> Result<&'a mut Cluster, Resp> {
    let deleted_before = st.deleted_clusters.contains(name);
    let c = st
        .clusters
        .get_mut(name)
        .ok_or_else(|| no_cluster(deleted_before, name))?;
    if c.body["status"] != "ACTIVE" || c.updates.iter().any(|u| u.body["status"] == "InProgress") {
        return Err(in_use("Cluster has an update in progress"));
    }
    Ok(c)
}

async fn update_version(shared: &Shared, input: &Json) -> Resp {
    let mut st = shared.lock().await;
    let c = match ready_for_update(&mut st, s(input, "name")) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(target) = input["version"].as_str() else {
        return invalid("version is required");
    };
    let minor = |v: &str| v.split('.').nth(1).and_then(|m| m.parse::<i64>().ok());
    let current = c.body["version"].as_str().unwrap_or_default().to_string();
    match (minor(&current), minor(target)) {
        (Some(a), Some(b)) if b == a + 1 => {}
        (Some(a), Some(b)) if b == a => {
            return invalid(&format!("Cluster is already at version {current}"))
        }
        _ => {
            return invalid(&format!(
                "Unsupported Kubernetes minor version update from {current} to {target}"
            ))
        }
    }
    if c.upgrade_blocked && input["force"] != json!(true) {
        return aws_error(
            400,
            "InvalidStateException",
            "Upgrade readiness issues detected. Call the EKS ListInsights API to view upgrade blocking issues detected by EKS. Pass the force flag to override upgrade readiness errors and proceed with upgrade.",
        );
    }
    c.body["version"] = json!(target);
    start_update(
        c,
        "VersionUpdate",
        vec![json!({"type": "Version", "value": target})],
    )
}

/// The members of UpdateClusterConfig that each make an update of their own (botocore's eks
/// model, UpdateClusterConfigRequest; `clientRequestToken` and `name` are not updates).
const CONFIG_UPDATE_MEMBERS: [&str; 10] = [
    "resourcesVpcConfig",
    "logging",
    "accessConfig",
    "upgradePolicy",
    "zonalShiftConfig",
    "computeConfig",
    "kubernetesNetworkConfig",
    "storageConfig",
    "remoteNetworkConfig",
    "deletionProtection",
];

/// EKS takes one type of update per UpdateClusterConfig call: two members at once are
/// refused with InvalidParameterException "Only one type of update can be allowed."
/// (kubernetes-sigs/cluster-api-provider-aws#3553, aws/aws-cdk#21439 and #33452,
/// cloud-custodian#9250 quote the same answer).
fn more_than_one_update(input: &Json) -> bool {
    CONFIG_UPDATE_MEMBERS
        .iter()
        .filter(|m| input.get(**m).is_some_and(|v| !v.is_null()))
        .count()
        > 1
}

async fn update_config(shared: &Shared, input: &Json) -> Resp {
    if more_than_one_update(input) {
        return invalid("Only one type of update can be allowed.");
    }
    let mut st = shared.lock().await;
    let c = match ready_for_update(&mut st, s(input, "name")) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut params = vec![];
    if let Some(v) = input.get("resourcesVpcConfig").filter(|v| v.is_object()) {
        for (k, p) in [
            ("endpointPublicAccess", "EndpointPublicAccess"),
            ("endpointPrivateAccess", "EndpointPrivateAccess"),
        ] {
            if let Some(b) = v[k].as_bool() {
                if c.body["resourcesVpcConfig"][k] != json!(b) {
                    c.body["resourcesVpcConfig"][k] = json!(b);
                    params.push(json!({"type": p, "value": b.to_string()}));
                }
            }
        }
    }
    if let Some(r) = input.get("remoteNetworkConfig").filter(|v| v.is_object()) {
        c.body["remoteNetworkConfig"] = r.clone();
        params.push(json!({"type": "RemoteNetworkConfig", "value": r.to_string()}));
    }
    if params.is_empty() {
        return invalid("No changes detected");
    }
    let kind = if input.get("remoteNetworkConfig").is_some() {
        "RemoteNetworkConfigUpdate"
    } else {
        "EndpointAccessUpdate"
    };
    start_update(c, kind, params)
}

async fn create_access_entry(shared: &Shared, moto: &Moto, region: &str, input: &Json) -> Resp {
    let (name, principal) = (s(input, "clusterName"), s(input, "principalArn"));
    let kind = input["type"].as_str().unwrap_or("STANDARD");
    if !VALID_TYPES.contains(&kind) {
        return invalid(&format!("The type {kind} is not valid"));
    }
    let groups = input["kubernetesGroups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let username = input["username"].as_str();
    let invalid_principal = || invalid("The specified principalArn is invalid: invalid principal");
    if NODE_TYPES.contains(&kind) {
        if !groups.is_empty() || username.is_some() {
            return invalid(&format!("kubernetesGroups and username cannot be specified for access entries of type {kind}"));
        }
        if !principal.contains(":role/") {
            return invalid(
                "The specified principalArn is invalid: node access entries require an IAM role",
            );
        }
        {
            let st = shared.lock().await;
            let role = iam::role_name(principal);
            if st.iam.propagating(role) == Some(Propagation::Role) {
                return invalid_principal();
            }
        }
        match moto.role_trust(region, iam::role_name(principal)).await {
            Ok(Some(_)) => {}
            Ok(None) => return invalid_principal(),
            Err(e) => return server_error(&e),
        }
    }
    let principal_id = if principal.contains(":role/") {
        moto.role_id(region, iam::role_name(principal))
            .await
            .ok()
            .flatten()
    } else {
        None
    };
    let mut st = shared.lock().await;
    let deleted_before = st.deleted_clusters.contains(name);
    let Some(c) = st.clusters.get_mut(name) else {
        return no_cluster(deleted_before, name);
    };
    if c.body["status"] != "ACTIVE" {
        return in_use(&format!("Cluster {name} is not ACTIVE"));
    }
    if c.access_entries.contains_key(principal) {
        return in_use(&format!(
            "The specified access entry resource is already in use on this cluster: {principal}"
        ));
    }
    let (groups, username) = match kind {
        "HYBRID_LINUX" => (
            vec![json!("system:nodes")],
            "system:node:{{SessionName}}".to_string(),
        ),
        "EC2_LINUX" | "EC2_WINDOWS" => (
            vec![json!("system:nodes")],
            "system:node:{{EC2PrivateDNSName}}".to_string(),
        ),
        _ => (
            groups,
            username
                .map(str::to_string)
                .unwrap_or_else(|| principal.to_string()),
        ),
    };
    let entry = json!({
        "clusterName": name,
        "principalArn": principal,
        "kubernetesGroups": groups,
        "accessEntryArn": format!("arn:{}:eks:{region}:{ACCOUNT}:access-entry/{name}/role/{ACCOUNT}/{}/{}", partition_of(region), iam::role_name(principal), uuid::Uuid::new_v4().simple()),
        "createdAt": now_epoch(),
        "modifiedAt": now_epoch(),
        "tags": input["tags"].as_object().cloned().unwrap_or_default(),
        "username": username,
        "type": kind,
    });
    c.access_entries
        .insert(principal.to_string(), entry.clone());
    if let Some(id) = principal_id {
        c.principal_ids.insert(principal.to_string(), id);
    }
    ok_json(200, json!({"accessEntry": entry}))
}

async fn update_access_entry(shared: &Shared, input: &Json) -> Resp {
    let (name, principal) = (s(input, "clusterName"), s(input, "principalArn"));
    let mut st = shared.lock().await;
    let deleted_before = st.deleted_clusters.contains(name);
    let Some(c) = st.clusters.get_mut(name) else {
        return no_cluster(deleted_before, name);
    };
    let Some(e) = c.access_entries.get_mut(principal) else {
        return not_found(&format!(
            "The specified access entry resource is not found: {principal}"
        ));
    };
    if NODE_TYPES.contains(&e["type"].as_str().unwrap_or_default())
        && (input.get("kubernetesGroups").is_some() || input.get("username").is_some())
    {
        return invalid("kubernetesGroups and username cannot be updated for node access entries");
    }
    for k in ["kubernetesGroups", "username"] {
        if let Some(v) = input.get(k) {
            e[k] = v.clone();
        }
    }
    e["modifiedAt"] = json!(now_epoch());
    ok_json(200, json!({"accessEntry": e}))
}

async fn tags(shared: &Shared, op: &str, input: &Json) -> Resp {
    let arn = s(input, "resourceArn");
    let mut st = shared.lock().await;
    let Some(c) = st.clusters.values_mut().find(|c| c.body["arn"] == arn) else {
        return not_found(&format!("Resource not found: {arn}"));
    };
    match op {
        "TagResource" => {
            for (k, v) in input["tags"].as_object().into_iter().flatten() {
                c.body["tags"][k] = v.clone();
            }
            ok_json(200, json!({}))
        }
        "UntagResource" => {
            for k in input["tagKeys"].as_array().into_iter().flatten() {
                if let (Some(t), Some(k)) = (c.body["tags"].as_object_mut(), k.as_str()) {
                    t.remove(k);
                }
            }
            ok_json(200, json!({}))
        }
        _ => ok_json(200, json!({"tags": c.body["tags"]})),
    }
}

/// Access entries whose principal is no longer the role they were made for (deleted, or made
/// again under the same ARN with a new ID): nodes assuming that role cannot authenticate.
pub async fn stale_access_entries(shared: &Shared, moto: &Moto) -> Vec<String> {
    let bound: Vec<(String, String, String, String)> = {
        let st = shared.lock().await;
        st.clusters
            .iter()
            .flat_map(|(name, c)| {
                c.principal_ids.iter().map(|(principal, id)| {
                    (
                        name.clone(),
                        c.region.clone(),
                        principal.clone(),
                        id.clone(),
                    )
                })
            })
            .collect()
    };
    let mut stale = Vec::new();
    for (name, region, principal, id) in bound {
        let now = moto.role_id(&region, iam::role_name(&principal)).await;
        if !matches!(now, Ok(Some(current)) if current == id) {
            stale.push(format!("{name}:{principal}"));
        }
    }
    stale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_type_of_update_per_call() {
        let vpc = json!({"name": "c", "resourcesVpcConfig": {"endpointPrivateAccess": true}});
        assert!(!more_than_one_update(&vpc));
        let two = json!({"name": "c", "resourcesVpcConfig": {"endpointPrivateAccess": true}, "logging": {"clusterLogging": []}});
        assert!(more_than_one_update(&two));
        let with_token = json!({"name": "c", "clientRequestToken": "t", "upgradePolicy": {"supportType": "STANDARD"}});
        assert!(!more_than_one_update(&with_token));
    }

    #[test]
    fn remote_network_rules_match_eks() {
        let vpc = vec!["192.168.0.0/16".parse().unwrap()];
        let svc: Ipv4Net = "10.100.0.0/16".parse().unwrap();
        let ok = json!({"remoteNodeNetworks": [{"cidrs": ["10.80.146.0/24"]}], "remotePodNetworks": [{"cidrs": ["10.86.30.0/23"]}]});
        assert_eq!(check_remote_networks(&ok, &vpc, &svc), Ok(()));
        let cgnat = json!({"remoteNodeNetworks": [{"cidrs": ["100.64.10.0/24"]}]});
        assert_eq!(check_remote_networks(&cgnat, &vpc, &svc), Ok(()));
        let overlap_vpc = json!({"remoteNodeNetworks": [{"cidrs": ["192.168.1.0/24"]}]});
        assert!(check_remote_networks(&overlap_vpc, &vpc, &svc)
            .unwrap_err()
            .contains("overlaps with VPC CIDR 192.168.0.0/16"));
        let public = json!({"remoteNodeNetworks": [{"cidrs": ["8.8.8.0/24"]}]});
        assert!(check_remote_networks(&public, &vpc, &svc)
            .unwrap_err()
            .contains("RFC-1918"));
        let node_pod = json!({"remoteNodeNetworks": [{"cidrs": ["10.80.0.0/16"]}], "remotePodNetworks": [{"cidrs": ["10.80.1.0/24"]}]});
        assert!(check_remote_networks(&node_pod, &vpc, &svc)
            .unwrap_err()
            .contains("overlaps with remote node network"));
        let svc_overlap = json!({"remoteNodeNetworks": [{"cidrs": ["10.100.5.0/24"]}]});
        assert!(check_remote_networks(&svc_overlap, &vpc, &svc)
            .unwrap_err()
            .contains("service CIDR"));
    }
}
