//! EC2: VPC networking, the control-plane security group, gateway attachments and routes.
//!
//! EC2 is eventually consistent ("Eventual consistency in the Amazon EC2 API"): a call that
//! names an ID returned moments ago may answer `Invalid…ID.NotFound`. Every call that names an
//! object this apply created retries that within the propagation window
//! (`wait::while_propagating`); nothing waits beforehand, so the common path is as fast as
//! AWS allows. Every Describe that filters pages through all results.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, Filter, IpPermission, IpRange, NatGatewayState,
    ResourceType, RouteTable, Subnet, Tag, TagSpecification, TransitGatewayAttachmentState,
};
use aws_sdk_ec2::Client;

use super::wait::{self, Budget, Poll};
use super::{error, ignore_not_found, AwsError, AwsResult};

pub fn tag_spec(
    kind: ResourceType,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> TagSpecification {
    let mut all: Vec<Tag> = tags
        .iter()
        .filter(|(k, _)| k.as_str() != "Name")
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    all.push(Tag::builder().key("Name").value(name).build());
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(all))
        .build()
}

pub fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// An object created moments ago is not visible to every EC2 call yet.
fn not_visible_yet(e: &AwsError) -> bool {
    e.is_not_found()
}

/// Runs a call that names objects this apply may have just created, retrying "not found"
/// while EC2 catches up.
async fn naming_new_ids<T, F, Fut>(step: &str, budget: &Budget, op: F) -> AwsResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = AwsResult<T>>,
{
    wait::while_propagating(step, budget, not_visible_yet, op).await
}

/// EKS does not accept control planes in these zone IDs; eksctl avoids them when it picks
/// zones (`pkg/az/az.go`, eksctl-io/eksctl f4d4076e). Zone names map to IDs differently in
/// each account, so the choice is made by ID.
const EKS_UNSUPPORTED_ZONE_IDS: [(&str, &str); 4] = [
    ("us-east-1", "use1-az3"),
    ("us-west-1", "usw1-az2"),
    ("ca-central-1", "cac1-az3"),
    ("cn-north-1", "cnn1-az4"),
];

pub fn eks_supports_zone(region: &str, zone_id: &str) -> bool {
    !EKS_UNSUPPORTED_ZONE_IDS
        .iter()
        .any(|(r, id)| *r == region && *id == zone_id)
}

/// The region's first `count` availability zones (by name) that EKS accepts.
pub async fn default_availability_zones(
    ec2: &Client,
    region: &str,
    count: usize,
) -> AwsResult<Vec<String>> {
    let step = "listing availability zones";
    let out = ec2
        .describe_availability_zones()
        .filters(filter("state", "available"))
        .send()
        .await
        .map_err(error::ec2(step))?;
    let mut zones: Vec<String> = out
        .availability_zones()
        .iter()
        .filter(|z| z.zone_type().is_none_or(|t| t == "availability-zone"))
        .filter(|z| z.zone_id().is_none_or(|id| eks_supports_zone(region, id)))
        .filter_map(|z| z.zone_name().map(str::to_string))
        .collect();
    zones.sort();
    zones.truncate(count);
    if zones.len() < 2 {
        return Err(AwsError::refused(
            step,
            "InsufficientAvailabilityZones",
            "the region has fewer than 2 availability zones that EKS accepts",
        ));
    }
    Ok(zones)
}

