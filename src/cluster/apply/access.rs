//! The IAM, Roles Anywhere and EKS steps of create and repair: the cluster role, the hybrid
//! nodes identity, the cluster itself and its HYBRID_LINUX access entry.

use std::collections::{BTreeMap, HashMap};

use super::context::Ctx;
use crate::aws::{eks, iam, rolesanywhere, ssm, AwsError, AwsResult};
use crate::cluster::inventory::ActivationRecord;
use crate::cluster::names;
use crate::cluster::objects::{ObjectKey, ObjectStatus as Status};
use crate::cluster::ownership::foreign;
use crate::cluster::policies::{self, Scope};
use crate::cluster::spec::{CredentialsProvider, VpcSpec};

/// The settings that bring a role of one's own, as an error about a taken name names them.
const BRING_CLUSTER_ROLE: &str = "cluster_role_arn";
const BRING_NODES_ROLE: &str = "remote_network_config.iam.role_arn";

fn name_taken(name: &str, instead: &str) -> AwsError {
    foreign(
        &format!("creating IAM role {name}"),
        &format!(
            "an IAM role named {name} (bring it with `{instead}` if it is meant for this cluster)"
        ),
    )
}

/// The ARN of a role this resource recorded, if it still exists. A role not recorded is not
/// looked up: `ownership::refuse_foreign` found its name free before the first write.
async fn recorded_role(ctx: &Ctx<'_>, recorded: Option<&str>) -> AwsResult<Option<String>> {
    match recorded {
        Some(name) => iam::role_arn(&ctx.aws.iam, name).await,
        None => Ok(None),
    }
}

/// A role of our name made by someone else between the check and CreateRole.
fn taken_if_exists(e: AwsError, name: &str, instead: &str) -> AwsError {
    if e.is("EntityAlreadyExists") {
        name_taken(name, instead)
    } else {
        e
    }
}

/// Returns the ARN of the cluster role: given, or ours.
pub async fn ensure_cluster_role(ctx: &Ctx<'_>) -> AwsResult<String> {
    if let Some(arn) = &ctx.spec.cluster_role_arn {
        if ctx.inv().cluster_role_name.is_none() {
            return Ok(arn.clone());
        }
    }
    let recorded = ctx.inv().cluster_role_name;
    let name = recorded
        .clone()
        .unwrap_or_else(|| names::cluster_role(&ctx.spec.name));
    let policy = policies::managed_policy_arn(&ctx.id.partition, policies::CLUSTER_MANAGED_POLICY);
    let trust = policies::cluster_trust_policy();
    let arn = match recorded_role(ctx, recorded.as_deref()).await? {
        Some(arn) => arn,
        None => {
            let role = iam::NewRole {
                name: &name,
                description: "EKS control plane role (terraform-provider-eks)",
                trust: &trust,
                tags: &ctx.tags,
                boundary: ctx.spec.role_permissions_boundary.as_deref(),
            };
            let arn = iam::create_role(&ctx.aws.iam, &role)
                .await
                .map_err(|e| taken_if_exists(e, &name, BRING_CLUSTER_ROLE))?;
            ctx.record(|i| i.cluster_role_name = Some(name.clone()));
            iam::attach_policy(&ctx.aws.iam, &name, &policy, &ctx.budget).await?;
            return Ok(arn);
        }
    };
    // First: a role whose boundary is gone takes no other write under the published policy.
    repair_boundary(ctx, &name).await?;
    if ctx.observed.is_missing(&ObjectKey::policy_attachment(
        &name,
        policies::CLUSTER_MANAGED_POLICY,
    )) {
        iam::attach_policy(&ctx.aws.iam, &name, &policy, &ctx.budget).await?;
    }
    if ctx
        .observed
        .is_missing(&ObjectKey::IamRoleTrustPolicy(name.clone()))
    {
        iam::update_trust_policy(&ctx.aws.iam, &name, &trust).await?;
    }
    Ok(arn)
}

