//! Names of the objects the resource creates. Deterministic, so import and leak checks can
//! find them, and within AWS's length limits.

pub const OWNERSHIP_TAG: &str = "terraform-provider-eks/cluster";

fn truncate(s: String, max: usize) -> String {
    s.chars().take(max).collect()
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
    truncate(format!("{cluster}-eks-cluster-role"), 64)
}

pub fn nodes_role(cluster: &str) -> String {
    truncate(format!("{cluster}-eks-hybrid-nodes-role"), 64)
}

pub fn trust_anchor(cluster: &str) -> String {
    truncate(format!("{cluster}-hybrid-nodes-CA"), 255)
}

pub fn profile(cluster: &str) -> String {
    truncate(format!("{cluster}-hybrid-nodes"), 255)
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
        assert_eq!(super::nodes_role("demo"), "demo-eks-hybrid-nodes-role");
    }
}
