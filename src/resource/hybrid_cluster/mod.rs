//! The `eks_hybrid_cluster` resource: its model (schema, rules), validation, plan, create and
//! update (a graph of ensure steps), read and drift, delete and import.

pub mod convert;
pub mod destroy_preview;
pub mod identity;
pub mod import;
pub mod list;
pub mod model;
pub mod name_checks;
pub mod plan;
pub mod preflight;
pub mod state;
pub mod validate;

use std::collections::{BTreeMap, HashMap};

use tfplugin6::model::{read as read_model, ModelError, ToValue};
use tfplugin6::resource::{ApplyRequest, ImportRequest, PlanRequest, PlanResponse, ReadRequest};
use tfplugin6::{
    async_trait, Deferral, Diagnostics, IdentitySchema, Outcome, Resource, Schema, Unknown, Value,
};
use tokio_util::sync::CancellationToken;

use crate::aws::wait::Budget;
use crate::aws::{ec2, eks, AwsClients, AwsError};
use crate::cluster::inventory::Inventory;
use crate::cluster::spec::ClusterSpec;
use crate::provider::report::{advise, report};
use crate::provider::ProviderData;
use model::{ClusterConfig, ClusterState};

pub const TYPE_NAME: &str = "eks_hybrid_cluster";

pub struct HybridCluster {
    data: ProviderData,
}

impl HybridCluster {
    pub fn new(data: ProviderData) -> HybridCluster {
        HybridCluster { data }
    }
}

fn invalid(e: ModelError) -> Diagnostics {
    let mut d = Diagnostics::default();
    d.error("Unexpected value", format!("eks_hybrid_cluster: {e}"));
    d
}

#[async_trait]
impl Resource for HybridCluster {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        model::schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(identity::schema())
    }

    fn identity_of(&self, state: &Value) -> Option<Value> {
        identity::of_state(state)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate::validate_config(config)
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        // Fault injection for the crash-report test; not in a release build.
        #[cfg(feature = "test-hooks")]
        if std::env::var_os("TF_EKS_TEST_PANIC").is_some() {
            panic!("TF_EKS_TEST_PANIC is set: planning {TYPE_NAME} panics on purpose");
        }
        if req.is_destroy() {
            let mut diagnostics = Diagnostics::default();
            if let Ok(Some(mut prior)) = typed_prior(&req.prior) {
                if let Some(aws) = self.data.aws_if_known().await {
                    mark_other_cluster(&aws, &mut prior).await;
                }
                destroy_preview::warn(&prior, None, &mut diagnostics);
            }
            return PlanResponse {
                diagnostics,
                ..PlanResponse::proposed(req)
            };
        }
        let unconfigured = self.data.aws_if_known().await.is_none();
        if let Some(reason) = req
            .client
            .defer_if(unconfigured, Deferral::ProviderConfigUnknown)
        {
            return PlanResponse {
                deferred: Some(reason),
                ..PlanResponse::proposed(req)
            };
        }
        match plan_change(&self.data, &req).await {
            Ok((planned, mut diagnostics)) => {
                if let (false, Ok(Some(prior))) =
                    (req.requires_replace.is_empty(), typed_prior(&req.prior))
                {
                    let paths: Vec<String> = req
                        .requires_replace
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                    destroy_preview::warn(&prior, Some(&paths.join(", ")), &mut diagnostics);
                }
                PlanResponse {
                    planned: planned.to_value(),
                    diagnostics,
                    ..PlanResponse::proposed(req)
                }
            }
            Err(diagnostics) => PlanResponse {
                diagnostics,
                ..PlanResponse::proposed(req)
            },
        }
    }

    async fn apply(&self, req: ApplyRequest) -> Outcome {
        let aws = match self.data.aws().await {
            Ok(aws) => aws,
            Err(d) => return Outcome::unchanged(req.prior, req.private, d),
        };
        let prior = match typed_prior(&req.prior) {
            Ok(p) => p,
            Err(d) => return Outcome::unchanged(req.prior, req.private, d),
        };
        if req.is_destroy() {
            let Some(prior) = prior else {
                return Outcome::default();
            };
            return delete(&aws, &prior, &req.private, req.cancel).await;
        }
        let planned: ClusterState = match read_model(&req.planned) {
            Ok(p) => p,
            Err(e) => return Outcome::unchanged(req.prior, req.private, invalid(e)),
        };
        apply(&aws, prior.as_ref(), &planned, &req.private, req.cancel).await
    }

    async fn read(&self, req: ReadRequest) -> Outcome {
        let aws = match self.data.aws().await {
            Ok(aws) => aws,
            Err(d) => {
                return match req.client.defer_if(true, Deferral::ProviderConfigUnknown) {
                    Some(reason) => Outcome::deferred(req.state, req.private, reason),
                    None => Outcome::unchanged(req.state, req.private, d),
                }
            }
        };
        match typed_prior(&req.state) {
            Ok(Some(prior)) => read_cluster(&aws, &prior, &req.private).await,
            Ok(None) => Outcome::default(),
            Err(d) => Outcome::unchanged(req.state, req.private, d),
        }
    }

    async fn import(&self, req: ImportRequest) -> Outcome {
        let aws = match self.data.aws().await {
            Ok(aws) => aws,
            Err(d) => {
                return match req.client.defer_if(true, Deferral::ProviderConfigUnknown) {
                    Some(reason) => Outcome::deferred(Value::Null, vec![], reason),
                    None => Outcome::unchanged(Value::Null, vec![], d),
                }
            }
        };
        let default_tags = self.data.default_tags().await;
        if req.identity.is_null() {
            return import::import(&aws, &req.id, &default_tags).await;
        }
        let asked = match identity::requested(&req.identity) {
            Ok(asked) => asked,
            Err(d) => return Outcome::unchanged(Value::Null, vec![], d),
        };
        let d = asked.check_region(&aws.region);
        if d.has_errors() {
            return Outcome::unchanged(Value::Null, vec![], d);
        }
        let out = import::import(&aws, &asked.name, &default_tags).await;
        let d = asked.check_found(&out.state);
        if d.has_errors() {
            return Outcome::unchanged(Value::Null, vec![], d);
        }
        out
    }
}

