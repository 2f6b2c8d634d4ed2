//! The EC2 steps of create and repair. Each step does one thing the dependency graph in
//! `create.rs` can schedule on its own, creates its object unless the inventory records it,
//! and records every ID the moment AWS returns it. Steps that return `Fresh` tell their
//! follow-ups (attach, associate, routes) whether the object was made just now.

use ipnet::Ipv4Net;

use super::context::Ctx;
use crate::aws::ec2::{self, RouteTarget};
use crate::aws::{AwsError, AwsResult};
use crate::cluster::cidr;
use crate::cluster::inventory::{Inventory, Route};
use crate::cluster::names;
use crate::cluster::objects::{made_anew_with_the_cluster, ObjectKey, ObjectStatus as Status};
use crate::cluster::spec::{nat_gateway_count, Gateway, NatMode, DEFAULT_ROUTE};

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
/// deleted outside Terraform and cannot be recreated without everything that depends on it
/// (see `objects::made_anew_with_the_cluster` for what can).
pub fn needs(
    ctx: &Ctx<'_>,
    recorded: Option<&String>,
    key: fn(String) -> ObjectKey,
) -> AwsResult<bool> {
    let Some(id) = recorded else {
        return Ok(true);
    };
    let key = key(id.clone());
    let cluster = ctx
        .observed
        .status(&ObjectKey::Cluster(ctx.spec.name.clone()));
    if made_anew_with_the_cluster(&key, ctx.observed.status(&key), cluster) {
        return Ok(true);
    }
    if ctx.observed.is_missing(&key) {
        return Err(AwsError::CannotRepair {
            step: format!("repairing {key}"),
            message: format!("{key} was deleted outside Terraform and everything in the VPC depends on it; replace the resource (terraform apply -replace=...)"),
        });
    }
    Ok(false)
}

