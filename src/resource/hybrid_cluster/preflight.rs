//! Plan-time checks that need a look at AWS, made only when the configuration has no errors
//! of its own: a pre-existing VPC exists, the subnets given are in it, and no remote network
//! overlaps its CIDR blocks or the service CIDR EKS will choose for it (172.20.0.0/16 in a
//! 10.0.0.0/8 VPC, else 10.100.0.0/16). Two calls: DescribeVpcs and DescribeSubnets.

use std::future::Future;
use std::time::Duration;

use ipnet::Ipv4Net;
use tokio_util::sync::CancellationToken;

use tfplugin6::{AttrPath, Diagnostics, One, Unknown};

use super::model::{ClusterConfig, Iam, Networks, RemoteNetworkConfig, Strings, Vpc};
use crate::aws::wait::{self, Budget, Poll};
use crate::aws::{acmpca, ec2, eks, iam, AwsClients, AwsError, AwsResult};
use crate::cluster::cidr;
use crate::cluster::spec::{parse_provider, CredentialsProvider, Gateway};

pub struct Preflight {
    pub diagnostics: Diagnostics,
    /// The pre-existing VPC's CIDR blocks, for plan's default service CIDR.
    pub vpc_cidrs: Option<Vec<Ipv4Net>>,
}

pub async fn check_existing_vpc(aws: &AwsClients, config: &ClusterConfig) -> Preflight {
    let mut d = Diagnostics::default();
    let vpc = config.vpc.known().and_then(One::get);
    let Some((vpc, vpc_id)) = vpc.and_then(|v| Some((v, v.id.value()?.as_str()))) else {
        return Preflight {
            diagnostics: d,
            vpc_cidrs: None,
        };
    };
    let path = AttrPath::root(ClusterConfig::vpc).index(0);
    let cidrs = match once_visible(|| ec2::vpc_cidrs(&aws.ec2, vpc_id), Option::is_some).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            d.error_at(
                path.attr(Vpc::id),
                "VPC not found",
                format!("VPC {vpc_id} does not exist in this account and region."),
            );
            return Preflight {
                diagnostics: d,
                vpc_cidrs: None,
            };
        }
        Err(e) => {
            d.error_at(path.attr(Vpc::id), "Cannot read the VPC", e.to_string());
            return Preflight {
                diagnostics: d,
                vpc_cidrs: None,
            };
        }
    };
    let cidrs: Vec<Ipv4Net> = cidrs.iter().filter_map(|c| c.parse().ok()).collect();
    check_subnets(aws, vpc_id, &vpc.subnet_ids, &path, &mut d).await;
    // Unset, EKS's choice is not documented: validate warns about either default.
    let service: Option<Ipv4Net> = config
        .service_ipv4_cidr
        .value()
        .and_then(|s| s.parse().ok());
    for (net, at) in remote_networks(config) {
        if let Some(vpc_cidr) = cidrs.iter().find(|v| cidr::overlaps(&net, v)) {
            d.error_at(
                at.clone(),
                "Remote network overlaps the VPC",
                format!("CIDR {net} overlaps with CIDR {vpc_cidr} of VPC {vpc_id}"),
            );
        }
        if let Some(svc) = service.filter(|s: &Ipv4Net| cidr::overlaps(&net, s)) {
            d.error_at(
                at,
                "Remote network overlaps the service CIDR",
                format!("CIDR {net} overlaps the Kubernetes service CIDR {svc}."),
            );
        }
    }
    Preflight {
        diagnostics: d,
        vpc_cidrs: Some(cidrs),
    }
}

/// For a create or a replacement, what the configuration names that apply would otherwise
/// find wrong only after minutes: the gateway, the roles the user brings, the Kubernetes
/// version. Reads only, all at once.
pub async fn check_references(
    aws: &AwsClients,
    config: &ClusterConfig,
    held_vpc: Option<&str>,
) -> Diagnostics {
    let rnc = config.remote_network_config.known().and_then(One::get);
    let iam = rnc.and_then(|r| r.iam.known()).and_then(One::get);
    let (gateway, cluster_role, nodes_role, private_ca, version) = tokio::join!(
        check_gateway(aws, rnc, config.name.known().map(String::as_str), held_vpc),
        check_cluster_role(aws, config),
        check_nodes_role(aws, iam),
        check_private_ca(aws, iam),
        check_version(aws, config),
    );
    let mut d = gateway;
    d.extend(cluster_role);
    d.extend(nodes_role);
    d.extend(private_ca);
    d.extend(version);
    d
}

