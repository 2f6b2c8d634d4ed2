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
}