fn typed_prior(v: &Value) -> Result<Option<ClusterState>, Diagnostics> {
    if v.is_null() {
        return Ok(None);
    }
    read_model(v).map(Some).map_err(invalid)
}

/// The resource's part of the plan: a look at AWS for a pre-existing VPC about to be used
/// (not for one already in use: destroy plans the configuration once to refresh and must not
/// stop at it), the VPC CNI warning for an existing cluster, then `plan::plan`.
async fn plan_change(
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
async fn mark_other_cluster(aws: &AwsClients, prior: &mut ClusterState) {
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

/// The private inventory, with when EKS created our cluster from the public state when the
/// private one does not have it (private state from before it was kept).
fn recorded_inventory(prior: Option<&ClusterState>, private: &[u8]) -> Inventory {
    let mut inv = Inventory::from_private(private);
    if inv.cluster_created_at.is_none() {
        inv.cluster_created_at = prior.and_then(|p| p.created_at.value().cloned());
    }
    inv
}

/// What a state holds: its private inventory, and the objects its public attributes name.
fn held_by(state: Option<&ClusterState>, private: &[u8]) -> Inventory {
    let from_state = state.map(|s| {
        crate::cluster::inventory::recorded_in_state(
            &convert::public_record(s),
            spec_of(s).remote.gateway.as_ref(),
        )
    });
    crate::cluster::inventory::merge(
        Inventory::from_private(private),
        from_state.unwrap_or_default(),
    )
}

/// Each AWS error as a diagnostic naming the step it stopped at.
/// What stops a create but waits on someone else: an attachment to a shared transit gateway
/// that its owner has not accepted yet. A create that ends in an error leaves a tainted
/// object, which the next apply would destroy and create again, awaiting acceptance anew; so
/// on create it is a warning, the routes wait, and `owned_objects` shows the attachment as
/// drift until an apply after the acceptance completes them. On update it is an error.
fn report_create(errors: Vec<AwsError>, d: &mut Diagnostics) {
    let (waiting, failed): (Vec<_>, Vec<_>) =
        errors.into_iter().partition(|e| e.is("PendingAcceptance"));
    for e in waiting {
        d.warning(
            "Transit gateway attachment awaits acceptance",
            format!("{}: {}", e.step(), e.message()),
        );
    }
    report(failed, d);
}

fn owned_tags(spec: &ClusterSpec) -> BTreeMap<String, String> {
    let mut tags = spec.tags.clone();
    tags.insert(
        crate::cluster::names::OWNERSHIP_TAG.to_string(),
        spec.name.clone(),
    );
    tags
}

/// The desired configuration of a planned (or prior) state, with its merged tags.
fn spec_of(s: &ClusterState) -> ClusterSpec {
    convert::spec_of_config(&s.config, s.tags_all.value().cloned().unwrap_or_default())
}

fn state_value(s: &ClusterState) -> Value {
    s.to_value().without_unknowns()
}

/// Create (prior None) or update in place, then observe everything once more for the state.
async fn apply(
    aws: &AwsClients,
    prior: Option<&ClusterState>,
    planned: &ClusterState,
    private: &[u8],
    cancel: CancellationToken,
) -> Outcome {
    let spec = spec_of(planned);
    let creating = prior.is_none();
    let timeout = if creating {
        spec.timeouts.create
    } else {
        spec.timeouts.update
    };
    let budget = Budget::new(timeout, cancel);
    let inv = recorded_inventory(prior, private);
    let mut d = Diagnostics::default();
    let unchanged = |d: Diagnostics, inv: &Inventory| {
        Outcome::new(
            prior.map_or(Value::Null, ToValue::to_value),
            inv.to_private(),
            d,
        )
    };

    let observed = if creating {
        Default::default()
    } else {
        match crate::cluster::observe::observe(aws, &inv, &spec).await {
            Ok(o) => o,
            Err(e) => {
                report(vec![e], &mut d);
                return unchanged(d, &inv);
            }
        }
    };
    // A plan made with -refresh=false did not see it.
    if observed.other_cluster.is_some() {
        d.error(
            "Cluster name held by another cluster",
            crate::cluster::ownership::other_cluster_detail(
                &spec.name,
                inv.cluster_created_at.as_deref(),
            ),
        );
        return unchanged(d, &inv);
    }
    // Before the first write: an object that holds one of our names and is not recorded as
    // ours stops the apply (ownership.rs).
    let (id, foreign) = tokio::join!(
        crate::aws::sts::caller(aws),
        crate::cluster::ownership::refuse_foreign(aws, &spec, &inv)
    );
    let id = match foreign.and(id) {
        Ok(id) => id,
        Err(e) => {
            report(vec![e], &mut d);
            return unchanged(d, &inv);
        }
    };
    let tags = owned_tags(&spec);
    let mut ctx =
        crate::cluster::apply::graph::Ctx::new(aws, &spec, id, budget.clone(), tags, observed, inv);
    ctx.completing = prior.is_some_and(plan::is_unfinished);
    if let Err(errors) = crate::cluster::apply::graph::ensure_all(&ctx).await {
        if creating {
            report_create(errors, &mut d);
        } else {
            report(errors, &mut d);
        }
    }
    let ctx_completing = ctx.completing;
    let (inv, new_activation_code) = ctx.finish();
    if let (Some(prior), false) = (prior, d.has_errors()) {
        if let Err(e) = update_in_place(aws, prior, &spec, &budget, &inv).await {
            report(vec![e], &mut d);
        }
    }
    let completing = creating || ctx_completing;
    let cluster_made = inv.cluster_name.is_some();
    let (state, mut outcome) = finish(aws, planned, inv, &spec, d, &budget).await;
    if let Some(mut state) = state {
        if let Some(code) = new_activation_code {
            tfplugin6::logging::mask(&code);
            state::set_activation_code(&mut state, &code);
        }
        if completing && outcome.diagnostics.has_errors() {
            mark_unfinished(
                &mut state,
                &spec.name,
                cluster_made,
                &mut outcome.diagnostics,
            );
        }
        if state.status.value().map(String::as_str) == Some("ACTIVE") {
            outcome.diagnostics.extend({
                let mut d = Diagnostics::default();
                advise(
                    crate::cluster::vpc_cni::check(aws, &spec.name).await,
                    &mut d,
                );
                d
            });
        }
        outcome.state = state_value(&state);
    }
    outcome
}

/// A create that failed part way: the state says so (an update then completes it), and when
/// the cluster itself exists the error says how to keep it. Terraform taints a resource whose
/// create returned an error, and its next apply would replace it: a new cluster, 10 minutes
/// or more on AWS, and an outage for every node registered with the old one.
fn mark_unfinished(state: &mut ClusterState, name: &str, cluster_made: bool, d: &mut Diagnostics) {
    if let Unknown::Known(Some(owned)) = &mut state.owned_objects {
        owned.insert(
            crate::cluster::objects::ObjectKey::UnfinishedCreate,
            crate::cluster::objects::ObjectStatus::failed(),
        );
    }
    let health = match state.status.value().map(String::as_str) {
        Some("ACTIVE") => "is ACTIVE and healthy".to_string(),
        Some("DELETED") => return,
        Some(status) => format!("exists ({status})"),
        // Made, but the final read failed: the error above says why.
        None if cluster_made => "was created".to_string(),
        None => return,
    };
    d.error(
        format!("EKS cluster {name} {health}; only the steps named above failed"),
        "Terraform marks the resource tainted because its create failed, and the next apply would replace it: a new cluster (about 10 minutes on AWS) and an outage for every hybrid node registered with this one. To keep the cluster, fix the cause above, then run `terraform untaint <address>` (`tofu untaint <address>` with OpenTofu) and apply again: the rest is repaired in place.",
    );
}

async fn update_in_place(
    aws: &AwsClients,
    prior: &ClusterState,
    spec: &ClusterSpec,
    budget: &Budget,
    inv: &Inventory,
) -> Result<(), AwsError> {
    let old = spec_of(prior);
    drop_boundary_if_unset(aws, &old, spec, budget, inv).await?;
    let version_changes = old.kubernetes_version != spec.kubernetes_version;
    let access_changes = (old.endpoint_public_access, old.endpoint_private_access)
        != (spec.endpoint_public_access, spec.endpoint_private_access);
    if !(version_changes || access_changes) {
        return retag_if_changed(aws, prior, inv, &old, spec).await;
    }
    // Against the cluster as EKS shows it now, not the prior state: an update interrupted
    // after EKS took it, or a cluster this apply re-created, already has the new settings,
    // and EKS refuses an update that changes nothing ("No changes detected").
    let Some(cluster) = eks::describe_cluster(&aws.eks, &spec.name).await? else {
        return retag_if_changed(aws, prior, inv, &old, spec).await;
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
    retag_if_changed(aws, prior, inv, &old, spec).await
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
        let r = crate::aws::iam::set_permissions_boundary(&aws.iam, role, None, budget).await;
        crate::aws::ignore_not_found(r)?;
    }
    Ok(())
}

async fn retag_if_changed(
    aws: &AwsClients,
    prior: &ClusterState,
    inv: &Inventory,
    old: &ClusterSpec,
    spec: &ClusterSpec,
) -> Result<(), AwsError> {
    if old.tags == spec.tags {
        return Ok(());
    }
    retag_everything(aws, prior, inv, &owned_tags(old), &owned_tags(spec)).await
}

/// Tags live on every object the resource created, not only on the cluster.
async fn retag_everything(
    aws: &AwsClients,
    prior: &ClusterState,
    inv: &Inventory,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let removed: Vec<String> = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    if let Some(arn) = prior.arn.value() {
        let to_map = |t: &BTreeMap<String, String>| {
            t.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>()
        };
        eks::set_tags(&aws.eks, arn, &to_map(old), &to_map(new)).await?;
    }
    crate::aws::ec2::retag(&aws.ec2, &inv.tagged_ec2_ids(), new, &removed).await?;
    for role in inv.cluster_role_name.iter().chain(&inv.nodes_role_name) {
        crate::aws::iam::retag_role(&aws.iam, role, new, &removed).await?;
    }
    let ra_arns = [
        &prior.remote_nodes_trust_anchor_arn,
        &prior.remote_nodes_anywhere_profile_arn,
    ];
    // A prior ARN whose object is gone: this apply's repair made it anew, with the new tags,
    // under another ARN; or it went after the plan read it, and the next read shows it missing.
    for arn in ra_arns.iter().filter_map(|v| v.value()) {
        crate::aws::ignore_not_found(
            crate::aws::rolesanywhere::retag(&aws.rolesanywhere, arn, new, &removed).await,
        )?;
    }
    Ok(())
}

/// Observes the result so the new state records what really exists; on a failed create the
/// state still carries the inventory for destroy. After a successful apply everything was just
/// made healthy, so anything a read does not show healthy yet is EC2 or IAM still catching
/// up: the read is repeated, within the propagation window, until it shows what was made.
/// Returns the state (None when nothing exists) and the outcome to complete with it.
async fn finish(
    aws: &AwsClients,
    base: &ClusterState,
    inv: Inventory,
    spec: &ClusterSpec,
    mut d: Diagnostics,
    budget: &Budget,
) -> (Option<ClusterState>, Outcome) {
    let settled = budget.within(crate::aws::wait::propagation_window());
    let healthy = !d.has_errors();
    let observed = crate::aws::wait::until("reading what was created", &settled, || async {
        let o = crate::cluster::observe::observe(aws, &inv, spec).await?;
        Ok(if o.all_ok() || !healthy {
            crate::aws::wait::Poll::Ready(o)
        } else {
            crate::aws::wait::Poll::Pending("not visible yet".into())
        })
    })
    .await;
    let observed = match observed {
        Ok(o) => o,
        Err(crate::aws::AwsError::Timeout { .. } | crate::aws::AwsError::Cancelled { .. }) => {
            match crate::cluster::observe::observe(aws, &inv, spec).await {
                Ok(o) => {
                    // Only a plan that showed `owned_objects` promised them all `ok`.
                    if base.owned_objects.value().is_some() {
                        not_yet_visible(&o, &mut d);
                    }
                    o
                }
                Err(e) => {
                    report(vec![e], &mut d);
                    Default::default()
                }
            }
        }
        Err(e) => {
            report(vec![e], &mut d);
            Default::default()
        }
    };
    let state =
        (!(inv.is_empty() && d.has_errors())).then(|| state::build(base, &inv, &observed, spec));
    let mut inv = Inventory {
        written_at_ms: Some(crate::aws::wait::now_unix_ms()),
        ..inv
    };
    observed.record_cluster_created_at(&mut inv);
    let outcome = Outcome::new(Value::Null, inv.to_private(), d);
    (state, outcome)
}

/// Plan promised every object `ok`: when the wait for AWS to show them ended first (the
/// window, the timeout or Ctrl-C), the apply is an error naming what is not visible yet,
/// rather than a state Terraform would refuse as "inconsistent result after apply". A plan
/// shows those objects, and the next apply repairs what remains.
fn not_yet_visible(o: &crate::cluster::observe::Observed, d: &mut Diagnostics) {
    if d.has_errors() {
        return;
    }
    let pending: Vec<String> = o
        .statuses
        .iter()
        .filter(|(_, s)| **s != crate::cluster::objects::ObjectStatus::Ok)
        .map(|(k, s)| format!("{k} ({s})"))
        .collect();
    if !pending.is_empty() {
        d.error(
            "AWS did not show everything as ready before the apply stopped waiting",
            format!(
                "Not ready yet: {}. Plan again to see them; apply repairs what is still not ready.",
                pending.join(", ")
            ),
        );
    }
}

/// The cluster as AWS has it now, for `prior`'s objects: the resource's read, which the data
/// source shares.
pub async fn read_cluster(aws: &AwsClients, prior: &ClusterState, private: &[u8]) -> Outcome {
    let spec = spec_of(prior);
    let mut inv = recorded_inventory(Some(prior), private);
    let mut d = Diagnostics::default();
    match crate::cluster::observe::observe(aws, &inv, &spec).await {
        Ok(o) => {
            o.record_cluster_created_at(&mut inv);
            let nothing_left = o.cluster.is_none()
                && o.statuses
                    .values()
                    .all(|s| *s != crate::cluster::objects::ObjectStatus::Ok);
            let state = if nothing_left {
                Value::Null
            } else {
                let mut state = state::build(prior, &inv, &o, &spec);
                if let Some(at) = o.cluster.as_ref().and_then(eks::created_at) {
                    state.created_at = Unknown::some(at);
                }
                state_value(&state)
            };
            Outcome::new(state, inv.to_private(), d)
        }
        Err(e) => {
            report(vec![e], &mut d);
            Outcome::unchanged(prior.to_value(), private.to_vec(), d)
        }
    }
}

/// Nodes register through SSM activations only with SSM credentials.
pub fn deregisters_nodes(spec: &ClusterSpec) -> bool {
    spec.deregister_nodes_on_destroy
        && spec.remote.provider == crate::cluster::spec::CredentialsProvider::Ssm
}

async fn delete(
    aws: &AwsClients,
    prior: &ClusterState,
    private: &[u8],
    cancel: CancellationToken,
) -> Outcome {
    let spec = spec_of(prior);
    let mut d = Diagnostics::default();
    // Private state is not always handed to a destroy (a tainted object being replaced gets
    // the new plan's), so the objects the public state names are merged in.
    let recorded = held_by(Some(prior), private);
    let found = match crate::cluster::discover::owned_inventory(aws, &spec, recorded).await {
        Ok(inv) => crate::cluster::ownership::leave_other_cluster(aws, inv).await,
        Err(e) => Err(e),
    };
    let (inv, other_cluster) = match found {
        Ok(found) => found,
        Err(e) => {
            report(vec![e], &mut d);
            return Outcome::unchanged(prior.to_value(), private.to_vec(), d);
        }
    };
    if let Some(detail) = &other_cluster {
        d.warning("Kept a cluster this state did not create", detail.clone());
    }
    tracing::debug!(inventory = ?inv, "deleting");
    let budget =
        Budget::new(spec.timeouts.delete, cancel).for_objects_written_at(inv.written_at_ms);
    let nodes_of = prior
        .arn
        .value()
        .filter(|_| deregisters_nodes(&spec) && other_cluster.is_none());
    let nodes_of = nodes_of.map(String::as_str);
    let mut result = crate::cluster::destroy::delete_all(aws, &inv, nodes_of, &budget).await;
    // An object made moments before this destroy (a Ctrl-C, then destroy or replace) can be
    // invisible to its own delete (EC2 eventual consistency) and then holds the VPC. EC2 shows
    // it by now: the VPC's contents are found once more and what was missed is deleted.
    let mut inv = inv;
    if let Err(errors) = result {
        let (held, mut others): (Vec<_>, Vec<_>) =
            errors.into_iter().partition(ec2::is_dependency_violation);
        if !held.is_empty() {
            if let Ok(again) =
                crate::cluster::discover::owned_inventory(aws, &spec, inv.clone()).await
            {
                tracing::debug!(inventory = ?again, "deleting the network once more");
                inv = again;
            }
            others.extend(
                crate::cluster::destroy::delete_network(aws, &inv, &budget)
                    .await
                    .err(),
            );
        }
        result = if others.is_empty() {
            Ok(())
        } else {
            Err(others)
        };
    }
    match result {
        Ok(()) => Outcome::new(Value::Null, Vec::new(), d),
        Err(errors) => {
            report(errors, &mut d);
            Outcome::unchanged(prior.to_value(), inv.to_private(), d)
        }
    }
}
