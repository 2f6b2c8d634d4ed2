//! Checks that need nothing but the configuration. They run at `terraform validate` and again
//! at plan (when values from other resources have become known), and make no AWS call.
//! Wording follows eksctl where eksctl has a rule.

use ipnet::Ipv4Net;

use super::cidr::{self, CidrError};
use super::model::{parse_duration, parse_nat, parse_provider, CredentialsProvider};
use crate::plugin::{AttrPath, Diagnostics, Value};

pub fn validate_config(config: &Value) -> Diagnostics {
    let mut d = Diagnostics::default();
    validate_name(config.get("name"), &mut d);
    validate_cluster_settings(config, &mut d);
    // A `dynamic` block whose for_each is unknown is wholly unknown: checks that depend on it
    // wait for plan.
    let vpc = config.get("vpc");
    let uses_existing_vpc = (!vpc.is_unknown()).then(|| !vpc.first().get("id").is_null());
    let vpc_cidr = if vpc.is_unknown() {
        None
    } else {
        validate_vpc(config, &mut d)
    };
    let service_cidr = validate_service_cidr(
        config.get("service_ipv4_cidr"),
        vpc_cidr.as_ref(),
        uses_existing_vpc,
        &mut d,
    );
    validate_remote_network_config(config, vpc_cidr, service_cidr, uses_existing_vpc, &mut d);
    validate_tags(config, config.get("tags"), AttrPath::root("tags"), &mut d);
    validate_ssm_activation(config, &mut d);
    validate_timeouts(config.get("timeouts").first(), &mut d);
    d
}

fn validate_name(name: &Value, d: &mut Diagnostics) {
    let Some(name) = name.as_str() else { return };
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let starts_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if name.is_empty() || name.len() > 100 || !valid_chars || !starts_ok {
        d.error_at(
            AttrPath::root("name"),
            "Invalid cluster name",
            format!(
                "{name:?} is not a valid EKS cluster name: 1 to 100 characters, letters, digits, \
                 hyphens and underscores, starting with a letter or digit."
            ),
        );
    } else if name.starts_with("sg-") {
        // EC2 API reference, CreateSecurityGroup: a group name "Cannot start with sg-".
        d.error_at(
            AttrPath::root("name"),
            "Cluster name makes an invalid security group name",
            format!(
                "The control plane security group is named {:?}, and EC2 refuses security \
                 group names that start with \"sg-\". Choose a cluster name that does not start \
                 with \"sg-\".",
                super::names::control_plane_sg(name)
            ),
        );
    }
}

/// Tags that every object can carry. IAM Roles Anywhere allows only letters, digits, spaces
/// and `_.:/=+@-` in tag keys and values (botocore's `rolesanywhere` model, TagKey and
/// TagValue), so when the provider creates a trust anchor and profile the tags must fit that.
/// EC2 allows 50 tags per object (EC2 user guide, "Tag restrictions"), and the provider adds
/// its ownership tag, `Name` and, on subnets, a `kubernetes.io/role` tag.
fn validate_tags(config: &Value, tags: &Value, path: AttrPath, d: &mut Diagnostics) {
    let Some(tags) = tags.as_map() else { return };
    const EC2_MAX_TAGS: usize = 50;
    let added = 3;
    if tags.len() + added > EC2_MAX_TAGS {
        d.error_at(
            path.clone(),
            "Too many tags",
            format!(
                "{} tags, with the {added} the provider adds (its ownership tag, Name, and the \
                 subnet role), exceed the 50 tags EC2 allows on an object.",
                tags.len()
            ),
        );
    }
    let iam = config
        .get("remote_network_config")
        .first()
        .get("iam")
        .first();
    let provider = match iam.get("provider") {
        Value::Null => Some(CredentialsProvider::Ssm),
        v => v.as_str().and_then(parse_provider),
    };
    let creates_ra = provider == Some(CredentialsProvider::Ira) && iam.get("role_arn").is_null();
    if !creates_ra {
        return;
    }
    let allowed = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " _.:/=+@-".contains(c))
    };
    for (k, v) in tags {
        let bad_value = v.as_str().is_some_and(|v| !allowed(v) || v.len() > 256);
        if !allowed(k) || k.is_empty() || k.len() > 128 || bad_value {
            d.error_at(
                path.key(k),
                "Tag not allowed by IAM Roles Anywhere",
                format!(
                    "Tag {k:?} goes on the IAM Roles Anywhere trust anchor and profile too, and \
                     Roles Anywhere allows only letters, digits, spaces and _.:/=+@- in tag \
                     keys (1 to 128 characters) and values (up to 256)."
                ),
            );
        }
    }
}

