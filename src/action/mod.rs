//! Actions: operations Terraform runs on demand or from a resource's `action_trigger`
//! (Terraform 1.14+), with no state of their own.

pub mod nodes_deregister;
