//! EKS: the cluster with its remote network config, updates, and the HYBRID_LINUX access entry.

use std::collections::HashMap;

use aws_sdk_eks::error::SdkError;
use aws_sdk_eks::operation::create_cluster::CreateClusterError;
use aws_sdk_eks::types::{
    AuthenticationMode, Cluster, ClusterStatus, CreateAccessConfigRequest,
    KubernetesNetworkConfigRequest, RemoteNetworkConfigRequest, RemoteNodeNetwork,
    RemotePodNetwork, UpdateStatus, VpcConfigRequest,
};
use aws_sdk_eks::Client;

use super::wait::{self, Budget, Poll};
use super::{error, ignore_not_found, AwsError, AwsResult, ErrorKind};

pub struct ClusterRequest<'a> {
    pub name: &'a str,
    pub version: Option<&'a str>,
    pub role_arn: &'a str,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub endpoint_public_access: bool,
    pub endpoint_private_access: bool,
    pub authentication_mode: &'a str,
    pub service_ipv4_cidr: Option<&'a str>,
    pub node_cidrs: Vec<String>,
    pub pod_cidrs: Vec<String>,
    pub tags: HashMap<String, String>,
}

/// What EKS CreateCluster answers while a new role, its policies or the subnets and security
/// groups it names are not visible to it yet: the Terraform AWS provider's list
/// (`internal/service/eks/cluster.go`, resourceClusterCreate). "does not exist" also covers
/// EC2's "The subnet ID '…' does not exist", relayed by EKS.
const CLUSTER_PROPAGATION_MESSAGES: [&str; 5] = [
    "does not exist",
    "Error in role params",
    "Role could not be assumed because the trusted entity is not correct",
    "The provided role doesn't have the Amazon EKS Managed Policies associated with it",
    "IAM role's policy must include",
];

pub fn cluster_inputs_propagating(e: &AwsError) -> bool {
    e.kind() == ErrorKind::InvalidParameter
        && CLUSTER_PROPAGATION_MESSAGES
            .iter()
            .any(|m| e.message().contains(m))
}

/// What CreateAccessEntry answers while the principal's role is not visible to EKS yet
/// (`internal/service/eks/access_entry.go`).
pub fn principal_propagating(e: &AwsError) -> bool {
    e.kind() == ErrorKind::InvalidParameter
        && e.message()
            .contains("The specified principalArn is invalid: invalid principal")
}

/// `UnsupportedAvailabilityZoneException`, with the zones EKS accepts, as the user must act
/// on it: choose other zones.
fn unsupported_zone(step: &str, e: &SdkError<CreateClusterError>) -> Option<AwsError> {
    let CreateClusterError::UnsupportedAvailabilityZoneException(u) = e.as_service_error()? else {
        return None;
    };
    Some(AwsError::refused(
        step,
        "UnsupportedAvailabilityZoneException",
        format!(
            "{} EKS accepts these zones: {}. Set vpc.availability_zones to two or three of them.",
            u.message()
                .unwrap_or("EKS does not support a zone of the cluster's subnets."),
            u.valid_zones().join(", ")
        ),
    ))
}

pub async fn create_cluster(
    eks: &Client,
    r: &ClusterRequest<'_>,
    budget: &Budget,
) -> AwsResult<Option<String>> {
    let step = format!("creating EKS cluster {}", r.name);
    let mut remote = RemoteNetworkConfigRequest::builder().remote_node_networks(
        RemoteNodeNetwork::builder()
            .set_cidrs(Some(r.node_cidrs.clone()))
            .build(),
    );
    if !r.pod_cidrs.is_empty() {
        remote = remote.remote_pod_networks(
            RemotePodNetwork::builder()
                .set_cidrs(Some(r.pod_cidrs.clone()))
                .build(),
        );
    }
    let vpc = VpcConfigRequest::builder()
        .set_subnet_ids(Some(r.subnet_ids.clone()))
        .set_security_group_ids(Some(r.security_group_ids.clone()))
        .endpoint_public_access(r.endpoint_public_access)
        .endpoint_private_access(r.endpoint_private_access)
        .build();
    let access = CreateAccessConfigRequest::builder()
        .authentication_mode(AuthenticationMode::from(r.authentication_mode))
        .build();
    let network = KubernetesNetworkConfigRequest::builder()
        .set_service_ipv4_cidr(r.service_ipv4_cidr.map(str::to_string))
        .build();
    wait::while_propagating(&step, budget, cluster_inputs_propagating, || async {
        eks.create_cluster()
            .name(r.name)
            .set_version(r.version.map(str::to_string))
            .role_arn(r.role_arn)
            .resources_vpc_config(vpc.clone())
            .access_config(access.clone())
            .kubernetes_network_config(network.clone())
            .remote_network_config(remote.clone().build())
            .set_tags(Some(r.tags.clone()))
            .send()
            .await
            .map(|out| out.cluster().and_then(created_at))
            .map_err(|e| unsupported_zone(&step, &e).unwrap_or_else(|| error::eks(&step)(e)))
    })
    .await
}

