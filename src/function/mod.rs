//! Provider functions: `provider::eks::<name>(…)`.

pub mod node_config;
