//! Resources served by the provider.

pub mod hybrid_cluster;
