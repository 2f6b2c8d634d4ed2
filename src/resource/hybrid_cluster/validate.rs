//! Rules across attributes, over the typed configuration; the single-attribute rules are on
//! the model (`rules.rs`) and have run already. Both run at `terraform validate` and again at
//! plan (when values from other resources have become known), and make no AWS call.
//! Wording follows eksctl where eksctl has a rule.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;
use tfplugin6::{AttrPath, Diagnostics, One, Unknown, Value};

use super::model::{ClusterConfig, Iam, Networks, RemoteNetworkConfig, Vpc, DEFAULT_VPC_CIDR};
use crate::cluster::cidr;
use crate::cluster::spec::{parse_provider, CredentialsProvider};
use crate::provider::rules;

pub fn validate_config(config: &Value) -> Diagnostics {
    let mut d = Diagnostics::default();
    match tfplugin6::model::read::<ClusterConfig>(config) {
        Ok(c) => validate(&c, &mut d),
        Err(e) => d.error("Invalid configuration value", e.to_string()),
    }
    d
}

fn validate(c: &ClusterConfig, d: &mut Diagnostics) {
    endpoint_access(c, d);
    // A `dynamic` block whose for_each is unknown is wholly unknown: checks that depend on it
    // wait for plan.
    let network = match &c.vpc {
        Unknown::Unknown => None,
        Unknown::Known(vpc) => Some(vpc_kind(vpc.get(), d)),
    };
    let service = service_cidr(c, network.as_ref(), d);
    if let Some(rnc) = c.remote_network_config.known().and_then(One::get) {
        remote_networks(rnc, network.as_ref(), service, d);
    }
    let tags = c.tags.value().map(|t| {
        t.iter()
            .map(|(k, v)| (k.clone(), v.known().cloned()))
            .collect::<BTreeMap<_, _>>()
    });
    if let Some(tags) = tags {
        tag_rules(c, &tags, d);
    }
    if c.ssm_activation.known().and_then(One::get).is_some() {
        activation_with_ssm(c, d);
    }
    pod_identity_with_own_role(c, d);
    boundary_with_own_roles(c, d);
}

/// A boundary applies to the roles the provider makes; with both roles brought it has none.
fn boundary_with_own_roles(c: &ClusterConfig, d: &mut Diagnostics) {
    let nodes_brought = iam_of(c).is_some_and(|i| i.role_arn.known().is_some_and(Option::is_some));
    let cluster_brought = c.cluster_role_arn.known().is_some_and(Option::is_some);
    if nodes_brought && cluster_brought && c.role_permissions_boundary.value().is_some() {
        d.warning_at(
            AttrPath::root(ClusterConfig::role_permissions_boundary),
            "role_permissions_boundary unused",
            "With cluster_role_arn and remote_network_config.iam.role_arn set the provider \
             makes no IAM role, so role_permissions_boundary is not used: set the boundary on \
             your roles where you make them.",
        );
    }
}

/// The setting shapes the role the provider makes; a role of one's own keeps its policies.
fn pod_identity_with_own_role(c: &ClusterConfig, d: &mut Diagnostics) {
    let brought = iam_of(c).is_some_and(|i| i.role_arn.known().is_some_and(Option::is_some));
    if brought && c.nodes_pod_identity.value().is_some() {
        d.warning_at(
            AttrPath::root(ClusterConfig::nodes_pod_identity),
            "nodes_pod_identity unused",
            "With remote_network_config.iam.role_arn set the provider makes no nodes role, so \
             nodes_pod_identity is not used: grant eks-auth:AssumeRoleForPodIdentity in your \
             role's policies if its nodes run the EKS Pod Identity agent.",
        );
    }
}

fn endpoint_access(c: &ClusterConfig, d: &mut Diagnostics) {
    let public = c.endpoint_public_access.value().copied();
    let private = c.endpoint_private_access.value().copied();
    if public == Some(true) && private == Some(true) {
        d.warning_at(
            AttrPath::root(ClusterConfig::endpoint_private_access),
            "Public and private endpoint access together",
            "EKS Hybrid Nodes need the endpoint to be public or private, not both: with both, the \
             endpoint resolves to public addresses for the hybrid nodes.",
        );
    }
    if public == Some(false) && private == Some(false) {
        d.error_at(
            AttrPath::root(ClusterConfig::endpoint_public_access),
            "No endpoint access",
            "At least one of endpoint_public_access and endpoint_private_access must be true.",
        );
    }
}

