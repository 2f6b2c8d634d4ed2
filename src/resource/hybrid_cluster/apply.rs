//! The Terraform half of create and update: the planned state read as a spec, the domain's
//! graph and in-place updates run (`cluster::apply`), and the result observed and written as
//! the new state, with diagnostics for what failed and how to keep a cluster whose create
//! failed part way.

use tfplugin6::model::ToValue;
use tfplugin6::{Diagnostics, Outcome, Unknown, Value};
use tokio_util::sync::CancellationToken;

use super::convert::{prior_arns, recorded_inventory, spec_of, state_value};
use super::model::ClusterState;
use super::{plan, state};
use crate::aws::wait::{now_unix_ms, Budget};
use crate::aws::{AwsClients, AwsError};
use crate::cluster;
use crate::cluster::apply::settle::observe_settled;
use crate::cluster::apply::update::update_in_place;
use crate::cluster::inventory::Inventory;
use crate::cluster::objects::{ObjectKey, ObjectStatus};
use crate::cluster::observe::Observed;
use crate::cluster::spec::ClusterSpec;
use crate::provider::report::{advise, report};

/// Create (prior None) or update in place, then observe everything once more for the state.
pub async fn apply(
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
        match cluster::observe::observe(aws, &inv, &spec).await {
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
            cluster::ownership::other_cluster_detail(&spec.name, inv.cluster_created_at.as_deref()),
        );
        return unchanged(d, &inv);
    }
    // Before the first write: an object that holds one of our names and is not recorded as
    // ours stops the apply (cluster::ownership).
    let completing_before = prior.is_some_and(plan::is_unfinished);
    let ran = match cluster::apply::run(aws, &spec, observed, inv, completing_before, &budget).await
    {
        Ok(ran) => ran,
        Err((e, inv)) => {
            report(vec![e], &mut d);
            return unchanged(d, &inv);
        }
    };
    if creating {
        report_create(ran.errors, &mut d);
    } else {
        report(ran.errors, &mut d);
    }
    let (inv, new_activation_code) = (ran.inventory, ran.activation_code);
    if let (Some(prior), false) = (prior, d.has_errors()) {
        let old = spec_of(prior);
        let arns = prior_arns(prior);
        if let Err(e) = update_in_place(aws, &old, &spec, &arns, &budget, &inv).await {
            report(vec![e], &mut d);
        }
    }
    let completing = creating || completing_before;
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
            let advice = cluster::vpc_cni::check(aws, &spec.name).await;
            advise(advice, &mut outcome.diagnostics);
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
        owned.insert(ObjectKey::UnfinishedCreate, ObjectStatus::failed());
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
    let healthy = !d.has_errors();
    let observed = match observe_settled(aws, &inv, spec, budget, healthy).await {
        Ok(settled) => {
            // Only a plan that showed `owned_objects` promised them all `ok`.
            if settled.gave_up_waiting && base.owned_objects.value().is_some() {
                not_yet_visible(&settled.observed, &mut d);
            }
            settled.observed
        }
        Err(e) => {
            report(vec![e], &mut d);
            Default::default()
        }
    };
    let state =
        (!(inv.is_empty() && d.has_errors())).then(|| state::build(base, &inv, &observed, spec));
    let mut inv = Inventory {
        written_at_ms: Some(now_unix_ms()),
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
fn not_yet_visible(o: &Observed, d: &mut Diagnostics) {
    if d.has_errors() {
        return;
    }
    let pending: Vec<String> = o
        .statuses
        .iter()
        .filter(|(_, s)| **s != ObjectStatus::Ok)
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