/// Puts the configured permissions boundary back on a role of ours that lost it, or has
/// another (or that the configuration now gives one).
async fn repair_boundary(ctx: &Ctx<'_>, role: &str) -> AwsResult<()> {
    let key = ObjectKey::IamRolePermissionsBoundary(role.to_string());
    match &ctx.spec.role_permissions_boundary {
        Some(b) if ctx.observed.is_missing(&key) => {
            iam::set_permissions_boundary(&ctx.aws.iam, role, Some(b), &ctx.budget).await
        }
        _ => Ok(()),
    }
}

/// Returns the hybrid nodes role ARN: given, or ours (with trust anchor and profile for IRA).
pub async fn ensure_nodes_identity(ctx: &Ctx<'_>) -> AwsResult<String> {
    let remote = &ctx.spec.remote;
    if let Some(arn) = &remote.role_arn {
        return Ok(arn.clone());
    }
    let anchor_arn = match remote.provider {
        CredentialsProvider::Ira => Some(ensure_trust_anchor(ctx).await?),
        CredentialsProvider::Ssm => None,
    };
    let role_arn = ensure_nodes_role(ctx, anchor_arn.as_deref()).await?;
    if remote.provider == CredentialsProvider::Ira {
        ensure_profile(ctx, &role_arn).await?;
    }
    Ok(role_arn)
}

/// The trust anchor's ARN: the recorded one (enabled again if it was disabled), or a new one.
async fn ensure_trust_anchor(ctx: &Ctx<'_>) -> AwsResult<String> {
    let ra = &ctx.aws.rolesanywhere;
    let recorded = ctx.inv().trust_anchor_id;
    let observed = match &recorded {
        Some(id) => rolesanywhere::trust_anchor(ra, id).await?,
        None => None,
    };
    let source = ctx.spec.remote.anchor_source();
    if let (Some(id), Some(anchor)) = (recorded, observed) {
        if !anchor.enabled {
            rolesanywhere::enable_trust_anchor(ra, &id).await?;
        }
        let trusted = anchor.source.as_ref();
        if !trusted.is_some_and(|s| crate::cluster::observe::trusts_the_same(s, &source)) {
            rolesanywhere::set_trust_anchor_source(ra, &id, &source).await?;
        }
        return Ok(anchor.arn);
    }
    let name = names::trust_anchor(&ctx.spec.name);
    let (id, arn) = rolesanywhere::create_trust_anchor(ra, &name, &source, &ctx.tags).await?;
    ctx.record(|i| i.trust_anchor_id = Some(id));
    Ok(arn)
}

async fn ensure_profile(ctx: &Ctx<'_>, role_arn: &str) -> AwsResult<()> {
    let ra = &ctx.aws.rolesanywhere;
    let recorded = ctx.inv().profile_id;
    let observed = match &recorded {
        Some(id) => rolesanywhere::profile(ra, id).await?,
        None => None,
    };
    match (recorded, observed) {
        (Some(id), Some(profile)) => {
            if !profile.enabled {
                rolesanywhere::enable_profile(ra, &id).await?;
            }
            if !profile.serves_only(role_arn) {
                rolesanywhere::set_profile_role(ra, &id, role_arn).await?;
            }
            Ok(())
        }
        _ => {
            let name = names::profile(&ctx.spec.name);
            let (id, _) = rolesanywhere::create_profile(ra, &name, role_arn, &ctx.tags).await?;
            ctx.record(|i| i.profile_id = Some(id));
            Ok(())
        }
    }
}

fn scope<'c>(ctx: &'c Ctx<'_>) -> Scope<'c> {
    Scope {
        partition: &ctx.id.partition,
        region: &ctx.aws.region,
        account: &ctx.id.account,
    }
}

