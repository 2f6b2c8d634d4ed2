//! terraform-provider-eks: EKS clusters ready for EKS Hybrid Nodes, as one Terraform resource.

mod aws;
mod plugin;
mod provider;
mod resource;

#[tokio::main]
async fn main() {
    plugin::logging::init();
    let code = plugin::run(provider::EksProvider::new).await;
    std::process::exit(code);
}
