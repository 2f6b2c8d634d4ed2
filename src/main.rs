//! terraform-provider-eks: the plugin process Terraform launches.

#[tokio::main]
async fn main() {
    tfplugin6::logging::init(terraform_provider_eks::LOG_MODULE);
    let code = tfplugin6::serve(terraform_provider_eks::server()).await;
    std::process::exit(code);
}
