//! What a hybrid cluster should be, in the domain's terms (VPC to create or reuse, gateway,
//! credentials provider, timeouts): the domain's input. The resource converts its
//! configuration into one; discovery reads one back from AWS.

use std::collections::BTreeMap;
use std::time::Duration;

/// eksctl's VPC, when the configuration brings none.
pub const DEFAULT_VPC_CIDR: &str = "192.168.0.0/16";
/// The authentication mode hybrid nodes need: access entries, with the aws-auth ConfigMap kept.
pub const DEFAULT_AUTHENTICATION_MODE: &str = "API_AND_CONFIG_MAP";

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
    /// The tags every object the provider makes carries: `tags` (merged with the provider's
    /// defaults) and the ownership tag.
    pub fn tags_with_ownership(&self) -> BTreeMap<String, String> {
        let mut tags = self.tags.clone();
        tags.insert(super::names::OWNERSHIP_TAG.to_string(), self.name.clone());
        tags
    }

    /// Nodes register through SSM activations only with SSM credentials.
    pub fn deregisters_nodes(&self) -> bool {
        self.deregister_nodes_on_destroy && self.remote.provider == CredentialsProvider::Ssm
    }

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

/// How many NAT gateways a VPC of `zones` zones gets.
pub fn nat_gateway_count(nat: &NatMode, zones: usize) -> usize {
    match nat {
        NatMode::Single => 1,
        NatMode::HighlyAvailable => zones,
        NatMode::Disable => 0,
    }
}

/// The destination of a subnet's way out (to the internet gateway or a NAT gateway).
pub const DEFAULT_ROUTE: &str = "0.0.0.0/0";

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
