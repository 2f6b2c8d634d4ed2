//! EC2 as AWS behaves where moto is kinder. moto answers every call at once and consistently;
//! AWS does not, and each behaviour here cites where that is written:
//!
//! * Eventual consistency (EC2 API reference, "Eventual consistency in the Amazon EC2 API":
//!   "you might get a …NotFound error … after you create a resource"): for `ec2_consistency`
//!   after an ID is returned, a call naming it answers its `Invalid…ID.NotFound`, a Describe
//!   asking for it by ID does too, and a Describe that would list it omits it. The codes are
//!   the Terraform AWS provider's (`internal/service/ec2/errors.go`).
//! * NAT gateways and transit gateway attachments take time to become available or deleted
//!   (EC2 API reference, `NatGateway.State`, `TransitGatewayVpcAttachment.State`): they show
//!   `pending` / `deleting` for `ec2_settle`. A deleted NAT gateway stays visible as
//!   `deleted` (moto keeps it, as AWS does for about an hour).
//! * An Elastic IP cannot be released while its NAT gateway is deleting (`AuthFailure`) and
//!   briefly after (`InvalidIPAddress.InUse`): eformat/sno-for-100 #5 and #9, kubernetes/kops
//!   #1604.
//! * A transit gateway another account shares without auto-accept keeps a new attachment in
//!   `pendingAcceptance` until its owner accepts it (Transit Gateway guide, "Transit gateway
//!   attachments to a VPC"), and a route to a transit gateway fails with
//!   `InvalidTransitGatewayID.NotFound` until the VPC's attachment is available
//!   (hashicorp/terraform-provider-aws #10025).
//! * Security group names cannot start with `sg-` (EC2 API reference, CreateSecurityGroup).
//! * Describe calls whose model has `NextToken` return pages (botocore's `ec2` model).
//! * Availability zone names map to zone IDs per account (EC2 user guide, "AZ IDs"); the
//!   testbed's account maps the first zone of a region to the zone ID EKS refuses there, when
//!   the region has one (see `eks::UNSUPPORTED_ZONE_IDS`).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::xml::{self, ItemSet};

/// The account that owns the transit gateway the testbed shares with the caller's.
pub const SHARING_ACCOUNT: &str = "210987654321";

/// The error AWS gives for an ID it does not know (yet), by the ID's kind.
pub fn not_found(id: &str) -> Option<(&'static str, String)> {
    let kinds: [(&str, &str, &str); 8] = [
        (
            "tgw-attach-",
            "InvalidTransitGatewayAttachmentID.NotFound",
            "transitGatewayAttachment ID",
        ),
        ("vpc-", "InvalidVpcID.NotFound", "vpc ID"),
        ("subnet-", "InvalidSubnetID.NotFound", "subnet ID"),
        ("rtb-", "InvalidRouteTableID.NotFound", "routeTable ID"),
        ("sg-", "InvalidGroup.NotFound", "security group"),
        (
            "igw-",
            "InvalidInternetGatewayID.NotFound",
            "internetGateway ID",
        ),
        ("eipalloc-", "InvalidAllocationID.NotFound", "allocation ID"),
        ("nat-", "NatGatewayNotFound", "NAT gateway"),
    ];
    kinds
        .iter()
        .find(|(prefix, ..)| id.starts_with(prefix))
        .map(|(_, code, what)| (*code, format!("The {what} '{id}' does not exist")))
}

/// A Describe operation: its result set, the tag holding each item's own ID, and whether
/// botocore's model pages it.
pub struct Describe {
    pub set: &'static str,
    pub id_tag: &'static str,
    pub paged: bool,
}

pub fn describe(operation: &str) -> Option<Describe> {
    let (set, id_tag, paged) = match operation {
        "DescribeVpcs" => ("vpcSet", "vpcId", true),
        "DescribeSubnets" => ("subnetSet", "subnetId", true),
        "DescribeRouteTables" => ("routeTableSet", "routeTableId", true),
        "DescribeSecurityGroups" => ("securityGroupInfo", "groupId", true),
        "DescribeInternetGateways" => ("internetGatewaySet", "internetGatewayId", true),
        "DescribeNatGateways" => ("natGatewaySet", "natGatewayId", true),
        "DescribeTransitGatewayVpcAttachments" => (
            "transitGatewayVpcAttachments",
            "transitGatewayAttachmentId",
            true,
        ),
        "DescribeNetworkInterfaces" => ("networkInterfaceSet", "networkInterfaceId", true),
        "DescribeAddresses" => ("addressesSet", "allocationId", false),
        _ => return None,
    };
    Some(Describe { set, id_tag, paged })
}

