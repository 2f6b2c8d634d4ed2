//! Every AWS object the resource created, recorded as soon as it exists. Kept in the
//! resource's private state so a failed apply still lets destroy remove everything.

use serde::{Deserialize, Serialize};

use super::objects::ObjectKey;
use super::spec::{ActivationSpec, Gateway};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Inventory {
    pub vpc_id: Option<String>,
    /// False for a pre-existing VPC: its ID is recorded, but it is never amended or deleted.
    pub vpc_owned: bool,
    pub availability_zones: Vec<String>,
    pub internet_gateway_id: Option<String>,
    pub public_route_table_id: Option<String>,
    pub public_subnet_ids: Vec<String>,
    pub private_subnet_ids: Vec<String>,
    pub private_route_table_ids: Vec<String>,
    pub eip_allocation_ids: Vec<String>,
    pub nat_gateway_ids: Vec<String>,
    pub control_plane_security_group_id: Option<String>,
    pub gateway_id: Option<String>,
    /// `tgw-attach-…` for a transit gateway; the VPC ID once a VGW is attached.
    pub gateway_attachment_id: Option<String>,
    pub routes: Vec<Route>,
    pub cluster_role_name: Option<String>,
    pub nodes_role_name: Option<String>,
    pub trust_anchor_id: Option<String>,
    pub profile_id: Option<String>,
    pub cluster_name: Option<String>,
    /// When EKS created our cluster (`created_at`): a cluster of the same name made at
    /// another time is someone else's.
    pub cluster_created_at: Option<String>,
    pub access_entry_principal: Option<String>,
    pub ssm_activation: Option<ActivationRecord>,
    /// When an apply last recorded these objects (Unix ms): a destroy within the propagation
    /// window after it takes "not found" for EC2 not showing a new object yet.
    pub written_at_ms: Option<u64>,
}

/// An SSM activation and the settings it was made with (it cannot be changed, only replaced).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationRecord {
    pub id: String,
    pub settings: ActivationSpec,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Route {
    pub route_table_id: String,
    pub cidr: String,
}

impl Inventory {
    pub fn to_private(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("inventory serialises")
    }

    pub fn from_private(bytes: &[u8]) -> Inventory {
        if bytes.is_empty() {
            return Inventory::default();
        }
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    /// Records no object (when it was written aside).
    pub fn is_empty(&self) -> bool {
        *self
            == Inventory {
                written_at_ms: self.written_at_ms,
                ..Inventory::default()
            }
    }

    pub fn gateway(&self) -> Option<Gateway> {
        self.gateway_id.as_deref().and_then(Gateway::parse)
    }

    /// The EC2 objects the provider created and tagged: the VPC and what is in it (for its
    /// own VPC only), the control plane security group and a transit gateway attachment.
    pub fn tagged_ec2_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        if self.vpc_owned {
            ids.extend(self.vpc_id.iter().cloned());
            ids.extend(
                self.public_subnet_ids
                    .iter()
                    .chain(&self.private_subnet_ids)
                    .cloned(),
            );
            ids.extend(
                self.internet_gateway_id
                    .iter()
                    .chain(&self.public_route_table_id)
                    .cloned(),
            );
            ids.extend(
                self.private_route_table_ids
                    .iter()
                    .chain(&self.nat_gateway_ids)
                    .chain(&self.eip_allocation_ids)
                    .cloned(),
            );
        }
        ids.extend(self.control_plane_security_group_id.iter().cloned());
        if let Some(Gateway::Transit(_)) = self.gateway() {
            ids.extend(self.gateway_attachment_id.iter().cloned());
        }
        ids
    }
}

