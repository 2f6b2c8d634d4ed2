//! Create and repair share one dependency graph of "ensure" steps (`network.rs`, `access.rs`):
//! each creates its object unless the inventory records it and the last observation found it
//! healthy. A step starts the moment the steps it needs have finished, so the cluster starts as
//! soon as its subnets, security group and role exist, and routes, NAT gateways and the gateway
//! attachment are built while EKS creates the control plane. Every ID is recorded the moment
//! AWS returns it, so a failure anywhere leaves an inventory from which destroy removes
//! everything.
//!
//! `TF_EKS_SEQUENTIAL_CREATE=1` runs the same graph one step at a time, in dependency order:
//! the baseline `make bench` compares against.

use std::future::Future;

use futures::future::{join_all, BoxFuture, FutureExt, Shared};

use super::access;
use super::context::Ctx;
use super::network::{self, SubnetKind};
use crate::aws::ec2::RouteTarget;
use crate::aws::AwsError;
use crate::cluster::spec::{Gateway, NatMode, VpcSpec};

/// A step's result, awaited by every step that depends on it; the step runs once.
type Dep<'c, T> = Shared<BoxFuture<'c, Option<T>>>;
/// A step nothing else depends on.
type Job<'c> = BoxFuture<'c, Option<()>>;

fn dep<'c, T: Clone + Send + Sync + 'c>(
    step: impl Future<Output = Option<T>> + Send + 'c,
) -> Dep<'c, T> {
    step.boxed().shared()
}

/// Runs the whole graph. On error the inventory in `ctx` still names all that exists.
pub async fn ensure_all(ctx: &Ctx<'_>) -> Result<(), Vec<AwsError>> {
    let network = match &ctx.spec.vpc {
        VpcSpec::Create {
            cidr,
            availability_zones,
            nat,
        } => owned_network(ctx, cidr, availability_zones, nat),
        VpcSpec::Existing { id, subnet_ids, .. } => existing_network(ctx, id, subnet_ids),
    };
    let cluster_role = dep(ctx.run(access::ensure_cluster_role(ctx)));
    let nodes_role = dep(ctx.run(access::ensure_nodes_identity(ctx)));
    let cluster_exists = dep(ctx.run(access::cluster_exists(ctx)));
    let activation = {
        let nodes_role = nodes_role.clone();
        dep(async move {
            let role = nodes_role.await?;
            let code = ctx.run(access::ensure_ssm_activation(ctx, &role)).await?;
            ctx.keep_activation_code(code);
            Some(())
        })
    };
    // Every write that can fail for a reason of configuration comes before the cluster (the
    // roles and their policies, the Roles Anywhere objects, the activation and the gateway
    // attachment request): a failure there costs seconds, one after it a cluster.
    let (ready, gateway_requested) = (network.ready_for_cluster, network.gateway_requested);
    let cluster = {
        let nodes_role = nodes_role.clone();
        dep(async move {
            let (ready, role, exists, nodes, activation, gateway) = futures::join!(
                ready,
                cluster_role,
                cluster_exists,
                nodes_role,
                activation,
                gateway_requested
            );
            ready.and(nodes).and(activation).and(gateway)?;
            ctx.run(access::ensure_cluster(ctx, exists?, &role?)).await
        })
    };
    let access_entry = async move {
        let (cluster, principal) = futures::join!(cluster, nodes_role);
        cluster?;
        ctx.run(access::ensure_access_entry(ctx, &principal?)).await
    };
    let mut jobs = network.jobs;
    jobs.push(access_entry.boxed());
    join_all(jobs).await;
    let errors = ctx.take_errors();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

struct Network<'c> {
    /// Subnets, the control-plane security group and VPC DNS: what the cluster needs.
    ready_for_cluster: Dep<'c, ()>,
    /// The gateway attachment requested (or no gateway): the cluster waits for the request,
    /// not for the attachment to become available.
    gateway_requested: Dep<'c, ()>,
    /// Routes, NAT gateways, the gateway attachment: the cluster does not wait for these.
    jobs: Vec<Job<'c>>,
}

