//! The IAM, Roles Anywhere and EKS steps of create and repair: the cluster role, the hybrid
//! nodes identity, the cluster itself and its HYBRID_LINUX access entry.

use std::collections::HashMap;

use super::create::Ctx;
use super::inventory::ActivationRecord;
use super::model::{CredentialsProvider, VpcSpec};
use super::{names, policies};
use crate::aws::{eks, iam, rolesanywhere, ssm, AwsError, AwsResult};

/// Returns the ARN of the cluster role: given, or ours.
pub async fn ensure_cluster_role(ctx: &Ctx<'_>) -> AwsResult<String> {
    if let Some(arn) = &ctx.spec.cluster_role_arn {
        if ctx.inv().cluster_role_name.is_none() {
            return Ok(arn.clone());
        }
    }
    let name = names::cluster_role(&ctx.spec.name);
    let policy = policies::managed_policy_arn(&ctx.id.partition, policies::CLUSTER_MANAGED_POLICY);
    let arn = match iam::role_arn(&ctx.aws.iam, &name).await? {
        Some(arn) if ctx.inv().cluster_role_name.is_some() => arn,
        Some(_) => {
            return Err(AwsError::new(
                format!("creating IAM role {name}"),
                "EntityAlreadyExists",
                format!("a role named {name} already exists and is not recorded as ours; delete it or set cluster_role_arn"),
            ))
        }
        None => {
            let arn = iam::create_role(&ctx.aws.iam, &name, "EKS control plane role (terraform-provider-eks)", &policies::cluster_trust_policy(), &ctx.tags).await?;
            ctx.record(|i| i.cluster_role_name = Some(name.clone()));
            iam::attach_policy(&ctx.aws.iam, &name, &policy).await?;
            return Ok(arn);
        }
    };
    if ctx.observed.is_missing(&format!(
        "iam_role_policy_attachment/{name}/{}",
        policies::CLUSTER_MANAGED_POLICY
    )) {
        iam::attach_policy(&ctx.aws.iam, &name, &policy).await?;
    }
    Ok(arn)
}

/// Returns the hybrid nodes role ARN: given, or ours (with trust anchor and profile for IRA).
pub async fn ensure_nodes_identity(ctx: &Ctx<'_>) -> AwsResult<String> {
    let remote = &ctx.spec.remote;
    if let Some(arn) = &remote.role_arn {
        return Ok(arn.clone());
    }
    let ra = &ctx.aws.rolesanywhere;
    let anchor_name = names::trust_anchor(&ctx.spec.name);
    let mut anchor_arn = None;
    if remote.provider == CredentialsProvider::Ira {
        let recorded = ctx.inv().trust_anchor_id;
        let observed = match &recorded {
            Some(id) => rolesanywhere::trust_anchor(ra, id).await?,
            None => None,
        };
        anchor_arn = Some(match (recorded, observed) {
            (Some(id), Some((arn, enabled))) => {
                if !enabled {
                    rolesanywhere::enable_trust_anchor(ra, &id).await?;
                }
                arn
            }
            _ => {
                let bundle = remote.ca_bundle_cert.as_deref().unwrap_or_default();
                let (id, arn) =
                    rolesanywhere::create_trust_anchor(ra, &anchor_name, bundle, &ctx.tags).await?;
                ctx.record(|i| i.trust_anchor_id = Some(id));
                arn
            }
        });
    }
    let role_arn = ensure_nodes_role(ctx, anchor_arn.as_deref()).await?;
    if remote.provider == CredentialsProvider::Ira {
        let recorded = ctx.inv().profile_id;
        let observed = match &recorded {
            Some(id) => rolesanywhere::profile(ra, id).await?,
            None => None,
        };
        match (recorded, observed) {
            (Some(id), Some((_, false))) => rolesanywhere::enable_profile(ra, &id).await?,
            (Some(_), Some(_)) => {}
            _ => {
                let (id, _) = rolesanywhere::create_profile(
                    ra,
                    &names::profile(&ctx.spec.name),
                    &role_arn,
                    &ctx.tags,
                )
                .await?;
                ctx.record(|i| i.profile_id = Some(id));
            }
        }
    }
    Ok(role_arn)
}