/// The tag of the new ID in a Create operation's answer.
fn created_id_tag(operation: &str) -> Option<&'static str> {
    Some(match operation {
        "CreateVpc" => "vpcId",
        "CreateSubnet" => "subnetId",
        "CreateRouteTable" => "routeTableId",
        "CreateSecurityGroup" => "groupId",
        "CreateInternetGateway" => "internetGatewayId",
        "AllocateAddress" => "allocationId",
        "CreateNatGateway" => "natGatewayId",
        "CreateTransitGatewayVpcAttachment" => "transitGatewayAttachmentId",
        _ => return None,
    })
}

fn param<'p>(params: &'p [(String, String)], key: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Where a NAT gateway or transit gateway attachment is in its lifecycle, when AWS would
/// show something other than moto's answer.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    Pending(Instant),
    AwaitingAcceptance,
    Deleting(Instant),
}

pub struct Windows {
    pub consistency: Duration,
    pub settle: Duration,
    pub eip_in_use: Duration,
    pub page_size: usize,
}

/// What a request must meet before it reaches moto.
pub enum Verdict {
    Forward {
        omit_all: bool,
    },
    Fail(u16, &'static str, String),
    /// A route to this transit gateway: allowed only once the VPC's attachment is available.
    CheckTransitGatewayRoute {
        route_table: String,
        tgw: String,
    },
}

#[derive(Default)]
pub struct Ec2Model {
    /// New IDs, until when other calls cannot see them.
    fresh: HashMap<String, Instant>,
    phases: HashMap<String, Phase>,
    nat_addresses: HashMap<String, String>,
    failed_nats: HashSet<String>,
    pub shared_tgws: HashSet<String>,
}

impl Ec2Model {
    pub fn is_fresh(&self, id: &str) -> bool {
        self.fresh
            .get(id)
            .is_some_and(|until| Instant::now() < *until)
    }

    /// The state AWS would show for a NAT gateway or attachment moto reports as `real`.
    pub fn shown_state(&self, id: &str, real: &str, w: &Windows) -> String {
        if self.failed_nats.contains(id) && real != "deleted" {
            return "failed".into();
        }
        match self.phases.get(id) {
            Some(Phase::AwaitingAcceptance) => "pendingAcceptance".into(),
            Some(Phase::Pending(t)) if t.elapsed() < w.settle => "pending".into(),
            Some(Phase::Deleting(t)) if t.elapsed() < w.settle => "deleting".into(),
            _ => real.into(),
        }
    }

    pub fn check(&self, operation: &str, params: &[(String, String)], w: &Windows) -> Verdict {
        // As written: "Cannot start with sg-" (EC2 API reference), `^sg-` in the Terraform
        // AWS provider's aws_security_group. No source says EC2 folds case, so "SG-" is taken.
        if operation == "CreateSecurityGroup"
            && param(params, "GroupName").is_some_and(|n| n.starts_with("sg-"))
        {
            return Verdict::Fail(
                400,
                "InvalidParameterValue",
                "Group names may not be in the format sg-*.".into(),
            );
        }
        if let Some(id) = param(params, "AllocationId").filter(|_| operation == "ReleaseAddress") {
            if let Some(v) = self.release_blocked(id, w) {
                return v;
            }
        }
        let mut omit_all = false;
        let describe = describe(operation);
        for (key, value) in params {
            if !self.is_fresh(value) {
                continue;
            }
            // A filter only selects: a value that matches nothing gives an empty set, not
            // NotFound (EC2 API reference, "Filter": "the response includes only the
            // resources that match"; only IDs named in a request's ID list are looked up).
            if key.starts_with("Filter.") {
                omit_all |= describe.is_some();
                continue;
            }
            if let Some((code, message)) = not_found(value) {
                return Verdict::Fail(400, code, message);
            }
        }
        if matches!(operation, "CreateRoute" | "ReplaceRoute") {
            if let (Some(rtb), Some(tgw)) = (
                param(params, "RouteTableId"),
                param(params, "TransitGatewayId"),
            ) {
                return Verdict::CheckTransitGatewayRoute {
                    route_table: rtb.into(),
                    tgw: tgw.into(),
                };
            }
        }
        Verdict::Forward { omit_all }
    }

