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

#[async_trait]
pub trait ListResource: Send + Sync {
    /// The managed resource type it lists.
    fn type_name(&self) -> &'static str;

    /// The schema of the `list` block's `config`.
    fn config_schema(&self) -> Schema;

    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }

    /// The instances, at most `limit`; a listing that fails part way ends with an entry that
    /// carries only diagnostics.
    async fn list(&self, req: ListRequest) -> Vec<Listed>;
}
