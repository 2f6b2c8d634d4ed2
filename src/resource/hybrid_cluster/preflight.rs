//! Plan-time checks that need a look at AWS, made only when the configuration has no errors
//! of its own: a pre-existing VPC exists, the subnets given are in it, and no remote network
//! overlaps its CIDR blocks or the service CIDR EKS will choose for it (172.20.0.0/16 in a
//! 10.0.0.0/8 VPC, else 10.100.0.0/16). Two calls: DescribeVpcs and DescribeSubnets.

use std::future::Future;
use std::time::Duration;

use ipnet::Ipv4Net;
use tokio_util::sync::CancellationToken;

use tfplugin6::{AttrPath, Diagnostics, One, Unknown};

use super::cidr;
use super::model::{ClusterConfig, Networks, RemoteNetworkConfig, Strings, Vpc};
use crate::aws::wait::{self, Budget, Poll};
use crate::aws::{ec2, AwsClients, AwsError, AwsResult};

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
    let service = match &config.service_ipv4_cidr {
        Unknown::Known(None) => cidr::default_service_cidr(cidrs.iter()).parse().ok(),
        v => v.value().and_then(|s| s.parse().ok()),
    };
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
                format!("CIDR {net} overlaps the Kubernetes service CIDR {svc}, which EKS chooses for VPC {vpc_id}; set service_ipv4_cidr to a block that does not."),
            );
        }
    }
    Preflight {
        diagnostics: d,
        vpc_cidrs: Some(cidrs),
    }
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