async fn ensure_nodes_role(ctx: &Ctx<'_>, anchor_arn: Option<&str>) -> AwsResult<String> {
    let client = &ctx.aws.iam;
    let recorded = ctx.inv().nodes_role_name;
    let name = recorded
        .clone()
        .unwrap_or_else(|| names::nodes_role(&ctx.spec.name));
    let p = &ctx.spec.remote.provider;
    let trust = policies::nodes_trust_policy(p, &scope(ctx), anchor_arn);
    let inline = policies::nodes_inline_policy(
        p,
        &ctx.cluster_arn(),
        &scope(ctx),
        ctx.spec.remote.pod_identity,
    );
    let managed = |m: &str| policies::managed_policy_arn(&ctx.id.partition, m);
    let put_inline = || {
        let (name, inline) = (&name, &inline);
        async move {
            let policy = policies::NODES_INLINE_POLICY;
            iam::put_inline_policy(client, name, policy, inline, &ctx.budget).await
        }
    };
    let instead = BRING_NODES_ROLE;
    match recorded_role(ctx, recorded.as_deref()).await? {
        None => {
            let role = iam::NewRole {
                name: &name,
                description: "EKS Hybrid Nodes role (terraform-provider-eks)",
                trust: &trust,
                tags: &ctx.tags,
                boundary: ctx.spec.role_permissions_boundary.as_deref(),
            };
            let arn = iam::create_role(client, &role)
                .await
                .map_err(|e| taken_if_exists(e, &name, instead))?;
            ctx.record(|i| i.nodes_role_name = Some(name.clone()));
            put_inline().await?;
            let attachments: Vec<_> = policies::nodes_managed_policies(p)
                .iter()
                .map(|m| {
                    let (name, arn) = (&name, managed(m));
                    async move { iam::attach_policy(client, name, &arn, &ctx.budget).await }
                })
                .collect();
            ctx.each(attachments).await?;
            Ok(arn)
        }
        Some(arn) => {
            // First: a role whose boundary is gone takes no other write under the published
            // policy.
            repair_boundary(ctx, &name).await?;
            // A trust anchor recreated by this repair has a new ARN for the trust condition.
            let anchor_recreated = ctx
                .observed
                .statuses
                .iter()
                .any(|(k, v)| matches!(k, ObjectKey::TrustAnchor(_)) && *v == Status::Missing);
            if ctx
                .observed
                .is_missing(&ObjectKey::IamRoleTrustPolicy(name.clone()))
                || anchor_recreated
            {
                iam::update_trust_policy(client, &name, &trust).await?;
            }
            if ctx.observed.is_missing(&ObjectKey::inline_policy(
                &name,
                policies::NODES_INLINE_POLICY,
            )) {
                put_inline().await?;
            }
            for m in policies::NODES_MANAGED_POLICIES {
                match ctx.observed.status(&ObjectKey::policy_attachment(&name, m)) {
                    Some(Status::Attached) => {
                        iam::detach_policy(client, &name, &managed(m)).await?
                    }
                    Some(Status::Ok) | None => {}
                    Some(_) => iam::attach_policy(client, &name, &managed(m), &ctx.budget).await?,
                }
            }
            Ok(arn)
        }
    }
}

/// Whether the cluster this resource recorded exists (an earlier apply that failed while EKS
/// was creating it): it is waited for, not created again. A cluster not recorded is not looked
/// up: `ownership::refuse_foreign` found the name free before the first write, and should
/// one appear since, CreateCluster refuses the name rather than this resource taking it over.
/// One that EKS is deleting (a destroy or replacement interrupted after DeleteCluster) cannot
/// be kept: it is waited out, then made again.
pub async fn cluster_exists(ctx: &Ctx<'_>) -> AwsResult<bool> {
    let Some(name) = ctx.inv().cluster_name else {
        return Ok(false);
    };
    match eks::describe_cluster(&ctx.aws.eks, &name).await? {
        Some(c) if c.status() == Some(&aws_sdk_eks::types::ClusterStatus::Deleting) => {
            eks::wait_cluster_deleted(&ctx.aws.eks, &name, &ctx.budget).await?;
            Ok(false)
        }
        found => Ok(found.is_some()),
    }
}

