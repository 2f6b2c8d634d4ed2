//! The provider against AWS's awkward behaviours (the testbed models them; see
//! `docs/testbed.md`): one scenario per behaviour, each through real Terraform, each ending in
//! a destroy that leaves nothing behind and with the caller held to the README's minimal
//! IAM policy.

mod common;

use std::time::{Duration, Instant};

use common::{
    destroy_leaves_nothing, restrict_to, route_tables_of, ssm_config, testbed, Applied, Testbed,
    Workspace, TF_NEW,
};

fn nat_of(ws: &Workspace) -> String {
    let s = ws.state();
    let key = s["owned_objects"]
        .as_object()
        .unwrap()
        .keys()
        .find(|k| k.starts_with("nat_gateway/"))
        .expect("a NAT gateway")
        .clone();
    key.trim_start_matches("nat_gateway/").to_string()
}

/// Every private route table's default route goes to `nat`.
fn defaults_route_to(tb: &Testbed, ws: &Workspace, nat: &str) {
    let s = ws.state();
    let private: Vec<String> = s["private_subnet_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    for table in route_tables_of(tb, s["vpc_id"].as_str().unwrap()) {
        if table.subnets.iter().any(|sn| private.contains(sn)) {
            assert_eq!(
                table.routes.get("0.0.0.0/0").map(String::as_str),
                Some(nat),
                "default route of {}",
                table.id
            );
        }
    }
}

/// The demo's cluster with its NAT gateway, held to the SSM runner policy.
fn cluster_with_nat() -> Applied {
    let tb = testbed();
    restrict_to(&tb, "ssm");
    let tgw = tb.seed().transit_gateway;
    Applied::new(
        TF_NEW,
        tb,
        &ssm_config(&tgw, "timeouts {\n    update = \"2m\"\n  }"),
    )
}

/// Apply rebuilds the NAT gateway well within the update timeout, and the default routes
/// follow the new one.
fn rebuilt(c: &Applied, old: &str) {
    let started = Instant::now();
    c.ws.apply();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "rebuilt, not waited on until the timeout: {:?}",
        started.elapsed()
    );
    let new = nat_of(&c.ws);
    assert_ne!(new, old);
    defaults_route_to(&c.tb, &c.ws, &new);
    c.plans_no_changes("the NAT gateway is rebuilt");
}

#[test]
fn a_nat_gateway_deleted_outside_terraform_is_rebuilt() {
    let c = cluster_with_nat();
    let first = nat_of(&c.ws);
    // AWS keeps showing it as `deleted`.
    c.tb.query(
        "ec2",
        &format!("Action=DeleteNatGateway&NatGatewayId={first}"),
    );
    std::thread::sleep(Duration::from_millis(500));
    c.drift_shows(&[&format!("\"nat_gateway/{first}\" = \"deleted\"")]);
    rebuilt(&c, &first);
    c.destroy_leaves_nothing();
}

/// A recorded object that is not found is retried only within the propagation window after
/// the apply that recorded it (EC2 may not show a new object yet); long after, "not found" means
/// deleted outside Terraform, and destroy moves on at once.
#[test]
fn a_destroy_long_after_the_apply_takes_not_found_at_its_word() {
    let c = cluster_with_nat();
    let sg = c.state()["control_plane_security_group_id"]
        .as_str()
        .unwrap()
        .to_string();
    let window: u64 = common::PROPAGATION_MS.parse().unwrap();
    std::thread::sleep(Duration::from_millis(window + 500));
    c.tb.query("ec2", &format!("Action=DeleteSecurityGroup&GroupId={sg}"));
    c.tb.control("DELETE", "calls", "");
    c.ws.destroy();
    let deletes =
        c.tb.calls()
            .iter()
            .filter(|call| call["operation"] == "DeleteSecurityGroup")
            .count();
    assert_eq!(
        deletes, 1,
        "{sg} is asked for once, not retried for the window"
    );
    assert_eq!(c.tb.inventory(), c.before);
}

