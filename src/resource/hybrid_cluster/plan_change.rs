//! The resource's part of a plan beyond the schema's: checks that read AWS (a pre-existing VPC,
//! the names, the references, a Private CA, the VPC CNI add-on), the plan itself
//! (`plan::plan`), and the checks of the planned values (tags, an activation's expiration, a
//! Kubernetes version step).

use tfplugin6::model::read as read_model;
use tfplugin6::resource::PlanRequest;
use tfplugin6::Diagnostics;

use super::convert::held_by;
use super::model::{self, ClusterConfig, ClusterState};
use super::model::{invalid, typed_prior};
use super::{name_checks, plan, preflight, validate};
use crate::aws::AwsClients;
use crate::provider::report::advise;
use crate::provider::ProviderData;

/// The resource's part of the plan: a look at AWS for a pre-existing VPC about to be used
/// (not for one already in use: destroy plans the configuration once to refresh and must not
/// stop at it), the VPC CNI warning for an existing cluster, then `plan::plan`.
pub async fn plan_change(
    data: &ProviderData,
    req: &PlanRequest,
) -> Result<(ClusterState, Diagnostics), Diagnostics> {
    let config: ClusterConfig = read_model(&req.config).map_err(invalid)?;
    let proposed: ClusterState = read_model(&req.proposed).map_err(invalid)?;
    let prior = typed_prior(&req.prior)?;
    let mut d = Diagnostics::default();
    if let Some(prior) = &prior {
        d.extend(name_checks::check_cluster_still_ours(prior, &config));
    }
    let new_network = prior.as_ref().is_none_or(|p| {
        p.config.vpc != proposed.config.vpc
            || p.config.remote_network_config != proposed.config.remote_network_config
            || p.config.service_ipv4_cidr != proposed.config.service_ipv4_cidr
    });
    let mut vpc_cidrs = None;
    if let Some(aws) = data.aws_if_known().await {
        if new_network {
            let preflight = preflight::check_existing_vpc(&aws, &config).await;
            d.extend(preflight.diagnostics);
            vpc_cidrs = preflight.vpc_cidrs;
        }
        if req.makes_new() {
            let held = held_by(prior.as_ref(), &req.prior_private);
            let (names, references) = tokio::join!(
                name_checks::check_plan(&aws, &config, &held),
                preflight::check_references(&aws, &config, held.vpc_id.as_deref()),
            );
            d.extend(names);
            d.extend(references);
        } else {
            d.extend(preflight::warn_private_ca_in_use(&aws, &config).await);
        }
        // Only a cluster that exists can run an add-on.
        if let Some(name) = prior.as_ref().and_then(|p| p.config.name.known()) {
            advise(crate::cluster::vpc_cni::check(&aws, name).await, &mut d);
        }
    }
    let cx = plan::Context {
        default_tags: data.default_tags_if_known().await,
        existing_vpc_cidrs: vpc_cidrs.as_deref(),
    };
    let planned = plan::plan(prior.as_ref(), proposed, &config, req.makes_new(), &cx);
    if let Some(tags) = planned.tags_all.value() {
        d.extend(validate::validate_tags_all(&config, tags));
    }
    check_new_activation_expiration(&planned, &mut d);
    if let (Some(prior), false) = (&prior, req.makes_new()) {
        check_version_step(prior, &planned, &mut d);
    }
    Ok((planned, d))
}

/// EKS upgrades a cluster one minor version at a time and never downgrades it
/// (UpdateClusterVersion: "Unsupported Kubernetes minor version update from … to …"; EKS user
/// guide, "Update existing cluster to new Kubernetes version"): a plan that asks otherwise
/// fails here, naming the versions to go through, instead of at apply.
fn check_version_step(prior: &ClusterState, planned: &ClusterState, d: &mut Diagnostics) {
    let minor = |s: &ClusterState| {
        let v = s.config.kubernetes_version.value()?;
        let (major, minor) = v.split_once('.')?;
        Some((major.to_string(), minor.parse::<u32>().ok()?, v.clone()))
    };
    let (Some((major, from, was)), Some((new_major, to, wanted))) = (minor(prior), minor(planned))
    else {
        return;
    };
    let problem = if new_major != major || to < from {
        format!("EKS does not downgrade a cluster: it runs Kubernetes {was}, and {wanted} is older. Set kubernetes_version to {was} or later.")
    } else if to > from + 1 {
        let steps: Vec<String> = (from + 1..=to).map(|m| format!("{major}.{m}")).collect();
        format!(
            "EKS upgrades a cluster one minor version at a time (UpdateClusterVersion). From {was}, apply {} in turn.",
            steps.join(", then ")
        )
    } else {
        return;
    };
    // Terraform plans the configuration before a destroy too, so this stops a plain
    // `terraform destroy` as well: the message names the one that does not plan it.
    d.error_at(
        tfplugin6::AttrPath::root(ClusterConfig::kubernetes_version),
        "Kubernetes version step not supported",
        format!("{problem} To destroy the cluster instead, set kubernetes_version back to {was} or run `terraform destroy -refresh=false`."),
    );
}

/// SSM refuses an expiration in the past or too far ahead, but only when it creates an
/// activation: checked at the plan that makes one, not at validate (see
/// `rules::activation_expiration`).
fn check_new_activation_expiration(planned: &ClusterState, d: &mut Diagnostics) {
    let Some(a) = planned
        .config
        .ssm_activation
        .known()
        .and_then(tfplugin6::One::get)
    else {
        return;
    };
    let Some(expiration) = a
        .expiration
        .value()
        .filter(|_| a.activation_id.is_unknown())
    else {
        return;
    };
    if let Some(problem) = crate::provider::rules::activation_expiration_now(expiration) {
        d.error_at(
            tfplugin6::AttrPath::root(ClusterConfig::ssm_activation)
                .index(0)
                .attr(model::SsmActivation::expiration),
            "Invalid activation expiration",
            problem,
        );
    }
}

/// For a destroy planned without a refresh: a cluster of our name made at another time than
/// ours shows in the preview as kept. A failed look leaves the preview as the state has it.
pub async fn mark_other_cluster(aws: &AwsClients, prior: &mut ClusterState) {
    let (Some(name), Some(ours)) = (prior.id.value().cloned(), prior.created_at.value().cloned())
    else {
        return;
    };
    if let Ok(Some(_)) = crate::cluster::ownership::other_cluster(aws, &name, &ours).await {
        if let Some(objects) = prior.owned_objects.value_mut() {
            objects.insert(
                crate::cluster::objects::ObjectKey::Cluster(name),
                crate::cluster::objects::ObjectStatus::not_ours(),
            );
        }
    }
}
