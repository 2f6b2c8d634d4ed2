//! Data sources: read-only views of what exists, for configurations that use a cluster
//! without owning it.

pub mod hybrid_cluster;
