//! `list "eks_hybrid_cluster"` for `terraform query`: every EKS cluster in the region that has
//! a `remoteNetworkConfig`, whoever made it, with its identity; with
//! `-generate-config-out`, each one's state as import would find it, from which
//! `generate_config` writes configuration that imports with no change.

use tfplugin6::list::{ListRequest, ListSink, Listed};
use tfplugin6::schema::{Attribute, Block, Schema};
use tfplugin6::{async_trait, Diagnostics, ListResource};

use super::{identity, import, TYPE_NAME};
use crate::aws::{eks, AwsClients, AwsResult};
use crate::provider::report::report;
use crate::provider::ProviderData;

const NAME_PREFIX: &str = "name_prefix";

pub struct HybridClusterList {
    data: ProviderData,
}

impl HybridClusterList {
    pub fn new(data: ProviderData) -> HybridClusterList {
        HybridClusterList { data }
    }
}

#[async_trait]
impl ListResource for HybridClusterList {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn config_schema(&self) -> Schema {
        Schema::new(
            Block::new("Lists the EKS clusters of the provider's region that accept hybrid nodes.")
                .attribute(
                    Attribute::string("Only clusters whose name starts with this.")
                        .named(NAME_PREFIX)
                        .optional(),
                ),
        )
    }

    async fn list(&self, req: ListRequest, out: &mut ListSink) {
        let aws = match self.data.aws().await {
            Ok(aws) => aws,
            Err(d) => {
                out.send(Listed::failed(d)).await;
                return;
            }
        };
        let prefix = req.config.get(NAME_PREFIX).as_str().unwrap_or_default();
        let default_tags = self.data.default_tags().await;
        // Each cluster is described (and, with include_resource, imported) and sent before
        // the next is looked at, so the first result shows at once and `limit` saves calls.
        let names = match eks::cluster_names(&aws.eks).await {
            Ok(names) => names,
            Err(e) => return failed(out, e).await,
        };
        for name in names.into_iter().filter(|n| n.starts_with(prefix)) {
            if out.is_done() {
                return;
            }
            let found = match hybrid_cluster(&aws, name).await {
                Ok(Some(found)) => found,
                Ok(None) => continue,
                Err(e) => return failed(out, e).await,
            };
            let entry = listed(&aws, found, req.include_resource, &default_tags).await;
            if !out.send(entry).await {
                return;
            }
        }
    }
}

async fn failed(out: &mut ListSink, e: crate::aws::AwsError) {
    let mut d = Diagnostics::default();
    report(vec![e], &mut d);
    out.send(Listed::failed(d)).await;
}

struct Found {
    name: String,
    arn: String,
    summary: String,
}

/// The cluster `name` when its `remoteNetworkConfig` names remote nodes.
async fn hybrid_cluster(aws: &AwsClients, name: String) -> AwsResult<Option<Found>> {
    let Some(c) = eks::describe_cluster(&aws.eks, &name).await? else {
        return Ok(None); // deleted since it was listed
    };
    let (nodes, _) = crate::cluster::discover::remote_cidrs(&c);
    if nodes.is_empty() {
        return Ok(None);
    }
    Ok(Some(Found {
        summary: format!(
            "{name} (Kubernetes {}, remote nodes {})",
            c.version().unwrap_or("?"),
            nodes.join(", ")
        ),
        arn: c.arn().unwrap_or_default().to_string(),
        name,
    }))
}

async fn listed(
    aws: &AwsClients,
    c: Found,
    include_resource: bool,
    default_tags: &std::collections::BTreeMap<String, String>,
) -> Listed {
    let identity = identity::of_arn(&c.arn).unwrap_or_default();
    if !include_resource {
        return Listed {
            identity,
            display_name: c.summary,
            resource: None,
            diagnostics: Diagnostics::default(),
        };
    }
    let out = import::import(aws, &c.name, default_tags).await;
    if out.diagnostics.has_errors() || out.state.is_null() {
        // Listed without an identity, Terraform shows the warning and skips it.
        let mut d = Diagnostics::default();
        let why: Vec<String> = out.diagnostics.0.iter().map(|x| x.detail.clone()).collect();
        d.warning(
            format!("Cluster {} cannot be imported", c.name),
            why.join("; "),
        );
        return Listed::failed(d);
    }
    Listed {
        identity,
        display_name: c.summary,
        resource: Some(out.state),
        diagnostics: out.diagnostics,
    }
}
