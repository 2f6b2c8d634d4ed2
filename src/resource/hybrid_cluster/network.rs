//! The EC2 steps of create and repair. Each step does one thing the dependency graph in
//! `create.rs` can schedule on its own, creates its object unless the inventory records it,
//! and records every ID the moment AWS returns it. Steps that return `Fresh` tell their
//! follow-ups (attach, associate, default route) whether the object was made just now.

use ipnet::Ipv4Net;

use super::create::Ctx;
use super::inventory::{Inventory, Route};
use super::model::NatMode;
use super::{cidr, names};
use crate::aws::ec2::{self, RouteTarget};
use crate::aws::{AwsError, AwsResult};

/// An object's ID, and whether this apply created it.
pub type Fresh = (String, bool);

#[derive(Clone, Copy, PartialEq)]
pub enum SubnetKind {
    Public,
    Private,
}

impl SubnetKind {
    fn label(self) -> &'static str {
        match self {
            SubnetKind::Public => "public",
            SubnetKind::Private => "private",
        }
    }
}

/// False when the inventory records the object; an error when it records an object that was
/// deleted outside Terraform and cannot be recreated without everything that depends on it.
pub fn needs(ctx: &Ctx<'_>, recorded: Option<&String>, kind: &str) -> AwsResult<bool> {
    match recorded {
        None => Ok(true),
        Some(id) if ctx.observed.is_missing(&format!("{kind}/{id}")) => Err(AwsError::new(
            format!("repairing {kind} {id}"),
            "CannotRepairInPlace",
            format!("{kind} {id} was deleted outside Terraform and everything in the VPC depends on it; replace the resource (terraform apply -replace=...)"),
        )),
        Some(_) => Ok(false),
    }
}

pub async fn ensure_vpc(ctx: &Ctx<'_>, vpc_cidr: &str) -> AwsResult<Fresh> {
    let inv = ctx.inv();
    if !needs(ctx, inv.vpc_id.as_ref(), "vpc")? {
        return Ok((inv.vpc_id.expect("checked"), false));
    }
    let id = ec2::create_vpc(
        &ctx.aws.ec2,
        vpc_cidr,
        &names::vpc(&ctx.spec.name),
        &ctx.tags,
    )
    .await?;
    ctx.record(|i| {
        i.vpc_id = Some(id.clone());
        i.vpc_owned = true;
    });
    Ok((id, true))
}

pub fn record_existing_vpc(ctx: &Ctx<'_>, vpc_id: &str, subnet_ids: &[String]) -> String {
    ctx.record(|inv| {
        inv.vpc_id = Some(vpc_id.to_string());
        inv.vpc_owned = false;
        inv.private_subnet_ids = subnet_ids.to_vec();
    });
    vpc_id.to_string()
}

pub async fn enable_dns_if_fresh(ctx: &Ctx<'_>, (vpc_id, fresh): &Fresh) -> AwsResult<()> {
    if *fresh {
        ec2::enable_vpc_dns(&ctx.aws.ec2, vpc_id).await?;
    }
    Ok(())
}

pub async fn ensure_zones(ctx: &Ctx<'_>, wanted: &[String]) -> AwsResult<Vec<String>> {
    let recorded = ctx.inv().availability_zones;
    if !recorded.is_empty() {
        return Ok(recorded);
    }
    let zones = if wanted.is_empty() {
        ec2::default_availability_zones(&ctx.aws.ec2, 2).await?
    } else {
        wanted.to_vec()
    };
    ctx.record(|i| i.availability_zones = zones.clone());
    Ok(zones)
}

pub async fn ensure_internet_gateway(ctx: &Ctx<'_>) -> AwsResult<Fresh> {
    let recorded = ctx.inv().internet_gateway_id;
    if !needs(ctx, recorded.as_ref(), "internet_gateway")? {
        return Ok((recorded.expect("checked"), false));
    }
    let id =
        ec2::create_internet_gateway(&ctx.aws.ec2, &names::igw(&ctx.spec.name), &ctx.tags).await?;
    ctx.record(|i| i.internet_gateway_id = Some(id.clone()));
    Ok((id, true))
}

pub async fn attach_if_fresh(ctx: &Ctx<'_>, (igw, fresh): &Fresh, vpc_id: &str) -> AwsResult<()> {
    if *fresh {
        ec2::attach_internet_gateway(&ctx.aws.ec2, igw, vpc_id).await?;
    }
    Ok(())
}

pub async fn ensure_public_route_table(ctx: &Ctx<'_>, vpc_id: &str) -> AwsResult<Fresh> {
    if let Some(rtb) = ctx.inv().public_route_table_id {
        return Ok((rtb, false));
    }
    let name = names::public_route_table(&ctx.spec.name);
    let rtb = ec2::create_route_table(&ctx.aws.ec2, vpc_id, &name, &ctx.tags).await?;
    ctx.record(|i| i.public_route_table_id = Some(rtb.clone()));
    Ok((rtb, true))
}

