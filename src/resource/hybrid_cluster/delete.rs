//! The Terraform half of destroy: what the state holds (its private inventory and what its
//! public attributes name, since a tainted object's destroy gets no private state), handed to
//! the domain's destroy (`cluster::destroy`).

use tfplugin6::model::ToValue;
use tfplugin6::{Diagnostics, Outcome, Value};
use tokio_util::sync::CancellationToken;

use super::convert::{held_by, spec_of};
use super::model::ClusterState;
use crate::aws::wait::Budget;
use crate::aws::AwsClients;
use crate::cluster::destroy::destroy;
use crate::provider::report::report;

pub async fn delete(
    aws: &AwsClients,
    prior: &ClusterState,
    private: &[u8],
    cancel: CancellationToken,
) -> Outcome {
    let spec = spec_of(prior);
    let mut d = Diagnostics::default();
    let recorded = held_by(Some(prior), private);
    let budget = Budget::new(spec.timeouts.delete, cancel);
    let cluster_arn = prior.arn.value().map(String::as_str);
    let destroyed = match destroy(aws, &spec, recorded, cluster_arn, &budget).await {
        Ok(destroyed) => destroyed,
        Err(e) => {
            report(vec![e], &mut d);
            return Outcome::unchanged(prior.to_value(), private.to_vec(), d);
        }
    };
    if let Some(detail) = &destroyed.kept_other_cluster {
        d.warning("Kept a cluster this state did not create", detail.clone());
    }
    match destroyed.result {
        Ok(()) => Outcome::new(Value::Null, Vec::new(), d),
        Err(errors) => {
            report(errors, &mut d);
            Outcome::unchanged(prior.to_value(), destroyed.inventory.to_private(), d)
        }
    }
}