/// The same tag rules at plan, over `tags` merged with the provider's `default_tags`.
pub fn validate_tags_all(config: &Value, tags_all: &Value) -> Diagnostics {
    let mut d = Diagnostics::default();
    validate_tags(config, tags_all, AttrPath::root("tags"), &mut d);
    d
}

fn validate_cluster_settings(config: &Value, d: &mut Diagnostics) {
    if let Some(mode) = config.get("authentication_mode").as_str() {
        match mode {
            "API" | "API_AND_CONFIG_MAP" => {}
            "CONFIG_MAP" => d.error_at(
                AttrPath::root("authentication_mode"),
                "Unsupported authentication mode",
                "remoteNetworkConfig requires authenticationMode to be either \"API_AND_CONFIG_MAP\" or \"API\"",
            ),
            other => d.error_at(
                AttrPath::root("authentication_mode"),
                "Invalid authentication mode",
                format!("{other:?} is not one of \"API\", \"API_AND_CONFIG_MAP\"."),
            ),
        }
    }
    if let Some(version) = config.get("kubernetes_version").as_str() {
        let parts: Vec<&str> = version.split('.').collect();
        let ok = parts.len() == 2
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            d.error_at(
                AttrPath::root("kubernetes_version"),
                "Invalid Kubernetes version",
                format!("{version:?} is not a Kubernetes minor version such as \"1.33\"."),
            );
        }
    }
    let public = config.get("endpoint_public_access").as_bool();
    let private = config.get("endpoint_private_access").as_bool();
    if public == Some(true) && private == Some(true) {
        d.warning_at(
            AttrPath::root("endpoint_private_access"),
            "Public and private endpoint access together",
            "EKS Hybrid Nodes need the endpoint to be public or private, not both: with both, the \
             endpoint resolves to public addresses for the hybrid nodes.",
        );
    }
    if public == Some(false) && private == Some(false) {
        d.error_at(
            AttrPath::root("endpoint_public_access"),
            "No endpoint access",
            "At least one of endpoint_public_access and endpoint_private_access must be true.",
        );
    }
    if let Some(arn) = config.get("cluster_role_arn").as_str() {
        check_role_arn(arn, AttrPath::root("cluster_role_arn"), d);
    }
}

fn check_role_arn(arn: &str, path: AttrPath, d: &mut Diagnostics) {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(|r| !r.is_empty());
    if !ok {
        d.error_at(
            path,
            "Invalid IAM role ARN",
            format!(
                "{arn:?} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)."
            ),
        );
    }
}

