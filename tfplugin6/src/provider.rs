//! What the provider itself implements: its configuration block. Resources and data sources
//! are registered with the [`crate::Server`] next to it, and reach what `configure` set up
//! through whatever shared handle the provider gives them.

use async_trait::async_trait;

use crate::diag::Diagnostics;
use crate::schema::Schema;
use crate::value::Value;

#[async_trait]
pub trait Provider: Send + Sync {
    fn schema(&self) -> Schema;

    /// Rules across attributes; the schema's validators have already run.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }

    /// Called once per Terraform operation, before any resource call. The configuration may
    /// hold unknown values during plan (when it depends on resources not yet created).
    async fn configure(&self, config: Value) -> Diagnostics;
}
