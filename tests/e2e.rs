//! End-to-end: real Terraform CLIs drive the provider against the local testbed.

mod common;

use common::{Testbed, Workspace, TF_NEW, TF_OLD};

fn ssm_config(tgw: &str, extra: &str) -> String {
    format!(
        r#"
resource "eks_hybrid_cluster" "this" {{
  name = "hybrid-demo"
  tags = {{ team = "platform" }}
  {extra}
  remote_network_config {{
    vpc_gateway_id = "{tgw}"
    remote_node_networks {{ cidrs = ["10.80.146.0/24"] }}
    remote_pod_networks  {{ cidrs = ["10.86.30.0/23"] }}
  }}
}}
"#
    )
}

#[test]
fn schema_and_validate_on_both_terraform_versions() {
    let tb = Testbed::start();
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
    let tb = Testbed::start();
    let (tgw, _) = tb.seed();
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
    // One route per private route table per remote CIDR, to the transit gateway.
    let routes = tb.query(
        "ec2",
        &format!(
            "Action=DescribeRouteTables&Filter.1.Name=vpc-id&Filter.1.Value.1={}",
            s["vpc_id"].as_str().unwrap()
        ),
    );
    assert_eq!(
        routes
            .matches(&format!("<transitGatewayId>{tgw}</transitGatewayId>"))
            .count(),
        4,
        "{routes}"
    );
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
}

#[test]
fn ira_with_ca_bundle_on_terraform_1_0() {
    let tb = Testbed::start();
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
    let (_, p) = tb.rest(
        "rolesanywhere",
        "GET",
        &format!("/profile/{}", profile.rsplit('/').next().unwrap()),
        "",
    );
    let p: serde_json::Value = serde_json::from_str(&p).unwrap();
    assert_eq!(p["profile"]["acceptRoleSessionName"], true);
    assert_eq!(p["profile"]["roleArns"][0], s["remote_nodes_role_arn"]);
    let trust = common::percent_decode(&tb.query(
        "iam",
        "Action=GetRole&RoleName=hybrid-ira-eks-hybrid-nodes-role",
    ));
    assert!(
        trust.contains("rolesanywhere.amazonaws.com")
            && trust.contains(&format!("\"aws:SourceArn\":\"{anchor}\"")),
        "{trust}"
    );
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

    ws.destroy();
    assert_eq!(tb.inventory(), before, "destroy must leave nothing behind");
}

#[test]
fn bad_inputs_fail_at_validate_and_plan_with_no_aws_call() {
    let tb = Testbed::start();
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
            let text = r.all().replace('\n', " ").replace("  ", " ");
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
