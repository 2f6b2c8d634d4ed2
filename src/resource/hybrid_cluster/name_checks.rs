//! Plan-time checks of ownership: the names a configuration would give its objects, looked
//! up before any write, and a cluster of our name made by someone else after ours was
//! deleted. The rules themselves are the domain's (`cluster::ownership`).

use tfplugin6::{AttrPath, Diagnostics, One, Unknown};

use super::model::{ClusterConfig, ClusterState, Vpc};
use crate::aws::AwsClients;
use crate::cluster::inventory::Inventory;
use crate::cluster::names;
use crate::cluster::objects::ObjectKey;
use crate::cluster::ownership::{other_cluster_detail, taken, OurNames, Taken, ADVICE};
use crate::cluster::spec::{parse_provider, CredentialsProvider};

/// For a plan: the names a configuration would use, as far as it is known. A value still
/// unknown (a role ARN from another resource, say) leaves its object out.
pub fn our_names_of_config(c: &ClusterConfig) -> OurNames {
    let Some(name) = c.name.known() else {
        return OurNames::default();
    };
    let rnc = c.remote_network_config.known().and_then(One::get);
    let iam = rnc.map(|r| r.iam.known().map(|i| i.get()));
    // No iam block at all is SSM with a role of ours.
    let (provider, brings_role) = match iam {
        Some(Some(None)) => (Some(CredentialsProvider::Ssm), Some(false)),
        Some(Some(Some(i))) => (
            i.provider.value().and_then(|p| parse_provider(p)),
            match &i.role_arn {
                Unknown::Known(r) => Some(r.is_some()),
                Unknown::Unknown => None,
            },
        ),
        _ => (None, None),
    };
    let vpc = c.vpc.known().map(|v| v.get());
    OurNames {
        cluster: Some(name.clone()),
        cluster_role: matches!(c.cluster_role_arn, Unknown::Known(None))
            .then(|| names::cluster_role(name)),
        nodes_role: (brings_role == Some(false)).then(|| names::nodes_role(name)),
        roles_anywhere: (brings_role == Some(false) && provider == Some(CredentialsProvider::Ira))
            .then(|| (names::trust_anchor(name), names::profile(name))),
        security_group: match vpc {
            Some(Some(v)) => {
                v.id.value()
                    .map(|id| (id.clone(), names::control_plane_sg(name)))
            }
            _ => None,
        },
    }
}

/// At plan, for a create or a replacement: the same look-ups, as diagnostics at the
/// attribute that chose the name. An object tagged as ours for this cluster name may be this
/// resource's own tainted object, which Terraform destroys before creating its replacement
/// (and does not show the plan), so it is a warning: apply stops before any write if it is
/// still there then.
pub async fn check_plan(
    aws: &AwsClients,
    config: &ClusterConfig,
    prior: &Inventory,
) -> Diagnostics {
    let mut d = Diagnostics::default();
    let names = our_names_of_config(config).less_held_by(prior);
    let Some(cluster) = config.name.known() else {
        return d;
    };
    let at = |t: &Taken| {
        if t.in_vpc {
            AttrPath::root(ClusterConfig::vpc).index(0).attr(Vpc::id)
        } else {
            AttrPath::root(ClusterConfig::name)
        }
    };
    match taken(aws, cluster, &names).await {
        Ok(found) => {
            for t in found {
                if t.tagged_ours {
                    d.warning_at(
                        at(&t),
                        "Name already used by this provider",
                        format!("{} made by this provider for a cluster named {cluster} already exists. If it belongs to this resource's tainted object, Terraform deletes it before creating the replacement. If another Terraform state holds it, apply stops before creating anything. {ADVICE}", t.what),
                    );
                } else {
                    d.error_at(
                        at(&t),
                        "Name already taken",
                        format!("{} already exists in this account and region, and this Terraform state did not create it. {ADVICE}", t.what),
                    );
                }
            }
        }
        Err(e) => d.error_at(
            AttrPath::root(ClusterConfig::name),
            format!(
                "AWS error while checking that the names are free: {}",
                e.step()
            ),
            e.detail(),
        ),
    }
    d
}

/// The name of our cluster when the last refresh found another cluster holding it.
pub fn name_held_by_another_cluster(prior: &ClusterState) -> Option<String> {
    prior
        .owned_objects
        .value()?
        .iter()
        .find_map(|(k, s)| match k {
            ObjectKey::Cluster(name) if s.is_not_ours() => Some(name.clone()),
            _ => None,
        })
}

/// At plan, for anything but a destroy: a refresh that found our cluster's name held by
/// another cluster stops the plan while the name stays, at `name`, before any write (apply
/// would fail on CreateCluster, or a replacement after deleting the rest). Terraform plans
/// the configuration before a destroy too, so the message names the destroy that does not.
pub fn check_cluster_still_ours(prior: &ClusterState, config: &ClusterConfig) -> Diagnostics {
    let mut d = Diagnostics::default();
    if let Some(name) =
        name_held_by_another_cluster(prior).filter(|n| config.name.known() == Some(n))
    {
        d.error_at(
            AttrPath::root(ClusterConfig::name),
            "Cluster name held by another cluster",
            other_cluster_detail(&name, prior.created_at.value().map(String::as_str)),
        );
    }
    d
}