fn rnc_path() -> AttrPath {
    AttrPath::root(ClusterConfig::remote_network_config).index(0)
}

fn aws_error_at(d: &mut Diagnostics, path: AttrPath, e: &AwsError) {
    d.error_at(path, format!("AWS error while {}", e.step()), e.detail());
}

/// The gateway exists and is available (EC2 API reference, `TransitGateway.State`,
/// `VpnGateway.State`); a virtual private gateway attached to a VPC cannot attach to ours (one
/// VPC at a time: AttachVpnGateway); a transit gateway of another account that does not
/// accept attachments automatically leaves ours `pendingAcceptance` until its owner does
/// (Transit Gateway guide, "Transit gateway attachments to a VPC").
/// `held_vpc`: the VPC of the object a replacement destroys first (with its attachment).
async fn check_gateway(
    aws: &AwsClients,
    rnc: Option<&RemoteNetworkConfig>,
    cluster: Option<&str>,
    held_vpc: Option<&str>,
) -> Diagnostics {
    let mut d = Diagnostics::default();
    let Some(id) = rnc.and_then(|r| r.vpc_gateway_id.value()) else {
        return d;
    };
    let path = rnc_path().attr(RemoteNetworkConfig::vpc_gateway_id);
    // A transit gateway's owner is compared with the caller's account, read at the same time.
    let (found, kind, me) = match Gateway::parse(id) {
        Some(Gateway::Transit(_)) => {
            let (found, me) = tokio::join!(
                ec2::transit_gateway(&aws.ec2, id),
                crate::aws::sts::caller(aws)
            );
            (found, "Transit gateway", Some(me))
        }
        Some(Gateway::Vpn(_)) => (
            ec2::vpn_gateway(&aws.ec2, id).await,
            "Virtual private gateway",
            None,
        ),
        None => return d,
    };
    let info = match found {
        Ok(Some(info)) => info,
        Ok(None) => {
            d.error_at(
                path,
                format!("{kind} not found"),
                format!("{kind} {id} does not exist in this account and region, and none of that ID is shared with it."),
            );
            return d;
        }
        Err(e) => {
            aws_error_at(&mut d, path, &e);
            return d;
        }
    };
    if info.state != "available" {
        d.error_at(
            path.clone(),
            format!("{kind} not available"),
            format!(
                "{kind} {id} is {}; an attachment needs it available.",
                info.state
            ),
        );
    }
    if let Some((vpc, state)) = info
        .attached_vpcs
        .iter()
        .find(|(vpc, s)| (s == "attached" || s == "attaching") && Some(vpc.as_str()) != held_vpc)
    {
        let one_vpc = format!("{id} is {state} to {vpc}, and a virtual private gateway attaches to one VPC at a time (EC2 API reference, AttachVpnGateway).");
        // A VPC this provider made for this cluster name may be this resource's own tainted
        // object, whose destroy (first, in a replacement) detaches the gateway.
        let ours = match (cluster, ec2::vpc_tags(&aws.ec2, vpc).await) {
            (Some(name), Ok(Some(tags))) => {
                tags.get(crate::cluster::names::OWNERSHIP_TAG)
                    .map(String::as_str)
                    == Some(name)
            }
            _ => false,
        };
        if ours {
            d.warning_at(
                path.clone(),
                "Virtual private gateway attached to a VPC of this provider",
                format!("{one_vpc} That VPC was made by this provider for a cluster of this name: if it is this resource's tainted object, Terraform destroys it (detaching the gateway) before creating the replacement; otherwise apply fails at the attachment."),
            );
        } else {
            d.error_at(
                path.clone(),
                "Virtual private gateway already attached",
                format!("{one_vpc} Detach it there, or use another gateway."),
            );
        }
    }
    if let (Some(owner), Some(me)) = (&info.owner, me) {
        match me {
            Ok(me) if &me.account != owner && !info.auto_accepts => d.warning_at(
                path,
                "Attachment needs the owner's acceptance",
                format!("Transit gateway {id} belongs to account {owner}, which does not accept attachments automatically: the VPC attachment waits in pendingAcceptance, and the routes with it, until that account accepts it. The cluster is created meanwhile; an apply after the acceptance completes the routes."),
            ),
            Ok(_) => {}
            Err(e) => aws_error_at(&mut d, path, &e),
        }
    }
    d
}