async fn ensure_nodes_role(ctx: &Ctx<'_>, anchor_arn: Option<&str>) -> AwsResult<String> {
    let client = &ctx.aws.iam;
    let name = names::nodes_role(&ctx.spec.name);
    let p = &ctx.spec.remote.provider;
    let trust = policies::nodes_trust_policy(
        p,
        &ctx.id.partition,
        &ctx.aws.region,
        &ctx.id.account,
        anchor_arn,
    );
    let inline = policies::nodes_inline_policy(p, &ctx.cluster_arn(), &ctx.id.partition);
    let managed: Vec<String> = policies::NODES_MANAGED_POLICIES
        .iter()
        .map(|m| policies::managed_policy_arn(&ctx.id.partition, m))
        .collect();
    match iam::role_arn(client, &name).await? {
        None => {
            let arn = iam::create_role(client, &name, "EKS Hybrid Nodes role (terraform-provider-eks)", &trust, &ctx.tags).await?;
            ctx.record(|i| i.nodes_role_name = Some(name.clone()));
            iam::put_inline_policy(client, &name, policies::NODES_INLINE_POLICY, &inline).await?;
            let attachments: Vec<_> = managed
                .iter()
                .map(|m| iam::attach_policy(client, &name, m))
                .collect();
            ctx.each(attachments).await?;
            Ok(arn)
        }
        Some(_) if ctx.inv().nodes_role_name.is_none() => Err(AwsError::new(
            format!("creating IAM role {name}"),
            "EntityAlreadyExists",
            format!("a role named {name} already exists and is not recorded as ours; delete it or set remote_network_config.iam.role_arn"),
        )),
        Some(arn) => {
            // A trust anchor recreated by this repair has a new ARN for the trust condition.
            let anchor_recreated = ctx.observed.statuses.iter().any(|(k, v)| k.starts_with("trust_anchor/") && v == "missing");
            if anchor_arn.is_some() && anchor_recreated {
                iam::update_trust_policy(client, &name, &trust).await?;
            }
            if ctx.observed.is_missing(&format!("iam_role_policy/{name}/{}", policies::NODES_INLINE_POLICY)) {
                iam::put_inline_policy(client, &name, policies::NODES_INLINE_POLICY, &inline).await?;
            }
            for (m, arn_m) in policies::NODES_MANAGED_POLICIES.iter().zip(&managed) {
                if ctx.observed.is_missing(&format!("iam_role_policy_attachment/{name}/{m}")) {
                    iam::attach_policy(client, &name, arn_m).await?;
                }
            }
            Ok(arn)
        }
    }
}

pub async fn cluster_exists(ctx: &Ctx<'_>) -> AwsResult<bool> {
    Ok(eks::describe_cluster(&ctx.aws.eks, &ctx.spec.name)
        .await?
        .is_some())
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
            tags: ctx
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>(),
        };
        eks::create_cluster(&ctx.aws.eks, &request, &ctx.budget).await?;
    }
    ctx.record(|i| i.cluster_name = Some(spec.name.clone()));
    eks::wait_cluster_active(&ctx.aws.eks, &spec.name, &ctx.budget).await?;
    Ok(())
}

pub async fn ensure_access_entry(ctx: &Ctx<'_>, principal: &str) -> AwsResult<()> {
    if eks::access_entry(&ctx.aws.eks, &ctx.spec.name, principal)
        .await?
        .is_none()
    {
        let tags = ctx
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        eks::create_access_entry(&ctx.aws.eks, &ctx.spec.name, principal, tags, &ctx.budget)
            .await?;
    }
    ctx.record(|i| i.access_entry_principal = Some(principal.to_string()));
    Ok(())
}

/// The SSM activation the configuration asks for: kept while it is unchanged and healthy,
/// otherwise the old one is deleted and a new one made (activations cannot be modified).
/// Returns the code of a new activation, which AWS shows only once.
pub async fn ensure_ssm_activation(ctx: &Ctx<'_>, role_arn: &str) -> AwsResult<Option<String>> {
    let recorded = ctx.inv().ssm_activation;
    let wanted = ctx.spec.ssm_activation.as_ref();
    let healthy = |r: &ActivationRecord| {
        Some(&r.settings) == wanted && !ctx.observed.is_missing(&format!("ssm_activation/{}", r.id))
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
    let role_name = role_arn.rsplit('/').next().unwrap_or(role_arn);
    let request = ssm::ActivationRequest {
        role_name,
        registration_limit: wanted.registration_limit,
        expiration: wanted.expiration.as_deref(),
        description: &names::ssm_activation(&ctx.spec.name),
        default_instance_name: &ctx.spec.name,
        tags: &ctx.tags,
    };
    let activation = ssm::create_activation(&ctx.aws.ssm, &request, &ctx.budget).await?;
    ctx.record(|i| {
        i.ssm_activation = Some(ActivationRecord {
            id: activation.id.clone(),
            settings: wanted.clone(),
        })
    });
    Ok(Some(activation.code))
}
