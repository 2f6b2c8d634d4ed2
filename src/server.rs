//! Everything the provider serves, one line per kind: the registry Terraform's calls are
//! routed through.

use tfplugin6::Server;

use crate::action::nodes_deregister::NodesDeregister;
use crate::data_source::hybrid_cluster::HybridClusterData;
use crate::ephemeral::hybrid_activation::HybridActivation;
use crate::function::bottlerocket_settings::BottlerocketSettings;
use crate::function::cilium_values::CiliumValues;
use crate::function::node_config::NodeConfig;
use crate::provider::{EksProvider, ProviderData};
use crate::resource::hybrid_cluster::list::HybridClusterList;
use crate::resource::hybrid_cluster::HybridCluster;

/// A new resource, data source, ephemeral resource, action or function is one more line here.
pub fn server() -> Server {
    let data = ProviderData::default();
    Server::new(EksProvider::new(data.clone()))
        .resource(HybridCluster::new(data.clone()))
        .list_resource(HybridClusterList::new(data.clone()))
        .data_source(HybridClusterData::new(data.clone()))
        .ephemeral_resource(HybridActivation::new(data.clone()))
        .action(NodesDeregister::new(data))
        .function(NodeConfig)
        .function(BottlerocketSettings)
        .function(CiliumValues)
}
