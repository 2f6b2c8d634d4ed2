//! Bad input through real Terraform, for what only Terraform shows: the error's
//! `on main.tf line N` points at the attribute's line, at `validate` and at `plan`, top level,
//! nested and map key, with no AWS call. The whole corpus runs in process in `validation.rs`.

mod common;

use common::{Workspace, TF_NEW, TOFU};

/// `body` of the resource; `rnc` a remote_network_config body (a default one when empty).
fn resource(body: &str, rnc: &str) -> String {
    let rnc = if rnc.is_empty() {
        r#"remote_node_networks { cidrs = ["10.1.0.0/24"] }"#
    } else {
        rnc
    };
    format!("resource \"eks_hybrid_cluster\" \"bad\" {{\n  {body}\n  remote_network_config {{\n    {rnc}\n  }}\n}}\n")
}

/// (configuration, expected message, text of the line the error must point at)
fn cases() -> Vec<(String, &'static str, &'static str)> {
    let named = |extra: &str| format!("name = \"bad\"\n  {extra}");
    let ira = format!(
        "remote_node_networks {{ cidrs = [\"10.1.0.0/24\"] }}\n    iam {{\n      provider = \"ira\"\n      ca_bundle_cert = <<-PEM\n{}PEM\n    }}",
        common::ca_pem()
    );
    vec![
        (
            resource("name = \"-bad\"", ""),
            "not a valid EKS cluster name",
            "name = \"-bad\"",
        ),
        (
            resource(
                &named(""),
                "remote_node_networks { cidrs = [\"8.8.8.0/24\"] }",
            ),
            "is not within RFC 1918",
            "cidrs = [\"8.8.8.0/24\"]",
        ),
        (
            resource(&named("vpc { cidr = \"10.0.0.1/16\" }"), ""),
            "has host bits set; did you mean 10.0.0.0/16",
            "cidr = \"10.0.0.1/16\"",
        ),
        (
            resource(&named("tags = { team = \"a,b\" }"), &ira),
            "Roles Anywhere allows only letters, digits, spaces and _.:/=+@-",
            "tags = { team",
        ),
        (
            resource(&named("ssm_activation { registration_limit = 0 }"), ""),
            "0 is outside what SSM accepts: 1 to 1000 nodes",
            "registration_limit = 0",
        ),
        (
            resource(&named("authentication_mode = \"CONFIG_MAP\""), ""),
            "remoteNetworkConfig requires authenticationMode to be either",
            "authentication_mode",
        ),
    ]
}

fn line_of(config: &str, marker: &str) -> usize {
    config
        .lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("{marker:?} not in {config}"))
        + 1
}

/// What AWS accepts today passes real Terraform and OpenTofu too: CGNAT remote networks and a
/// CA bundle past the 8,000 characters older API pages gave, with tags Roles Anywhere allows.
/// Plan only reads (are the names free?).
#[test]
fn configurations_aws_accepts_pass_validate_and_plan_with_reads_only() {
    for tf in [TF_NEW, TOFU] {
        accepted_configuration_passes(tf);
    }
}

fn accepted_configuration_passes(tf: &str) {
    let tb = common::testbed();
    let bundle: String = (0..20).map(|_| common::ca_pem()).collect();
    assert!(bundle.len() > 8000);
    let ira = format!("remote_node_networks {{ cidrs = [\"100.64.10.0/24\"] }}\n    remote_pod_networks {{ cidrs = [\"100.65.0.0/16\"] }}\n    iam {{\n      provider = \"ira\"\n      ca_bundle_cert = <<-PEM\n{bundle}PEM\n    }}");
    let config = resource(
        "name = \"big-bundle-sg-x\"\n  tags = { team = \"a b:c/d=e+f@g-h_i.j\" }",
        &ira,
    );
    let ws = Workspace::new(tf, &tb, &config);
    let validate = ws.run(&["validate", "-no-color"]);
    assert_eq!(validate.code, 0, "{}", validate.all());
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    let mut reads: Vec<String> = tb
        .calls()
        .iter()
        .map(|c| c["operation"].as_str().unwrap().to_string())
        .collect();
    reads.sort();
    assert_eq!(
        reads,
        [
            "DescribeCluster",
            "GetRole",
            "GetRole",
            "ListProfiles",
            "ListTrustAnchors"
        ],
        "{tf}: the names are looked up, nothing else"
    );
}

#[test]
fn bad_input_points_at_its_line_at_validate_and_plan_without_aws_calls() {
    for tf in [TF_NEW, TOFU] {
        bad_input_points_at_its_line(tf);
    }
}

fn bad_input_points_at_its_line(tf: &str) {
    let tb = common::testbed();
    let cases = cases();
    let ws = Workspace::new(tf, &tb, &cases[0].0);
    for (config, expected, marker) in &cases {
        ws.write(config);
        // `write` puts the provider block first: find the line in the file as written.
        let written = std::fs::read_to_string(ws.dir.path().join("work/main.tf")).unwrap();
        let line = format!("on main.tf line {}", line_of(&written, marker));
        for cmd in [
            &["validate", "-no-color"][..],
            &["plan", "-input=false", "-no-color"][..],
        ] {
            let r = ws.run(cmd);
            assert_eq!(
                r.code,
                1,
                "{tf} {cmd:?} should fail for:\n{config}\n{}",
                r.all()
            );
            let text = r.text();
            assert!(
                text.contains(expected) && text.contains(&line),
                "{tf} {cmd:?}: expected {expected:?} {line}, got:\n{}",
                r.all()
            );
        }
    }
    ws.write(&resource(
        "name = \"-bad name\"\n  authentication_mode = \"CONFIG_MAP\"",
        "",
    ));
    let r = ws.run(&["validate", "-no-color"]);
    assert!(
        r.all().contains("not a valid EKS cluster name")
            && r.all().contains("requires authenticationMode"),
        "every error is shown: {}",
        r.all()
    );
    assert!(
        tb.calls().is_empty(),
        "bad input must make no AWS call, saw {:?}",
        tb.calls()
    );
}