pub async fn default_route_if_fresh(
    ctx: &Ctx<'_>,
    (rtb, fresh): &Fresh,
    target: RouteTarget<'_>,
) -> AwsResult<()> {
    if *fresh {
        ec2::create_route(&ctx.aws.ec2, rtb, "0.0.0.0/0", target).await?;
    }
    Ok(())
}

/// One subnet of `kind` per zone, in zone order, so the inventory's lists stay aligned with
/// the zones even when a later one fails.
pub async fn ensure_subnets(
    ctx: &Ctx<'_>,
    kind: SubnetKind,
    (vpc_id, vpc_cidr): (&str, &str),
    zones: &[String],
) -> AwsResult<Vec<Fresh>> {
    let net: Ipv4Net = vpc_cidr
        .parse()
        .map_err(|_| AwsError::new("laying out subnets", "InvalidCidr", vpc_cidr))?;
    let layout = cidr::subnets(&net, zones.len() * 2);
    let offset = if kind == SubnetKind::Public {
        0
    } else {
        zones.len()
    };
    let list: fn(&mut Inventory) -> &mut Vec<String> = match kind {
        SubnetKind::Public => |inv: &mut Inventory| &mut inv.public_subnet_ids,
        SubnetKind::Private => |inv: &mut Inventory| &mut inv.private_subnet_ids,
    };
    one_per_zone(ctx, zones, list, |i, az| {
        let cidr = layout[offset + i].to_string();
        let name = names::subnet(&ctx.spec.name, kind.label(), az);
        let public = kind == SubnetKind::Public;
        async move {
            ec2::create_subnet(&ctx.aws.ec2, vpc_id, &cidr, az, public, &name, &ctx.tags).await
        }
    })
    .await
}

