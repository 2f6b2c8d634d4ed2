//! eksctl's note on the VPC CNI: before v1.19.0-eksbuild.1 the `aws-node` DaemonSet has no
//! affinity rule keeping it off hybrid nodes, where it cannot work and keeps the nodes from
//! becoming Ready. The provider reads the cluster's `vpc-cni` add-on and warns.

use super::Advice;
use crate::aws::{eks, AwsClients};

pub const ADDON: &str = "vpc-cni";
pub const MIN_VERSION: &str = "v1.19.0-eksbuild.1";

/// `v1.18.5-eksbuild.1` as (1, 18, 5, 1).
fn parse(version: &str) -> Option<(u64, u64, u64, u64)> {
    let (semver, build) = version.strip_prefix('v')?.split_once("-eksbuild.")?;
    let mut parts = semver.split('.').map(|p| p.parse::<u64>().ok());
    let (major, minor, patch) = (parts.next()??, parts.next()??, parts.next()??);
    Some((major, minor, patch, build.parse().ok()?))
}

pub fn too_old(version: &str) -> bool {
    match (parse(version), parse(MIN_VERSION)) {
        (Some(v), Some(min)) => v < min,
        _ => false,
    }
}

/// A warning when the cluster's `vpc-cni` add-on predates hybrid node support. Reading the
/// add-on is advice, not a requirement: failures to read it are only logged.
pub async fn check(aws: &AwsClients, cluster: &str) -> Option<Advice> {
    match eks::addon_version(&aws.eks, cluster, ADDON).await {
        Ok(Some(version)) if too_old(&version) => Some(Advice {
            summary: "VPC CNI add-on too old for hybrid nodes".into(),
            detail: format!(
                "Cluster {cluster} runs the {ADDON} add-on {version}. Versions before {MIN_VERSION} schedule the aws-node DaemonSet on hybrid nodes too, where it cannot run and keeps them NotReady. Update the add-on to {MIN_VERSION} or later (for example `aws eks update-addon --cluster-name {cluster} --addon-name {ADDON} --addon-version <version>`), and run a CNI such as Cilium on the hybrid nodes."
            ),
        }),
        Ok(_) => None,
        Err(e) => {
            tracing::debug!(cluster, error = %e, "could not read the vpc-cni add-on");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_before_1_19_0_eksbuild_1_are_too_old() {
        for old in [
            "v1.18.5-eksbuild.1",
            "v1.9.3-eksbuild.7",
            "v0.99.0-eksbuild.1",
        ] {
            assert!(too_old(old), "{old}");
        }
        for fine in [
            "v1.19.0-eksbuild.1",
            "v1.19.0-eksbuild.2",
            "v1.20.4-eksbuild.2",
            "v2.0.0-eksbuild.1",
        ] {
            assert!(!too_old(fine), "{fine}");
        }
        for unparsable in ["latest", "1.18.0", "v1.18-eksbuild.1"] {
            assert!(!too_old(unparsable), "{unparsable} is not judged");
        }
    }
}