pub async fn create_vpc(
    ec2: &Client,
    cidr: &str,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> AwsResult<String> {
    let step = "creating VPC";
    let out = ec2
        .create_vpc()
        .cidr_block(cidr)
        .tag_specifications(tag_spec(ResourceType::Vpc, name, tags))
        .send()
        .await
        .map_err(error::ec2(step))?;
    out.vpc()
        .and_then(|v| v.vpc_id())
        .map(str::to_string)
        .ok_or_else(|| AwsError::invalid_response(step, "VPC ID"))
}

/// DNS support and hostnames, which EKS needs for private endpoint access.
pub async fn enable_vpc_dns(ec2: &Client, id: &str, budget: &Budget) -> AwsResult<()> {
    let step = "enabling VPC DNS";
    for hostnames in [false, true] {
        naming_new_ids(step, budget, || async {
            let on = Some(AttributeBooleanValue::builder().value(true).build());
            let req = ec2.modify_vpc_attribute().vpc_id(id);
            let req = if hostnames {
                req.set_enable_dns_hostnames(on)
            } else {
                req.set_enable_dns_support(on)
            };
            req.send().await.map(|_| ()).map_err(error::ec2(step))
        })
        .await?;
    }
    Ok(())
}

pub async fn create_internet_gateway(
    ec2: &Client,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> AwsResult<String> {
    let step = "creating internet gateway";
    let out = ec2
        .create_internet_gateway()
        .tag_specifications(tag_spec(ResourceType::InternetGateway, name, tags))
        .send()
        .await
        .map_err(error::ec2(step))?;
    out.internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .map(str::to_string)
        .ok_or_else(|| AwsError::invalid_response(step, "internet gateway ID"))
}

pub async fn attach_internet_gateway(
    ec2: &Client,
    id: &str,
    vpc_id: &str,
    budget: &Budget,
) -> AwsResult<()> {
    let step = "attaching internet gateway";
    naming_new_ids(step, budget, || async {
        ec2.attach_internet_gateway()
            .internet_gateway_id(id)
            .vpc_id(vpc_id)
            .send()
            .await
            .map(|_| ())
            .map_err(error::ec2(step))
    })
    .await
}

pub async fn create_route_table(
    ec2: &Client,
    vpc_id: &str,
    name: &str,
    tags: &BTreeMap<String, String>,
    budget: &Budget,
) -> AwsResult<String> {
    let step = "creating route table";
    let out = naming_new_ids(step, budget, || async {
        ec2.create_route_table()
            .vpc_id(vpc_id)
            .tag_specifications(tag_spec(ResourceType::RouteTable, name, tags))
            .send()
            .await
            .map_err(error::ec2(step))
    })
    .await?;
    out.route_table()
        .and_then(|r| r.route_table_id())
        .map(str::to_string)
        .ok_or_else(|| AwsError::invalid_response(step, "route table ID"))
}

#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy)]
pub enum RouteTarget<'a> {
    InternetGateway(&'a str),
    NatGateway(&'a str),
    TransitGateway(&'a str),
    VpnGateway(&'a str),
}

/// Points a route request at its target (CreateRoute and ReplaceRoute builders alike).
macro_rules! targeted {
    ($req:expr, $target:expr) => {
        match $target {
            RouteTarget::InternetGateway(id) | RouteTarget::VpnGateway(id) => $req.gateway_id(id),
            RouteTarget::NatGateway(id) => $req.nat_gateway_id(id),
            RouteTarget::TransitGateway(id) => $req.transit_gateway_id(id),
        }
    };
}

/// Creates (or, with `replace`, repoints) a route. A route to a transit gateway fails with
/// `InvalidTransitGatewayID.NotFound` until the VPC's attachment is available; that, like any
/// other "not found" for a new object, is retried within the propagation window.
pub async fn put_route(
    ec2: &Client,
    route_table_id: &str,
    cidr: &str,
    target: RouteTarget<'_>,
    replace: bool,
    budget: &Budget,
) -> AwsResult<()> {
    let step = format!("creating route {cidr} in {route_table_id}");
    naming_new_ids(&step, budget, || async {
        if replace {
            let req = ec2.replace_route().route_table_id(route_table_id);
            targeted!(req.destination_cidr_block(cidr), target)
                .send()
                .await
                .map(|_| ())
                .map_err(error::ec2(&step))
        } else {
            let req = ec2.create_route().route_table_id(route_table_id);
            targeted!(req.destination_cidr_block(cidr), target)
                .send()
                .await
                .map(|_| ())
                .map_err(error::ec2(&step))
        }
    })
    .await
}

pub async fn create_route(
    ec2: &Client,
    route_table_id: &str,
    cidr: &str,
    target: RouteTarget<'_>,
    budget: &Budget,
) -> AwsResult<()> {
    put_route(ec2, route_table_id, cidr, target, false, budget).await
}

pub async fn delete_route(ec2: &Client, route_table_id: &str, cidr: &str) -> AwsResult<()> {
    let r = ec2
        .delete_route()
        .route_table_id(route_table_id)
        .destination_cidr_block(cidr)
        .send()
        .await
        .map_err(error::ec2(&format!(
            "deleting route {cidr} in {route_table_id}"
        )));
    ignore_not_found(r.map(|_| ()))
}

pub struct NewSubnet<'a> {
    pub vpc_id: &'a str,
    pub cidr: &'a str,
    pub zone: &'a str,
    pub public: bool,
    pub name: &'a str,
}

pub async fn create_subnet(
    ec2: &Client,
    s: &NewSubnet<'_>,
    tags: &BTreeMap<String, String>,
    budget: &Budget,
) -> AwsResult<String> {
    let step = "creating subnet";
    let mut tags = tags.clone();
    let role = if s.public {
        "kubernetes.io/role/elb"
    } else {
        "kubernetes.io/role/internal-elb"
    };
    tags.insert(role.into(), "1".into());
    let out = naming_new_ids(step, budget, || async {
        ec2.create_subnet()
            .vpc_id(s.vpc_id)
            .cidr_block(s.cidr)
            .availability_zone(s.zone)
            .tag_specifications(tag_spec(ResourceType::Subnet, s.name, &tags))
            .send()
            .await
            .map_err(error::ec2(step))
    })
    .await?;
    out.subnet()
        .and_then(|s| s.subnet_id())
        .map(str::to_string)
        .ok_or_else(|| AwsError::invalid_response(step, "subnet ID"))
}

pub async fn enable_public_ips(ec2: &Client, subnet_id: &str, budget: &Budget) -> AwsResult<()> {
    let step = "enabling public IPs on subnet";
    naming_new_ids(step, budget, || async {
        ec2.modify_subnet_attribute()
            .subnet_id(subnet_id)
            .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
            .send()
            .await
            .map(|_| ())
            .map_err(error::ec2(step))
    })
    .await
}

pub async fn associate_route_table(
    ec2: &Client,
    route_table_id: &str,
    subnet_id: &str,
    budget: &Budget,
) -> AwsResult<()> {
    let step = "associating route table";
    naming_new_ids(step, budget, || async {
        ec2.associate_route_table()
            .route_table_id(route_table_id)
            .subnet_id(subnet_id)
            .send()
            .await
            .map(|_| ())
            .map_err(error::ec2(step))
    })
    .await
}

pub async fn allocate_eip(
    ec2: &Client,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> AwsResult<String> {
    let step = "allocating Elastic IP";
    let out = ec2
        .allocate_address()
        .domain(DomainType::Vpc)
        .tag_specifications(tag_spec(ResourceType::ElasticIp, name, tags))
        .send()
        .await
        .map_err(error::ec2(step))?;
    out.allocation_id()
        .map(str::to_string)
        .ok_or_else(|| AwsError::invalid_response(step, "allocation ID"))
}

/// A NAT gateway made with the address of one deleted moments ago waits until AWS has
/// disassociated it from the old one (VPC user guide, "Delete a NAT gateway").
fn address_or_ids_not_ready(e: &AwsError) -> bool {
    not_visible_yet(e) || e.is("Resource.AlreadyAssociated") || e.is("InvalidIPAddress.InUse")
}

pub async fn create_nat_gateway(
    ec2: &Client,
    subnet_id: &str,
    allocation_id: &str,
    name: &str,
    tags: &BTreeMap<String, String>,
    budget: &Budget,
) -> AwsResult<String> {
    let step = "creating NAT gateway";
    let out = wait::while_propagating(step, budget, address_or_ids_not_ready, || async {
        ec2.create_nat_gateway()
            .subnet_id(subnet_id)
            .allocation_id(allocation_id)
            .tag_specifications(tag_spec(ResourceType::Natgateway, name, tags))
            .send()
            .await
            .map_err(error::ec2(step))
    })
    .await?;
    out.nat_gateway()
        .and_then(|n| n.nat_gateway_id())
        .map(str::to_string)
        .ok_or_else(|| AwsError::invalid_response(step, "NAT gateway ID"))
}

/// The NAT gateway's state; None while EC2 does not show it (yet, or any more).
pub async fn nat_gateway_state(ec2: &Client, id: &str) -> AwsResult<Option<NatGatewayState>> {
    let out = ec2
        .describe_nat_gateways()
        .filter(filter("nat-gateway-id", id))
        .send()
        .await
        .map_err(error::ec2("reading NAT gateway"))?;
    Ok(out.nat_gateways().first().and_then(|n| n.state().cloned()))
}

/// Waits until the NAT gateway is available. `failed` and `deleted` end the wait at once:
/// neither comes back.
pub async fn wait_nat_gateway_available(ec2: &Client, id: &str, budget: &Budget) -> AwsResult<()> {
    let step = format!("waiting for NAT gateway {id} to be available");
    wait::until(&step, budget, || async {
        match nat_gateway_state(ec2, id).await? {
            Some(NatGatewayState::Available) => Ok(Poll::Ready(())),
            Some(s @ (NatGatewayState::Failed | NatGatewayState::Deleted)) => {
                Err(AwsError::refused(
                    &step,
                    "NatGatewayFailed",
                    format!(
                        "the NAT gateway is {}; the next apply replaces it",
                        s.as_str()
                    ),
                ))
            }
            other => Ok(Poll::Pending(
                other.map(|s| s.as_str().to_string()).unwrap_or_default(),
            )),
        }
    })
    .await
}

/// Waits until the NAT gateway is gone: `deleted` (AWS shows deleted NAT gateways for about an
/// hour), `failed` (it holds nothing), or not shown at all.
pub async fn wait_nat_gateway_deleted(ec2: &Client, id: &str, budget: &Budget) -> AwsResult<()> {
    let step = format!("waiting for NAT gateway {id} to be deleted");
    wait::until(&step, budget, || async {
        Ok(match nat_gateway_state(ec2, id).await? {
            None | Some(NatGatewayState::Deleted | NatGatewayState::Failed) => Poll::Ready(()),
            Some(s) => Poll::Pending(s.as_str().to_string()),
        })
    })
    .await
}

pub const CONTROL_PLANE_SG_DESCRIPTION: &str =
    "Communication between the control plane and worker nodegroups";

pub async fn create_security_group(
    ec2: &Client,
    vpc_id: &str,
    name: &str,
    tags: &BTreeMap<String, String>,
    budget: &Budget,
) -> AwsResult<String> {
    let step = "creating control plane security group";
    let out = naming_new_ids(step, budget, || async {
        ec2.create_security_group()
            .group_name(name)
            .description(CONTROL_PLANE_SG_DESCRIPTION)
            .vpc_id(vpc_id)
            .tag_specifications(tag_spec(ResourceType::SecurityGroup, name, tags))
            .send()
            .await
            .map_err(error::ec2(step))
    })
    .await?;
    out.group_id()
        .map(str::to_string)
        .ok_or_else(|| AwsError::invalid_response(step, "security group ID"))
}

pub fn ingress_description(cidr: &str) -> String {
    format!("Allow nodes/pods from remote network ({cidr}) to communicate to controlplane")
}

pub async fn authorize_https_ingress(
    ec2: &Client,
    group_id: &str,
    cidrs: &[String],
    budget: &Budget,
) -> AwsResult<()> {
    if cidrs.is_empty() {
        return Ok(());
    }
    let ranges: Vec<IpRange> = cidrs
        .iter()
        .map(|c| {
            IpRange::builder()
                .cidr_ip(c)
                .description(ingress_description(c))
                .build()
        })
        .collect();
    let permission = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(443)
        .to_port(443)
        .set_ip_ranges(Some(ranges))
        .build();
    let step = "allowing TCP 443 from the remote networks";
    naming_new_ids(step, budget, || async {
        ec2.authorize_security_group_ingress()
            .group_id(group_id)
            .ip_permissions(permission.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(error::ec2(step))
    })
    .await
}

/// CIDRs currently allowed on TCP 443, or None when the group is gone.
pub async fn https_ingress_cidrs(ec2: &Client, group_id: &str) -> AwsResult<Option<Vec<String>>> {
    let r = ec2
        .describe_security_groups()
        .group_ids(group_id)
        .send()
        .await
        .map_err(error::ec2("reading security group"));
    let out = match r {
        Err(e) if e.is_not_found() => return Ok(None),
        other => other?,
    };
    let Some(group) = out.security_groups().first() else {
        return Ok(None);
    };
    Ok(Some(
        group
            .ip_permissions()
            .iter()
            .filter(|p| {
                p.ip_protocol() == Some("tcp")
                    && p.from_port() == Some(443)
                    && p.to_port() == Some(443)
            })
            .flat_map(|p| {
                p.ip_ranges()
                    .iter()
                    .filter_map(|r| r.cidr_ip().map(str::to_string))
            })
            .collect(),
    ))
}

pub async fn create_tgw_attachment(
    ec2: &Client,
    tgw_id: &str,
    vpc_id: &str,
    subnet_ids: &[String],
    name: &str,
    tags: &BTreeMap<String, String>,
    budget: &Budget,
) -> AwsResult<String> {
    let step = "attaching the VPC to the transit gateway";
    let out = naming_new_ids(step, budget, || async {
        ec2.create_transit_gateway_vpc_attachment()
            .transit_gateway_id(tgw_id)
            .vpc_id(vpc_id)
            .set_subnet_ids(Some(subnet_ids.to_vec()))
            .tag_specifications(tag_spec(ResourceType::TransitGatewayAttachment, name, tags))
            .send()
            .await
            .map_err(error::ec2(step))
    })
    .await?;
    out.transit_gateway_vpc_attachment()
        .and_then(|a| a.transit_gateway_attachment_id())
        .map(str::to_string)
        .ok_or_else(|| AwsError::invalid_response(step, "attachment ID"))
}

/// The attachment's state; None while EC2 does not show it.
pub async fn tgw_attachment_state(
    ec2: &Client,
    id: &str,
) -> AwsResult<Option<TransitGatewayAttachmentState>> {
    let r = ec2
        .describe_transit_gateway_vpc_attachments()
        .transit_gateway_attachment_ids(id)
        .send()
        .await
        .map_err(error::ec2("reading transit gateway attachment"));
    let out = match r {
        Err(e) if e.is_not_found() => return Ok(None),
        other => other?,
    };
    Ok(out
        .transit_gateway_vpc_attachments()
        .first()
        .and_then(|a| a.state().cloned()))
}

/// Routes can point at the transit gateway once the attachment is available. An attachment
/// to a transit gateway that another account shares without auto-accept waits in
/// `pendingAcceptance` for that account; after the propagation window that ends the wait with
/// what to do, and the next apply resumes from there.
pub async fn wait_tgw_attachment_available(
    ec2: &Client,
    id: &str,
    tgw_id: &str,
    budget: &Budget,
) -> AwsResult<()> {
    use TransitGatewayAttachmentState as S;
    let step = format!("waiting for transit gateway attachment {id}");
    let acceptance = budget.within(wait::propagation_window());
    wait::until(&step, budget, || async {
        match tgw_attachment_state(ec2, id).await? {
            Some(S::Available) => Ok(Poll::Ready(())),
            Some(S::PendingAcceptance) if acceptance.check(&step).is_err() => {
                Err(AwsError::refused(
                    &step,
                    "PendingAcceptance",
                    format!("the attachment of this VPC to {tgw_id} waits for the transit gateway's owner to accept it. Accept {id} in the account that owns {tgw_id} (or enable auto-accept of shared attachments there), then run terraform apply again: it continues with the routes."),
                ))
            }
            Some(s @ (S::Failed | S::Rejected | S::Deleted | S::Deleting)) => Err(
                AwsError::refused(&step, "AttachmentFailed", format!("the attachment is {}", s.as_str())),
            ),
            other => Ok(Poll::Pending(
                other.map(|s| s.as_str().to_string()).unwrap_or_default(),
            )),
        }
    })
    .await
}

pub async fn delete_tgw_attachment(ec2: &Client, id: &str, budget: &Budget) -> AwsResult<()> {
    use TransitGatewayAttachmentState as S;
    if matches!(
        tgw_attachment_state(ec2, id).await?,
        Some(S::Deleted | S::Deleting)
    ) {
        return Ok(());
    }
    let step = format!("deleting transit gateway attachment {id}");
    delete_recorded(&step, budget, || async {
        ec2.delete_transit_gateway_vpc_attachment()
            .transit_gateway_attachment_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(error::ec2(&step))
    })
    .await?;
    wait::until(
        &format!("waiting for attachment {id} to be deleted"),
        budget,
        || async {
            Ok(match tgw_attachment_state(ec2, id).await? {
                None | Some(S::Deleted) => Poll::Ready(()),
                Some(s) => Poll::Pending(s.as_str().to_string()),
            })
        },
    )
    .await
}

pub async fn attach_vpn_gateway(
    ec2: &Client,
    vgw_id: &str,
    vpc_id: &str,
    budget: &Budget,
) -> AwsResult<()> {
    let step = "attaching the virtual private gateway";
    naming_new_ids(step, budget, || async {
        ec2.attach_vpn_gateway()
            .vpn_gateway_id(vgw_id)
            .vpc_id(vpc_id)
            .send()
            .await
            .map(|_| ())
            .map_err(error::ec2(step))
    })
    .await
}

/// The attachment state of `vgw_id` to `vpc_id` (`attached`, `detached`, …), None if absent.
/// What plan needs of a gateway given by ID: its state, owner and who accepts attachments
/// (a transit gateway), or the VPCs it is attached to (a virtual private gateway).
#[derive(Debug)]
pub struct GatewayInfo {
    pub state: String,
    /// The owning account (transit gateways).
    pub owner: Option<String>,
    /// Whether the owner accepts attachments from other accounts automatically.
    pub auto_accepts: bool,
    /// (VPC, attachment state) of a virtual private gateway.
    pub attached_vpcs: Vec<(String, String)>,
}

pub async fn transit_gateway(ec2: &Client, id: &str) -> AwsResult<Option<GatewayInfo>> {
    let r = ec2
        .describe_transit_gateways()
        .transit_gateway_ids(id)
        .send()
        .await
        .map_err(error::ec2("reading transit gateway"));
    let out = match r {
        Err(e) if e.is_not_found() => return Ok(None),
        other => other?,
    };
    Ok(out.transit_gateways().first().map(|t| GatewayInfo {
        state: t
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        owner: t.owner_id().map(str::to_string),
        auto_accepts: t
            .options()
            .and_then(|o| o.auto_accept_shared_attachments())
            .is_some_and(|a| a.as_str() == "enable"),
        attached_vpcs: Vec::new(),
    }))
}

pub async fn vpn_gateway(ec2: &Client, id: &str) -> AwsResult<Option<GatewayInfo>> {
    let r = ec2
        .describe_vpn_gateways()
        .vpn_gateway_ids(id)
        .send()
        .await
        .map_err(error::ec2("reading virtual private gateway"));
    let out = match r {
        Err(e) if e.is_not_found() => return Ok(None),
        other => other?,
    };
    Ok(out.vpn_gateways().first().map(|g| GatewayInfo {
        state: g
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        owner: None,
        auto_accepts: false,
        attached_vpcs: g
            .vpc_attachments()
            .iter()
            .filter_map(|a| Some((a.vpc_id()?.to_string(), a.state()?.as_str().to_string())))
            .collect(),
    }))
}

pub async fn vpn_gateway_attachment(
    ec2: &Client,
    vgw_id: &str,
    vpc_id: &str,
) -> AwsResult<Option<String>> {
    let r = ec2
        .describe_vpn_gateways()
        .vpn_gateway_ids(vgw_id)
        .send()
        .await
        .map_err(error::ec2("reading virtual private gateway"));
    let out = match r {
        Err(e) if e.is_not_found() => return Ok(None),
        other => other?,
    };
    Ok(out
        .vpn_gateways()
        .first()
        .and_then(|g| {
            g.vpc_attachments()
                .iter()
                .find(|a| a.vpc_id() == Some(vpc_id))
        })
        .and_then(|a| a.state().map(|s| s.as_str().to_string())))
}

pub async fn wait_vpn_gateway(
    ec2: &Client,
    vgw_id: &str,
    vpc_id: &str,
    target: &str,
    budget: &Budget,
) -> AwsResult<()> {
    wait::until(
        &format!("waiting for {vgw_id} to be {target}"),
        budget,
        || async {
            let state = vpn_gateway_attachment(ec2, vgw_id, vpc_id).await?;
            Ok(match state.as_deref() {
                Some(s) if s == target => Poll::Ready(()),
                None if target == "detached" => Poll::Ready(()),
                other => Poll::Pending(other.unwrap_or_default().to_string()),
            })
        },
    )
    .await
}

pub async fn detach_vpn_gateway(
    ec2: &Client,
    vgw_id: &str,
    vpc_id: &str,
    budget: &Budget,
) -> AwsResult<()> {
    let r = ec2
        .detach_vpn_gateway()
        .vpn_gateway_id(vgw_id)
        .vpc_id(vpc_id)
        .send()
        .await
        .map_err(error::ec2("detaching the virtual private gateway"));
    match r {
        Err(e) if e.is_not_found() || e.is("InvalidVpnGatewayAttachment.NotFound") => return Ok(()),
        other => other?,
    };
    wait_vpn_gateway(ec2, vgw_id, vpc_id, "detached", budget).await
}

/// Something still uses the object: ENIs EKS leaves behind take a while to go.
pub fn is_dependency_violation(e: &AwsError) -> bool {
    e.is("DependencyViolation")
}

/// Deletes the recorded object with `delete`, retrying while something still depends on it.
async fn delete_when_free<F, Fut>(step: &str, budget: &Budget, delete: F) -> AwsResult<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = AwsResult<()>>,
{
    delete_recorded(step, budget, || {
        wait::retry_while(step, budget, is_dependency_violation, &delete)
    })
    .await
}

/// Deletes the `available` (detached) network interfaces `filter` finds: EKS leaves some in
/// its subnets and security groups, as eksctl's cleanup notes (`pkg/vpc/cleanup.go`).
async fn delete_detached_interfaces(ec2: &Client, by: Filter) -> AwsResult<()> {
    let step = "deleting leftover network interfaces";
    let enis: Vec<_> = ec2
        .describe_network_interfaces()
        .filters(by)
        .filters(filter("status", "available"))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(error::ec2(step))?;
    for id in enis.iter().filter_map(|e| e.network_interface_id()) {
        let r = ec2
            .delete_network_interface()
            .network_interface_id(id)
            .send()
            .await
            .map_err(error::ec2(step));
        ignore_not_found(r.map(|_| ()))?;
    }
    Ok(())
}

/// EKS's network interfaces can turn `available` minutes after the cluster is gone (the
/// Terraform AWS provider's `internal/service/ec2` sweeps them again on every retry), so
/// each attempt sweeps before it deletes.
///
/// The control plane's group can sit in a VPC the provider does not own, where nothing else
/// it deletes would show that one made moments before was missed: see `delete_recorded`.
pub async fn delete_security_group(ec2: &Client, group_id: &str, budget: &Budget) -> AwsResult<()> {
    let step = format!("deleting security group {group_id}");
    let delete = || async {
        delete_detached_interfaces(ec2, filter("group-id", group_id)).await?;
        ec2.delete_security_group()
            .group_id(group_id)
            .send()
            .await
            .map(|_| ())
            .map_err(error::ec2(&step))
    };
    delete_when_free(&step, budget, delete).await
}

/// The delete of an object the inventory records. One made moments before can be invisible
/// to its own delete (EC2 eventual consistency, as when a Ctrl-C is followed at once by a
/// destroy or a replacement) and would stay for good, so "not found" is retried within the
/// propagation window before it counts as gone. Only an object already deleted outside
/// Terraform pays that wait.
async fn delete_recorded<F, Fut>(step: &str, budget: &Budget, mut delete: F) -> AwsResult<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = AwsResult<()>>,
{
    let window = budget.while_fresh();
    let mut delay = budget.min_delay;
    loop {
        match delete().await {
            Err(e) if e.is_not_found() => match window.sleep(step, delay).await {
                Ok(()) => delay = wait::next_delay(delay, budget.min_delay),
                Err(AwsError::Timeout { .. }) => return Ok(()),
                Err(cancelled) => return Err(cancelled),
            },
            other => return other,
        }
    }
}

/// Deleted NAT gateways stay visible for about an hour (Amazon VPC user guide, "Delete a NAT
/// gateway"), so `delete_recorded` waits only for one made moments before.
pub async fn delete_nat_gateway(ec2: &Client, id: &str, budget: &Budget) -> AwsResult<()> {
    let step = format!("deleting NAT gateway {id}");
    delete_recorded(&step, budget, || async {
        ec2.delete_nat_gateway()
            .nat_gateway_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(error::ec2(&step))
    })
    .await?;
    wait_nat_gateway_deleted(ec2, id, budget).await
}

/// An Elastic IP cannot be released while its NAT gateway is deleting (`AuthFailure`) and
/// briefly after (`InvalidIPAddress.InUse`: eformat/sno-for-100 #5 and #9, kubernetes/kops
/// #1604), and may name the NAT gateway's interface that has just gone
/// (`InvalidNetworkInterfaceID.NotFound`, hashicorp/terraform-provider-aws #49299).
fn address_still_held(e: &AwsError) -> bool {
    matches!(
        e.code(),
        "AuthFailure" | "InvalidIPAddress.InUse" | "InvalidNetworkInterfaceID.NotFound"
    )
}

pub async fn release_eip(ec2: &Client, allocation_id: &str, budget: &Budget) -> AwsResult<()> {
    let step = format!("releasing Elastic IP {allocation_id}");
    let r = wait::while_propagating(&step, budget, address_still_held, || async {
        ec2.release_address()
            .allocation_id(allocation_id)
            .send()
            .await
            .map(|_| ())
            .map_err(error::ec2(&step))
    })
    .await;
    match r {
        Err(e) if e.is("InvalidAllocationID.NotFound") => Ok(()),
        other => other,
    }
}

pub async fn delete_subnet(ec2: &Client, id: &str, budget: &Budget) -> AwsResult<()> {
    let step = format!("deleting subnet {id}");
    delete_when_free(&step, budget, || async {
        delete_detached_interfaces(ec2, filter("subnet-id", id)).await?;
        ec2.delete_subnet()
            .subnet_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(error::ec2(&step))
    })
    .await
}

/// Detaches the gateway from `vpc_id`, when it was attached, then deletes it.
pub async fn delete_internet_gateway(
    ec2: &Client,
    id: &str,
    vpc_id: Option<&str>,
    budget: &Budget,
) -> AwsResult<()> {
    if let Some(vpc_id) = vpc_id {
        let step = "detaching internet gateway";
        delete_when_free(step, budget, || async {
            let r = ec2
                .detach_internet_gateway()
                .internet_gateway_id(id)
                .vpc_id(vpc_id)
                .send()
                .await
                .map(|_| ())
                .map_err(error::ec2(step));
            match r {
                Err(e) if e.is("Gateway.NotAttached") => Ok(()),
                other => other,
            }
        })
        .await?;
    }
    delete_recorded("deleting internet gateway", budget, || async {
        ec2.delete_internet_gateway()
            .internet_gateway_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(error::ec2("deleting internet gateway"))
    })
    .await
}

/// Disassociates every subnet first: DeleteRouteTable refuses a table that still has any.
pub async fn delete_route_table(ec2: &Client, id: &str, budget: &Budget) -> AwsResult<()> {
    let found = ec2
        .describe_route_tables()
        .route_table_ids(id)
        .send()
        .await
        .map_err(error::ec2("reading route table"));
    // Not found yet: the delete below tells "made moments ago" from gone. Its subnets, deleted
    // first, held its associations.
    let tables = match found {
        Err(e) if e.is_not_found() => None,
        other => Some(other?),
    };
    let associations = tables
        .iter()
        .flat_map(|t| t.route_tables())
        .flat_map(|t| t.associations());
    for assoc in associations {
        if assoc.main() == Some(true) {
            continue;
        }
        if let Some(assoc_id) = assoc.route_table_association_id() {
            let r = ec2
                .disassociate_route_table()
                .association_id(assoc_id)
                .send()
                .await
                .map_err(error::ec2("disassociating route table"));
            ignore_not_found(r.map(|_| ()))?;
        }
    }
    let step = format!("deleting route table {id}");
    delete_when_free(&step, budget, || async {
        ec2.delete_route_table()
            .route_table_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(error::ec2(&step))
    })
    .await
}

pub async fn delete_vpc(ec2: &Client, id: &str, budget: &Budget) -> AwsResult<()> {
    let step = format!("deleting VPC {id}");
    delete_when_free(&step, budget, || async {
        delete_detached_interfaces(ec2, filter("vpc-id", id)).await?;
        ec2.delete_vpc()
            .vpc_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(error::ec2(&step))
    })
    .await
}

/// The CIDR blocks of a VPC, or None when it does not exist.
pub async fn vpc_cidrs(ec2: &Client, vpc_id: &str) -> AwsResult<Option<Vec<String>>> {
    let r = ec2
        .describe_vpcs()
        .vpc_ids(vpc_id)
        .send()
        .await
        .map_err(error::ec2(&format!("reading VPC {vpc_id}")));
    let out = match r {
        Err(e) if e.is_not_found() => return Ok(None),
        other => other?,
    };
    Ok(out.vpcs().first().map(|v| {
        let mut cidrs: Vec<String> = v
            .cidr_block_association_set()
            .iter()
            .filter_map(|a| a.cidr_block().map(str::to_string))
            .collect();
        if cidrs.is_empty() {
            cidrs.extend(v.cidr_block().map(str::to_string));
        }
        cidrs
    }))
}

/// (subnet ID, VPC ID) of each subnet, or AWS's message naming one that does not exist.
pub async fn subnet_vpcs(
    ec2: &Client,
    ids: &[String],
) -> AwsResult<Result<Vec<(String, String)>, String>> {
    let r = ec2
        .describe_subnets()
        .set_subnet_ids(Some(ids.to_vec()))
        .send()
        .await
        .map_err(error::ec2("reading the subnets"));
    let found = match r {
        Err(e) if e.is_not_found() => return Ok(Err(e.message().to_string())),
        other => other?,
    };
    Ok(Ok(found
        .subnets()
        .iter()
        .filter_map(|s| Some((s.subnet_id()?.to_string(), s.vpc_id()?.to_string())))
        .collect()))
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect()
}

/// The tags of a VPC, or None when it does not exist.
pub async fn vpc_tags(ec2: &Client, vpc_id: &str) -> AwsResult<Option<BTreeMap<String, String>>> {
    let r = ec2
        .describe_vpcs()
        .vpc_ids(vpc_id)
        .send()
        .await
        .map_err(error::ec2("reading VPC tags"));
    let out = match r {
        Err(e) if e.is_not_found() => return Ok(None),
        other => other?,
    };
    Ok(out.vpcs().first().map(|v| tag_map(v.tags())))
}

pub struct SubnetInfo {
    pub id: String,
    pub availability_zone: String,
    pub tags: BTreeMap<String, String>,
}

async fn subnets_of(ec2: &Client, vpc_id: &str) -> AwsResult<Vec<Subnet>> {
    ec2.describe_subnets()
        .filters(filter("vpc-id", vpc_id))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(error::ec2("listing subnets"))
}

pub async fn subnets_in(ec2: &Client, vpc_id: &str) -> AwsResult<Vec<SubnetInfo>> {
    Ok(subnets_of(ec2, vpc_id)
        .await?
        .iter()
        .filter_map(|s| {
            Some(SubnetInfo {
                id: s.subnet_id()?.to_string(),
                availability_zone: s.availability_zone().unwrap_or_default().to_string(),
                tags: tag_map(s.tags()),
            })
        })
        .collect())
}

pub struct RouteTableInfo {
    pub id: String,
    pub tags: BTreeMap<String, String>,
    pub subnet_ids: Vec<String>,
    /// (destination CIDR, target ID)
    pub routes: Vec<(String, String)>,
}

fn route_table_info(t: &RouteTable) -> Option<RouteTableInfo> {
    Some(RouteTableInfo {
        id: t.route_table_id()?.to_string(),
        tags: tag_map(t.tags()),
        subnet_ids: t
            .associations()
            .iter()
            .filter_map(|a| a.subnet_id().map(str::to_string))
            .collect(),
        routes: t
            .routes()
            .iter()
            .filter_map(|r| {
                let target = r
                    .transit_gateway_id()
                    .or(r.gateway_id())
                    .or(r.nat_gateway_id())?;
                Some((r.destination_cidr_block()?.to_string(), target.to_string()))
            })
            .collect(),
    })
}

pub async fn route_tables_in(ec2: &Client, vpc_id: &str) -> AwsResult<Vec<RouteTableInfo>> {
    let tables: Vec<RouteTable> = ec2
        .describe_route_tables()
        .filters(filter("vpc-id", vpc_id))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(error::ec2("listing route tables"))?;
    Ok(tables.iter().filter_map(route_table_info).collect())
}

/// What exists in a VPC: subnets, route tables with their routes, internet gateways, NAT
/// gateways with their states.
#[derive(Default, Debug)]
pub struct VpcContents {
    pub subnet_ids: Vec<String>,
    /// route table ID -> destination CIDR -> target ID
    pub routes: BTreeMap<String, BTreeMap<String, String>>,
    pub internet_gateway_ids: Vec<String>,
    pub nat_gateways: BTreeMap<String, String>,
}

pub async fn vpc_contents(ec2: &Client, vpc_id: &str) -> AwsResult<VpcContents> {
    let (subnets, tables, igws, nats) = tokio::join!(
        subnets_of(ec2, vpc_id),
        route_tables_in(ec2, vpc_id),
        internet_gateways(ec2, filter("attachment.vpc-id", vpc_id)),
        nat_gateways(ec2, vpc_id),
    );
    Ok(VpcContents {
        subnet_ids: subnets?
            .iter()
            .filter_map(|s| s.subnet_id().map(str::to_string))
            .collect(),
        routes: tables?
            .into_iter()
            .map(|t| (t.id, t.routes.into_iter().collect()))
            .collect(),
        internet_gateway_ids: igws?,
        nat_gateways: nats?
            .iter()
            .filter_map(|n| {
                Some((
                    n.nat_gateway_id()?.to_string(),
                    n.state()?.as_str().to_string(),
                ))
            })
            .collect(),
    })
}

pub async fn internet_gateway_exists(ec2: &Client, id: &str) -> AwsResult<bool> {
    Ok(!internet_gateways(ec2, filter("internet-gateway-id", id))
        .await?
        .is_empty())
}

async fn internet_gateways(ec2: &Client, by: Filter) -> AwsResult<Vec<String>> {
    let gateways: Vec<_> = ec2
        .describe_internet_gateways()
        .filters(by)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(error::ec2("listing internet gateways"))?;
    Ok(gateways
        .iter()
        .filter_map(|g| g.internet_gateway_id().map(str::to_string))
        .collect())
}

async fn nat_gateways(
    ec2: &Client,
    vpc_id: &str,
) -> AwsResult<Vec<aws_sdk_ec2::types::NatGateway>> {
    ec2.describe_nat_gateways()
        .filter(filter("vpc-id", vpc_id))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(error::ec2("listing NAT gateways"))
}

pub async fn internet_gateway_of(ec2: &Client, vpc_id: &str) -> AwsResult<Option<String>> {
    Ok(internet_gateways(ec2, filter("attachment.vpc-id", vpc_id))
        .await?
        .into_iter()
        .next())
}

/// (NAT gateway ID, allocation ID) of the VPC's NAT gateways that are not deleted.
pub async fn nat_gateways_in(ec2: &Client, vpc_id: &str) -> AwsResult<Vec<(String, String)>> {
    Ok(nat_gateways(ec2, vpc_id)
        .await?
        .iter()
        .filter(|n| {
            !matches!(
                n.state(),
                Some(NatGatewayState::Deleted | NatGatewayState::Deleting)
            )
        })
        .filter_map(|n| {
            let alloc = n
                .nat_gateway_addresses()
                .first()
                .and_then(|a| a.allocation_id())
                .unwrap_or_default();
            Some((n.nat_gateway_id()?.to_string(), alloc.to_string()))
        })
        .collect())
}

/// (attachment ID, transit gateway ID) of the VPC's live transit gateway attachments.
pub async fn tgw_attachments_of(ec2: &Client, vpc_id: &str) -> AwsResult<Vec<(String, String)>> {
    let attachments: Vec<_> = ec2
        .describe_transit_gateway_vpc_attachments()
        .filters(filter("vpc-id", vpc_id))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(error::ec2("listing transit gateway attachments"))?;
    Ok(attachments
        .iter()
        .filter(|a| {
            !matches!(
                a.state(),
                Some(
                    TransitGatewayAttachmentState::Deleted
                        | TransitGatewayAttachmentState::Deleting
                )
            )
        })
        .filter_map(|a| {
            Some((
                a.transit_gateway_attachment_id()?.to_string(),
                a.transit_gateway_id()?.to_string(),
            ))
        })
        .collect())
}

/// The ID of the virtual private gateway attached to the VPC, if any.
pub async fn vpn_gateway_of(ec2: &Client, vpc_id: &str) -> AwsResult<Option<String>> {
    let out = ec2
        .describe_vpn_gateways()
        .filters(filter("attachment.vpc-id", vpc_id))
        .send()
        .await
        .map_err(error::ec2("finding the virtual private gateway"))?;
    Ok(out
        .vpn_gateways()
        .iter()
        .find(|g| {
            g.vpc_attachments().iter().any(|a| {
                a.vpc_id() == Some(vpc_id) && a.state().is_some_and(|s| s.as_str() == "attached")
            })
        })
        .and_then(|g| g.vpn_gateway_id().map(str::to_string)))
}

async fn security_groups(ec2: &Client, filters: Vec<Filter>) -> AwsResult<Vec<String>> {
    let groups: Vec<_> = ec2
        .describe_security_groups()
        .set_filters(Some(filters))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(error::ec2("listing security groups"))?;
    Ok(groups
        .iter()
        .filter_map(|g| g.group_id().map(str::to_string))
        .collect())
}

pub async fn security_group_named(
    ec2: &Client,
    vpc_id: &str,
    name: &str,
) -> AwsResult<Option<String>> {
    let by = vec![filter("vpc-id", vpc_id), filter("group-name", name)];
    Ok(security_groups(ec2, by).await?.into_iter().next())
}

/// Sets `tags` on every object and removes the keys in `removed` (Name is left alone).
pub async fn retag(
    ec2: &Client,
    ids: &[String],
    tags: &BTreeMap<String, String>,
    removed: &[String],
) -> AwsResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    if !removed.is_empty() {
        let keys = removed
            .iter()
            .map(|k| Tag::builder().key(k).build())
            .collect();
        ec2.delete_tags()
            .set_resources(Some(ids.to_vec()))
            .set_tags(Some(keys))
            .send()
            .await
            .map_err(error::ec2("removing tags"))?;
    }
    let set: Vec<Tag> = tags
        .iter()
        .filter(|(k, _)| k.as_str() != "Name")
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    if !set.is_empty() {
        ec2.create_tags()
            .set_resources(Some(ids.to_vec()))
            .set_tags(Some(set))
            .send()
            .await
            .map_err(error::ec2("tagging"))?;
    }
    Ok(())
}

/// What carries the tag `key = value` and is attached to nothing: an internet gateway in no
/// VPC, an Elastic IP associated with nothing. A create that failed between making one and
/// using it leaves such an object; one in use belongs to whatever uses it, so it is not here.
#[derive(Default)]
pub struct FreeFloating {
    pub internet_gateways: Vec<String>,
    pub eip_allocations: Vec<String>,
}

pub async fn free_floating_tagged(ec2: &Client, key: &str, value: &str) -> AwsResult<FreeFloating> {
    let by_tag = || filter(&format!("tag:{key}"), value);
    let igws = async {
        let gateways: Vec<_> = ec2
            .describe_internet_gateways()
            .filters(by_tag())
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(error::ec2("finding internet gateways by tag"))?;
        AwsResult::Ok(
            gateways
                .iter()
                .filter(|g| g.attachments().is_empty())
                .filter_map(|g| g.internet_gateway_id().map(str::to_string))
                .collect::<Vec<_>>(),
        )
    };
    let (igws, eips) = tokio::join!(igws, ec2.describe_addresses().filters(by_tag()).send());
    Ok(FreeFloating {
        internet_gateways: igws?,
        eip_allocations: eips
            .map_err(error::ec2("finding Elastic IPs by tag"))?
            .addresses()
            .iter()
            .filter(|a| a.association_id().is_none())
            .filter_map(|a| a.allocation_id().map(str::to_string))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_eks_refuses_are_avoided_by_id() {
        assert!(!eks_supports_zone("us-east-1", "use1-az3"));
        assert!(eks_supports_zone("us-east-1", "use1-az1"));
        assert!(eks_supports_zone("us-west-2", "use1-az3"));
    }

    #[test]
    fn addresses_are_held_by_these_errors_only() {
        for code in [
            "AuthFailure",
            "InvalidIPAddress.InUse",
            "InvalidNetworkInterfaceID.NotFound",
        ] {
            assert!(address_still_held(&AwsError::api("s", code, "m")), "{code}");
        }
        assert!(!address_still_held(&AwsError::api(
            "s",
            "UnauthorizedOperation",
            "m"
        )));
    }
}