#[test]
fn a_failed_nat_gateway_is_rebuilt() {
    let c = cluster_with_nat();
    let first = nat_of(&c.ws);
    // AWS does not bring a failed NAT gateway back.
    c.tb.control(
        "POST",
        "fail-nat-gateway",
        &format!(r#"{{"id":"{first}"}}"#),
    );
    c.drift_shows(&[&format!("\"nat_gateway/{first}\" = \"failed\"")]);
    rebuilt(&c, &first);
    c.destroy_leaves_nothing();
}

#[test]
fn an_attachment_to_a_shared_transit_gateway_waits_for_its_owner_to_accept_it() {
    let tb = testbed();
    restrict_to(&tb, "ssm");
    let shared = tb.seed().shared_transit_gateway;
    let before = tb.inventory();
    let ws = Workspace::new(TF_NEW, &tb, &ssm_config(&shared, ""));
    let says_what_to_do = |text: &str| {
        text.contains("waits for the transit gateway's owner to accept it")
            && text.contains(&format!("in the account that owns {shared}"))
            && text.contains("run terraform apply again")
    };
    // The create finishes everything else and warns: an error would taint the cluster, and the
    // next apply would replace it and need a new acceptance.
    let first = ws.apply();
    assert!(
        first
            .text()
            .contains("Warning: Transit gateway attachment awaits acceptance")
            && says_what_to_do(&first.text()),
        "{}",
        first.all()
    );
    let s = ws.state();
    assert_eq!(
        s["status"], "ACTIVE",
        "the cluster does not wait for routes"
    );
    let attachment = s["vpc_gateway_attachment_id"].as_str().unwrap().to_string();

    let drift = ws.plan_code();
    assert_eq!(drift.code, 2);
    assert!(
        drift.text().contains(&format!(
            "\"transit_gateway_attachment/{attachment}\" = \"pendingAcceptance\" -> \"ok\""
        )) && drift.text().contains("update in-place"),
        "{}",
        drift.all()
    );
    // Applied again before the owner accepts: an error now, and still no replacement.
    let again = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(again.code, 1);
    assert!(says_what_to_do(&again.text()), "{}", again.all());
    assert_eq!(ws.state()["vpc_gateway_attachment_id"], attachment.as_str());
    tb.control(
        "POST",
        "accept",
        &format!(r#"{{"attachment_id":"{attachment}"}}"#),
    );
    ws.apply();
    assert_eq!(ws.state()["vpc_gateway_attachment_id"], attachment.as_str());
    for table in route_tables_of(&tb, s["vpc_id"].as_str().unwrap()) {
        if table.routes.contains_key("0.0.0.0/0") {
            assert_eq!(
                table.routes.get("10.80.146.0/24").map(String::as_str),
                Some(shared.as_str()),
                "{}",
                table.id
            );
        }
    }
    assert_eq!(ws.plan_code().code, 0);
    destroy_leaves_nothing(&tb, &ws, &before);
}

#[test]
fn default_zones_are_ones_eks_accepts_and_refused_ones_say_which_to_use() {
    let tb = testbed();
    restrict_to(&tb, "ssm");
    let region = "us-east-1";
    let before = tb.inventory_in(region);
    let provider = format!("provider \"eks\" {{\n  region = \"{region}\"\n}}\n");
    let config = |zones: &str| {
        format!(
            r#"
resource "eks_hybrid_cluster" "this" {{
  name = "zones"
  role_permissions_boundary = "arn:aws:iam::123456789012:policy/terraform-provider-eks/EKSHybridRoleBoundary"
  vpc {{
    nat_gateway = "Disable"
    {zones}
  }}
  remote_network_config {{
    remote_node_networks {{ cidrs = ["10.80.146.0/24"] }}
  }}
}}
"#
        )
    };
    let ws = Workspace::new(TF_NEW, &tb, "");
    ws.write_with_provider(&provider, &config(""));
    ws.apply();
    let zones = ws.state()["vpc"][0]["availability_zones"].clone();
    assert_eq!(
        zones,
        serde_json::json!(["us-east-1b", "us-east-1c"]),
        "us-east-1a is use1-az3 in this account, which EKS refuses"
    );
    ws.destroy();

    ws.write_with_provider(
        &provider,
        &config(r#"availability_zones = ["us-east-1a", "us-east-1b"]"#),
    );
    let refused = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(refused.code, 1);
    let text = refused.text();
    assert!(
        text.contains("UnsupportedAvailabilityZoneException")
            && text.contains("us-east-1a, the targeted availability zone")
            && text.contains("EKS accepts these zones: us-east-1b")
            && text.contains("Set vpc.availability_zones"),
        "{}",
        refused.all()
    );
    ws.destroy();
    assert_eq!(tb.inventory_in(region), before);
    assert!(tb.denied_calls().is_empty(), "{:?}", tb.denied_calls());
}

/// In GovCloud every ARN names `aws-us-gov`: the roles, the policies attached to them, the
/// cluster and the access entry. The published policy, which scopes IAM by ARN, works there as
/// it does in `aws`, and the first transit gateway attachment makes its service-linked role.
#[test]
fn a_govcloud_cluster_names_its_partition_everywhere_under_the_published_policy() {
    let tb = testbed();
    restrict_to(&tb, "ssm");
    let region = "us-gov-west-1";
    let before = tb.inventory_in(region);
    let tgw = tb.seed_in(region).transit_gateway;
    let ws = Workspace::new(TF_NEW, &tb, "");
    let provider = format!("provider \"eks\" {{\n  region = \"{region}\"\n}}\n");
    common::make_boundary_policy(&tb, region);
    let config = ssm_config(&tgw, "").replace("arn:aws:iam::", "arn:aws-us-gov:iam::");
    ws.write_with_provider(&provider, &config);
    ws.apply();
    let state = ws.state();
    for key in [
        "arn",
        "cluster_role_arn",
        "remote_nodes_role_arn",
        "access_entry_arn",
    ] {
        let arn = state[key].as_str().unwrap_or_default();
        assert!(arn.starts_with("arn:aws-us-gov:"), "{key} = {arn:?}");
    }
    let attached = tb.query_in(
        region,
        "iam",
        "Action=ListAttachedRolePolicies&RoleName=hybrid-demo-eks-hybrid-nodes-role",
    );
    let policies = common::xml_values(&attached, "PolicyArn");
    assert!(
        !policies.is_empty()
            && policies
                .iter()
                .all(|p| p.starts_with("arn:aws-us-gov:iam::aws:policy/")),
        "{policies:?}"
    );
    let plan = ws.plan_code();
    assert_eq!(plan.code, 0, "{}", plan.all());
    ws.destroy();
    assert_eq!(tb.inventory_in(region), before);
    assert!(tb.denied_calls().is_empty(), "{:?}", tb.denied_calls());
    for name in ["ssm", "ira"] {
        let policy = common::published_policy(name).to_string();
        assert!(!policy.contains("arn:aws:"), "{name} names one partition");
    }
}

#[test]
fn a_role_that_does_not_exist_is_named_at_plan_even_when_only_apply_knows_it() {
    let tb = testbed();
    restrict_to(&tb, "ssm");
    let before = tb.inventory();
    let config = |role: &str| {
        format!(
            r#"
resource "terraform_data" "role" {{
  input = "arn:aws:iam::123456789012:role/not-there"
}}
resource "eks_hybrid_cluster" "this" {{
  name             = "typo"
  role_permissions_boundary = "arn:aws:iam::123456789012:policy/terraform-provider-eks/EKSHybridRoleBoundary"
  cluster_role_arn = {role}
  vpc {{ nat_gateway = "Disable" }}
  remote_network_config {{
    remote_node_networks {{ cidrs = ["10.80.146.0/24"] }}
  }}
  timeouts {{ create = "3m" }}
}}
"#
        )
    };
    // Known at plan: plan names it, having only read.
    let ws = Workspace::new(
        TF_NEW,
        &tb,
        &config("\"arn:aws:iam::123456789012:role/not-there\""),
    );
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(
        plan.text()
            .contains("IAM role arn:aws:iam::123456789012:role/not-there does not exist"),
        "{}",
        plan.all()
    );
    // Known only at apply (another resource's output): Terraform plans the resource again
    // with the value known before applying it, and that plan names it, before any write.
    ws.write(&config("terraform_data.role.output"));
    tb.control("DELETE", "calls", "");
    let started = Instant::now();
    let r = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let took = started.elapsed();
    assert_eq!(r.code, 1);
    assert!(
        r.text()
            .contains("IAM role arn:aws:iam::123456789012:role/not-there does not exist"),
        "{}",
        r.all()
    );
    let writes = common::writes(&tb);
    assert!(writes.is_empty(), "no AWS write: {writes:?}");
    assert!(
        took < Duration::from_secs(30),
        "failed at once, not after the propagation window ({}) or the 3m create timeout: {took:?}",
        common::PROPAGATION_MS
    );
    // Terraform's destroy plans the configuration first, and that plan names the role again:
    // with nothing of the cluster to destroy, -refresh=false skips it (README, "On real AWS").
    let destroy = ws.run(&[
        "destroy",
        "-auto-approve",
        "-refresh=false",
        "-input=false",
        "-no-color",
    ]);
    assert_eq!(destroy.code, 0, "{}", destroy.all());
    assert_eq!(tb.inventory(), before);
}

/// A pre-existing VPC with a real subnet and a mistyped one: plan names the mistyped one when
/// it is known; when only apply knows it, apply names it within the propagation window.
#[test]
fn a_mistyped_subnet_of_a_pre_existing_vpc_is_named_at_plan_or_within_the_window() {
    let tb = testbed();
    restrict_to(&tb, "ssm");
    let vpc = common::xml_values(
        &tb.query("ec2", "Action=CreateVpc&CidrBlock=10.0.0.0/16"),
        "vpcId",
    )[0]
    .clone();
    let subnet = common::xml_values(
        &tb.query(
            "ec2",
            &format!(
                "Action=CreateSubnet&VpcId={vpc}&CidrBlock=10.0.1.0/24&AvailabilityZone=us-west-2a"
            ),
        ),
        "subnetId",
    )[0]
    .clone();
    let before = tb.inventory();
    let typo = "subnet-0123456789abcdef0";
    let config = |subnets: &str| {
        format!(
            r#"
resource "terraform_data" "subnets" {{
  input = ["{typo}", "{subnet}"]
}}
resource "eks_hybrid_cluster" "this" {{
  name = "typo"
  role_permissions_boundary = "arn:aws:iam::123456789012:policy/terraform-provider-eks/EKSHybridRoleBoundary"
  vpc {{
    id         = "{vpc}"
    subnet_ids = {subnets}
  }}
  remote_network_config {{
    remote_node_networks {{ cidrs = ["192.168.80.0/24"] }}
  }}
}}
"#
        )
    };
    let ws = Workspace::new(TF_NEW, &tb, &config(&format!(r#"["{subnet}"]"#)));
    // A subnet made moments ago (as an aws_subnet earlier in the same apply would be) is
    // waited for, not reported missing.
    tb.set(&[("ec2_consistency_ms", 3000)]);
    // The subnet is the user's, made by whoever may make subnets in their VPC: not under the
    // provider's policy.
    tb.control("DELETE", "policy", "");
    let fresh = common::xml_values(
        &tb.call(
            "ec2",
            &format!(
                "Action=CreateSubnet&VpcId={vpc}&CidrBlock=10.0.2.0/24&AvailabilityZone=us-west-2b"
            ),
        ),
        "subnetId",
    )[0]
    .clone();
    restrict_to(&tb, "ssm");
    ws.write(&config(&format!(r#"["{fresh}", "{subnet}"]"#)));
    let plan = ws.plan_code();
    assert_eq!(plan.code, 2, "{}", plan.all());
    tb.query("ec2", &format!("Action=DeleteSubnet&SubnetId={fresh}"));
    tb.set(&[("ec2_consistency_ms", 300)]);

    ws.write(&config(&format!(r#"["{typo}", "{subnet}"]"#)));
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_eq!(plan.code, 1);
    assert!(
        plan.text()
            .contains(&format!("Subnet {typo} does not exist"))
            || plan.text().contains(&format!("'{typo}' does not exist")),
        "{}",
        plan.all()
    );

    ws.write(&config("terraform_data.subnets.output"));
    let started = Instant::now();
    let r = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(r.code, 1);
    assert!(
        r.text()
            .contains(&format!("The subnet ID '{typo}' does not exist")),
        "{}",
        r.all()
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    // Nothing of the cluster's was made. Destroy's refresh plans the configuration in full
    // (hashicorp/terraform#32208), so the plan-time check would stop it as it stops plan;
    // -refresh=false is the way out the README gives.
    assert!(ws
        .state_resources()
        .iter()
        .all(|r| r != "eks_hybrid_cluster.this"));
    ws.ok(&[
        "destroy",
        "-refresh=false",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]);
    assert_eq!(tb.inventory(), before);
    assert!(tb.denied_calls().is_empty(), "{:?}", tb.denied_calls());
}

/// A `dynamic` block whose `for_each` is known only at apply arrives wholly unknown at plan:
/// what depends on it (the service CIDR EKS picks for the VPC) must plan as unknown.
#[test]
fn a_dynamic_vpc_block_unknown_at_plan_plans_what_depends_on_it_as_unknown() {
    let tb = testbed();
    restrict_to(&tb, "ssm");
    let before = tb.inventory();
    let ws = Workspace::new(
        TF_NEW,
        &tb,
        r#"
resource "terraform_data" "vpc" {
  input = ["10.20.0.0/16"]
}
resource "eks_hybrid_cluster" "this" {
  name = "dynamic"
  role_permissions_boundary = "arn:aws:iam::123456789012:policy/terraform-provider-eks/EKSHybridRoleBoundary"
  dynamic "vpc" {
    for_each = terraform_data.vpc.output
    content {
      cidr        = vpc.value
      nat_gateway = "Disable"
    }
  }
  remote_network_config {
    remote_node_networks { cidrs = ["192.168.50.0/24"] }
  }
}
"#,
    );
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.text()
            .contains("service_ipv4_cidr = (known after apply)"),
        "{}",
        plan.all()
    );
    ws.apply();
    assert_eq!(ws.state()["service_ipv4_cidr"], "172.20.0.0/16");
    assert_eq!(ws.plan_code().code, 0);
    destroy_leaves_nothing(&tb, &ws, &before);
}

/// Import and destroy's discovery read every page: with one item per page, the trust anchor
/// and profile this provider made are found among others.
#[test]
fn import_finds_roles_anywhere_objects_on_later_pages() {
    let tb = testbed();
    restrict_to(&tb, "ira");
    let pem = common::ca_pem();
    for i in 0..3 {
        let anchor = serde_json::json!({"name": format!("decoy-{i}"), "source": {"sourceType": "CERTIFICATE_BUNDLE", "sourceData": {"x509CertificateData": pem}}});
        let (code, body) = tb.rest(
            "rolesanywhere",
            "POST",
            "/trustanchors",
            &anchor.to_string(),
        );
        assert_eq!(code, 201, "{body}");
        let profile = serde_json::json!({"name": format!("decoy-{i}"), "roleArns": []});
        let (code, body) = tb.rest("rolesanywhere", "POST", "/profiles", &profile.to_string());
        assert_eq!(code, 201, "{body}");
    }
    let before = tb.inventory();
    let config = format!(
        r#"
resource "eks_hybrid_cluster" "this" {{
  name = "paged"
  role_permissions_boundary = "arn:aws:iam::123456789012:policy/terraform-provider-eks/EKSHybridRoleBoundary"
  vpc {{ nat_gateway = "Disable" }}
  remote_network_config {{
    remote_node_networks {{ cidrs = ["10.80.146.0/24"] }}
    iam {{
      provider       = "IRA"
      ca_bundle_cert = <<-PEM
{pem}PEM
    }}
  }}
}}
"#
    );
    let ws = Workspace::new(TF_NEW, &tb, &config);
    ws.apply();
    let anchor = ws.state()["remote_nodes_trust_anchor_arn"].clone();
    ws.ok(&["state", "rm", "eks_hybrid_cluster.this"]);
    tb.set(&[("page_size", 1)]);
    ws.ok(&[
        "import",
        "-input=false",
        "-no-color",
        "eks_hybrid_cluster.this",
        "paged",
    ]);
    assert_eq!(ws.state()["remote_nodes_trust_anchor_arn"], anchor);
    let plan = ws.plan_code();
    assert_eq!(plan.code, 0, "{}", plan.all());
    destroy_leaves_nothing(&tb, &ws, &before);
}
