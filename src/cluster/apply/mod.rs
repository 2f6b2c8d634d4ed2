//! Creating a cluster and repairing it in place: the graph of steps (`graph`), their shared
//! context (`Ctx`), the network and access steps.

pub mod access;
pub mod graph;
pub mod network;

pub use graph::Ctx;
