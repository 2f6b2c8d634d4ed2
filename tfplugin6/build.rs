//! Compiles the plugin protocol definitions in the repository's `proto/` with a pure-Rust
//! protobuf compiler, so building needs no system `protoc`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    // tfplugin6: every RPC of protocol 6.10 exists; those a provider does not serve answer
    // Unimplemented by default, which both CLIs read as "not supported" (state stores,
    // actions, MoveResourceState, …).
    compile("../proto/tfplugin6.proto", true)?;
    // go-plugin's own services are all served.
    compile("../proto/go_plugin.proto", false)
}

fn compile(file: &str, default_stubs: bool) -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={file}");
    let descriptors = protox::compile([file], ["../proto"])?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .generate_default_stubs(default_stubs)
        .compile_fds(descriptors)?;
    Ok(())
}
