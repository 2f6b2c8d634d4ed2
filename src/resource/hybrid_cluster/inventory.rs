//! Every AWS object the resource created, recorded as soon as it exists. Kept in the
//! resource's private state so a failed apply still lets destroy remove everything.

use serde::{Deserialize, Serialize};

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
    pub access_entry_principal: Option<String>,
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

    pub fn is_empty(&self) -> bool {
        *self == Inventory::default()
    }

    /// The private subnets the control plane uses: ours, or the user's.
    pub fn cluster_subnet_ids(&self) -> Vec<String> {
        self.private_subnet_ids.clone()
    }
}

/// Merges what discovery by tag found into what the private state recorded.
pub fn merge(mut a: Inventory, b: Inventory) -> Inventory {
    fn opt(a: &mut Option<String>, b: Option<String>) {
        if a.is_none() {
            *a = b;
        }
    }
    fn list(a: &mut Vec<String>, b: Vec<String>) {
        for x in b {
            if !a.contains(&x) {
                a.push(x);
            }
        }
    }
    opt(&mut a.vpc_id, b.vpc_id);
    a.vpc_owned |= b.vpc_owned;
    list(&mut a.availability_zones, b.availability_zones);
    opt(&mut a.internet_gateway_id, b.internet_gateway_id);
    opt(&mut a.public_route_table_id, b.public_route_table_id);
    list(&mut a.public_subnet_ids, b.public_subnet_ids);
    list(&mut a.private_subnet_ids, b.private_subnet_ids);
    list(&mut a.private_route_table_ids, b.private_route_table_ids);
    list(&mut a.eip_allocation_ids, b.eip_allocation_ids);
    list(&mut a.nat_gateway_ids, b.nat_gateway_ids);
    opt(&mut a.control_plane_security_group_id, b.control_plane_security_group_id);
    opt(&mut a.gateway_id, b.gateway_id);
    opt(&mut a.gateway_attachment_id, b.gateway_attachment_id);
    for r in b.routes {
        if !a.routes.contains(&r) {
            a.routes.push(r);
        }
    }
    opt(&mut a.cluster_role_name, b.cluster_role_name);
    opt(&mut a.nodes_role_name, b.nodes_role_name);
    opt(&mut a.trust_anchor_id, b.trust_anchor_id);
    opt(&mut a.profile_id, b.profile_id);
    opt(&mut a.cluster_name, b.cluster_name);
    opt(&mut a.access_entry_principal, b.access_entry_principal);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_state_round_trips_and_tolerates_garbage() {
        let inv = Inventory {
            vpc_id: Some("vpc-1".into()),
            vpc_owned: true,
            routes: vec![Route { route_table_id: "rtb-1".into(), cidr: "10.0.0.0/24".into() }],
            ..Inventory::default()
        };
        assert_eq!(Inventory::from_private(&inv.to_private()), inv);
        assert!(Inventory::from_private(b"").is_empty());
        assert!(Inventory::from_private(b"not json").is_empty());
    }

    #[test]
    fn merge_keeps_recorded_and_adds_discovered() {
        let a = Inventory { vpc_id: Some("vpc-1".into()), private_subnet_ids: vec!["s1".into()], ..Default::default() };
        let b = Inventory { vpc_id: Some("vpc-2".into()), private_subnet_ids: vec!["s1".into(), "s2".into()], nat_gateway_ids: vec!["nat-1".into()], ..Default::default() };
        let m = merge(a, b);
        assert_eq!(m.vpc_id.as_deref(), Some("vpc-1"));
        assert_eq!(m.private_subnet_ids, vec!["s1", "s2"]);
        assert_eq!(m.nat_gateway_ids, vec!["nat-1"]);
    }
}
