//! The `eks_hybrid_cluster` schema. Descriptions are rendered into the registry docs.

use crate::plugin::schema::{Attribute, Block, NestedBlock, Schema, Type};

/// Top-level attributes whose change plans a replacement of the whole cluster.
pub const REPLACE_ON_CHANGE: &[&str] = &[
    "name",
    "vpc",
    "service_ipv4_cidr",
    "remote_network_config",
    "authentication_mode",
    "cluster_role_arn",
];

pub const DEFAULT_VPC_CIDR: &str = "192.168.0.0/16";
pub const DEFAULT_AUTHENTICATION_MODE: &str = "API_AND_CONFIG_MAP";
pub const DEFAULT_NAT_GATEWAY: &str = "Single";

fn s(name: &str, description: &str) -> Attribute {
    Attribute::new(name, Type::String, description)
}

fn computed(name: &str, description: &str) -> Attribute {
    s(name, description).computed()
}

pub fn schema() -> Schema {
    Schema {
        version: 0,
        block: Block::new(
            "An EKS cluster ready for EKS Hybrid Nodes: control plane with remote node and pod \
             networks, VPC networking, the hybrid nodes IAM role (SSM or IAM Roles Anywhere) and \
             its `HYBRID_LINUX` access entry, as eksctl's `remoteNetworkConfig` creates them.",
        )
        .attribute(computed("id", "The cluster name."))
        .attribute(s("name", "Name of the EKS cluster. Changing it replaces the cluster.").required())
        .attribute(
            s("kubernetes_version", "Kubernetes minor version, e.g. `1.33`. Defaults to EKS's default. Upgraded in place, one minor version at a time.")
                .optional()
                .computed(),
        )
        .attribute(
            Attribute::new("tags", Type::map_of_strings(), "Tags for the cluster and every object the provider creates.")
                .optional(),
        )
        .attribute(
            Attribute::new("tags_all", Type::map_of_strings(), "`tags` merged over the provider's `default_tags`.")
                .computed(),
        )
        .attribute(
            Attribute::new("endpoint_public_access", Type::Bool, "Whether the API server endpoint is public. Default `true`. Hybrid nodes need public *or* private access, not both.")
                .optional()
                .computed(),
        )
        .attribute(
            Attribute::new("endpoint_private_access", Type::Bool, "Whether the API server endpoint is reachable from the VPC. Default `false`.")
                .optional()
                .computed(),
        )
        .attribute(
            s("authentication_mode", "`API` or `API_AND_CONFIG_MAP` (default). Hybrid nodes need access entries, so `CONFIG_MAP` is rejected.")
                .optional()
                .computed(),
        )
        .attribute(
            s("service_ipv4_cidr", "Kubernetes service CIDR. Defaults as EKS: `172.20.0.0/16` when the VPC is in 10.0.0.0/8, else `10.100.0.0/16`. Changing it replaces the cluster.")
                .optional()
                .computed(),
        )
        .attribute(
            s("cluster_role_arn", "IAM role for the EKS control plane. When unset the provider creates one with `AmazonEKSClusterPolicy`.")
                .optional()
                .computed(),
        )
        .attribute(computed("arn", "ARN of the cluster."))
        .attribute(computed("endpoint", "API server endpoint."))
        .attribute(computed("certificate_authority_data", "Base64 CA certificate of the cluster."))
        .attribute(computed("status", "Cluster status, `ACTIVE` once created."))
        .attribute(computed("platform_version", "EKS platform version."))
        .attribute(computed("cluster_security_group_id", "Security group EKS created for the cluster."))
        .attribute(computed("vpc_id", "VPC of the cluster."))
        .attribute(Attribute::new("public_subnet_ids", Type::list_of_strings(), "Public subnets (provider-created VPC only).").computed())
        .attribute(Attribute::new("private_subnet_ids", Type::list_of_strings(), "Private subnets the control plane uses.").computed())
        .attribute(computed("control_plane_security_group_id", "The additional control plane security group, allowing TCP 443 from the remote node and pod networks."))
        .attribute(computed("remote_nodes_role_arn", "IAM role the hybrid nodes assume (created, or `iam.role_arn`)."))
        .attribute(computed("remote_nodes_trust_anchor_arn", "IAM Roles Anywhere trust anchor (IRA without `role_arn` only)."))
        .attribute(computed("remote_nodes_anywhere_profile_arn", "IAM Roles Anywhere profile (IRA without `role_arn` only)."))
        .attribute(computed("access_entry_arn", "The `HYBRID_LINUX` access entry of the hybrid nodes role."))
        .attribute(computed("vpc_gateway_attachment_id", "Transit gateway VPC attachment ID, or the VPC ID for an attached virtual private gateway."))
        .attribute(computed(
            "node_config",
            "A nodeadm `NodeConfig` (YAML) for the hybrid nodes: `nodeadm init -c file://nodeConfig.yaml`. SSM: fill in the hybrid activation's code and ID. IRA: fill in each node's name, which must match the CN of its certificate.",
        ))
        .attribute(
            Attribute::new(
                "owned_objects",
                Type::map_of_strings(),
                "Every AWS object this resource owns, keyed by kind and ID, with its observed state (`ok`, `missing`, `disabled`, …). A change here in a plan is drift that `apply` repairs.",
            )
            .computed(),
        )
        .block(vpc_block())
        .block(remote_network_config_block().items(1, 1))
        .block(ssm_activation_block().items(0, 1))
        .block(timeouts_block().items(0, 1)),
    }
}

