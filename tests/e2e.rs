//! End-to-end: real Terraform CLIs drive the provider against the local testbed.

mod common;

use common::{ssm_config, Testbed, Workspace, TF_NEW, TF_OLD};

#[test]
fn schema_and_validate_on_both_terraform_versions() {
    let tb = common::testbed();
    for tf in [TF_NEW, TF_OLD] {
        let ws = Workspace::new(tf, &tb, &ssm_config("tgw-0123456789abcdef0", ""));
        let v = ws.ok(&["validate", "-no-color"]);
        assert!(
            v.stdout.contains("The configuration is valid"),
            "{tf}: {}",
            v.all()
        );
        let schema = ws.ok(&["providers", "schema", "-json"]);
        let s: serde_json::Value = serde_json::from_str(&schema.stdout).unwrap();
        let provider = &s["provider_schemas"]["registry.terraform.io/local/eks"];
        let attrs = &provider["resource_schemas"]["eks_hybrid_cluster"]["block"]["attributes"];
        assert_eq!(attrs["name"]["required"], true, "{tf}");
        for computed in [
            "remote_nodes_role_arn",
            "remote_nodes_trust_anchor_arn",
            "remote_nodes_anywhere_profile_arn",
            "access_entry_arn",
            "owned_objects",
        ] {
            assert_eq!(attrs[computed]["computed"], true, "{tf}: {computed}");
        }
        let blocks = &provider["resource_schemas"]["eks_hybrid_cluster"]["block"]["block_types"];
        assert_eq!(blocks["remote_network_config"]["min_items"], 1, "{tf}");
        assert_eq!(blocks["remote_network_config"]["max_items"], 1, "{tf}");
        assert!(
            provider["provider"]["block"]["attributes"]["region"].is_object(),
            "{tf}"
        );
    }
    assert!(
        tb.calls().is_empty(),
        "validate and schema must make no AWS call: {:?}",
        tb.calls()
    );
}

