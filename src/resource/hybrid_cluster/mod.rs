//! The `eks_hybrid_cluster` resource: schema, validation, plan, create, read, update, delete.

pub mod access;
pub mod certs;
pub mod cidr;
pub mod create;
pub mod delete;
pub mod import;
pub mod inventory;
pub mod model;
pub mod names;
pub mod network;
pub mod observe;
pub mod plan;
pub mod policies;
pub mod preflight;
pub mod schema;
pub mod state;
pub mod validate;
pub mod vpc_cni;

use std::collections::{BTreeMap, HashMap};

use tokio_util::sync::CancellationToken;

use crate::aws::wait::Budget;
use crate::aws::{eks, AwsClients, AwsError};
use crate::plugin::{Diagnostics, Value};
use inventory::Inventory;
use model::ClusterSpec;

pub const TYPE_NAME: &str = "eks_hybrid_cluster";

pub struct Outcome {
    pub state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

fn report(errors: Vec<AwsError>, d: &mut Diagnostics) {
    for e in errors {
        d.error(format!("AWS error while {}", e.step()), e.detail());
    }
}

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
    tags.insert(names::OWNERSHIP_TAG.to_string(), spec.name.clone());
    tags
}

/// Create (prior null) or update in place, then observe everything once more for the state.
pub async fn apply(
    aws: &AwsClients,
    prior: &Value,
    planned: &Value,
    private: &[u8],
    cancel: CancellationToken,
) -> Outcome {
    let spec = ClusterSpec::from_value(planned);
    let creating = prior.is_null();
    let timeout = if creating {
        spec.timeouts.create
    } else {
        spec.timeouts.update
    };
    let budget = Budget::new(timeout, cancel);
    let inv = Inventory::from_private(private);
    let mut d = Diagnostics::default();

    let observed = if creating {
        Default::default()
    } else {
        match observe::observe(aws, &inv, &spec).await {
            Ok(o) => o,
            Err(e) => {
                report(vec![e], &mut d);
                return Outcome {
                    state: prior.clone(),
                    private: inv.to_private(),
                    diagnostics: d,
                };
            }
        }
    };
    let id = match create::identity(aws).await {
        Ok(id) => id,
        Err(e) => {
            report(vec![e], &mut d);
            let state = if creating { Value::Null } else { prior.clone() };
            return Outcome {
                state,
                private: inv.to_private(),
                diagnostics: d,
            };
        }
    };
    let tags = owned_tags(&spec);
    let ctx = create::Ctx::new(aws, &spec, id, budget.clone(), tags, observed, inv);
    if let Err(errors) = create::ensure_all(&ctx).await {
        if creating {
            report_create(errors, &mut d);
        } else {
            report(errors, &mut d);
        }
    }
    let (inv, new_activation_code) = ctx.finish();
    if !creating && !d.has_errors() {
        if let Err(e) = update_in_place(aws, prior, &spec, &budget, &inv).await {
            report(vec![e], &mut d);
        }
    }
    let mut outcome = finish(aws, planned, inv, &spec, d, &budget).await;
    if let Some(code) = new_activation_code {
        state::set_activation_code(&mut outcome.state, &code);
    }
    if outcome.state.get("status").as_str() == Some("ACTIVE") {
        outcome
            .diagnostics
            .extend(vpc_cni::check(aws, &spec.name).await);
    }
    outcome
}

async fn update_in_place(
    aws: &AwsClients,
    prior: &Value,
    spec: &ClusterSpec,
    budget: &Budget,
    inv: &Inventory,
) -> Result<(), AwsError> {
    let old = ClusterSpec::from_value(prior);
    if let (Some(old_v), Some(new_v)) = (&old.kubernetes_version, &spec.kubernetes_version) {
        if old_v != new_v {
            eks::update_version(&aws.eks, &spec.name, new_v, budget).await?;
        }
    }
    if (old.endpoint_public_access, old.endpoint_private_access)
        != (spec.endpoint_public_access, spec.endpoint_private_access)
    {
        eks::update_endpoint_access(
            &aws.eks,
            &spec.name,
            spec.endpoint_public_access,
            spec.endpoint_private_access,
            budget,
        )
        .await?;
    }
    if old.tags != spec.tags {
        retag_everything(aws, prior, inv, &owned_tags(&old), &owned_tags(spec)).await?;
    }
    Ok(())
}

