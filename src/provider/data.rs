//! What `configure` sets up and every kind reads: the AWS clients and the default tags.

use std::collections::BTreeMap;
use std::sync::Arc;

use tfplugin6::Diagnostics;
use tokio::sync::RwLock;

use crate::aws::AwsClients;

#[derive(Default)]
pub struct Configured {
    /// None while the provider configuration still has unknown values (plan only).
    pub aws: Option<AwsClients>,
    pub default_tags: BTreeMap<String, String>,
    pub default_tags_known: bool,
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

    pub async fn set(&self, configured: Configured) {
        *self.0.write().await = configured;
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
