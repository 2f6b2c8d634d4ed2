//! Destroy in reverse dependency order with waiters, three branches at once: the cluster (then
//! its role), the hybrid nodes identity, and the parts of the network the cluster does not use
//! (routes and the gateway attachment, NAT gateways and their addresses). What the cluster's
//! network interfaces sit in (subnets, its security group, the VPC) goes once all three are
//! done. Objects already gone are not errors, and every branch runs even when another failed,
//! so as little as possible is left behind; what is left is reported and kept in the inventory
//! for the next destroy.

use super::inventory::Inventory;
use super::spec::{ClusterSpec, Gateway};
use crate::aws::wait::{self, Budget};
use crate::aws::{ec2, eks, iam, rolesanywhere, ssm, AwsClients, AwsError, AwsResult};

/// `nodes_of`: the cluster ARN whose registered hybrid nodes are deregistered too.
/// What a destroy did: a cluster of our name that is not ours, kept (what to say of it), and
/// the objects it could not delete.
pub struct Destroyed {
    pub kept_other_cluster: Option<String>,
    pub inventory: Inventory,
    pub result: Result<(), Vec<AwsError>>,
}

/// Deletes everything `recorded` names as this state's, what is inside a VPC it made, and
/// the gateways and addresses it left attached to nothing (`discover::owned_inventory`);
/// never a cluster of our name made by someone else after ours was deleted, nor its access
/// entries, nodes or role (`ownership::leave_other_cluster`). With `cluster_arn`, the SSM
/// nodes registered with the cluster are deregistered first.
pub async fn destroy(
    aws: &AwsClients,
    spec: &ClusterSpec,
    recorded: Inventory,
    cluster_arn: Option<&str>,
    budget: &Budget,
) -> AwsResult<Destroyed> {
    let inv = super::discover::owned_inventory(aws, spec, recorded).await?;
    let (inv, kept_other_cluster) = super::ownership::leave_other_cluster(aws, inv).await?;
    tracing::debug!(inventory = ?inv, "deleting");
    let budget = budget.clone().for_objects_written_at(inv.written_at_ms);
    let nodes_of = cluster_arn.filter(|_| spec.deregisters_nodes() && kept_other_cluster.is_none());
    let mut result = delete_all(aws, &inv, nodes_of, &budget).await;
    // An object made moments before this destroy (a Ctrl-C, then destroy or replace) can be
    // invisible to its own delete (EC2 eventual consistency) and then holds the VPC. EC2 shows
    // it by now: the VPC's contents are found once more and what was missed is deleted.
    let mut inv = inv;
    if let Err(errors) = result {
        let (held, mut others): (Vec<_>, Vec<_>) =
            errors.into_iter().partition(ec2::is_dependency_violation);
        if !held.is_empty() {
            if let Ok(again) = super::discover::owned_inventory(aws, spec, inv.clone()).await {
                tracing::debug!(inventory = ?again, "deleting the network once more");
                inv = again;
            }
            others.extend(delete_network(aws, &inv, &budget).await.err());
        }
        result = if others.is_empty() {
            Ok(())
        } else {
            Err(others)
        };
    }
    Ok(Destroyed {
        kept_other_cluster,
        inventory: inv,
        result,
    })
}

