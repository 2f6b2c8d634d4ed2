//! The testbed is awkward where AWS is awkward: one test per behaviour, each through
//! aws-sdk-rust with that behaviour's window set long enough to observe, then closed. The
//! sources for each behaviour are in `docs/testbed.md` and beside its code.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{Filter, IpPermission, IpRange};
use aws_sdk_eks::types::{
    AuthenticationMode, CreateAccessConfigRequest, RemoteNetworkConfigRequest, RemoteNodeNetwork,
    VpcConfigRequest,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use common::{ca_pem, role, sdk, sdk_in, start, Testbed};

const LONG: u64 = 60_000;

fn code<E: ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or_default().to_string()
}

async fn vpc(ec2: &aws_sdk_ec2::Client, cidr: &str) -> String {
    ec2.create_vpc()
        .cidr_block(cidr)
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string()
}

async fn subnet(ec2: &aws_sdk_ec2::Client, vpc: &str, cidr: &str, az: &str) -> String {
    ec2.create_subnet()
        .vpc_id(vpc)
        .cidr_block(cidr)
        .availability_zone(az)
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_string()
}

async fn nat_state(ec2: &aws_sdk_ec2::Client, id: &str) -> String {
    ec2.describe_nat_gateways()
        .nat_gateway_ids(id)
        .send()
        .await
        .unwrap()
        .nat_gateways()[0]
        .state()
        .unwrap()
        .as_str()
        .to_string()
}

async fn attachment_state(ec2: &aws_sdk_ec2::Client, id: &str) -> String {
    ec2.describe_transit_gateway_vpc_attachments()
        .transit_gateway_attachment_ids(id)
        .send()
        .await
        .unwrap()
        .transit_gateway_vpc_attachments()[0]
        .state()
        .unwrap()
        .as_str()
        .to_string()
}

/// Polls until `f` holds, at most 10 s.
async fn eventually<F: std::future::Future<Output = bool>>(what: &str, f: impl Fn() -> F) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Long enough to observe, short enough to wait out.
const WINDOW_MS: u64 = 1000;

async fn past_the_window() {
    tokio::time::sleep(Duration::from_millis(WINDOW_MS + 100)).await;
}

