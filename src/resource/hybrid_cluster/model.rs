//! The resource's model: every attribute, declared once with its type, flags, description,
//! default, replacement rule and validators. `ClusterConfig` is what users write,
//! `ClusterState` adds what only AWS knows. The schema, the docs, validation, plan, state and
//! import all read these declarations.

use std::collections::BTreeMap;

use tfplugin6::model::{read as read_model, ModelError};
use tfplugin6::schema::{Attribute, NestedBlock, Schema, Type};
use tfplugin6::validators::each;
use tfplugin6::{Diagnostics, One, Unknown, Value};

use crate::cluster::objects::{ObjectKey, ObjectStatus};
use crate::provider::rules;

/// Strings of a configurable list: each may be unknown at plan.
pub type Strings = Vec<Unknown<String>>;
/// A configurable map of strings: each value may be unknown at plan.
pub type StringMap = BTreeMap<String, Unknown<String>>;

pub use crate::cluster::spec::{DEFAULT_AUTHENTICATION_MODE, DEFAULT_VPC_CIDR};
pub const DEFAULT_NAT_GATEWAY: &str = "Single";

fn computed(description: &str) -> Attribute {
    Attribute::string(description).computed()
}

fn strings(description: &str) -> Attribute {
    Attribute::of(Type::list_of_strings(), description)
}

tfplugin6::object! {
    /// Where the cluster lives. Omitted or with `cidr`: the provider creates the VPC like
    /// eksctl. With `id`: a pre-existing VPC that the provider never amends.
    pub struct Vpc {
        #[attr(Attribute::string("CIDR of the VPC the provider creates. Default `192.168.0.0/16`.").optional().computed().validator(rules::vpc_cidr()))]
        pub cidr: Unknown<Option<String>>,
        #[attr(strings("Availability zones of a VPC the provider creates. Default: two zones of the region that EKS supports, chosen by zone ID.").optional().computed().validator(rules::availability_zones()))]
        pub availability_zones: Unknown<Option<Strings>>,
        #[attr(Attribute::string("NAT gateways of a VPC the provider creates (`HighlyAvailable`: one per zone). Default `Single`.").optional().computed().validator(rules::nat_gateway()))]
        pub nat_gateway: Unknown<Option<String>>,
        #[attr(Attribute::string("ID of a pre-existing VPC.").optional().validator(rules::vpc_id()))]
        pub id: Unknown<Option<String>>,
        #[attr(strings("Subnets of the pre-existing VPC.").optional().validator(rules::subnet_ids()).validator(each(rules::subnet_id())))]
        pub subnet_ids: Unknown<Option<Strings>>,
        #[attr(strings("Extra security groups for the control plane in a pre-existing VPC.").optional().validator(each(rules::security_group_id())))]
        pub security_group_ids: Unknown<Option<Strings>>,
    }
}

tfplugin6::object! {
    /// A remote network: its CIDRs.
    pub struct Networks {
        #[attr(strings("IPv4 CIDRs.").required().validator(rules::remote_cidrs()).validator(each(rules::remote_cidr())))]
        pub cidrs: Unknown<Strings>,
    }
}

tfplugin6::object! {
    /// How hybrid nodes get AWS credentials.
    pub struct Iam {
        #[attr(Attribute::string("What gives the hybrid nodes their AWS credentials: `SSM` or `IRA`, in any case (a change of case alone replaces nothing).").default(Value::string("SSM")).case_insensitive().validator(rules::credentials_provider()))]
        pub provider: Unknown<Option<String>>,
        #[attr(Attribute::string("PEM CA certificate(s) for the IAM Roles Anywhere trust anchor. IRA only.").optional().validator(rules::ca_bundle()))]
        pub ca_bundle_cert: Unknown<Option<String>>,
        #[attr(Attribute::string("AWS Private CA whose certificates the nodes present: the trust anchor takes the CA itself (source type `AWS_ACM_PCA`) instead of a pasted bundle, so a renewed CA certificate needs no change here. The CA must be `ACTIVE`, which plan checks. IRA only; exactly one of this and `ca_bundle_cert`.").optional().validator(rules::acm_pca_arn()))]
        pub acm_pca_arn: Unknown<Option<String>>,
        #[attr(Attribute::string("Bring your own hybrid nodes role: no role, trust anchor or profile is created.").optional().validator(rules::role_arn()))]
        pub role_arn: Unknown<Option<String>>,
    }
}

