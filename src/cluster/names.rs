//! Names of the objects the resource creates. Deterministic, so import and leak checks can
//! find them, and within AWS's length limits: a name that would not fit keeps the start of
//! the cluster name and adds a hash of all of it, so two long cluster names that share a
//! prefix still get different names (truncating alone made them collide).

pub const OWNERSHIP_TAG: &str = "terraform-provider-eks/cluster";

pub const CLUSTER_ROLE_SUFFIX: &str = "-eks-cluster-role";
pub const NODES_ROLE_SUFFIX: &str = "-eks-hybrid-nodes-role";

/// IAM's `RoleName`: 1–64 characters (IAM API reference, CreateRole).
const IAM_ROLE_NAME_MAX: usize = 64;
/// Roles Anywhere's trust anchor and profile `name`: 1–255 characters (rolesanywhere model).
const ROLES_ANYWHERE_NAME_MAX: usize = 255;

/// FNV-1a, 32 bits: stable across releases and platforms, unlike std's hasher.
fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// `{cluster}{suffix}`, or, when that is longer than `max`, as much of the cluster name as
/// fits before `-{hash of the whole cluster name}{suffix}`.
fn fitted(cluster: &str, suffix: &str, max: usize) -> String {
    let whole = format!("{cluster}{suffix}");
    if whole.chars().count() <= max {
        return whole;
    }
    let hash = format!("-{:08x}", fnv1a(cluster));
    let keep = max - suffix.chars().count() - hash.len();
    let head: String = cluster.chars().take(keep).collect();
    format!("{head}{hash}{suffix}")
}

pub fn vpc(cluster: &str) -> String {
    format!("{cluster}/VPC")
}

pub fn igw(cluster: &str) -> String {
    format!("{cluster}/InternetGateway")
}

pub fn public_route_table(cluster: &str) -> String {
    format!("{cluster}/PublicRouteTable")
}

pub fn private_route_table(cluster: &str, az: &str) -> String {
    format!("{cluster}/PrivateRouteTable-{az}")
}

pub fn subnet(cluster: &str, kind: &str, az: &str) -> String {
    format!("{cluster}/Subnet-{kind}-{az}")
}

pub fn nat(cluster: &str, az: &str) -> String {
    format!("{cluster}/NATGateway-{az}")
}

pub fn control_plane_sg(cluster: &str) -> String {
    format!("{cluster}-ControlPlaneSecurityGroup")
}

pub fn tgw_attachment(cluster: &str) -> String {
    format!("{cluster}/TransitGatewayAttachment")
}

pub fn cluster_role(cluster: &str) -> String {
    fitted(cluster, CLUSTER_ROLE_SUFFIX, IAM_ROLE_NAME_MAX)
}

pub fn nodes_role(cluster: &str) -> String {
    fitted(cluster, NODES_ROLE_SUFFIX, IAM_ROLE_NAME_MAX)
}

pub fn trust_anchor(cluster: &str) -> String {
    fitted(cluster, "-hybrid-nodes-CA", ROLES_ANYWHERE_NAME_MAX)
}

pub fn profile(cluster: &str) -> String {
    fitted(cluster, "-hybrid-nodes", ROLES_ANYWHERE_NAME_MAX)
}

/// The activation's description, which discovery looks for.
pub fn ssm_activation(cluster: &str) -> String {
    format!("EKS Hybrid Nodes of {cluster} (terraform-provider-eks)")
}

#[cfg(test)]
mod tests {
    #[test]
    fn role_names_fit_iam_limits() {
        let long = "c".repeat(100);
        assert_eq!(super::nodes_role(&long).len(), 64);
        assert_eq!(super::cluster_role(&long).len(), 64);
        assert_eq!(super::nodes_role("demo"), "demo-eks-hybrid-nodes-role");
        let fits = "f".repeat(42);
        assert_eq!(
            super::nodes_role(&fits),
            format!("{fits}-eks-hybrid-nodes-role")
        );
    }

    #[test]
    fn long_names_that_share_a_prefix_do_not_collide() {
        let a = format!("{}-staging", "platform-hybrid-edge-".repeat(3));
        let b = format!("{}-production", "platform-hybrid-edge-".repeat(3));
        for name in [super::cluster_role, super::nodes_role] {
            let (ra, rb) = (name(&a), name(&b));
            assert_ne!(ra, rb);
            assert!(ra.len() <= 64 && rb.len() <= 64, "{ra} {rb}");
            assert!(ra.starts_with("platform-hybrid-edge-"), "{ra}");
        }
        assert!(super::cluster_role(&a).ends_with(super::CLUSTER_ROLE_SUFFIX));
        assert_eq!(super::nodes_role(&a), super::nodes_role(&a), "stable");
    }
}