/// Whether a trust policy lets `service` assume the role: an Allow statement whose
/// Principal.Service names it.
fn trusts(trust: &str, service: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(trust) else {
        return false;
    };
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(s) => s.clone(),
        one => vec![one.clone()],
    };
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && match &s["Principal"]["Service"] {
                serde_json::Value::String(p) => p == service,
                serde_json::Value::Array(ps) => ps.iter().any(|p| p == service),
                _ => false,
            }
    })
}

/// A role the user brings exists, and trusts the service that assumes it. `refused` says
/// whether AWS refuses the create over it (then it is an error) or only the nodes would fail.
async fn check_role(
    aws: &AwsClients,
    arn: &str,
    service: &str,
    refused_by: Option<&str>,
    path: AttrPath,
) -> Diagnostics {
    let mut d = Diagnostics::default();
    match iam::role_details(&aws.iam, iam::role_name_of(arn)).await {
        Ok(None) => d.error_at(
            path,
            "IAM role not found",
            format!("IAM role {arn} does not exist in this account."),
        ),
        Ok(Some(role)) if !trusts(&role.trust, service) => match refused_by {
            Some(refusal) => d.error_at(
                path,
                "IAM role does not trust the service",
                format!("IAM role {arn} does not let {service} assume it, and {refusal}."),
            ),
            None => d.warning_at(
                path,
                "IAM role does not trust the service",
                format!("IAM role {arn} does not let {service} assume it, so the hybrid nodes cannot get credentials through it."),
            ),
        },
        Ok(Some(_)) => {}
        Err(e) => aws_error_at(&mut d, path, &e),
    }
    d
}

async fn check_cluster_role(aws: &AwsClients, config: &ClusterConfig) -> Diagnostics {
    match config.cluster_role_arn.value() {
        Some(arn) => {
            check_role(
                aws,
                arn,
                "eks.amazonaws.com",
                Some("EKS refuses to create a cluster with it (\"Role could not be assumed because the trusted entity is not correct\")"),
                AttrPath::root(ClusterConfig::cluster_role_arn),
            )
            .await
        }
        None => Diagnostics::default(),
    }
}

async fn check_nodes_role(aws: &AwsClients, iam: Option<&Iam>) -> Diagnostics {
    let Some((iam, arn)) = iam.and_then(|i| Some((i, i.role_arn.value()?))) else {
        return Diagnostics::default();
    };
    let provider = match &iam.provider {
        Unknown::Known(None) => Some(CredentialsProvider::Ssm),
        v => v.value().and_then(|p| parse_provider(p)),
    };
    let service = match provider {
        Some(CredentialsProvider::Ssm) => "ssm.amazonaws.com",
        Some(CredentialsProvider::Ira) => "rolesanywhere.amazonaws.com",
        None => return Diagnostics::default(),
    };
    let path = rnc_path()
        .attr(RemoteNetworkConfig::iam)
        .index(0)
        .attr(Iam::role_arn);
    check_role(aws, arn, service, None, path).await
}

/// The Private CA a trust anchor will take exists and is `ACTIVE`: Roles Anywhere anchors on
/// the CA's own certificate, which a CA has only once it is installed (ACM PCA API reference,
/// `DescribeCertificateAuthority`: `PENDING_CERTIFICATE` until then; the Terraform AWS
/// provider's trust anchor test waits for the CA certificate). A disabled, expired, failed or
/// deleted CA issues nothing the nodes could authenticate with.
async fn check_private_ca(aws: &AwsClients, iam: Option<&Iam>) -> Diagnostics {
    let mut d = Diagnostics::default();
    if let Some((path, summary, detail)) = private_ca_problem(aws, iam).await {
        d.error_at(path, summary, detail);
    }
    d
}

