//! The AWS objects the resource owns, as `owned_objects` names them (`kind/id…`), and the
//! state a read found each in. Both parse from and print to the strings users see in plans.

use std::fmt;
use std::str::FromStr;

use super::spec::Gateway;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKey {
    Cluster(String),
    AccessEntry(String),
    Vpc(String),
    Subnet(String),
    InternetGateway(String),
    NatGateway(String),
    SecurityGroup(String),
    SecurityGroupRule {
        group: String,
        cidr: String,
    },
    Route {
        table: String,
        cidr: String,
    },
    TransitGatewayAttachment(String),
    /// A virtual private gateway attached to the VPC, by the gateway's ID.
    VpnGatewayAttachment(String),
    IamRole(String),
    IamRoleTrustPolicy(String),
    /// The permissions boundary `role_permissions_boundary` gives a role of ours.
    IamRolePermissionsBoundary(String),
    IamRolePolicy {
        role: String,
        policy: String,
    },
    IamRolePolicyAttachment {
        role: String,
        policy: String,
    },
    TrustAnchor(String),
    Profile(String),
    SsmActivation(String),
    /// Not an AWS object: a create that failed after making some objects. Its presence plans
    /// an update that completes the rest (after `terraform untaint`), instead of no change.
    UnfinishedCreate,
    /// A key of a kind this version does not know (from a newer provider's state).
    Other(String),
}

impl ObjectKey {
    /// The gateway's attachment: a transit gateway's by attachment ID, a virtual private
    /// gateway's by the gateway's own ID.
    pub fn gateway_attachment(gateway: &Gateway, attachment: &str) -> ObjectKey {
        match gateway {
            Gateway::Transit(_) => ObjectKey::TransitGatewayAttachment(attachment.to_string()),
            Gateway::Vpn(vgw) => ObjectKey::VpnGatewayAttachment(vgw.clone()),
        }
    }

    pub fn route(table: &str, cidr: &str) -> ObjectKey {
        ObjectKey::Route {
            table: table.to_string(),
            cidr: cidr.to_string(),
        }
    }

    pub fn security_group_rule(group: &str, cidr: &str) -> ObjectKey {
        ObjectKey::SecurityGroupRule {
            group: group.to_string(),
            cidr: cidr.to_string(),
        }
    }

    pub fn policy_attachment(role: &str, policy: &str) -> ObjectKey {
        ObjectKey::IamRolePolicyAttachment {
            role: role.to_string(),
            policy: policy.to_string(),
        }
    }

    pub fn inline_policy(role: &str, policy: &str) -> ObjectKey {
        ObjectKey::IamRolePolicy {
            role: role.to_string(),
            policy: policy.to_string(),
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ObjectKey::*;
        match self {
            Cluster(n) => write!(f, "cluster/{n}"),
            AccessEntry(n) => write!(f, "access_entry/{n}"),
            Vpc(id) => write!(f, "vpc/{id}"),
            Subnet(id) => write!(f, "subnet/{id}"),
            InternetGateway(id) => write!(f, "internet_gateway/{id}"),
            NatGateway(id) => write!(f, "nat_gateway/{id}"),
            SecurityGroup(id) => write!(f, "security_group/{id}"),
            SecurityGroupRule { group, cidr } => {
                write!(f, "security_group_rule/{group}/tcp443/{cidr}")
            }
            Route { table, cidr } => write!(f, "route/{table}/{cidr}"),
            TransitGatewayAttachment(id) => write!(f, "transit_gateway_attachment/{id}"),
            VpnGatewayAttachment(id) => write!(f, "vpn_gateway_attachment/{id}"),
            IamRole(n) => write!(f, "iam_role/{n}"),
            IamRoleTrustPolicy(n) => write!(f, "iam_role_trust_policy/{n}"),
            IamRolePermissionsBoundary(n) => write!(f, "iam_role_permissions_boundary/{n}"),
            IamRolePolicy { role, policy } => write!(f, "iam_role_policy/{role}/{policy}"),
            IamRolePolicyAttachment { role, policy } => {
                write!(f, "iam_role_policy_attachment/{role}/{policy}")
            }
            TrustAnchor(id) => write!(f, "trust_anchor/{id}"),
            Profile(id) => write!(f, "profile/{id}"),
            SsmActivation(id) => write!(f, "ssm_activation/{id}"),
            UnfinishedCreate => f.write_str("create/unfinished"),
            Other(s) => f.write_str(s),
        }
    }
}

impl FromStr for ObjectKey {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<ObjectKey, Self::Err> {
        use ObjectKey::*;
        let Some((kind, rest)) = s.split_once('/') else {
            return Ok(Other(s.to_string()));
        };
        let one = |f: fn(String) -> ObjectKey| f(rest.to_string());
        // Route and rule CIDRs contain a '/', so the first part is split off, not the last.
        let pair = || {
            rest.split_once('/')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        };
        Ok(match kind {
            "cluster" => one(Cluster),
            "access_entry" => one(AccessEntry),
            "vpc" => one(Vpc),
            "subnet" => one(Subnet),
            "internet_gateway" => one(InternetGateway),
            "nat_gateway" => one(NatGateway),
            "security_group" => one(SecurityGroup),
            "transit_gateway_attachment" => one(TransitGatewayAttachment),
            "vpn_gateway_attachment" => one(VpnGatewayAttachment),
            "iam_role" => one(IamRole),
            "iam_role_trust_policy" => one(IamRoleTrustPolicy),
            "iam_role_permissions_boundary" => one(IamRolePermissionsBoundary),
            "trust_anchor" => one(TrustAnchor),
            "profile" => one(Profile),
            "ssm_activation" => one(SsmActivation),
            "create" if rest == "unfinished" => UnfinishedCreate,
            "route" => match pair() {
                Some((table, cidr)) => Route { table, cidr },
                None => Other(s.to_string()),
            },
            "security_group_rule" => match pair()
                .and_then(|(group, rest)| Some((group, rest.strip_prefix("tcp443/")?.to_string())))
            {
                Some((group, cidr)) => SecurityGroupRule { group, cidr },
                None => Other(s.to_string()),
            },
            "iam_role_policy" => match pair() {
                Some((role, policy)) => IamRolePolicy { role, policy },
                None => Other(s.to_string()),
            },
            "iam_role_policy_attachment" => match pair() {
                Some((role, policy)) => IamRolePolicyAttachment { role, policy },
                None => Other(s.to_string()),
            },
            _ => Other(s.to_string()),
        })
    }
}

/// Whether apply makes `key` anew rather than refuse to: a missing internet gateway or control
/// plane security group of a cluster that is missing too (a destroy stopped in its network
/// phase) is used by nothing, so it comes back with the cluster. Plan and apply both ask here.
pub fn made_anew_with_the_cluster(
    key: &ObjectKey,
    status: Option<&ObjectStatus>,
    cluster: Option<&ObjectStatus>,
) -> bool {
    matches!(
        key,
        ObjectKey::InternetGateway(_) | ObjectKey::SecurityGroup(_)
    ) && status == Some(&ObjectStatus::Missing)
        && cluster == Some(&ObjectStatus::Missing)
}

/// What a read found of one owned object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectStatus {
    Ok,
    Missing,
    /// Present, but not as the provider made it (a policy document edited, a route repointed).
    Changed,
    Disabled,
    Detached,
    Expired,
    /// Attached though the provider's configuration no longer wants it.
    Attached,
    /// A transit gateway attachment its owner has not accepted yet.
    PendingAcceptance,
    /// Any other state AWS reports (`deleted`, `failed`, `pending`, …).
    Other(String),
}

