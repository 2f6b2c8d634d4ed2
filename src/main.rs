//! terraform-provider-eks: the plugin process Terraform launches, or with `-debug` a process
//! a debugger holds and Terraform reattaches to (`-address=` names the provider address it
//! prints, `registry.terraform.io/local/eks` by default; OpenTofu's is
//! `registry.opentofu.org/local/eks`).

#![forbid(unsafe_code)]

const DEFAULT_ADDRESS: &str = "registry.terraform.io/local/eks";

#[tokio::main]
async fn main() {
    tfplugin6::logging::init(
        terraform_provider_eks::LOG_MODULE,
        &["terraform_provider_eks"],
    );
    let args: Vec<String> = std::env::args().skip(1).collect();
    let debug = args.iter().any(|a| a == "-debug" || a == "--debug");
    let address = args
        .iter()
        .find_map(|a| {
            a.strip_prefix("-address=")
                .or_else(|| a.strip_prefix("--address="))
        })
        .unwrap_or(DEFAULT_ADDRESS);
    let server = terraform_provider_eks::server();
    let code = if debug {
        tfplugin6::serve_debug(server, address).await
    } else {
        tfplugin6::serve(server).await
    };
    std::process::exit(code);
}