tfplugin6::object! {
    /// EKS Hybrid Nodes networking and credentials, as eksctl's `remoteNetworkConfig`.
    pub struct RemoteNetworkConfig {
        #[attr(Attribute::string("`tgw-…` or `vgw-…` to attach to a provider-created VPC and route the remote networks to.").optional().validator(rules::gateway_id()))]
        pub vpc_gateway_id: Unknown<Option<String>>,
        #[block(NestedBlock::list().described("The on-premises network of the hybrid nodes (exactly one)."))]
        pub remote_node_networks: Unknown<Vec<Networks>>,
        #[block(NestedBlock::list().described("The pod network of the hybrid nodes (at most one)."))]
        pub remote_pod_networks: Unknown<Vec<Networks>>,
        #[block(NestedBlock::list().items(0, 1))]
        pub iam: Unknown<One<Iam>>,
    }
}

tfplugin6::object! {
    /// An SSM hybrid activation for the hybrid nodes role (SSM only), for `nodeadm init` to
    /// register nodes with. Changing it creates a new activation in place; the cluster is
    /// kept.
    pub struct SsmActivation {
        #[attr(Attribute::of(Type::Number, "How many nodes may register with it.").default(Value::Number(tfplugin6::value::Number::Int(1))).validator(rules::registration_limit()))]
        pub registration_limit: Unknown<Option<i64>>,
        #[attr(Attribute::string("When it expires, RFC 3339 (`Z` or an offset such as `+02:00`), at most 30 days ahead when the activation is made. Default: 24 hours after creation (SSM's default). Once it has expired it is kept, not replaced on the next plan: nodes it registered keep working; set a new `expiration` (or limit) for a fresh activation and code.").optional().validator(rules::activation_expiration()))]
        pub expiration: Unknown<Option<String>>,
        #[attr(computed("The activation ID (`hybrid.ssm.activationId`)."))]
        pub activation_id: Unknown<Option<String>>,
        #[attr(computed("The activation code (`hybrid.ssm.activationCode`). AWS returns it only when the activation is created.").sensitive())]
        pub activation_code: Unknown<Option<String>>,
    }
}

tfplugin6::object! {
    /// Operation timeouts, as Go durations (`40m`, `1h30m`).
    pub struct Timeouts {
        #[attr(Attribute::string("Default `40m`.").optional().validator(rules::duration()))]
        pub create: Unknown<Option<String>>,
        #[attr(Attribute::string("Default `60m`.").optional().validator(rules::duration()))]
        pub update: Unknown<Option<String>>,
        #[attr(Attribute::string("Default `40m`.").optional().validator(rules::duration()))]
        pub delete: Unknown<Option<String>>,
    }
}