/// The inventory a state records in its public attributes: every object `owned_objects`
/// names, and the IDs beside it. Terraform hands a destroy the state of the object it
/// destroys, but not always its private state (a tainted object replaced by a new one gets
/// the new plan's), so destroy rebuilds what it owns from here rather than finding objects
/// by name, which would take another workspace's objects of the same name for ours.
pub fn recorded_in_state(state: &PublicRecord, gateway: Option<&Gateway>) -> Inventory {
    let mut inv = Inventory::default();
    for key in &state.owned {
        match key {
            ObjectKey::Cluster(name) => {
                inv.cluster_name = Some(name.clone());
                inv.cluster_created_at = state.created_at.clone();
            }
            ObjectKey::AccessEntry(_) => {
                inv.access_entry_principal = state.remote_nodes_role_arn.clone()
            }
            ObjectKey::Vpc(id) => {
                inv.vpc_id = Some(id.clone());
                inv.vpc_owned = true;
            }
            ObjectKey::InternetGateway(id) => inv.internet_gateway_id = Some(id.clone()),
            ObjectKey::NatGateway(id) => inv.nat_gateway_ids.push(id.clone()),
            ObjectKey::SecurityGroup(id) => inv.control_plane_security_group_id = Some(id.clone()),
            ObjectKey::Route { table, cidr } if cidr != super::spec::DEFAULT_ROUTE => {
                inv.routes.push(Route {
                    route_table_id: table.clone(),
                    cidr: cidr.clone(),
                })
            }
            ObjectKey::TransitGatewayAttachment(id) => {
                inv.gateway_attachment_id = Some(id.clone());
                inv.gateway_id = gateway.map(|g| g.id().to_string());
            }
            ObjectKey::VpnGatewayAttachment(vgw) => {
                inv.gateway_id = Some(vgw.clone());
                inv.gateway_attachment_id = state.vpc_id.clone();
            }
            ObjectKey::IamRole(name) if name.ends_with(super::names::CLUSTER_ROLE_SUFFIX) => {
                inv.cluster_role_name = Some(name.clone())
            }
            ObjectKey::IamRole(name) => inv.nodes_role_name = Some(name.clone()),
            ObjectKey::TrustAnchor(id) => inv.trust_anchor_id = Some(id.clone()),
            ObjectKey::Profile(id) => inv.profile_id = Some(id.clone()),
            ObjectKey::SsmActivation(id) => {
                inv.ssm_activation = Some(ActivationRecord {
                    id: id.clone(),
                    settings: ActivationSpec {
                        registration_limit: 0,
                        expiration: None,
                    },
                })
            }
            _ => {}
        }
    }
    if inv.vpc_owned {
        inv.public_subnet_ids = state.public_subnet_ids.clone();
        inv.private_subnet_ids = state.private_subnet_ids.clone();
        inv.private_route_table_ids = state.route_table_ids.clone();
    }
    inv
}

/// What a state says in public of the objects it owns: the keys of `owned_objects` and the
/// IDs beside them.
#[derive(Clone, Debug, Default)]
pub struct PublicRecord {
    pub owned: Vec<ObjectKey>,
    pub created_at: Option<String>,
    pub remote_nodes_role_arn: Option<String>,
    pub vpc_id: Option<String>,
    pub public_subnet_ids: Vec<String>,
    pub private_subnet_ids: Vec<String>,
    pub route_table_ids: Vec<String>,
}

