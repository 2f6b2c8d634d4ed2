//! Create and repair share one pipeline of "ensure" steps: each creates its object unless the
//! inventory records it and the last observation found it healthy. Independent branches run
//! concurrently; every ID is recorded the moment AWS returns it, so a failure anywhere leaves
//! an inventory from which destroy removes everything.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use ipnet::Ipv4Net;

use super::inventory::{Inventory, Route};
use super::model::{ClusterSpec, CredentialsProvider, NatMode, VpcSpec};
use super::observe::Observed;
use super::{cidr, names, policies};
use crate::aws::ec2::RouteTarget;
use crate::aws::wait::Budget;
use crate::aws::{ec2, eks, iam, rolesanywhere, AwsClients, AwsError, AwsResult};

/// Who we are in AWS, needed for ARNs and trust conditions.
#[derive(Clone, Debug)]
pub struct Identity {
    pub account: String,
    pub partition: String,
}

pub async fn identity(aws: &AwsClients) -> AwsResult<Identity> {
    let out = aws
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(crate::aws::err("reading the caller identity"))?;
    let arn = out.arn().unwrap_or("arn:aws:");
    Ok(Identity {
        account: out.account().unwrap_or_default().to_string(),
        partition: arn.split(':').nth(1).unwrap_or("aws").to_string(),
    })
}

pub struct Ctx<'a> {
    pub aws: &'a AwsClients,
    pub spec: &'a ClusterSpec,
    pub id: Identity,
    pub budget: Budget,
    /// tags_all plus the ownership tag.
    pub tags: BTreeMap<String, String>,
    pub observed: Observed,
    pub inv: Mutex<Inventory>,
}

impl Ctx<'_> {
    fn record(&self, f: impl FnOnce(&mut Inventory)) {
        f(&mut self.inv.lock().expect("inventory lock"));
    }

    fn inv(&self) -> Inventory {
        self.inv.lock().expect("inventory lock").clone()
    }

    fn cluster_arn(&self) -> String {
        format!(
            "arn:{}:eks:{}:{}:cluster/{}",
            self.id.partition, self.aws.region, self.id.account, self.spec.name
        )
    }
}