/// Returns the VPC CIDR when the provider creates the VPC and the CIDR is valid.
fn validate_vpc(config: &Value, d: &mut Diagnostics) -> Option<Ipv4Net> {
    let vpc = config.get("vpc").first();
    let path = AttrPath::root("vpc").index(0);
    let existing = ["id", "subnet_ids", "security_group_ids"];
    let created = ["cidr", "availability_zones", "nat_gateway"];
    let set = |names: &[&'static str]| -> Vec<&'static str> {
        names
            .iter()
            .copied()
            .filter(|n| !vpc.get(n).is_null())
            .collect()
    };
    let (existing_set, created_set) = (set(&existing), set(&created));
    if !existing_set.is_empty() && !created_set.is_empty() {
        d.error_at(
            path.attr(created_set[0]),
            "Conflicting VPC settings",
            format!(
                "{} describe a VPC the provider creates, {} a pre-existing VPC; set one kind only.",
                created_set.join(", "),
                existing_set.join(", ")
            ),
        );
    }
    if !existing_set.is_empty() {
        validate_existing_vpc(vpc, &path, d);
        return None;
    }
    let zones = vpc.get("availability_zones");
    if zones.is_wholly_known() && !zones.is_null() {
        let azs: Vec<&str> = zones.as_list().iter().filter_map(Value::as_str).collect();
        if !(2..=3).contains(&azs.len()) {
            d.error_at(
                path.attr("availability_zones"),
                "Wrong number of availability zones",
                format!(
                    "EKS needs subnets in at least 2 availability zones; give 2 or 3, not {}.",
                    azs.len()
                ),
            );
        }
        for (i, az) in azs.iter().enumerate() {
            if azs[..i].contains(az) {
                d.error_at(
                    path.attr("availability_zones").index(i),
                    "Duplicate availability zone",
                    format!("{az:?} is listed twice."),
                );
            }
        }
    }
    if let Some(nat) = vpc.get("nat_gateway").as_str() {
        if parse_nat(nat).is_none() {
            d.error_at(
                path.attr("nat_gateway"),
                "Invalid NAT gateway mode",
                format!("{nat:?} is not one of \"Single\", \"HighlyAvailable\", \"Disable\"."),
            );
        }
    }
    match vpc.get("cidr") {
        Value::Unknown => None,
        Value::Null => Some(super::schema::DEFAULT_VPC_CIDR.parse().expect("constant")),
        v => {
            let s = v.as_str().unwrap_or_default();
            let net = check_cidr(s, path.attr("cidr"), "VPC CIDR", d)?;
            if !(16..=24).contains(&net.prefix_len()) {
                d.error_at(
                    path.attr("cidr"),
                    "VPC CIDR size out of range",
                    format!("{s} has prefix /{}; a VPC the provider lays out subnets in must be /16 to /24.", net.prefix_len()),
                );
                return None;
            }
            Some(net)
        }
    }
}

fn validate_existing_vpc(vpc: &Value, path: &AttrPath, d: &mut Diagnostics) {
    match vpc.get("id") {
        Value::String(id) if !is_aws_id(id, "vpc") => d.error_at(
            path.attr("id"),
            "Invalid VPC ID",
            format!("{id:?} is not a VPC ID (vpc- followed by 8 or 17 hexadecimal digits)."),
        ),
        Value::Null => d.error_at(
            path.attr("id"),
            "Missing VPC ID",
            "subnet_ids and security_group_ids describe a pre-existing VPC: set vpc.id too.",
        ),
        _ => {}
    }
    let subnets = vpc.get("subnet_ids");
    if subnets.is_null() {
        d.error_at(
            path.attr("subnet_ids"),
            "Missing subnets",
            "A pre-existing VPC needs subnet_ids in at least two availability zones.",
        );
    } else if subnets.is_wholly_known() && subnets.as_list().len() < 2 {
        d.error_at(
            path.attr("subnet_ids"),
            "Too few subnets",
            "EKS needs subnets in at least two availability zones: give at least 2 subnet IDs.",
        );
    }
    for (attr, prefix) in [("subnet_ids", "subnet"), ("security_group_ids", "sg")] {
        for (i, id) in vpc.get(attr).as_list().iter().enumerate() {
            if let Some(id) = id.as_str() {
                if !is_aws_id(id, prefix) {
                    d.error_at(
                        path.attr(attr).index(i),
                        "Invalid ID",
                        format!("{id:?} is not a {prefix}- ID."),
                    );
                }
            }
        }
    }
}

fn is_aws_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            (hex.len() == 8 || hex.len() == 17)
                && hex
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        })
}

fn check_cidr(s: &str, path: AttrPath, what: &str, d: &mut Diagnostics) -> Option<Ipv4Net> {
    match cidr::parse_network(s) {
        Ok(net) => Some(net),
        Err(CidrError::Syntax) => {
            d.error_at(
                path,
                format!("Invalid {what}"),
                format!("{s:?} is not an IPv4 CIDR such as 10.80.146.0/24."),
            );
            None
        }
        Err(CidrError::HostBits(net)) => {
            d.error_at(
                path,
                format!("Invalid {what}"),
                format!("{s} has host bits set; did you mean {net}?"),
            );
            None
        }
    }
}

