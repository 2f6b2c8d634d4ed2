//! Provider functions: `provider::eks::<name>(…)`.

pub mod bottlerocket_settings;
pub mod cilium_values;
pub mod node_config;
mod node_values;