/// The Kubernetes versions EKS creates clusters of in this region (standard and extended
/// support: `DescribeClusterVersions` without `includeAll`), over all pages.
pub async fn offered_versions(eks: &Client) -> AwsResult<Vec<String>> {
    let versions: Vec<_> = eks
        .describe_cluster_versions()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(error::eks("listing the Kubernetes versions EKS offers"))?;
    Ok(versions
        .iter()
        .filter_map(|v| v.cluster_version().map(str::to_string))
        .collect())
}

/// The names of every EKS cluster in the region, over all pages.
pub async fn cluster_names(eks: &Client) -> AwsResult<Vec<String>> {
    eks.list_clusters()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(error::eks("listing EKS clusters"))
}

/// When EKS created the cluster, in RFC 3339 to the second (as the Terraform AWS provider's
/// `aws_eks_cluster.created_at`).
pub fn created_at(cluster: &Cluster) -> Option<String> {
    let secs = cluster.created_at()?.secs();
    aws_smithy_types::DateTime::from_secs(secs)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .ok()
}

pub async fn describe_cluster(eks: &Client, name: &str) -> AwsResult<Option<Cluster>> {
    match eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .map_err(error::eks(&format!("reading EKS cluster {name}")))
    {
        Ok(out) => Ok(out.cluster().cloned()),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn wait_cluster_active(eks: &Client, name: &str, budget: &Budget) -> AwsResult<Cluster> {
    let step = format!("waiting for EKS cluster {name} to be ACTIVE");
    wait::until(&step, budget, || async {
        match describe_cluster(eks, name).await? {
            Some(c) if c.status() == Some(&ClusterStatus::Active) => Ok(Poll::Ready(c)),
            Some(c) if c.status() == Some(&ClusterStatus::Failed) => Err(AwsError::refused(
                &step,
                "ClusterFailed",
                "EKS reports the cluster FAILED",
            )),
            Some(c) => Ok(Poll::Pending(
                c.status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            )),
            None => Err(AwsError::refused(
                &step,
                "ResourceNotFoundException",
                "the cluster disappeared while being created",
            )),
        }
    })
    .await
}

/// EKS refuses to delete a cluster while it is creating or updating ("… currently has an
/// update in progress"); only that is retried (`resourceClusterDelete` in the Terraform AWS
/// provider). Anything else in use, such as node groups still attached, fails at once.
fn busy_in_progress(e: &AwsError) -> bool {
    e.kind() == ErrorKind::InUse && e.message().contains("in progress")
}

pub async fn delete_cluster(eks: &Client, name: &str, budget: &Budget) -> AwsResult<()> {
    let step = format!("deleting EKS cluster {name}");
    let r = wait::retry_while(&step, budget, busy_in_progress, || async {
        eks.delete_cluster()
            .name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(error::eks(&step))
    })
    .await;
    match r {
        Err(e) if e.is_not_found() => return Ok(()),
        other => other?,
    }
    wait_cluster_deleted(eks, name, budget).await
}

/// Waits until a cluster EKS is deleting is gone.
pub async fn wait_cluster_deleted(eks: &Client, name: &str, budget: &Budget) -> AwsResult<()> {
    // Gone only after GONE_CONFIRMATIONS not-founds in a row, as the Terraform AWS provider
    // waits (`waitClusterDeleted`, ContinuousTargetOccurence): one not-found from a lagging
    // endpoint, then a re-create, answers "Cluster already exists with name".
    let not_found_in_a_row = std::sync::atomic::AtomicU32::new(0);
    wait::until(
        &format!("waiting for EKS cluster {name} to be deleted"),
        budget,
        || async {
            use std::sync::atomic::Ordering::SeqCst;
            Ok(match describe_cluster(eks, name).await? {
                None if not_found_in_a_row.fetch_add(1, SeqCst) + 1 >= GONE_CONFIRMATIONS => {
                    Poll::Ready(())
                }
                None => Poll::Pending("not found, confirming".into()),
                Some(c) => {
                    not_found_in_a_row.store(0, SeqCst);
                    Poll::Pending(
                        c.status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                    )
                }
            })
        },
    )
    .await
}

/// The Terraform AWS provider's `ContinuousTargetOccurence` for a deleted cluster.
const GONE_CONFIRMATIONS: u32 = 3;

async fn wait_update(eks: &Client, name: &str, update_id: &str, budget: &Budget) -> AwsResult<()> {
    let step = format!("waiting for update {update_id} of cluster {name}");
    wait::until(&step, budget, || async {
        let out = eks
            .describe_update()
            .name(name)
            .update_id(update_id)
            .send()
            .await
            .map_err(error::eks(&step))?;
        let update = out.update();
        match update.and_then(|u| u.status()) {
            Some(UpdateStatus::Successful) => Ok(Poll::Ready(())),
            Some(s @ (UpdateStatus::Failed | UpdateStatus::Cancelled)) => {
                let why = update
                    .map(|u| {
                        u.errors()
                            .iter()
                            .filter_map(|e| e.error_message())
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                    .unwrap_or_default();
                Err(AwsError::refused(
                    &step,
                    "UpdateFailed",
                    format!("update {}: {why}", s.as_str()),
                ))
            }
            other => Ok(Poll::Pending(
                other.map(|s| s.as_str().to_string()).unwrap_or_default(),
            )),
        }
    })
    .await
}

fn update_id(update: Option<&aws_sdk_eks::types::Update>) -> &str {
    update.and_then(|u| u.id()).unwrap_or_default()
}

/// One update at a time: EKS refuses another while one runs.
fn busy(e: &AwsError) -> bool {
    e.kind() == ErrorKind::InUse
}

/// `force` overrides EKS's upgrade readiness checks (UpdateClusterVersion `force`, as the
/// Terraform AWS provider's `force_update_version`). Without it, EKS's refusal says which
/// option overrides it.
pub async fn update_version(
    eks: &Client,
    name: &str,
    version: &str,
    force: bool,
    budget: &Budget,
) -> AwsResult<()> {
    let step = format!("upgrading cluster {name} to Kubernetes {version}");
    let out = wait::retry_while(&step, budget, busy, || async {
        eks.update_cluster_version()
            .name(name)
            .version(version)
            .set_force(force.then_some(true))
            .send()
            .await
            .map_err(error::eks(&step))
    })
    .await
    .map_err(|e| readiness_refusal(e, name))?;
    wait_update(eks, name, update_id(out.update()), budget).await
}

/// EKS's `InvalidStateException` on a version update: its upgrade insights found blocking
/// issues (EKS API reference, UpdateClusterVersion; hashicorp/terraform-provider-aws#42031).
fn readiness_refusal(e: AwsError, name: &str) -> AwsError {
    if e.code() != "InvalidStateException" {
        return e;
    }
    let AwsError::Api { step, message, .. } = &e else {
        return e;
    };
    AwsError::refused(
        step.clone(),
        "InvalidStateException",
        format!(
            "{message} See them with `aws eks list-insights --cluster-name {name}` and fix them, \
             or set force_update_version = true to upgrade anyway."
        ),
    )
}

pub async fn update_endpoint_access(
    eks: &Client,
    name: &str,
    public: bool,
    private: bool,
    budget: &Budget,
) -> AwsResult<()> {
    let step = format!("updating endpoint access of cluster {name}");
    let vpc = VpcConfigRequest::builder()
        .endpoint_public_access(public)
        .endpoint_private_access(private)
        .build();
    let out = wait::retry_while(&step, budget, busy, || async {
        eks.update_cluster_config()
            .name(name)
            .resources_vpc_config(vpc.clone())
            .send()
            .await
            .map_err(error::eks(&step))
    })
    .await?;
    wait_update(eks, name, update_id(out.update()), budget).await
}

pub async fn set_tags(
    eks: &Client,
    arn: &str,
    old: &HashMap<String, String>,
    new: &HashMap<String, String>,
) -> AwsResult<()> {
    let removed: Vec<String> = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    if !removed.is_empty() {
        eks.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(error::eks("removing cluster tags"))?;
    }
    let changed: HashMap<String, String> = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !changed.is_empty() {
        eks.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(changed))
            .send()
            .await
            .map_err(error::eks("tagging cluster"))?;
    }
    Ok(())
}

pub async fn create_access_entry(
    eks: &Client,
    cluster: &str,
    principal: &str,
    tags: HashMap<String, String>,
    budget: &Budget,
) -> AwsResult<String> {
    let step = format!("creating HYBRID_LINUX access entry for {principal}");
    let out = wait::while_propagating(&step, budget, principal_propagating, || async {
        eks.create_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal)
            .r#type("HYBRID_LINUX")
            .set_tags(Some(tags.clone()))
            .send()
            .await
            .map_err(error::eks(&step))
    })
    .await?;
    Ok(out
        .access_entry()
        .and_then(|a| a.access_entry_arn())
        .unwrap_or_default()
        .to_string())
}

/// (arn, type) of the access entry, or None when gone.
/// An access entry as the provider reads it.
pub struct AccessEntry {
    pub arn: String,
    pub kind: String,
    /// Seconds since the epoch.
    pub created_at: Option<i64>,
}

pub async fn access_entry(
    eks: &Client,
    cluster: &str,
    principal: &str,
) -> AwsResult<Option<AccessEntry>> {
    match eks
        .describe_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .send()
        .await
        .map_err(error::eks("reading access entry"))
    {
        Ok(out) => Ok(out.access_entry().map(|a| AccessEntry {
            arn: a.access_entry_arn().unwrap_or_default().to_string(),
            kind: a.r#type().unwrap_or_default().to_string(),
            created_at: a.created_at().map(|t| t.secs()),
        })),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn delete_access_entry(eks: &Client, cluster: &str, principal: &str) -> AwsResult<()> {
    let r = eks
        .delete_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .send()
        .await
        .map(|_| ())
        .map_err(error::eks("deleting access entry"));
    match r {
        Err(e) if e.is_not_found() => Ok(()),
        other => ignore_not_found(other),
    }
}

/// Principals of the cluster's HYBRID_LINUX access entries.
pub async fn hybrid_principals(eks: &Client, cluster: &str) -> AwsResult<Vec<String>> {
    let all: Vec<String> = eks
        .list_access_entries()
        .cluster_name(cluster)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(error::eks("listing access entries"))?;
    let mut principals = Vec::new();
    for p in all {
        if let Some(entry) = access_entry(eks, cluster, &p).await? {
            if entry.kind == "HYBRID_LINUX" {
                principals.push(p);
            }
        }
    }
    Ok(principals)
}

/// The version of an EKS add-on, or None when the cluster does not run it as an add-on.
pub async fn addon_version(eks: &Client, cluster: &str, addon: &str) -> AwsResult<Option<String>> {
    match eks
        .describe_addon()
        .cluster_name(cluster)
        .addon_name(addon)
        .send()
        .await
        .map_err(error::eks(&format!("reading the {addon} add-on")))
    {
        Ok(out) => Ok(out
            .addon()
            .and_then(|a| a.addon_version())
            .map(str::to_string)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_eks::types::error::{
        ClientException, InvalidParameterException, ResourceInUseException,
        ResourceNotFoundException,
    };
    use aws_sdk_eks::Error as E;
    use aws_smithy_types::error::ErrorMetadata;

    /// EKS's answer with this code and message, as the SDK types it.
    fn answer(code: &str, m: &str) -> AwsError {
        let meta = ErrorMetadata::builder().code(code).message(m).build();
        let service = match code {
            "InvalidParameterException" => E::InvalidParameterException(
                InvalidParameterException::builder()
                    .message(m)
                    .meta(meta)
                    .build(),
            ),
            "ResourceInUseException" => E::ResourceInUseException(
                ResourceInUseException::builder()
                    .message(m)
                    .meta(meta)
                    .build(),
            ),
            "ResourceNotFoundException" => E::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message(m)
                    .meta(meta)
                    .build(),
            ),
            "ClientException" => {
                E::ClientException(ClientException::builder().message(m).meta(meta).build())
            }
            other => panic!("no typed EKS error for {other}"),
        };
        error::eks_service("s", service)
    }

    #[test]
    fn only_propagation_messages_are_retried() {
        for m in [
            "roleArn, arn:aws:iam::1:role/r, does not exist",
            "Error in role params",
            "Role could not be assumed because the trusted entity is not correct",
            "The provided role doesn't have the Amazon EKS Managed Policies associated with it. Please ensure the following policy is attached: arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            "IAM role's policy must include the `ec2:DescribeSubnets` action",
            "The subnet ID 'subnet-1' does not exist (Service: AmazonEC2; Status Code: 400; Error Code: InvalidSubnetID.NotFound)",
        ] {
            assert!(cluster_inputs_propagating(&answer("InvalidParameterException", m)), "{m}");
        }
        assert!(!cluster_inputs_propagating(&answer(
            "InvalidParameterException",
            "CIDR overlaps"
        )));
        assert!(!cluster_inputs_propagating(&answer(
            "ClientException",
            "not authorized: does not exist"
        )));
        assert!(principal_propagating(&answer(
            "InvalidParameterException",
            "The specified principalArn is invalid: invalid principal"
        )));
    }

    #[test]
    fn delete_retries_only_an_update_in_progress() {
        let e = |m: &str| answer("ResourceInUseException", m);
        assert!(busy_in_progress(&e(
            "Cannot delete because cluster c currently has an update in progress"
        )));
        assert!(!busy_in_progress(&e("Cluster has nodegroups attached")));
        assert!(!busy_in_progress(&answer(
            "ClientException",
            "update in progress"
        )));
    }

    #[test]
    fn both_not_founds_mean_gone() {
        // `error::eks` classifies both of EKS's "no such cluster" answers as not found.
        assert!(answer("ClientException", "No cluster found for name: c.").is_not_found());
        assert!(answer("ResourceNotFoundException", "x").is_not_found());
        assert!(!answer("ClientException", "other").is_not_found());
    }
}