/// Returns the effective service CIDR (given, or EKS's default for the VPC) when known. For a
/// pre-existing VPC EKS's default depends on its CIDR, which only plan reads.
fn validate_service_cidr(
    v: &Value,
    vpc_cidr: Option<&Ipv4Net>,
    uses_existing_vpc: Option<bool>,
    d: &mut Diagnostics,
) -> Option<Ipv4Net> {
    let path = AttrPath::root("service_ipv4_cidr");
    match v {
        Value::Unknown => None,
        Value::Null if uses_existing_vpc == Some(false) => {
            cidr::default_service_cidr(vpc_cidr.into_iter())
                .parse()
                .ok()
        }
        Value::Null => None,
        v => {
            let s = v.as_str().unwrap_or_default();
            let net = check_cidr(s, path.clone(), "service CIDR", d)?;
            if !(12..=24).contains(&net.prefix_len()) || !cidr::is_rfc1918(&net) {
                d.error_at(path, "Invalid service CIDR", format!("{s} must be within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, with a prefix from /12 to /24."));
                return None;
            }
            if let Some(vpc) = vpc_cidr.filter(|vpc| cidr::overlaps(vpc, &net)) {
                d.error_at(
                    path,
                    "Service CIDR overlaps the VPC",
                    format!("{s} overlaps the VPC CIDR {vpc}."),
                );
            }
            Some(net)
        }
    }
}

struct NamedCidr {
    net: Ipv4Net,
    path: AttrPath,
    kind: &'static str,
}

fn validate_remote_network_config(
    config: &Value,
    vpc_cidr: Option<Ipv4Net>,
    service_cidr: Option<Ipv4Net>,
    uses_existing_vpc: Option<bool>,
    d: &mut Diagnostics,
) {
    let blocks = config.get("remote_network_config");
    let Some(rnc) = blocks.as_list().first() else {
        return;
    };
    let path = AttrPath::root("remote_network_config").index(0);

    let nodes = rnc.get("remote_node_networks");
    let pods = rnc.get("remote_pod_networks");
    if nodes.is_wholly_known() && nodes.as_list().is_empty() {
        d.error_at(
            path.attr("remote_node_networks"),
            "Missing remote node network",
            "remoteNetworkConfig.remoteNodeNetworks must be set and non-empty",
        );
    }
    if nodes.as_list().len() > 1 {
        d.error_at(
            path.attr("remote_node_networks").index(1),
            "Too many remote node networks",
            "only one remoteNodeNetwork is allowed in remoteNetworkConfig.remoteNodeNetworks",
        );
    }
    if pods.as_list().len() > 1 {
        d.error_at(
            path.attr("remote_pod_networks").index(1),
            "Too many remote pod networks",
            "only one remotePodNetwork is allowed in remoteNetworkConfig.remotePodNetworks",
        );
    }

    let mut seen: Vec<NamedCidr> = Vec::new();
    for (block, kind) in [(nodes, "remote node"), (pods, "remote pod")] {
        let block_name = if kind == "remote node" {
            "remote_node_networks"
        } else {
            "remote_pod_networks"
        };
        for (bi, network) in block.as_list().iter().enumerate() {
            let cidrs_path = path.attr(block_name).index(bi).attr("cidrs");
            let cidrs = network.get("cidrs");
            if cidrs.is_wholly_known() && cidrs.as_list().is_empty() {
                d.error_at(
                    cidrs_path.clone(),
                    format!("Empty {kind} network"),
                    "Give at least one CIDR.",
                );
            }
            for (ci, c) in cidrs.as_list().iter().enumerate() {
                let Some(s) = c.as_str() else { continue };
                let p = cidrs_path.index(ci);
                if let Some(net) = check_remote_cidr(s, p.clone(), kind, d) {
                    check_no_overlap(
                        &NamedCidr { net, path: p, kind },
                        &seen,
                        vpc_cidr,
                        service_cidr,
                        d,
                    );
                    seen.push(NamedCidr {
                        net,
                        path: cidrs_path.index(ci),
                        kind,
                    });
                }
            }
        }
    }

    if let Some(gw) = rnc.get("vpc_gateway_id").as_str() {
        let p = path.attr("vpc_gateway_id");
        if uses_existing_vpc == Some(true) {
            d.error_at(
                p,
                "Gateway with a pre-existing VPC",
                "remoteNetworkConfig.vpcGatewayID is not supported when using pre-existing VPC",
            );
        } else if !(is_aws_id(gw, "tgw") || is_aws_id(gw, "vgw")) {
            d.error_at(
                p,
                "Invalid VPC gateway ID",
                format!("invalid value {gw:?} provided for remoteNetworkConfig.vpcGatewayID; only transit gateway (tgw-*) or virtual private gateway (vgw-*) IDs are supported"),
            );
        }
    }
    validate_iam(rnc.get("iam").first(), path.attr("iam").index(0), d);
}