/// Runs the whole pipeline. On error the inventory in `ctx` still names all that exists.
pub async fn ensure_all(ctx: &Ctx<'_>) -> Result<(), Vec<AwsError>> {
    let (network, cluster_role, nodes_role) = tokio::join!(
        ensure_network(ctx),
        ensure_cluster_role(ctx),
        ensure_nodes_identity(ctx)
    );
    let mut errors: Vec<AwsError> = Vec::new();
    let cluster_inputs = match (network, cluster_role) {
        (Ok(()), Ok(role)) => Some(role),
        (n, r) => {
            errors.extend(n.err());
            errors.extend(r.err());
            None
        }
    };
    let nodes_role = nodes_role.map_err(|e| errors.push(e)).ok();
    let (gateway, cluster) = tokio::join!(ensure_gateway(ctx), async {
        let Some(role) = cluster_inputs else {
            return Ok(());
        };
        ensure_cluster(ctx, &role).await?;
        match nodes_role {
            Some(principal) => ensure_access_entry(ctx, &principal).await,
            None => Ok(()),
        }
    });
    errors.extend(gateway.err());
    errors.extend(cluster.err());
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

async fn ensure_network(ctx: &Ctx<'_>) -> AwsResult<()> {
    match &ctx.spec.vpc {
        VpcSpec::Create {
            cidr,
            availability_zones,
            nat,
        } => ensure_owned_vpc(ctx, cidr, availability_zones, nat).await?,
        VpcSpec::Existing { id, subnet_ids, .. } => {
            ctx.record(|inv| {
                inv.vpc_id = Some(id.clone());
                inv.vpc_owned = false;
                inv.private_subnet_ids = subnet_ids.clone();
            });
        }
    }
    ensure_control_plane_sg(ctx).await
}

fn needs(ctx: &Ctx<'_>, recorded: Option<&String>, kind: &str) -> AwsResult<bool> {
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

async fn ensure_owned_vpc(
    ctx: &Ctx<'_>,
    vpc_cidr: &str,
    azs: &[String],
    nat: &NatMode,
) -> AwsResult<()> {
    let aws = &ctx.aws.ec2;
    let name = &ctx.spec.name;
    let tags = &ctx.tags;
    let inv = ctx.inv();
    if needs(ctx, inv.vpc_id.as_ref(), "vpc")? {
        let id = ec2::create_vpc(aws, vpc_cidr, &names::vpc(name), tags).await?;
        ctx.record(|i| {
            i.vpc_id = Some(id.clone());
            i.vpc_owned = true;
        });
        ec2::enable_vpc_dns(aws, &id).await?;
    }
    let vpc_id = ctx.inv().vpc_id.expect("recorded above");
    if ctx.inv().availability_zones.is_empty() {
        let zones = if azs.is_empty() {
            ec2::default_availability_zones(aws, 2).await?
        } else {
            azs.to_vec()
        };
        ctx.record(|i| i.availability_zones = zones);
    }
    let zones = ctx.inv().availability_zones;
    if needs(
        ctx,
        ctx.inv().internet_gateway_id.as_ref(),
        "internet_gateway",
    )? {
        let id = ec2::create_internet_gateway(aws, &names::igw(name), tags).await?;
        ctx.record(|i| i.internet_gateway_id = Some(id.clone()));
        ec2::attach_internet_gateway(aws, &id, &vpc_id).await?;
    }
    let igw = ctx.inv().internet_gateway_id.expect("recorded above");
    if ctx.inv().public_route_table_id.is_none() {
        let rtb =
            ec2::create_route_table(aws, &vpc_id, &names::public_route_table(name), tags).await?;
        ctx.record(|i| i.public_route_table_id = Some(rtb.clone()));
        ec2::create_route(aws, &rtb, "0.0.0.0/0", RouteTarget::InternetGateway(&igw)).await?;
    }
    let public_rtb = ctx.inv().public_route_table_id.expect("recorded above");
    let net: Ipv4Net = vpc_cidr
        .parse()
        .map_err(|_| AwsError::new("laying out subnets", "InvalidCidr", vpc_cidr))?;
    let layout = cidr::subnets(&net, zones.len() * 2);
    for (i, az) in zones.iter().enumerate() {
        if ctx.inv().public_subnet_ids.len() <= i {
            let id = ec2::create_subnet(
                aws,
                &vpc_id,
                &layout[i].to_string(),
                az,
                true,
                &names::subnet(name, "public", az),
                tags,
            )
            .await?;
            ctx.record(|inv| inv.public_subnet_ids.push(id.clone()));
            ec2::enable_public_ips(aws, &id).await?;
            ec2::associate_route_table(aws, &public_rtb, &id).await?;
        }
        if ctx.inv().private_subnet_ids.len() <= i {
            let cidr = layout[zones.len() + i].to_string();
            let id = ec2::create_subnet(
                aws,
                &vpc_id,
                &cidr,
                az,
                false,
                &names::subnet(name, "private", az),
                tags,
            )
            .await?;
            ctx.record(|inv| inv.private_subnet_ids.push(id));
        }
    }
    ensure_nat_and_private_routes(ctx, &vpc_id, &zones, nat).await
}

async fn ensure_nat_and_private_routes(
    ctx: &Ctx<'_>,
    vpc_id: &str,
    zones: &[String],
    nat: &NatMode,
) -> AwsResult<()> {
    let aws = &ctx.aws.ec2;
    let name = &ctx.spec.name;
    let nat_count = match nat {
        NatMode::Single => 1,
        NatMode::HighlyAvailable => zones.len(),
        NatMode::Disable => 0,
    };
    for (j, zone) in zones.iter().enumerate().take(nat_count) {
        if ctx.inv().eip_allocation_ids.len() <= j {
            let id = ec2::allocate_eip(aws, &names::nat(name, zone), &ctx.tags).await?;
            ctx.record(|i| i.eip_allocation_ids.push(id));
        }
        if ctx.inv().nat_gateway_ids.len() <= j {
            let inv = ctx.inv();
            let id = ec2::create_nat_gateway(
                aws,
                &inv.public_subnet_ids[j],
                &inv.eip_allocation_ids[j],
                &names::nat(name, zone),
                &ctx.tags,
            )
            .await?;
            ctx.record(|i| i.nat_gateway_ids.push(id));
        }
    }
    let nats = ctx.inv().nat_gateway_ids;
    for id in &nats {
        ec2::wait_nat_gateway(
            aws,
            id,
            aws_sdk_ec2::types::NatGatewayState::Available,
            &ctx.budget,
        )
        .await?;
    }
    for (i, az) in zones.iter().enumerate() {
        if ctx.inv().private_route_table_ids.len() <= i {
            let rtb = ec2::create_route_table(
                aws,
                vpc_id,
                &names::private_route_table(name, az),
                &ctx.tags,
            )
            .await?;
            ctx.record(|inv| inv.private_route_table_ids.push(rtb.clone()));
            ec2::associate_route_table(aws, &rtb, &ctx.inv().private_subnet_ids[i]).await?;
            if let Some(nat) = nats.get(i).or(nats.first()) {
                ec2::create_route(aws, &rtb, "0.0.0.0/0", RouteTarget::NatGateway(nat)).await?;
            }
        }
    }
    Ok(())
}

async fn ensure_control_plane_sg(ctx: &Ctx<'_>) -> AwsResult<()> {
    let aws = &ctx.aws.ec2;
    let cidrs = ctx.spec.remote.all_cidrs();
    let recorded = ctx.inv().control_plane_security_group_id;
    let sg = match recorded {
        Some(sg) if ctx.observed.is_missing(&format!("security_group/{sg}")) => {
            needs(ctx, Some(&sg), "security_group")?;
            sg
        }
        Some(sg) => sg,
        None => {
            let vpc_id = ctx.inv().vpc_id.expect("network recorded the VPC first");
            let sg = ec2::create_security_group(
                aws,
                &vpc_id,
                &names::control_plane_sg(&ctx.spec.name),
                &ctx.tags,
            )
            .await?;
            ctx.record(|i| i.control_plane_security_group_id = Some(sg.clone()));
            ec2::authorize_https_ingress(aws, &sg, &cidrs).await?;
            return Ok(());
        }
    };
    let missing: Vec<String> = cidrs
        .into_iter()
        .filter(|c| {
            ctx.observed
                .is_missing(&super::observe::sg_rule_key(&sg, c))
        })
        .collect();
    ec2::authorize_https_ingress(aws, &sg, &missing).await
}

/// The gateway attachment, then one route per private route table per remote CIDR.
async fn ensure_gateway(ctx: &Ctx<'_>) -> AwsResult<()> {
    let Some(gw) = ctx.spec.remote.gateway_id.clone() else {
        return Ok(());
    };
    let VpcSpec::Create { .. } = ctx.spec.vpc else {
        return Ok(());
    };
    let inv = ctx.inv();
    let (Some(vpc_id), true) = (
        inv.vpc_id.clone(),
        inv.private_route_table_ids.len() == inv.private_subnet_ids.len()
            && !inv.private_subnet_ids.is_empty(),
    ) else {
        return Ok(()); // the network branch failed; its error is reported
    };
    let aws = &ctx.aws.ec2;
    let is_tgw = gw.starts_with("tgw-");
    let attachment_key = |id: &str| {
        if is_tgw {
            format!("transit_gateway_attachment/{id}")
        } else {
            format!("vpn_gateway_attachment/{gw}")
        }
    };
    let needs_attachment = match &inv.gateway_attachment_id {
        None => true,
        Some(id) => ctx.observed.is_missing(&attachment_key(id)),
    };
    if needs_attachment {
        ctx.record(|i| i.gateway_id = Some(gw.clone()));
        if is_tgw {
            let id = ec2::create_tgw_attachment(
                aws,
                &gw,
                &vpc_id,
                &inv.private_subnet_ids,
                &names::tgw_attachment(&ctx.spec.name),
                &ctx.tags,
            )
            .await?;
            ctx.record(|i| i.gateway_attachment_id = Some(id.clone()));
            ec2::wait_tgw_attachment_ready(aws, &id, &ctx.budget).await?;
        } else {
            ec2::attach_vpn_gateway(aws, &gw, &vpc_id).await?;
            ctx.record(|i| i.gateway_attachment_id = Some(vpc_id.clone()));
            ec2::wait_vpn_gateway(aws, &gw, &vpc_id, "attached", &ctx.budget).await?;
        }
    }
    for rtb in &inv.private_route_table_ids {
        for cidr in ctx.spec.remote.all_cidrs() {
            let route = Route {
                route_table_id: rtb.clone(),
                cidr: cidr.clone(),
            };
            let recorded = ctx.inv().routes.contains(&route);
            if recorded
                && !ctx
                    .observed
                    .is_missing(&super::observe::route_key(rtb, &cidr))
            {
                continue;
            }
            let target = if is_tgw {
                RouteTarget::TransitGateway(&gw)
            } else {
                RouteTarget::VpnGateway(&gw)
            };
            ec2::create_route(aws, rtb, &cidr, target).await?;
            if !recorded {
                ctx.record(|i| i.routes.push(route));
            }
        }
    }
    Ok(())
}

/// Returns the ARN of the cluster role: given, or ours.
async fn ensure_cluster_role(ctx: &Ctx<'_>) -> AwsResult<String> {
    if let Some(arn) = &ctx.spec.cluster_role_arn {
        if ctx.inv().cluster_role_name.is_none() {
            return Ok(arn.clone());
        }
    }
    let name = names::cluster_role(&ctx.spec.name);
    let policy = policies::managed_policy_arn(&ctx.id.partition, policies::CLUSTER_MANAGED_POLICY);
    let arn = match iam::role_arn(&ctx.aws.iam, &name).await? {
        Some(arn) if ctx.inv().cluster_role_name.is_some() => arn,
        Some(_) => {
            return Err(AwsError::new(
                format!("creating IAM role {name}"),
                "EntityAlreadyExists",
                format!("a role named {name} already exists and is not recorded as ours; delete it or set cluster_role_arn"),
            ))
        }
        None => {
            let arn = iam::create_role(&ctx.aws.iam, &name, "EKS control plane role (terraform-provider-eks)", &policies::cluster_trust_policy(), &ctx.tags).await?;
            ctx.record(|i| i.cluster_role_name = Some(name.clone()));
            iam::attach_policy(&ctx.aws.iam, &name, &policy).await?;
            return Ok(arn);
        }
    };
    if ctx.observed.is_missing(&format!(
        "iam_role_policy_attachment/{name}/{}",
        policies::CLUSTER_MANAGED_POLICY
    )) {
        iam::attach_policy(&ctx.aws.iam, &name, &policy).await?;
    }
    Ok(arn)
}

/// Returns the hybrid nodes role ARN: given, or ours (with trust anchor and profile for IRA).
async fn ensure_nodes_identity(ctx: &Ctx<'_>) -> AwsResult<String> {
    let remote = &ctx.spec.remote;
    if let Some(arn) = &remote.role_arn {
        return Ok(arn.clone());
    }
    let ra = &ctx.aws.rolesanywhere;
    let anchor_name = names::trust_anchor(&ctx.spec.name);
    let mut anchor_arn = None;
    if remote.provider == CredentialsProvider::Ira {
        let recorded = ctx.inv().trust_anchor_id;
        let observed = match &recorded {
            Some(id) => rolesanywhere::trust_anchor(ra, id).await?,
            None => None,
        };
        anchor_arn = Some(match (recorded, observed) {
            (Some(id), Some((arn, enabled))) => {
                if !enabled {
                    rolesanywhere::enable_trust_anchor(ra, &id).await?;
                }
                arn
            }
            _ => {
                let bundle = remote.ca_bundle_cert.as_deref().unwrap_or_default();
                let (id, arn) =
                    rolesanywhere::create_trust_anchor(ra, &anchor_name, bundle, &ctx.tags).await?;
                ctx.record(|i| i.trust_anchor_id = Some(id));
                arn
            }
        });
    }
    let role_arn = ensure_nodes_role(ctx, anchor_arn.as_deref()).await?;
    if remote.provider == CredentialsProvider::Ira {
        let recorded = ctx.inv().profile_id;
        let observed = match &recorded {
            Some(id) => rolesanywhere::profile(ra, id).await?,
            None => None,
        };
        match (recorded, observed) {
            (Some(id), Some((_, false))) => rolesanywhere::enable_profile(ra, &id).await?,
            (Some(_), Some(_)) => {}
            _ => {
                let (id, _) = rolesanywhere::create_profile(
                    ra,
                    &names::profile(&ctx.spec.name),
                    &role_arn,
                    &ctx.tags,
                )
                .await?;
                ctx.record(|i| i.profile_id = Some(id));
            }
        }
    }
    Ok(role_arn)
}

async fn ensure_nodes_role(ctx: &Ctx<'_>, anchor_arn: Option<&str>) -> AwsResult<String> {
    let client = &ctx.aws.iam;
    let name = names::nodes_role(&ctx.spec.name);
    let p = &ctx.spec.remote.provider;
    let trust = policies::nodes_trust_policy(
        p,
        &ctx.id.partition,
        &ctx.aws.region,
        &ctx.id.account,
        anchor_arn,
    );
    let inline = policies::nodes_inline_policy(p, &ctx.cluster_arn(), &ctx.id.partition);
    let managed: Vec<String> = policies::NODES_MANAGED_POLICIES
        .iter()
        .map(|m| policies::managed_policy_arn(&ctx.id.partition, m))
        .collect();
    match iam::role_arn(client, &name).await? {
        None => {
            let arn = iam::create_role(client, &name, "EKS Hybrid Nodes role (terraform-provider-eks)", &trust, &ctx.tags).await?;
            ctx.record(|i| i.nodes_role_name = Some(name.clone()));
            iam::put_inline_policy(client, &name, policies::NODES_INLINE_POLICY, &inline).await?;
            for m in &managed {
                iam::attach_policy(client, &name, m).await?;
            }
            Ok(arn)
        }
        Some(_) if ctx.inv().nodes_role_name.is_none() => Err(AwsError::new(
            format!("creating IAM role {name}"),
            "EntityAlreadyExists",
            format!("a role named {name} already exists and is not recorded as ours; delete it or set remote_network_config.iam.role_arn"),
        )),
        Some(arn) => {
            // A trust anchor recreated by this repair has a new ARN for the trust condition.
            let anchor_recreated = ctx.observed.statuses.iter().any(|(k, v)| k.starts_with("trust_anchor/") && v == "missing");
            if anchor_arn.is_some() && anchor_recreated {
                iam::update_trust_policy(client, &name, &trust).await?;
            }
            if ctx.observed.is_missing(&format!("iam_role_policy/{name}/{}", policies::NODES_INLINE_POLICY)) {
                iam::put_inline_policy(client, &name, policies::NODES_INLINE_POLICY, &inline).await?;
            }
            for (m, arn_m) in policies::NODES_MANAGED_POLICIES.iter().zip(&managed) {
                if ctx.observed.is_missing(&format!("iam_role_policy_attachment/{name}/{m}")) {
                    iam::attach_policy(client, &name, arn_m).await?;
                }
            }
            Ok(arn)
        }
    }
}

async fn ensure_cluster(ctx: &Ctx<'_>, role_arn: &str) -> AwsResult<()> {
    let spec = ctx.spec;
    if eks::describe_cluster(&ctx.aws.eks, &spec.name)
        .await?
        .is_none()
    {
        let inv = ctx.inv();
        let mut security_groups: Vec<String> = inv
            .control_plane_security_group_id
            .iter()
            .cloned()
            .collect();
        let mut subnets = inv.private_subnet_ids.clone();
        subnets.extend(inv.public_subnet_ids.iter().cloned());
        if let VpcSpec::Existing {
            security_group_ids, ..
        } = &spec.vpc
        {
            security_groups.extend(security_group_ids.iter().cloned());
        }
        let request = eks::ClusterRequest {
            name: &spec.name,
            version: spec.kubernetes_version.as_deref(),
            role_arn,
            subnet_ids: subnets,
            security_group_ids: security_groups,
            endpoint_public_access: spec.endpoint_public_access,
            endpoint_private_access: spec.endpoint_private_access,
            authentication_mode: &spec.authentication_mode,
            service_ipv4_cidr: spec.service_ipv4_cidr.as_deref(),
            node_cidrs: spec.remote.node_cidrs.clone(),
            pod_cidrs: spec.remote.pod_cidrs.clone(),
            tags: ctx
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>(),
        };
        eks::create_cluster(&ctx.aws.eks, &request, &ctx.budget).await?;
        ctx.record(|i| i.cluster_name = Some(spec.name.clone()));
    } else {
        ctx.record(|i| i.cluster_name = Some(spec.name.clone()));
    }
    eks::wait_cluster_active(&ctx.aws.eks, &spec.name, &ctx.budget).await?;
    Ok(())
}

async fn ensure_access_entry(ctx: &Ctx<'_>, principal: &str) -> AwsResult<()> {
    if eks::access_entry(&ctx.aws.eks, &ctx.spec.name, principal)
        .await?
        .is_none()
    {
        let tags = ctx
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        eks::create_access_entry(&ctx.aws.eks, &ctx.spec.name, principal, tags, &ctx.budget)
            .await?;
    }
    ctx.record(|i| i.access_entry_principal = Some(principal.to_string()));
    Ok(())
}
