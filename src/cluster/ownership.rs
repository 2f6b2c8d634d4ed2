//! Which AWS objects are ours. An object is ours only if this resource recorded it when it
//! created it (its inventory, or the objects its state names), or, for what lives inside a
//! VPC we created, if it carries our ownership tag. Names are not ownership: another
//! workspace, eksctl or the console can hold a cluster, role, trust anchor, profile or
//! security group with the very name we would give ours. Such an object is an error, at plan
//! where a read can see it and before any write at apply otherwise, and is never changed or
//! deleted.

use super::inventory::Inventory;
use super::names::{self, OWNERSHIP_TAG};
use super::spec::{ClusterSpec, VpcSpec};
use crate::aws::{ec2, eks, iam, rolesanywhere, AwsClients, AwsError, AwsResult};

/// The names this resource would give the objects it creates, for the objects it would
/// create: a role the user brings, or a name not known yet, is left out.
#[derive(Debug, Default, PartialEq)]
pub struct OurNames {
    pub cluster: Option<String>,
    pub cluster_role: Option<String>,
    pub nodes_role: Option<String>,
    /// (trust anchor, profile), for IAM Roles Anywhere without a role of the user's.
    pub roles_anywhere: Option<(String, String)>,
    /// (pre-existing VPC, security group name): names are unique within a VPC.
    pub security_group: Option<(String, String)>,
}

impl OurNames {
    /// For an apply: every name of the spec, less what `inv` records as ours already.
    pub fn of_spec(spec: &ClusterSpec, inv: &Inventory) -> OurNames {
        let name = &spec.name;
        fn unless<T>(recorded: bool, v: T) -> Option<T> {
            (!recorded).then_some(v)
        }
        OurNames {
            cluster: unless(inv.cluster_name.is_some(), name.clone()),
            cluster_role: spec
                .cluster_role_arn
                .is_none()
                .then(|| names::cluster_role(name))
                .and_then(|n| unless(inv.cluster_role_name.is_some(), n)),
            nodes_role: spec
                .remote
                .role_arn
                .is_none()
                .then(|| names::nodes_role(name))
                .and_then(|n| unless(inv.nodes_role_name.is_some(), n)),
            roles_anywhere: spec
                .creates_roles_anywhere_objects()
                .then(|| (names::trust_anchor(name), names::profile(name)))
                .and_then(|n| unless(inv.trust_anchor_id.is_some() || inv.profile_id.is_some(), n)),
            security_group: match &spec.vpc {
                VpcSpec::Existing { id, .. } => unless(
                    inv.control_plane_security_group_id.is_some(),
                    (id.clone(), names::control_plane_sg(name)),
                ),
                VpcSpec::Create { .. } => None,
            },
        }
    }

    /// Leaves out what the prior state holds: a replacement reuses the names of the objects
    /// its destroy removes first.
    pub fn less_held_by(mut self, prior: &Inventory) -> OurNames {
        if prior.cluster_name.is_some() {
            self.cluster = None;
        }
        if prior.cluster_role_name.is_some() {
            self.cluster_role = None;
        }
        if prior.nodes_role_name.is_some() {
            self.nodes_role = None;
        }
        if prior.trust_anchor_id.is_some() || prior.profile_id.is_some() {
            self.roles_anywhere = None;
        }
        if prior.control_plane_security_group_id.is_some() {
            self.security_group = None;
        }
        self
    }
}

/// An object that carries one of our names and is not ours.
#[derive(Debug, PartialEq)]
pub struct Taken {
    /// "an EKS cluster named demo", for messages.
    pub what: String,
    /// Whether it carries our ownership tag for this cluster name: made by this provider for
    /// a cluster of this name, in this state (a tainted object about to be replaced, whose
    /// state a plan is not shown) or in another.
    pub tagged_ours: bool,
    /// Named by the pre-existing VPC (`vpc.id`) rather than by `name` alone.
    pub in_vpc: bool,
}

fn tagged_ours(tags: &std::collections::BTreeMap<String, String>, cluster: &str) -> bool {
    tags.get(OWNERSHIP_TAG).map(String::as_str) == Some(cluster)
}

/// Looks up every name at once (reads only) and returns the objects that hold one.
pub async fn taken(aws: &AwsClients, cluster: &str, names: &OurNames) -> AwsResult<Vec<Taken>> {
    let cluster_lookup = async {
        let Some(name) = &names.cluster else {
            return Ok(None);
        };
        Ok(eks::describe_cluster(&aws.eks, name).await?.map(|c| {
            let tags = c.tags().cloned().unwrap_or_default().into_iter().collect();
            Taken {
                what: format!("an EKS cluster named {name}"),
                tagged_ours: tagged_ours(&tags, cluster),
                in_vpc: false,
            }
        }))
    };
    let role = |name: Option<String>| async move {
        let Some(name) = name else {
            return Ok(None);
        };
        Ok(iam::role_details(&aws.iam, &name).await?.map(|r| Taken {
            what: format!("an IAM role named {name}"),
            tagged_ours: tagged_ours(&r.tags, cluster),
            in_vpc: false,
        }))
    };
    let roles_anywhere = async {
        let Some((anchor, profile)) = &names.roles_anywhere else {
            return Ok(vec![]);
        };
        let ra = &aws.rolesanywhere;
        let (anchors, profiles) = rolesanywhere::find_by_names(ra, anchor, profile).await?;
        let mut out = Vec::new();
        for (found, kind, name) in [
            (anchors, "trust anchor", anchor),
            (profiles, "profile", profile),
        ] {
            if found.is_empty() {
                continue;
            }
            let ours = rolesanywhere::first_tagged(ra, &found, OWNERSHIP_TAG, cluster).await?;
            out.push(Taken {
                what: format!("an IAM Roles Anywhere {kind} named {name}"),
                tagged_ours: ours.is_some() && found.len() == 1,
                in_vpc: false,
            });
        }
        AwsResult::Ok(out)
    };
    let security_group = async {
        let Some((vpc, name)) = &names.security_group else {
            return Ok(None);
        };
        Ok(ec2::security_group_named(&aws.ec2, vpc, name)
            .await?
            .map(|id| Taken {
                what: format!("a security group named {name} ({id}) in {vpc}"),
                tagged_ours: false,
                in_vpc: true,
            }))
    };
    let (c, cr, nr, ra, sg) = tokio::join!(
        cluster_lookup,
        role(names.cluster_role.clone()),
        role(names.nodes_role.clone()),
        roles_anywhere,
        security_group,
    );
    let mut out: Vec<Taken> = [c?, cr?, nr?].into_iter().flatten().collect();
    out.extend(ra?);
    out.extend(sg?);
    Ok(out)
}