fn check_remote_cidr(s: &str, path: AttrPath, kind: &str, d: &mut Diagnostics) -> Option<Ipv4Net> {
    let net = check_cidr(s, path.clone(), &format!("{kind} CIDR"), d)?;
    if net.prefix_len() < 8 {
        d.error_at(
            path,
            format!("{kind} CIDR too large"),
            format!("{s} is larger than /8, the largest {kind} network EKS accepts."),
        );
        return None;
    }
    if !cidr::is_remote_network_range(&net) {
        d.error_at(
            path,
            format!("{kind} CIDR not private"),
            format!("{s} is not within RFC 1918 (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) or CGNAT (100.64.0.0/10); EKS accepts only private remote networks."),
        );
        return None;
    }
    Some(net)
}

fn check_no_overlap(
    c: &NamedCidr,
    seen: &[NamedCidr],
    vpc: Option<Ipv4Net>,
    service: Option<Ipv4Net>,
    d: &mut Diagnostics,
) {
    if let Some(other) = seen.iter().find(|o| cidr::overlaps(&o.net, &c.net)) {
        d.error_at(
            c.path.clone(),
            "Overlapping remote networks",
            format!(
                "{} CIDR {} overlaps {} CIDR {} at {}.",
                c.kind, c.net, other.kind, other.net, other.path
            ),
        );
    }
    if let Some(vpc) = vpc.filter(|v| cidr::overlaps(v, &c.net)) {
        d.error_at(
            c.path.clone(),
            "Remote network overlaps the VPC",
            format!(
                "Invalid {} network: CIDR {} overlaps with VPC CIDR {vpc}",
                c.kind, c.net
            ),
        );
    }
    if let Some(svc) = service.filter(|s| cidr::overlaps(s, &c.net)) {
        d.error_at(
            c.path.clone(),
            "Remote network overlaps the service CIDR",
            format!(
                "{} CIDR {} overlaps the Kubernetes service CIDR {svc}.",
                c.kind, c.net
            ),
        );
    }
}

fn validate_iam(iam: &Value, path: AttrPath, d: &mut Diagnostics) {
    let provider = match iam.get("provider") {
        Value::Unknown => return,
        Value::Null => Some(CredentialsProvider::Ssm),
        Value::String(p) => {
            let parsed = parse_provider(p);
            if parsed.is_none() {
                d.error_at(
                    path.attr("provider"),
                    "Invalid credentials provider",
                    format!("invalid value {p:?} provided for remoteNetworkConfig.iam.provider; only \"ssm\" and \"ira\" are supported"),
                );
            }
            parsed
        }
        _ => None,
    };
    let role_arn = iam.get("role_arn");
    if let Some(arn) = role_arn.as_str() {
        check_role_arn(arn, path.attr("role_arn"), d);
    }
    let cert = iam.get("ca_bundle_cert");
    match (provider, cert) {
        (Some(CredentialsProvider::Ssm), Value::String(_)) => d.error_at(
            path.attr("ca_bundle_cert"),
            "CA bundle with SSM",
            "remoteNetworkConfig.iam.caBundleCert is not supported when using SSM credentials provider",
        ),
        (Some(CredentialsProvider::Ira), Value::Null) if role_arn.is_null() => d.error_at(
            path.attr("ca_bundle_cert"),
            "Missing CA bundle",
            "remoteNetworkConfig.iam.caBundleCert is required when using IAMRolesAnywhere credentials provider",
        ),
        (Some(CredentialsProvider::Ira), Value::String(pem)) => {
            if let Err(problem) = super::certs::check_ca_bundle(pem) {
                d.error_at(path.attr("ca_bundle_cert"), "Invalid CA bundle", problem);
            } else if !role_arn.is_null() {
                d.warning_at(
                    path.attr("ca_bundle_cert"),
                    "CA bundle unused",
                    "With role_arn set no trust anchor is created, so ca_bundle_cert is not used.",
                );
            }
        }
        _ => {}
    }
}