/// For a cluster whose anchor trusts a Private CA: the CA is not the provider's to repair,
/// and a CA disabled, expired or deleted since stops the nodes getting credentials, so every
/// plan says so, as a warning (an error would also stop `terraform destroy`, which plans the
/// configuration first).
pub async fn warn_private_ca_in_use(aws: &AwsClients, config: &ClusterConfig) -> Diagnostics {
    let rnc = config.remote_network_config.known().and_then(One::get);
    let iam = rnc.and_then(|r| r.iam.known()).and_then(One::get);
    let mut d = Diagnostics::default();
    if let Some((path, summary, detail)) = private_ca_problem(aws, iam).await {
        d.warning_at(
            path,
            summary,
            format!("{detail} Until it is, hybrid nodes cannot get credentials through this cluster's trust anchor."),
        );
    }
    d
}

/// What is wrong with the Private CA the configuration names, if anything: (where, summary,
/// detail).
async fn private_ca_problem(
    aws: &AwsClients,
    iam: Option<&Iam>,
) -> Option<(AttrPath, &'static str, String)> {
    let arn = iam
        .filter(|i| i.role_arn.is_null())
        .and_then(|i| i.acm_pca_arn.value())?;
    let path = rnc_path()
        .attr(RemoteNetworkConfig::iam)
        .index(0)
        .attr(Iam::acm_pca_arn);
    match acmpca::certificate_authority_status(&aws.acmpca, arn).await {
        Ok(Some(status)) if status == "ACTIVE" => None,
        Ok(Some(status)) => Some((
            path,
            "Private CA not active",
            format!("AWS Private CA {arn} is {status}. IAM Roles Anywhere trusts a CA once its certificate is installed and it is ACTIVE{}.", advice_for_ca_status(&status)),
        )),
        Ok(None) => Some((
            path,
            "Private CA not found",
            format!("AWS Private CA {arn} does not exist, or this account cannot see it (a CA of another account must be shared with it)."),
        )),
        Err(e) => Some((
            path,
            "AWS error while reading the AWS Private CA",
            e.detail(),
        )),
    }
}

fn advice_for_ca_status(status: &str) -> &'static str {
    match status {
        "PENDING_CERTIFICATE" => ": install its CA certificate first (ImportCertificateAuthorityCertificate, or aws_acmpca_certificate_authority_certificate)",
        "DISABLED" => ": enable it (UpdateCertificateAuthority --status ACTIVE)",
        "DELETED" => ": restore it (RestoreCertificateAuthority) while its restoration period lasts",
        _ => "",
    }
}

/// The version is one EKS creates clusters of in this region (`DescribeClusterVersions`).
async fn check_version(aws: &AwsClients, config: &ClusterConfig) -> Diagnostics {
    let mut d = Diagnostics::default();
    let Some(version) = config.kubernetes_version.value() else {
        return d;
    };
    let path = AttrPath::root(ClusterConfig::kubernetes_version);
    match eks::offered_versions(&aws.eks).await {
        Ok(offered) if !offered.contains(version) => {
            let mut offered = offered;
            offered.sort_by_key(|v| {
                v.split('.')
                    .map(|p| p.parse::<u32>().unwrap_or(0))
                    .collect::<Vec<_>>()
            });
            d.error_at(
                path,
                "Kubernetes version not offered",
                format!("EKS does not create clusters of Kubernetes {version} in {} (DescribeClusterVersions); it offers {}.", aws.region, offered.join(", ")),
            );
        }
        Ok(_) => {}
        Err(e) => aws_error_at(&mut d, path, &e),
    }
    d
}

