//! The resource's desired configuration in domain terms (VPC to create or reuse, gateway,
//! credentials provider, timeouts), read from a planned `ClusterConfig` whose arguments are
//! known.

use std::collections::BTreeMap;
use std::time::Duration;

use tfplugin6::model::known_elements;
use tfplugin6::Unknown;

use super::model::{ClusterConfig, DEFAULT_AUTHENTICATION_MODE, DEFAULT_VPC_CIDR};

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
    /// The EKS Hybrid Nodes gateway writes the pod CIDR routes.
    pub pod_routes_by_gateway: bool,
    /// The nodes role may serve the EKS Pod Identity agent.
    pub pod_identity: bool,
    pub provider: CredentialsProvider,
    pub ca_bundle_cert: Option<String>,
    pub acm_pca_arn: Option<String>,
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

    /// The trust anchor's source: the Private CA when given (validation allows one of the two).
    pub fn anchor_source(&self) -> crate::aws::rolesanywhere::AnchorSource {
        use crate::aws::rolesanywhere::AnchorSource;
        match (&self.acm_pca_arn, &self.ca_bundle_cert) {
            (Some(arn), _) => AnchorSource::PrivateCa(arn.clone()),
            (None, bundle) => AnchorSource::Bundle(bundle.clone().unwrap_or_default()),
        }
    }

    /// What the provider routes to the gateway: every remote CIDR, or only the node CIDRs
    /// when the Hybrid Nodes gateway routes the pods.
    pub fn routed_cidrs(&self) -> Vec<String> {
        if self.pod_routes_by_gateway {
            self.node_cidrs.clone()
        } else {
            self.all_cidrs()
        }
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
    /// Pass EKS's `force` on a version upgrade.
    pub force_update_version: bool,
    /// Deregister the SSM managed instances of this cluster's activations on destroy.
    pub deregister_nodes_on_destroy: bool,
    pub tags: BTreeMap<String, String>,
    pub endpoint_public_access: bool,
    pub endpoint_private_access: bool,
    pub authentication_mode: String,
    pub service_ipv4_cidr: Option<String>,
    pub cluster_role_arn: Option<String>,
    /// The permissions boundary of the roles the provider makes.
    pub role_permissions_boundary: Option<String>,
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
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    if !digits.is_empty() {
        return None;
    }
    Some(Duration::from_secs(total))
}

/// The longest `timeouts` value: a week. EKS's slowest operation, a version update, takes
/// about an hour, and a deadline must stay within what the clock can add.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);

fn known<T: Clone>(v: &Unknown<Option<T>>) -> Option<T> {
    v.value().cloned()
}

impl ClusterSpec {
    /// Reads planned arguments, defaults filled by the plan. `tags` is the merged `tags_all`.
    pub fn from_config(c: &ClusterConfig, tags: BTreeMap<String, String>) -> ClusterSpec {
        let vpc = c.vpc.known().and_then(|v| v.get());
        let vpc = match vpc.and_then(|v| known(&v.id)) {
            Some(id) => VpcSpec::Existing {
                id,
                subnet_ids: vpc
                    .map(|v| known_elements(&v.subnet_ids))
                    .unwrap_or_default(),
                security_group_ids: vpc
                    .map(|v| known_elements(&v.security_group_ids))
                    .unwrap_or_default(),
            },
            None => VpcSpec::Create {
                cidr: vpc
                    .and_then(|v| known(&v.cidr))
                    .unwrap_or_else(|| DEFAULT_VPC_CIDR.into()),
                availability_zones: vpc
                    .map(|v| known_elements(&v.availability_zones))
                    .unwrap_or_default(),
                nat: vpc
                    .and_then(|v| v.nat_gateway.value())
                    .and_then(|n| parse_nat(n))
                    .unwrap_or(NatMode::Single),
            },
        };
        let rnc = c.remote_network_config.known().and_then(|r| r.get());
        let iam = rnc.and_then(|r| r.iam.known()).and_then(|i| i.get());
        let cidrs_of = |networks: Option<&Unknown<Vec<super::model::Networks>>>| -> Vec<String> {
            networks
                .and_then(Unknown::known)
                .map(|ns| {
                    ns.iter()
                        .filter_map(|n| n.cidrs.known())
                        .flatten()
                        .filter_map(|c| c.known().cloned())
                        .collect()
                })
                .unwrap_or_default()
        };
        let remote = RemoteNetworks {
            gateway: rnc
                .and_then(|r| r.vpc_gateway_id.value())
                .and_then(|g| Gateway::parse(g)),
            node_cidrs: cidrs_of(rnc.map(|r| &r.remote_node_networks)),
            pod_cidrs: cidrs_of(rnc.map(|r| &r.remote_pod_networks)),
            pod_routes_by_gateway: known(&c.pod_routes_by_hybrid_nodes_gateway).unwrap_or(false),
            pod_identity: known(&c.nodes_pod_identity).unwrap_or(true),
            provider: iam
                .and_then(|i| i.provider.value())
                .and_then(|p| parse_provider(p))
                .unwrap_or(CredentialsProvider::Ssm),
            ca_bundle_cert: iam.and_then(|i| known(&i.ca_bundle_cert)),
            acm_pca_arn: iam.and_then(|i| known(&i.acm_pca_arn)),
            role_arn: iam.and_then(|i| known(&i.role_arn)),
        };
        let t = c.timeouts.known().and_then(|t| t.get());
        let timeout = |pick: fn(&super::model::Timeouts) -> &Unknown<Option<String>>,
                       default_min: u64| {
            t.and_then(|t| pick(t).value())
                .and_then(|s| parse_duration(s))
                .unwrap_or(Duration::from_secs(default_min * 60))
        };
        ClusterSpec {
            name: c.name.known().cloned().unwrap_or_default(),
            kubernetes_version: known(&c.kubernetes_version),
            force_update_version: known(&c.force_update_version).unwrap_or(false),
            deregister_nodes_on_destroy: known(&c.deregister_nodes_on_destroy).unwrap_or(true),
            tags,
            endpoint_public_access: known(&c.endpoint_public_access).unwrap_or(true),
            endpoint_private_access: known(&c.endpoint_private_access).unwrap_or(false),
            authentication_mode: known(&c.authentication_mode)
                .unwrap_or_else(|| DEFAULT_AUTHENTICATION_MODE.into()),
            service_ipv4_cidr: known(&c.service_ipv4_cidr),
            cluster_role_arn: known(&c.cluster_role_arn),
            role_permissions_boundary: known(&c.role_permissions_boundary),
            vpc,
            remote,
            ssm_activation: c.ssm_activation.known().and_then(|a| a.get()).map(|a| {
                ActivationSpec {
                    registration_limit: known(&a.registration_limit).map_or(1, |n| n as i32),
                    expiration: known(&a.expiration),
                }
            }),
            timeouts: Timeouts {
                create: timeout(|t| &t.create, 40),
                update: timeout(|t| &t.update, 60),
                delete: timeout(|t| &t.delete, 40),
            },
        }
    }
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
        assert_eq!(parse_duration("6000000000000000h"), None, "overflow");
        assert_eq!(parse_duration("99999999999999999999999s"), None);
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
