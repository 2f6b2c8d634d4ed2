//! After an apply everything was just made healthy, so anything a read does not show healthy
//! yet is EC2 or IAM still catching up: the read is repeated, within the propagation window,
//! until it shows what was made.

use crate::aws::wait::{self, Budget, Poll};
use crate::aws::{AwsClients, AwsError};
use crate::cluster::inventory::Inventory;
use crate::cluster::observe::{observe, Observed};
use crate::cluster::spec::ClusterSpec;

/// The last read, and whether it came before everything showed healthy (the window, the
/// timeout or Ctrl-C ended the wait).
pub struct Settled {
    pub observed: Observed,
    pub gave_up_waiting: bool,
}

/// Reads until every object shows healthy; with `healthy` false (the apply failed) once.
pub async fn observe_settled(
    aws: &AwsClients,
    inv: &Inventory,
    spec: &ClusterSpec,
    budget: &Budget,
    healthy: bool,
) -> Result<Settled, AwsError> {
    let window = budget.within(wait::propagation_window());
    let waited = wait::until("reading what was created", &window, || async {
        let o = observe(aws, inv, spec).await?;
        Ok(if o.all_ok() || !healthy {
            Poll::Ready(o)
        } else {
            Poll::Pending("not visible yet".into())
        })
    })
    .await;
    match waited {
        Ok(observed) => Ok(Settled {
            observed,
            gave_up_waiting: false,
        }),
        Err(AwsError::Timeout { .. } | AwsError::Cancelled { .. }) => {
            observe(aws, inv, spec).await.map(|observed| Settled {
                observed,
                gave_up_waiting: true,
            })
        }
        Err(e) => Err(e),
    }
}
