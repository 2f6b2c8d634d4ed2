//! EC2: VPC networking, the control-plane security group, gateway attachments and routes.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, Filter, IpPermission, IpRange, NatGatewayState,
    ResourceType, Tag, TagSpecification, TransitGatewayAttachmentState,
};
use aws_sdk_ec2::Client;

use super::wait::{self, Budget, Poll};
use super::{err, ignore_not_found, AwsError, AwsResult};

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

fn missing(step: &str, what: &str) -> AwsError {
    AwsError::new(step, "InvalidResponse", format!("AWS returned no {what}"))
}

pub async fn default_availability_zones(ec2: &Client, count: usize) -> AwsResult<Vec<String>> {
    let step = "listing availability zones";
    let out = ec2
        .describe_availability_zones()
        .filters(filter("state", "available"))
        .send()
        .await
        .map_err(err(step))?;
    let mut zones: Vec<String> = out
        .availability_zones()
        .iter()
        .filter(|z| z.zone_type().is_none_or(|t| t == "availability-zone"))
        .filter_map(|z| z.zone_name().map(str::to_string))
        .collect();
    zones.sort();
    zones.truncate(count);
    if zones.len() < 2 {
        return Err(AwsError::new(
            step,
            "InsufficientAvailabilityZones",
            "the region has fewer than 2 availability zones",
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
        .map_err(err(step))?;
    let id = out
        .vpc()
        .and_then(|v| v.vpc_id())
        .ok_or_else(|| missing(step, "VPC ID"))?
        .to_string();
    Ok(id)
}

/// DNS support and hostnames, which EKS needs for private endpoint access.
pub async fn enable_vpc_dns(ec2: &Client, id: &str) -> AwsResult<()> {
    for hostnames in [false, true] {
        let on = Some(AttributeBooleanValue::builder().value(true).build());
        let req = ec2.modify_vpc_attribute().vpc_id(id);
        let req = if hostnames {
            req.set_enable_dns_hostnames(on)
        } else {
            req.set_enable_dns_support(on)
        };
        req.send().await.map_err(err("enabling VPC DNS"))?;
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
        .map_err(err(step))?;
    let id = out
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .ok_or_else(|| missing(step, "internet gateway ID"))?
        .to_string();
    Ok(id)
}

pub async fn attach_internet_gateway(ec2: &Client, id: &str, vpc_id: &str) -> AwsResult<()> {
    ec2.attach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc_id)
        .send()
        .await
        .map_err(err("attaching internet gateway"))?;
    Ok(())
}

pub async fn create_route_table(
    ec2: &Client,
    vpc_id: &str,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> AwsResult<String> {
    let step = "creating route table";
    let out = ec2
        .create_route_table()
        .vpc_id(vpc_id)
        .tag_specifications(tag_spec(ResourceType::RouteTable, name, tags))
        .send()
        .await
        .map_err(err(step))?;
    Ok(out
        .route_table()
        .and_then(|r| r.route_table_id())
        .ok_or_else(|| missing(step, "route table ID"))?
        .to_string())
}

#[allow(clippy::enum_variant_names)]
pub enum RouteTarget<'a> {
    InternetGateway(&'a str),
    NatGateway(&'a str),
    TransitGateway(&'a str),
    VpnGateway(&'a str),
}

pub async fn create_route(
    ec2: &Client,
    route_table_id: &str,
    cidr: &str,
    target: RouteTarget<'_>,
) -> AwsResult<()> {
    let req = ec2
        .create_route()
        .route_table_id(route_table_id)
        .destination_cidr_block(cidr);
    let req = match target {
        RouteTarget::InternetGateway(id) | RouteTarget::VpnGateway(id) => req.gateway_id(id),
        RouteTarget::NatGateway(id) => req.nat_gateway_id(id),
        RouteTarget::TransitGateway(id) => req.transit_gateway_id(id),
    };
    req.send()
        .await
        .map_err(err(&format!("creating route {cidr} in {route_table_id}")))?;
    Ok(())
}

pub async fn delete_route(ec2: &Client, route_table_id: &str, cidr: &str) -> AwsResult<()> {
    let r = ec2
        .delete_route()
        .route_table_id(route_table_id)
        .destination_cidr_block(cidr)
        .send()
        .await
        .map_err(err(&format!("deleting route {cidr} in {route_table_id}")));
    ignore_not_found(r.map(|_| ()))
}

pub async fn create_subnet(
    ec2: &Client,
    vpc_id: &str,
    cidr: &str,
    az: &str,
    public: bool,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> AwsResult<String> {
    let step = "creating subnet";
    let mut tags = tags.clone();
    let role = if public {
        "kubernetes.io/role/elb"
    } else {
        "kubernetes.io/role/internal-elb"
    };
    tags.insert(role.into(), "1".into());
    let out = ec2
        .create_subnet()
        .vpc_id(vpc_id)
        .cidr_block(cidr)
        .availability_zone(az)
        .tag_specifications(tag_spec(ResourceType::Subnet, name, &tags))
        .send()
        .await
        .map_err(err(step))?;
    let id = out
        .subnet()
        .and_then(|s| s.subnet_id())
        .ok_or_else(|| missing(step, "subnet ID"))?
        .to_string();
    Ok(id)
}

pub async fn enable_public_ips(ec2: &Client, subnet_id: &str) -> AwsResult<()> {
    ec2.modify_subnet_attribute()
        .subnet_id(subnet_id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .map_err(err("enabling public IPs on subnet"))?;
    Ok(())
}

pub async fn associate_route_table(
    ec2: &Client,
    route_table_id: &str,
    subnet_id: &str,
) -> AwsResult<()> {
    ec2.associate_route_table()
        .route_table_id(route_table_id)
        .subnet_id(subnet_id)
        .send()
        .await
        .map_err(err("associating route table"))?;
    Ok(())
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
        .map_err(err(step))?;
    Ok(out
        .allocation_id()
        .ok_or_else(|| missing(step, "allocation ID"))?
        .to_string())
}

pub async fn create_nat_gateway(
    ec2: &Client,
    subnet_id: &str,
    allocation_id: &str,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> AwsResult<String> {
    let step = "creating NAT gateway";
    let out = ec2
        .create_nat_gateway()
        .subnet_id(subnet_id)
        .allocation_id(allocation_id)
        .tag_specifications(tag_spec(ResourceType::Natgateway, name, tags))
        .send()
        .await
        .map_err(err(step))?;
    Ok(out
        .nat_gateway()
        .and_then(|n| n.nat_gateway_id())
        .ok_or_else(|| missing(step, "NAT gateway ID"))?
        .to_string())
}

pub async fn nat_gateway_state(ec2: &Client, id: &str) -> AwsResult<Option<NatGatewayState>> {
    let out = ec2
        .describe_nat_gateways()
        .filter(filter("nat-gateway-id", id))
        .send()
        .await
        .map_err(err("reading NAT gateway"))?;
    Ok(out.nat_gateways().first().and_then(|n| n.state().cloned()))
}

pub async fn wait_nat_gateway(
    ec2: &Client,
    id: &str,
    target: NatGatewayState,
    budget: &Budget,
) -> AwsResult<()> {
    let step = format!("waiting for NAT gateway {id} to be {}", target.as_str());
    wait::until(&step, budget, || async {
        match nat_gateway_state(ec2, id).await? {
            Some(s) if s == target => Ok(Poll::Ready(())),
            None if target == NatGatewayState::Deleted => Ok(Poll::Ready(())),
            Some(NatGatewayState::Failed) if target != NatGatewayState::Deleted => Err(
                AwsError::new(&step, "NatGatewayFailed", "the NAT gateway failed"),
            ),
            other => Ok(Poll::Pending(
                other.map(|s| s.as_str().to_string()).unwrap_or_default(),
            )),
        }
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
) -> AwsResult<String> {
    let step = "creating control plane security group";
    let out = ec2
        .create_security_group()
        .group_name(name)
        .description(CONTROL_PLANE_SG_DESCRIPTION)
        .vpc_id(vpc_id)
        .tag_specifications(tag_spec(ResourceType::SecurityGroup, name, tags))
        .send()
        .await
        .map_err(err(step))?;
    Ok(out
        .group_id()
        .ok_or_else(|| missing(step, "security group ID"))?
        .to_string())
}

pub fn ingress_description(cidr: &str) -> String {
    format!("Allow nodes/pods from remote network ({cidr}) to communicate to controlplane")
}

pub async fn authorize_https_ingress(
    ec2: &Client,
    group_id: &str,
    cidrs: &[String],
) -> AwsResult<()> {
    if cidrs.is_empty() {
        return Ok(());
    }
    let ranges = cidrs
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
    ec2.authorize_security_group_ingress()
        .group_id(group_id)
        .ip_permissions(permission)
        .send()
        .await
        .map_err(err("allowing TCP 443 from the remote networks"))?;
    Ok(())
}

/// CIDRs currently allowed on TCP 443, or None when the group is gone.
pub async fn https_ingress_cidrs(ec2: &Client, group_id: &str) -> AwsResult<Option<Vec<String>>> {
    let r = ec2
        .describe_security_groups()
        .group_ids(group_id)
        .send()
        .await
        .map_err(err("reading security group"));
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
) -> AwsResult<String> {
    let step = "attaching the VPC to the transit gateway";
    let out = ec2
        .create_transit_gateway_vpc_attachment()
        .transit_gateway_id(tgw_id)
        .vpc_id(vpc_id)
        .set_subnet_ids(Some(subnet_ids.to_vec()))
        .tag_specifications(tag_spec(ResourceType::TransitGatewayAttachment, name, tags))
        .send()
        .await
        .map_err(err(step))?;
    Ok(out
        .transit_gateway_vpc_attachment()
        .and_then(|a| a.transit_gateway_attachment_id())
        .ok_or_else(|| missing(step, "attachment ID"))?
        .to_string())
}

pub async fn tgw_attachment_state(
    ec2: &Client,
    id: &str,
) -> AwsResult<Option<TransitGatewayAttachmentState>> {
    let r = ec2
        .describe_transit_gateway_vpc_attachments()
        .transit_gateway_attachment_ids(id)
        .send()
        .await
        .map_err(err("reading transit gateway attachment"));
    let out = match r {
        Err(e) if e.is_not_found() => return Ok(None),
        other => other?,
    };
    Ok(out
        .transit_gateway_vpc_attachments()
        .first()
        .and_then(|a| a.state().cloned()))
}

/// Ready means routes can point at the gateway: available, or waiting for the owner of a
/// shared transit gateway to accept.
pub async fn wait_tgw_attachment_ready(ec2: &Client, id: &str, budget: &Budget) -> AwsResult<()> {
    use TransitGatewayAttachmentState as S;
    let step = format!("waiting for transit gateway attachment {id}");
    wait::until(&step, budget, || async {
        match tgw_attachment_state(ec2, id).await? {
            Some(S::Available | S::PendingAcceptance) => Ok(Poll::Ready(())),
            Some(s @ (S::Failed | S::Rejected | S::Deleted)) => Err(AwsError::new(
                &step,
                "AttachmentFailed",
                format!("the attachment is {}", s.as_str()),
            )),
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
        None | Some(S::Deleted | S::Deleting)
    ) {
        return Ok(());
    }
    let r = ec2
        .delete_transit_gateway_vpc_attachment()
        .transit_gateway_attachment_id(id)
        .send()
        .await
        .map_err(err("deleting transit gateway attachment"));
    ignore_not_found(r.map(|_| ()))?;
    wait::until(
        &format!("waiting for attachment {id} to be deleted"),
        budget,
        || async {
            Ok(match tgw_attachment_state(ec2, id).await? {
                None | Some(TransitGatewayAttachmentState::Deleted) => Poll::Ready(()),
                Some(s) => Poll::Pending(s.as_str().to_string()),
            })
        },
    )
    .await
}

pub async fn attach_vpn_gateway(ec2: &Client, vgw_id: &str, vpc_id: &str) -> AwsResult<()> {
    ec2.attach_vpn_gateway()
        .vpn_gateway_id(vgw_id)
        .vpc_id(vpc_id)
        .send()
        .await
        .map_err(err("attaching the virtual private gateway"))?;
    Ok(())
}

/// The attachment state of `vgw_id` to `vpc_id` (`attached`, `detached`, …), None if absent.
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
        .map_err(err("reading virtual private gateway"));
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
        .map_err(err("detaching the virtual private gateway"));
    match r {
        Err(e) if e.is_not_found() || e.is("InvalidVpnGatewayAttachment.NotFound") => return Ok(()),
        other => other?,
    };
    wait_vpn_gateway(ec2, vgw_id, vpc_id, "detached", budget).await
}

pub fn is_dependency_violation(e: &AwsError) -> bool {
    e.code == "DependencyViolation"
        || e.code == "InvalidIPAddress.InUse"
        || e.code == "AuthFailure.AddressInUse"
}

/// Deletes leftover `available` ENIs of the group (EKS leaves some behind), then the group,
/// retrying while something still depends on it.
pub async fn delete_security_group(ec2: &Client, group_id: &str, budget: &Budget) -> AwsResult<()> {
    let enis = ec2
        .describe_network_interfaces()
        .filters(filter("group-id", group_id))
        .filters(filter("status", "available"))
        .send()
        .await
        .map_err(err("listing leftover network interfaces"))?;
    for eni in enis.network_interfaces() {
        if let Some(id) = eni.network_interface_id() {
            let r = ec2
                .delete_network_interface()
                .network_interface_id(id)
                .send()
                .await
                .map_err(err("deleting leftover network interface"));
            ignore_not_found(r.map(|_| ()))?;
        }
    }
    wait::retry_while(
        &format!("deleting security group {group_id}"),
        budget,
        is_dependency_violation,
        || async {
            let r = ec2
                .delete_security_group()
                .group_id(group_id)
                .send()
                .await
                .map_err(err(&format!("deleting security group {group_id}")));
            ignore_not_found(r.map(|_| ()))
        },
    )
    .await
}

pub async fn delete_nat_gateway(ec2: &Client, id: &str, budget: &Budget) -> AwsResult<()> {
    let r = ec2
        .delete_nat_gateway()
        .nat_gateway_id(id)
        .send()
        .await
        .map_err(err("deleting NAT gateway"));
    ignore_not_found(r.map(|_| ()))?;
    wait_nat_gateway(ec2, id, NatGatewayState::Deleted, budget).await
}

pub async fn release_eip(ec2: &Client, allocation_id: &str, budget: &Budget) -> AwsResult<()> {
    wait::retry_while(
        "releasing Elastic IP",
        budget,
        is_dependency_violation,
        || async {
            let r = ec2
                .release_address()
                .allocation_id(allocation_id)
                .send()
                .await
                .map_err(err("releasing Elastic IP"));
            ignore_not_found(r.map(|_| ()))
        },
    )
    .await
}

/// Detached interfaces left in a subnet we own (by EKS, or a NAT gateway's on some
/// emulators) would block its deletion: remove them first, as eksctl does.
pub async fn delete_subnet(ec2: &Client, id: &str, budget: &Budget) -> AwsResult<()> {
    let enis = ec2
        .describe_network_interfaces()
        .filters(filter("subnet-id", id))
        .filters(filter("status", "available"))
        .send()
        .await
        .map_err(err("listing leftover network interfaces"))?;
    for eni in enis
        .network_interfaces()
        .iter()
        .filter_map(|e| e.network_interface_id())
    {
        let r = ec2
            .delete_network_interface()
            .network_interface_id(eni)
            .send()
            .await
            .map_err(err("deleting leftover network interface"));
        ignore_not_found(r.map(|_| ()))?;
    }
    wait::retry_while(
        &format!("deleting subnet {id}"),
        budget,
        is_dependency_violation,
        || async {
            let r = ec2
                .delete_subnet()
                .subnet_id(id)
                .send()
                .await
                .map_err(err(&format!("deleting subnet {id}")));
            ignore_not_found(r.map(|_| ()))
        },
    )
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
        detach_internet_gateway(ec2, id, vpc_id, budget).await?;
    }
    let r = ec2
        .delete_internet_gateway()
        .internet_gateway_id(id)
        .send()
        .await
        .map_err(err("deleting internet gateway"));
    ignore_not_found(r.map(|_| ()))
}

async fn detach_internet_gateway(
    ec2: &Client,
    id: &str,
    vpc_id: &str,
    budget: &Budget,
) -> AwsResult<()> {
    wait::retry_while(
        "detaching internet gateway",
        budget,
        is_dependency_violation,
        || async {
            let r = ec2
                .detach_internet_gateway()
                .internet_gateway_id(id)
                .vpc_id(vpc_id)
                .send()
                .await
                .map_err(err("detaching internet gateway"));
            match r {
                Err(e) if e.is("Gateway.NotAttached") => Ok(()),
                other => ignore_not_found(other.map(|_| ())),
            }
        },
    )
    .await
}

/// Disassociates every subnet first: DeleteRouteTable refuses a table that still has any.
pub async fn delete_route_table(ec2: &Client, id: &str, budget: &Budget) -> AwsResult<()> {
    let found = ec2
        .describe_route_tables()
        .route_table_ids(id)
        .send()
        .await
        .map_err(err("reading route table"));
    let tables = match found {
        Err(e) if e.is_not_found() => return Ok(()),
        other => other?,
    };
    for assoc in tables.route_tables().iter().flat_map(|t| t.associations()) {
        if assoc.main() == Some(true) {
            continue;
        }
        if let Some(assoc_id) = assoc.route_table_association_id() {
            let r = ec2
                .disassociate_route_table()
                .association_id(assoc_id)
                .send()
                .await
                .map_err(err("disassociating route table"));
            ignore_not_found(r.map(|_| ()))?;
        }
    }
    wait::retry_while(
        &format!("deleting route table {id}"),
        budget,
        is_dependency_violation,
        || async {
            let r = ec2
                .delete_route_table()
                .route_table_id(id)
                .send()
                .await
                .map_err(err(&format!("deleting route table {id}")));
            ignore_not_found(r.map(|_| ()))
        },
    )
    .await
}

pub async fn delete_vpc(ec2: &Client, id: &str, budget: &Budget) -> AwsResult<()> {
    wait::retry_while(
        &format!("deleting VPC {id}"),
        budget,
        is_dependency_violation,
        || async {
            let r = ec2
                .delete_vpc()
                .vpc_id(id)
                .send()
                .await
                .map_err(err(&format!("deleting VPC {id}")));
            ignore_not_found(r.map(|_| ()))
        },
    )
    .await
}

/// The CIDR blocks of a VPC, or None when it does not exist.
pub async fn vpc_cidrs(ec2: &Client, vpc_id: &str) -> AwsResult<Option<Vec<String>>> {
    let r = ec2
        .describe_vpcs()
        .vpc_ids(vpc_id)
        .send()
        .await
        .map_err(err(&format!("reading VPC {vpc_id}")));
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

/// What exists in a VPC, in a handful of calls: subnets, route tables with their routes,
/// internet gateways, NAT gateways.
#[derive(Default, Debug)]
pub struct VpcContents {
    pub subnet_ids: Vec<String>,
    /// route table ID -> destination CIDR -> target ID
    pub routes: BTreeMap<String, BTreeMap<String, String>>,
    pub internet_gateway_ids: Vec<String>,
    pub nat_gateways: BTreeMap<String, String>,
}

pub async fn vpc_contents(ec2: &Client, vpc_id: &str) -> AwsResult<VpcContents> {
    let by_vpc = || filter("vpc-id", vpc_id);
    let (subnets, tables, igws, nats) = tokio::join!(
        ec2.describe_subnets().filters(by_vpc()).send(),
        ec2.describe_route_tables().filters(by_vpc()).send(),
        ec2.describe_internet_gateways()
            .filters(filter("attachment.vpc-id", vpc_id))
            .send(),
        ec2.describe_nat_gateways().filter(by_vpc()).send(),
    );
    let subnets = subnets.map_err(err("reading subnets"))?;
    let tables = tables.map_err(err("reading route tables"))?;
    let igws = igws.map_err(err("reading internet gateways"))?;
    let nats = nats.map_err(err("reading NAT gateways"))?;
    Ok(VpcContents {
        subnet_ids: subnets
            .subnets()
            .iter()
            .filter_map(|s| s.subnet_id().map(str::to_string))
            .collect(),
        routes: tables
            .route_tables()
            .iter()
            .filter_map(|t| {
                let routes = t
                    .routes()
                    .iter()
                    .filter_map(|r| {
                        let dest = r.destination_cidr_block()?.to_string();
                        let target = r
                            .transit_gateway_id()
                            .or(r.gateway_id())
                            .or(r.nat_gateway_id())
                            .unwrap_or_default()
                            .to_string();
                        Some((dest, target))
                    })
                    .collect();
                Some((t.route_table_id()?.to_string(), routes))
            })
            .collect(),
        internet_gateway_ids: igws
            .internet_gateways()
            .iter()
            .filter_map(|g| g.internet_gateway_id().map(str::to_string))
            .collect(),
        nat_gateways: nats
            .nat_gateways()
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
        .map_err(err("reading VPC tags"));
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

pub async fn subnets_in(ec2: &Client, vpc_id: &str) -> AwsResult<Vec<SubnetInfo>> {
    let out = ec2
        .describe_subnets()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await
        .map_err(err("listing subnets"))?;
    Ok(out
        .subnets()
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

pub async fn route_tables_in(ec2: &Client, vpc_id: &str) -> AwsResult<Vec<RouteTableInfo>> {
    let out = ec2
        .describe_route_tables()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await
        .map_err(err("listing route tables"))?;
    Ok(out
        .route_tables()
        .iter()
        .filter_map(|t| {
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
        })
        .collect())
}

pub async fn internet_gateway_of(ec2: &Client, vpc_id: &str) -> AwsResult<Option<String>> {
    let out = ec2
        .describe_internet_gateways()
        .filters(filter("attachment.vpc-id", vpc_id))
        .send()
        .await
        .map_err(err("finding the internet gateway"))?;
    Ok(out
        .internet_gateways()
        .first()
        .and_then(|g| g.internet_gateway_id().map(str::to_string)))
}

/// (NAT gateway ID, allocation ID) of the VPC's NAT gateways that are not deleted.
pub async fn nat_gateways_in(ec2: &Client, vpc_id: &str) -> AwsResult<Vec<(String, String)>> {
    let out = ec2
        .describe_nat_gateways()
        .filter(filter("vpc-id", vpc_id))
        .send()
        .await
        .map_err(err("listing NAT gateways"))?;
    Ok(out
        .nat_gateways()
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
    let out = ec2
        .describe_transit_gateway_vpc_attachments()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await
        .map_err(err("listing transit gateway attachments"))?;
    Ok(out
        .transit_gateway_vpc_attachments()
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
        .map_err(err("finding the virtual private gateway"))?;
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

pub async fn security_group_named(
    ec2: &Client,
    vpc_id: &str,
    name: &str,
) -> AwsResult<Option<String>> {
    let out = ec2
        .describe_security_groups()
        .filters(filter("vpc-id", vpc_id))
        .filters(filter("group-name", name))
        .send()
        .await
        .map_err(err("finding the control plane security group"))?;
    Ok(out
        .security_groups()
        .first()
        .and_then(|g| g.group_id().map(str::to_string)))
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
            .map_err(err("removing tags"))?;
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
            .map_err(err("tagging"))?;
    }
    Ok(())
}

/// What carries the tag `key = value`, of the kinds that can exist outside a VPC's filters
/// (a gateway not yet attached, an address not yet used).
#[derive(Default)]
pub struct Tagged {
    pub vpcs: Vec<String>,
    pub security_groups: Vec<String>,
    pub internet_gateways: Vec<String>,
    pub eip_allocations: Vec<String>,
}

pub async fn tagged(ec2: &Client, key: &str, value: &str) -> AwsResult<Tagged> {
    let by_tag = || filter(&format!("tag:{key}"), value);
    let (vpcs, sgs, igws, eips) = tokio::join!(
        ec2.describe_vpcs().filters(by_tag()).send(),
        ec2.describe_security_groups().filters(by_tag()).send(),
        ec2.describe_internet_gateways().filters(by_tag()).send(),
        ec2.describe_addresses().filters(by_tag()).send(),
    );
    Ok(Tagged {
        vpcs: vpcs
            .map_err(err("finding VPCs by tag"))?
            .vpcs()
            .iter()
            .filter_map(|v| v.vpc_id().map(str::to_string))
            .collect(),
        security_groups: sgs
            .map_err(err("finding security groups by tag"))?
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
        internet_gateways: igws
            .map_err(err("finding internet gateways by tag"))?
            .internet_gateways()
            .iter()
            .filter_map(|g| g.internet_gateway_id().map(str::to_string))
            .collect(),
        eip_allocations: eips
            .map_err(err("finding Elastic IPs by tag"))?
            .addresses()
            .iter()
            .filter_map(|a| a.allocation_id().map(str::to_string))
            .collect(),
    })
}