/// What the `vpc` block says of the cluster's network, as far as the configuration knows.
struct Network {
    existing: bool,
    /// The VPC CIDR when the provider creates the VPC and the CIDR is known and valid.
    cidr: Option<Ipv4Net>,
}

fn vpc_path() -> AttrPath {
    AttrPath::root(ClusterConfig::vpc).index(0)
}

fn vpc_kind(vpc: Option<&Vpc>, d: &mut Diagnostics) -> Network {
    let Some(vpc) = vpc else {
        return Network {
            existing: false,
            cidr: Some(DEFAULT_VPC_CIDR.parse().expect("constant")),
        };
    };
    // Only a known value is surely set: an unknown one may still turn out null, and is
    // checked again at apply, when it is known.
    let set = |pairs: &[(&'static str, bool, bool)]| -> Vec<&'static str> {
        pairs
            .iter()
            .filter(|(_, null, unknown)| !null && !unknown)
            .map(|(n, _, _)| *n)
            .collect()
    };
    let existing = set(&[
        (Vpc::id, vpc.id.is_null(), vpc.id.is_unknown()),
        (
            Vpc::subnet_ids,
            vpc.subnet_ids.is_null(),
            vpc.subnet_ids.is_unknown(),
        ),
        (
            Vpc::security_group_ids,
            vpc.security_group_ids.is_null(),
            vpc.security_group_ids.is_unknown(),
        ),
    ]);
    let maybe_existing =
        vpc.id.is_unknown() || vpc.subnet_ids.is_unknown() || vpc.security_group_ids.is_unknown();
    let created = set(&[
        (Vpc::cidr, vpc.cidr.is_null(), vpc.cidr.is_unknown()),
        (
            Vpc::availability_zones,
            vpc.availability_zones.is_null(),
            vpc.availability_zones.is_unknown(),
        ),
        (
            Vpc::nat_gateway,
            vpc.nat_gateway.is_null(),
            vpc.nat_gateway.is_unknown(),
        ),
    ]);
    if !existing.is_empty() && !created.is_empty() {
        d.error_at(
            vpc_path().attr(created[0]),
            "Conflicting VPC settings",
            format!(
                "{} describe a VPC the provider creates, {} a pre-existing VPC; set one kind only.",
                created.join(", "),
                existing.join(", ")
            ),
        );
    }
    if !existing.is_empty() {
        if vpc.id.is_null() {
            d.error_at(
                vpc_path().attr(Vpc::id),
                "Missing VPC ID",
                "subnet_ids and security_group_ids describe a pre-existing VPC: set vpc.id too.",
            );
        }
        if vpc.subnet_ids.is_null() {
            d.error_at(
                vpc_path().attr(Vpc::subnet_ids),
                "Missing subnets",
                "A pre-existing VPC needs subnet_ids in at least two availability zones.",
            );
        }
        return Network {
            existing: true,
            cidr: None,
        };
    }
    if maybe_existing {
        // Which kind of VPC is not known yet, so neither is its CIDR.
        return Network {
            existing: false,
            cidr: None,
        };
    }
    let cidr = match &vpc.cidr {
        Unknown::Unknown => None,
        Unknown::Known(None) => Some(DEFAULT_VPC_CIDR.parse().expect("constant")),
        Unknown::Known(Some(s)) => {
            rules::vpc_cidr_of(s, &AttrPath::default(), &mut Diagnostics::default())
        }
    };
    Network {
        existing: false,
        cidr,
    }
}

/// The Kubernetes service CIDR as far as the configuration shows it.
#[derive(Clone, Copy)]
enum ServiceCidr {
    Given(Ipv4Net),
    /// Unset: EKS picks "either the 10.100.0.0/16 or 172.20.0.0/16" (EKS API reference,
    /// `KubernetesNetworkConfigRequest.serviceIpv4Cidr`); how it picks is not documented
    /// (awsdocs/amazon-eks-user-guide#974), so an overlap with either is only a warning.
    EksDefault,
}

fn service_cidr(
    c: &ClusterConfig,
    network: Option<&Network>,
    d: &mut Diagnostics,
) -> Option<ServiceCidr> {
    let path = AttrPath::root(ClusterConfig::service_ipv4_cidr);
    match &c.service_ipv4_cidr {
        Unknown::Unknown => None,
        Unknown::Known(None) => Some(ServiceCidr::EksDefault),
        Unknown::Known(Some(s)) => {
            let net = rules::service_cidr_of(s, &path, &mut Diagnostics::default())?;
            if let Some(vpc) = network
                .and_then(|n| n.cidr)
                .filter(|vpc| cidr::overlaps(vpc, &net))
            {
                d.error_at(
                    path,
                    "Service CIDR overlaps the VPC",
                    format!("{s} overlaps the VPC CIDR {vpc}."),
                );
            }
            Some(ServiceCidr::Given(net))
        }
    }
}

struct NamedCidr {
    net: Ipv4Net,
    path: AttrPath,
    kind: &'static str,
}

fn rnc_path() -> AttrPath {
    AttrPath::root(ClusterConfig::remote_network_config).index(0)
}

fn remote_networks(
    rnc: &RemoteNetworkConfig,
    network: Option<&Network>,
    service: Option<ServiceCidr>,
    d: &mut Diagnostics,
) {
    let path = rnc_path();
    let lists = [
        (
            &rnc.remote_node_networks,
            RemoteNetworkConfig::remote_node_networks,
            "remote node",
            "remoteNodeNetwork",
        ),
        (
            &rnc.remote_pod_networks,
            RemoteNetworkConfig::remote_pod_networks,
            "remote pod",
            "remotePodNetwork",
        ),
    ];
    if rnc.remote_node_networks.known().is_some_and(Vec::is_empty) {
        d.error_at(
            path.attr(RemoteNetworkConfig::remote_node_networks),
            "Missing remote node network",
            "remoteNetworkConfig.remoteNodeNetworks must be set and non-empty",
        );
    }
    let mut seen: Vec<NamedCidr> = Vec::new();
    for (networks, name, kind, eksctl_name) in lists {
        let networks: &[Networks] = networks.known().map_or(&[], Vec::as_slice);
        if networks.len() > 1 {
            d.error_at(
                path.attr(name).index(1),
                format!("Too many {kind} networks"),
                format!("only one {eksctl_name} is allowed in remoteNetworkConfig.{eksctl_name}s"),
            );
        }
        for (bi, n) in networks.iter().enumerate() {
            let cidrs_path = path.attr(name).index(bi).attr(Networks::cidrs);
            for (ci, c) in n.cidrs.known().into_iter().flatten().enumerate() {
                let Some(s) = c.known() else { continue };
                let at = cidrs_path.index(ci);
                let Some(net) = rules::remote_cidr_of(s, &at, kind, &mut Diagnostics::default())
                else {
                    continue;
                };
                let this = NamedCidr {
                    net,
                    path: at,
                    kind,
                };
                no_overlap(&this, &seen, network.and_then(|n| n.cidr), service, d);
                seen.push(this);
            }
        }
    }
    let gateway_set = rnc.vpc_gateway_id.known().is_some_and(Option::is_some);
    if network.is_some_and(|n| n.existing) && gateway_set {
        d.error_at(
            path.attr(RemoteNetworkConfig::vpc_gateway_id),
            "Gateway with a pre-existing VPC",
            "remoteNetworkConfig.vpcGatewayID is not supported when using pre-existing VPC",
        );
    }
    if let Some(iam) = rnc.iam.known().and_then(One::get) {
        credentials(iam, d);
    }
}

fn no_overlap(
    c: &NamedCidr,
    seen: &[NamedCidr],
    vpc: Option<Ipv4Net>,
    service: Option<ServiceCidr>,
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
    match service {
        Some(ServiceCidr::Given(svc)) if cidr::overlaps(&svc, &c.net) => d.error_at(
            c.path.clone(),
            "Remote network overlaps the service CIDR",
            format!(
                "{} CIDR {} overlaps the Kubernetes service CIDR {svc}.",
                c.kind, c.net
            ),
        ),
        Some(ServiceCidr::EksDefault) => {
            let defaults = cidr::EKS_DEFAULT_SERVICE_CIDRS.map(|d| d.parse::<Ipv4Net>());
            if let Some(Ok(svc)) = defaults
                .iter()
                .find(|d| d.as_ref().is_ok_and(|d| cidr::overlaps(d, &c.net)))
            {
                d.warning_at(
                    c.path.clone(),
                    "Remote network may overlap the service CIDR",
                    format!(
                        "{} CIDR {} overlaps {svc}. With service_ipv4_cidr unset, EKS assigns \
                         service addresses from either 10.100.0.0/16 or 172.20.0.0/16 (EKS API \
                         reference), and refuses a remote network that overlaps the one it \
                         picks. Set service_ipv4_cidr to a block that overlaps none of your \
                         networks to be sure.",
                        c.kind, c.net
                    ),
                );
            }
        }
        _ => {}
    }
}

/// The credentials provider as configured: SSM when unset, None while unknown or invalid.
fn provider_of(iam: Option<&Iam>) -> Option<CredentialsProvider> {
    match iam.map(|i| &i.provider) {
        None | Some(Unknown::Known(None)) => Some(CredentialsProvider::Ssm),
        Some(Unknown::Known(Some(p))) => parse_provider(p),
        Some(Unknown::Unknown) => None,
    }
}

/// Where the trust anchor's CA comes from: exactly one of a CA bundle and an AWS Private CA for
/// IRA with a role the provider creates (eksctl requires `caBundleCert`; Roles Anywhere's
/// `SourceData` is a union of the two), neither for SSM.
fn credentials(iam: &Iam, d: &mut Diagnostics) {
    if iam.provider.is_unknown() {
        return;
    }
    let iam_path = rnc_path().attr(RemoteNetworkConfig::iam).index(0);
    let bundle_path = iam_path.attr(Iam::ca_bundle_cert);
    let pca_path = iam_path.attr(Iam::acm_pca_arn);
    let brought_role = iam.role_arn.known().is_some_and(Option::is_some);
    // Unknown values may yet be null: only what is known decides.
    let set = |v: &Unknown<Option<String>>| v.known().is_some_and(Option::is_some);
    let (bundle, pca) = (set(&iam.ca_bundle_cert), set(&iam.acm_pca_arn));
    let neither = iam.ca_bundle_cert.is_null() && iam.acm_pca_arn.is_null();
    match provider_of(Some(iam)) {
        Some(CredentialsProvider::Ssm) => {
            if bundle {
                d.error_at(
                    bundle_path,
                    "CA bundle with SSM",
                    "remoteNetworkConfig.iam.caBundleCert is not supported when using SSM credentials provider",
                );
            }
            if pca {
                d.error_at(
                    pca_path,
                    "Private CA with SSM",
                    "acm_pca_arn makes an IAM Roles Anywhere trust anchor: set provider = \"IRA\", or remove it for SSM.",
                );
            }
        }
        Some(CredentialsProvider::Ira) if brought_role => {
            for (set, path) in [(bundle, bundle_path), (pca, pca_path)] {
                if set {
                    d.warning_at(
                        path,
                        "Trust anchor source unused",
                        "With role_arn set no trust anchor is created, so ca_bundle_cert and acm_pca_arn are not used.",
                    );
                }
            }
        }
        Some(CredentialsProvider::Ira) if bundle && pca => d.error_at(
            pca_path,
            "Two trust anchor sources",
            "A trust anchor has one source: give either ca_bundle_cert (a CA certificate bundle) or acm_pca_arn (an AWS Private CA), not both.",
        ),
        Some(CredentialsProvider::Ira) if neither && iam.role_arn.is_null() => d.error_at(
            bundle_path,
            "Missing CA bundle",
            "remoteNetworkConfig.iam.caBundleCert is required when using IAMRolesAnywhere credentials provider (or acm_pca_arn, an AWS Private CA).",
        ),
        _ => {}
    }
}

fn iam_of(c: &ClusterConfig) -> Option<&Iam> {
    c.remote_network_config
        .known()
        .and_then(One::get)
        .and_then(|r| r.iam.known())
        .and_then(One::get)
}

fn activation_with_ssm(c: &ClusterConfig, d: &mut Diagnostics) {
    if provider_of(iam_of(c)) == Some(CredentialsProvider::Ira) {
        d.error_at(
            AttrPath::root(ClusterConfig::ssm_activation),
            "SSM activation with IAM Roles Anywhere",
            "ssm_activation needs remote_network_config.iam.provider = \"SSM\": nodes using IAM Roles Anywhere authenticate with certificates, not an activation.",
        );
    }
}

/// Tags that every object can carry. IAM Roles Anywhere allows only letters, digits, spaces
/// and `_.:/=+@-` in tag keys and values (botocore's `rolesanywhere` model, TagKey and
/// TagValue), so when the provider creates a trust anchor and profile the tags must fit that.
/// EC2 allows 50 tags per object (EC2 user guide, "Tag restrictions"), and the provider adds
/// its ownership tag, `Name` and, on subnets, a `kubernetes.io/role` tag. Values unknown yet
/// are checked at plan.
fn tag_rules(c: &ClusterConfig, tags: &BTreeMap<String, Option<String>>, d: &mut Diagnostics) {
    let path = AttrPath::root(ClusterConfig::tags);
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
    for k in tags.keys() {
        if k.to_ascii_lowercase().starts_with("aws:") {
            d.error_at(
                path.key(k),
                "Tag key reserved by AWS",
                format!("Tag {k:?}: keys that begin with aws: are reserved for AWS's use (EC2 user guide, \"Tag restrictions\"; IAM user guide, \"Tagging IAM resources\")."),
            );
        }
    }
    for service in services_tagged(c) {
        for (k, v) in tags {
            let bad_value = v
                .as_deref()
                .is_some_and(|v| !(service.allowed)(v) || v.chars().count() > 256);
            if !(service.allowed)(k) || k.is_empty() || k.chars().count() > 128 || bad_value {
                d.error_at(
                    path.key(k),
                    format!("Tag not allowed by {}", service.name),
                    format!(
                        "Tag {k:?} goes on {} too, and {} allows only {} in tag keys (1 to 128 characters) and values (up to 256) ({}).",
                        service.objects, service.name, service.characters, service.source
                    ),
                );
            }
        }
    }
}

/// A service that receives the resource's tags, with the characters its tag keys and values
/// may hold.
struct TaggedService {
    name: &'static str,
    objects: &'static str,
    characters: &'static str,
    source: &'static str,
    allowed: fn(&str) -> bool,
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`: letters, separators and numbers of any script, and _.:/=+-@.
fn unicode_tag_text(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_alphabetic()
            || c.is_numeric()
            || (c.is_whitespace() && !c.is_control())
            || "_.:/=+-@".contains(c)
    })
}

/// `[ a-zA-Z0-9_.:/=+@-]`: ASCII letters, digits, the space and _.:/=+@-.
fn ascii_tag_text(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || " _.:/=+@-".contains(c))
}

/// The services beyond EKS and EC2 (which allow any character) that the configuration sends
/// its tags to: IAM when the provider creates a role, Roles Anywhere when it creates the
/// trust anchor and profile, SSM when it creates an activation. Patterns from botocore's
/// models: `iam` tagKeyType/tagValueType, `rolesanywhere` TagKey/TagValue, `ssm`
/// TagKey/TagValue.
fn services_tagged(c: &ClusterConfig) -> Vec<TaggedService> {
    let iam = iam_of(c);
    let creates_nodes_role = iam.is_none_or(|i| i.role_arn.is_null());
    let creates_cluster_role = c.cluster_role_arn.is_null();
    let mut out = Vec::new();
    if creates_nodes_role || creates_cluster_role {
        out.push(TaggedService {
            name: "IAM",
            objects: "the IAM roles the provider creates",
            characters: "letters, digits and spaces of any script and _.:/=+-@",
            source: "botocore's iam model, tagKeyType and tagValueType",
            allowed: unicode_tag_text,
        });
    }
    if provider_of(iam) == Some(CredentialsProvider::Ira) && creates_nodes_role {
        out.push(TaggedService {
            name: "IAM Roles Anywhere",
            objects: "the IAM Roles Anywhere trust anchor and profile",
            characters: "letters, digits, spaces and _.:/=+@-",
            source: "botocore's rolesanywhere model, TagKey and TagValue",
            allowed: ascii_tag_text,
        });
    }
    if c.ssm_activation.known().is_some_and(|a| a.get().is_some()) {
        out.push(TaggedService {
            name: "SSM",
            objects: "the SSM activation",
            characters: "letters, digits and spaces of any script and _.:/=+-@",
            source: "botocore's ssm model, TagKey and TagValue",
            allowed: unicode_tag_text,
        });
    }
    out
}

/// The same tag rules at plan, over `tags` merged with the provider's `default_tags`.
pub fn validate_tags_all(c: &ClusterConfig, tags_all: &BTreeMap<String, String>) -> Diagnostics {
    let mut d = Diagnostics::default();
    let tags = tags_all
        .iter()
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect();
    tag_rules(c, &tags, &mut d);
    d
}
