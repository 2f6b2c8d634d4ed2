//! What a data source implements: read the configuration's object from the world.

use async_trait::async_trait;

use crate::diag::Diagnostics;
use crate::resource::Outcome;
use crate::schema::Schema;
use crate::value::Value;

#[async_trait]
pub trait DataSource: Send + Sync {
    /// The full type name, `<provider>_<name>`.
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Rules across attributes; the schema's validators have already run.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }

    /// The object the configuration names, as a value of the schema's shape.
    async fn read(&self, config: Value) -> Outcome;
}