#[test]
fn ssm_with_transit_gateway_full_lifecycle_with_drift_repair() {
    let tb = common::testbed();
    common::restrict_to(&tb, "ssm");
    let tgw = tb.seed().transit_gateway;
    let before = tb.inventory();
    let ws = Workspace::new(TF_NEW, &tb, &ssm_config(&tgw, ""));
    ws.apply();
    let s = ws.state();
    assert_eq!(s["status"], "ACTIVE");
    let role = s["remote_nodes_role_arn"].as_str().unwrap();
    assert!(
        role.starts_with("arn:aws:iam::123456789012:role/"),
        "{role}"
    );
    assert!(s["remote_nodes_trust_anchor_arn"].is_null());
    let node_config = s["node_config"].as_str().unwrap();
    assert!(
        node_config.contains("activationId: <SSM_ACTIVATION_ID>")
            && node_config.contains("name: hybrid-demo"),
        "{node_config}"
    );
    assert!(s["vpc_gateway_attachment_id"]
        .as_str()
        .unwrap()
        .starts_with("tgw-attach-"));
    // The access entry exists in EKS, typed HYBRID_LINUX, for exactly that role.
    let (code, body) = tb.rest(
        "eks",
        "GET",
        &format!(
            "/clusters/hybrid-demo/access-entries/{}",
            role.replace('/', "%2F")
        ),
        "",
    );
    assert_eq!(code, 200, "{body}");
    let entry: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(entry["accessEntry"]["type"], "HYBRID_LINUX");
    assert_eq!(entry["accessEntry"]["kubernetesGroups"][0], "system:nodes");
    // Every route table of every subnet the cluster uses (EKS may put the control plane's
    // interfaces in any of them) routes both remote CIDRs to the transit gateway.
    let cluster_subnets: Vec<String> = ["public_subnet_ids", "private_subnet_ids"]
        .iter()
        .flat_map(|k| s[*k].as_array().unwrap().iter())
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(cluster_subnets.len(), 4);
    let tables = common::route_tables_of(&tb, s["vpc_id"].as_str().unwrap());
    let mut checked = 0;
    for subnet in &cluster_subnets {
        let table = tables
            .iter()
            .find(|t| t.subnets.contains(subnet))
            .unwrap_or_else(|| panic!("{subnet} has no route table"));
        for cidr in ["10.80.146.0/24", "10.86.30.0/23"] {
            assert_eq!(
                table.routes.get(cidr).map(String::as_str),
                Some(tgw.as_str()),
                "route table {} of {subnet}: {cidr}",
                table.id
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 4);
    assert_eq!(ws.plan_code().code, 0, "a fresh apply must plan no changes");

    // Drift: the access entry and a route are deleted behind Terraform's back.
    let (code, _) = tb.rest(
        "eks",
        "DELETE",
        &format!(
            "/clusters/hybrid-demo/access-entries/{}",
            role.replace('/', "%2F")
        ),
        "",
    );
    assert_eq!(code, 200);
    let rtb = s["owned_objects"]
        .as_object()
        .unwrap()
        .keys()
        .find(|k| k.starts_with("route/"))
        .unwrap()
        .split('/')
        .nth(1)
        .unwrap()
        .to_string();
    tb.query(
        "ec2",
        &format!("Action=DeleteRoute&RouteTableId={rtb}&DestinationCidrBlock=10.80.146.0/24"),
    );
    let drift = ws.plan_code();
    assert_eq!(drift.code, 2, "{}", drift.all());
    assert!(
        drift.stdout.contains("access_entry/hybrid-demo")
            && drift.stdout.contains(r#""missing" -> "ok""#),
        "{}",
        drift.stdout
    );
    assert!(
        drift
            .stdout
            .contains(&format!("route/{rtb}/10.80.146.0/24")),
        "{}",
        drift.stdout
    );
    assert!(
        drift.stdout.contains("update in-place"),
        "repair must not replace the cluster: {}",
        drift.stdout
    );
    ws.apply();
    assert_eq!(ws.plan_code().code, 0, "apply must repair the drift");

    // Tags change in place.
    ws.write(&ssm_config(&tgw, "").replace("team = \"platform\"", "team = \"edge\""));
    let plan = ws.plan_code();
    assert_eq!(plan.code, 2);
    assert!(
        plan.stdout.contains("1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply();
    let (_, tags) = tb.rest(
        "eks",
        "GET",
        &format!(
            "/tags/{}",
            s["arn"]
                .as_str()
                .unwrap()
                .replace('/', "%2F")
                .replace(':', "%3A")
        ),
        "",
    );
    assert!(tags.contains("\"team\":\"edge\""), "{tags}");
    assert_eq!(ws.plan_code().code, 0);

    ws.destroy();
    assert_eq!(tb.inventory(), before, "destroy must leave nothing behind");
    assert!(tb.denied_calls().is_empty(), "{:?}", tb.denied_calls());
}

#[test]
fn ira_with_ca_bundle_on_terraform_1_0() {
    let tb = common::testbed();
    common::restrict_to(&tb, "ira");
    let before = tb.inventory();
    let config = format!(
        r#"
resource "eks_hybrid_cluster" "this" {{
  name = "hybrid-ira"
  vpc {{ cidr = "10.20.0.0/16" }}
  remote_network_config {{
    remote_node_networks {{ cidrs = ["192.168.100.0/24"] }}
    iam {{
      provider       = "ira"
      ca_bundle_cert = <<-PEM
{}PEM
    }}
  }}
}}
"#,
        common::ca_pem()
    );
    let ws = Workspace::new(TF_OLD, &tb, &config);
    ws.apply();
    let s = ws.state();
    let anchor = s["remote_nodes_trust_anchor_arn"].as_str().unwrap();
    let profile = s["remote_nodes_anywhere_profile_arn"].as_str().unwrap();
    assert!(
        anchor.starts_with("arn:aws:rolesanywhere:us-west-2:123456789012:trust-anchor/"),
        "{anchor}"
    );
    assert!(
        profile.starts_with("arn:aws:rolesanywhere:us-west-2:123456789012:profile/"),
        "{profile}"
    );
    assert_eq!(
        s["service_ipv4_cidr"], "172.20.0.0/16",
        "EKS's default for a 10/8 VPC"
    );
    let node_config = s["node_config"].as_str().unwrap();
    assert!(
        node_config.contains(&format!("trustAnchorArn: {anchor}"))
            && node_config.contains(&format!("profileArn: {profile}")),
        "{node_config}"
    );
    assert!(
        node_config.contains("name: hybrid-ira") && node_config.contains("region: us-west-2"),
        "{node_config}"
    );
    let (_, p) = tb.rest(
        "rolesanywhere",
        "GET",
        &format!("/profile/{}", profile.rsplit('/').next().unwrap()),
        "",
    );
    let p: serde_json::Value = serde_json::from_str(&p).unwrap();
    assert_eq!(p["profile"]["acceptRoleSessionName"], true);
    assert_eq!(p["profile"]["roleArns"][0], s["remote_nodes_role_arn"]);
    // As AWS's IRA template: certificates from our trust anchor only, and each node only under
    // the session name of its own certificate's CN; ECR pull, not SSM's managed-instance policy.
    let role = tb.query(
        "iam",
        "Action=GetRole&RoleName=hybrid-ira-eks-hybrid-nodes-role",
    );
    let trust: serde_json::Value = serde_json::from_str(&common::percent_decode(
        &common::xml_values(&role, "AssumeRolePolicyDocument")[0],
    ))
    .unwrap();
    let statements = trust["Statement"].as_array().unwrap();
    assert!(
        statements
            .iter()
            .all(|st| st["Condition"]["ArnEquals"]["aws:SourceArn"] == anchor),
        "{trust}"
    );
    let assume = statements
        .iter()
        .find(|st| st["Action"] == "sts:AssumeRole")
        .expect("an AssumeRole statement");
    assert_eq!(
        assume["Condition"]["StringEquals"]["sts:RoleSessionName"],
        "${aws:PrincipalTag/x509Subject/CN}"
    );
    let managed = common::xml_values(
        &tb.query(
            "iam",
            "Action=ListAttachedRolePolicies&RoleName=hybrid-ira-eks-hybrid-nodes-role",
        ),
        "PolicyName",
    );
    assert_eq!(managed, ["AmazonEC2ContainerRegistryPullOnly"]);
    assert_eq!(ws.plan_code().code, 0);

    // Drift: the trust anchor is disabled outside Terraform.
    tb.rest(
        "rolesanywhere",
        "POST",
        &format!(
            "/trustanchor/{}/disable",
            anchor.rsplit('/').next().unwrap()
        ),
        "",
    );
    let drift = ws.plan_code();
    assert_eq!(drift.code, 2);
    assert!(
        drift.stdout.contains(r#""disabled" -> "ok""#),
        "{}",
        drift.stdout
    );
    ws.apply();
    assert_eq!(ws.plan_code().code, 0);

    // Drift: the profile is deleted; it comes back with a new ARN.
    tb.rest(
        "rolesanywhere",
        "DELETE",
        &format!("/profile/{}", profile.rsplit('/').next().unwrap()),
        "",
    );
    let drift = ws.plan_code();
    assert_eq!(drift.code, 2);
    assert!(
        drift.stdout.contains("remote_nodes_anywhere_profile_arn")
            && drift.stdout.contains("(known after apply)"),
        "{}",
        drift.stdout
    );
    ws.apply();
    assert_eq!(ws.plan_code().code, 0);
    let profile = ws.state()["remote_nodes_anywhere_profile_arn"]
        .as_str()
        .unwrap()
        .to_string();
    let profile = profile.as_str();

    // Tags reach every object the resource created: EC2, IAM, Roles Anywhere, EKS.
    ws.write(&config.replace(
        "name = \"hybrid-ira\"",
        "name = \"hybrid-ira\"\n  tags = { cost-center = \"42\" }",
    ));
    ws.apply();
    let vpc = tb.query(
        "ec2",
        &format!(
            "Action=DescribeVpcs&VpcId.1={}",
            s["vpc_id"].as_str().unwrap()
        ),
    );
    assert!(vpc.contains("<key>cost-center</key>"), "{vpc}");
    let subnets = tb.query(
        "ec2",
        &format!(
            "Action=DescribeSubnets&Filter.1.Name=vpc-id&Filter.1.Value.1={}",
            s["vpc_id"].as_str().unwrap()
        ),
    );
    assert_eq!(
        subnets.matches("<key>cost-center</key>").count(),
        4,
        "{subnets}"
    );
    let role_tags = tb.query(
        "iam",
        "Action=ListRoleTags&RoleName=hybrid-ira-eks-hybrid-nodes-role",
    );
    assert!(role_tags.contains("cost-center"), "{role_tags}");
    let encoded = profile.replace(':', "%3A").replace('/', "%2F");
    let (_, ra_tags) = tb.rest(
        "rolesanywhere",
        "GET",
        &format!("/ListTagsForResource?resourceArn={encoded}"),
        "",
    );
    assert!(ra_tags.contains("cost-center"), "{ra_tags}");
    assert_eq!(ws.plan_code().code, 0);

    // The whole cluster is deleted outside Terraform: the plan says so, apply recreates it
    // inside the existing network and identity, and nothing is replaced.
    let (code, _) = tb.rest("eks", "DELETE", "/clusters/hybrid-ira", "");
    assert_eq!(code, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while tb.control("GET", "objects", "")["clusters"]
        .as_array()
        .is_some_and(|c| !c.is_empty())
    {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let drift = ws.plan_code();
    assert_eq!(drift.code, 2, "{}", drift.all());
    assert!(
        drift.stdout.contains(r#""cluster/hybrid-ira""#)
            && drift.stdout.contains("update in-place"),
        "{}",
        drift.stdout
    );
    ws.apply();
    assert_eq!(ws.state()["status"], "ACTIVE");
    assert_eq!(ws.state()["vpc_id"], s["vpc_id"], "the network was kept");
    assert_eq!(ws.plan_code().code, 0);

    ws.destroy();
    assert_eq!(tb.inventory(), before, "destroy must leave nothing behind");
    assert!(tb.denied_calls().is_empty(), "{:?}", tb.denied_calls());
}

#[test]
fn bad_inputs_fail_at_validate_and_plan_with_no_aws_call() {
    let tb = common::testbed();
    let cases = [
        (
            r#"remote_node_networks { cidrs = ["8.8.8.0/24"] }"#,
            "not within RFC 1918",
        ),
        (
            r#"remote_node_networks { cidrs = ["10.80.146.1/24"] }"#,
            "did you mean 10.80.146.0/24",
        ),
        (
            r#"remote_node_networks { cidrs = ["192.168.1.0/24"] }"#,
            "overlaps with VPC CIDR 192.168.0.0/16",
        ),
        (
            r#"remote_node_networks { cidrs = ["10.100.1.0/24"] }"#,
            "overlaps the Kubernetes service CIDR",
        ),
        (
            r#"remote_node_networks { cidrs = ["10.1.0.0/24"] }
    remote_node_networks { cidrs = ["10.2.0.0/24"] }"#,
            "only one remoteNodeNetwork is allowed",
        ),
        (
            r#"remote_node_networks { cidrs = ["10.1.0.0/16"] }
    remote_pod_networks { cidrs = ["10.1.4.0/24"] }"#,
            "overlaps remote node CIDR 10.1.0.0/16",
        ),
        (
            r#"vpc_gateway_id = "igw-0123456789abcdef0"
    remote_node_networks { cidrs = ["10.1.0.0/24"] }"#,
            "only transit gateway (tgw-*) or virtual private gateway (vgw-*) IDs are supported",
        ),
        (
            r#"remote_node_networks { cidrs = ["10.1.0.0/24"] }
    iam { provider = "ira" }"#,
            "caBundleCert is required when using IAMRolesAnywhere",
        ),
        (
            r#"remote_node_networks { cidrs = ["10.1.0.0/24"] }
    iam { provider = "kerberos" }"#,
            "only \"ssm\" and \"ira\" are supported",
        ),
        (
            r#"remote_node_networks { cidrs = ["10.1.0.0/24"] }
    iam {
      provider = "ira"
      ca_bundle_cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    }"#,
            "not valid X.509",
        ),
        (
            r#"remote_node_networks { cidrs = ["10.1.0.0/24"] }
    iam { role_arn = "arn:aws:iam::123:user/bob" }"#,
            "is not an IAM role ARN",
        ),
    ];
    let first = format!("resource \"eks_hybrid_cluster\" \"bad\" {{\n  name = \"bad\"\n  remote_network_config {{\n    {}\n  }}\n}}\n", cases[0].0);
    let ws = Workspace::new(TF_NEW, &tb, &first);
    for (rnc, expected) in cases {
        ws.write(&format!("resource \"eks_hybrid_cluster\" \"bad\" {{\n  name = \"bad\"\n  remote_network_config {{\n    {rnc}\n  }}\n}}\n"));
        for cmd in [
            &["validate", "-no-color"][..],
            &["plan", "-input=false", "-no-color"][..],
        ] {
            let r = ws.run(cmd);
            assert_eq!(r.code, 1, "{cmd:?} should fail for {rnc}");
            let text = r.text();
            assert!(
                text.contains(expected),
                "{cmd:?} for {rnc}: expected {expected:?} in\n{}",
                r.all()
            );
            assert!(
                r.all().contains("on main.tf line"),
                "error must point at the configuration: {}",
                r.all()
            );
        }
    }
    ws.write("resource \"eks_hybrid_cluster\" \"bad\" {\n  name = \"-bad name\"\n  authentication_mode = \"CONFIG_MAP\"\n  remote_network_config {\n    remote_node_networks { cidrs = [\"10.1.0.0/24\"] }\n  }\n}\n");
    let r = ws.run(&["validate", "-no-color"]);
    assert!(
        r.all().contains("not a valid EKS cluster name")
            && r.all().contains("requires authenticationMode"),
        "{}",
        r.all()
    );
    assert!(
        tb.calls().is_empty(),
        "bad input must make no AWS call, saw {:?}",
        tb.calls()
    );
}

#[test]
fn import_round_trip_by_command_and_by_import_block() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let before = tb.inventory();
    let config = ssm_config(&tgw, "");
    let origin = Workspace::new(TF_NEW, &tb, &config);
    origin.apply();
    let created = origin.state();

    let by_command = Workspace::new(TF_NEW, &tb, &config);
    by_command.ok(&[
        "import",
        "-input=false",
        "-no-color",
        "eks_hybrid_cluster.this",
        "hybrid-demo",
    ]);
    let plan = by_command.plan_code();
    assert_eq!(
        plan.code, 0,
        "plan after import must show no changes:\n{}",
        plan.stdout
    );
    let imported = by_command.state();
    for attr in [
        "vpc_id",
        "private_subnet_ids",
        "public_subnet_ids",
        "remote_nodes_role_arn",
        "access_entry_arn",
        "vpc_gateway_attachment_id",
        "control_plane_security_group_id",
        "owned_objects",
    ] {
        assert_eq!(imported[attr], created[attr], "{attr} differs after import");
    }

    let by_block = Workspace::new(
        TF_NEW,
        &tb,
        &format!(
            "{config}\nimport {{\n  to = eks_hybrid_cluster.this\n  id = \"hybrid-demo\"\n}}\n"
        ),
    );
    let plan = by_block.plan_code();
    assert!(
        plan.stdout
            .contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    by_block.apply();

    let missing = Workspace::new(TF_NEW, &tb, &config.replace("hybrid-demo", "nope"));
    let r = missing.run(&[
        "import",
        "-input=false",
        "-no-color",
        "eks_hybrid_cluster.this",
        "nope",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.all().contains("No EKS cluster named \"nope\""),
        "{}",
        r.all()
    );

    // Destroy from the imported state: the inventory found by import must be complete.
    by_command.destroy();
    assert_eq!(
        tb.inventory(),
        before,
        "destroy after import must leave nothing behind"
    );
}

#[test]
fn vgw_with_own_role_and_in_place_upgrades() {
    let tb = common::testbed();
    let vgw = tb.seed().vpn_gateway;
    let trust = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
    tb.query(
        "iam",
        &format!("Action=CreateRole&RoleName=my-hybrid-nodes&AssumeRolePolicyDocument={trust}"),
    );
    let own_role = "arn:aws:iam::123456789012:role/my-hybrid-nodes";
    let before = tb.inventory();
    let config = |version: &str, private: bool| {
        format!(
            r#"
resource "eks_hybrid_cluster" "this" {{
  name                    = "hybrid-vgw"
  kubernetes_version      = "{version}"
  endpoint_public_access  = {public}
  endpoint_private_access = {private}
  authentication_mode     = "API"
  vpc {{
    cidr        = "172.31.0.0/16"
    nat_gateway = "Disable"
  }}
  remote_network_config {{
    vpc_gateway_id = "{vgw}"
    remote_node_networks {{ cidrs = ["10.80.146.0/24"] }}
    iam {{ role_arn = "{own_role}" }}
  }}
}}
"#,
            public = !private
        )
    };
    let ws = Workspace::new(TF_OLD, &tb, &config("1.33", false));
    ws.apply();
    let s = ws.state();
    assert_eq!(s["remote_nodes_role_arn"], own_role);
    assert_eq!(
        s["vpc_gateway_attachment_id"], s["vpc_id"],
        "a VGW attachment is identified by the VPC"
    );
    let roles = tb.query("iam", "Action=ListRoles");
    assert!(
        !roles.contains("hybrid-vgw-eks-hybrid-nodes-role"),
        "no nodes role is created when role_arn is given"
    );
    let (code, body) = tb.rest(
        "eks",
        "GET",
        &format!(
            "/clusters/hybrid-vgw/access-entries/{}",
            own_role.replace('/', "%2F")
        ),
        "",
    );
    assert_eq!(
        code, 200,
        "the access entry exists for the user's own role: {body}"
    );
    let vgws = tb.query(
        "ec2",
        &format!("Action=DescribeVpnGateways&VpnGatewayId.1={vgw}"),
    );
    assert!(vgws.contains("<state>attached</state>"), "{vgws}");
    assert!(
        tb.query("ec2", "Action=DescribeNatGateways")
            .matches("<natGatewayId>")
            .count()
            == 0,
        "nat_gateway = Disable"
    );
    assert_eq!(ws.plan_code().code, 0);

    ws.write(&config("1.34", false));
    let plan = ws.plan_code();
    assert_eq!(plan.code, 2);
    assert!(
        plan.stdout.contains("update in-place") && plan.stdout.contains(r#""1.33" -> "1.34""#),
        "{}",
        plan.stdout
    );
    ws.apply();
    assert_eq!(ws.state()["kubernetes_version"], "1.34");
    ws.write(&config("1.34", true));
    ws.apply();
    let s = ws.state();
    assert_eq!(
        (
            s["endpoint_private_access"].clone(),
            s["endpoint_public_access"].clone()
        ),
        (serde_json::json!(true), serde_json::json!(false))
    );
    assert_eq!(ws.plan_code().code, 0);

    // A version change made outside Terraform shows as an in-place update back to the config.
    let (code, body) = tb.rest(
        "eks",
        "POST",
        "/clusters/hybrid-vgw/updates",
        r#"{"version":"1.35"}"#,
    );
    assert_eq!(code, 200, "{body}");
    std::thread::sleep(std::time::Duration::from_millis(600));
    let drift = ws.plan_code();
    assert_eq!(drift.code, 2);
    assert!(
        drift.stdout.contains(r#""1.35" -> "1.34""#) && drift.stdout.contains("update in-place"),
        "{}",
        drift.stdout
    );
    ws.write(&config("1.35", true));
    assert_eq!(
        ws.plan_code().code,
        0,
        "adopting the new version in the config settles it"
    );

    ws.write(&config("1.35", true).replace("10.80.146.0/24", "10.80.147.0/24"));
    let plan = ws.plan_code();
    assert!(
        plan.stdout.contains("must be replaced") && plan.stdout.contains("forces replacement"),
        "remote networks are ForceNew: {}",
        plan.stdout
    );

    ws.destroy();
    assert_eq!(
        tb.inventory(),
        before,
        "destroy must leave nothing behind (the user's role stays)"
    );
}

#[test]
fn pre_existing_vpc_is_used_and_never_amended() {
    let tb = common::testbed();
    let vpc_xml = tb.query("ec2", "Action=CreateVpc&CidrBlock=10.0.0.0/16");
    let vpc = common::xml_values(&vpc_xml, "vpcId")[0].clone();
    let mut subnets = Vec::new();
    for (cidr, az) in [("10.0.1.0/24", "us-west-2a"), ("10.0.2.0/24", "us-west-2b")] {
        let x = tb.query(
            "ec2",
            &format!("Action=CreateSubnet&VpcId={vpc}&CidrBlock={cidr}&AvailabilityZone={az}"),
        );
        subnets.push(common::xml_values(&x, "subnetId")[0].clone());
    }
    let before = tb.inventory();
    let config = |node: &str| {
        format!(
            r#"
resource "eks_hybrid_cluster" "this" {{
  name = "hybrid-byo-vpc"
  vpc {{
    id         = "{vpc}"
    subnet_ids = ["{}", "{}"]
  }}
  remote_network_config {{
    remote_node_networks {{ cidrs = ["{node}"] }}
  }}
}}
"#,
            subnets[0], subnets[1]
        )
    };
    let ws = Workspace::new(TF_NEW, &tb, &config("10.0.128.0/24"));
    tb.control("DELETE", "calls", "");
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_eq!(plan.code, 1);
    let text = plan.text();
    assert!(
        text.contains(&format!("overlaps with CIDR 10.0.0.0/16 of VPC {vpc}")),
        "{}",
        plan.all()
    );
    let ops: Vec<String> = tb
        .calls()
        .iter()
        .map(|c| c["operation"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        ops,
        ["DescribeVpcs", "DescribeSubnets"],
        "the plan-time check reads the VPC and its subnets and creates nothing"
    );
    ws.write(&config("192.168.10.0/24"));
    ws.write(&format!("{}\nresource \"eks_hybrid_cluster\" \"gw\" {{\n  name = \"x\"\n  vpc {{\n    id = \"{vpc}\"\n    subnet_ids = [\"{}\", \"{}\"]\n  }}\n  remote_network_config {{\n    vpc_gateway_id = \"tgw-0123456789abcdef0\"\n    remote_node_networks {{ cidrs = [\"192.168.11.0/24\"] }}\n  }}\n}}\n", config("192.168.10.0/24"), subnets[0], subnets[1]));
    let r = ws.run(&["validate", "-no-color"]);
    let text = r.text();
    assert!(
        text.contains("vpcGatewayID is not supported when using pre-existing VPC"),
        "{}",
        r.all()
    );
    // EKS picks 172.20.0.0/16 for services in a 10.0.0.0/8 VPC: plan reads the VPC's CIDR
    // and checks against that, not against the 10.100.0.0/16 of other VPCs.
    ws.write(&config("172.20.5.0/24"));
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_eq!(plan.code, 1);
    assert!(
        plan.text().contains(&format!(
            "overlaps the Kubernetes service CIDR 172.20.0.0/16, which EKS chooses for VPC {vpc}"
        )),
        "{}",
        plan.all()
    );
    ws.write(&config("10.100.5.0/24"));
    ws.apply();
    let s = ws.state();
    assert_eq!(s["vpc_id"], vpc.as_str());
    assert_eq!(s["private_subnet_ids"], serde_json::json!(subnets));
    assert_eq!(s["service_ipv4_cidr"], "172.20.0.0/16");
    assert_eq!(ws.plan_code().code, 0);
    ws.destroy();
    assert_eq!(
        tb.inventory(),
        before,
        "the user's VPC and subnets stay; everything else is gone"
    );
}

#[test]
fn ctrl_c_during_apply_stops_cleanly_and_destroy_removes_what_exists() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let before = tb.inventory();
    tb.control("POST", "timing", r#"{"eks_create_ms": 600000}"#);
    let ws = Workspace::new(TF_OLD, &tb, &ssm_config(&tgw, ""));
    let cluster_creating = || {
        tb.control("GET", "objects", "")["clusters"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    };
    let (run, stopped_after) = ws.run_interrupted(
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        cluster_creating,
    );
    println!(
        "apply stopped {:.2} s after Ctrl-C",
        stopped_after.as_secs_f64()
    );
    assert_ne!(run.code, 0, "an interrupted apply fails: {}", run.all());
    assert!(
        stopped_after < std::time::Duration::from_secs(20),
        "stopping took {stopped_after:?}"
    );
    assert!(
        run.all().contains("interrupted"),
        "the error says why: {}",
        run.all()
    );
    let listed = ws.ok(&["state", "list"]);
    assert!(
        listed.stdout.contains("eks_hybrid_cluster.this"),
        "what exists is saved in state: {}",
        listed.all()
    );
    tb.control("POST", "timing", r#"{"eks_create_ms": 300}"#);
    ws.destroy();
    assert_eq!(
        tb.inventory(),
        before,
        "destroy after an interrupted apply must leave nothing behind"
    );
}

#[test]
fn logs_follow_tf_log_and_never_carry_secrets() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY";
    let ws = Workspace::new(TF_NEW, &tb, &ssm_config(&tgw, ""));
    let quiet = ws.run_env(
        &["plan", "-input=false", "-no-color"],
        &[("AWS_SECRET_ACCESS_KEY", secret)],
    );
    assert_eq!(quiet.code, 0, "{}", quiet.all());
    assert!(
        !quiet.stderr.contains("provider configured"),
        "no provider debug output without TF_LOG"
    );
    let debug = ws.run_env(
        &["plan", "-input=false", "-no-color"],
        &[("AWS_SECRET_ACCESS_KEY", secret), ("TF_LOG", "DEBUG")],
    );
    let line = debug
        .stderr
        .lines()
        .find(|l| l.contains("provider configured"))
        .unwrap_or_else(|| panic!("no provider log line:\n{}", debug.stderr));
    assert!(
        line.contains("[DEBUG]") && line.contains("provider.terraform-provider-eks"),
        "hclog level and module reach Terraform: {line}"
    );
    let trace = ws.run_env(
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        &[("AWS_SECRET_ACCESS_KEY", secret), ("TF_LOG", "TRACE")],
    );
    assert_eq!(trace.code, 0);
    for text in [&quiet.all(), &debug.all(), &trace.all()] {
        assert!(
            !text.contains(secret) && !text.contains("bPxRfiCYSECRET"),
            "the secret key leaked into the output"
        );
    }
    ws.run_env(
        &["destroy", "-auto-approve", "-input=false", "-no-color"],
        &[("AWS_SECRET_ACCESS_KEY", secret)],
    );
}

#[test]
fn drift_on_every_kind_of_owned_object_is_shown_and_repaired() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let before = tb.inventory();
    let ws = Workspace::new(TF_NEW, &tb, &ssm_config(&tgw, ""));
    ws.apply();
    let s = ws.state();
    let sg = s["control_plane_security_group_id"]
        .as_str()
        .unwrap()
        .to_string();
    let attachment = s["vpc_gateway_attachment_id"].as_str().unwrap().to_string();
    let role = "hybrid-demo-eks-hybrid-nodes-role";

    tb.query("ec2", &format!("Action=RevokeSecurityGroupIngress&GroupId={sg}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443&IpPermissions.1.IpRanges.1.CidrIp=10.86.30.0/23"));
    tb.query("iam", &format!("Action=DetachRolePolicy&RoleName={role}&PolicyArn=arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"));
    tb.query(
        "iam",
        &format!("Action=DeleteRolePolicy&RoleName={role}&PolicyName=EKSHybridNodes"),
    );
    let arn = s["arn"]
        .as_str()
        .unwrap()
        .replace(':', "%3A")
        .replace('/', "%2F");
    let (code, _) = tb.rest(
        "eks",
        "POST",
        &format!("/tags/{arn}"),
        r#"{"tags":{"rogue":"1"}}"#,
    );
    assert_eq!(code, 200);

    let drift = ws.plan_code();
    assert_eq!(drift.code, 2, "{}", drift.all());
    let out = &drift.stdout;
    for expected in [
        format!("security_group_rule/{sg}/tcp443/10.86.30.0/23"),
        format!("iam_role_policy_attachment/{role}/AmazonSSMManagedInstanceCore"),
        format!("iam_role_policy/{role}/EKSHybridNodes"),
        "\"rogue\" = \"1\" -> null".to_string(),
    ] {
        assert!(out.contains(&expected), "the plan names {expected}:\n{out}");
    }
    assert!(
        out.contains(r#""detached" -> "ok""#)
            && out.contains("update in-place")
            && !out.contains("must be replaced"),
        "{out}"
    );
    ws.apply();
    let after = ws.plan_code();
    assert_eq!(
        after.code, 0,
        "apply repaired everything:\n{}",
        after.stdout
    );
    let sg_now = tb.query(
        "ec2",
        &format!("Action=DescribeSecurityGroups&GroupId.1={sg}"),
    );
    assert!(sg_now.contains("10.86.30.0/23"), "{sg_now}");
    assert!(tb
        .query(
            "iam",
            &format!("Action=ListAttachedRolePolicies&RoleName={role}")
        )
        .contains("AmazonSSMManagedInstanceCore"));
    let (_, tags) = tb.rest("eks", "GET", &format!("/tags/{arn}"), "");
    assert!(!tags.contains("rogue"), "{tags}");

    // The gateway attachment is deleted: it comes back with a new ID, which the plan says.
    tb.query(
        "ec2",
        &format!(
            "Action=DeleteTransitGatewayVpcAttachment&TransitGatewayAttachmentId={attachment}"
        ),
    );
    let drift = ws.plan_code();
    assert_eq!(drift.code, 2, "{}", drift.all());
    assert!(
        drift.stdout.contains(&format!(
            "~ vpc_gateway_attachment_id       = \"{attachment}\" -> (known after apply)"
        )),
        "{}",
        drift.stdout
    );
    ws.apply();
    assert_eq!(ws.plan_code().code, 0);
    let new_attachment = ws.state()["vpc_gateway_attachment_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_attachment, attachment);
    let atts = tb.query("ec2", &format!("Action=DescribeTransitGatewayVpcAttachments&TransitGatewayAttachmentIds.1={new_attachment}"));
    assert!(atts.contains("<state>available</state>"), "{atts}");

    ws.destroy();
    assert_eq!(tb.inventory(), before, "destroy must leave nothing behind");
}

#[test]
fn provider_configuration_unknown_at_plan_and_invalid_provider_settings() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let ws = Workspace::new(TF_NEW, &tb, &ssm_config(&tgw, ""));
    // The region comes from a resource that does not exist yet: unknown at plan time.
    let unknown = "resource \"terraform_data\" \"region\" {\n  input = \"us-west-2\"\n}\nprovider \"eks\" {\n  region = terraform_data.region.output\n}\n";
    ws.write_with_provider(unknown, &ssm_config(&tgw, ""));
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_eq!(
        plan.code,
        0,
        "an unknown provider configuration must not fail the plan:\n{}",
        plan.all()
    );
    assert!(plan.stdout.contains("2 to add"), "{}", plan.stdout);
    assert!(
        tb.calls().is_empty(),
        "nothing to call AWS with yet: {:?}",
        tb.calls()
    );
    for (provider, expected) in [
        (
            "provider \"eks\" {\n  region = \"US West\"\n}\n",
            "is not an AWS region",
        ),
        (
            "provider \"eks\" {\n  endpoints { eks = \"localhost:4566\" }\n}\n",
            "must start with https://",
        ),
        (
            "provider \"eks\" {\n  max_retries = 1000\n}\n",
            "max_retries must be between 0 and 100",
        ),
    ] {
        ws.write_with_provider(provider, &ssm_config(&tgw, ""));
        let r = ws.run(&["validate", "-no-color"]);
        let text = r.text();
        assert!(
            r.code == 1 && text.contains(expected),
            "{expected}: {}",
            r.all()
        );
    }
}

#[test]
fn examples_are_fmt_clean_and_valid() {
    let tb = common::testbed();
    let examples = common::repo().join("examples");
    let ws = Workspace::new(TF_NEW, &tb, "");
    let fmt = ws.run(&[
        "fmt",
        "-check",
        "-recursive",
        "-diff",
        examples.to_str().unwrap(),
    ]);
    assert_eq!(
        fmt.code,
        0,
        "examples are not terraform fmt clean:\n{}",
        fmt.all()
    );
    let mut checked = 0;
    for dir in [
        "ssm-transit-gateway",
        "provider",
        "ira-ca-bundle",
        "bring-your-own-role",
        "pre-existing-vpc",
        "module-for-each",
    ] {
        let copy = ws.dir.path().join("examples");
        let _ = std::fs::remove_dir_all(&copy);
        for sub in [dir, "modules/hybrid-cluster"] {
            let to = copy.join(sub);
            std::fs::create_dir_all(&to).unwrap();
            for f in std::fs::read_dir(examples.join(sub)).unwrap() {
                let f = f.unwrap();
                std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
            }
        }
        let chdir = format!("-chdir={}", copy.join(dir).display());
        let init = ws.run(&[&chdir, "init", "-input=false", "-no-color"]);
        assert_eq!(init.code, 0, "{dir}: {}", init.all());
        let v = ws.run(&[&chdir, "validate", "-no-color"]);
        assert_eq!(v.code, 0, "{dir} is not valid:\n{}", v.all());
        checked += 1;
    }
    assert_eq!(checked, 6);
    assert!(tb.calls().is_empty());
}

fn activations(tb: &Testbed) -> Vec<String> {
    tb.control("GET", "objects", "")["activations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn ssm_activation_is_created_replaced_in_place_repaired_and_removed() {
    let tb = common::testbed();
    common::restrict_to(&tb, "ssm");
    let tgw = tb.seed().transit_gateway;
    let before = tb.inventory();
    let ws = Workspace::new(
        TF_NEW,
        &tb,
        &ssm_config(&tgw, "ssm_activation { registration_limit = 5 }"),
    );
    let applied = ws.apply();
    let s = ws.state();
    let activation = &s["ssm_activation"][0];
    let (id, code) = (
        activation["activation_id"].as_str().unwrap().to_string(),
        activation["activation_code"].as_str().unwrap().to_string(),
    );
    assert_eq!(activations(&tb), vec![id.clone()]);
    assert!(code.len() >= 16, "{code}");
    assert!(
        !applied.all().contains(&code),
        "the activation code is sensitive and never printed"
    );
    assert_eq!(
        s["owned_objects"][format!("ssm_activation/{id}")],
        "ok",
        "{}",
        s["owned_objects"]
    );
    // SSM recorded what was asked for, for the nodes role.
    let (status, body) = tb.request(
        "POST",
        "/",
        &[
            ("authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-west-2/ssm/aws4_request, SignedHeaders=host, Signature=0".into()),
            ("x-amz-target", "AmazonSSM.DescribeActivations".into()),
            ("x-testbed-inspect", "1".into()),
        ],
        "{}",
    );
    assert_eq!(status, 200, "{body}");
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    let a = &listed["ActivationList"][0];
    assert_eq!(a["RegistrationLimit"], 5);
    assert_eq!(a["IamRole"], "hybrid-demo-eks-hybrid-nodes-role");
    // Tagged with the cluster's ARN, which SSM copies onto the nodes that register with it and
    // the nodes role may deregister only those (the EKS user guide's scoping).
    let cluster_arn = s["arn"].as_str().unwrap();
    assert!(
        a["Tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["Key"] == "EKSClusterARN" && t["Value"] == cluster_arn),
        "{a}"
    );
    let inline = tb.query(
        "iam",
        "Action=GetRolePolicy&RoleName=hybrid-demo-eks-hybrid-nodes-role&PolicyName=EKSHybridNodes",
    );
    let inline: serde_json::Value = serde_json::from_str(&common::percent_decode(
        &common::xml_values(&inline, "PolicyDocument")[0],
    ))
    .unwrap();
    let deregister = inline["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["Action"] == "ssm:DeregisterManagedInstance")
        .unwrap();
    assert_eq!(
        deregister["Resource"],
        "arn:aws:ssm:us-west-2:123456789012:managed-instance/*"
    );
    assert_eq!(
        deregister["Condition"]["StringEquals"]["ssm:resourceTag/EKSClusterARN"],
        cluster_arn
    );
    assert_eq!(ws.plan_code().code, 0, "no changes after apply");

    // A new limit replaces the activation, not the cluster.
    ws.write(&ssm_config(
        &tgw,
        "ssm_activation { registration_limit = 10 }",
    ));
    let plan = ws.plan_code();
    assert_eq!(plan.code, 2, "{}", plan.all());
    let text = plan.text();
    assert!(
        text.contains("will be updated in-place") && text.contains("registration_limit = 5 -> 10"),
        "{text}"
    );
    ws.apply();
    let replaced = ws.state()["ssm_activation"][0]["activation_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(replaced, id);
    assert_eq!(
        activations(&tb),
        vec![replaced.clone()],
        "the old one is deleted"
    );
    assert_eq!(ws.plan_code().code, 0);

    // Deleted outside Terraform: the plan says so, apply makes a new one.
    let (status, body) = tb.request(
        "POST",
        "/",
        &[
            ("authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-west-2/ssm/aws4_request, SignedHeaders=host, Signature=0".into()),
            ("x-amz-target", "AmazonSSM.DeleteActivation".into()),
        ],
        &format!(r#"{{"ActivationId":"{replaced}"}}"#),
    );
    assert_eq!(status, 200, "{body}");
    let plan = ws.plan_code();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.text()
            .contains(&format!("\"ssm_activation/{replaced}\" = \"missing\"")),
        "{}",
        plan.all()
    );
    ws.apply();
    assert_eq!(activations(&tb).len(), 1);
    assert_eq!(ws.plan_code().code, 0);

    // Removing the block deletes the activation and keeps the cluster.
    ws.write(&ssm_config(&tgw, ""));
    ws.apply();
    assert!(activations(&tb).is_empty());
    assert_eq!(ws.state()["status"], "ACTIVE");
    assert_eq!(ws.plan_code().code, 0);

    ws.write(&ssm_config(&tgw, "ssm_activation {}"));
    ws.apply();
    ws.destroy();
    assert_eq!(
        tb.inventory(),
        before,
        "no leaked object, activations included"
    );
    assert!(tb.denied_calls().is_empty(), "{:?}", tb.denied_calls());
}

#[test]
fn vpc_cni_addon_older_than_1_19_warns_at_plan_and_apply() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let ws = Workspace::new(TF_NEW, &tb, &ssm_config(&tgw, ""));
    let applied = ws.apply();
    assert!(!applied.all().contains("VPC CNI"), "no add-on, no warning");
    let install = |version: &str| {
        let (status, body) = tb.rest(
            "eks",
            "POST",
            "/clusters/hybrid-demo/addons",
            &format!(r#"{{"addonName":"vpc-cni","addonVersion":"{version}"}}"#),
        );
        assert_eq!(status, 200, "{body}");
    };
    install("v1.18.5-eksbuild.1");
    let plan = ws.plan_code();
    let text = plan.text();
    assert_eq!(plan.code, 0, "a warning is not a change: {text}");
    assert!(
        text.contains("Warning: VPC CNI add-on too old for hybrid nodes")
            && text.contains("runs the vpc-cni add-on v1.18.5-eksbuild.1")
            && text.contains("v1.19.0-eksbuild.1 or later"),
        "{text}"
    );
    ws.write(&ssm_config(&tgw, "").replace("platform", "platform-2"));
    let apply = ws.apply();
    assert!(
        apply.text().contains("Warning: VPC CNI add-on too old"),
        "apply warns too: {}",
        apply.all()
    );
    let (status, _) = tb.rest("eks", "DELETE", "/clusters/hybrid-demo/addons/vpc-cni", "");
    assert_eq!(status, 200);
    install("v1.19.0-eksbuild.1");
    let plan = ws.plan_code();
    assert_eq!(plan.code, 0);
    assert!(!plan.all().contains("VPC CNI"), "{}", plan.all());
    ws.destroy();
}