tfplugin6::object! {
    /// What the user writes.
    pub struct ClusterConfig {
        #[attr(Attribute::string("Name of the EKS cluster.").required().requires_replace().validator(rules::cluster_name()))]
        pub name: Unknown<String>,
        #[attr(Attribute::string("Kubernetes minor version. Defaults to EKS's default. Upgraded in place, one minor version at a time.").optional().computed().validator(rules::kubernetes_version()))]
        pub kubernetes_version: Unknown<Option<String>>,
        #[attr(Attribute::of(Type::map_of_strings(), "Tags for the cluster and every object the provider creates.").optional())]
        pub tags: Unknown<Option<StringMap>>,
        #[attr(Attribute::of(Type::Bool, "Whether the API server endpoint is public. Hybrid nodes need public *or* private access, not both.").default(Value::Bool(true)))]
        pub endpoint_public_access: Unknown<Option<bool>>,
        #[attr(Attribute::of(Type::Bool, "Whether the API server endpoint is reachable from the VPC.").default(Value::Bool(false)))]
        pub endpoint_private_access: Unknown<Option<bool>>,
        #[attr(Attribute::of(Type::Bool, "Leave the VPC routes to the remote pod CIDRs to the EKS Hybrid Nodes gateway, which writes them itself: the provider routes only the node CIDRs to `vpc_gateway_id`, and a pod CIDR route pointing elsewhere is not drift. Changes in place; routes the provider made stay for the gateway to take over.").default(Value::Bool(false)))]
        pub pod_routes_by_hybrid_nodes_gateway: Unknown<Option<bool>>,
        #[attr(Attribute::of(Type::Bool, "Grant the nodes role the provider creates `eks-auth:AssumeRoleForPodIdentity`, which the EKS Pod Identity agent on a hybrid node needs (EKS user guide, \"Set up the Amazon EKS Pod Identity Agent\"); as terraform-aws-eks's hybrid node role, on by default. The agent can only exchange a pod's token for a role associated with that pod's service account in this cluster. Changes in place. With `iam.role_arn`, your role's policies are yours: grant it there.").default(Value::Bool(true)))]
        pub nodes_pod_identity: Unknown<Option<bool>>,
        #[attr(Attribute::of(Type::Bool, "Upgrade `kubernetes_version` even when EKS's upgrade insights find blocking issues (EKS's `force` flag on UpdateClusterVersion, as the Terraform AWS provider's `force_update_version`). Without it such an upgrade fails and names the issues' command. Used only when the version changes.").optional())]
        pub force_update_version: Unknown<Option<bool>>,
        #[attr(Attribute::of(Type::Bool, "On destroy, deregister the hybrid nodes registered through this cluster's SSM activations (the SSM managed instances tagged `EKSClusterARN` with the cluster's ARN, which nodes take from their activation), the resource's own `ssm_activation` and `eks_hybrid_activation`s alike. Registered nodes outlive the cluster otherwise, count against the account's 1,000 standard-tier managed instances and are billed in the advanced tier. SSM credentials only; the destroy preview says which way it goes.").default(Value::Bool(true)))]
        pub deregister_nodes_on_destroy: Unknown<Option<bool>>,
        #[attr(Attribute::string("How the cluster authenticates.").default(Value::string(DEFAULT_AUTHENTICATION_MODE)).requires_replace().validator(rules::authentication_mode()))]
        pub authentication_mode: Unknown<Option<String>>,
        #[attr(Attribute::string("Kubernetes service CIDR. Defaults as EKS: `172.20.0.0/16` when the VPC is in 10.0.0.0/8, else `10.100.0.0/16`.").optional().computed().requires_replace().validator(rules::service_cidr()))]
        pub service_ipv4_cidr: Unknown<Option<String>>,
        #[attr(Attribute::string("IAM role for the EKS control plane. When unset the provider creates one with `AmazonEKSClusterPolicy`.").optional().computed().requires_replace().validator(rules::role_arn()))]
        pub cluster_role_arn: Unknown<Option<String>>,
        #[attr(Attribute::string("Permissions boundary (a managed policy ARN) for the IAM roles the provider creates, the cluster role and the hybrid nodes role, as `aws_iam_role.permissions_boundary` and terraform-aws-eks's `iam_role_permissions_boundary`: each role can do at most what the boundary allows. Read back, and put back when changed outside Terraform; changes in place. The published policy `docs/iam/terraform-ssm.json` (or `-ira`) lets whoever runs Terraform create roles only with the boundary it names. Not used for roles you bring.").optional().validator(rules::policy_arn()))]
        pub role_permissions_boundary: Unknown<Option<String>>,
        #[block(NestedBlock::list().items(0, 1).requires_replace())]
        pub vpc: Unknown<One<Vpc>>,
        #[block(NestedBlock::list().items(1, 1).requires_replace())]
        pub remote_network_config: Unknown<One<RemoteNetworkConfig>>,
        #[block(NestedBlock::list().items(0, 1))]
        pub ssm_activation: Unknown<One<SsmActivation>>,
        #[block(NestedBlock::list().items(0, 1))]
        pub timeouts: Unknown<One<Timeouts>>,
    }
}

