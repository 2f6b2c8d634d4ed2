//! Creating a cluster and repairing it in place: the graph of steps (`graph`), their shared
//! context (`Ctx`), the network and access steps, the updates the graph does not make
//! (`update`), and the read that waits for AWS to show what was made (`settle`).

pub mod access;
pub mod context;
pub mod graph;
pub mod network;
pub mod settle;
pub mod update;

pub use context::Ctx;

use crate::aws::wait::Budget;
use crate::aws::{AwsClients, AwsError};
use crate::cluster::inventory::Inventory;
use crate::cluster::observe::Observed;
use crate::cluster::spec::ClusterSpec;

/// What the graph did: the inventory it leaves (every ID recorded the moment AWS returned
/// it, so a failure loses none), a new activation's code, and the steps that failed.
pub struct Ran {
    pub inventory: Inventory,
    pub activation_code: Option<String>,
    pub errors: Vec<AwsError>,
}

/// Makes or repairs everything `spec` asks for, from `inv` (what this state recorded) and
/// `observed` (what a read found: empty for a create). Before the first write, an object
/// that holds one of our names and is not recorded as ours stops it (`ownership`), and the
/// caller's account and partition are read for the ARNs.
pub async fn run(
    aws: &AwsClients,
    spec: &ClusterSpec,
    observed: Observed,
    inv: Inventory,
    completing: bool,
    budget: &Budget,
) -> Result<Ran, (AwsError, Inventory)> {
    let (id, foreign) = tokio::join!(
        crate::aws::sts::caller(aws),
        crate::cluster::ownership::refuse_foreign(aws, spec, &inv)
    );
    let id = match foreign.and(id) {
        Ok(id) => id,
        Err(e) => return Err((e, inv)),
    };
    let tags = spec.tags_with_ownership();
    let mut ctx = Ctx::new(aws, spec, id, budget.clone(), tags, observed, inv);
    ctx.completing = completing;
    let errors = graph::ensure_all(&ctx).await.err().unwrap_or_default();
    let (inventory, activation_code) = ctx.finish();
    Ok(Ran {
        inventory,
        activation_code,
        errors,
    })
}
