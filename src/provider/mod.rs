//! The `eks` provider: its configuration block, and the AWS clients and default tags it
//! hands every kind through [`ProviderData`]. What every kind shares lives here too: turning
//! AWS errors into diagnostics (`report`) and attribute rules (`rules`).

pub mod config;
pub mod data;
pub mod report;
pub mod rules;

use tfplugin6::{async_trait, Diagnostics, Schema, Value};

pub use data::ProviderData;

pub struct EksProvider {
    data: ProviderData,
}

impl EksProvider {
    pub fn new(data: ProviderData) -> EksProvider {
        EksProvider { data }
    }
}

#[async_trait]
impl tfplugin6::Provider for EksProvider {
    fn schema(&self) -> Schema {
        config::schema()
    }

    async fn configure(&self, config: Value) -> Diagnostics {
        let mut d = Diagnostics::default();
        let model = match tfplugin6::model::read::<config::ProviderModel>(&config) {
            Ok(m) => m,
            Err(e) => {
                d.error("Invalid provider configuration", e.to_string());
                return d;
            }
        };
        let parsed = config::ProviderConfig::from_model(&model);
        let aws = if config.is_wholly_known() {
            Some(parsed.connect().await)
        } else {
            None
        };
        tracing::debug!(region = ?parsed.aws.region, known = aws.is_some(), "provider configured");
        self.data
            .set(data::Configured {
                aws,
                default_tags: parsed.default_tags,
                default_tags_known: parsed.default_tags_known,
            })
            .await;
        d
    }
}