tfplugin6::object! {
    /// An EKS cluster ready for EKS Hybrid Nodes: control plane with remote node and pod
    /// networks, VPC networking, the hybrid nodes IAM role (SSM or IAM Roles Anywhere) and its
    /// `HYBRID_LINUX` access entry, as eksctl's `remoteNetworkConfig` creates them.
    pub struct ClusterState {
        #[flatten]
        pub config: ClusterConfig,
        #[attr(computed("The cluster name."))]
        pub id: Unknown<Option<String>>,
        #[attr(Attribute::of(Type::map_of_strings(), "`tags` merged over the provider's `default_tags`.").computed())]
        pub tags_all: Unknown<Option<BTreeMap<String, String>>>,
        #[attr(computed("ARN of the cluster."))]
        pub arn: Unknown<Option<String>>,
        #[attr(computed("API server endpoint."))]
        pub endpoint: Unknown<Option<String>>,
        #[attr(computed("Base64 CA certificate of the cluster."))]
        pub certificate_authority_data: Unknown<Option<String>>,
        #[attr(computed("Cluster status, `ACTIVE` once created."))]
        pub status: Unknown<Option<String>>,
        #[attr(computed("EKS platform version."))]
        pub platform_version: Unknown<Option<String>>,
        #[attr(computed("When EKS created the cluster (RFC 3339, UTC). It tells this cluster from one of the same name made after it was deleted outside Terraform, which the provider never changes or deletes."))]
        pub created_at: Unknown<Option<String>>,
        #[attr(computed("Security group EKS created for the cluster."))]
        pub cluster_security_group_id: Unknown<Option<String>>,
        #[attr(computed("VPC of the cluster."))]
        pub vpc_id: Unknown<Option<String>>,
        #[attr(strings("Public subnets (provider-created VPC only).").computed())]
        pub public_subnet_ids: Unknown<Option<Vec<String>>>,
        #[attr(strings("Private subnets the control plane uses.").computed())]
        pub private_subnet_ids: Unknown<Option<Vec<String>>>,
        #[attr(strings("Route tables of the cluster's subnets in a VPC the provider created (private, then public): what the EKS Hybrid Nodes gateway's configuration names. Empty for a pre-existing VPC, whose route tables are yours.").computed())]
        pub route_table_ids: Unknown<Option<Vec<String>>>,
        #[attr(computed("The additional control plane security group, allowing TCP 443 from the remote node and pod networks."))]
        pub control_plane_security_group_id: Unknown<Option<String>>,
        #[attr(computed("IAM role the hybrid nodes assume (created, or `iam.role_arn`)."))]
        pub remote_nodes_role_arn: Unknown<Option<String>>,
        #[attr(computed("IAM Roles Anywhere trust anchor (IRA without `role_arn` only)."))]
        pub remote_nodes_trust_anchor_arn: Unknown<Option<String>>,
        #[attr(computed("IAM Roles Anywhere profile (IRA without `role_arn` only)."))]
        pub remote_nodes_anywhere_profile_arn: Unknown<Option<String>>,
        #[attr(computed("The `HYBRID_LINUX` access entry of the hybrid nodes role."))]
        pub access_entry_arn: Unknown<Option<String>>,
        #[attr(computed("Transit gateway VPC attachment ID, or the VPC ID for an attached virtual private gateway."))]
        pub vpc_gateway_attachment_id: Unknown<Option<String>>,
        #[attr(computed("A nodeadm `NodeConfig` (YAML) for the hybrid nodes: `nodeadm init -c file://nodeConfig.yaml`. SSM: fill in the hybrid activation's code and ID. IRA: fill in each node's name, which must match the CN of its certificate."))]
        pub node_config: Unknown<Option<String>>,
        #[attr(Attribute::of(Type::map_of_strings(), "Every AWS object this resource owns, keyed by kind and ID, with its observed state (`ok`, `missing`, `disabled`, …). A change here in a plan is drift that `apply` repairs.").computed())]
        pub owned_objects: Unknown<Option<BTreeMap<ObjectKey, ObjectStatus>>>,
    }
}

// `owned_objects` holds the domain's statuses as the strings users see in plans.
impl tfplugin6::model::FromValue for ObjectStatus {
    fn from_value(v: &Value, path: &tfplugin6::AttrPath) -> tfplugin6::model::ModelResult<Self> {
        let s = <String as tfplugin6::model::FromValue>::from_value(v, path)?;
        Ok(s.parse().unwrap_or_else(|never| match never {}))
    }
}

impl tfplugin6::model::ToValue for ObjectStatus {
    fn to_value(&self) -> Value {
        Value::string(self.to_string())
    }
}

pub fn schema() -> Schema {
    use tfplugin6::model::Object;
    Schema::new(ClusterState::schema_block())
}

/// A model error as the diagnostic Terraform shows.
pub fn invalid(e: ModelError) -> Diagnostics {
    let mut d = Diagnostics::default();
    d.error("Unexpected value", format!("eks_hybrid_cluster: {e}"));
    d
}

/// The prior state, typed; `None` when there is none (create).
pub fn typed_prior(v: &Value) -> Result<Option<ClusterState>, Diagnostics> {
    if v.is_null() {
        return Ok(None);
    }
    read_model(v).map(Some).map_err(invalid)
}
