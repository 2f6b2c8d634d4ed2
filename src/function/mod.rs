//! Provider functions: `provider::eks::<name>(…)`.

pub mod cilium_values;
pub mod node_config;
