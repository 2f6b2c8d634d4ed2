//! Ephemeral resources: values opened for one run and never stored in plan or state.

pub mod hybrid_activation;