#[tokio::test]
async fn new_ec2_ids_are_not_found_until_they_propagate() {
    let tb = start(&["--exact"]);
    let sdk = sdk(&tb).await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let tgw = tb.seed().transit_gateway;
    let v0 = vpc(&ec2, "10.1.0.0/16").await;
    let s0 = subnet(&ec2, &v0, "10.1.0.0/24", "us-west-2a").await;

    // Every kind, created with the window open, is unknown to the next call that names it.
    tb.set(&[("ec2_consistency_ms", WINDOW_MS)]);
    let v = vpc(&ec2, "10.0.0.0/16").await;
    let e = ec2
        .create_subnet()
        .vpc_id(&v)
        .cidr_block("10.0.0.0/24")
        .availability_zone("us-west-2a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidVpcID.NotFound");
    assert!(e.message().unwrap().contains(&v));
    let e = ec2.describe_vpcs().vpc_ids(&v).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidVpcID.NotFound", "asked for by ID");
    let listed = ec2.describe_vpcs().send().await.unwrap();
    assert!(
        listed.vpcs().iter().all(|x| x.vpc_id() != Some(v.as_str())),
        "a Describe that would list it omits it"
    );
    let by_filter = ec2
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(&v).build())
        .send()
        .await
        .unwrap();
    assert!(
        by_filter.route_tables().is_empty(),
        "nor is it a filter's match yet"
    );

    let mut seen = BTreeSet::new();
    let new_subnet = subnet(&ec2, &v0, "10.1.1.0/24", "us-west-2b").await;
    let on = aws_sdk_ec2::types::AttributeBooleanValue::builder()
        .value(true)
        .build();
    let e = ec2
        .modify_subnet_attribute()
        .subnet_id(&new_subnet)
        .map_public_ip_on_launch(on)
        .send()
        .await
        .unwrap_err();
    seen.insert(code(&e));
    let rtb = ec2.create_route_table().vpc_id(&v0).send().await.unwrap();
    let rtb = rtb
        .route_table()
        .unwrap()
        .route_table_id()
        .unwrap()
        .to_string();
    let e = ec2
        .associate_route_table()
        .route_table_id(&rtb)
        .subnet_id(&s0)
        .send()
        .await
        .unwrap_err();
    seen.insert(code(&e));
    let sg = ec2
        .create_security_group()
        .group_name("web")
        .description("d")
        .vpc_id(&v0)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    let rule = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(443)
        .to_port(443)
        .ip_ranges(IpRange::builder().cidr_ip("10.9.0.0/24").build())
        .build();
    let e = ec2
        .authorize_security_group_ingress()
        .group_id(&sg)
        .ip_permissions(rule)
        .send()
        .await
        .unwrap_err();
    seen.insert(code(&e));
    let igw = ec2.create_internet_gateway().send().await.unwrap();
    let igw = igw
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_string();
    let e = ec2
        .attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&v0)
        .send()
        .await
        .unwrap_err();
    seen.insert(code(&e));
    let eip = ec2
        .allocate_address()
        .domain(aws_sdk_ec2::types::DomainType::Vpc)
        .send()
        .await
        .unwrap()
        .allocation_id()
        .unwrap()
        .to_string();
    let e = ec2
        .create_nat_gateway()
        .subnet_id(&s0)
        .allocation_id(&eip)
        .send()
        .await
        .unwrap_err();
    seen.insert(code(&e));
    let att = ec2
        .create_transit_gateway_vpc_attachment()
        .transit_gateway_id(&tgw)
        .vpc_id(&v0)
        .subnet_ids(&s0)
        .send()
        .await
        .unwrap();
    let att = att
        .transit_gateway_vpc_attachment()
        .unwrap()
        .transit_gateway_attachment_id()
        .unwrap()
        .to_string();
    let e = ec2
        .describe_transit_gateway_vpc_attachments()
        .transit_gateway_attachment_ids(&att)
        .send()
        .await
        .unwrap_err();
    seen.insert(code(&e));
    past_the_window().await;
    let nat = ec2
        .create_nat_gateway()
        .subnet_id(&s0)
        .allocation_id(&eip)
        .send()
        .await
        .unwrap();
    let nat = nat
        .nat_gateway()
        .unwrap()
        .nat_gateway_id()
        .unwrap()
        .to_string();
    let e = ec2
        .describe_nat_gateways()
        .nat_gateway_ids(&nat)
        .send()
        .await
        .unwrap_err();
    seen.insert(code(&e));
    let expected: BTreeSet<String> = [
        "InvalidSubnetID.NotFound",
        "InvalidRouteTableID.NotFound",
        "InvalidGroup.NotFound",
        "InvalidInternetGatewayID.NotFound",
        "InvalidAllocationID.NotFound",
        "NatGatewayNotFound",
        "InvalidTransitGatewayAttachmentID.NotFound",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(seen, expected);

    // Once the window has passed, every one of them is there.
    past_the_window().await;
    subnet(&ec2, &v, "10.0.0.0/24", "us-west-2a").await;
    assert_eq!(
        ec2.describe_vpcs()
            .vpc_ids(&v)
            .send()
            .await
            .unwrap()
            .vpcs()
            .len(),
        1
    );
    ec2.associate_route_table()
        .route_table_id(&rtb)
        .subnet_id(&s0)
        .send()
        .await
        .unwrap();
    ec2.describe_nat_gateways()
        .nat_gateway_ids(&nat)
        .send()
        .await
        .unwrap();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&v0)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn iam_changes_reach_eks_and_ssm_only_after_propagating() {
    let tb = start(&["--exact", "--eks-create-ms", "100"]);
    let sdk = sdk(&tb).await;
    let (ec2, iam, eks) = (
        aws_sdk_ec2::Client::new(&sdk),
        aws_sdk_iam::Client::new(&sdk),
        aws_sdk_eks::Client::new(&sdk),
    );
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let v = vpc(&ec2, "192.168.0.0/16").await;
    let subnets = vec![
        subnet(&ec2, &v, "192.168.0.0/24", "us-west-2a").await,
        subnet(&ec2, &v, "192.168.1.0/24", "us-west-2b").await,
    ];
    tb.set(&[("iam_propagation_ms", WINDOW_MS)]);
    let cluster_role = role(
        &iam,
        "cluster",
        "eks.amazonaws.com",
        &["AmazonEKSClusterPolicy"],
    )
    .await;
    let create = || {
        eks.create_cluster()
            .name("c")
            .role_arn(&cluster_role)
            .resources_vpc_config(
                VpcConfigRequest::builder()
                    .set_subnet_ids(Some(subnets.clone()))
                    .build(),
            )
            .access_config(
                CreateAccessConfigRequest::builder()
                    .authentication_mode(AuthenticationMode::Api)
                    .build(),
            )
            .remote_network_config(
                RemoteNetworkConfigRequest::builder()
                    .remote_node_networks(
                        RemoteNodeNetwork::builder().cidrs("10.80.0.0/24").build(),
                    )
                    .build(),
            )
            .send()
    };
    let mut messages = BTreeSet::new();
    for _ in 0..3 {
        let e = create().await.unwrap_err();
        assert_eq!(code(&e), "InvalidParameterException");
        messages.insert(e.message().unwrap().to_string());
    }
    assert_eq!(messages.len(), 3, "EKS varies its message: {messages:?}");
    assert!(messages
        .iter()
        .any(|m| m.contains("Role could not be assumed")));
    assert!(messages.iter().any(|m| m.contains("Error in role params")));
    assert!(messages.iter().any(|m| m.contains("does not exist")));
    let nodes = role(&iam, "nodes", "ssm.amazonaws.com", &[]).await;
    let e = ssm
        .create_activation()
        .iam_role("nodes")
        .send()
        .await
        .unwrap_err();
    assert!(e
        .message()
        .unwrap()
        .contains("Nonexistent role or missing ssm service principal"));

    past_the_window().await;
    create().await.unwrap();
    ssm.create_activation()
        .iam_role("nodes")
        .send()
        .await
        .unwrap();
    eventually("the cluster is ACTIVE", || async {
        eks.describe_cluster()
            .name("c")
            .send()
            .await
            .unwrap()
            .cluster()
            .unwrap()
            .status()
            .map(|s| s.as_str().to_string())
            == Some("ACTIVE".into())
    })
    .await;

    // A policy attached moments ago, and an access entry for a role created moments ago.
    iam.attach_role_policy()
        .role_name("cluster")
        .policy_arn("arn:aws:iam::aws:policy/AmazonEKSVPCResourceController")
        .send()
        .await
        .unwrap();
    let e = eks
        .create_cluster()
        .name("c2")
        .role_arn(&cluster_role)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .set_subnet_ids(Some(subnets.clone()))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        e.message().unwrap().contains("Amazon EKS Managed Policies")
            || e.message()
                .unwrap()
                .contains("IAM role's policy must include"),
        "{e:?}"
    );
    let late = role(&iam, "late-nodes", "ssm.amazonaws.com", &[]).await;
    let e = eks
        .create_access_entry()
        .cluster_name("c")
        .principal_arn(&late)
        .r#type("HYBRID_LINUX")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        e.message(),
        Some("The specified principalArn is invalid: invalid principal")
    );
    past_the_window().await;
    eks.create_access_entry()
        .cluster_name("c")
        .principal_arn(&nodes)
        .r#type("HYBRID_LINUX")
        .send()
        .await
        .unwrap();

    // Roles that EKS really cannot use fail the same way, for good.
    tb.set(&[("iam_propagation_ms", 0)]);
    let no_policy = role(&iam, "bare", "eks.amazonaws.com", &[]).await;
    let wrong_trust = role(
        &iam,
        "lambda",
        "lambda.amazonaws.com",
        &["AmazonEKSClusterPolicy"],
    )
    .await;
    for (arn, why) in [
        (no_policy, "Amazon EKS Managed Policies"),
        (wrong_trust, "trusted entity is not correct"),
        (
            "arn:aws:iam::123456789012:role/ghost".to_string(),
            "does not exist",
        ),
    ] {
        let e = eks
            .create_cluster()
            .name("c3")
            .role_arn(&arn)
            .resources_vpc_config(
                VpcConfigRequest::builder()
                    .set_subnet_ids(Some(subnets.clone()))
                    .build(),
            )
            .send()
            .await
            .unwrap_err();
        assert!(e.message().unwrap().contains(why), "{why}: {e:?}");
    }
}