fn existing_network<'c>(ctx: &'c Ctx<'_>, vpc_id: &str, subnet_ids: &[String]) -> Network<'c> {
    let vpc_id = network::record_existing_vpc(ctx, vpc_id, subnet_ids);
    let sg = dep(async move {
        ctx.run(network::ensure_control_plane_sg(ctx, &vpc_id))
            .await
    });
    let ready_for_cluster = {
        let sg = sg.clone();
        dep(async move { sg.await.map(|_| ()) })
    };
    Network {
        ready_for_cluster,
        gateway_requested: nothing_to_wait_for(),
        jobs: vec![https_ingress(ctx, sg)],
    }
}

fn owned_network<'c>(
    ctx: &'c Ctx<'_>,
    vpc_cidr: &'c str,
    wanted_zones: &'c [String],
    nat: &'c NatMode,
) -> Network<'c> {
    use futures::join;
    let vpc = dep(ctx.run(network::ensure_vpc(ctx, vpc_cidr)));
    let zones = dep(ctx.run(network::ensure_zones(ctx, wanted_zones)));
    let igw = dep(ctx.run(network::ensure_internet_gateway(ctx)));
    let vpc_id = {
        let vpc = vpc.clone();
        dep(async move { vpc.await.map(|(id, _)| id) })
    };
    let dns = dep(async move {
        ctx.run(network::enable_dns_if_fresh(ctx, &vpc.await?))
            .await
    });
    let igw_attached = {
        let vpc_id = vpc_id.clone();
        dep(async move {
            let (igw, vpc_id) = join!(igw, vpc_id);
            let igw = igw?;
            ctx.run(network::attach_if_fresh(ctx, &igw, &vpc_id?))
                .await?;
            Some(igw)
        })
    };
    let public_rtb = {
        let vpc_id = vpc_id.clone();
        dep(async move {
            ctx.run(network::ensure_public_route_table(ctx, &vpc_id.await?))
                .await
        })
    };
    let subnets = |kind| {
        let (vpc_id, zones) = (vpc_id.clone(), zones.clone());
        dep(async move {
            let (vpc_id, zones) = join!(vpc_id, zones);
            let (vpc_id, zones) = (vpc_id?, zones?);
            let vpc = (vpc_id.as_str(), vpc_cidr);
            ctx.run(network::ensure_subnets(ctx, kind, vpc, &zones))
                .await
        })
    };
    let (public_subnets, private_subnets) =
        (subnets(SubnetKind::Public), subnets(SubnetKind::Private));
    let private_rtbs = {
        let (vpc_id, zones) = (vpc_id.clone(), zones.clone());
        dep(async move {
            let (vpc_id, zones) = join!(vpc_id, zones);
            ctx.run(network::ensure_private_route_tables(ctx, &vpc_id?, &zones?))
                .await
        })
    };
    let sg = {
        let vpc_id = vpc_id.clone();
        dep(async move {
            ctx.run(network::ensure_control_plane_sg(ctx, &vpc_id.await?))
                .await
        })
    };
    let nats = {
        let (zones, public_subnets, igw_attached) =
            (zones.clone(), public_subnets.clone(), igw_attached.clone());
        dep(async move {
            let zones = zones.await?;
            let addresses = ctx.run(network::ensure_nat_addresses(ctx, nat, &zones));
            let (addresses, subnets, igw) = join!(addresses, public_subnets, igw_attached);
            let (addresses, subnets, _) = (addresses?, subnets?, igw?);
            ctx.run(network::ensure_nat_gateways(
                ctx, &addresses, &subnets, &zones,
            ))
            .await
        })
    };
    let ready_for_cluster = {
        let (public, private, sg) = (public_subnets.clone(), private_subnets.clone(), sg.clone());
        dep(async move {
            let (public, private, sg, dns) = join!(public, private, sg, dns);
            public.and(private).and(sg).and(dns)
        })
    };

    let public_default_route = {
        let public_rtb = public_rtb.clone();
        async move {
            let (rtb, igw) = join!(public_rtb, igw_attached);
            let (igw, igw_fresh) = igw?;
            let target = RouteTarget::InternetGateway(&igw);
            ctx.run(network::ensure_default_route(ctx, &rtb?, target, igw_fresh))
                .await
        }
    };
    let public_subnet_setup = {
        let (public_subnets, public_rtb) = (public_subnets.clone(), public_rtb.clone());
        async move {
            let (subnets, rtb) = join!(public_subnets, public_rtb);
            let (subnets, rtb) = (subnets?, rtb?);
            let setups: Vec<_> = subnets
                .iter()
                .map(|s| network::set_up_public_subnet(ctx, s, &rtb.0))
                .collect();
            ctx.run(ctx.each(setups)).await.map(|_| ())
        }
    };
    let private_associations = {
        let (private_rtbs, private_subnets) = (private_rtbs.clone(), private_subnets.clone());
        async move {
            let (rtbs, subnets) = join!(private_rtbs, private_subnets);
            let (rtbs, subnets) = (rtbs?, subnets?);
            let associations = rtbs
                .iter()
                .zip(&subnets)
                .map(|(rtb, (subnet, _))| network::associate_if_fresh(ctx, rtb, subnet))
                .collect::<Vec<_>>();
            ctx.run(ctx.each(associations)).await.map(|_| ())
        }
    };
    let nat_routes = {
        let private_rtbs = private_rtbs.clone();
        async move {
            let (rtbs, nats) = join!(private_rtbs, nats);
            let (rtbs, nats) = (rtbs?, nats?);
            let routes: Vec<_> = rtbs
                .iter()
                .enumerate()
                .filter_map(|(i, rtb)| {
                    let (nat, nat_fresh) = nats.get(i).or(nats.first())?;
                    let target = RouteTarget::NatGateway(nat);
                    Some(network::ensure_default_route(ctx, rtb, target, *nat_fresh))
                })
                .collect();
            ctx.run(ctx.each(routes)).await.map(|_| ())
        }
    };
    let mut jobs: Vec<Job<'c>> = vec![
        public_default_route.boxed(),
        public_subnet_setup.boxed(),
        private_associations.boxed(),
        nat_routes.boxed(),
    ];
    let gateway_requested = match &ctx.spec.remote.gateway {
        Some(gateway) => {
            let (requested, job) = gateway_steps(
                ctx,
                gateway,
                vpc_id,
                private_subnets,
                [private_rtbs, public_rtb_list(public_rtb)],
            );
            jobs.push(job);
            requested
        }
        None => nothing_to_wait_for(),
    };
    jobs.push(https_ingress(ctx, sg));
    Network {
        ready_for_cluster,
        gateway_requested,
        jobs,
    }
}

