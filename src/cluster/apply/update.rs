//! Updates in place that the create graph does not make (it repairs what drifted and makes
//! what is missing): the cluster's version and endpoint access, a dropped permissions
//! boundary, and the tags of every object.

use std::collections::{BTreeMap, HashMap};

use crate::aws::wait::Budget;
use crate::aws::{ec2, eks, iam, ignore_not_found, rolesanywhere, AwsClients, AwsError};
use crate::cluster::inventory::Inventory;
use crate::cluster::spec::ClusterSpec;

/// What the prior state knew of objects whose identifiers change when they are made anew.
#[derive(Clone, Debug, Default)]
pub struct PriorArns {
    pub cluster: Option<String>,
    pub trust_anchor: Option<String>,
    pub profile: Option<String>,
}

/// The in-place changes the create graph does not make: the Kubernetes version and endpoint
/// access (against the cluster as EKS shows it now), a dropped permissions boundary, and
/// tags on every object.
pub async fn update_in_place(
    aws: &AwsClients,
    old: &ClusterSpec,
    spec: &ClusterSpec,
    prior: &PriorArns,
    budget: &Budget,
    inv: &Inventory,
) -> Result<(), AwsError> {
    drop_boundary_if_unset(aws, old, spec, budget, inv).await?;
    let version_changes = old.kubernetes_version != spec.kubernetes_version;
    let access_changes = (old.endpoint_public_access, old.endpoint_private_access)
        != (spec.endpoint_public_access, spec.endpoint_private_access);
    if !(version_changes || access_changes) {
        return retag_if_changed(aws, prior, inv, old, spec).await;
    }
    // Against the cluster as EKS shows it now, not the prior state: an update interrupted
    // after EKS took it, or a cluster this apply re-created, already has the new settings,
    // and EKS refuses an update that changes nothing ("No changes detected").
    let Some(cluster) = eks::describe_cluster(&aws.eks, &spec.name).await? else {
        return retag_if_changed(aws, prior, inv, old, spec).await;
    };
    if let Some(new_v) = &spec.kubernetes_version {
        if cluster.version() != Some(new_v.as_str()) {
            eks::update_version(
                &aws.eks,
                &spec.name,
                new_v,
                spec.force_update_version,
                budget,
            )
            .await?;
        }
    }
    let shown = cluster
        .resources_vpc_config()
        .map(|v| (v.endpoint_public_access(), v.endpoint_private_access()));
    if shown != Some((spec.endpoint_public_access, spec.endpoint_private_access)) {
        eks::update_endpoint_access(
            &aws.eks,
            &spec.name,
            spec.endpoint_public_access,
            spec.endpoint_private_access,
            budget,
        )
        .await?;
    }
    retag_if_changed(aws, prior, inv, old, spec).await
}

/// `role_permissions_boundary` removed from the configuration: the roles the provider made
/// lose theirs, as `aws_iam_role` removes a boundary it no longer names. (One set or changed
/// is put on by the create graph's repair, which compares each role with the configuration.)
async fn drop_boundary_if_unset(
    aws: &AwsClients,
    old: &ClusterSpec,
    spec: &ClusterSpec,
    budget: &Budget,
    inv: &Inventory,
) -> Result<(), AwsError> {
    if old.role_permissions_boundary.is_none() || spec.role_permissions_boundary.is_some() {
        return Ok(());
    }
    for role in inv.cluster_role_name.iter().chain(&inv.nodes_role_name) {
        let r = iam::set_permissions_boundary(&aws.iam, role, None, budget).await;
        ignore_not_found(r)?;
    }
    Ok(())
}

async fn retag_if_changed(
    aws: &AwsClients,
    prior: &PriorArns,
    inv: &Inventory,
    old: &ClusterSpec,
    spec: &ClusterSpec,
) -> Result<(), AwsError> {
    if old.tags == spec.tags {
        return Ok(());
    }
    retag_everything(
        aws,
        prior,
        inv,
        &old.tags_with_ownership(),
        &spec.tags_with_ownership(),
    )
    .await
}

/// Tags live on every object the resource created, not only on the cluster.
async fn retag_everything(
    aws: &AwsClients,
    prior: &PriorArns,
    inv: &Inventory,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let removed: Vec<String> = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    if let Some(arn) = &prior.cluster {
        let to_map = |t: &BTreeMap<String, String>| {
            t.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>()
        };
        eks::set_tags(&aws.eks, arn, &to_map(old), &to_map(new)).await?;
    }
    ec2::retag(&aws.ec2, &inv.tagged_ec2_ids(), new, &removed).await?;
    for role in inv.cluster_role_name.iter().chain(&inv.nodes_role_name) {
        iam::retag_role(&aws.iam, role, new, &removed).await?;
    }
    let ra_arns = [&prior.trust_anchor, &prior.profile];
    // A prior ARN whose object is gone: this apply's repair made it anew, with the new tags,
    // under another ARN; or it went after the plan read it, and the next read shows it missing.
    for arn in ra_arns.iter().filter_map(|v| v.as_ref()) {
        ignore_not_found(rolesanywhere::retag(&aws.rolesanywhere, arn, new, &removed).await)?;
    }
    Ok(())
}