fn vpc_block() -> NestedBlock {
    NestedBlock::list(
        "vpc",
        Block::new("Where the cluster lives. Omitted or with `cidr`: the provider creates the VPC like eksctl. With `id`: a pre-existing VPC that the provider never amends. Changing it replaces the cluster.")
            .attribute(s("cidr", "CIDR of the VPC the provider creates. Default `192.168.0.0/16`.").optional().computed())
            .attribute(
                Attribute::new("availability_zones", Type::list_of_strings(), "2 or 3 availability zones. Default: the region's first 2.")
                    .optional()
                    .computed(),
            )
            .attribute(s("nat_gateway", "`Single` (default), `HighlyAvailable` (one per AZ) or `Disable`.").optional().computed())
            .attribute(s("id", "ID of a pre-existing VPC.").optional())
            .attribute(Attribute::new("subnet_ids", Type::list_of_strings(), "Subnets of the pre-existing VPC (at least two AZs).").optional())
            .attribute(Attribute::new("security_group_ids", Type::list_of_strings(), "Extra security groups for the control plane in a pre-existing VPC.").optional()),
    )
    .items(0, 1)
}

fn remote_network_config_block() -> NestedBlock {
    let networks = |name: &str, what: &str| {
        NestedBlock::list(
            name,
            Block::new(what).attribute(
                Attribute::new(
                    "cidrs",
                    Type::list_of_strings(),
                    "IPv4 CIDRs (RFC 1918, /8 to /32).",
                )
                .required(),
            ),
        )
    };
    NestedBlock::list(
        "remote_network_config",
        Block::new("EKS Hybrid Nodes networking and credentials, as eksctl's `remoteNetworkConfig`. Changing anything here replaces the cluster.")
            .attribute(s("vpc_gateway_id", "`tgw-…` or `vgw-…` to attach to a provider-created VPC and route the remote networks to.").optional())
            .block(networks("remote_node_networks", "The on-premises network of the hybrid nodes (exactly one)."))
            .block(networks("remote_pod_networks", "The pod network of the hybrid nodes (at most one)."))
            .block(
                NestedBlock::list(
                    "iam",
                    Block::new("How hybrid nodes get AWS credentials.")
                        .attribute(s("provider", "`SSM` (default) or `IRA` (IAM Roles Anywhere), case-insensitive.").optional().computed())
                        .attribute(s("ca_bundle_cert", "PEM CA certificate(s) for the IAM Roles Anywhere trust anchor. IRA only.").optional())
                        .attribute(s("role_arn", "Bring your own hybrid nodes role: no role, trust anchor or profile is created.").optional()),
                )
                .items(0, 1),
            ),
    )
}

fn ssm_activation_block() -> NestedBlock {
    NestedBlock::list(
        "ssm_activation",
        Block::new("An SSM hybrid activation for the hybrid nodes role (SSM only), for `nodeadm init` to register nodes with. Changing it creates a new activation in place; the cluster is kept.")
            .attribute(Attribute::new("registration_limit", Type::Number, "How many nodes may register with it, 1 to 1000. Default 1.").optional().computed())
            .attribute(s("expiration", "RFC 3339 time it expires, at most 30 days ahead. Default: 24 hours after creation (SSM's default).").optional())
            .attribute(computed("activation_id", "The activation ID (`hybrid.ssm.activationId`)."))
            .attribute(computed("activation_code", "The activation code (`hybrid.ssm.activationCode`). AWS returns it only when the activation is created.").sensitive()),
    )
}

fn timeouts_block() -> NestedBlock {
    NestedBlock::list(
        "timeouts",
        Block::new("Operation timeouts, as Go durations (`40m`, `1h30m`).")
            .attribute(s("create", "Default `40m`.").optional())
            .attribute(s("update", "Default `60m`.").optional())
            .attribute(s("delete", "Default `40m`.").optional()),
    )
}