/// SSM refuses expirations in the past or more than 30 days ahead.
const MAX_ACTIVATION_DAYS: i64 = 30;

fn validate_ssm_activation(config: &Value, d: &mut Diagnostics) {
    let Some(activation) = config.get("ssm_activation").as_list().first() else {
        return;
    };
    let path = AttrPath::root("ssm_activation").index(0);
    let provider = config
        .get("remote_network_config")
        .first()
        .get("iam")
        .first()
        .get("provider");
    if provider.as_str().and_then(parse_provider) == Some(CredentialsProvider::Ira) {
        d.error_at(
            AttrPath::root("ssm_activation"),
            "SSM activation with IAM Roles Anywhere",
            "ssm_activation needs remote_network_config.iam.provider = \"SSM\": nodes using IAM Roles Anywhere authenticate with certificates, not an activation.",
        );
    }
    if let Some(n) = activation.get("registration_limit").as_i64() {
        if !(1..=1000).contains(&n) {
            d.error_at(
                path.attr("registration_limit"),
                "Invalid registration limit",
                format!("{n} is outside what SSM accepts: 1 to 1000 nodes."),
            );
        }
    }
    if let Some(t) = activation.get("expiration").as_str() {
        let format = aws_smithy_types::date_time::Format::DateTime;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let problem = match aws_smithy_types::DateTime::from_str(t, format) {
            Err(_) => Some(format!(
                "{t:?} is not an RFC 3339 time such as \"2026-12-31T00:00:00Z\"."
            )),
            Ok(at) if at.secs() <= now => Some(format!("{t} is in the past.")),
            Ok(at) if at.secs() > now + MAX_ACTIVATION_DAYS * 86_400 => Some(format!(
                "{t} is more than {MAX_ACTIVATION_DAYS} days ahead, the longest SSM allows."
            )),
            Ok(_) => None,
        };
        if let Some(problem) = problem {
            d.error_at(
                path.attr("expiration"),
                "Invalid activation expiration",
                problem,
            );
        }
    }
}

fn validate_timeouts(t: &Value, d: &mut Diagnostics) {
    for k in ["create", "update", "delete"] {
        if let Some(s) = t.get(k).as_str() {
            if parse_duration(s).is_none_or(|d| d.is_zero()) {
                d.error_at(
                    AttrPath::root("timeouts").index(0).attr(k),
                    "Invalid timeout",
                    format!("{s:?} is not a duration such as \"40m\" or \"1h30m\"."),
                );
            }
        }
    }
}

#[cfg(test)]
mod fuzz {
    //! Seeded random configurations from pools of valid, invalid, null and unknown values: the
    //! validators never panic, are deterministic, and reject every out-of-RFC-1918 node CIDR.
    use super::*;
    use crate::resource::hybrid_cluster::schema::schema;
    use rand::seq::IndexedRandom;
    use rand::{Rng, SeedableRng};

    const STRINGS: &[&str] = &[
        "",
        "10.80.146.0/24",
        "10.80.146.1/24",
        "192.168.0.0/16",
        "8.8.8.0/24",
        "10.0.0.0/7",
        "0.0.0.0/0",
        "x/y",
        "10.1.0.0/33",
        "tgw-0123456789abcdef0",
        "vgw-0123456789abcdef0",
        "igw-1",
        "SSM",
        "ira",
        "kerberos",
        "API",
        "CONFIG_MAP",
        "arn:aws:iam::123456789012:role/x",
        "arn:aws:iam::1:user/x",
        "1.33",
        "latest",
        "40m",
        "0s",
        "🦀",
        "vpc-0123456789abcdef0",
        "subnet-0123456789abcdef0",
        "Single",
        "Double",
        "-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n",
    ];

    fn pick(rng: &mut rand::rngs::StdRng) -> Value {
        match rng.random_range(0..10) {
            0 => Value::Null,
            1 => Value::Unknown,
            2 => Value::Bool(rng.random()),
            _ => Value::string(*STRINGS.choose(rng).unwrap()),
        }
    }

