//! terraform-provider-eks: EKS clusters ready for EKS Hybrid Nodes, as one Terraform resource.

mod aws;
#[cfg(test)]
mod docs;
// The protocol layer is a general tfplugin6 toolkit (set nesting, sensitive attributes, map-key
// paths…), all covered by its unit tests; this provider uses a subset of it.
#[allow(dead_code)]
mod plugin;
mod provider;
mod resource;

#[tokio::main]
async fn main() {
    plugin::logging::init();
    let code = plugin::run(provider::EksProvider::new).await;
    std::process::exit(code);
}