/// Tags live on every object the resource created, not only on the cluster.
async fn retag_everything(
    aws: &AwsClients,
    prior: &Value,
    inv: &Inventory,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let removed: Vec<String> = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    if let Some(arn) = prior.get("arn").as_str() {
        let to_map = |t: &BTreeMap<String, String>| {
            t.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>()
        };
        eks::set_tags(&aws.eks, arn, &to_map(old), &to_map(new)).await?;
    }
    let mut ec2_ids: Vec<String> = Vec::new();
    if inv.vpc_owned {
        ec2_ids.extend(inv.vpc_id.iter().cloned());
        ec2_ids.extend(
            inv.public_subnet_ids
                .iter()
                .chain(&inv.private_subnet_ids)
                .cloned(),
        );
        ec2_ids.extend(
            inv.internet_gateway_id
                .iter()
                .chain(&inv.public_route_table_id)
                .cloned(),
        );
        ec2_ids.extend(
            inv.private_route_table_ids
                .iter()
                .chain(&inv.nat_gateway_ids)
                .chain(&inv.eip_allocation_ids)
                .cloned(),
        );
    }
    ec2_ids.extend(inv.control_plane_security_group_id.iter().cloned());
    if let Some(model::Gateway::Transit(_)) = inv.gateway() {
        ec2_ids.extend(inv.gateway_attachment_id.iter().cloned());
    }
    crate::aws::ec2::retag(&aws.ec2, &ec2_ids, new, &removed).await?;
    for role in inv.cluster_role_name.iter().chain(&inv.nodes_role_name) {
        crate::aws::iam::retag_role(&aws.iam, role, new, &removed).await?;
    }
    let ra_arns = [
        prior.get("remote_nodes_trust_anchor_arn"),
        prior.get("remote_nodes_anywhere_profile_arn"),
    ];
    for arn in ra_arns.iter().filter_map(|v| v.as_str()) {
        crate::aws::rolesanywhere::retag(&aws.rolesanywhere, arn, new, &removed).await?;
    }
    Ok(())
}

/// Observes the result so the new state records what really exists; on a failed create the
/// state still carries the inventory for destroy. After a successful apply everything was just
/// made healthy, so anything a read does not show healthy yet is EC2 or IAM still catching
/// up: the read is repeated, within the propagation window, until it shows what was made.
async fn finish(
    aws: &AwsClients,
    base: &Value,
    inv: Inventory,
    spec: &ClusterSpec,
    mut d: Diagnostics,
    budget: &Budget,
) -> Outcome {
    let settled = budget.within(crate::aws::wait::propagation_window());
    let healthy = !d.has_errors();
    let observed = crate::aws::wait::until("reading what was created", &settled, || async {
        let o = observe::observe(aws, &inv, spec).await?;
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
            match observe::observe(aws, &inv, spec).await {
                Ok(o) => o,
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
    let state = if inv.is_empty() && d.has_errors() {
        Value::Null
    } else {
        state::build(base, &inv, &observed, spec)
    };
    Outcome {
        state,
        private: inv.to_private(),
        diagnostics: d,
    }
}

pub async fn read(aws: &AwsClients, prior: &Value, private: &[u8]) -> Outcome {
    let spec = ClusterSpec::from_value(prior);
    let inv = Inventory::from_private(private);
    let mut d = Diagnostics::default();
    match observe::observe(aws, &inv, &spec).await {
        Ok(o) => {
            let nothing_left =
                o.cluster.is_none() && o.statuses.values().all(|s| *s != observe::Status::Ok);
            let state = if nothing_left {
                Value::Null
            } else {
                state::build(prior, &inv, &o, &spec)
            };
            Outcome {
                state,
                private: inv.to_private(),
                diagnostics: d,
            }
        }
        Err(e) => {
            report(vec![e], &mut d);
            Outcome {
                state: prior.clone(),
                private: private.to_vec(),
                diagnostics: d,
            }
        }
    }
}

pub async fn delete(
    aws: &AwsClients,
    prior: &Value,
    private: &[u8],
    cancel: CancellationToken,
) -> Outcome {
    let spec = ClusterSpec::from_value(prior);
    let mut d = Diagnostics::default();
    let recorded = Inventory::from_private(private);
    // Private state is not always handed to a destroy (a tainted object being replaced gets
    // the new plan's), so what carries our ownership tag or names is found and merged in.
    let inv = match import::discover_inventory(aws, &spec).await {
        Ok(found) => inventory::merge(recorded, found),
        Err(e) => {
            report(vec![e], &mut d);
            return Outcome {
                state: prior.clone(),
                private: private.to_vec(),
                diagnostics: d,
            };
        }
    };
    tracing::debug!(inventory = ?inv, "deleting");
    let budget = Budget::new(spec.timeouts.delete, cancel);
    match delete::delete_all(aws, &inv, &budget).await {
        Ok(()) => Outcome {
            state: Value::Null,
            private: Vec::new(),
            diagnostics: d,
        },
        Err(errors) => {
            report(errors, &mut d);
            Outcome {
                state: prior.clone(),
                private: inv.to_private(),
                diagnostics: d,
            }
        }
    }
}