    fn fill(
        block: &crate::plugin::schema::Block,
        rng: &mut rand::rngs::StdRng,
        depth: u32,
    ) -> Value {
        let mut v = block.null_object();
        for a in &block.attributes {
            let val = match &a.ty {
                crate::plugin::schema::Type::List(_) | crate::plugin::schema::Type::Set(_) => {
                    if rng.random_bool(0.2) {
                        pick(rng)
                    } else {
                        Value::List((0..rng.random_range(0..4)).map(|_| pick(rng)).collect())
                    }
                }
                crate::plugin::schema::Type::Map(_) => Value::Null,
                _ => pick(rng),
            };
            v.set(&a.name, val);
        }
        for b in &block.blocks {
            let n = if depth == 0 {
                0
            } else {
                rng.random_range(0..3)
            };
            v.set(
                &b.name,
                Value::List((0..n).map(|_| fill(&b.block, rng, depth - 1)).collect()),
            );
        }
        v
    }

    #[test]
    fn random_configurations_never_panic_and_are_deterministic() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let block = schema().block;
        let mut with_errors = 0;
        for _ in 0..3000 {
            let config = fill(&block, &mut rng, 3);
            let d = validate_config(&config);
            assert_eq!(d, validate_config(&config));
            with_errors += usize::from(d.has_errors());
        }
        assert!(with_errors > 100, "{with_errors}");
    }

    #[test]
    fn every_public_node_cidr_is_rejected() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let mut checked = 0;
        while checked < 2000 {
            let ip = std::net::Ipv4Addr::from(rng.random::<u32>());
            let prefix = rng.random_range(8..=32u8);
            let net = ipnet::Ipv4Net::new(ip, prefix).unwrap().trunc();
            if cidr::is_remote_network_range(&net) {
                continue;
            }
            let mut rnc = schema()
                .block
                .find_block("remote_network_config")
                .unwrap()
                .block
                .null_object();
            let mut nodes = Value::Map(Default::default());
            nodes.set("cidrs", Value::string_list([net.to_string()]));
            rnc.set("remote_node_networks", Value::List(vec![nodes]));
            let mut config = schema().block.null_object();
            config.set("name", Value::string("fuzz"));
            config.set("remote_network_config", Value::List(vec![rnc]));
            assert!(validate_config(&config).has_errors(), "{net} was accepted");
            checked += 1;
        }
    }
}

#[cfg(test)]
mod deferral {
    use super::*;
    use crate::resource::hybrid_cluster::schema::schema;

    /// Values from other resources are unknown at validate time: checks wait for them.
    #[test]
    fn unknown_values_are_deferred_not_rejected() {
        let mut rnc = schema()
            .block
            .find_block("remote_network_config")
            .unwrap()
            .block
            .null_object();
        let mut nodes = Value::Map(Default::default());
        nodes.set("cidrs", Value::List(vec![Value::Unknown]));
        rnc.set("remote_node_networks", Value::List(vec![nodes]));
        rnc.set("vpc_gateway_id", Value::Unknown);
        let mut iam = Value::Map(Default::default());
        iam.set("provider", Value::Unknown);
        iam.set("ca_bundle_cert", Value::Unknown);
        iam.set("role_arn", Value::Unknown);
        rnc.set("iam", Value::List(vec![iam]));
        let mut config = schema().block.null_object();
        config.set("name", Value::Unknown);
        config.set("service_ipv4_cidr", Value::Unknown);
        config.set("cluster_role_arn", Value::Unknown);
        let mut vpc = schema()
            .block
            .find_block("vpc")
            .unwrap()
            .block
            .null_object();
        vpc.set("cidr", Value::Unknown);
        vpc.set("availability_zones", Value::Unknown);
        config.set("vpc", Value::List(vec![vpc]));
        config.set("remote_network_config", Value::List(vec![rnc]));
        assert_eq!(validate_config(&config), Diagnostics::default());
        // The same checks run once the values are known.
        let mut known = config.clone();
        known.set("name", Value::string("bad name"));
        assert!(validate_config(&known).has_errors());
    }
}
