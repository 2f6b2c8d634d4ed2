//! `data "eks_hybrid_cluster"`: one cluster by name, whoever made it, with what its hybrid
//! nodes need (remote networks, the nodes role, trust anchor and profile, `node_config`,
//! endpoint and CA), so node provisioning can live in another state than the cluster's.
//! The domain finds the cluster (`cluster::discover`) and reads what it owns
//! (`cluster::observe`); this only shapes the answer.

use tfplugin6::model::ToValue;
use tfplugin6::schema::{Attribute, Schema, Type};
use tfplugin6::{async_trait, DataSource, Diagnostics, Outcome, Unknown, Value};

use crate::cluster::discover::{discover, Discovered};
use crate::cluster::node_config::node_config;
use crate::cluster::observe::{observe, Observed};
use crate::cluster::spec::CredentialsProvider;
use crate::provider::report::report;
use crate::provider::rules;
use crate::provider::ProviderData;

/// The type's name, as the resource's: data and resource describe the same cluster.
const TYPE_NAME: &str = "eks_hybrid_cluster";

fn computed(description: &str) -> Attribute {
    Attribute::string(description).computed()
}

fn cidrs(description: &str) -> Attribute {
    Attribute::of(Type::list_of_strings(), description).computed()
}

tfplugin6::object! {
    /// An EKS cluster that accepts hybrid nodes, read by name.
    pub struct ClusterData {
        #[attr(Attribute::string("Name of the EKS cluster.").required().validator(rules::cluster_name()))]
        pub name: Unknown<String>,
        #[attr(computed("ARN of the cluster."))]
        pub arn: Unknown<Option<String>>,
        #[attr(computed("API server endpoint."))]
        pub endpoint: Unknown<Option<String>>,
        #[attr(computed("Base64 CA certificate of the cluster."))]
        pub certificate_authority_data: Unknown<Option<String>>,
        #[attr(computed("Kubernetes minor version."))]
        pub kubernetes_version: Unknown<Option<String>>,
        #[attr(computed("Cluster status."))]
        pub status: Unknown<Option<String>>,
        #[attr(computed("When EKS created the cluster (RFC 3339, UTC)."))]
        pub created_at: Unknown<Option<String>>,
        #[attr(computed("Kubernetes service CIDR."))]
        pub service_ipv4_cidr: Unknown<Option<String>>,
        #[attr(computed("VPC of the cluster."))]
        pub vpc_id: Unknown<Option<String>>,
        #[attr(cidrs("CIDRs of the remote node networks."))]
        pub remote_node_cidrs: Unknown<Option<Vec<String>>>,
        #[attr(cidrs("CIDRs of the remote pod networks."))]
        pub remote_pod_cidrs: Unknown<Option<Vec<String>>>,
        #[attr(computed("How hybrid nodes get credentials: `SSM` or `IRA`."))]
        pub credentials_provider: Unknown<Option<String>>,
        #[attr(computed("IAM role the hybrid nodes assume."))]
        pub remote_nodes_role_arn: Unknown<Option<String>>,
        #[attr(computed("IAM Roles Anywhere trust anchor, when the provider made it."))]
        pub remote_nodes_trust_anchor_arn: Unknown<Option<String>>,
        #[attr(computed("IAM Roles Anywhere profile, when the provider made it."))]
        pub remote_nodes_anywhere_profile_arn: Unknown<Option<String>>,
        #[attr(computed("A nodeadm `NodeConfig` (YAML) for the hybrid nodes, as the resource's."))]
        pub node_config: Unknown<Option<String>>,
    }
}

pub struct HybridClusterData {
    data: ProviderData,
}

impl HybridClusterData {
    pub fn new(data: ProviderData) -> HybridClusterData {
        HybridClusterData { data }
    }
}

#[async_trait]
impl DataSource for HybridClusterData {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        use tfplugin6::model::Object;
        Schema::new(ClusterData::schema_block())
    }

    async fn read(&self, config: Value) -> Outcome {
        let fail = |d| Outcome::unchanged(Value::Null, vec![], d);
        let aws = match self.data.aws().await {
            Ok(aws) => aws,
            Err(d) => return fail(d),
        };
        let Some(name) = config.get(ClusterData::name).as_str() else {
            return fail(Diagnostics::default());
        };
        let mut d = Diagnostics::default();
        let found = match discover(&aws, name).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                d.error(
                    "Cannot read eks_hybrid_cluster",
                    format!("No EKS cluster named {name:?} exists in this account and region."),
                );
                return fail(d);
            }
            Err(e) => {
                report(vec![e], &mut d);
                return fail(d);
            }
        };
        match observe(&aws, &found.inventory, &found.spec).await {
            Ok(seen) => Outcome::new(view(&found, &seen).to_value(), vec![], d),
            Err(e) => {
                report(vec![e], &mut d);
                fail(d)
            }
        }
    }
}

fn text(v: Option<&str>) -> Unknown<Option<String>> {
    Unknown::Known(v.map(str::to_string))
}

/// What the data source shows of a cluster as found and as read.
fn view(found: &Discovered, seen: &Observed) -> ClusterData {
    let (spec, inv) = (&found.spec, &found.inventory);
    let cluster = seen.cluster.as_ref().unwrap_or(&found.cluster);
    let nodes_role = spec.remote.role_arn.clone().or(seen.nodes_role_arn.clone());
    let region = cluster
        .arn()
        .and_then(|arn| arn.split(':').nth(3))
        .unwrap_or_default();
    let ira = (
        seen.trust_anchor_arn.clone(),
        seen.profile_arn.clone(),
        nodes_role.clone(),
    );
    ClusterData {
        name: Unknown::Known(spec.name.clone()),
        arn: text(cluster.arn()),
        endpoint: text(cluster.endpoint()),
        certificate_authority_data: text(cluster.certificate_authority().and_then(|a| a.data())),
        kubernetes_version: text(cluster.version()),
        status: text(cluster.status().map(|s| s.as_str())),
        created_at: Unknown::Known(crate::aws::eks::created_at(cluster)),
        service_ipv4_cidr: Unknown::Known(spec.service_ipv4_cidr.clone()),
        vpc_id: Unknown::Known(inv.vpc_id.clone()),
        remote_node_cidrs: Unknown::some(spec.remote.node_cidrs.clone()),
        remote_pod_cidrs: Unknown::some(spec.remote.pod_cidrs.clone()),
        credentials_provider: Unknown::some(
            match spec.remote.provider {
                CredentialsProvider::Ssm => "SSM",
                CredentialsProvider::Ira => "IRA",
            }
            .to_string(),
        ),
        remote_nodes_role_arn: Unknown::Known(nodes_role),
        remote_nodes_trust_anchor_arn: Unknown::Known(seen.trust_anchor_arn.clone()),
        remote_nodes_anywhere_profile_arn: Unknown::Known(seen.profile_arn.clone()),
        node_config: Unknown::some(node_config(spec, region, ira)),
    }
}
