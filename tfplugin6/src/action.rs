//! What an action implements (protocol 6.10, Terraform 1.14+): an operation Terraform runs
//! on demand (`terraform apply -invoke=action.<type>.<name>`) or when a resource's
//! `lifecycle.action_trigger` fires, with no state of its own. It streams progress lines
//! while it runs and ends with its diagnostics.

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::diag::Diagnostics;
use crate::resource::{ClientCapabilities, Deferral};
use crate::schema::Schema;
use crate::value::Value;

/// One event of an invocation, in the order Terraform shows them: any number of progress
/// lines, then exactly one completion.
#[derive(Debug)]
pub enum ActionEvent {
    Progress(String),
    Completed(Diagnostics),
}

/// Where an invocation sends its progress lines; each reaches the terminal as it is sent.
/// After a stop, none goes out: Terraform 1.14 and 1.15 stop reading their events at the first
/// line after Ctrl-C, yet go on handing the next event to that finished loop, and crash
/// ("range function continued iteration"). So the completion, which says what was done, is
/// the one event after a stop.
pub struct Progress {
    tx: tokio::sync::mpsc::Sender<ActionEvent>,
    stop: CancellationToken,
}

impl Progress {
    pub fn new(tx: tokio::sync::mpsc::Sender<ActionEvent>, stop: CancellationToken) -> Progress {
        Progress { tx, stop }
    }

    /// False once Terraform no longer reads the events, or has asked to stop.
    pub async fn say(&self, message: impl Into<String>) -> bool {
        if self.stop.is_cancelled() {
            return false;
        }
        self.tx
            .send(ActionEvent::Progress(message.into()))
            .await
            .is_ok()
    }
}

/// PlanAction's answer.
#[derive(Default)]
pub struct ActionPlan {
    pub diagnostics: Diagnostics,
    pub deferred: Option<Deferral>,
}

#[async_trait]
pub trait Action: Send + Sync {
    fn type_name(&self) -> &'static str;

    /// The schema of the action block's `config`.
    fn schema(&self) -> Schema;

    /// Rules beyond the schema's validators; values may be unknown.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }

    /// What can be checked before the run; values may be unknown. Runs after validation.
    async fn plan(&self, _config: &Value, _client: ClientCapabilities) -> ActionPlan {
        ActionPlan::default()
    }

    /// Does the work, with a wholly known `config`, saying what it does through `progress`;
    /// returns the diagnostics that complete it. `cancel` fires when Terraform stops the
    /// provider (Ctrl-C).
    async fn invoke(
        &self,
        config: Value,
        progress: &Progress,
        cancel: CancellationToken,
    ) -> Diagnostics;
}