/// The subnets exist and are in the VPC (a mistyped ID fails here, not minutes into apply).
async fn check_subnets(
    aws: &AwsClients,
    vpc_id: &str,
    subnets: &Unknown<Option<Strings>>,
    path: &AttrPath,
    d: &mut Diagnostics,
) {
    let Some(ids) = subnets.value().and_then(|ids| {
        ids.iter()
            .map(|s| s.known().cloned())
            .collect::<Option<Vec<_>>>()
    }) else {
        return;
    };
    match once_visible(|| ec2::subnet_vpcs(&aws.ec2, &ids), Result::is_ok).await {
        Ok(Ok(found)) => {
            for (i, id) in ids.iter().enumerate() {
                match found.iter().find(|(s, _)| s == id) {
                    Some((_, vpc)) if vpc == vpc_id => {}
                    Some((_, vpc)) => d.error_at(
                        path.attr(Vpc::subnet_ids).index(i),
                        "Subnet in another VPC",
                        format!("Subnet {id} is in {vpc}, not in {vpc_id}."),
                    ),
                    None => d.error_at(
                        path.attr(Vpc::subnet_ids).index(i),
                        "Subnet not found",
                        format!("Subnet {id} does not exist in this account and region."),
                    ),
                }
            }
        }
        Ok(Err(message)) => d.error_at(path.attr(Vpc::subnet_ids), "Subnet not found", message),
        Err(e) => d.error_at(
            path.attr(Vpc::subnet_ids),
            "Cannot read the subnets",
            e.to_string(),
        ),
    }
}

/// How long plan waits for a VPC or subnet EC2 does not show: one made earlier in the same
/// apply (by an `aws_subnet`, say) may not be visible to every EC2 endpoint yet ("Eventual
/// consistency in the Amazon EC2 API"), though the AWS provider has waited to see it itself.
/// A mistyped ID costs this much at plan.
fn plan_visibility_window() -> Duration {
    wait::propagation_window().min(Duration::from_secs(20))
}

/// `look`'s answer once `visible` accepts it, or its last answer after the window.
async fn once_visible<T, F, Fut>(look: F, visible: impl Fn(&T) -> bool) -> AwsResult<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = AwsResult<T>>,
{
    let budget = Budget::new(plan_visibility_window(), CancellationToken::new());
    let seen = wait::until("waiting for EC2 to show it", &budget, || async {
        let answer = look().await?;
        Ok(if visible(&answer) {
            Poll::Ready(answer)
        } else {
            Poll::Pending("not visible".into())
        })
    })
    .await;
    match seen {
        Err(AwsError::Timeout { .. }) => look().await,
        other => other,
    }
}

/// Every known remote node and pod CIDR, with its attribute path.
fn remote_networks(config: &ClusterConfig) -> Vec<(Ipv4Net, AttrPath)> {
    let Some(rnc) = config.remote_network_config.known().and_then(One::get) else {
        return Vec::new();
    };
    let lists = [
        (
            &rnc.remote_node_networks,
            RemoteNetworkConfig::remote_node_networks,
        ),
        (
            &rnc.remote_pod_networks,
            RemoteNetworkConfig::remote_pod_networks,
        ),
    ];
    let mut out = Vec::new();
    for (networks, name) in lists {
        for (bi, network) in networks.known().into_iter().flatten().enumerate() {
            for (ci, c) in network.cidrs.known().into_iter().flatten().enumerate() {
                if let Some(net) = c.known().and_then(|s| cidr::parse_network(s).ok()) {
                    let at = AttrPath::root(ClusterConfig::remote_network_config)
                        .index(0)
                        .attr(name)
                        .index(bi)
                        .attr(Networks::cidrs)
                        .index(ci);
                    out.push((net, at));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_come_from_the_last_part_of_the_path() {
        assert_eq!(
            iam::role_name_of("arn:aws:iam::1:role/service-role/nodes"),
            "nodes"
        );
        assert_eq!(iam::role_name_of("arn:aws-cn:iam::1:role/nodes"), "nodes");
    }

    #[test]
    fn a_trust_policy_trusts_the_services_its_allow_statements_name() {
        let one = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;
        let many = r#"{"Statement":[{"Effect":"Deny","Principal":{"Service":"ssm.amazonaws.com"}},{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","rolesanywhere.amazonaws.com"]}}]}"#;
        assert!(trusts(one, "eks.amazonaws.com"));
        assert!(!trusts(one, "ssm.amazonaws.com"));
        assert!(trusts(many, "rolesanywhere.amazonaws.com"));
        assert!(!trusts(many, "ssm.amazonaws.com"), "a Deny does not trust");
        assert!(!trusts("not json", "eks.amazonaws.com"));
    }
}
