//! The EKS API (REST-JSON) as the provider uses it, with AWS's validation and messages.

use std::collections::BTreeMap;
use std::time::Instant;

use ipnet::Ipv4Net;
use serde_json::{json, Value as Json};

use crate::http::{aws_error, json as ok_json, now_epoch, url_decode, Resp};
use crate::moto::Moto;
use crate::state::{Shared, ACCOUNT};

pub struct Cluster {
    pub body: Json,
    pub region: String,
    pub created: Instant,
    pub deleting_since: Option<Instant>,
    pub updates: Vec<Update>,
    pub access_entries: BTreeMap<String, Json>,
    pub addons: BTreeMap<String, Json>,
    pub security_group_id: String,
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

/// Routes one EKS request. `operation` was already named for the call log.
pub async fn handle(
    shared: &Shared,
    moto: &Moto,
    region: &str,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
) -> Resp {
    advance(shared, moto).await;
    let input: Json = serde_json::from_slice(body).unwrap_or(json!({}));
    let segs: Vec<String> = path.trim_matches('/').split('/').map(url_decode).collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (method, segs.as_slice()) {
        ("POST", ["clusters"]) => create_cluster(shared, moto, region, &input).await,
        ("GET", ["clusters"]) => {
            let st = shared.lock().await;
            ok_json(
                200,
                json!({"clusters": st.clusters.keys().collect::<Vec<_>>()}),
            )
        }
        ("GET", ["clusters", name]) => {
            with_cluster(shared, name, |c| ok_json(200, json!({"cluster": c.body}))).await
        }
        ("DELETE", ["clusters", name]) => delete_cluster(shared, name).await,
        ("POST", ["clusters", name, "updates"]) => update_version(shared, name, &input).await,
        ("POST", ["clusters", name, "update-config"]) => update_config(shared, name, &input).await,
        ("GET", ["clusters", name, "updates", id]) => {
            with_cluster(shared, name, |c| {
                match c.updates.iter().find(|u| u.body["id"] == *id) {
                    Some(u) => ok_json(200, json!({"update": u.body})),
                    None => not_found(&format!("No update found for ID: {id}")),
                }
            })
            .await
        }
        ("POST", ["clusters", name, "access-entries"]) => {
            create_access_entry(shared, moto, region, name, &input).await
        }
        ("GET", ["clusters", name, "access-entries"]) => {
            with_cluster(shared, name, |c| {
                ok_json(
                    200,
                    json!({"accessEntries": c.access_entries.keys().collect::<Vec<_>>()}),
                )
            })
            .await
        }
        ("GET", ["clusters", name, "access-entries", principal]) => {
            with_cluster(shared, name, |c| match c.access_entries.get(*principal) {
                Some(e) => ok_json(200, json!({"accessEntry": e})),
                None => not_found(&format!(
                    "The specified access entry resource is not found: {principal}"
                )),
            })
            .await
        }
        ("POST", ["clusters", name, "access-entries", principal]) => {
            update_access_entry(shared, name, principal, &input).await
        }
        ("DELETE", ["clusters", name, "access-entries", principal]) => {
            let mut st = shared.lock().await;
            match st.clusters.get_mut(*name) {
                None => not_found(&format!("No cluster found for name: {name}.")),
                Some(c) => match c.access_entries.remove(*principal) {
                    Some(_) => ok_json(200, json!({})),
                    None => not_found(&format!(
                        "The specified access entry resource is not found: {principal}"
                    )),
                },
            }
        }
        ("GET", ["tags", arn]) | ("POST", ["tags", arn]) | ("DELETE", ["tags", arn]) => {
            tags(shared, method, arn, query, &input).await
        }
        ("GET", ["addons", "supported-versions"]) => ok_json(200, json!({"addons": []})),
        ("POST", ["clusters", name, "addons"]) => create_addon(shared, name, &input).await,
        ("GET", ["clusters", name, "addons", addon]) => {
            with_cluster(shared, name, |c| match c.addons.get(*addon) {
                Some(a) => ok_json(200, json!({"addon": a})),
                None => not_found(&format!("No addon: {addon} found in cluster: {name}")),
            })
            .await
        }
        ("DELETE", ["clusters", name, "addons", addon]) => {
            let mut st = shared.lock().await;
            match st.clusters.get_mut(*name).map(|c| c.addons.remove(*addon)) {
                Some(Some(a)) => ok_json(200, json!({"addon": a})),
                _ => not_found(&format!("No addon: {addon} found in cluster: {name}")),
            }
        }
        _ => aws_error(
            404,
            "UnknownOperationException",
            &format!("{method} {path} is not an EKS operation the testbed models"),
        ),
    }
}

/// An add-on is ACTIVE at once; only the name and version are modelled.
async fn create_addon(shared: &Shared, name: &str, input: &Json) -> Resp {
    let addon = input["addonName"].as_str().unwrap_or_default().to_string();
    let version = input["addonVersion"]
        .as_str()
        .unwrap_or("v1.19.0-eksbuild.1");
    if !version.starts_with('v') || !version.contains("-eksbuild.") {
        return aws_error(
            400,
            "InvalidParameterException",
            &format!("Addon version {version} is not supported"),
        );
    }
    let mut st = shared.lock().await;
    let Some(c) = st.clusters.get_mut(name) else {
        return not_found(&format!("No cluster found for name: {name}."));
    };
    if c.addons.contains_key(&addon) {
        return aws_error(
            409,
            "ResourceInUseException",
            &format!("Addon already exists: {addon}"),
        );
    }
    let body = json!({
        "addonName": addon,
        "clusterName": name,
        "status": "ACTIVE",
        "addonVersion": version,
        "addonArn": format!("arn:aws:eks:{}:{ACCOUNT}:addon/{name}/{addon}/0", c.region),
    });
    c.addons.insert(addon, body.clone());
    ok_json(200, json!({"addon": body}))
}

async fn with_cluster(shared: &Shared, name: &str, f: impl FnOnce(&Cluster) -> Resp) -> Resp {
    let st = shared.lock().await;
    match st.clusters.get(name) {
        Some(c) => f(c),
        None => not_found(&format!("No cluster found for name: {name}.")),
    }
}

/// Moves clusters and updates along their lifecycles; deleted clusters take their security
/// group with them, as EKS does.
pub async fn advance(shared: &Shared, moto: &Moto) {
    let mut gone = Vec::new();
    {
        let mut st = shared.lock().await;
        let timing = st.timing.clone();
        for c in st.clusters.values_mut() {
            if c.body["status"] == "CREATING" && c.created.elapsed() >= timing.eks_create {
                c.body["status"] = json!("ACTIVE");
            }
            for u in &mut c.updates {
                if u.body["status"] == "InProgress" && u.started.elapsed() >= timing.eks_update {
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
                    .is_some_and(|t| t.elapsed() >= timing.eks_delete)
            })
            .map(|(n, _)| n.clone())
            .collect();
        for n in names {
            if let Some(c) = st.clusters.remove(&n) {
                gone.push((c.region, c.security_group_id));
            }
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

fn rfc1918(n: &Ipv4Net) -> bool {
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
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
    if nodes.len() > 1 || pods.len() > 1 {
        return Err("remoteNodeNetworks and remotePodNetworks accept at most 1 item".into());
    }
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
            if !rfc1918(&net) {
                return Err(format!("Invalid remote {kind} network: CIDR {c} must be within RFC-1918 private address space"));
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

async fn create_cluster(shared: &Shared, moto: &Moto, region: &str, input: &Json) -> Resp {
    let Some(name) = input["name"].as_str() else {
        return invalid("name is required");
    };
    let Some(role_arn) = input["roleArn"].as_str() else {
        return invalid("roleArn is required");
    };
    if shared.lock().await.clusters.contains_key(name) {
        return in_use(&format!("Cluster already exists with name: {name}"));
    }
    let vpc_cfg = &input["resourcesVpcConfig"];
    let subnet_ids: Vec<String> = vpc_cfg["subnetIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect();
    let subnets = match moto.subnets(region, &subnet_ids).await {
        Err(e) => return aws_error(500, "ServerException", &e),
        Ok(Err(missing)) => {
            return invalid(&format!(
                "The subnet ID '{missing}' does not exist (Service: AmazonEC2)"
            ))
        }
        Ok(Ok(s)) => s,
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
    match moto.role_exists(region, role_arn).await {
        Ok(true) => {}
        Ok(false) => return invalid(&format!("Role with arn: {role_arn}, does not exist")),
        Err(e) => return aws_error(500, "ServerException", &e),
    }
    let vpc_cidrs: Vec<Ipv4Net> = match moto.vpc_cidrs(region, &vpc_id).await {
        Ok(c) => c.iter().filter_map(|c| c.parse().ok()).collect(),
        Err(e) => return aws_error(500, "ServerException", &e),
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
        Err(e) => return aws_error(500, "ServerException", &e),
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let body = json!({
        "name": name,
        "arn": format!("arn:aws:eks:{region}:{ACCOUNT}:cluster/{name}"),
        "createdAt": now_epoch(),
        "version": input["version"].as_str().unwrap_or("1.33"),
        "endpoint": format!("https://{}.gr7.{region}.eks.amazonaws.com", id.to_uppercase()),
        "roleArn": role_arn,
        "resourcesVpcConfig": {
            "subnetIds": subnet_ids,
            "securityGroupIds": vpc_cfg["securityGroupIds"].as_array().cloned().unwrap_or_default(),
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
    st.clusters.insert(
        name.to_string(),
        Cluster {
            body: body.clone(),
            region: region.into(),
            created: Instant::now(),
            deleting_since: None,
            updates: vec![],
            access_entries: BTreeMap::new(),
            addons: BTreeMap::new(),
            security_group_id: sg,
        },
    );
    ok_json(200, json!({"cluster": body}))
}

async fn delete_cluster(shared: &Shared, name: &str) -> Resp {
    let mut st = shared.lock().await;
    let Some(c) = st.clusters.get_mut(name) else {
        return not_found(&format!("No cluster found for name: {name}."));
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
    let c = st
        .clusters
        .get_mut(name)
        .ok_or_else(|| not_found(&format!("No cluster found for name: {name}.")))?;
    if c.body["status"] != "ACTIVE" || c.updates.iter().any(|u| u.body["status"] == "InProgress") {
        return Err(in_use("Cluster has an update in progress"));
    }
    Ok(c)
}

async fn update_version(shared: &Shared, name: &str, input: &Json) -> Resp {
    let mut st = shared.lock().await;
    let c = match ready_for_update(&mut st, name) {
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
    c.body["version"] = json!(target);
    start_update(
        c,
        "VersionUpdate",
        vec![json!({"type": "Version", "value": target})],
    )
}

async fn update_config(shared: &Shared, name: &str, input: &Json) -> Resp {
    let mut st = shared.lock().await;
    let c = match ready_for_update(&mut st, name) {
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

async fn create_access_entry(
    shared: &Shared,
    moto: &Moto,
    region: &str,
    name: &str,
    input: &Json,
) -> Resp {
    let Some(principal) = input["principalArn"].as_str() else {
        return invalid("principalArn is required");
    };
    let kind = input["type"].as_str().unwrap_or("STANDARD");
    if !VALID_TYPES.contains(&kind) {
        return invalid(&format!("The type {kind} is not valid"));
    }
    let groups = input["kubernetesGroups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let username = input["username"].as_str();
    if NODE_TYPES.contains(&kind) {
        if !groups.is_empty() || username.is_some() {
            return invalid(&format!("kubernetesGroups and username cannot be specified for access entries of type {kind}"));
        }
        if !principal.contains(":role/") {
            return invalid(
                "The specified principalArn is invalid: node access entries require an IAM role",
            );
        }
        match moto.role_exists(region, principal).await {
            Ok(true) => {}
            Ok(false) => {
                return invalid("The specified principalArn is invalid: invalid principal")
            }
            Err(e) => return aws_error(500, "ServerException", &e),
        }
    }
    let mut st = shared.lock().await;
    let Some(c) = st.clusters.get_mut(name) else {
        return not_found(&format!("No cluster found for name: {name}."));
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
        "accessEntryArn": format!("arn:aws:eks:{region}:{ACCOUNT}:access-entry/{name}/role/{ACCOUNT}/{}/{}", principal.rsplit('/').next().unwrap_or_default(), uuid::Uuid::new_v4().simple()),
        "createdAt": now_epoch(),
        "modifiedAt": now_epoch(),
        "tags": input["tags"].as_object().cloned().unwrap_or_default(),
        "username": username,
        "type": kind,
    });
    c.access_entries
        .insert(principal.to_string(), entry.clone());
    ok_json(200, json!({"accessEntry": entry}))
}

async fn update_access_entry(shared: &Shared, name: &str, principal: &str, input: &Json) -> Resp {
    let mut st = shared.lock().await;
    let Some(c) = st.clusters.get_mut(name) else {
        return not_found(&format!("No cluster found for name: {name}."));
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

async fn tags(shared: &Shared, method: &str, arn: &str, query: &str, input: &Json) -> Resp {
    let mut st = shared.lock().await;
    let Some(c) = st.clusters.values_mut().find(|c| c.body["arn"] == arn) else {
        return not_found(&format!("Resource not found: {arn}"));
    };
    match method {
        "POST" => {
            for (k, v) in input["tags"].as_object().into_iter().flatten() {
                c.body["tags"][k] = v.clone();
            }
            ok_json(200, json!({}))
        }
        "DELETE" => {
            for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
                if k == "tagKeys" {
                    if let Some(t) = c.body["tags"].as_object_mut() {
                        t.remove(v.as_ref());
                    }
                }
            }
            ok_json(200, json!({}))
        }
        _ => ok_json(200, json!({"tags": c.body["tags"]})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_network_rules_match_eks() {
        let vpc = vec!["192.168.0.0/16".parse().unwrap()];
        let svc: Ipv4Net = "10.100.0.0/16".parse().unwrap();
        let ok = json!({"remoteNodeNetworks": [{"cidrs": ["10.80.146.0/24"]}], "remotePodNetworks": [{"cidrs": ["10.86.30.0/23"]}]});
        assert_eq!(check_remote_networks(&ok, &vpc, &svc), Ok(()));
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
        let two =
            json!({"remoteNodeNetworks": [{"cidrs": ["10.1.0.0/24"]}, {"cidrs": ["10.2.0.0/24"]}]});
        assert!(check_remote_networks(&two, &vpc, &svc).is_err());
    }
}