fn as_hash_map(tags: &BTreeMap<String, String>) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Creates the cluster unless it exists, then waits until it is ACTIVE.
pub async fn ensure_cluster(ctx: &Ctx<'_>, exists: bool, role_arn: &str) -> AwsResult<()> {
    let spec = ctx.spec;
    if !exists {
        let inv = ctx.inv();
        let mut security_groups: Vec<String> = inv
            .control_plane_security_group_id
            .iter()
            .cloned()
            .collect();
        let mut subnets = inv.private_subnet_ids.clone();
        subnets.extend(inv.public_subnet_ids.iter().cloned());
        if let VpcSpec::Existing {
            security_group_ids, ..
        } = &spec.vpc
        {
            security_groups.extend(security_group_ids.iter().cloned());
        }
        let request = eks::ClusterRequest {
            name: &spec.name,
            version: spec.kubernetes_version.as_deref(),
            role_arn,
            subnet_ids: subnets,
            security_group_ids: security_groups,
            endpoint_public_access: spec.endpoint_public_access,
            endpoint_private_access: spec.endpoint_private_access,
            authentication_mode: &spec.authentication_mode,
            service_ipv4_cidr: spec.service_ipv4_cidr.as_deref(),
            node_cidrs: spec.remote.node_cidrs.clone(),
            pod_cidrs: spec.remote.pod_cidrs.clone(),
            tags: as_hash_map(&ctx.tags),
        };
        // Made again (after a deletion outside Terraform), it is a new cluster with a new time.
        let created_at = eks::create_cluster(&ctx.aws.eks, &request, &ctx.budget).await?;
        ctx.record(|i| i.cluster_created_at = created_at);
    }
    ctx.record(|i| i.cluster_name = Some(spec.name.clone()));
    eks::wait_cluster_active(&ctx.aws.eks, &spec.name, &ctx.budget).await?;
    Ok(())
}

/// The nodes role's `HYBRID_LINUX` entry; one bound to an older role of the same ARN (see
/// `observe::bound_to_an_older_role`) is deleted and made again for the role as it is now.
pub async fn ensure_access_entry(ctx: &Ctx<'_>, principal: &str) -> AwsResult<()> {
    let key = ObjectKey::AccessEntry(ctx.spec.name.clone());
    let mut exists = eks::access_entry(&ctx.aws.eks, &ctx.spec.name, principal)
        .await?
        .is_some();
    if exists && ctx.observed.status(&key) == Some(&Status::Changed) {
        eks::delete_access_entry(&ctx.aws.eks, &ctx.spec.name, principal).await?;
        exists = false;
    }
    if !exists {
        let tags = as_hash_map(&ctx.tags);
        eks::create_access_entry(&ctx.aws.eks, &ctx.spec.name, principal, tags, &ctx.budget)
            .await?;
    }
    ctx.record(|i| i.access_entry_principal = Some(principal.to_string()));
    Ok(())
}

/// The SSM activation the configuration asks for: kept while it is unchanged and healthy,
/// otherwise the old one is deleted and a new one made (activations cannot be modified).
/// It carries the cluster's ARN as the `EKSClusterARN` tag, which SSM copies onto the nodes
/// that register with it and the nodes role's deregistration permission is conditioned on.
/// Returns the code of a new activation, which AWS shows only once.
pub async fn ensure_ssm_activation(ctx: &Ctx<'_>, role_arn: &str) -> AwsResult<Option<String>> {
    let recorded = ctx.inv().ssm_activation;
    let wanted = ctx.spec.ssm_activation.as_ref();
    let healthy = |r: &ActivationRecord| {
        Some(&r.settings) == wanted
            && !ctx
                .observed
                .is_missing(&ObjectKey::SsmActivation(r.id.clone()))
    };
    match &recorded {
        Some(r) if healthy(r) => return Ok(None),
        Some(r) => {
            ssm::delete_activation(&ctx.aws.ssm, &r.id).await?;
            ctx.record(|i| i.ssm_activation = None);
        }
        None => {}
    }
    let Some(wanted) = wanted else {
        return Ok(None);
    };
    let role_name = crate::aws::iam::role_with_path_of(role_arn);
    let mut tags = ctx.tags.clone();
    tags.insert(policies::CLUSTER_ARN_TAG.to_string(), ctx.cluster_arn());
    let request = ssm::ActivationRequest {
        role_name,
        registration_limit: wanted.registration_limit,
        expiration: wanted.expiration.as_deref(),
        description: &names::ssm_activation(&ctx.spec.name),
        default_instance_name: &ctx.spec.name,
        tags: &tags,
    };
    let activation =
        ssm::create_activation(&ctx.aws.ssm, &ctx.aws.iam, &request, &ctx.budget).await?;
    ctx.record(|i| {
        i.ssm_activation = Some(ActivationRecord {
            id: activation.id.clone(),
            settings: wanted.clone(),
        })
    });
    Ok(Some(activation.code))
}
