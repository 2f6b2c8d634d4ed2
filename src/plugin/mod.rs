//! The protocol layer: go-plugin launch and handshake, mutual TLS, the gRPC server, value
//! codec, schema and diagnostics. Nothing here knows about AWS.

pub mod diag;
pub mod handshake;
pub mod logging;
pub mod schema;
pub mod serve;
pub mod tls;
pub mod value;

pub mod proto {
    #![allow(clippy::all, clippy::pedantic, dead_code)]
    pub mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
    pub mod plugin {
        tonic::include_proto!("plugin");
    }
}

pub use diag::{AttrPath, Diagnostics};
pub use value::Value;

use std::io::Write as _;

/// Everything between process start and serving: read the launch environment, bind, set up
/// TLS, print the handshake line, serve until Shutdown. Returns the process exit code.
pub async fn run<P: proto::tfplugin6::provider_server::Provider>(
    make_provider: impl FnOnce(serve::Lifecycle) -> P,
) -> i32 {
    let launch = match handshake::read_launch_env(|k| std::env::var(k).ok()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let listener = match handshake::bind_loopback(launch.port_range).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1: {e}");
            return 1;
        }
    };
    let identity = match launch.client_cert_pem.as_deref().map(tls::server_identity) {
        None => None,
        Some(Ok(identity)) => Some(identity),
        Some(Err(e)) => {
            eprintln!("{e}");
            return 1;
        }
    };
    if identity.is_none() {
        tracing::warn!(
            "PLUGIN_CLIENT_CERT is not set: serving plaintext gRPC (local debugging only)"
        );
    }
    let addr = listener
        .local_addr()
        .expect("bound listener has an address");
    let lifecycle = serve::Lifecycle::default();
    let incoming = serve::accept_connections(
        listener,
        identity.as_ref().map(|i| i.config.clone()),
        lifecycle.shutdown.clone(),
    );
    let line = handshake::handshake_line(addr, identity.as_ref().map(|i| i.cert_der.as_slice()));
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    }
    ignore_interrupts();
    let provider = make_provider(lifecycle.clone());
    match serve::serve(provider, incoming, lifecycle).await {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!(error = %e, "gRPC server failed");
            1
        }
    }
}

/// Ctrl-C in a terminal reaches every process of the foreground group, the provider too. As
/// go-plugin servers do, ignore it: Terraform handles it and asks us to stop through
/// StopProvider, so in-flight work ends cleanly and its state is saved.
fn ignore_interrupts() {
    tokio::spawn(async {
        loop {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            tracing::debug!("interrupt received; waiting for Terraform to stop the operation");
        }
    });
}