pub const ADVICE: &str = "The provider never takes over an object it did not create, so it neither changes nor deletes it. To manage an existing cluster with Terraform, import it (`terraform import <address> <cluster name>`, or `terraform query` with a `list \"eks_hybrid_cluster\"` block to generate its configuration); otherwise choose another `name`.";

/// The error for an object with our name that this state did not create.
pub fn foreign(step: &str, what: &str) -> AwsError {
    AwsError::refused(
        step,
        "AlreadyExists",
        format!("{what} already exists in this account and region, and this Terraform state did not create it. {ADVICE}"),
    )
}

/// At apply, before the first write of a create: every object with one of our names that
/// is not recorded as ours stops the apply, so a clash costs no AWS object at all.
pub async fn refuse_foreign(
    aws: &AwsClients,
    spec: &ClusterSpec,
    inv: &Inventory,
) -> AwsResult<()> {
    let names = OurNames::of_spec(spec, inv);
    match taken(aws, &spec.name, &names).await?.into_iter().next() {
        Some(t) => Err(foreign(&format!("creating {}", spec.name), &t.what)),
        None => Ok(()),
    }
}

/// What to say of a cluster of our name that EKS made at another time than ours.
pub fn other_cluster_detail(name: &str, ours_created_at: Option<&str>) -> String {
    let ours = ours_created_at.map_or(String::new(), |t| format!(" (created at {t})"));
    format!("The EKS cluster {name} this state created{ours} was deleted outside Terraform, and another cluster of the same name holds the name now. The provider never changes or deletes a cluster it did not create, and cannot make this one again while the name is in use. Delete that cluster if it is a mistake, or choose another `name` (a replacement). To delete what this state made and leave that cluster, run `terraform destroy -refresh=false` (a destroy with a refresh plans the configuration first, and stops here). To manage that cluster here instead, `terraform state rm` this resource and import it.")
}

/// The cluster named `name` if EKS created it at another time than ours (`ours_created_at`).
pub async fn other_cluster(
    aws: &AwsClients,
    name: &str,
    ours_created_at: &str,
) -> AwsResult<Option<aws_sdk_eks::types::Cluster>> {
    Ok(eks::describe_cluster(&aws.eks, name)
        .await?
        .filter(|c| eks::created_at(c).as_deref() != Some(ours_created_at)))
}

/// At destroy: when a cluster of our name that EKS made at another time than ours holds the
/// name, the inventory without it, its access entry and, if that cluster runs on it, our
/// cluster role; and what to say of it. Its nodes are not ours to deregister either: they
/// carry the same cluster ARN.
pub async fn leave_other_cluster(
    aws: &AwsClients,
    mut inv: Inventory,
) -> AwsResult<(Inventory, Option<String>)> {
    let (Some(name), Some(ours)) = (inv.cluster_name.clone(), inv.cluster_created_at.clone())
    else {
        return Ok((inv, None));
    };
    let Some(other) = other_cluster(aws, &name, &ours).await? else {
        return Ok((inv, None));
    };
    inv.cluster_name = None;
    inv.access_entry_principal = None;
    let runs_on = |role: &String| {
        other
            .role_arn()
            .is_some_and(|arn| iam::role_name_of(arn) == role.as_str())
    };
    if inv.cluster_role_name.as_ref().is_some_and(runs_on) {
        inv.cluster_role_name = None;
    }
    let made = eks::created_at(&other).unwrap_or_else(|| "?".into());
    Ok((inv, Some(format!("The EKS cluster {name} this state created (created at {ours}) was deleted outside Terraform; the cluster of that name now, created at {made}, is not this state's. It was left as it is, with its access entries, the nodes registered with it and the role it runs on, and everything else this state made was deleted."))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_held_by_the_prior_state_are_not_looked_up() {
        let names = OurNames {
            cluster: Some("c".into()),
            cluster_role: Some("r".into()),
            nodes_role: Some("n".into()),
            roles_anywhere: Some(("a".into(), "p".into())),
            security_group: Some(("vpc-1".into(), "sg".into())),
        };
        let prior = Inventory {
            cluster_name: Some("c".into()),
            nodes_role_name: Some("n".into()),
            ..Inventory::default()
        };
        let left = names.less_held_by(&prior);
        assert_eq!(left.cluster, None);
        assert_eq!(left.nodes_role, None);
        assert_eq!(left.cluster_role.as_deref(), Some("r"));
        assert!(left.roles_anywhere.is_some() && left.security_group.is_some());
    }
}