impl ObjectStatus {
    /// The status of [`ObjectKey::UnfinishedCreate`].
    pub fn failed() -> ObjectStatus {
        ObjectStatus::Other("failed".into())
    }

    /// A cluster of our name made at another time than ours: someone else's.
    pub fn not_ours() -> ObjectStatus {
        ObjectStatus::Other(NOT_OURS.into())
    }

    pub fn is_not_ours(&self) -> bool {
        matches!(self, ObjectStatus::Other(s) if s == NOT_OURS)
    }

    pub fn ok_or(ok: bool, otherwise: ObjectStatus) -> ObjectStatus {
        if ok {
            ObjectStatus::Ok
        } else {
            otherwise
        }
    }
}

const NOT_OURS: &str = "another cluster of this name";

impl fmt::Display for ObjectStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectStatus::Ok => "ok",
            ObjectStatus::Missing => "missing",
            ObjectStatus::Changed => "changed",
            ObjectStatus::Disabled => "disabled",
            ObjectStatus::Detached => "detached",
            ObjectStatus::Expired => "expired",
            ObjectStatus::Attached => "attached",
            ObjectStatus::PendingAcceptance => "pendingAcceptance",
            ObjectStatus::Other(s) => s,
        })
    }
}

impl FromStr for ObjectStatus {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<ObjectStatus, Self::Err> {
        Ok(match s {
            "ok" => ObjectStatus::Ok,
            "missing" => ObjectStatus::Missing,
            "changed" => ObjectStatus::Changed,
            "disabled" => ObjectStatus::Disabled,
            "detached" => ObjectStatus::Detached,
            "expired" => ObjectStatus::Expired,
            "attached" => ObjectStatus::Attached,
            "pendingAcceptance" => ObjectStatus::PendingAcceptance,
            other => ObjectStatus::Other(other.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_prints_and_parses_back() {
        let keys = [
            ObjectKey::Cluster("demo".into()),
            ObjectKey::route("rtb-1", "10.80.146.0/24"),
            ObjectKey::security_group_rule("sg-1", "10.86.30.0/23"),
            ObjectKey::inline_policy("demo-eks-hybrid-nodes-role", "hybrid-nodes"),
            ObjectKey::policy_attachment("r", "AmazonEKSClusterPolicy"),
            ObjectKey::gateway_attachment(&Gateway::Vpn("vgw-1".into()), "vpc-1"),
            ObjectKey::gateway_attachment(&Gateway::Transit("tgw-1".into()), "tgw-attach-1"),
            ObjectKey::SsmActivation("8b2e".into()),
            ObjectKey::IamRolePermissionsBoundary("demo-eks-cluster-role".into()),
            ObjectKey::UnfinishedCreate,
            ObjectKey::Other("future_kind".into()),
        ];
        for k in keys {
            assert_eq!(k.to_string().parse::<ObjectKey>().unwrap(), k);
        }
        assert_eq!(
            ObjectKey::security_group_rule("sg-1", "10.0.0.0/8").to_string(),
            "security_group_rule/sg-1/tcp443/10.0.0.0/8"
        );
        assert_eq!(
            ObjectKey::gateway_attachment(&Gateway::Vpn("vgw-1".into()), "vpc-1").to_string(),
            "vpn_gateway_attachment/vgw-1"
        );
    }

    #[test]
    fn statuses_print_as_users_see_them() {
        for s in [
            "ok",
            "missing",
            "changed",
            "pendingAcceptance",
            "deleted",
            "attached",
        ] {
            assert_eq!(s.parse::<ObjectStatus>().unwrap().to_string(), s);
        }
        assert_eq!(
            "pendingAcceptance".parse::<ObjectStatus>().unwrap(),
            ObjectStatus::PendingAcceptance
        );
    }
}