fn nothing_to_wait_for<'c>() -> Dep<'c, ()> {
    dep(async { Some(()) })
}

/// HTTPS from the remote networks, once the control-plane security group exists.
fn https_ingress<'c>(ctx: &'c Ctx<'_>, sg: Dep<'c, network::Fresh>) -> Job<'c> {
    async move {
        ctx.run(network::ensure_https_ingress(ctx, &sg.await?))
            .await
    }
    .boxed()
}

/// The public route table as a list, to join the private ones.
fn public_rtb_list<'c>(public_rtb: Dep<'c, network::Fresh>) -> Dep<'c, Vec<network::Fresh>> {
    dep(async move { public_rtb.await.map(|t| vec![t]) })
}

/// The gateway attachment requested once the private subnets exist (what the cluster waits
/// for), then a job that waits for it and makes the routes through it in the route table of
/// every subnet the cluster uses.
fn gateway_steps<'c>(
    ctx: &'c Ctx<'_>,
    gateway: &'c Gateway,
    vpc_id: Dep<'c, String>,
    private_subnets: Dep<'c, Vec<network::Fresh>>,
    route_tables: [Dep<'c, Vec<network::Fresh>>; 2],
) -> (Dep<'c, ()>, Job<'c>) {
    let requested = {
        let vpc_id = vpc_id.clone();
        dep(async move {
            let (vpc_id, subnets) = futures::join!(vpc_id, private_subnets);
            let ids: Vec<String> = subnets?.into_iter().map(|(id, _)| id).collect();
            ctx.run(network::request_gateway_attachment(
                ctx, gateway, &vpc_id?, &ids,
            ))
            .await
        })
    };
    let job = {
        let requested = requested.clone();
        async move {
            let (requested, vpc_id) = futures::join!(requested, vpc_id);
            requested?;
            ctx.run(network::wait_gateway_attachment(ctx, gateway, &vpc_id?))
                .await?;
            let [private, public] = route_tables;
            let (private, public) = futures::join!(private, public);
            let rtbs: Vec<network::Fresh> = private?.into_iter().chain(public?).collect();
            ctx.run(network::ensure_gateway_routes(ctx, gateway, &rtbs))
                .await
        }
        .boxed()
    };
    (requested, job)
}
