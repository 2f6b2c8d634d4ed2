//! `data "eks_hybrid_cluster"`: one cluster by name, whoever made it, with what its hybrid
//! nodes need (remote networks, the nodes role, trust anchor and profile, `node_config`,
//! endpoint and CA), so node provisioning can live in another state than the cluster's.
//! It finds the cluster as import does and reads it as the resource does.

use tfplugin6::model::{read as read_model, ToValue};
use tfplugin6::schema::{Attribute, Schema, Type};
use tfplugin6::{async_trait, DataSource, Diagnostics, Outcome, Unknown, Value};

use crate::provider::rules;
use crate::provider::ProviderData;
use crate::resource::hybrid_cluster::model::{ClusterState, Networks, RemoteNetworkConfig};
use crate::resource::hybrid_cluster::{import, read_cluster, TYPE_NAME};

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
        let found = import::import(&aws, name, &self.data.default_tags().await).await;
        if found.diagnostics.has_errors() {
            return fail(found.diagnostics);
        }
        let state: ClusterState = match read_model(&found.state) {
            Ok(s) => s,
            Err(e) => return fail(invalid(e)),
        };
        let read = read_cluster(&aws, &state, &found.private).await;
        if read.diagnostics.has_errors() {
            return fail(read.diagnostics);
        }
        match read_model::<ClusterState>(&read.state) {
            Ok(s) => Outcome::new(view(&s).to_value(), vec![], read.diagnostics),
            Err(e) => fail(invalid(e)),
        }
    }
}

fn invalid(e: tfplugin6::model::ModelError) -> Diagnostics {
    let mut d = Diagnostics::default();
    d.error("Unexpected value", format!("data.eks_hybrid_cluster: {e}"));
    d
}

/// The data source's view of the resource's state.
fn view(s: &ClusterState) -> ClusterData {
    let remote: Option<&RemoteNetworkConfig> = s
        .config
        .remote_network_config
        .known()
        .and_then(|o| o.0.as_ref());
    let cidrs_of = |nets: Option<&Unknown<Vec<Networks>>>| -> Unknown<Option<Vec<String>>> {
        let all = nets
            .and_then(Unknown::known)
            .into_iter()
            .flatten()
            .filter_map(|n| n.cidrs.known())
            .flatten()
            .filter_map(|c| c.known().cloned())
            .collect();
        Unknown::some(all)
    };
    let provider = remote
        .and_then(|r| r.iam.known())
        .and_then(|i| i.0.as_ref())
        .and_then(|i| i.provider.value().cloned())
        .unwrap_or_else(|| "SSM".to_string());
    ClusterData {
        name: s.config.name.clone(),
        arn: s.arn.clone(),
        endpoint: s.endpoint.clone(),
        certificate_authority_data: s.certificate_authority_data.clone(),
        kubernetes_version: s.config.kubernetes_version.clone(),
        status: s.status.clone(),
        created_at: s.created_at.clone(),
        service_ipv4_cidr: s.config.service_ipv4_cidr.clone(),
        vpc_id: s.vpc_id.clone(),
        remote_node_cidrs: cidrs_of(remote.map(|r| &r.remote_node_networks)),
        remote_pod_cidrs: cidrs_of(remote.map(|r| &r.remote_pod_networks)),
        credentials_provider: Unknown::some(provider.to_uppercase()),
        remote_nodes_role_arn: s.remote_nodes_role_arn.clone(),
        remote_nodes_trust_anchor_arn: s.remote_nodes_trust_anchor_arn.clone(),
        remote_nodes_anywhere_profile_arn: s.remote_nodes_anywhere_profile_arn.clone(),
        node_config: s.node_config.clone(),
    }
}