#[tokio::test]
async fn nat_gateways_settle_stay_visible_when_deleted_and_hold_their_address() {
    let tb = start(&["--exact"]);
    let sdk = sdk(&tb).await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let v = vpc(&ec2, "10.0.0.0/16").await;
    let s = subnet(&ec2, &v, "10.0.0.0/24", "us-west-2a").await;
    let eip = ec2
        .allocate_address()
        .domain(aws_sdk_ec2::types::DomainType::Vpc)
        .send()
        .await
        .unwrap();
    let eip = eip.allocation_id().unwrap().to_string();
    tb.set(&[("ec2_settle_ms", LONG), ("eip_in_use_ms", LONG)]);
    let nat = ec2
        .create_nat_gateway()
        .subnet_id(&s)
        .allocation_id(&eip)
        .send()
        .await
        .unwrap();
    let nat = nat.nat_gateway().unwrap();
    assert_eq!(
        nat.state().unwrap().as_str(),
        "pending",
        "the create answer"
    );
    let nat = nat.nat_gateway_id().unwrap().to_string();
    assert_eq!(nat_state(&ec2, &nat).await, "pending");
    let e = ec2
        .release_address()
        .allocation_id(&eip)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "InvalidIPAddress.InUse",
        "in use by a live NAT gateway"
    );
    tb.set(&[("ec2_settle_ms", 0)]);
    assert_eq!(nat_state(&ec2, &nat).await, "available");

    tb.set(&[("ec2_settle_ms", LONG)]);
    ec2.delete_nat_gateway()
        .nat_gateway_id(&nat)
        .send()
        .await
        .unwrap();
    assert_eq!(nat_state(&ec2, &nat).await, "deleting");
    let e = ec2
        .release_address()
        .allocation_id(&eip)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AuthFailure", "while the NAT gateway is deleting");
    tb.set(&[("ec2_settle_ms", 0)]);
    assert_eq!(
        nat_state(&ec2, &nat).await,
        "deleted",
        "stays visible as deleted"
    );
    let e = ec2
        .release_address()
        .allocation_id(&eip)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidIPAddress.InUse", "briefly after");
    tb.set(&[("eip_in_use_ms", 0)]);
    ec2.release_address()
        .allocation_id(&eip)
        .send()
        .await
        .unwrap();

    // A NAT gateway can fail (the control endpoint stands in for AWS's own reasons).
    let eip2 = ec2
        .allocate_address()
        .domain(aws_sdk_ec2::types::DomainType::Vpc)
        .send()
        .await
        .unwrap();
    let nat2 = ec2
        .create_nat_gateway()
        .subnet_id(&s)
        .allocation_id(eip2.allocation_id().unwrap())
        .send()
        .await
        .unwrap();
    let nat2 = nat2
        .nat_gateway()
        .unwrap()
        .nat_gateway_id()
        .unwrap()
        .to_string();
    tb.control("POST", "fail-nat-gateway", &format!(r#"{{"id":"{nat2}"}}"#));
    assert_eq!(nat_state(&ec2, &nat2).await, "failed");
}

#[tokio::test]
async fn shared_transit_gateway_attachments_await_acceptance_and_routes_wait_for_them() {
    let tb = start(&["--exact"]);
    let sdk = sdk(&tb).await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let seeded = tb.seed();
    let v = vpc(&ec2, "10.0.0.0/16").await;
    let s = subnet(&ec2, &v, "10.0.0.0/24", "us-west-2a").await;
    let rtb = ec2.create_route_table().vpc_id(&v).send().await.unwrap();
    let rtb = rtb
        .route_table()
        .unwrap()
        .route_table_id()
        .unwrap()
        .to_string();
    let route = |tgw: String| {
        ec2.create_route()
            .route_table_id(&rtb)
            .destination_cidr_block("10.80.0.0/24")
            .transit_gateway_id(tgw)
            .send()
    };
    let e = route(seeded.transit_gateway.clone()).await.unwrap_err();
    assert_eq!(
        code(&e),
        "InvalidTransitGatewayID.NotFound",
        "no attachment yet"
    );

    let att = ec2
        .create_transit_gateway_vpc_attachment()
        .transit_gateway_id(&seeded.shared_transit_gateway)
        .vpc_id(&v)
        .subnet_ids(&s)
        .send()
        .await
        .unwrap();
    let att = att.transit_gateway_vpc_attachment().unwrap();
    assert_eq!(att.state().unwrap().as_str(), "pendingAcceptance");
    let att = att.transit_gateway_attachment_id().unwrap().to_string();
    assert_eq!(attachment_state(&ec2, &att).await, "pendingAcceptance");
    let e = route(seeded.shared_transit_gateway.clone())
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "InvalidTransitGatewayID.NotFound",
        "not accepted yet"
    );
    tb.set(&[("ec2_settle_ms", LONG)]);
    tb.control("POST", "accept", &format!(r#"{{"attachment_id":"{att}"}}"#));
    assert_eq!(attachment_state(&ec2, &att).await, "pending");
    let e = route(seeded.shared_transit_gateway.clone())
        .await
        .unwrap_err();
    assert_eq!(
        code(&e),
        "InvalidTransitGatewayID.NotFound",
        "accepted, not available"
    );
    tb.set(&[("ec2_settle_ms", 0)]);
    assert_eq!(attachment_state(&ec2, &att).await, "available");
    route(seeded.shared_transit_gateway).await.unwrap();
}

#[tokio::test]
async fn eks_refuses_subnets_in_zones_it_does_not_support() {
    let tb = start(&["--exact", "--eks-create-ms", "100"]);
    let sdk = sdk_in(&tb, "us-east-1").await;
    let (ec2, iam, eks) = (
        aws_sdk_ec2::Client::new(&sdk),
        aws_sdk_iam::Client::new(&sdk),
        aws_sdk_eks::Client::new(&sdk),
    );
    let zones = ec2.describe_availability_zones().send().await.unwrap();
    let first = &zones.availability_zones()[0];
    assert_eq!(first.zone_name(), Some("us-east-1a"));
    assert_eq!(
        first.zone_id(),
        Some("use1-az3"),
        "this account's us-east-1a"
    );
    let v = vpc(&ec2, "192.168.0.0/16").await;
    let a = subnet(&ec2, &v, "192.168.0.0/24", "us-east-1a").await;
    let b = subnet(&ec2, &v, "192.168.1.0/24", "us-east-1b").await;
    let c = subnet(&ec2, &v, "192.168.2.0/24", "us-east-1c").await;
    let subnets = ec2.describe_subnets().subnet_ids(&a).send().await.unwrap();
    assert_eq!(
        subnets.subnets()[0].availability_zone_id(),
        Some("use1-az3")
    );
    let role = role(
        &iam,
        "cluster",
        "eks.amazonaws.com",
        &["AmazonEKSClusterPolicy"],
    )
    .await;
    let create = |subnets: Vec<String>| {
        eks.create_cluster()
            .name("z")
            .role_arn(&role)
            .resources_vpc_config(
                VpcConfigRequest::builder()
                    .set_subnet_ids(Some(subnets))
                    .build(),
            )
            .send()
    };
    let e = create(vec![a, b.clone()]).await.unwrap_err();
    let aws_sdk_eks::error::SdkError::ServiceError(service) = &e else {
        panic!("{e:?}")
    };
    let aws_sdk_eks::operation::create_cluster::CreateClusterError::UnsupportedAvailabilityZoneException(u) = service.err() else {
        panic!("{e:?}")
    };
    assert!(u
        .message()
        .unwrap()
        .contains("us-east-1a, the targeted availability zone"));
    assert!(!u.valid_zones().contains(&"us-east-1a".to_string()));
    assert!(u.valid_zones().contains(&"us-east-1b".to_string()));
    create(vec![b, c]).await.unwrap();
}

#[tokio::test]
async fn a_deleted_cluster_answers_eks_other_not_found() {
    let tb = start(&["--exact", "--eks-create-ms", "50", "--eks-delete-ms", "50"]);
    let sdk = sdk(&tb).await;
    let (ec2, iam, eks) = (
        aws_sdk_ec2::Client::new(&sdk),
        aws_sdk_iam::Client::new(&sdk),
        aws_sdk_eks::Client::new(&sdk),
    );
    let e = eks
        .describe_cluster()
        .name("never")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    let v = vpc(&ec2, "192.168.0.0/16").await;
    let subnets = vec![
        subnet(&ec2, &v, "192.168.0.0/24", "us-west-2a").await,
        subnet(&ec2, &v, "192.168.1.0/24", "us-west-2b").await,
    ];
    let role = role(
        &iam,
        "cluster",
        "eks.amazonaws.com",
        &["AmazonEKSClusterPolicy"],
    )
    .await;
    eks.create_cluster()
        .name("gone")
        .role_arn(&role)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .set_subnet_ids(Some(subnets))
                .build(),
        )
        .send()
        .await
        .unwrap();
    eventually("ACTIVE", || async {
        eks.delete_cluster().name("gone").send().await.is_ok()
    })
    .await;
    eventually("deleted", || async {
        eks.describe_cluster().name("gone").send().await.is_err()
    })
    .await;
    let e = eks
        .describe_cluster()
        .name("gone")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ClientException");
    assert_eq!(e.message(), Some("No cluster found for name: gone."));
}

#[tokio::test]
async fn lists_and_describes_come_in_pages() {
    let tb = start(&["--exact", "--eks-create-ms", "50"]);
    let sdk = sdk(&tb).await;
    let (ec2, iam, eks) = (
        aws_sdk_ec2::Client::new(&sdk),
        aws_sdk_iam::Client::new(&sdk),
        aws_sdk_eks::Client::new(&sdk),
    );
    let (ra, ssm) = (
        aws_sdk_rolesanywhere::Client::new(&sdk),
        aws_sdk_ssm::Client::new(&sdk),
    );
    let v = vpc(&ec2, "192.168.0.0/16").await;
    let mut subnets = Vec::new();
    for (i, az) in ["us-west-2a", "us-west-2b", "us-west-2c"]
        .iter()
        .enumerate()
    {
        subnets.push(subnet(&ec2, &v, &format!("192.168.{i}.0/24"), az).await);
    }
    let cluster_role = role(
        &iam,
        "cluster",
        "eks.amazonaws.com",
        &["AmazonEKSClusterPolicy"],
    )
    .await;
    eks.create_cluster()
        .name("p")
        .role_arn(&cluster_role)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .set_subnet_ids(Some(subnets.clone()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    eventually("ACTIVE", || async {
        eks.describe_cluster()
            .name("p")
            .send()
            .await
            .unwrap()
            .cluster()
            .unwrap()
            .status()
            .map(|s| s.as_str().to_string())
            == Some("ACTIVE".into())
    })
    .await;
    for i in 0..3 {
        let arn = role(&iam, &format!("n{i}"), "ssm.amazonaws.com", &[]).await;
        eks.create_access_entry()
            .cluster_name("p")
            .principal_arn(arn)
            .send()
            .await
            .unwrap();
        ssm.create_activation()
            .iam_role(format!("n{i}"))
            .send()
            .await
            .unwrap();
        let source = aws_sdk_rolesanywhere::types::Source::builder()
            .source_type(aws_sdk_rolesanywhere::types::TrustAnchorType::CertificateBundle)
            .source_data(
                aws_sdk_rolesanywhere::types::SourceData::X509CertificateData(ca_pem(true)),
            )
            .build();
        ra.create_trust_anchor()
            .name(format!("a{i}"))
            .source(source)
            .send()
            .await
            .unwrap();
        ra.create_profile()
            .name(format!("p{i}"))
            .role_arns(&cluster_role)
            .send()
            .await
            .unwrap();
    }
    tb.set(&[("page_size", 2)]);

    let first = eks
        .list_access_entries()
        .cluster_name("p")
        .send()
        .await
        .unwrap();
    assert_eq!(first.access_entries().len(), 2);
    assert!(first.next_token().is_some());
    let all: Vec<String> = eks
        .list_access_entries()
        .cluster_name("p")
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .unwrap();
    assert_eq!(all.len(), 3, "{all:?}");

    let first = ra.list_trust_anchors().send().await.unwrap();
    assert_eq!(
        (first.trust_anchors().len(), first.next_token().is_some()),
        (2, true)
    );
    let anchors: Vec<_> = ra
        .list_trust_anchors()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(anchors.len(), 3);
    let profiles: Vec<_> = ra
        .list_profiles()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(profiles.len(), 3);

    let first = ssm.describe_activations().send().await.unwrap();
    assert_eq!(
        (first.activation_list().len(), first.next_token().is_some()),
        (2, true)
    );
    let activations: Vec<_> = ssm
        .describe_activations()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(activations.len(), 3);

    let by_vpc = Filter::builder().name("vpc-id").values(&v).build();
    let first = ec2
        .describe_subnets()
        .filters(by_vpc.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        (first.subnets().len(), first.next_token().is_some()),
        (2, true)
    );
    let all: Vec<_> = ec2
        .describe_subnets()
        .filters(by_vpc.clone())
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    let sgs: Vec<_> = ec2
        .describe_security_groups()
        .filters(by_vpc.clone())
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(sgs.len(), 2, "the default group and the cluster's");
    let clusters: Vec<String> = eks
        .list_clusters()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .unwrap();
    assert_eq!(clusters, vec!["p"]);
}

#[tokio::test]
async fn requests_are_held_to_the_published_model() {
    let tb = start(&["--exact"]);
    let sdk = sdk(&tb).await;
    let (eks, ra, ssm) = (
        aws_sdk_eks::Client::new(&sdk),
        aws_sdk_rolesanywhere::Client::new(&sdk),
        aws_sdk_ssm::Client::new(&sdk),
    );
    let e = eks
        .create_cluster()
        .name("bad name")
        .role_arn("arn:aws:iam::123456789012:role/r")
        .resources_vpc_config(VpcConfigRequest::builder().build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    assert!(e.message().unwrap().contains(
        "at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern"
    ));
    let e = eks
        .list_access_entries()
        .cluster_name("c")
        .max_results(101)
        .send()
        .await
        .unwrap_err();
    assert!(
        e.message().unwrap().contains("less than or equal to 100"),
        "{e:?}"
    );

    let source = |pem: String| {
        aws_sdk_rolesanywhere::types::Source::builder()
            .source_type(aws_sdk_rolesanywhere::types::TrustAnchorType::CertificateBundle)
            .source_data(aws_sdk_rolesanywhere::types::SourceData::X509CertificateData(pem))
            .build()
    };
    // A bundle longer than the 8,000 characters older API pages give, within the model's 204,800.
    let bundle: String = (0..24).map(|_| ca_pem(true)).collect();
    assert!(bundle.len() > 8000);
    ra.create_trust_anchor()
        .name("big")
        .source(source(bundle))
        .send()
        .await
        .unwrap();
    let tag = |k: &str, v: &str| {
        aws_sdk_rolesanywhere::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .unwrap()
    };
    let e = ra
        .create_trust_anchor()
        .name("tagged")
        .source(source(ca_pem(true)))
        .tags(tag("team", "a,b"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    assert!(
        e.message().unwrap().contains("tags.1.member.value"),
        "{e:?}"
    );
    assert!(
        !e.message().unwrap().contains("a,b"),
        "tag values are sensitive in the model"
    );
    ra.create_trust_anchor()
        .name("tagged")
        .source(source(ca_pem(true)))
        .tags(tag("team", "a b:c/d=e+f@g-h_i.j"))
        .send()
        .await
        .unwrap();

    let e = ssm
        .create_activation()
        .iam_role("r")
        .registration_limit(1001)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    assert!(e.message().unwrap().contains("less than or equal to 1000"));
    let (status, body) = tb.request(
        "POST",
        "/",
        &[
            ("authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-west-2/ssm/aws4_request, SignedHeaders=host, Signature=0".into()),
            ("x-amz-target", "AmazonSSM.CreateActivation".into()),
            ("content-type", "application/x-amz-json-1.1".into()),
        ],
        "{}",
    );
    assert_eq!(status, 400);
    assert!(
        body.contains(
            "Value null at 'IamRole' failed to satisfy constraint: Member must not be null"
        ),
        "{body}"
    );
}

#[tokio::test]
async fn callers_may_do_only_what_their_policy_allows() {
    let tb = start(&["--exact"]);
    let sdk = sdk(&tb).await;
    let (ec2, eks, sts) = (
        aws_sdk_ec2::Client::new(&sdk),
        aws_sdk_eks::Client::new(&sdk),
        aws_sdk_sts::Client::new(&sdk),
    );
    tb.allow_only(&["ec2:Describe*".into(), "eks:CreateCluster".into()]);
    ec2.describe_vpcs().send().await.unwrap();
    let e = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "UnauthorizedOperation");
    assert!(e.message().unwrap().contains("ec2:CreateVpc"));
    let e = eks.describe_cluster().name("c").send().await.unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    let e = eks
        .create_cluster()
        .name("c")
        .role_arn("arn:aws:iam::123456789012:role/r")
        .resources_vpc_config(VpcConfigRequest::builder().build())
        .send()
        .await
        .unwrap_err();
    assert!(e.message().unwrap().contains("iam:PassRole"), "{e:?}");
    sts.get_caller_identity().send().await.unwrap();
    assert_eq!(
        tb.denied_calls(),
        vec!["ec2:CreateVpc", "eks:DescribeCluster", "eks:CreateCluster"]
    );
    tb.control("DELETE", "policy", "");
    ec2.create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn security_group_names_cannot_look_like_ids() {
    let tb = start(&["--exact"]);
    let ec2 = aws_sdk_ec2::Client::new(&sdk(&tb).await);
    let v = vpc(&ec2, "10.0.0.0/16").await;
    let e = ec2
        .create_security_group()
        .group_name("sg-demo-ControlPlaneSecurityGroup")
        .description("d")
        .vpc_id(&v)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValue");
}

#[tokio::test]
async fn a_describe_of_several_subnets_names_the_one_missing() {
    let tb = start(&["--exact"]);
    let ec2 = aws_sdk_ec2::Client::new(&sdk(&tb).await);
    let v = vpc(&ec2, "10.0.0.0/16").await;
    let real = subnet(&ec2, &v, "10.0.1.0/24", "us-west-2a").await;
    let typo = "subnet-0123456789abcdef0";
    for order in [[typo, real.as_str()], [real.as_str(), typo]] {
        let e = ec2
            .describe_subnets()
            .set_subnet_ids(Some(order.iter().map(|s| s.to_string()).collect()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "InvalidSubnetID.NotFound");
        assert_eq!(
            e.message().unwrap(),
            format!("The subnet ID '{typo}' does not exist")
        );
    }
}

#[tokio::test]
async fn the_inventory_lists_every_kind_and_leaves_deleted_nat_gateways_out() {
    let tb = start(&["--exact"]);
    let ec2 = aws_sdk_ec2::Client::new(&sdk(&tb).await);
    let before = tb.inventory();
    let v = vpc(&ec2, "10.0.0.0/16").await;
    let s = subnet(&ec2, &v, "10.0.0.0/24", "us-west-2a").await;
    let eip = ec2
        .allocate_address()
        .domain(aws_sdk_ec2::types::DomainType::Vpc)
        .send()
        .await
        .unwrap();
    let nat = ec2
        .create_nat_gateway()
        .subnet_id(&s)
        .allocation_id(eip.allocation_id().unwrap())
        .send()
        .await
        .unwrap();
    let nat = nat
        .nat_gateway()
        .unwrap()
        .nat_gateway_id()
        .unwrap()
        .to_string();
    let after = tb.inventory();
    for id in [&v, &s, &nat] {
        assert!(
            after.iter().any(|o| o.ends_with(id.as_str())),
            "{id} in {after:?}"
        );
    }
    ec2.delete_nat_gateway()
        .nat_gateway_id(&nat)
        .send()
        .await
        .unwrap();
    assert!(!tb.inventory().iter().any(|o| o.ends_with(nat.as_str())));
    assert!(before.len() < after.len());
    let _: &Testbed = &tb;
}

#[tokio::test]
async fn clusters_cost_aws_minutes_on_the_simulated_clock_and_only_offered_versions() {
    let tb = start(&["--exact", "--eks-create-ms", "50", "--eks-delete-ms", "50"]);
    let sdk = sdk(&tb).await;
    let (ec2, iam, eks) = (
        aws_sdk_ec2::Client::new(&sdk),
        aws_sdk_iam::Client::new(&sdk),
        aws_sdk_eks::Client::new(&sdk),
    );
    let offered: Vec<String> = eks
        .describe_cluster_versions()
        .send()
        .await
        .unwrap()
        .cluster_versions()
        .iter()
        .filter_map(|v| v.cluster_version().map(str::to_string))
        .collect();
    assert_eq!(offered, ["1.32", "1.33", "1.34", "1.35", "1.36"]);
    let v = vpc(&ec2, "192.168.0.0/16").await;
    let subnets = vec![
        subnet(&ec2, &v, "192.168.0.0/24", "us-west-2a").await,
        subnet(&ec2, &v, "192.168.1.0/24", "us-west-2b").await,
    ];
    let role = role(
        &iam,
        "cluster",
        "eks.amazonaws.com",
        &["AmazonEKSClusterPolicy"],
    )
    .await;
    let create = |version: &'static str| {
        eks.create_cluster()
            .name("timed")
            .version(version)
            .role_arn(&role)
            .resources_vpc_config(
                VpcConfigRequest::builder()
                    .set_subnet_ids(Some(subnets.clone()))
                    .build(),
            )
            .send()
    };
    let e = create("1.29").await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    assert_eq!(e.message(), Some("unsupported Kubernetes version 1.29"));
    assert_eq!(tb.cost(), (0.0, 0), "a refused create costs nothing");
    create("1.34").await.unwrap();
    assert_eq!(tb.cost(), (10.0, 1));
    eventually("ACTIVE", || async {
        eks.delete_cluster().name("timed").send().await.is_ok()
    })
    .await;
    assert_eq!(tb.cost(), (15.0, 1));
    tb.reset_cost();
    assert_eq!(tb.cost(), (0.0, 0));
}

/// EKS takes one type of update per UpdateClusterConfig call ("Only one type of update can be
/// allowed.", cluster-api-provider-aws#3553, aws-cdk#21439) and refuses a second update while
/// one is in progress (ResourceInUseException).
#[tokio::test]
async fn cluster_config_updates_come_one_type_and_one_at_a_time() {
    let tb = start(&[
        "--exact",
        "--eks-create-ms",
        "50",
        "--eks-update-ms",
        &LONG.to_string(),
    ]);
    let sdk = sdk(&tb).await;
    let (ec2, iam, eks) = (
        aws_sdk_ec2::Client::new(&sdk),
        aws_sdk_iam::Client::new(&sdk),
        aws_sdk_eks::Client::new(&sdk),
    );
    let v = vpc(&ec2, "192.168.0.0/16").await;
    let subnets = vec![
        subnet(&ec2, &v, "192.168.0.0/24", "us-west-2a").await,
        subnet(&ec2, &v, "192.168.1.0/24", "us-west-2b").await,
    ];
    let role = role(&iam, "c", "eks.amazonaws.com", &["AmazonEKSClusterPolicy"]).await;
    eks.create_cluster()
        .name("one-at-a-time")
        .role_arn(&role)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .set_subnet_ids(Some(subnets))
                .build(),
        )
        .send()
        .await
        .unwrap();
    eventually("ACTIVE", || async {
        eks.describe_cluster()
            .name("one-at-a-time")
            .send()
            .await
            .unwrap()
            .cluster()
            .and_then(|c| c.status().cloned())
            == Some(aws_sdk_eks::types::ClusterStatus::Active)
    })
    .await;
    let private = VpcConfigRequest::builder()
        .endpoint_private_access(true)
        .build();
    let logging = aws_sdk_eks::types::Logging::builder()
        .cluster_logging(
            aws_sdk_eks::types::LogSetup::builder()
                .types(aws_sdk_eks::types::LogType::Audit)
                .enabled(true)
                .build(),
        )
        .build();
    let e = eks
        .update_cluster_config()
        .name("one-at-a-time")
        .resources_vpc_config(private.clone())
        .logging(logging)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    assert_eq!(e.message(), Some("Only one type of update can be allowed."));
    eks.update_cluster_config()
        .name("one-at-a-time")
        .resources_vpc_config(private)
        .send()
        .await
        .unwrap();
    let public = VpcConfigRequest::builder()
        .endpoint_public_access(false)
        .endpoint_private_access(true)
        .build();
    let e = eks
        .update_cluster_config()
        .name("one-at-a-time")
        .resources_vpc_config(public)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceInUseException", "one update at a time");
}

/// SSM's `IamRole` is the role with its path: SSM builds `arn:…:role/<IamRole>` from it (SSM
/// API reference, CreateActivation, example `service-role/AmazonEC2RunCommandRoleFor…`;
/// aws-cli #4232). A role under a path is not found by its bare name.
#[tokio::test]
async fn an_activation_names_its_role_with_the_roles_path() {
    let tb = start(&["--exact"]);
    let sdk = sdk(&tb).await;
    let (iam, ssm) = (
        aws_sdk_iam::Client::new(&sdk),
        aws_sdk_ssm::Client::new(&sdk),
    );
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name("edge-nodes")
        .path("/teams/edge/")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let bare = ssm
        .create_activation()
        .iam_role("edge-nodes")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bare), "ValidationException");
    assert!(bare.message().unwrap().contains("Nonexistent role"));
    let with_path = ssm
        .create_activation()
        .iam_role("teams/edge/edge-nodes")
        .send()
        .await
        .unwrap();
    assert!(with_path.activation_id().is_some());
}

/// EKS has taken a cluster role whose permissions are the customer's own policy, instead of
/// AmazonEKSClusterPolicy, since 2023 (aws/containers-roadmap #122): the testbed is no
/// stricter. A role with no policy at all is still refused (see above).
#[tokio::test]
async fn a_cluster_role_with_its_own_equivalent_policy_is_accepted() {
    let tb = start(&["--exact", "--eks-create-ms", "100"]);
    let sdk = sdk(&tb).await;
    let (ec2, iam, eks) = (
        aws_sdk_ec2::Client::new(&sdk),
        aws_sdk_iam::Client::new(&sdk),
        aws_sdk_eks::Client::new(&sdk),
    );
    let v = vpc(&ec2, "192.168.0.0/16").await;
    let subnets = vec![
        subnet(&ec2, &v, "192.168.0.0/24", "us-west-2a").await,
        subnet(&ec2, &v, "192.168.1.0/24", "us-west-2b").await,
    ];
    let arn = role(&iam, "own-policy", "eks.amazonaws.com", &[]).await;
    iam.put_role_policy()
        .role_name("own-policy")
        .policy_name("cluster")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:Describe*","ec2:CreateNetworkInterface","ec2:DeleteNetworkInterface","iam:CreateServiceLinkedRole"],"Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    eks.create_cluster()
        .name("own")
        .role_arn(&arn)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .set_subnet_ids(Some(subnets))
                .build(),
        )
        .send()
        .await
        .expect("EKS accepts the role");
}

/// The caller's policy judged with each resource's tags, the request's tags, the tagging
/// permission a create with tags needs, explicit denies, and the role's permissions boundary
/// (IAM user guide, "Policy evaluation logic"; the Service Authorization Reference for EC2 and
/// IAM; EC2 user guide, "Grant permission to tag Amazon EC2 resources during creation"; IAM
/// user guide, "Permissions required to tag IAM entities").
#[tokio::test]
async fn the_callers_policy_is_judged_with_tags_boundaries_and_the_tagging_a_create_needs() {
    use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
    let tb = start(&["--exact"]);
    let sdk = sdk(&tb).await;
    let (ec2, iam) = (
        aws_sdk_ec2::Client::new(&sdk),
        aws_sdk_iam::Client::new(&sdk),
    );
    let theirs = vpc(&ec2, "10.1.0.0/16").await;
    let tagged = |owner: &str| {
        TagSpecification::builder()
            .resource_type(ResourceType::Vpc)
            .tags(Tag::builder().key("owner").value(owner).build())
            .build()
    };
    let b = "arn:aws:iam::123456789012:policy/b/ok";
    let policy = serde_json::json!({"Statement": [
        {"Effect": "Allow", "Action": ["ec2:CreateVpc", "ec2:DeleteVpc"], "Resource": "arn:aws:ec2:*:*:vpc/*",
         "Condition": {"StringEquals": {"aws:RequestTag/owner": "me"}}},
        {"Effect": "Allow", "Action": "ec2:DeleteVpc", "Resource": "arn:aws:ec2:*:*:vpc/*",
         "Condition": {"StringEquals": {"aws:ResourceTag/owner": "me"}}},
        {"Effect": "Allow", "Action": "iam:CreateRole", "Resource": "*",
         "Condition": {"ArnLike": {"iam:PermissionsBoundary": "arn:*:iam::*:policy/b/*"}}},
        {"Effect": "Deny", "Action": "ec2:DeleteVpc", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/keep": "yes"}}},
    ]});
    tb.set_policy(&policy);
    let create = |spec: TagSpecification| {
        ec2.create_vpc()
            .cidr_block("10.2.0.0/16")
            .tag_specifications(spec)
            .send()
    };
    // The create's own condition holds, but tagging at creation needs ec2:CreateTags.
    let e = create(tagged("me")).await.unwrap_err();
    assert!(e.message().unwrap().contains("ec2:CreateTags"), "{e:?}");
    let mut with_tagging = policy.clone();
    with_tagging["Statement"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!(
        {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
         "Condition": {"StringEquals": {"ec2:CreateAction": "CreateVpc"}}}));
    tb.set_policy(&with_tagging);
    let e = create(tagged("you")).await.unwrap_err();
    assert_eq!(code(&e), "UnauthorizedOperation");
    let mine = create(tagged("me"))
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    // Their VPC carries no tag of ours: refused, while ours may go.
    let e = ec2.delete_vpc().vpc_id(&theirs).send().await.unwrap_err();
    assert!(
        e.message().unwrap().contains(&format!("vpc/{theirs}")),
        "{e:?}"
    );
    ec2.create_tags()
        .resources(&mine)
        .tags(Tag::builder().key("keep").value("yes").build())
        .send()
        .await
        .unwrap_err();
    tb.control("DELETE", "policy", "");
    ec2.create_tags()
        .resources(&mine)
        .tags(Tag::builder().key("keep").value("yes").build())
        .send()
        .await
        .unwrap();
    tb.set_policy(&with_tagging);
    let e = ec2.delete_vpc().vpc_id(&mine).send().await.unwrap_err();
    assert!(e.message().unwrap().contains("explicit deny"), "{e:?}");
    // A VPC that does not exist is EC2's to answer for a caller allowed to delete VPCs.
    let e = ec2
        .delete_vpc()
        .vpc_id("vpc-0123456789abcdef0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidVpcID.NotFound");
    // A role needs the boundary; with tags it also needs iam:TagRole; a boundary that names
    // no policy is IAM's NoSuchEntity.
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = |name: &str, boundary: Option<&str>, tag: bool| {
        let mut r = iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust);
        r = r.set_permissions_boundary(boundary.map(str::to_string));
        if tag {
            r = r.tags(
                aws_sdk_iam::types::Tag::builder()
                    .key("k")
                    .value("v")
                    .build()
                    .unwrap(),
            );
        }
        r.send()
    };
    assert_eq!(
        code(&role("r1", None, false).await.unwrap_err()),
        "AccessDenied"
    );
    let e = role("r2", Some(b), true).await.unwrap_err();
    assert!(e.message().unwrap().contains("iam:TagRole"), "{e:?}");
    let e = role("r3", Some(b), false).await.unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity", "{e:?}");
    tb.control("DELETE", "policy", "");
    iam.create_policy()
        .path("/b/")
        .policy_name("ok")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks:Describe*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    tb.set_policy(&with_tagging);
    let made = role("r3", Some(b), false).await.unwrap();
    assert_eq!(
        made.role()
            .unwrap()
            .permissions_boundary()
            .unwrap()
            .permissions_boundary_arn(),
        Some(b)
    );
}

/// A transit gateway attachment keeps the tags of its create's tag specification (EC2 API
/// reference, CreateTransitGatewayVpcAttachment `TagSpecifications`), which moto 5.2.5 drops:
/// policies scoped by `aws:ResourceTag` depend on them.
#[tokio::test]
async fn a_transit_gateway_attachment_keeps_the_tags_it_was_made_with() {
    use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
    let tb = start(&["--exact"]);
    let tgw = tb.seed().transit_gateway;
    let ec2 = aws_sdk_ec2::Client::new(&sdk(&tb).await);
    let vpc = vpc(&ec2, "10.3.0.0/16").await;
    let sub = subnet(&ec2, &vpc, "10.3.1.0/24", "us-west-2a").await;
    let made = ec2
        .create_transit_gateway_vpc_attachment()
        .transit_gateway_id(&tgw)
        .vpc_id(&vpc)
        .subnet_ids(&sub)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::TransitGatewayAttachment)
                .tags(Tag::builder().key("owner").value("me").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let id = made
        .transit_gateway_vpc_attachment()
        .unwrap()
        .transit_gateway_attachment_id()
        .unwrap();
    let found = ec2
        .describe_transit_gateway_vpc_attachments()
        .transit_gateway_attachment_ids(id)
        .send()
        .await
        .unwrap();
    let tags = found.transit_gateway_vpc_attachments()[0].tags();
    assert!(
        tags.iter()
            .any(|t| t.key() == Some("owner") && t.value() == Some("me")),
        "{tags:?}"
    );
}