    fn release_blocked(&self, allocation: &str, w: &Windows) -> Option<Verdict> {
        let (nat, _) = self
            .nat_addresses
            .iter()
            .find(|(_, a)| a.as_str() == allocation)?;
        let in_use = || {
            Verdict::Fail(
                400,
                "InvalidIPAddress.InUse",
                format!("Address {allocation} is in use."),
            )
        };
        match self.phases.get(nat) {
            Some(Phase::Deleting(t)) if t.elapsed() < w.settle => Some(Verdict::Fail(
                401,
                "AuthFailure",
                "You do not have permission to access the specified resource.".into(),
            )),
            Some(Phase::Deleting(t)) if t.elapsed() < w.settle + w.eip_in_use => Some(in_use()),
            Some(Phase::Deleting(_)) => None,
            _ => Some(in_use()),
        }
    }

    /// Notes what a successful call created or started deleting.
    pub fn observe(
        &mut self,
        operation: &str,
        params: &[(String, String)],
        response: &str,
        w: &Windows,
    ) {
        let now = Instant::now();
        self.fresh.retain(|_, until| *until > now);
        if let Some(tag) = created_id_tag(operation) {
            if let Some(id) = xml::first(response, tag) {
                self.fresh.insert(id.clone(), now + w.consistency);
                match operation {
                    "CreateNatGateway" => {
                        if let Some(a) = param(params, "AllocationId") {
                            self.nat_addresses.insert(id.clone(), a.to_string());
                        }
                        self.phases.insert(id, Phase::Pending(Instant::now()));
                    }
                    "CreateTransitGatewayVpcAttachment" => {
                        let shared = param(params, "TransitGatewayId")
                            .is_some_and(|t| self.shared_tgws.contains(t));
                        let phase = if shared {
                            Phase::AwaitingAcceptance
                        } else {
                            Phase::Pending(Instant::now())
                        };
                        self.phases.insert(id, phase);
                    }
                    _ => {}
                }
            }
        }
        let deleted = match operation {
            "DeleteNatGateway" => param(params, "NatGatewayId"),
            "DeleteTransitGatewayVpcAttachment" => param(params, "TransitGatewayAttachmentId"),
            _ => None,
        };
        // Deleting again what is deleting or deleted restarts nothing: the state only moves
        // on (Amazon VPC user guide, "NAT gateway basics": deleting, then deleted; botocore's
        // EC2 model, TransitGatewayAttachmentState).
        if let Some(id) = deleted {
            if !matches!(self.phases.get(id), Some(Phase::Deleting(_))) {
                self.phases
                    .insert(id.to_string(), Phase::Deleting(Instant::now()));
            }
        }
    }

    /// The owner of a shared transit gateway accepts the attachment: it becomes pending, then
    /// available.
    pub fn accept(&mut self, attachment: &str) -> bool {
        match self.phases.get(attachment) {
            Some(Phase::AwaitingAcceptance) => {
                self.phases
                    .insert(attachment.to_string(), Phase::Pending(Instant::now()));
                true
            }
            _ => false,
        }
    }

    /// The Elastic IP a NAT gateway was created with.
    pub fn address_of(&self, nat: &str) -> Option<String> {
        self.nat_addresses.get(nat).cloned()
    }

    pub fn fail_nat_gateway(&mut self, id: &str) {
        self.failed_nats.insert(id.to_string());
    }

