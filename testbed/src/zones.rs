//! Availability zones as this account sees them. AWS maps zone names to zone IDs
//! independently for each account (EC2 user guide, "AZ IDs"), and EKS refuses some zone IDs
//! outright: eksctl keeps the list it avoids (`pkg/az/az.go`, eksctl-io/eksctl f4d4076e):
//! use1-az3, usw1-az2, cac1-az3. The testbed's account maps a region's first zone name to the
//! zone ID EKS refuses there, when moto's region has one, so a client that picks zones by name
//! meets `UnsupportedAvailabilityZoneException` as some real accounts do.

use crate::ec2::describe;
use crate::moto::Moto;
use crate::state::Shared;
use crate::xml::{self, ItemSet};

pub const EKS_UNSUPPORTED_ZONE_IDS: [&str; 3] = ["use1-az3", "usw1-az2", "cac1-az3"];

/// moto's (name, zone ID) pairs, with the first name given the refused zone ID (and that
/// zone's name given the first zone's ID).
pub fn account_view(mut zones: Vec<(String, String)>) -> Vec<(String, String)> {
    zones.sort();
    let refused = zones
        .iter()
        .position(|(_, id)| EKS_UNSUPPORTED_ZONE_IDS.contains(&id.as_str()));
    if let Some(i) = refused.filter(|i| *i > 0) {
        let first = zones[0].1.clone();
        zones[0].1 = std::mem::replace(&mut zones[i].1, first);
    }
    zones
}

/// The region's zones as the account sees them, read from moto once.
pub async fn of_region(shared: &Shared, moto: &Moto, region: &str) -> Vec<(String, String)> {
    if let Some(z) = shared.lock().await.zones.get(region) {
        return z.clone();
    }
    let params = [("Action", "DescribeAvailabilityZones".to_string())];
    let body = match moto.query("ec2", region, &params).await {
        Ok((200, body)) => body,
        _ => return Vec::new(),
    };
    let pairs = xml::values(&body, "zoneName")
        .into_iter()
        .zip(xml::values(&body, "zoneId"))
        .collect();
    let zones = account_view(pairs);
    shared
        .lock()
        .await
        .zones
        .insert(region.to_string(), zones.clone());
    zones
}

pub fn zone_id<'z>(zones: &'z [(String, String)], name: &str) -> Option<&'z str> {
    zones
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, id)| id.as_str())
}

/// Rewrites the zone IDs in DescribeAvailabilityZones and DescribeSubnets answers.
pub fn rewrite(operation: &str, xml: String, zones: &[(String, String)]) -> String {
    let (set, name_tag, id_tag) = match operation {
        "DescribeAvailabilityZones" => ("availabilityZoneInfo", "zoneName", "zoneId"),
        "DescribeSubnets" | "CreateSubnet" => (
            describe("DescribeSubnets").map_or("subnetSet", |d| d.set),
            "availabilityZone",
            "availabilityZoneId",
        ),
        _ => return xml,
    };
    let rewrite_one = |item: &str| match xml::first(item, name_tag)
        .and_then(|name| zone_id(zones, &name).map(str::to_string))
    {
        Some(id) => xml::set_first(item, id_tag, &id),
        None => item.to_string(),
    };
    if operation == "CreateSubnet" {
        return rewrite_one(&xml);
    }
    let Some(mut items) = ItemSet::parse(&xml, set) else {
        return xml;
    };
    for item in &mut items.items {
        *item = rewrite_one(item);
    }
    items.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn the_first_zone_gets_the_refused_id() {
        let moto = pairs(&[
            ("us-east-1a", "use1-az6"),
            ("us-east-1b", "use1-az1"),
            ("us-east-1e", "use1-az3"),
        ]);
        let seen = account_view(moto);
        assert_eq!(zone_id(&seen, "us-east-1a"), Some("use1-az3"));
        assert_eq!(zone_id(&seen, "us-east-1e"), Some("use1-az6"));
        assert_eq!(zone_id(&seen, "us-east-1b"), Some("use1-az1"));
        let west = pairs(&[("us-west-2a", "usw2-az2"), ("us-west-2b", "usw2-az1")]);
        assert_eq!(account_view(west.clone()), west);
    }

    #[test]
    fn answers_carry_the_account_view() {
        let zones = pairs(&[("us-east-1a", "use1-az3")]);
        let xml = "<R><availabilityZoneInfo><item><zoneName>us-east-1a</zoneName><zoneId>use1-az6</zoneId></item></availabilityZoneInfo></R>";
        assert!(rewrite("DescribeAvailabilityZones", xml.into(), &zones)
            .contains("<zoneId>use1-az3</zoneId>"));
    }
}