pub async fn ensure_vpc(ctx: &Ctx<'_>, vpc_cidr: &str) -> AwsResult<Fresh> {
    let inv = ctx.inv();
    if !needs(ctx, inv.vpc_id.as_ref(), ObjectKey::Vpc)? {
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

/// Whether to run an object's follow-ups (attach, associate, enable): for an object this
/// apply made, and for every object when completing a create that failed part way, since its
/// follow-ups may never have run. Each is idempotent, or its "already done" answer accepted.
fn follow_up(ctx: &Ctx<'_>, fresh: bool) -> bool {
    fresh || ctx.completing
}

/// AssociateRouteTable, where an association made by an earlier apply counts as done.
async fn associate(ctx: &Ctx<'_>, rtb: &str, subnet: &str) -> AwsResult<()> {
    match ec2::associate_route_table(&ctx.aws.ec2, rtb, subnet, &ctx.budget).await {
        Err(e) if ctx.completing && e.is("Resource.AlreadyAssociated") => Ok(()),
        other => other,
    }
}

pub async fn enable_dns_if_fresh(ctx: &Ctx<'_>, (vpc_id, fresh): &Fresh) -> AwsResult<()> {
    if follow_up(ctx, *fresh) {
        ec2::enable_vpc_dns(&ctx.aws.ec2, vpc_id, &ctx.budget).await?;
    }
    Ok(())
}

/// The zones asked for, or the region's first two that EKS accepts (chosen by zone ID).
pub async fn ensure_zones(ctx: &Ctx<'_>, wanted: &[String]) -> AwsResult<Vec<String>> {
    let recorded = ctx.inv().availability_zones;
    if !recorded.is_empty() {
        return Ok(recorded);
    }
    let zones = if wanted.is_empty() {
        ec2::default_availability_zones(&ctx.aws.ec2, &ctx.aws.region, 2).await?
    } else {
        wanted.to_vec()
    };
    ctx.record(|i| i.availability_zones = zones.clone());
    Ok(zones)
}

pub async fn ensure_internet_gateway(ctx: &Ctx<'_>) -> AwsResult<Fresh> {
    let recorded = ctx.inv().internet_gateway_id;
    // Read finds the gateway by its attachment: one made by a create that failed before
    // attaching it reads as missing, but only needs attaching.
    if let Some(id) = recorded.as_ref().filter(|id| {
        ctx.completing
            && ctx
                .observed
                .is_missing(&ObjectKey::InternetGateway(id.to_string()))
    }) {
        if ec2::internet_gateway_exists(&ctx.aws.ec2, id).await? {
            return Ok((id.clone(), true));
        }
    }
    if !needs(ctx, recorded.as_ref(), ObjectKey::InternetGateway)? {
        return Ok((recorded.expect("checked"), false));
    }
    let id =
        ec2::create_internet_gateway(&ctx.aws.ec2, &names::igw(&ctx.spec.name), &ctx.tags).await?;
    ctx.record(|i| i.internet_gateway_id = Some(id.clone()));
    Ok((id, true))
}

pub async fn attach_if_fresh(ctx: &Ctx<'_>, (igw, fresh): &Fresh, vpc_id: &str) -> AwsResult<()> {
    if *fresh {
        ec2::attach_internet_gateway(&ctx.aws.ec2, igw, vpc_id, &ctx.budget).await?;
    }
    Ok(())
}

pub async fn ensure_public_route_table(ctx: &Ctx<'_>, vpc_id: &str) -> AwsResult<Fresh> {
    if let Some(rtb) = ctx.inv().public_route_table_id {
        return Ok((rtb, false));
    }
    let name = names::public_route_table(&ctx.spec.name);
    let rtb = ec2::create_route_table(&ctx.aws.ec2, vpc_id, &name, &ctx.tags, &ctx.budget).await?;
    ctx.record(|i| i.public_route_table_id = Some(rtb.clone()));
    Ok((rtb, true))
}

/// The default route of a route table: created with a new table, created when it went
/// missing, repointed when it points elsewhere or its target was replaced by this apply.
pub async fn ensure_default_route(
    ctx: &Ctx<'_>,
    (rtb, rtb_fresh): &Fresh,
    target: RouteTarget<'_>,
    target_fresh: bool,
) -> AwsResult<()> {
    let key = ObjectKey::route(rtb, DEFAULT_ROUTE);
    let status = ctx.observed.status(&key);
    let (create, replace) = match status {
        _ if *rtb_fresh => (true, false),
        None | Some(Status::Missing) => (true, false),
        Some(Status::Changed) => (false, true),
        Some(Status::Ok) => (false, target_fresh),
        Some(_) => (false, true),
    };
    if create || replace {
        ec2::put_route(
            &ctx.aws.ec2,
            rtb,
            DEFAULT_ROUTE,
            target,
            replace,
            &ctx.budget,
        )
        .await?;
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
        .map_err(|_| AwsError::refused("laying out subnets", "InvalidCidr", vpc_cidr))?;
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
        async move {
            let subnet = ec2::NewSubnet {
                vpc_id,
                cidr: &cidr,
                zone: az,
                public: kind == SubnetKind::Public,
                name: &name,
            };
            ec2::create_subnet(&ctx.aws.ec2, &subnet, &ctx.tags, &ctx.budget).await
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
    if follow_up(ctx, *fresh) {
        ec2::enable_public_ips(&ctx.aws.ec2, subnet, &ctx.budget).await?;
        associate(ctx, public_rtb, subnet).await?;
    }
    Ok(())
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

/// A NAT gateway deleted or failed outside Terraform does not come back: it is replaced.
fn nat_gone(ctx: &Ctx<'_>, id: &str) -> bool {
    matches!(
        ctx.observed.status(&ObjectKey::NatGateway(id.to_string())),
        Some(Status::Missing | Status::Other(_))
    )
}

/// NAT gateways in the first public subnets, each replaced when it was deleted or failed
/// (with the same address), then waits until all are available.
pub async fn ensure_nat_gateways(
    ctx: &Ctx<'_>,
    addresses: &[String],
    public_subnets: &[Fresh],
    zones: &[String],
) -> AwsResult<Vec<Fresh>> {
    let mut nats = Vec::with_capacity(addresses.len());
    for (j, address) in addresses.iter().enumerate() {
        let recorded = ctx.inv().nat_gateway_ids.get(j).cloned();
        let kept = recorded.as_deref().filter(|id| !nat_gone(ctx, id));
        if let Some(id) = kept {
            nats.push((id.to_string(), false));
            continue;
        }
        let failed = recorded.as_deref().filter(|id| {
            matches!(
                ctx.observed.status(&ObjectKey::NatGateway(id.to_string())),
                Some(Status::Other(_))
            )
        });
        if let Some(old) = failed {
            // A failed NAT gateway holds nothing, but goes away sooner once deleted.
            ec2::delete_nat_gateway(&ctx.aws.ec2, old, &ctx.budget).await?;
        }
        let name = names::nat(&ctx.spec.name, &zones[j]);
        let create = |address: String| {
            let (subnet, name) = (&public_subnets[j].0, &name);
            async move {
                ec2::create_nat_gateway(
                    &ctx.aws.ec2,
                    subnet,
                    &address,
                    name,
                    &ctx.tags,
                    &ctx.budget,
                )
                .await
            }
        };
        let id = match create(address.clone()).await {
            // Still unknown after the propagation window: the recorded address was released
            // (a destroy interrupted after it, or by hand). A new one takes its place.
            Err(e) if e.is("InvalidAllocationID.NotFound") => {
                let fresh = ec2::allocate_eip(&ctx.aws.ec2, &name, &ctx.tags).await?;
                ctx.record(|i| i.eip_allocation_ids[j] = fresh.clone());
                create(fresh).await?
            }
            other => other?,
        };
        ctx.record(|i| {
            if j < i.nat_gateway_ids.len() {
                i.nat_gateway_ids[j] = id.clone();
            } else {
                i.nat_gateway_ids.push(id.clone());
            }
        });
        nats.push((id, true));
    }
    let waits: Vec<_> = nats
        .iter()
        .map(|(id, _)| ec2::wait_nat_gateway_available(&ctx.aws.ec2, id, &ctx.budget))
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
        async move {
            ec2::create_route_table(&ctx.aws.ec2, vpc_id, &name, &ctx.tags, &ctx.budget).await
        }
    })
    .await
}

pub async fn associate_if_fresh(
    ctx: &Ctx<'_>,
    (rtb, fresh): &Fresh,
    subnet: &str,
) -> AwsResult<()> {
    if follow_up(ctx, *fresh) {
        associate(ctx, rtb, subnet).await?;
    }
    Ok(())
}

pub async fn ensure_control_plane_sg(ctx: &Ctx<'_>, vpc_id: &str) -> AwsResult<Fresh> {
    let recorded = ctx.inv().control_plane_security_group_id;
    if !needs(ctx, recorded.as_ref(), ObjectKey::SecurityGroup)? {
        return Ok((recorded.expect("checked"), false));
    }
    let name = names::control_plane_sg(&ctx.spec.name);
    let sg =
        ec2::create_security_group(&ctx.aws.ec2, vpc_id, &name, &ctx.tags, &ctx.budget).await?;
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
        .filter(|c| {
            *fresh
                || ctx
                    .observed
                    .is_missing(&ObjectKey::security_group_rule(sg, c))
        })
        .collect();
    ec2::authorize_https_ingress(&ctx.aws.ec2, sg, &cidrs, &ctx.budget).await
}

/// Whether the recorded attachment is one to wait for rather than replace: it exists and is
/// on its way to `available` (or waits to be accepted).
fn attachment_usable(ctx: &Ctx<'_>, gateway: &Gateway, attachment: &str) -> bool {
    let key = ObjectKey::gateway_attachment(gateway, attachment);
    match ctx.observed.status(&key) {
        None | Some(Status::Ok) => true,
        Some(Status::PendingAcceptance) => true,
        Some(Status::Other(state)) => state == "pending",
        Some(_) => false,
    }
}

/// Asks to attach the VPC to the transit or virtual private gateway, unless a usable
/// attachment is recorded. Create makes this request before the cluster: a wrong or unshared
/// gateway then fails before EKS spends ten minutes on a cluster.
pub async fn request_gateway_attachment(
    ctx: &Ctx<'_>,
    gateway: &Gateway,
    vpc_id: &str,
    private_subnets: &[String],
) -> AwsResult<()> {
    let aws = &ctx.aws.ec2;
    let recorded = ctx
        .inv()
        .gateway_attachment_id
        .filter(|id| attachment_usable(ctx, gateway, id));
    ctx.record(|i| i.gateway_id = Some(gateway.id().to_string()));
    if recorded.is_some() {
        return Ok(());
    }
    match gateway {
        Gateway::Transit(tgw) => {
            let name = names::tgw_attachment(&ctx.spec.name);
            let id = ec2::create_tgw_attachment(
                aws,
                tgw,
                vpc_id,
                private_subnets,
                &name,
                &ctx.tags,
                &ctx.budget,
            )
            .await?;
            ctx.record(|i| i.gateway_attachment_id = Some(id.clone()));
        }
        Gateway::Vpn(vgw) => {
            ec2::attach_vpn_gateway(aws, vgw, vpc_id, &ctx.budget).await?;
            ctx.record(|i| i.gateway_attachment_id = Some(vpc_id.to_string()));
        }
    }
    Ok(())
}

/// Waits until the requested attachment is usable.
pub async fn wait_gateway_attachment(
    ctx: &Ctx<'_>,
    gateway: &Gateway,
    vpc_id: &str,
) -> AwsResult<()> {
    let aws = &ctx.aws.ec2;
    match gateway {
        Gateway::Transit(tgw) => {
            let id = ctx.inv().gateway_attachment_id.unwrap_or_default();
            ec2::wait_tgw_attachment_available(aws, &id, tgw, &ctx.budget).await
        }
        Gateway::Vpn(vgw) => ec2::wait_vpn_gateway(aws, vgw, vpc_id, "attached", &ctx.budget).await,
    }
}

/// One route per remote CIDR, through the gateway, in every route table of a subnet the
/// cluster uses: EKS places the control plane's network interfaces in any of them, and the
/// control plane reaches kubelet and webhooks on the remote networks through them.
pub async fn ensure_gateway_routes(
    ctx: &Ctx<'_>,
    gateway: &Gateway,
    route_tables: &[Fresh],
) -> AwsResult<()> {
    let routed = ctx.spec.remote.routed_cidrs();
    // Routes to CIDRs the Hybrid Nodes gateway now routes are no longer ours: left in place
    // for it to take over, and forgotten so that destroy does not delete its routes.
    ctx.record(|i| i.routes.retain(|r| routed.contains(&r.cidr)));
    let wanted = route_tables.iter().flat_map(|(rtb, _)| {
        routed.iter().map(|cidr| Route {
            route_table_id: rtb.clone(),
            cidr: cidr.clone(),
        })
    });
    let missing: Vec<Route> = wanted
        .filter(|r| {
            !ctx.inv().routes.contains(r)
                || ctx
                    .observed
                    .is_missing(&ObjectKey::route(&r.route_table_id, &r.cidr))
        })
        .collect();
    let target = gateway.route_target();
    let creations: Vec<_> = missing
        .into_iter()
        .map(|route| async move {
            let key = ObjectKey::route(&route.route_table_id, &route.cidr);
            let repoint = ctx.observed.status(&key) == Some(&Status::Changed);
            let put = |replace| {
                ec2::put_route(
                    &ctx.aws.ec2,
                    &route.route_table_id,
                    &route.cidr,
                    target,
                    replace,
                    &ctx.budget,
                )
            };
            // A route that points elsewhere is repointed. One not recorded may still be in
            // the table: left for the Hybrid Nodes gateway when it routed the pods, and taken
            // back now that the configuration routes them to the gateway again.
            match put(repoint).await {
                Err(e) if !repoint && e.is("RouteAlreadyExists") => put(true).await?,
                other => other?,
            }
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
