//! What apply would find out late, plan says: each bad configuration fails `terraform plan` at
//! its attribute with only reads made, and the same configuration, fixed, plans.

mod common;

use common::{Testbed, Workspace, TF_NEW};

fn config(gateway: &str, extra: &str, iam: &str) -> String {
    format!(
        r#"
resource "eks_hybrid_cluster" "this" {{
  name = "checked"
  role_permissions_boundary = "arn:aws:iam::123456789012:policy/terraform-provider-eks/EKSHybridRoleBoundary"
  {extra}
  remote_network_config {{
    vpc_gateway_id = "{gateway}"
    remote_node_networks {{ cidrs = ["10.80.146.0/24"] }}
    {iam}
  }}
}}
"#
    )
}

/// Plans `bad`: exit 1, `expected` in the output at `attribute` (main.tf's line shows it),
/// no write; then plans `fixed`: exit 0.
fn fails_then_passes(
    tb: &Testbed,
    ws: &Workspace,
    bad: &str,
    expected: &str,
    attribute: &str,
    fixed: &str,
) {
    ws.write(bad);
    tb.control("DELETE", "calls", "");
    let plan = ws.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(plan.code, 1, "{expected}:\n{}", plan.all());
    let text = plan.text();
    assert!(text.contains(expected), "{expected}:\n{}", plan.all());
    assert!(
        text.contains(&format!("{attribute} =")),
        "the error shows the line of {attribute}:\n{}",
        plan.all()
    );
    assert_eq!(
        common::writes(tb),
        Vec::<String>::new(),
        "{expected}: plan wrote"
    );
    ws.write(fixed);
    let plan = ws.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(plan.code, 0, "fixed for {expected}:\n{}", plan.all());
}

#[test]
fn mistakes_apply_would_meet_late_fail_the_plan_at_their_attribute() {
    let tb = common::testbed();
    let seed = tb.seed();
    let tgw = seed.transit_gateway.clone();
    // Every read the checks make is in the minimal policy.
    common::restrict_to(&tb, "ssm");
    let ws = Workspace::new(TF_NEW, &tb, &config(&tgw, "", ""));
    // A gateway that does not exist.
    fails_then_passes(
        &tb,
        &ws,
        &config("tgw-0123456789abcdef0", "", ""),
        "Transit gateway tgw-0123456789abcdef0 does not exist in this account and region",
        "vpc_gateway_id",
        &config(&tgw, "", ""),
    );
    // A virtual private gateway attached to another VPC.
    let x = tb.query("ec2", "Action=CreateVpc&CidrBlock=10.9.0.0/16");
    let other_vpc = common::xml_values(&x, "vpcId")[0].clone();
    tb.query(
        "ec2",
        &format!(
            "Action=AttachVpnGateway&VpcId={other_vpc}&VpnGatewayId={}",
            seed.vpn_gateway
        ),
    );
    fails_then_passes(
        &tb,
        &ws,
        &config(&seed.vpn_gateway, "", ""),
        &format!("is attached to {other_vpc}, and a virtual private gateway attaches to one VPC at a time"),
        "vpc_gateway_id",
        &config(&tgw, "", ""),
    );
    // A Kubernetes version EKS no longer offers.
    fails_then_passes(
        &tb,
        &ws,
        &config(&tgw, "kubernetes_version = \"1.29\"", ""),
        "EKS does not create clusters of Kubernetes 1.29 in us-west-2 (DescribeClusterVersions); it offers 1.32, 1.33, 1.34, 1.35, 1.36",
        "kubernetes_version",
        &config(&tgw, "kubernetes_version = \"1.34\"", ""),
    );
    // A cluster role that does not exist, then one EKS cannot assume.
    let arn = |name: &str| format!("arn:aws:iam::123456789012:role/{name}");
    let cluster_role = |name: &str| format!("cluster_role_arn = \"{}\"", arn(name));
    let trust = |service: &str| {
        common::path_segment(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
        ))
    };
    for (name, service) in [
        ("for-ec2", "ec2.amazonaws.com"),
        ("for-eks", "eks.amazonaws.com"),
    ] {
        tb.query(
            "iam",
            &format!(
                "Action=CreateRole&Path=/teams/&RoleName={name}&AssumeRolePolicyDocument={}",
                trust(service)
            ),
        );
    }
    let with_path =
        |name: &str| format!("cluster_role_arn = \"arn:aws:iam::123456789012:role/teams/{name}\"");
    fails_then_passes(
        &tb,
        &ws,
        &config(&tgw, &cluster_role("nobody"), ""),
        &format!("IAM role {} does not exist in this account", arn("nobody")),
        "cluster_role_arn",
        &config(&tgw, &with_path("for-eks"), ""),
    );
    fails_then_passes(
        &tb,
        &ws,
        &config(&tgw, &with_path("for-ec2"), ""),
        "does not let eks.amazonaws.com assume it, and EKS refuses to create a cluster with it",
        "cluster_role_arn",
        &config(&tgw, &with_path("for-eks"), ""),
    );
    // A nodes role that does not exist.
    let nodes = |name: &str| format!("iam {{\n      role_arn = \"{}\"\n    }}", arn(name));
    fails_then_passes(
        &tb,
        &ws,
        &config(&tgw, "", &nodes("nobody")),
        &format!("IAM role {} does not exist in this account", arn("nobody")),
        "role_arn",
        &config(&tgw, "", ""),
    );
    // A nodes role SSM cannot assume plans with a warning: AWS refuses nothing at create.
    ws.write(&config(&tgw, "", &nodes("teams/for-ec2")));
    let plan = ws.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.text().contains("does not let ssm.amazonaws.com assume it, so the hybrid nodes cannot get credentials through it"),
        "{}",
        plan.all()
    );
    // A transit gateway another account shares without auto-accept: a warning, at plan.
    ws.write(&config(&seed.shared_transit_gateway, "", ""));
    let plan = ws.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.text().contains(
            "belongs to account 210987654321, which does not accept attachments automatically"
        ),
        "{}",
        plan.all()
    );
    assert!(
        tb.denied_calls().is_empty(),
        "calls outside the minimal policy: {:?}",
        tb.denied_calls()
    );
}
