//! The `eks` provider: its configuration, the AWS clients it yields (shared with every
//! resource through [`ProviderData`]), and the registry of what it serves.

pub mod config;

use std::collections::BTreeMap;
use std::sync::Arc;

use tfplugin6::{async_trait, Diagnostics, Schema, Server, Value};
use tokio::sync::RwLock;

use crate::action::nodes_deregister::NodesDeregister;
use crate::aws::AwsClients;
use crate::data_source::hybrid_cluster::HybridClusterData;
use crate::ephemeral::hybrid_activation::HybridActivation;
use crate::function::bottlerocket_settings::BottlerocketSettings;
use crate::function::cilium_values::CiliumValues;
use crate::function::node_config::NodeConfig;
use crate::resource::hybrid_cluster::list::HybridClusterList;
use crate::resource::hybrid_cluster::HybridCluster;

/// Everything the provider serves. A new resource or data source is one more line here.
pub fn server() -> Server {
    let data = ProviderData::default();
    Server::new(EksProvider { data: data.clone() })
        .resource(HybridCluster::new(data.clone()))
        .list_resource(HybridClusterList::new(data.clone()))
        .data_source(HybridClusterData::new(data.clone()))
        .ephemeral_resource(HybridActivation::new(data.clone()))
        .action(NodesDeregister::new(data))
        .function(NodeConfig)
        .function(BottlerocketSettings)
        .function(CiliumValues)
}

#[derive(Default)]
struct Configured {
    /// None while the provider configuration still has unknown values (plan only).
    aws: Option<AwsClients>,
    default_tags: BTreeMap<String, String>,
    default_tags_known: bool,
}

/// What `configure` set up, as resources and data sources see it.
#[derive(Clone, Default)]
pub struct ProviderData(Arc<RwLock<Configured>>);

impl ProviderData {
    /// The AWS clients, or an error to show when the configuration is not known yet.
    pub async fn aws(&self) -> Result<AwsClients, Diagnostics> {
        self.aws_if_known().await.ok_or_else(|| {
            let mut d = Diagnostics::default();
            d.error(
                "Provider not configured",
                "The eks provider's configuration is not known yet; apply what it depends on first.",
            );
            d
        })
    }

    /// The AWS clients when the configuration is known (at plan it may not be).
    pub async fn aws_if_known(&self) -> Option<AwsClients> {
        self.0.read().await.aws.clone()
    }

    pub async fn default_tags(&self) -> BTreeMap<String, String> {
        self.0.read().await.default_tags.clone()
    }

    /// The default tags, or None while any of them is unknown (plan only).
    pub async fn default_tags_if_known(&self) -> Option<BTreeMap<String, String>> {
        let c = self.0.read().await;
        c.default_tags_known.then(|| c.default_tags.clone())
    }
}

pub struct EksProvider {
    data: ProviderData,
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
        tracing::debug!(region = ?parsed.region, known = aws.is_some(), "provider configured");
        *self.data.0.write().await = Configured {
            aws,
            default_tags: parsed.default_tags,
            default_tags_known: parsed.default_tags_known,
        };
        d
    }
}
