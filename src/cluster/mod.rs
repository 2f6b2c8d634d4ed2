//! The domain: what a hybrid cluster is, and how it is made, observed, repaired and
//! destroyed on AWS. Its input is a [`spec::ClusterSpec`] (built by the resource's conversion
//! of its configuration, or by [`discover`]); what it owns is an [`inventory::Inventory`];
//! its only error is [`crate::aws::AwsError`]. It never sees Terraform: no `tfplugin6`, no
//! kind.

pub mod apply;
pub mod certs;
pub mod cidr;
pub mod destroy;
pub mod discover;
pub mod inventory;
pub mod names;
pub mod node_config;
pub mod objects;
pub mod observe;
pub mod ownership;
pub mod policies;
pub mod spec;
pub mod vpc_cni;

/// Something the user should know that stops nothing: a warning, in the adapters' terms.
#[derive(Clone, Debug, PartialEq)]
pub struct Advice {
    pub summary: String,
    pub detail: String,
}
