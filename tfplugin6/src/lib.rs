//! Terraform's plugin protocol 6 for providers written in Rust.
//!
//! A provider implements [`Provider`] for its configuration block and [`Resource`] (or
//! [`DataSource`], [`EphemeralResource`], [`ListResource`]) for each type it serves,
//! registers them with a [`Server`] by type name, and calls [`serve`]. The crate does the
//! rest: go-plugin's launch and handshake, mutual TLS, the gRPC service, decoding values,
//! type lookup, and what a schema declares (validators, defaults, replacement). The
//! protocol's generated types stay inside the crate.

#![forbid(unsafe_code)]

pub mod action;
mod convert;
pub mod data_source;
pub mod debug_socket;
pub mod diag;
pub mod ephemeral;
pub mod function;
mod grpc;
pub mod handshake;
pub mod identity;
pub mod list;
pub mod logging;
pub mod model;
mod panic;
pub mod planning;
pub mod provider;
pub mod resource;
pub mod schema;
mod server;
pub mod terraform_rules;
mod tls;
mod transport;
pub mod validators;
pub mod value;
pub mod walk;

/// The generated protocol types (tonic + prost); `convert` maps them to the public ones.
#[allow(clippy::all, clippy::pedantic, dead_code)]
mod proto {
    pub mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
    pub mod plugin {
        tonic::include_proto!("plugin");
    }
}

pub use action::Action;
pub use data_source::DataSource;
pub use diag::{AttrPath, Diagnostics};
pub use ephemeral::EphemeralResource;
pub use function::Function;
pub use identity::IdentitySchema;
pub use list::ListResource;
pub use model::{One, Unknown};
pub use provider::Provider;
pub use resource::{Deferral, Outcome, Resource};
pub use schema::{Attribute, Block, NestedBlock, Schema, Type};
pub use server::{ApplyInput, PlanInput, Server};
pub use value::Value;

pub use async_trait::async_trait;

use std::io::Write as _;
use std::sync::Arc;

/// Everything between process start and exit: read the launch environment, bind, set up TLS,
/// print the handshake line, serve until Terraform shuts the plugin down. Returns the exit
/// code.
pub async fn serve(server: Server) -> i32 {
    panic::install_hook();
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
    let lifecycle = server.lifecycle.clone();
    let incoming = transport::accept_connections(
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
    match transport::serve(grpc::Grpc(Arc::new(server)), incoming, lifecycle).await {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!(error = %e, "gRPC server failed");
            1
        }
    }
}

/// `-debug`: serve without Terraform launching the process, so a debugger can hold it. No
/// magic cookie and no TLS (go-plugin's reattach has none), so, as go-plugin and
/// terraform-plugin-go do, it listens on a unix socket in a new folder that only this user
/// can open (mode 0700): no other user's process can drive the provider with the developer's
/// AWS credentials. A `TF_REATTACH_PROVIDERS` value for `address` (e.g.
/// `registry.terraform.io/local/eks`) goes to stdout. Terraform's shutdown requests are
/// ignored, so the process serves run after run until Ctrl-C, as terraform-plugin-go's debug
/// mode does; the folder is removed then.
pub async fn serve_debug(server: Server, address: &str) -> i32 {
    panic::install_hook();
    let socket = match debug_socket::DebugSocket::create() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot make the debug socket: {e}");
            return 1;
        }
    };
    let mut lifecycle = server.lifecycle.clone();
    lifecycle.debug = true;
    let incoming = transport::accept_unix_connections(socket.listener, lifecycle.shutdown.clone());
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(
            stdout,
            "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{}'\n",
            handshake::reattach_config(address, std::process::id(), &socket.path)
        );
        let _ = stdout.flush();
    }
    let shutdown = lifecycle.shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        shutdown.cancel();
    });
    let served = transport::serve(grpc::Grpc(Arc::new(server)), incoming, lifecycle).await;
    let _ = std::fs::remove_dir_all(&socket.folder);
    match served {
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