    /// Rewrites moto's answer as AWS would give it: lifecycle states, items not visible yet,
    /// one page at a time.
    pub fn rewrite(
        &self,
        operation: &str,
        params: &[(String, String)],
        omit_all: bool,
        xml: String,
        w: &Windows,
    ) -> String {
        if matches!(
            operation,
            "CreateNatGateway" | "CreateTransitGatewayVpcAttachment"
        ) {
            return self.rewrite_created(operation, xml, w);
        }
        if operation == "DescribeTransitGateways" {
            return self.shared_as_another_accounts(xml);
        }
        let Some(d) = describe(operation) else {
            return xml;
        };
        let Some(mut set) = ItemSet::parse(&xml, d.set) else {
            return xml;
        };
        set.items.retain(|item| {
            !omit_all && !xml::first(item, d.id_tag).is_some_and(|id| self.is_fresh(&id))
        });
        if matches!(
            operation,
            "DescribeNatGateways" | "DescribeTransitGatewayVpcAttachments"
        ) {
            for item in &mut set.items {
                *item = self.with_shown_state(item, d.id_tag, w);
            }
        }
        if !d.paged || w.page_size == 0 {
            return set.render();
        }
        let offset = param(params, "NextToken")
            .and_then(|t| t.strip_prefix("tb-page-"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0usize);
        let size = param(params, "MaxResults")
            .and_then(|m| m.parse::<usize>().ok())
            .map_or(w.page_size, |m| m.min(w.page_size))
            .max(1);
        let total = set.items.len();
        set.items = set.items.into_iter().skip(offset).take(size).collect();
        let rendered = set.render();
        if offset + size < total {
            let close = format!("</{}>", d.set);
            xml::insert_after(
                &rendered,
                &close,
                "nextToken",
                &format!("tb-page-{}", offset + size),
            )
        } else {
            rendered
        }
    }

    /// A transit gateway shared with this account shows its owner's account and, as the
    /// testbed shares it, attachments not accepted automatically (EC2 API reference,
    /// `TransitGateway.OwnerId`, `TransitGatewayOptions.AutoAcceptSharedAttachments`).
    fn shared_as_another_accounts(&self, xml: String) -> String {
        let Some(mut set) = ItemSet::parse(&xml, "transitGatewaySet") else {
            return xml;
        };
        for item in &mut set.items {
            if xml::first(item, "transitGatewayId").is_some_and(|id| self.shared_tgws.contains(&id))
            {
                let owned = xml::set_first(item, "ownerId", SHARING_ACCOUNT);
                *item = xml::set_first(&owned, "autoAcceptSharedAttachments", "disable");
            }
        }
        set.render()
    }

    fn with_shown_state(&self, item: &str, id_tag: &str, w: &Windows) -> String {
        let (Some(id), Some(real)) = (xml::first(item, id_tag), xml::first(item, "state")) else {
            return item.to_string();
        };
        xml::set_first(item, "state", &self.shown_state(&id, &real, w))
    }

    fn rewrite_created(&self, operation: &str, xml: String, w: &Windows) -> String {
        let tag = created_id_tag(operation).expect("a create operation");
        self.with_shown_state(&xml, tag, w)
    }
}

/// Paging and consistency need the caller's paging parameters removed before moto sees the
/// request (moto pages some calls itself, with its own tokens).
pub fn strip_paging(params: &[(String, String)]) -> Vec<(String, String)> {
    params
        .iter()
        .filter(|(k, _)| k != "NextToken" && k != "MaxResults")
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(consistency_ms: u64) -> Windows {
        Windows {
            consistency: Duration::from_millis(consistency_ms),
            settle: Duration::from_secs(60),
            eip_in_use: Duration::from_secs(60),
            page_size: 2,
        }
    }

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_new_id_is_not_found_until_its_window_closes() {
        let mut m = Ec2Model::default();
        m.observe(
            "CreateVpc",
            &[],
            "<vpc><vpcId>vpc-1</vpcId></vpc>",
            &w(60_000),
        );
        m.observe("CreateVpc", &[], "<vpc><vpcId>vpc-2</vpcId></vpc>", &w(0));
        let subnet = p(&[("VpcId", "vpc-1")]);
        assert!(matches!(
            m.check("CreateSubnet", &subnet, &w(0)),
            Verdict::Fail(400, "InvalidVpcID.NotFound", _)
        ));
        assert!(matches!(
            m.check("CreateSubnet", &p(&[("VpcId", "vpc-2")]), &w(60_000)),
            Verdict::Forward { omit_all: false }
        ));
        let by_filter = p(&[("Filter.1.Name", "vpc-id"), ("Filter.1.Value.1", "vpc-1")]);
        assert!(matches!(
            m.check("DescribeSubnets", &by_filter, &w(0)),
            Verdict::Forward { omit_all: true }
        ));
        let gateways = p(&[
            ("Filter.1.Name", "attachment.vpc-id"),
            ("Filter.1.Value.1", "vpc-1"),
        ]);
        assert!(matches!(
            m.check("DescribeVpnGateways", &gateways, &w(0)),
            Verdict::Forward { omit_all: false }
        ));
    }

    #[test]
    fn describes_omit_new_items_and_page() {
        let mut m = Ec2Model::default();
        m.observe(
            "CreateSubnet",
            &[],
            "<subnet><subnetId>s-2</subnetId></subnet>",
            &w(60_000),
        );
        let answer = "<R><subnetSet><item><subnetId>s-1</subnetId></item><item><subnetId>s-2</subnetId></item><item><subnetId>s-3</subnetId></item><item><subnetId>s-4</subnetId></item></subnetSet></R>".to_string();
        let first = m.rewrite("DescribeSubnets", &[], false, answer.clone(), &w(60_000));
        assert_eq!(xml::values(&first, "subnetId"), vec!["s-1", "s-3"]);
        assert_eq!(
            xml::first(&first, "nextToken").as_deref(),
            Some("tb-page-2")
        );
        let next = p(&[("NextToken", "tb-page-2")]);
        let second = m.rewrite("DescribeSubnets", &next, false, answer, &w(60_000));
        assert_eq!(xml::values(&second, "subnetId"), vec!["s-4"]);
        assert_eq!(xml::first(&second, "nextToken"), None);
    }

    #[test]
    fn deleting_a_deleting_nat_gateway_again_restarts_nothing() {
        let mut m = Ec2Model::default();
        let nat = "<natGateway><natGatewayId>nat-1</natGatewayId></natGateway>";
        m.observe(
            "CreateNatGateway",
            &p(&[("AllocationId", "eipalloc-1")]),
            nat,
            &w(0),
        );
        let delete = p(&[("NatGatewayId", "nat-1")]);
        m.observe("DeleteNatGateway", &delete, "", &w(0));
        std::thread::sleep(Duration::from_millis(30));
        m.observe("DeleteNatGateway", &delete, "", &w(0));
        let windows = Windows {
            settle: Duration::from_millis(20),
            eip_in_use: Duration::ZERO,
            ..w(0)
        };
        assert_eq!(m.shown_state("nat-1", "deleted", &windows), "deleted");
        let release = p(&[("AllocationId", "eipalloc-1")]);
        assert!(matches!(
            m.check("ReleaseAddress", &release, &windows),
            Verdict::Forward { .. }
        ));
    }

    #[test]
    fn nat_addresses_stay_in_use_while_and_after_deleting() {
        let mut m = Ec2Model::default();
        m.observe(
            "CreateNatGateway",
            &p(&[("AllocationId", "eipalloc-1")]),
            "<natGateway><natGatewayId>nat-1</natGatewayId><state>available</state></natGateway>",
            &w(0),
        );
        let release = p(&[("AllocationId", "eipalloc-1")]);
        assert!(matches!(
            m.check("ReleaseAddress", &release, &w(0)),
            Verdict::Fail(400, "InvalidIPAddress.InUse", _)
        ));
        m.observe(
            "DeleteNatGateway",
            &p(&[("NatGatewayId", "nat-1")]),
            "",
            &w(0),
        );
        assert!(matches!(
            m.check("ReleaseAddress", &release, &w(0)),
            Verdict::Fail(401, "AuthFailure", _)
        ));
        let later = Windows {
            settle: Duration::ZERO,
            ..w(0)
        };
        assert!(matches!(
            m.check("ReleaseAddress", &release, &later),
            Verdict::Fail(400, "InvalidIPAddress.InUse", _)
        ));
        let much_later = Windows {
            eip_in_use: Duration::ZERO,
            ..later
        };
        assert!(matches!(
            m.check("ReleaseAddress", &release, &much_later),
            Verdict::Forward { .. }
        ));
    }

    #[test]
    fn shared_transit_gateway_attachments_wait_for_acceptance() {
        let mut m = Ec2Model::default();
        m.shared_tgws.insert("tgw-shared".into());
        m.observe(
            "CreateTransitGatewayVpcAttachment",
            &p(&[("TransitGatewayId", "tgw-shared")]),
            "<x><transitGatewayAttachmentId>tgw-attach-1</transitGatewayAttachmentId><state>available</state></x>",
            &w(0),
        );
        assert_eq!(
            m.shown_state("tgw-attach-1", "available", &w(0)),
            "pendingAcceptance"
        );
        assert!(m.accept("tgw-attach-1"));
        assert_eq!(m.shown_state("tgw-attach-1", "available", &w(0)), "pending");
        assert!(!m.accept("tgw-attach-1"));
    }

    #[test]
    fn security_group_names_cannot_look_like_ids() {
        let m = Ec2Model::default();
        assert!(matches!(
            m.check(
                "CreateSecurityGroup",
                &p(&[("GroupName", "sg-demo")]),
                &w(0)
            ),
            Verdict::Fail(400, "InvalidParameterValue", _)
        ));
        assert!(matches!(
            m.check(
                "CreateSecurityGroup",
                &p(&[("GroupName", "SG-demo")]),
                &w(0)
            ),
            Verdict::Forward { .. }
        ));
    }
}
