//! terraform-provider-eks: EKS clusters ready for EKS Hybrid Nodes, as one Terraform
//! resource. `server()` is everything the provider serves; `tfplugin6` does the
//! protocol.

#![forbid(unsafe_code)]

pub mod action;
pub mod aws;
pub mod cluster;
pub mod data_source;
#[cfg(test)]
mod docs;
pub mod ephemeral;
pub mod function;
pub mod provider;
pub mod resource;
mod server;

pub use server::server;

/// The module name Terraform shows on this provider's log lines.
pub const LOG_MODULE: &str = "provider.terraform-provider-eks";
