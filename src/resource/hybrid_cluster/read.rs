//! Read: what the state records, observed on AWS (`cluster::observe`), written back with
//! each owned object's status, so drift shows in the plan.

use tfplugin6::model::ToValue;
use tfplugin6::{Diagnostics, Outcome, Unknown, Value};

use super::convert::{recorded_inventory, spec_of, state_value};
use super::model::ClusterState;
use super::state;
use crate::aws::{eks, AwsClients};
use crate::cluster::objects::ObjectStatus;
use crate::cluster::observe::observe;
use crate::provider::report::report;

/// The cluster as AWS has it now, for `prior`'s objects: the resource's read, which the data
/// source shares.
pub async fn read_cluster(aws: &AwsClients, prior: &ClusterState, private: &[u8]) -> Outcome {
    let spec = spec_of(prior);
    let mut inv = recorded_inventory(Some(prior), private);
    let mut d = Diagnostics::default();
    match observe(aws, &inv, &spec).await {
        Ok(o) => {
            o.record_cluster_created_at(&mut inv);
            let nothing_left =
                o.cluster.is_none() && o.statuses.values().all(|s| *s != ObjectStatus::Ok);
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
