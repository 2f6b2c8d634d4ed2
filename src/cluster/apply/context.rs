//! What every step of the apply graph shares: the clients, the spec, the inventory it
//! records into and the errors it keeps for the report.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;

use tokio::sync::Semaphore;

use crate::aws::sts::CallerIdentity;
use crate::aws::wait::Budget;
use crate::aws::{AwsClients, AwsError, AwsResult};
use crate::cluster::inventory::Inventory;
use crate::cluster::observe::Observed;
use crate::cluster::spec::ClusterSpec;

pub struct Ctx<'a> {
    pub aws: &'a AwsClients,
    pub spec: &'a ClusterSpec,
    pub id: CallerIdentity,
    pub budget: Budget,
    /// tags_all plus the ownership tag.
    pub tags: BTreeMap<String, String>,
    pub observed: Observed,
    /// Completing a create that failed part way (after `terraform untaint`): follow-ups of
    /// recorded objects may never have run.
    pub completing: bool,
    inv: Mutex<Inventory>,
    errors: Mutex<Vec<AwsError>>,
    /// The code of an SSM activation made by this apply: AWS shows it only once.
    new_activation_code: Mutex<Option<String>>,
    /// One permit in sequential mode: a step holds it while it talks to AWS.
    gate: Option<Semaphore>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        aws: &'a AwsClients,
        spec: &'a ClusterSpec,
        id: CallerIdentity,
        budget: Budget,
        tags: BTreeMap<String, String>,
        observed: Observed,
        inv: Inventory,
    ) -> Ctx<'a> {
        let sequential = std::env::var("TF_EKS_SEQUENTIAL_CREATE").is_ok_and(|v| v == "1");
        Ctx {
            aws,
            spec,
            id,
            budget,
            tags,
            observed,
            completing: false,
            inv: Mutex::new(inv),
            errors: Mutex::new(Vec::new()),
            new_activation_code: Mutex::new(None),
            gate: sequential.then(|| Semaphore::new(1)),
        }
    }

    /// The inventory, and the code of an SSM activation this apply created.
    pub fn finish(self) -> (Inventory, Option<String>) {
        (
            self.inv.into_inner().expect("inventory lock"),
            self.new_activation_code.into_inner().expect("code lock"),
        )
    }

    pub(super) fn keep_activation_code(&self, code: Option<String>) {
        *self.new_activation_code.lock().expect("code lock") = code;
    }

    pub(super) fn take_errors(&self) -> Vec<AwsError> {
        std::mem::take(&mut *self.errors.lock().expect("errors lock"))
    }

    pub fn record(&self, f: impl FnOnce(&mut Inventory)) {
        f(&mut self.inv.lock().expect("inventory lock"));
    }

    pub fn inv(&self) -> Inventory {
        self.inv.lock().expect("inventory lock").clone()
    }

    pub fn cluster_arn(&self) -> String {
        format!(
            "arn:{}:eks:{}:{}:cluster/{}",
            self.id.partition, self.aws.region, self.id.account, self.spec.name
        )
    }

    /// Runs one step of the graph. Its error is kept for the report; `None` tells the steps
    /// that depend on it to skip.
    pub(super) async fn run<T>(&self, step: impl Future<Output = AwsResult<T>>) -> Option<T> {
        let _permit = match &self.gate {
            Some(gate) => Some(gate.acquire().await.expect("the gate is never closed")),
            None => None,
        };
        match step.await {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.lock().expect("errors lock").push(e);
                None
            }
        }
    }

    /// Independent calls inside one step: concurrent, or one by one in sequential mode. The
    /// first error is returned, the others kept for the report.
    pub async fn each<T, F>(&self, calls: impl IntoIterator<Item = F>) -> AwsResult<Vec<T>>
    where
        F: Future<Output = AwsResult<T>>,
    {
        let (out, mut errors) = run_every(calls, self.gate.is_some()).await;
        if errors.is_empty() {
            return Ok(out);
        }
        let first = errors.remove(0);
        self.errors.lock().expect("errors lock").extend(errors);
        Err(first)
    }
}

/// Runs every call to its end even when another failed: dropping a call whose create
/// request is in flight would lose the ID of what AWS then makes (a Ctrl-C stops the others
/// at their next wait anyway). One by one, the first failure ends the run.
async fn run_every<T, F>(
    calls: impl IntoIterator<Item = F>,
    one_by_one: bool,
) -> (Vec<T>, Vec<AwsError>)
where
    F: Future<Output = AwsResult<T>>,
{
    let results = if one_by_one {
        let mut results = Vec::new();
        for call in calls {
            let r = call.await;
            let failed = r.is_err();
            results.push(r);
            if failed {
                break;
            }
        }
        results
    } else {
        futures::future::join_all(calls).await
    };
    let mut values = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(v) => values.push(v),
            Err(e) => errors.push(e),
        }
    }
    (values, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::{BoxFuture, FutureExt};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn a_call_in_flight_runs_to_its_end_when_another_fails() {
        let created = AtomicBool::new(false);
        let cancelled = async {
            Err(AwsError::Cancelled {
                step: "creating route".into(),
            })
        };
        let in_flight = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            created.store(true, Ordering::SeqCst);
            Ok(())
        };
        let calls: Vec<BoxFuture<'_, AwsResult<()>>> = vec![cancelled.boxed(), in_flight.boxed()];
        let (values, errors) = run_every(calls, false).await;
        assert!(
            created.load(Ordering::SeqCst),
            "the second call was dropped"
        );
        assert_eq!((values.len(), errors.len()), (1, 1));
    }
}
