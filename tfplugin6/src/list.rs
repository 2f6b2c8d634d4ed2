//! What a list resource implements: the instances of a managed resource type that exist,
//! for `terraform query` (protocol 6.9+).

use async_trait::async_trait;

use crate::diag::Diagnostics;
use crate::schema::Schema;
use crate::value::Value;

pub struct ListRequest {
    /// The `list` block's `config`, of `config_schema`'s shape.
    pub config: Value,
    /// Whether Terraform wants each instance's full state (`-generate-config-out`).
    pub include_resource: bool,
    pub limit: i64,
}

/// One instance found.
pub struct Listed {
    /// Of the managed resource's identity schema.
    pub identity: Value,
    pub display_name: String,
    /// The full state, when asked for.
    pub resource: Option<Value>,
    pub diagnostics: Diagnostics,
}

impl Listed {
    /// An entry that carries only why the listing stopped.
    pub fn failed(diagnostics: Diagnostics) -> Listed {
        Listed {
            identity: Value::Null,
            display_name: String::new(),
            resource: None,
            diagnostics,
        }
    }
}

/// Where a list resource sends what it finds, one at a time, as it finds it: Terraform
/// shows each result as it arrives. It counts toward the request's `limit`.
pub struct ListSink {
    tx: tokio::sync::mpsc::Sender<Listed>,
    remaining: usize,
    stop: tokio_util::sync::CancellationToken,
}

impl ListSink {
    pub fn new(
        tx: tokio::sync::mpsc::Sender<Listed>,
        limit: usize,
        stop: tokio_util::sync::CancellationToken,
    ) -> ListSink {
        ListSink {
            tx,
            remaining: limit,
            stop,
        }
    }

    /// Whether to stop looking: the limit is reached, Terraform stopped the provider or no
    /// longer reads the results.
    pub fn is_done(&self) -> bool {
        self.remaining == 0 || self.stop.is_cancelled() || self.tx.is_closed()
    }

    /// Sends one result (one that carries only diagnostics does not count toward the limit);
    /// false when the listing should stop.
    pub async fn send(&mut self, listed: Listed) -> bool {
        if self.is_done() {
            return false;
        }
        let counts = !listed.identity.is_null();
        if self.tx.send(listed).await.is_err() {
            return false;
        }
        if counts {
            self.remaining -= 1;
        }
        !self.is_done()
    }
}

#[async_trait]
pub trait ListResource: Send + Sync {
    /// The managed resource type it lists.
    fn type_name(&self) -> &'static str;

    /// The schema of the `list` block's `config`.
    fn config_schema(&self) -> Schema;

    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }

    /// Sends each instance to `out` as it is found, until `out` says to stop; a listing that
    /// fails part way ends with an entry that carries only diagnostics.
    async fn list(&self, req: ListRequest, out: &mut ListSink);
}