pub async fn delete_all(
    aws: &AwsClients,
    inv: &Inventory,
    nodes_of: Option<&str>,
    budget: &Budget,
) -> Result<(), Vec<AwsError>> {
    let (cluster, identity, gateway, nat) = tokio::join!(
        delete_cluster_and_role(aws, inv, budget),
        delete_nodes_identity(aws, inv, nodes_of),
        delete_gateway_routes_and_attachment(aws, inv, budget),
        delete_nat_gateways(aws, inv, budget),
    );
    let mut errors = identity;
    let network_free = cluster.is_ok() && gateway.is_ok() && nat.is_ok();
    errors.extend(cluster.err().into_iter().flatten());
    errors.extend(gateway.err());
    errors.extend(nat.err());
    // Subnets and security groups still hold interfaces while any of those exist.
    if network_free {
        // Bounded, so that a subnet this destroy could not see yet is looked for again
        // (`delete_network`) instead of waited on for the whole delete timeout.
        let vpc_wait = budget.within(wait::propagation_window());
        errors.extend(
            delete_vpc_and_the_rest(aws, inv, budget, &vpc_wait)
                .await
                .err(),
        );
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The SSM managed instances that registered through this cluster's activations: they carry
/// the activation's `EKSClusterARN` tag. Every node is tried; a failure names the way out.
async fn deregister_nodes(aws: &AwsClients, cluster_arn: &str) -> Vec<AwsError> {
    let tag = super::policies::CLUSTER_ARN_TAG;
    let nodes = match ssm::managed_instances_tagged(&aws.ssm, tag, cluster_arn).await {
        Ok(nodes) => nodes,
        Err(e) => return vec![keep_nodes_hint(e)],
    };
    let results = futures::future::join_all(
        nodes
            .iter()
            .map(|id| ssm::deregister_managed_instance(&aws.ssm, id)),
    )
    .await;
    results
        .into_iter()
        .filter_map(Result::err)
        .map(keep_nodes_hint)
        .collect()
}

fn keep_nodes_hint(e: AwsError) -> AwsError {
    AwsError::refused(
        "deregistering the hybrid nodes of this cluster's SSM activations",
        e.code().to_string(),
        format!(
            "{e}. Allow ssm:DescribeInstanceInformation and ssm:DeregisterManagedInstance \
             (docs/iam/terraform-ssm.json), or set deregister_nodes_on_destroy = false to keep \
             the nodes registered."
        ),
    )
}

async fn delete_cluster_and_role(
    aws: &AwsClients,
    inv: &Inventory,
    budget: &Budget,
) -> Result<(), Vec<AwsError>> {
    let mut errors = Vec::new();
    if let Some(name) = &inv.cluster_name {
        if let Some(principal) = &inv.access_entry_principal {
            errors.extend(
                eks::delete_access_entry(&aws.eks, name, principal)
                    .await
                    .err(),
            );
        }
        if let Err(e) = eks::delete_cluster(&aws.eks, name, budget).await {
            // EKS still uses its role and network until the cluster is gone.
            errors.push(e);
            return Err(errors);
        }
    }
    if let Some(role) = &inv.cluster_role_name {
        errors.extend(iam::delete_role(&aws.iam, role).await.err());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

async fn delete_nodes_identity(
    aws: &AwsClients,
    inv: &Inventory,
    nodes_of: Option<&str>,
) -> Vec<AwsError> {
    let mut errors = Vec::new();
    if let Some(cluster_arn) = nodes_of {
        errors.extend(deregister_nodes(aws, cluster_arn).await);
    }
    if let Some(a) = &inv.ssm_activation {
        errors.extend(ssm::delete_activation(&aws.ssm, &a.id).await.err());
    }
    if let Some(id) = &inv.profile_id {
        errors.extend(
            rolesanywhere::delete_profile(&aws.rolesanywhere, id)
                .await
                .err(),
        );
    }
    if let Some(id) = &inv.trust_anchor_id {
        errors.extend(
            rolesanywhere::delete_trust_anchor(&aws.rolesanywhere, id)
                .await
                .err(),
        );
    }
    if let Some(role) = &inv.nodes_role_name {
        errors.extend(iam::delete_role(&aws.iam, role).await.err());
    }
    errors
}

async fn delete_gateway_routes_and_attachment(
    aws: &AwsClients,
    inv: &Inventory,
    budget: &Budget,
) -> AwsResult<()> {
    let c = &aws.ec2;
    for r in &inv.routes {
        ec2::delete_route(c, &r.route_table_id, &r.cidr).await?;
    }
    if let (Some(gw), Some(att), Some(vpc)) =
        (inv.gateway(), &inv.gateway_attachment_id, &inv.vpc_id)
    {
        match gw {
            Gateway::Transit(_) => ec2::delete_tgw_attachment(c, att, budget).await?,
            Gateway::Vpn(vgw) => ec2::detach_vpn_gateway(c, &vgw, vpc, budget).await?,
        }
    }
    Ok(())
}

/// Create starts NAT addresses alongside the VPC, so they can exist without it.
async fn delete_nat_gateways(aws: &AwsClients, inv: &Inventory, budget: &Budget) -> AwsResult<()> {
    let c = &aws.ec2;
    for nat in &inv.nat_gateway_ids {
        ec2::delete_nat_gateway(c, nat, budget).await?;
    }
    for eip in &inv.eip_allocation_ids {
        ec2::release_eip(c, eip, budget).await?;
    }
    Ok(())
}

/// The network once more, waiting on the VPC for the whole delete budget: after `delete_all`
/// found the VPC still held.
pub async fn delete_network(aws: &AwsClients, inv: &Inventory, budget: &Budget) -> AwsResult<()> {
    delete_vpc_and_the_rest(aws, inv, budget, budget).await
}

/// A pre-existing VPC's own subnets are never deleted; an internet gateway can exist without
/// a VPC when create failed early. `vpc_wait` bounds the wait for the VPC to be free.
async fn delete_vpc_and_the_rest(
    aws: &AwsClients,
    inv: &Inventory,
    budget: &Budget,
    vpc_wait: &Budget,
) -> AwsResult<()> {
    let c = &aws.ec2;
    if let Some(sg) = &inv.control_plane_security_group_id {
        ec2::delete_security_group(c, sg, budget).await?;
    }
    let owned_vpc = inv.vpc_id.as_deref().filter(|_| inv.vpc_owned);
    if owned_vpc.is_some() {
        for s in inv.public_subnet_ids.iter().chain(&inv.private_subnet_ids) {
            ec2::delete_subnet(c, s, budget).await?;
        }
    }
    if let Some(igw) = &inv.internet_gateway_id {
        ec2::delete_internet_gateway(c, igw, owned_vpc, budget).await?;
    }
    for rtb in inv
        .private_route_table_ids
        .iter()
        .chain(&inv.public_route_table_id)
    {
        ec2::delete_route_table(c, rtb, budget).await?;
    }
    if let Some(vpc) = owned_vpc {
        match ec2::delete_vpc(c, vpc, vpc_wait).await {
            // The bounded wait ran out, not the delete's budget: the VPC is still held.
            Err(AwsError::Timeout { step }) if budget.check(&step).is_ok() => {
                return Err(AwsError::refused(
                    step,
                    "DependencyViolation",
                    "the VPC still holds objects",
                ));
            }
            other => other?,
        }
    }
    Ok(())
}