/// Fills what `recorded` lacks from `found` (discovery); recorded values win.
pub fn merge(recorded: Inventory, found: Inventory) -> Inventory {
    fn one(a: Option<String>, b: Option<String>) -> Option<String> {
        a.or(b)
    }
    fn many<T: PartialEq>(mut a: Vec<T>, b: Vec<T>) -> Vec<T> {
        for x in b {
            if !a.contains(&x) {
                a.push(x);
            }
        }
        a
    }
    let public_route_table_id = one(recorded.public_route_table_id, found.public_route_table_id);
    // A table is public or private, never both; what the provider recorded wins.
    let private_route_table_ids = many(
        recorded.private_route_table_ids,
        found.private_route_table_ids,
    )
    .into_iter()
    .filter(|t| public_route_table_id.as_ref() != Some(t))
    .collect();
    Inventory {
        vpc_id: one(recorded.vpc_id, found.vpc_id),
        vpc_owned: recorded.vpc_owned || found.vpc_owned,
        availability_zones: many(recorded.availability_zones, found.availability_zones),
        internet_gateway_id: one(recorded.internet_gateway_id, found.internet_gateway_id),
        public_route_table_id,
        public_subnet_ids: many(recorded.public_subnet_ids, found.public_subnet_ids),
        private_subnet_ids: many(recorded.private_subnet_ids, found.private_subnet_ids),
        private_route_table_ids,
        eip_allocation_ids: many(recorded.eip_allocation_ids, found.eip_allocation_ids),
        nat_gateway_ids: many(recorded.nat_gateway_ids, found.nat_gateway_ids),
        control_plane_security_group_id: one(
            recorded.control_plane_security_group_id,
            found.control_plane_security_group_id,
        ),
        gateway_id: one(recorded.gateway_id, found.gateway_id),
        gateway_attachment_id: one(recorded.gateway_attachment_id, found.gateway_attachment_id),
        routes: many(recorded.routes, found.routes),
        cluster_role_name: one(recorded.cluster_role_name, found.cluster_role_name),
        nodes_role_name: one(recorded.nodes_role_name, found.nodes_role_name),
        trust_anchor_id: one(recorded.trust_anchor_id, found.trust_anchor_id),
        profile_id: one(recorded.profile_id, found.profile_id),
        cluster_name: one(recorded.cluster_name, found.cluster_name),
        cluster_created_at: one(recorded.cluster_created_at, found.cluster_created_at),
        access_entry_principal: one(
            recorded.access_entry_principal,
            found.access_entry_principal,
        ),
        ssm_activation: recorded.ssm_activation.or(found.ssm_activation),
        written_at_ms: recorded.written_at_ms.max(found.written_at_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_state_round_trips_and_tolerates_garbage() {
        let inv = Inventory {
            vpc_id: Some("vpc-1".into()),
            vpc_owned: true,
            routes: vec![Route {
                route_table_id: "rtb-1".into(),
                cidr: "10.0.0.0/24".into(),
            }],
            ..Inventory::default()
        };
        assert_eq!(Inventory::from_private(&inv.to_private()), inv);
        assert!(Inventory::from_private(b"").is_empty());
        assert!(Inventory::from_private(b"not json").is_empty());
    }

    #[test]
    fn merge_keeps_records_and_adds_discoveries() {
        let recorded = Inventory {
            vpc_id: Some("vpc-1".into()),
            private_subnet_ids: vec!["s1".into()],
            ..Default::default()
        };
        let found = Inventory {
            vpc_id: Some("vpc-2".into()),
            private_subnet_ids: vec!["s1".into(), "s2".into()],
            nodes_role_name: Some("r".into()),
            ..Default::default()
        };
        let m = merge(recorded, found);
        assert_eq!(m.vpc_id.as_deref(), Some("vpc-1"));
        assert_eq!(m.private_subnet_ids, vec!["s1", "s2"]);
        assert_eq!(m.nodes_role_name.as_deref(), Some("r"));
    }

    #[test]
    fn the_recorded_public_route_table_is_never_taken_for_a_private_one() {
        let recorded = Inventory {
            public_route_table_id: Some("rtb-pub".into()),
            private_route_table_ids: vec!["rtb-a".into()],
            ..Default::default()
        };
        let found = Inventory {
            private_route_table_ids: vec!["rtb-a".into(), "rtb-pub".into()],
            ..Default::default()
        };
        let m = merge(recorded, found);
        assert_eq!(m.public_route_table_id.as_deref(), Some("rtb-pub"));
        assert_eq!(m.private_route_table_ids, vec!["rtb-a"]);
    }
}
