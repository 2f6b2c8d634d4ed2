//! The resource's desired configuration, read from a wholly known planned value.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::plugin::Value;

#[derive(Clone, Debug, PartialEq)]
pub enum CredentialsProvider {
    Ssm,
    Ira,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NatMode {
    Single,
    HighlyAvailable,
    Disable,
}

#[derive(Clone, Debug, PartialEq)]
pub enum VpcSpec {
    Create {
        cidr: String,
        availability_zones: Vec<String>,
        nat: NatMode,
    },
    Existing {
        id: String,
        subnet_ids: Vec<String>,
        security_group_ids: Vec<String>,
    },
}

/// The gateway the remote networks are reached through.
#[derive(Clone, Debug, PartialEq)]
pub enum Gateway {
    Transit(String),
    Vpn(String),
}

impl Gateway {
    /// `tgw-…` or `vgw-…`; anything else is not a gateway this provider attaches.
    pub fn parse(id: &str) -> Option<Gateway> {
        if id.starts_with("tgw-") {
            Some(Gateway::Transit(id.to_string()))
        } else if id.starts_with("vgw-") {
            Some(Gateway::Vpn(id.to_string()))
        } else {
            None
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Gateway::Transit(id) | Gateway::Vpn(id) => id,
        }
    }

    pub fn route_target(&self) -> crate::aws::ec2::RouteTarget<'_> {
        match self {
            Gateway::Transit(id) => crate::aws::ec2::RouteTarget::TransitGateway(id),
            Gateway::Vpn(id) => crate::aws::ec2::RouteTarget::VpnGateway(id),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RemoteNetworks {
    pub gateway: Option<Gateway>,
    pub node_cidrs: Vec<String>,
    pub pod_cidrs: Vec<String>,
    pub provider: CredentialsProvider,
    pub ca_bundle_cert: Option<String>,
    pub role_arn: Option<String>,
}

impl RemoteNetworks {
    /// Node CIDRs then pod CIDRs: what gets routes and control-plane ingress (eksctl's pool).
    pub fn all_cidrs(&self) -> Vec<String> {
        self.node_cidrs
            .iter()
            .chain(&self.pod_cidrs)
            .cloned()
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Timeouts {
    pub create: Duration,
    pub update: Duration,
    pub delete: Duration,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClusterSpec {
    pub name: String,
    pub kubernetes_version: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub endpoint_public_access: bool,
    pub endpoint_private_access: bool,
    pub authentication_mode: String,
    pub service_ipv4_cidr: Option<String>,
    pub cluster_role_arn: Option<String>,
    pub vpc: VpcSpec,
    pub remote: RemoteNetworks,
    pub ssm_activation: Option<ActivationSpec>,
    pub timeouts: Timeouts,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActivationSpec {
    pub registration_limit: i32,
    pub expiration: Option<String>,
}

impl ClusterSpec {
    /// IAM Roles Anywhere without a role of the user's: the provider makes the trust anchor
    /// and profile.
    pub fn creates_roles_anywhere_objects(&self) -> bool {
        self.remote.provider == CredentialsProvider::Ira && self.remote.role_arn.is_none()
    }
}

pub fn parse_provider(s: &str) -> Option<CredentialsProvider> {
    match s.to_ascii_lowercase().as_str() {
        "ssm" => Some(CredentialsProvider::Ssm),
        "ira" => Some(CredentialsProvider::Ira),
        _ => None,
    }
}

pub fn parse_nat(s: &str) -> Option<NatMode> {
    match s {
        "Single" => Some(NatMode::Single),
        "HighlyAvailable" => Some(NatMode::HighlyAvailable),
        "Disable" => Some(NatMode::Disable),
        _ => None,
    }
}

/// Go-style durations as Terraform users write them: `40m`, `1h30m`, `90s`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let mut total = 0u64;
    let mut digits = String::new();
    if s.is_empty() {
        return None;
    }
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u64 = digits.parse().ok()?;
        digits.clear();
        total += n * match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
    }
    if !digits.is_empty() {
        return None;
    }
    Some(Duration::from_secs(total))
}

fn opt_string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

impl ClusterSpec {
    /// Reads a planned value. Defaults have been filled by the plan, so absent means "not set".
    pub fn from_value(v: &Value) -> ClusterSpec {
        let vpc = v.get("vpc").first();
        let vpc = match vpc.get("id").as_str() {
            Some(id) => VpcSpec::Existing {
                id: id.to_string(),
                subnet_ids: vpc.get("subnet_ids").strings(),
                security_group_ids: vpc.get("security_group_ids").strings(),
            },
            None => VpcSpec::Create {
                cidr: opt_string(vpc.get("cidr"))
                    .unwrap_or_else(|| super::schema::DEFAULT_VPC_CIDR.into()),
                availability_zones: vpc.get("availability_zones").strings(),
                nat: vpc
                    .get("nat_gateway")
                    .as_str()
                    .and_then(parse_nat)
                    .unwrap_or(NatMode::Single),
            },
        };
        let rnc = v.get("remote_network_config").first();
        let iam = rnc.get("iam").first();
        let cidrs_of = |block: &str| -> Vec<String> {
            rnc.get(block)
                .as_list()
                .iter()
                .flat_map(|n| n.get("cidrs").strings())
                .collect()
        };
        let remote = RemoteNetworks {
            gateway: rnc.get("vpc_gateway_id").as_str().and_then(Gateway::parse),
            node_cidrs: cidrs_of("remote_node_networks"),
            pod_cidrs: cidrs_of("remote_pod_networks"),
            provider: iam
                .get("provider")
                .as_str()
                .and_then(parse_provider)
                .unwrap_or(CredentialsProvider::Ssm),
            ca_bundle_cert: opt_string(iam.get("ca_bundle_cert")),
            role_arn: opt_string(iam.get("role_arn")),
        };
        let t = v.get("timeouts").first();
        let timeout = |k: &str, default_min: u64| {
            t.get(k)
                .as_str()
                .and_then(parse_duration)
                .unwrap_or(Duration::from_secs(default_min * 60))
        };
        ClusterSpec {
            name: v.get("name").as_str().unwrap_or_default().to_string(),
            kubernetes_version: opt_string(v.get("kubernetes_version")),
            tags: tags_of(v.get("tags_all")),
            endpoint_public_access: v.get("endpoint_public_access").as_bool().unwrap_or(true),
            endpoint_private_access: v.get("endpoint_private_access").as_bool().unwrap_or(false),
            authentication_mode: opt_string(v.get("authentication_mode"))
                .unwrap_or_else(|| super::schema::DEFAULT_AUTHENTICATION_MODE.into()),
            service_ipv4_cidr: opt_string(v.get("service_ipv4_cidr")),
            cluster_role_arn: opt_string(v.get("cluster_role_arn")),
            vpc,
            remote,
            ssm_activation: v
                .get("ssm_activation")
                .as_list()
                .first()
                .map(|a| ActivationSpec {
                    registration_limit: a
                        .get("registration_limit")
                        .as_i64()
                        .map_or(1, |n| n as i32),
                    expiration: opt_string(a.get("expiration")),
                }),
            timeouts: Timeouts {
                create: timeout("create", 40),
                update: timeout("update", 60),
                delete: timeout("delete", 40),
            },
        }
    }
}

pub fn tags_of(v: &Value) -> BTreeMap<String, String> {
    v.as_map()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("40m"), Some(Duration::from_secs(2400)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("40"), None);
        assert_eq!(parse_duration("4d"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn gateways_are_parsed_once() {
        assert_eq!(
            Gateway::parse("tgw-1"),
            Some(Gateway::Transit("tgw-1".into()))
        );
        assert_eq!(
            Gateway::parse("vgw-1").map(|g| g.id().to_string()),
            Some("vgw-1".into())
        );
        assert_eq!(Gateway::parse("igw-1"), None);
    }

    #[test]
    fn provider_is_case_insensitive() {
        assert_eq!(parse_provider("Ira"), Some(CredentialsProvider::Ira));
        assert_eq!(parse_provider("SSM"), Some(CredentialsProvider::Ssm));
        assert_eq!(parse_provider("x"), None);
    }
}