/// One object per zone, in zone order: kept where the inventory's `list` records one at that
/// index, created and recorded otherwise, so the list stays aligned with the zones even when
/// a later creation fails.
async fn one_per_zone<'z, F, Fut>(
    ctx: &Ctx<'_>,
    zones: &'z [String],
    list: fn(&mut Inventory) -> &mut Vec<String>,
    mut create: F,
) -> AwsResult<Vec<Fresh>>
where
    F: FnMut(usize, &'z str) -> Fut,
    Fut: std::future::Future<Output = AwsResult<String>>,
{
    let mut objects = Vec::with_capacity(zones.len());
    for (i, az) in zones.iter().enumerate() {
        if let Some(id) = list(&mut ctx.inv()).get(i) {
            objects.push((id.clone(), false));
            continue;
        }
        let id = create(i, az).await?;
        ctx.record(|inv| list(inv).push(id.clone()));
        objects.push((id, true));
    }
    Ok(objects)
}

/// Public IPs on launch and the public route table, for public subnets made just now.
pub async fn set_up_public_subnet(
    ctx: &Ctx<'_>,
    (subnet, fresh): &Fresh,
    public_rtb: &str,
) -> AwsResult<()> {
    if *fresh {
        ec2::enable_public_ips(&ctx.aws.ec2, subnet).await?;
        ec2::associate_route_table(&ctx.aws.ec2, public_rtb, subnet).await?;
    }
    Ok(())
}

pub fn nat_gateway_count(nat: &NatMode, zones: usize) -> usize {
    match nat {
        NatMode::Single => 1,
        NatMode::HighlyAvailable => zones,
        NatMode::Disable => 0,
    }
}

/// Elastic IPs for the NAT gateways, named after their zones.
pub async fn ensure_nat_addresses(
    ctx: &Ctx<'_>,
    nat: &NatMode,
    zones: &[String],
) -> AwsResult<Vec<String>> {
    let count = nat_gateway_count(nat, zones.len());
    for (j, zone) in zones.iter().enumerate().take(count) {
        if ctx.inv().eip_allocation_ids.len() <= j {
            let name = names::nat(&ctx.spec.name, zone);
            let id = ec2::allocate_eip(&ctx.aws.ec2, &name, &ctx.tags).await?;
            ctx.record(|i| i.eip_allocation_ids.push(id));
        }
    }
    Ok(ctx.inv().eip_allocation_ids)
}

/// NAT gateways in the first public subnets, then waits until they are available.
pub async fn ensure_nat_gateways(
    ctx: &Ctx<'_>,
    addresses: &[String],
    public_subnets: &[Fresh],
    zones: &[String],
) -> AwsResult<Vec<String>> {
    for (j, address) in addresses.iter().enumerate() {
        if ctx.inv().nat_gateway_ids.len() <= j {
            let id = ec2::create_nat_gateway(
                &ctx.aws.ec2,
                &public_subnets[j].0,
                address,
                &names::nat(&ctx.spec.name, &zones[j]),
                &ctx.tags,
            )
            .await?;
            ctx.record(|i| i.nat_gateway_ids.push(id));
        }
    }
    let nats = ctx.inv().nat_gateway_ids;
    let available = aws_sdk_ec2::types::NatGatewayState::Available;
    let waits: Vec<_> = nats
        .iter()
        .map(|id| ec2::wait_nat_gateway(&ctx.aws.ec2, id, available.clone(), &ctx.budget))
        .collect();
    ctx.each(waits).await?;
    Ok(nats)
}

/// One private route table per zone, in zone order.
pub async fn ensure_private_route_tables(
    ctx: &Ctx<'_>,
    vpc_id: &str,
    zones: &[String],
) -> AwsResult<Vec<Fresh>> {
    let list: fn(&mut Inventory) -> &mut Vec<String> = |inv| &mut inv.private_route_table_ids;
    one_per_zone(ctx, zones, list, |_, az| {
        let name = names::private_route_table(&ctx.spec.name, az);
        async move { ec2::create_route_table(&ctx.aws.ec2, vpc_id, &name, &ctx.tags).await }
    })
    .await
}

pub async fn associate_if_fresh(
    ctx: &Ctx<'_>,
    (rtb, fresh): &Fresh,
    subnet: &str,
) -> AwsResult<()> {
    if *fresh {
        ec2::associate_route_table(&ctx.aws.ec2, rtb, subnet).await?;
    }
    Ok(())
}

pub async fn ensure_control_plane_sg(ctx: &Ctx<'_>, vpc_id: &str) -> AwsResult<Fresh> {
    let recorded = ctx.inv().control_plane_security_group_id;
    if !needs(ctx, recorded.as_ref(), "security_group")? {
        return Ok((recorded.expect("checked"), false));
    }
    let name = names::control_plane_sg(&ctx.spec.name);
    let sg = ec2::create_security_group(&ctx.aws.ec2, vpc_id, &name, &ctx.tags).await?;
    ctx.record(|i| i.control_plane_security_group_id = Some(sg.clone()));
    Ok((sg, true))
}

/// HTTPS from every remote CIDR: all of them on a new group, the revoked ones on repair.
pub async fn ensure_https_ingress(ctx: &Ctx<'_>, (sg, fresh): &Fresh) -> AwsResult<()> {
    let cidrs: Vec<String> = ctx
        .spec
        .remote
        .all_cidrs()
        .into_iter()
        .filter(|c| *fresh || ctx.observed.is_missing(&super::observe::sg_rule_key(sg, c)))
        .collect();
    ec2::authorize_https_ingress(&ctx.aws.ec2, sg, &cidrs).await
}

fn gateway_attachment_key(gateway: &str, attachment: &str) -> String {
    if gateway.starts_with("tgw-") {
        format!("transit_gateway_attachment/{attachment}")
    } else {
        format!("vpn_gateway_attachment/{gateway}")
    }
}

/// Attaches the VPC to the transit or virtual private gateway and waits until it is usable.
pub async fn ensure_gateway_attachment(
    ctx: &Ctx<'_>,
    gateway: &str,
    vpc_id: &str,
    private_subnets: &[String],
) -> AwsResult<()> {
    let needed = match &ctx.inv().gateway_attachment_id {
        None => true,
        Some(id) => ctx
            .observed
            .is_missing(&gateway_attachment_key(gateway, id)),
    };
    if !needed {
        return Ok(());
    }
    let aws = &ctx.aws.ec2;
    ctx.record(|i| i.gateway_id = Some(gateway.to_string()));
    if gateway.starts_with("tgw-") {
        let name = names::tgw_attachment(&ctx.spec.name);
        let id =
            ec2::create_tgw_attachment(aws, gateway, vpc_id, private_subnets, &name, &ctx.tags)
                .await?;
        ctx.record(|i| i.gateway_attachment_id = Some(id.clone()));
        ec2::wait_tgw_attachment_ready(aws, &id, &ctx.budget).await
    } else {
        ec2::attach_vpn_gateway(aws, gateway, vpc_id).await?;
        ctx.record(|i| i.gateway_attachment_id = Some(vpc_id.to_string()));
        ec2::wait_vpn_gateway(aws, gateway, vpc_id, "attached", &ctx.budget).await
    }
}

/// One route per private route table per remote CIDR, through the gateway.
pub async fn ensure_gateway_routes(
    ctx: &Ctx<'_>,
    gateway: &str,
    route_tables: &[Fresh],
) -> AwsResult<()> {
    let wanted = route_tables.iter().flat_map(|(rtb, _)| {
        ctx.spec.remote.all_cidrs().into_iter().map(|cidr| Route {
            route_table_id: rtb.clone(),
            cidr,
        })
    });
    let missing: Vec<Route> = wanted
        .filter(|r| {
            !ctx.inv().routes.contains(r)
                || ctx
                    .observed
                    .is_missing(&super::observe::route_key(&r.route_table_id, &r.cidr))
        })
        .collect();
    let creations: Vec<_> = missing
        .into_iter()
        .map(|route| async move {
            let target = if gateway.starts_with("tgw-") {
                RouteTarget::TransitGateway(gateway)
            } else {
                RouteTarget::VpnGateway(gateway)
            };
            ec2::create_route(&ctx.aws.ec2, &route.route_table_id, &route.cidr, target).await?;
            ctx.record(|i| {
                if !i.routes.contains(&route) {
                    i.routes.push(route.clone())
                }
            });
            Ok(())
        })
        .collect();
    ctx.each(creations).await.map(|_| ())
}
