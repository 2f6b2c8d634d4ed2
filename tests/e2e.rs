//! End-to-end: real Terraform CLIs drive the provider against the local testbed, one
//! scenario per test, through the shared steps of `common::Applied`.

mod common;

use common::{ssm_call, ssm_config, Applied, Testbed, Workspace, TF_NEW, TF_OLD, TOFU};

const NODES_ROLE: &str = "hybrid-demo-eks-hybrid-nodes-role";
const IRA_NODES_ROLE: &str = "hybrid-ira-eks-hybrid-nodes-role";

/// The demo's SSM + transit gateway cluster, on a testbed held to the SSM runner policy.
fn ssm_cluster(tf: &str, extra: &str) -> (Applied, String) {
    let tb = common::testbed();
    common::restrict_to(&tb, "ssm");
    let tgw = tb.seed().transit_gateway;
    let applied = Applied::new(tf, tb, &ssm_config(&tgw, extra));
    (applied, tgw)
}

fn ira_config(extra: &str, ca: &str) -> String {
    ira_config_trusting(extra, &format!("ca_bundle_cert = <<-PEM\n{ca}PEM"))
}

/// An IRA cluster whose trust anchor takes `source`: `ca_bundle_cert` or `acm_pca_arn`.
fn ira_config_trusting(extra: &str, source: &str) -> String {
    format!(
        r#"
resource "eks_hybrid_cluster" "this" {{
  name = "hybrid-ira"
  role_permissions_boundary = "{}"
  {extra}
  vpc {{ cidr = "10.20.0.0/16" }}
  remote_network_config {{
    remote_node_networks {{ cidrs = ["192.168.100.0/24"] }}
    iam {{
      provider = "ira"
      {source}
    }}
  }}
}}
"#,
        common::BOUNDARY_ARN
    )
}

fn private_ca_config(arn: &str) -> String {
    ira_config_trusting("", &format!("acm_pca_arn = \"{arn}\""))
}

/// An IRA cluster with its trust anchor and profile, on a testbed held to the IRA policy;
/// and its CA bundle, for configurations that change something else.
fn ira_cluster(tf: &str) -> (Applied, String) {
    let tb = common::testbed();
    common::restrict_to(&tb, "ira");
    let ca = common::ca_pem();
    (Applied::new(tf, tb, &ira_config("", &ca)), ca)
}

#[test]
fn schema_and_validate_on_both_terraform_versions_and_opentofu() {
    let tb = common::testbed();
    for tf in [TF_NEW, TF_OLD, TOFU] {
        let ws = Workspace::new(tf, &tb, &ssm_config("tgw-0123456789abcdef0", ""));
        let v = ws.ok(&["validate", "-no-color"]);
        assert!(
            v.stdout.contains("The configuration is valid"),
            "{tf}: {}",
            v.all()
        );
        let schema = ws.ok(&["providers", "schema", "-json"]);
        let s: serde_json::Value = serde_json::from_str(&schema.stdout).unwrap();
        // The provider's address names the tool's own registry host.
        let host = if tf == TOFU {
            "registry.opentofu.org"
        } else {
            "registry.terraform.io"
        };
        let provider = &s["provider_schemas"][format!("{host}/local/eks")];
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
fn an_ssm_transit_gateway_cluster_gets_its_access_entry_and_routes_in_every_table() {
    let (c, tgw) = ssm_cluster(TF_NEW, "");
    let s = c.state();
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
    let (code, entry) = common::access_entry(&c.tb, "hybrid-demo", role);
    assert_eq!(code, 200, "{entry}");
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
    let tables = common::route_tables_of(&c.tb, s["vpc_id"].as_str().unwrap());
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
    }
    c.plans_no_changes("a fresh apply must plan no changes");
    c.destroy_leaves_nothing();
}

#[test]
fn a_deleted_access_entry_and_route_are_repaired_in_place() {
    deleted_access_entry_and_route_are_repaired(TF_NEW);
}

/// The SSM + transit gateway lifecycle: apply, a no-change plan, drift shown and repaired,
/// destroy with the leak check.
fn deleted_access_entry_and_route_are_repaired(tf: &str) {
    let (c, _) = ssm_cluster(tf, "");
    c.plans_no_changes("a fresh apply must plan no changes");
    let s = c.state();
    let role = s["remote_nodes_role_arn"].as_str().unwrap();
    let (code, _) = c.tb.rest(
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
    c.tb.query(
        "ec2",
        &format!("Action=DeleteRoute&RouteTableId={rtb}&DestinationCidrBlock=10.80.146.0/24"),
    );
    c.drift_shows(&[
        "access_entry/hybrid-demo",
        r#""missing" -> "ok""#,
        &format!("route/{rtb}/10.80.146.0/24"),
    ]);
    c.repair();
    let (code, _) = common::access_entry(&c.tb, "hybrid-demo", role);
    assert_eq!(code, 200);
    c.destroy_leaves_nothing();
}

#[test]
fn an_ira_cluster_on_terraform_1_0_trusts_only_its_anchor_and_each_nodes_cn() {
    ira_cluster_trusts_only_its_anchor_and_each_nodes_cn(TF_OLD);
}

fn ira_cluster_trusts_only_its_anchor_and_each_nodes_cn(tf: &str) {
    let (c, _) = ira_cluster(tf);
    let s = c.state();
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
            && node_config.contains(&format!("profileArn: {profile}"))
            && node_config.contains("name: hybrid-ira")
            && node_config.contains("region: us-west-2"),
        "{node_config}"
    );
    let (_, p) = c.tb.rest(
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
    let trust = common::role_document(&c.tb, IRA_NODES_ROLE, None);
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
    assert_eq!(
        common::attached_policies(&c.tb, IRA_NODES_ROLE),
        ["AmazonEC2ContainerRegistryPullOnly"]
    );
    assert!(
        pod_identity_granted(&c.tb, IRA_NODES_ROLE),
        "the IRA role serves the Pod Identity agent by default"
    );
    c.plans_no_changes("a fresh apply must plan no changes");
    c.destroy_leaves_nothing();
}

#[test]
fn a_private_ca_anchors_the_nodes_trust_and_a_ca_not_active_fails_at_plan() {
    private_ca_lifecycle(TF_NEW);
}

#[test]
fn a_private_ca_on_terraform_1_0_anchors_the_nodes_trust() {
    private_ca_lifecycle(TF_OLD);
}

/// `acm_pca_arn`: a CA without its certificate, or none at all, fails the plan at the
/// attribute before any write; an ACTIVE CA becomes an `AWS_ACM_PCA` trust anchor, which
/// drifts, repairs, imports and is destroyed like a bundle's, leaving the CA as it was.
fn private_ca_lifecycle(tf: &str) {
    let tb = common::testbed();
    let pending = common::private_ca(&tb, false);
    let active = common::private_ca(&tb, true);
    assert_eq!(
        common::private_ca_status(&tb, &pending),
        "PENDING_CERTIFICATE"
    );
    assert_eq!(common::private_ca_status(&tb, &active), "ACTIVE");
    let missing = format!(
        "{}00000000-0000-0000-0000-000000000000",
        &active[..active.len() - 36]
    );
    common::restrict_to(&tb, "ira");
    let ws = Workspace::new(tf, &tb, &private_ca_config(&pending));
    tb.control("DELETE", "calls", "");
    for (arn, summary, detail) in [
        (&pending, "Private CA not active", "is PENDING_CERTIFICATE"),
        (&missing, "Private CA not found", "does not exist"),
    ] {
        ws.write(&private_ca_config(arn));
        let plan = ws.plan_code();
        let text = plan.text();
        assert_eq!(plan.code, 1, "{}", plan.all());
        assert!(
            text.contains(summary) && text.contains(detail) && text.contains("acm_pca_arn"),
            "{text}"
        );
    }
    assert!(common::writes(&tb).is_empty(), "{:?}", common::writes(&tb));
    drop(ws);

    let c = Applied::new(tf, tb, &private_ca_config(&active));
    let s = c.state();
    let anchor = s["remote_nodes_trust_anchor_arn"].as_str().unwrap();
    let anchor_id = anchor.rsplit('/').next().unwrap();
    let (_, a) = c.tb.rest(
        "rolesanywhere",
        "GET",
        &format!("/trustanchor/{anchor_id}"),
        "",
    );
    let a: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(
        a["trustAnchor"]["source"]["sourceType"], "AWS_ACM_PCA",
        "{a}"
    );
    assert_eq!(
        a["trustAnchor"]["source"]["sourceData"]["acmPcaArn"],
        active.as_str()
    );
    assert!(s["node_config"]
        .as_str()
        .unwrap()
        .contains(&format!("trustAnchorArn: {anchor}")));
    c.plans_no_changes("a fresh apply must plan no changes");
    // The CA is its owner's: disabled since, every plan says what that does to the nodes,
    // and changes nothing.
    let set_ca_status = |status: &str| {
        let (code, out) = c.tb.json(
            "acm-pca",
            "ACMPrivateCA.UpdateCertificateAuthority",
            &serde_json::json!({"CertificateAuthorityArn": active, "Status": status}),
        );
        assert_eq!(code, 200, "{out}");
    };
    set_ca_status("DISABLED");
    let plan = c.ws.plan_code();
    let text = plan.text();
    assert!(
        plan.code == 0
            && text.contains("Warning: Private CA not active")
            && text.contains("is DISABLED")
            && text.contains(
                "hybrid nodes cannot get credentials through this cluster's trust anchor"
            ),
        "{}",
        plan.all()
    );
    set_ca_status("ACTIVE");
    c.tb.rest(
        "rolesanywhere",
        "POST",
        &format!("/trustanchor/{anchor_id}/disable"),
        "",
    );
    c.drift_shows(&[r#""disabled" -> "ok""#]);
    c.repair();
    c.tb.rest(
        "rolesanywhere",
        "DELETE",
        &format!("/trustanchor/{anchor_id}"),
        "",
    );
    c.drift_shows(&["remote_nodes_trust_anchor_arn", "(known after apply)"]);
    c.repair();
    let renewed = c.state()["remote_nodes_trust_anchor_arn"].clone();
    assert_ne!(renewed, anchor);

    let imported = Workspace::new(tf, &c.tb, &private_ca_config(&active));
    imported.ok(&[
        "import",
        "-input=false",
        "-no-color",
        "eks_hybrid_cluster.this",
        "hybrid-ira",
    ]);
    assert_eq!(
        imported.state()["remote_network_config"][0]["iam"][0]["acm_pca_arn"],
        active.as_str()
    );
    // Import spells the provider "IRA"; the configuration's "ira" is the same provider, so the
    // plan changes the spelling in place, never replaces, and its apply writes nothing to AWS.
    let plan = imported.plan_code();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.text().contains(r#"provider = "IRA" -> "ira""#)
            && plan.stdout.contains("1 to change, 0 to destroy")
            && !plan.stdout.contains("must be replaced"),
        "{}",
        plan.stdout
    );
    c.tb.control("DELETE", "calls", "");
    imported.apply();
    assert!(
        common::writes(&c.tb).is_empty(),
        "{:?}",
        common::writes(&c.tb)
    );
    let plan = imported.plan_code();
    assert_eq!(
        plan.code,
        0,
        "an imported Private CA cluster then plans no changes:\n{}",
        plan.all()
    );
    common::destroy_leaves_nothing(&c.tb, &c.ws, &c.before);
    assert_eq!(
        common::private_ca_status(&c.tb, &active),
        "ACTIVE",
        "the CA is not ours"
    );
}

#[test]
fn a_disabled_trust_anchor_is_enabled_and_a_deleted_profile_recreated() {
    let (c, _) = ira_cluster(TF_NEW);
    let s = c.state();
    let anchor = s["remote_nodes_trust_anchor_arn"].as_str().unwrap();
    let profile = s["remote_nodes_anywhere_profile_arn"].as_str().unwrap();
    c.tb.rest(
        "rolesanywhere",
        "POST",
        &format!(
            "/trustanchor/{}/disable",
            anchor.rsplit('/').next().unwrap()
        ),
        "",
    );
    c.drift_shows(&[r#""disabled" -> "ok""#]);
    c.repair();
    c.tb.rest(
        "rolesanywhere",
        "DELETE",
        &format!("/profile/{}", profile.rsplit('/').next().unwrap()),
        "",
    );
    // It comes back with a new ARN, which the plan shows.
    c.drift_shows(&["remote_nodes_anywhere_profile_arn", "(known after apply)"]);
    c.repair();
    assert_ne!(c.state()["remote_nodes_anywhere_profile_arn"], profile);
    c.destroy_leaves_nothing();
}

/// Roles Anywhere's trust is in two objects' settings, not only in their being there: the
/// anchor's source (which CA it trusts) and the profile's roles and session-name setting
/// (nodeadm names the session after the node). Changed behind Terraform's back, each is drift
/// that apply puts back in place.
#[test]
fn a_trust_anchor_or_profile_changed_outside_terraform_is_put_back() {
    let (c, ca) = ira_cluster(TF_NEW);
    let s = c.state();
    let id_of = |key: &str| {
        s[key]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string()
    };
    let (anchor, profile) = (
        id_of("remote_nodes_trust_anchor_arn"),
        id_of("remote_nodes_anywhere_profile_arn"),
    );
    let call = |method: &str, path: &str, body: &str| -> serde_json::Value {
        let (code, out) = c.tb.rest("rolesanywhere", method, path, body);
        assert_eq!(code, 200, "{out}");
        serde_json::from_str(&out).unwrap()
    };
    // Edited behind Terraform's back: the plan shows the object `changed`, apply puts it back.
    let edit_then_repair = |path: &str, key: &str, body: serde_json::Value| {
        call("PATCH", path, &body.to_string());
        c.drift_shows(&[key, r#""changed" -> "ok""#]);
        c.repair();
        call("GET", path, "")
    };
    let other_ca = common::private_ca(&c.tb, true);
    let swapped = serde_json::json!({"source": {"sourceType": "AWS_ACM_PCA", "sourceData": {"acmPcaArn": other_ca}}});
    let anchor_now = edit_then_repair(
        &format!("/trustanchor/{anchor}"),
        &format!("trust_anchor/{anchor}"),
        swapped,
    );
    let source = &anchor_now["trustAnchor"]["source"];
    assert_eq!(source["sourceType"], "CERTIFICATE_BUNDLE", "{source}");
    assert_eq!(source["sourceData"]["x509CertificateData"], ca.as_str());

    let nodes_role = s["remote_nodes_role_arn"].as_str().unwrap();
    let other_role = common::role(&c.tb, "someone-else", "rolesanywhere.amazonaws.com");
    let edited = serde_json::json!({"roleArns": [other_role], "acceptRoleSessionName": false});
    let profile_now = edit_then_repair(
        &format!("/profile/{profile}"),
        &format!("profile/{profile}"),
        edited,
    );
    let p = &profile_now["profile"];
    assert_eq!(p["roleArns"], serde_json::json!([nodes_role]), "{p}");
    assert_eq!(p["acceptRoleSessionName"], true, "{p}");
    c.tb.query("iam", "Action=DeleteRole&RoleName=someone-else");
    c.destroy_leaves_nothing();
}

#[test]
fn tags_change_in_place_on_every_object_the_cluster_owns() {
    let (c, ca) = ira_cluster(TF_NEW);
    let s = c.state();
    c.ws.write(&ira_config("tags = { cost-center = \"42\" }", &ca));
    let plan = c.ws.plan_code();
    assert!(
        plan.stdout.contains("1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    c.ws.apply();
    let vpc_id = s["vpc_id"].as_str().unwrap();
    let vpc =
        c.tb.query("ec2", &format!("Action=DescribeVpcs&VpcId.1={vpc_id}"));
    assert!(vpc.contains("<key>cost-center</key>"), "{vpc}");
    let subnets = c.tb.query(
        "ec2",
        &format!("Action=DescribeSubnets&Filter.1.Name=vpc-id&Filter.1.Value.1={vpc_id}"),
    );
    assert_eq!(
        subnets.matches("<key>cost-center</key>").count(),
        4,
        "{subnets}"
    );
    let role_tags = c.tb.query(
        "iam",
        &format!("Action=ListRoleTags&RoleName={IRA_NODES_ROLE}"),
    );
    assert!(role_tags.contains("cost-center"), "{role_tags}");
    let profile = s["remote_nodes_anywhere_profile_arn"].as_str().unwrap();
    let (_, ra_tags) = c.tb.rest(
        "rolesanywhere",
        "GET",
        &format!(
            "/ListTagsForResource?resourceArn={}",
            common::path_segment(profile)
        ),
        "",
    );
    assert!(ra_tags.contains("cost-center"), "{ra_tags}");
    let eks = common::eks_tags(&c.tb, s["arn"].as_str().unwrap());
    assert!(eks.contains("\"cost-center\":\"42\""), "{eks}");
    c.plans_no_changes("tags are settled");
    c.destroy_leaves_nothing();
}

#[test]
fn a_cluster_deleted_outside_terraform_is_recreated_in_its_network() {
    let (c, _) = ira_cluster(TF_NEW);
    let vpc = c.state()["vpc_id"].clone();
    let (code, _) = c.tb.rest("eks", "DELETE", "/clusters/hybrid-ira", "");
    assert_eq!(code, 200);
    common::wait_for_no_clusters(&c.tb);
    c.drift_shows(&[r#""cluster/hybrid-ira""#]);
    c.repair();
    let s = c.state();
    assert_eq!(s["status"], "ACTIVE");
    assert_eq!(s["vpc_id"], vpc, "the network was kept");
    c.destroy_leaves_nothing();
}

/// What a destroy stopped in its network phase leaves: the cluster, its control plane
/// security group and the internet gateway gone. With the cluster gone nothing uses them, so
/// apply makes them anew with the cluster instead of asking for a replacement.
#[test]
fn a_network_part_gone_with_the_cluster_is_made_anew_with_it() {
    let (c, _) = ira_cluster(TF_NEW);
    let s = c.state();
    let (vpc, sg) = (
        s["vpc_id"].as_str().unwrap(),
        s["control_plane_security_group_id"].as_str().unwrap(),
    );
    let (code, _) = c.tb.rest("eks", "DELETE", "/clusters/hybrid-ira", "");
    assert_eq!(code, 200);
    common::wait_for_no_clusters(&c.tb);
    c.tb.query("ec2", &format!("Action=DeleteSecurityGroup&GroupId={sg}"));
    let igws = c.tb.query(
        "ec2",
        &format!("Action=DescribeInternetGateways&Filter.1.Name=attachment.vpc-id&Filter.1.Value.1={vpc}"),
    );
    let igw = common::xml_values(&igws, "internetGatewayId")[0].clone();
    c.tb.query(
        "ec2",
        &format!("Action=DetachInternetGateway&InternetGatewayId={igw}&VpcId={vpc}"),
    );
    c.tb.query(
        "ec2",
        &format!("Action=DeleteInternetGateway&InternetGatewayId={igw}"),
    );
    c.drift_shows(&[
        r#""cluster/hybrid-ira""#,
        &format!(r#""internet_gateway/{igw}""#),
    ]);
    c.repair();
    let s = c.state();
    assert_eq!(s["status"], "ACTIVE");
    assert_eq!(s["vpc_id"], vpc, "the network was kept");
    assert_ne!(s["control_plane_security_group_id"], sg);
    c.destroy_leaves_nothing();
}

#[test]
fn import_by_command_plans_no_changes_and_destroy_removes_everything() {
    import_by_command(TF_NEW);
}

fn import_by_command(tf: &str) {
    let (c, tgw) = ssm_cluster(tf, "");
    let created = c.state();
    let by_command = Workspace::new(tf, &c.tb, &ssm_config(&tgw, ""));
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
    // Destroy from the imported state: the inventory found by import must be complete.
    by_command.destroy();
    assert_eq!(
        c.tb.inventory(),
        c.before,
        "destroy after import must leave nothing behind"
    );
}

#[test]
fn import_by_block_adopts_the_cluster_and_a_missing_one_is_named() {
    import_by_block(TF_NEW);
}

fn import_by_block(tf: &str) {
    let (c, tgw) = ssm_cluster(tf, "");
    let config = ssm_config(&tgw, "");
    let by_block = Workspace::new(
        tf,
        &c.tb,
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
    assert_eq!(by_block.plan_code().code, 0);
    let missing = Workspace::new(tf, &c.tb, &config.replace("hybrid-demo", "nope"));
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
    c.destroy_leaves_nothing();
}

#[test]
fn import_by_identity_plans_no_changes() {
    import_by_identity(TF_NEW);
}

/// Terraform and OpenTofu 1.12+ store `{ name, region, account_id }` beside the state and
/// import by it; the region and account default to the provider's, and others are refused.
fn import_by_identity(tf: &str) {
    let (c, tgw) = ssm_cluster(tf, "");
    let show = c.ws.ok(&["show", "-json", "-no-color"]);
    let shown: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    let resource = &shown["values"]["root_module"]["resources"][0];
    assert_eq!(
        resource["identity"],
        serde_json::json!({"name": "hybrid-demo", "region": "us-west-2", "account_id": "123456789012"}),
        "{tf}: {resource}"
    );
    let config = ssm_config(&tgw, "");
    let by_identity = |identity: &str| {
        Workspace::new(
            tf,
            &c.tb,
            &format!("{config}\nimport {{\n  to = eks_hybrid_cluster.this\n  identity = {identity}\n}}\n"),
        )
    };
    let elsewhere = by_identity(r#"{ name = "hybrid-demo", region = "eu-west-1" }"#);
    let refused = elsewhere.plan_code();
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(
        refused.text().contains(
            r#"The identity's region is "eu-west-1", but the provider's region is "us-west-2""#
        ),
        "{}",
        refused.all()
    );
    let ws = by_identity(r#"{ name = "hybrid-demo" }"#);
    let plan = ws.plan_code();
    assert!(
        plan.stdout
            .contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{tf}: {}",
        plan.all()
    );
    ws.apply();
    assert_eq!(ws.plan_code().code, 0, "{tf}: no changes after the import");
    assert_eq!(ws.state()["owned_objects"], c.state()["owned_objects"]);
    c.destroy_leaves_nothing();
}

const OWN_ROLE: &str = "arn:aws:iam::123456789012:role/my-hybrid-nodes";

/// A VPN gateway, and a hybrid nodes role of the user's own.
fn vgw_testbed() -> (Testbed, String) {
    let tb = common::testbed();
    let vgw = tb.seed().vpn_gateway;
    let trust = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
    tb.query(
        "iam",
        &format!("Action=CreateRole&RoleName=my-hybrid-nodes&AssumeRolePolicyDocument={trust}"),
    );
    (tb, vgw)
}

fn vgw_config(vgw: &str, version: &str, private: bool, node_cidr: &str) -> String {
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
    remote_node_networks {{ cidrs = ["{node_cidr}"] }}
    iam {{ role_arn = "{OWN_ROLE}" }}
  }}
}}
"#,
        public = !private
    )
}

#[test]
fn a_vgw_cluster_with_the_users_own_role_attaches_the_gateway_and_creates_no_role() {
    let (tb, vgw) = vgw_testbed();
    let c = Applied::new(
        TF_OLD,
        tb,
        &vgw_config(&vgw, "1.33", false, "10.80.146.0/24"),
    );
    let s = c.state();
    assert_eq!(s["remote_nodes_role_arn"], OWN_ROLE);
    assert_eq!(
        s["vpc_gateway_attachment_id"], s["vpc_id"],
        "a VGW attachment is identified by the VPC"
    );
    let roles = c.tb.query("iam", "Action=ListRoles");
    assert!(
        !roles.contains("hybrid-vgw-eks-hybrid-nodes-role"),
        "no nodes role is created when role_arn is given"
    );
    let (code, body) = common::access_entry(&c.tb, "hybrid-vgw", OWN_ROLE);
    assert_eq!(
        code, 200,
        "the access entry exists for the user's own role: {body}"
    );
    let vgws = c.tb.query(
        "ec2",
        &format!("Action=DescribeVpnGateways&VpnGatewayId.1={vgw}"),
    );
    assert!(vgws.contains("<state>attached</state>"), "{vgws}");
    assert_eq!(
        c.tb.query("ec2", "Action=DescribeNatGateways")
            .matches("<natGatewayId>")
            .count(),
        0,
        "nat_gateway = Disable"
    );
    c.plans_no_changes("a fresh apply must plan no changes");
    c.destroy_leaves_nothing();
}

#[test]
fn version_and_endpoint_access_change_in_place_and_outside_changes_show() {
    let (tb, vgw) = vgw_testbed();
    let config =
        |version: &str, private: bool| vgw_config(&vgw, version, private, "10.80.146.0/24");
    let c = Applied::new(TF_NEW, tb, &config("1.33", false));
    c.ws.write(&config("1.34", false));
    let plan = c.ws.plan_code();
    assert_eq!(plan.code, 2);
    assert!(
        plan.stdout.contains("update in-place") && plan.stdout.contains(r#""1.33" -> "1.34""#),
        "{}",
        plan.stdout
    );
    c.ws.apply();
    assert_eq!(c.state()["kubernetes_version"], "1.34");
    c.ws.write(&config("1.34", true));
    c.ws.apply();
    let s = c.state();
    assert_eq!(
        (
            s["endpoint_private_access"].clone(),
            s["endpoint_public_access"].clone()
        ),
        (serde_json::json!(true), serde_json::json!(false))
    );
    c.plans_no_changes("the updates are settled");
    // A version upgrade made outside Terraform cannot be planned back (EKS never downgrades):
    // the plan says so, at kubernetes_version.
    let (code, body) = c.tb.rest(
        "eks",
        "POST",
        "/clusters/hybrid-vgw/updates",
        r#"{"version":"1.35"}"#,
    );
    assert_eq!(code, 200, "{body}");
    std::thread::sleep(std::time::Duration::from_millis(600));
    let plan = c.ws.plan_code();
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(
        plan.text()
            .contains("EKS does not downgrade a cluster: it runs Kubernetes 1.35"),
        "{}",
        plan.all()
    );
    c.ws.write(&config("1.35", true));
    c.plans_no_changes("adopting the new version in the config settles it");
    c.destroy_leaves_nothing();
}

/// EKS refuses a version upgrade its upgrade insights block (InvalidStateException). The apply
/// fails without tainting the cluster and names the option that overrides the check;
/// `force_update_version = true` passes EKS's `force` flag and the upgrade goes through.
#[test]
fn an_upgrade_blocked_by_eks_insights_names_force_update_version_and_goes_through_with_it() {
    let (tb, vgw) = vgw_testbed();
    let config = |version: &str| vgw_config(&vgw, version, false, "10.80.146.0/24");
    let c = Applied::new(TF_NEW, tb, &config("1.33"));
    c.tb.control("POST", "block-upgrade", r#"{"cluster":"hybrid-vgw"}"#);
    c.ws.write(&config("1.34"));
    let refused =
        c.ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let text = refused.text();
    assert!(
        refused.code == 1
            && text.contains("Upgrade readiness issues detected")
            && text.contains("set force_update_version = true"),
        "{}",
        refused.all()
    );
    assert!(!text.contains("tainted"), "{}", refused.all());
    let plan = c.ws.plan_code();
    assert!(
        plan.code == 2
            && plan.stdout.contains("update in-place")
            && plan.stdout.contains(r#""1.33" -> "1.34""#),
        "the upgrade is still planned, in place:\n{}",
        plan.all()
    );
    let forced = config("1.34").replace(
        "authentication_mode     = \"API\"",
        "authentication_mode     = \"API\"\n  force_update_version    = true",
    );
    c.ws.write(&forced);
    c.ws.apply();
    assert_eq!(c.state()["kubernetes_version"], "1.34");
    c.plans_no_changes("forced through");
    c.destroy_leaves_nothing();
}

/// Whether the nodes role's inline policy lets the EKS Pod Identity agent work.
fn pod_identity_granted(tb: &Testbed, role: &str) -> bool {
    let doc = common::role_document(tb, role, Some("EKSHybridNodes"));
    doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .any(|st| st["Action"] == "eks-auth:AssumeRoleForPodIdentity" && st["Resource"] == "*")
}

/// The nodes role serves the EKS Pod Identity agent by default (EKS user guide, "Set up the
/// Amazon EKS Pod Identity Agent"); turning it off and on changes the role's policy in place,
/// and a statement removed outside Terraform is drift that apply puts back.
#[test]
fn the_pod_identity_permission_is_on_by_default_and_changes_in_place() {
    let (c, tgw) = ssm_cluster(TF_NEW, "");
    assert_eq!(c.state()["nodes_pod_identity"], true);
    assert!(pod_identity_granted(&c.tb, NODES_ROLE));
    c.ws.write(&ssm_config(&tgw, "nodes_pod_identity = false"));
    let plan = c.ws.plan_code();
    assert!(
        plan.code == 2
            && plan.stdout.contains("update in-place")
            && plan.text().contains("nodes_pod_identity = true -> false"),
        "{}",
        plan.all()
    );
    c.ws.apply();
    assert!(!pod_identity_granted(&c.tb, NODES_ROLE));
    c.plans_no_changes("turned off");
    c.ws.write(&ssm_config(&tgw, ""));
    c.ws.apply();
    assert!(pod_identity_granted(&c.tb, NODES_ROLE));
    c.plans_no_changes("on again");
    c.destroy_leaves_nothing();
}

#[test]
fn a_changed_remote_network_plans_a_replacement() {
    let (tb, vgw) = vgw_testbed();
    let c = Applied::new(
        TF_NEW,
        tb,
        &vgw_config(&vgw, "1.33", false, "10.80.146.0/24"),
    );
    c.ws.write(&vgw_config(&vgw, "1.33", false, "10.80.147.0/24"));
    let plan = c.ws.plan_code();
    assert!(
        plan.stdout.contains("must be replaced") && plan.stdout.contains("forces replacement"),
        "remote networks are ForceNew: {}",
        plan.stdout
    );
    // The replacement says what it deletes, and keeps the user's own role and gateway.
    let text = plan.text();
    for expected in [
        "Warning: Replacing eks_hybrid_cluster \"hybrid-vgw\" deletes the cluster and what it owns",
        "remote_network_config can only change by replacing the cluster",
        "Hybrid nodes registered with this cluster stop working",
        &format!("the hybrid nodes role {OWN_ROLE}"),
        &format!("the virtual private gateway {vgw}"),
    ] {
        assert!(text.contains(expected), "{expected}:\n{}", plan.all());
    }
    c.destroy_leaves_nothing();
}

#[test]
fn a_destroy_plan_says_what_goes_and_what_stays() {
    destroy_plan_says_what_goes(TF_NEW);
}

fn destroy_plan_says_what_goes(tf: &str) {
    let (c, tgw) = ssm_cluster(tf, "");
    let plan = c.ws.ok(&["plan", "-destroy", "-input=false", "-no-color"]);
    let text = plan.text();
    let s = c.state();
    for expected in [
        "Warning: Destroying eks_hybrid_cluster \"hybrid-demo\" deletes the cluster and what it owns".to_string(),
        "the EKS cluster hybrid-demo and its HYBRID_LINUX access entry".to_string(),
        format!(
            "the VPC {} with 4 subnets, 1 NAT gateway, its internet gateway",
            s["vpc_id"].as_str().unwrap()
        ),
        format!(
            "the transit gateway attachment {}",
            s["vpc_gateway_attachment_id"].as_str().unwrap()
        ),
        "2 IAM roles (hybrid-demo-eks-cluster-role, hybrid-demo-eks-hybrid-nodes-role)".to_string(),
        "Hybrid nodes registered with this cluster stop working".to_string(),
        format!("Kept (not made by this provider): - the transit gateway {tgw}"),
    ] {
        assert!(text.contains(&expected), "{tf}: {expected}:\n{}", plan.all());
    }
    assert!(c
        .tb
        .calls()
        .iter()
        .all(|call| !call.to_string().contains("Delete")));
    c.destroy_leaves_nothing();
}

#[test]
fn a_pre_existing_vpc_is_checked_at_plan_used_and_never_amended() {
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
    assert!(
        plan.text()
            .contains(&format!("overlaps with CIDR 10.0.0.0/16 of VPC {vpc}")),
        "{}",
        plan.all()
    );
    let mut ops: Vec<String> = tb
        .calls()
        .iter()
        .map(|c| c["operation"].as_str().unwrap_or_default().to_string())
        .collect();
    ops.sort();
    assert_eq!(
        ops,
        [
            "DescribeCluster",
            "DescribeSecurityGroups",
            "DescribeSubnets",
            "DescribeVpcs",
            "GetRole",
            "GetRole"
        ],
        "the plan-time checks read the VPC and its subnets, and that the cluster, role and security group names are free, and create nothing"
    );
    // With service_ipv4_cidr unset EKS picks "either 10.100.0.0/16 or 172.20.0.0/16" (EKS API
    // reference) and how is not documented: a remote network in either is a warning naming
    // the setting that makes sure, not a refusal.
    ws.write(&config("172.20.5.0/24"));
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.text()
            .contains("Remote network may overlap the service CIDR")
            && plan
                .text()
                .contains("either 10.100.0.0/16 or 172.20.0.0/16")
            && plan.text().contains("Set service_ipv4_cidr"),
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
    ctrl_c_during_apply(TF_OLD);
}

fn ctrl_c_during_apply(tf: &str) {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let before = tb.inventory();
    tb.control("POST", "timing", r#"{"eks_create_ms": 600000}"#);
    let ws = Workspace::new(tf, &tb, &ssm_config(&tgw, ""));
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
    logs_follow_tf_log(TF_NEW);
}

fn logs_follow_tf_log(tf: &str) {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY";
    let ws = Workspace::new(tf, &tb, &ssm_config(&tgw, ""));
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
fn drift_on_rules_policies_and_tags_is_shown_and_repaired() {
    let (c, _) = ssm_cluster(TF_NEW, "");
    let s = c.state();
    let sg = s["control_plane_security_group_id"].as_str().unwrap();
    c.tb.query("ec2", &format!("Action=RevokeSecurityGroupIngress&GroupId={sg}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443&IpPermissions.1.IpRanges.1.CidrIp=10.86.30.0/23"));
    c.tb.query("iam", &format!("Action=DetachRolePolicy&RoleName={NODES_ROLE}&PolicyArn=arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"));
    c.tb.query(
        "iam",
        &format!("Action=DeleteRolePolicy&RoleName={NODES_ROLE}&PolicyName=EKSHybridNodes"),
    );
    let arn = s["arn"].as_str().unwrap();
    let (code, _) = c.tb.rest(
        "eks",
        "POST",
        &format!("/tags/{}", common::path_segment(arn)),
        r#"{"tags":{"rogue":"1"}}"#,
    );
    assert_eq!(code, 200);
    c.drift_shows(&[
        &format!("security_group_rule/{sg}/tcp443/10.86.30.0/23"),
        &format!("iam_role_policy_attachment/{NODES_ROLE}/AmazonSSMManagedInstanceCore"),
        &format!("iam_role_policy/{NODES_ROLE}/EKSHybridNodes"),
        "\"rogue\" = \"1\" -> null",
        r#""detached" -> "ok""#,
    ]);
    c.repair();
    let sg_now = c.tb.query(
        "ec2",
        &format!("Action=DescribeSecurityGroups&GroupId.1={sg}"),
    );
    assert!(sg_now.contains("10.86.30.0/23"), "{sg_now}");
    assert!(common::attached_policies(&c.tb, NODES_ROLE)
        .iter()
        .any(|p| p == "AmazonSSMManagedInstanceCore"));
    assert!(!common::eks_tags(&c.tb, arn).contains("rogue"));
    c.destroy_leaves_nothing();
}

#[test]
fn a_deleted_gateway_attachment_comes_back_with_a_new_id() {
    let (c, _) = ssm_cluster(TF_NEW, "");
    let attachment = c.state()["vpc_gateway_attachment_id"]
        .as_str()
        .unwrap()
        .to_string();
    c.tb.query(
        "ec2",
        &format!(
            "Action=DeleteTransitGatewayVpcAttachment&TransitGatewayAttachmentId={attachment}"
        ),
    );
    c.drift_shows(&[&format!(
        "~ vpc_gateway_attachment_id = \"{attachment}\" -> (known after apply)"
    )]);
    c.repair();
    let new_attachment = c.state()["vpc_gateway_attachment_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_attachment, attachment);
    let atts = c.tb.query(
        "ec2",
        &format!("Action=DescribeTransitGatewayVpcAttachments&TransitGatewayAttachmentIds.1={new_attachment}"),
    );
    assert!(atts.contains("<state>available</state>"), "{atts}");
    c.destroy_leaves_nothing();
}

#[test]
fn an_unknown_provider_configuration_plans_without_aws_calls() {
    unknown_provider_configuration_plans(TF_NEW);
}

/// Neither CLI announces `deferral_allowed` (Terraform only in its experimental builds,
/// OpenTofu 1.12 not at all), so both get a plan with AWS's values unknown.
fn unknown_provider_configuration_plans(tf: &str) {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let ws = Workspace::new(tf, &tb, &ssm_config(&tgw, ""));
    // The region comes from a resource that does not exist yet: unknown at plan time.
    let unknown = "resource \"terraform_data\" \"region\" {\n  input = \"us-west-2\"\n}\nprovider \"eks\" {\n  region = terraform_data.region.output\n}\n";
    ws.write_with_provider(unknown, &ssm_config(&tgw, ""));
    let plan = ws.run_env(
        &["plan", "-input=false", "-no-color"],
        &[("TF_LOG", "DEBUG")],
    );
    assert_eq!(
        plan.code,
        0,
        "an unknown provider configuration must not fail the plan:\n{}",
        plan.all()
    );
    // What the CLI announced: when this changes, the plan should show a deferral instead.
    let planning = plan
        .stderr
        .lines()
        .find(|l| l.contains("provider.terraform-provider-eks") && l.contains(": planning:"))
        .unwrap_or_else(|| panic!("no planning log line:\n{}", plan.stderr));
    assert!(
        planning.contains("deferral_allowed=false"),
        "{tf}: {planning}"
    );
    assert!(plan.stdout.contains("2 to add"), "{}", plan.stdout);
    assert!(
        tb.calls().is_empty(),
        "nothing to call AWS with yet: {:?}",
        tb.calls()
    );
}

#[test]
fn an_unknown_default_tag_applies_and_then_plans_no_changes() {
    unknown_default_tag_applies(TF_NEW);
}

/// A default tag from a resource not yet made: plan leaves `tags_all` unknown, so apply's
/// final plan (with the tag known) is consistent with it, and the next plan has no changes
/// (hashicorp/terraform-provider-aws#40065 was this bug there).
fn unknown_default_tag_applies(tf: &str) {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let before = tb.inventory();
    let ws = Workspace::new(tf, &tb, &ssm_config(&tgw, ""));
    let provider = "resource \"terraform_data\" \"owner\" {\n  input = \"platform-team\"\n}\nprovider \"eks\" {\n  region = \"us-west-2\"\n  default_tags {\n    tags = { Owner = terraform_data.owner.output }\n  }\n}\n";
    ws.write_with_provider(provider, &ssm_config(&tgw, ""));
    let apply = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(apply.code, 0, "{tf}:\n{}", apply.all());
    assert_eq!(ws.plan_code().code, 0, "{tf}: no changes after the apply");
    let tags = &ws.state()["tags_all"];
    assert_eq!(tags["Owner"], "platform-team", "{tf}: {tags}");
    assert_eq!(tags["team"], "platform", "{tf}: {tags}");
    common::destroy_leaves_nothing(&tb, &ws, &before);
}

#[test]
fn invalid_provider_settings_fail_validate() {
    let tb = common::testbed();
    let ws = Workspace::new(TF_NEW, &tb, &ssm_config("tgw-0123456789abcdef0", ""));
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
        ws.write_with_provider(provider, &ssm_config("tgw-0123456789abcdef0", ""));
        let r = ws.run(&["validate", "-no-color"]);
        assert!(
            r.code == 1 && r.text().contains(expected),
            "{expected}: {}",
            r.all()
        );
    }
    assert!(tb.calls().is_empty());
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
        "ira-private-ca",
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
    assert_eq!(checked, 7);
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

fn activation_of(c: &Applied) -> String {
    c.state()["ssm_activation"][0]["activation_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Deletes the demo's nodes role behind the provider's back (its policies first, as IAM
/// requires); its trust policy, to make it again with.
fn delete_nodes_role(tb: &Testbed) -> serde_json::Value {
    let attached = tb.query(
        "iam",
        &format!("Action=ListAttachedRolePolicies&RoleName={NODES_ROLE}"),
    );
    for arn in common::xml_values(&attached, "PolicyArn") {
        tb.query(
            "iam",
            &format!("Action=DetachRolePolicy&RoleName={NODES_ROLE}&PolicyArn={arn}"),
        );
    }
    tb.query(
        "iam",
        &format!("Action=DeleteRolePolicy&RoleName={NODES_ROLE}&PolicyName=EKSHybridNodes"),
    );
    let trust = common::role_document(tb, NODES_ROLE, None);
    tb.query("iam", &format!("Action=DeleteRole&RoleName={NODES_ROLE}"));
    trust
}

/// Destroy deregisters the nodes that registered through the cluster's activations (they carry
/// its ARN as a tag) and nothing else; the destroy plan says so; with the setting off they stay.
#[test]
fn destroy_deregisters_the_nodes_of_the_clusters_activations_and_says_so() {
    let (c, tgw) = ssm_cluster(TF_NEW, "ssm_activation { registration_limit = 3 }");
    let activation = c.state()["ssm_activation"][0].clone();
    let (id, code) = (
        activation["activation_id"].as_str().unwrap(),
        activation["activation_code"].as_str().unwrap(),
    );
    let ours = [
        common::register_node(&c.tb, id, code),
        common::register_node(&c.tb, id, code),
    ];
    // A node of someone else's activation, untagged, in the same account.
    let theirs_activation = ssm_call(
        &c.tb,
        "CreateActivation",
        &serde_json::json!({"IamRole": NODES_ROLE, "Description": "not ours"}).to_string(),
        true,
    );
    let theirs = common::register_node(
        &c.tb,
        theirs_activation["ActivationId"].as_str().unwrap(),
        theirs_activation["ActivationCode"].as_str().unwrap(),
    );
    let preview = c.ws.run(&["plan", "-destroy", "-input=false", "-no-color"]);
    let arn = c.state()["arn"].as_str().unwrap().to_string();
    assert!(
        preview.text().contains(&format!(
            "the hybrid nodes registered through this cluster's SSM activations (SSM managed instances tagged EKSClusterARN = {arn}): deregistered"
        )),
        "{}",
        preview.all()
    );
    let before = c.before.clone();
    c.ws.destroy();
    let left: Vec<String> =
        c.tb.inventory()
            .into_iter()
            .filter(|o| !before.contains(o))
            .collect();
    assert_eq!(
        left,
        vec![
            format!(
                "activation:{}",
                theirs_activation["ActivationId"].as_str().unwrap()
            ),
            format!("managed_instance:{theirs}"),
        ],
        "ours ({ours:?}) are deregistered, the other node stays"
    );
    assert!(c.tb.denied_calls().is_empty(), "{:?}", c.tb.denied_calls());

    // Off: the preview says they stay, and they do.
    let ws = Workspace::new(
        TF_NEW,
        &c.tb,
        &ssm_config(
            &tgw,
            "deregister_nodes_on_destroy = false\n  ssm_activation {}",
        ),
    );
    ws.apply();
    let a = ws.state()["ssm_activation"][0].clone();
    let kept = common::register_node(
        &c.tb,
        a["activation_id"].as_str().unwrap(),
        a["activation_code"].as_str().unwrap(),
    );
    let preview = ws.run(&["plan", "-destroy", "-input=false", "-no-color"]);
    assert!(
        preview
            .text()
            .contains("they stay registered (deregister_nodes_on_destroy = false)"),
        "{}",
        preview.all()
    );
    ws.destroy();
    assert!(c
        .tb
        .inventory()
        .contains(&format!("managed_instance:{kept}")));
}

#[test]
fn an_ssm_activation_is_created_for_the_nodes_role_tagged_and_scoped() {
    let (c, _) = ssm_cluster(TF_NEW, "ssm_activation { registration_limit = 5 }");
    let s = c.state();
    let activation = &s["ssm_activation"][0];
    let (id, code) = (
        activation["activation_id"].as_str().unwrap().to_string(),
        activation["activation_code"].as_str().unwrap().to_string(),
    );
    assert_eq!(activations(&c.tb), vec![id.clone()]);
    assert!(code.len() >= 16, "{code}");
    assert!(
        !c.first.all().contains(&code),
        "the activation code is sensitive and never printed"
    );
    assert_eq!(
        s["owned_objects"][format!("ssm_activation/{id}")],
        "ok",
        "{}",
        s["owned_objects"]
    );
    // SSM recorded what was asked for, for the nodes role.
    let listed = ssm_call(&c.tb, "DescribeActivations", "{}", true);
    let a = &listed["ActivationList"][0];
    assert_eq!(a["RegistrationLimit"], 5);
    assert_eq!(a["IamRole"], NODES_ROLE);
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
    let inline = common::role_document(&c.tb, NODES_ROLE, Some("EKSHybridNodes"));
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
    c.plans_no_changes("no changes after apply");
    c.destroy_leaves_nothing();
}

#[test]
fn a_changed_or_deleted_activation_is_replaced_and_the_cluster_kept() {
    let (c, tgw) = ssm_cluster(TF_NEW, "ssm_activation { registration_limit = 5 }");
    let first = activation_of(&c);
    // A new limit replaces the activation, not the cluster.
    c.ws.write(&ssm_config(
        &tgw,
        "ssm_activation { registration_limit = 10 }",
    ));
    let plan = c.ws.plan_code();
    assert_eq!(plan.code, 2, "{}", plan.all());
    let text = plan.text();
    assert!(
        text.contains("will be updated in-place") && text.contains("registration_limit = 5 -> 10"),
        "{text}"
    );
    c.ws.apply();
    let replaced = activation_of(&c);
    assert_ne!(replaced, first);
    assert_eq!(
        activations(&c.tb),
        vec![replaced.clone()],
        "the old one is deleted"
    );
    // Deleted outside Terraform: the plan says so, apply makes a new one.
    ssm_call(
        &c.tb,
        "DeleteActivation",
        &format!(r#"{{"ActivationId":"{replaced}"}}"#),
        false,
    );
    let plan = c.ws.plan_code();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.text()
            .contains(&format!("\"ssm_activation/{replaced}\" = \"missing\"")),
        "{}",
        plan.all()
    );
    c.repair();
    assert_eq!(activations(&c.tb).len(), 1);
    assert_eq!(c.state()["status"], "ACTIVE");
    c.destroy_leaves_nothing();
}

#[test]
fn removing_the_activation_block_deletes_it_and_keeps_the_cluster() {
    let (c, tgw) = ssm_cluster(TF_NEW, "ssm_activation {}");
    assert_eq!(activations(&c.tb).len(), 1);
    c.ws.write(&ssm_config(&tgw, ""));
    c.ws.apply();
    assert!(activations(&c.tb).is_empty());
    assert_eq!(c.state()["status"], "ACTIVE");
    c.plans_no_changes("the block is gone and so is the activation");
    c.destroy_leaves_nothing();
}

#[test]
fn vpc_cni_addon_older_than_1_19_warns_at_plan_and_apply() {
    let (c, tgw) = ssm_cluster(TF_NEW, "");
    assert!(!c.first.all().contains("VPC CNI"), "no add-on, no warning");
    let install = |version: &str| {
        let (status, body) = c.tb.rest(
            "eks",
            "POST",
            "/clusters/hybrid-demo/addons",
            &format!(r#"{{"addonName":"vpc-cni","addonVersion":"{version}"}}"#),
        );
        assert_eq!(status, 200, "{body}");
    };
    install("v1.18.5-eksbuild.1");
    let plan = c.ws.plan_code();
    let text = plan.text();
    assert_eq!(plan.code, 0, "a warning is not a change: {text}");
    assert!(
        text.contains("Warning: VPC CNI add-on too old for hybrid nodes")
            && text.contains("runs the vpc-cni add-on v1.18.5-eksbuild.1")
            && text.contains("v1.19.0-eksbuild.1 or later"),
        "{text}"
    );
    c.ws.write(&ssm_config(&tgw, "").replace("platform", "platform-2"));
    let apply = c.ws.apply();
    assert!(
        apply.text().contains("Warning: VPC CNI add-on too old"),
        "apply warns too: {}",
        apply.all()
    );
    let (status, _) =
        c.tb.rest("eks", "DELETE", "/clusters/hybrid-demo/addons/vpc-cni", "");
    assert_eq!(status, 200);
    install("v1.19.0-eksbuild.1");
    let plan = c.ws.plan_code();
    assert_eq!(plan.code, 0);
    assert!(!plan.all().contains("VPC CNI"), "{}", plan.all());
    c.destroy_leaves_nothing();
}

/// The same guarantees under OpenTofu, through the real `tofu` CLI.
mod opentofu {
    use super::*;

    #[test]
    fn the_ssm_transit_gateway_lifecycle_with_drift_repair() {
        deleted_access_entry_and_route_are_repaired(TOFU);
    }

    #[test]
    fn an_ira_cluster_trusts_only_its_anchor_and_each_nodes_cn() {
        ira_cluster_trusts_only_its_anchor_and_each_nodes_cn(TOFU);
    }

    #[test]
    fn a_private_ca_anchors_the_nodes_trust_and_a_ca_not_active_fails_at_plan() {
        private_ca_lifecycle(TOFU);
    }

    #[test]
    fn import_by_command_plans_no_changes() {
        import_by_command(TOFU);
    }

    #[test]
    fn import_by_block_adopts_the_cluster() {
        import_by_block(TOFU);
    }

    #[test]
    fn import_by_identity_plans_no_changes() {
        import_by_identity(TOFU);
    }

    #[test]
    fn a_destroy_plan_says_what_goes_and_what_stays() {
        destroy_plan_says_what_goes(TOFU);
    }

    #[test]
    fn ctrl_c_during_apply_stops_cleanly() {
        ctrl_c_during_apply(TOFU);
    }

    #[test]
    fn logs_follow_tf_log_and_never_carry_secrets() {
        logs_follow_tf_log(TOFU);
    }

    #[test]
    fn an_unknown_provider_configuration_plans_without_aws_calls() {
        unknown_provider_configuration_plans(TOFU);
    }

    #[test]
    fn an_unknown_default_tag_applies_and_then_plans_no_changes() {
        unknown_default_tag_applies(TOFU);
    }

    /// OpenTofu asks GetFunctions for a function the provider's schema does not list: the
    /// answer lets it name the function instead of failing on the protocol.
    #[test]
    fn a_call_to_a_function_the_provider_lacks_names_it() {
        let tb = common::testbed();
        let ws = Workspace::new(
            TOFU,
            &tb,
            "output \"x\" {\n  value = provider::eks::nope(\"a\")\n}\n",
        );
        let plan = ws.run(&["plan", "-input=false", "-no-color"]);
        assert_eq!(plan.code, 1, "{}", plan.all());
        let text = plan.text();
        assert!(
            text.contains("Function not found in provider")
                && text.contains("\"provider::eks::nope\" was not registered by provider"),
            "{}",
            plan.all()
        );
        assert!(!text.contains("Unsupported plugin method"), "{text}");
    }
}

/// `provider::eks::cilium_values` renders the EKS user guide's `cilium-values.yaml` for the
/// cluster's pod networks, as real YAML, under each CLI; a CIDR Cilium could not pool fails
/// at its argument.
/// A file read by a Python library (`load` sets `data` from `path`), as JSON: the reader the
/// format's users have, not ours.
fn parsed_by_python(path: &std::path::Path, load: &str) -> serde_json::Value {
    let script = format!("import json, sys\npath = sys.argv[1]\n{load}\nprint(json.dumps(data))");
    let out = std::process::Command::new(common::repo().join(".tools/venv/bin/python"))
        .args(["-c", &script])
        .arg(path)
        .output()
        .expect("python");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{} does not parse: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn cilium_values_render(tf: &str) {
    let tb = common::testbed();
    let ws = Workspace::new(
        tf,
        &tb,
        "output \"values\" {\n  value = provider::eks::cilium_values([\"10.86.30.0/23\", \"10.87.0.0/16\"], 25)\n}\n",
    );
    ws.apply();
    let yaml = ws.ok(&["output", "-raw", "values"]).stdout;
    std::fs::write(ws.work().join("values.yaml"), &yaml).unwrap();
    let v = parsed_by_python(
        &ws.work().join("values.yaml"),
        "import yaml; data = yaml.safe_load(open(path))",
    );
    let hybrid = serde_json::json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "eks.amazonaws.com/compute-type", "operator": "In", "values": ["hybrid"]}]}]}}});
    assert_eq!(
        v,
        serde_json::json!({
            "affinity": hybrid,
            "ipam": {"mode": "cluster-pool", "operator": {"clusterPoolIPv4MaskSize": 25, "clusterPoolIPv4PodCIDRList": ["10.86.30.0/23", "10.87.0.0/16"]}},
            "loadBalancer": {"serviceTopology": true},
            "operator": {"affinity": hybrid, "unmanagedPodWatcher": {"restart": false}},
            "envoy": {"enabled": false},
        }),
        "{tf}: {yaml}"
    );
    ws.write(
        "output \"values\" {\n  value = provider::eks::cilium_values([\"10.86.30.0/23\"], 25, \"hybrid_nodes_gateway\")\n}\n",
    );
    ws.apply();
    let yaml = ws.ok(&["output", "-raw", "values"]).stdout;
    assert!(
        yaml.ends_with("envoy:\n  enabled: false\nvtep:\n  enabled: true\nl7Proxy: false\n"),
        "{tf}: the Hybrid Nodes gateway's settings: {yaml}"
    );
    ws.write(
        "output \"values\" {\n  value = provider::eks::cilium_values([\"10.86.30.0/23\"], 22)\n}\n",
    );
    let refused = ws.run(&["plan", "-input=false", "-no-color"]);
    assert!(
        refused.code == 1
            && refused
                .text()
                .contains("does not fit in the pod CIDR 10.86.30.0/23"),
        "{tf}: {}",
        refused.all()
    );
}

#[test]
fn cilium_values_are_the_documented_ones_in_terraform_and_opentofu() {
    cilium_values_render(TF_NEW);
    cilium_values_render(TOFU);
}

/// `terraform query` with the `eks_hybrid_cluster` list resource: find, generate
/// configuration, import with no change.
mod query {
    use super::*;

    const QUERY: &str = "list \"eks_hybrid_cluster\" \"all\" {\n  provider = eks\n}\n";

    /// `terraform query -generate-config-out=clusters.tf` in `ws`, and what it wrote.
    fn generate(ws: &Workspace) -> String {
        std::fs::write(ws.work().join("clusters.tfquery.hcl"), QUERY).unwrap();
        let listed = ws.ok(&["query", "-no-color"]);
        assert!(
            listed.stdout.contains("list.eks_hybrid_cluster.all"),
            "{}",
            listed.all()
        );
        ws.ok(&["query", "-no-color", "-generate-config-out=clusters.tf"]);
        std::fs::read_to_string(ws.work().join("clusters.tf")).unwrap()
    }

    /// Plan imports one cluster and changes nothing; apply; then a plan with no changes.
    fn imports_with_no_change(ws: &Workspace) {
        let plan = ws.plan_code();
        assert!(
            plan.stdout
                .contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
            "{}",
            plan.all()
        );
        ws.apply();
        let again = ws.plan_code();
        assert_eq!(again.code, 0, "{}", again.all());
    }

    #[test]
    fn a_cluster_this_provider_made_is_found_and_adopted_with_its_objects() {
        let (c, tgw) = ssm_cluster(TF_NEW, "");
        let ws = Workspace::new(TF_NEW, &c.tb, "");
        let generated = generate(&ws);
        for expected in [
            "resource \"eks_hybrid_cluster\" \"all_0\"",
            "name = \"hybrid-demo\"",
            &format!("vpc_gateway_id = \"{tgw}\""),
            "cidrs = [\"10.80.146.0/24\"]",
            "identity = {",
            "account_id = \"123456789012\"",
        ] {
            let folded = generated.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(folded.contains(expected), "{expected}:\n{generated}");
        }
        imports_with_no_change(&ws);
        assert_eq!(
            ws.state()["owned_objects"],
            c.state()["owned_objects"],
            "the adopted cluster owns what the provider created"
        );
        // Destroy from the adopting state: everything goes.
        common::destroy_leaves_nothing(&c.tb, &ws, &c.before);
    }

    #[test]
    fn a_cluster_made_as_eksctl_makes_it_is_adopted_and_destroy_keeps_its_vpc_and_roles() {
        let tb = common::testbed();
        let made = common::made_as_eksctl_makes_it(&tb, "legacy");
        // A cluster made elsewhere carries no ownership tag, so the boundary policy lets the
        // provider change or delete nothing of it: adopting one takes the unbounded policy (or
        // an administrator tagging it first), as the README says.
        common::restrict_to(&tb, "ssm-unbounded");
        let ws = Workspace::new(TF_NEW, &tb, "");
        let generated = generate(&ws);
        let folded = generated.split_whitespace().collect::<Vec<_>>().join(" ");
        for expected in [
            "name = \"legacy\"".to_string(),
            format!("id = \"{}\"", made.vpc),
            format!("\"{}\"", made.subnets[0]),
            format!("role_arn = \"{}\"", made.nodes_role_arn),
            "cidrs = [\"10.200.0.0/24\"]".to_string(),
            "cidrs = [\"10.201.0.0/16\"]".to_string(),
        ] {
            assert!(folded.contains(&expected), "{expected}:\n{generated}");
        }
        imports_with_no_change(&ws);
        let before_destroy = tb.inventory();
        ws.destroy();
        common::wait_for_no_clusters(&tb);
        let after = tb.inventory();
        for kept in [&made.vpc, &made.subnets[0], &made.subnets[1]] {
            assert!(
                after.iter().any(|o| o.contains(kept.as_str())),
                "{kept} must stay: {after:?}"
            );
        }
        for role in [
            "eksctl-legacy-cluster-ServiceRole",
            "eksctl-legacy-cluster-RemoteNodesRole",
        ] {
            assert!(
                after.iter().any(|o| o.contains(role)),
                "{role} must stay: {after:?}"
            );
        }
        // Gone: the cluster, its access entry, and the security group EKS made with it (EKS
        // deletes that one itself).
        let gone: Vec<&String> = before_destroy
            .iter()
            .filter(|o| !after.contains(o))
            .collect();
        let cluster_sg = &made.cluster_security_group;
        assert_eq!(
            gone,
            [
                &format!("DescribeSecurityGroups:{cluster_sg}"),
                &format!("access_entry:legacy:{}", made.nodes_role_arn),
                &"cluster:legacy".to_string(),
            ],
            "destroy removed only the cluster and what belongs to it"
        );
        assert!(tb.denied_calls().is_empty(), "{:?}", tb.denied_calls());
    }
}

/// `data "eks_hybrid_cluster"`: a cluster read by name from another state.
mod data_source {
    use super::*;

    const READ: &str = r#"
data "eks_hybrid_cluster" "x" {
  name = "NAME"
}
output "cluster" {
  value = data.eks_hybrid_cluster.x
}
"#;

    /// The data source's attributes, read by `tf` in a workspace of its own.
    fn read(tf: &str, tb: &Testbed, name: &str) -> serde_json::Value {
        let ws = Workspace::new(tf, tb, &READ.replace("NAME", name));
        ws.apply();
        let out = ws.ok(&["output", "-json", "-no-color"]);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        v["cluster"]["value"].clone()
    }

    #[test]
    fn a_cluster_this_provider_made_reads_as_its_state_on_both_terraform_versions() {
        let (c, _) = ssm_cluster(TF_NEW, "");
        let s = c.state();
        for tf in [TF_NEW, TF_OLD] {
            let d = read(tf, &c.tb, "hybrid-demo");
            for (data, resource) in [
                ("arn", "arn"),
                ("endpoint", "endpoint"),
                ("certificate_authority_data", "certificate_authority_data"),
                ("vpc_id", "vpc_id"),
                ("remote_nodes_role_arn", "remote_nodes_role_arn"),
                ("node_config", "node_config"),
                ("kubernetes_version", "kubernetes_version"),
                ("created_at", "created_at"),
            ] {
                assert!(!d[data].is_null(), "{tf}: {data} is null: {d}");
                assert_eq!(d[data], s[resource], "{tf}: {data}");
            }
            assert_eq!(
                d["remote_node_cidrs"],
                serde_json::json!(["10.80.146.0/24"])
            );
            assert_eq!(d["remote_pod_cidrs"], serde_json::json!(["10.86.30.0/23"]));
            assert_eq!(d["credentials_provider"], "SSM");
        }
        // Reading owns nothing: the cluster's own plan is unchanged and destroy is complete.
        c.plans_no_changes("a data source read changes nothing");
        c.destroy_leaves_nothing();
    }

    #[test]
    fn a_cluster_made_as_eksctl_makes_it_reads_and_a_missing_one_is_named() {
        let tb = common::testbed();
        let made = common::made_as_eksctl_makes_it(&tb, "legacy");
        let d = read(TF_NEW, &tb, "legacy");
        assert_eq!(d["remote_nodes_role_arn"], made.nodes_role_arn.as_str());
        assert_eq!(d["remote_node_cidrs"], serde_json::json!(["10.200.0.0/24"]));
        assert_eq!(d["remote_pod_cidrs"], serde_json::json!(["10.201.0.0/16"]));
        assert!(
            d["remote_nodes_trust_anchor_arn"].is_null()
                && d.get("remote_nodes_trust_anchor_arn").is_some()
        );
        let node_config = d["node_config"].as_str().unwrap();
        assert!(
            node_config.contains("name: legacy") && node_config.contains("activationId"),
            "{node_config}"
        );
        let ws = Workspace::new(TF_NEW, &tb, &READ.replace("NAME", "nope"));
        let r = ws.run(&["plan", "-input=false", "-no-color"]);
        assert_eq!(r.code, 1);
        assert!(
            r.text().contains("No EKS cluster named \"nope\""),
            "{}",
            r.all()
        );
    }
}

/// For the people who work on the provider: `-debug` and crash reports.
mod provider_developers {
    use super::*;
    use std::io::BufRead;

    /// `-debug` prints a `TF_REATTACH_PROVIDERS` value; Terraform runs against that process,
    /// run after run, until it is interrupted.
    #[test]
    fn debug_mode_serves_terraform_run_after_run_through_reattach() {
        let tb = common::testbed();
        let tgw = tb.seed().transit_gateway;
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut child = std::process::Command::new(common::provider_binary())
            .arg("-debug")
            .env("TF_LOG_PROVIDER", "DEBUG")
            .env("AWS_ENDPOINT_URL", &tb.url)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("TF_PLUGIN_MAGIC_COOKIE")
            .stdout(std::process::Stdio::piped())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap();
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let reattach = stdout
            .lines()
            .map_while(Result::ok)
            .find_map(|l| {
                l.trim()
                    .strip_prefix("TF_REATTACH_PROVIDERS='")
                    .map(|v| v.trim_end_matches('\'').to_string())
            })
            .expect("a TF_REATTACH_PROVIDERS line");
        let v: serde_json::Value = serde_json::from_str(&reattach).unwrap();
        let p = &v["registry.terraform.io/local/eks"];
        assert_eq!(p["Pid"], child.id());
        assert_eq!(
            (p["ProtocolVersion"].clone(), p["Test"].clone()),
            (6.into(), true.into())
        );
        assert_eq!(p["Addr"]["Network"], "unix", "{reattach}");
        let socket = std::path::PathBuf::from(p["Addr"]["String"].as_str().unwrap());
        only_its_owner_can_reach(&socket);
        let ws = Workspace::new(TF_NEW, &tb, &ssm_config(&tgw, ""));
        for _ in 0..2 {
            let plan = ws.run_env(
                &["plan", "-input=false", "-no-color"],
                &[("TF_REATTACH_PROVIDERS", reattach.as_str())],
            );
            assert_eq!(plan.code, 0, "{}", plan.all());
            assert!(plan.stdout.contains("1 to add"), "{}", plan.stdout);
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the debug process outlives each run"
        );
        std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "Ctrl-C ends it cleanly: {status}");
        assert!(
            !socket.parent().unwrap().exists(),
            "the socket's folder goes with the process"
        );
        let served = std::fs::read_to_string(log.path()).unwrap();
        assert_eq!(
            served.matches("\"planning\"").count(),
            2,
            "both plans reached this process:\n{served}"
        );
    }

    /// The socket's folder is 0700 and the socket 0600; and where the test runs as root, a
    /// process of another user (nobody, uid 65534) tries to connect and is refused.
    fn only_its_owner_can_reach(socket: &std::path::Path) {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let folder = std::fs::metadata(socket.parent().unwrap()).unwrap();
        assert_eq!(folder.permissions().mode() & 0o777, 0o700, "{socket:?}");
        let me = std::fs::metadata(socket).unwrap();
        assert_eq!(me.permissions().mode() & 0o777, 0o600, "{socket:?}");
        assert_eq!(me.uid(), folder.uid());
        std::os::unix::net::UnixStream::connect(socket).expect("its owner connects");
        if me.uid() != 0 {
            eprintln!("not root: another user's connection is not tried, the modes are checked");
            return;
        }
        let attempt = |uid: u32| {
            use std::os::unix::process::CommandExt;
            let out = std::process::Command::new("python3")
                .args([
                    "-c",
                    "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect(sys.argv[1]); print('connected')\nexcept OSError as e:\n    print(type(e).__name__)",
                ])
                .arg(socket)
                .uid(uid)
                .gid(uid)
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        assert_eq!(attempt(65534), "PermissionError", "another user is refused");
        assert_eq!(
            attempt(0),
            "connected",
            "the same test, as its owner, connects"
        );
    }

    fn a_panic_shows_as_a_crash_report(tf: &str) {
        let tb = common::testbed();
        let ws = Workspace::new(tf, &tb, &ssm_config("tgw-0123456789abcdef0", ""));
        let plan = ws.run_env(
            &["plan", "-input=false", "-no-color"],
            &[("TF_EKS_TEST_PANIC", "1")],
        );
        assert_eq!(plan.code, 1, "{}", plan.all());
        let text = plan.all();
        for expected in [
            "Stack trace from the terraform-provider-eks_v0.1.0 plugin:",
            "panic: TF_EKS_TEST_PANIC is set: planning eks_hybrid_cluster panics on purpose",
            "Error: The terraform-provider-eks_v0.1.0 plugin crashed!",
        ] {
            assert!(text.contains(expected), "{tf}: {expected}:\n{text}");
        }
    }

    #[test]
    fn a_panic_shows_as_a_crash_report_in_terraform() {
        a_panic_shows_as_a_crash_report(TF_NEW);
    }

    /// OpenTofu 1.12.6 records plugin panics only from go-plugin's Debug lines
    /// (internal/logging/panic.go), but its go-plugin v1.7.0 forwards `panic: ` lines at Error
    /// (client.go), so no provider's crash report reaches its UI: it says "Plugin did not
    /// respond", and the panic shows under TF_LOG.
    #[test]
    fn a_panic_reaches_opentofus_log() {
        let tb = common::testbed();
        let ws = Workspace::new(TOFU, &tb, &ssm_config("tgw-0123456789abcdef0", ""));
        let plan = ws.run_env(
            &["plan", "-input=false", "-no-color"],
            &[("TF_EKS_TEST_PANIC", "1"), ("TF_LOG", "ERROR")],
        );
        assert_eq!(plan.code, 1, "{}", plan.all());
        let text = plan.all();
        assert!(text.contains("Plugin did not respond"), "{text}");
        let line = text
            .lines()
            .find(|l| l.contains("panic: TF_EKS_TEST_PANIC is set"))
            .unwrap_or_else(|| panic!("the panic is in the log:\n{text}"));
        assert!(line.contains("[ERROR]"), "{line}");
    }
}

/// Secrets that never reach state: an ephemeral activation, rendered into one node's
/// NodeConfig by `provider::eks::node_config`, handed to a provisioner.
mod ephemeral_activation {
    use super::*;

    fn config(tgw: &str) -> String {
        format!(
            r#"{}
ephemeral "eks_hybrid_activation" "node" {{
  cluster_name = eks_hybrid_cluster.this.id
  ttl          = "30m"
}}
resource "terraform_data" "node" {{
  provisioner "local-exec" {{
    command = "printf '%s' \"$NODE_CONFIG\" > node.yaml && printf '%s' \"$BOTTLEROCKET\" > settings.toml"
    environment = {{
      NODE_CONFIG = provider::eks::node_config(eks_hybrid_cluster.this.node_config, {{
        activation_id   = ephemeral.eks_hybrid_activation.node.activation_id
        activation_code = ephemeral.eks_hybrid_activation.node.activation_code
      }})
      BOTTLEROCKET = provider::eks::bottlerocket_settings(
        eks_hybrid_cluster.this.node_config,
        eks_hybrid_cluster.this.endpoint,
        eks_hybrid_cluster.this.certificate_authority_data,
        {{
          hostname        = "edge-1"
          activation_id   = ephemeral.eks_hybrid_activation.node.activation_id
          activation_code = ephemeral.eks_hybrid_activation.node.activation_code
        }}
      )
    }}
  }}
}}
"#,
            ssm_config(tgw, "")
        )
    }

    /// Every activation, over DescribeActivations' pages.
    fn all_activations(tb: &Testbed) -> Vec<serde_json::Value> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let body = match &token {
                Some(t) => serde_json::json!({ "NextToken": t }).to_string(),
                None => "{}".to_string(),
            };
            let page = ssm_call(tb, "DescribeActivations", &body, true);
            all.extend(page["ActivationList"].as_array().unwrap().iter().cloned());
            match page["NextToken"].as_str() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return all,
            }
        }
    }

    fn an_activation_reaches_the_node_and_never_the_state(tf: &str) {
        let tb = common::testbed();
        common::restrict_to(&tb, "ssm");
        let tgw = tb.seed().transit_gateway;
        let before = tb.inventory();
        let ws = Workspace::new(tf, &tb, &config(&tgw));
        let applied = ws.apply();
        let node = std::fs::read_to_string(ws.work().join("node.yaml")).unwrap();
        let listed = all_activations(&tb);
        let ours = listed
            .iter()
            .find(|a| a["Description"] == "eks_hybrid_activation for hybrid-demo")
            .unwrap_or_else(|| panic!("{listed:?}"))
            .clone();
        let id = ours["ActivationId"].as_str().unwrap();
        assert_eq!(ours["IamRole"], NODES_ROLE);
        let code = tb.control("GET", "objects", "")["activation_codes"][id]
            .as_str()
            .map(str::to_string);
        assert!(
            node.contains("kind: NodeConfig")
                && node.contains("name: hybrid-demo")
                && node.contains(&format!("activationId: \"{id}\"")),
            "{tf}: {node}"
        );
        let node_code = node
            .lines()
            .find_map(|l| l.trim().strip_prefix("activationCode: \""))
            .map(|c| c.trim_end_matches('"').to_string())
            .expect("an activation code in the NodeConfig");
        if let Some(code) = code {
            assert_eq!(node_code, code, "the code SSM issued");
        }
        assert!(node_code.len() >= 16, "{node_code}");
        bottlerocket_settings_join_with(&ws, tf, id, &node_code);
        // Neither the state nor any output carries it.
        let raw_state = std::fs::read_to_string(ws.work().join("terraform.tfstate")).unwrap();
        let shown = ws.ok(&["show", "-json", "-no-color"]).stdout;
        for (what, text) in [
            ("state", &raw_state),
            ("show -json", &shown),
            ("apply output", &applied.all()),
        ] {
            assert!(
                !text.contains(&node_code),
                "{tf}: the code is in the {what}"
            );
        }
        let plan = ws.plan_code();
        assert_eq!(plan.code, 0, "{tf}: {}", plan.all());
        assert!(!plan.all().contains(&node_code));
        ws.destroy();
        // What is left is what was there, plus the activations this configuration opened,
        // which expire by themselves within their ttl.
        let after = tb.inventory();
        let extra: Vec<&String> = after.iter().filter(|o| !before.contains(o)).collect();
        let listed = all_activations(&tb);
        for o in &extra {
            let id = o
                .strip_prefix("activation:")
                .unwrap_or_else(|| panic!("{o} leaked"));
            let a = listed
                .iter()
                .find(|a| a["ActivationId"] == id)
                .unwrap_or_else(|| panic!("{id} not in {listed:?}"));
            assert_eq!(a["Description"], "eks_hybrid_activation for hybrid-demo");
            let expires = a["ExpirationDate"]
                .as_f64()
                .unwrap_or_else(|| panic!("{a}"));
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs_f64();
            assert!(expires <= now + 30.0 * 60.0 + 5.0, "{a}");
        }
        // One per run that evaluated it: apply, the no-change plan, and destroy's plan.
        assert_eq!(extra.len(), 3, "{extra:?}");
        assert!(tb.denied_calls().is_empty(), "{:?}", tb.denied_calls());
    }

    /// The settings.toml Bottlerocket boots with, parsed by Python's TOML reader: the cluster
    /// as EKS shows it, the keys the EKS user guide's "Connect hybrid nodes with Bottlerocket"
    /// lists, and the bootstrap command with this node's activation.
    fn bottlerocket_settings_join_with(ws: &Workspace, tf: &str, id: &str, code: &str) {
        let toml = parsed_by_python(
            &ws.work().join("settings.toml"),
            "import tomllib; data = tomllib.load(open(path, 'rb'))",
        );
        let s = &toml["settings"];
        let shown: serde_json::Value =
            serde_json::from_str(&ws.ok(&["show", "-json", "-no-color"]).stdout).unwrap();
        let cluster = shown["values"]["root_module"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == "eks_hybrid_cluster")
            .map(|r| r["values"].clone())
            .unwrap();
        assert!(cluster["endpoint"]
            .as_str()
            .is_some_and(|e| e.starts_with("https://")));
        let k = &s["kubernetes"];
        assert_eq!(k["cluster-name"], "hybrid-demo", "{tf}: {toml}");
        assert_eq!(k["api-server"], cluster["endpoint"], "{tf}");
        assert_eq!(
            k["cluster-certificate"], cluster["certificate_authority_data"],
            "{tf}"
        );
        assert_eq!(k["hostname-override"], "edge-1");
        assert_eq!(
            k["provider-id"],
            "eks-hybrid:///us-west-2/hybrid-demo/edge-1"
        );
        assert_eq!(k["authentication-mode"], "aws");
        assert_eq!(k["server-tls-bootstrap"], true);
        assert_eq!(
            k["node-labels"],
            serde_json::json!({"eks.amazonaws.com/compute-type": "hybrid", "eks.amazonaws.com/hybrid-credential-provider": "ssm"})
        );
        assert_eq!(
            k["credential-providers"]["ecr-credential-provider"]["enabled"],
            true
        );
        assert_eq!(s["network"]["hostname"], "edge-1");
        assert_eq!(s["aws"]["region"], "us-west-2");
        assert_eq!(s["host-containers"]["control"]["enabled"], true);
        let setup = &s["bootstrap-containers"]["eks-hybrid-setup"];
        assert_eq!(setup["mode"], "always");
        let command =
            aws_smithy_types::base64::decode(setup["user-data"].as_str().unwrap()).unwrap();
        assert_eq!(
            String::from_utf8(command).unwrap(),
            format!("eks-hybrid-ssm-setup --activation-id={id} --activation-code={code} --region=us-west-2"),
            "{tf}"
        );
    }

    fn ours(tb: &Testbed) -> Vec<serde_json::Value> {
        all_activations(tb)
            .into_iter()
            .filter(|a| a["Description"] == "eks_hybrid_activation for hybrid-demo")
            .collect()
    }

    /// Terraform opens the ephemeral activation at plan and again at apply; with
    /// `revoke_on_close` each is deleted when Terraform closes it, so no live registration
    /// code outlives the run, and the node still got its code during the apply.
    #[test]
    fn revoke_on_close_leaves_no_live_code_after_plan_or_apply() {
        let tb = common::testbed();
        common::restrict_to(&tb, "ssm");
        let tgw = tb.seed().transit_gateway;
        let before = tb.inventory();
        let revoking = config(&tgw).replace(
            "ttl          = \"30m\"",
            "ttl          = \"30m\"\n  revoke_on_close = true",
        );
        let ws = Workspace::new(TF_NEW, &tb, &revoking);
        ws.apply();
        let node = std::fs::read_to_string(ws.work().join("node.yaml")).unwrap();
        assert!(node.contains("activationCode: \""), "{node}");
        assert_eq!(ours(&tb), Vec::<serde_json::Value>::new(), "after apply");
        let plan = ws.plan_code();
        assert_eq!(plan.code, 0, "{}", plan.all());
        assert_eq!(ours(&tb), Vec::<serde_json::Value>::new(), "after plan");
        ws.destroy();
        assert_eq!(tb.inventory(), before);
        assert!(tb.denied_calls().is_empty(), "{:?}", tb.denied_calls());
    }

    /// SSM gives the same answer for a role still propagating and a role that is gone; IAM
    /// tells them apart, so an activation for a deleted role fails at once, naming it, with
    /// one CreateActivation rather than retries through the propagation window.
    #[test]
    fn an_activation_for_a_deleted_role_fails_at_once_naming_it() {
        let (c, tgw) = ssm_cluster(TF_NEW, "");
        delete_nodes_role(&c.tb);
        c.ws.write(&config(&tgw));
        c.tb.control("DELETE", "calls", "");
        let plan = c.ws.run(&["plan", "-input=false", "-no-color"]);
        let creates =
            c.tb.calls()
                .iter()
                .filter(|x| x["operation"] == "CreateActivation")
                .count();
        assert!(
            plan.code == 1
                && plan
                    .text()
                    .contains(&format!("The role {NODES_ROLE} does not exist"))
                && creates == 1,
            "{creates} CreateActivation calls:\n{}",
            plan.all()
        );
    }

    #[test]
    fn an_activation_reaches_the_node_and_never_the_state_in_terraform() {
        an_activation_reaches_the_node_and_never_the_state(TF_NEW);
    }

    #[test]
    fn an_activation_reaches_the_node_and_never_the_state_in_opentofu() {
        an_activation_reaches_the_node_and_never_the_state(TOFU);
    }
}

/// Living beside the EKS Hybrid Nodes gateway, which writes the pod CIDR routes itself.
mod hybrid_nodes_gateway {
    use super::*;

    const NODES: &str = "10.80.146.0/24";
    const PODS: &str = "10.86.30.0/23";
    const BY_GATEWAY: &str = "pod_routes_by_hybrid_nodes_gateway = true";

    fn route_table_ids(c: &Applied) -> Vec<String> {
        c.state()["route_table_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }

    /// The gateway's ENI, as the gateway's own route target.
    fn gateway_eni(c: &Applied) -> String {
        let subnet = c.state()["private_subnet_ids"][0]
            .as_str()
            .unwrap()
            .to_string();
        let x = c.tb.query(
            "ec2",
            &format!("Action=CreateNetworkInterface&SubnetId={subnet}"),
        );
        common::xml_values(&x, "networkInterfaceId")[0].clone()
    }

    #[test]
    fn pod_routes_are_left_to_the_gateway_and_its_routes_are_not_drift() {
        let (c, tgw) = ssm_cluster(TF_NEW, BY_GATEWAY);
        let ids = route_table_ids(&c);
        let s = c.state();
        let tables = common::route_tables_of(&c.tb, s["vpc_id"].as_str().unwrap());
        // The list names the table of every subnet the cluster uses.
        for key in ["public_subnet_ids", "private_subnet_ids"] {
            for subnet in s[key].as_array().unwrap() {
                let t = tables
                    .iter()
                    .find(|t| t.subnets.iter().any(|x| x == subnet.as_str().unwrap()))
                    .unwrap();
                assert!(ids.contains(&t.id), "{} not in {ids:?}", t.id);
            }
        }
        for t in tables.iter().filter(|t| ids.contains(&t.id)) {
            assert_eq!(t.routes.get(NODES), Some(&tgw), "{}", t.id);
            assert_eq!(t.routes.get(PODS), None, "{}: no pod route of ours", t.id);
        }
        let eni = gateway_eni(&c);
        for rtb in &ids {
            c.tb.query(
                "ec2",
                &format!("Action=CreateRoute&RouteTableId={rtb}&DestinationCidrBlock={PODS}&NetworkInterfaceId={eni}"),
            );
        }
        c.plans_no_changes("pod routes the gateway writes are not drift");
        // The node routes are still the provider's to repair.
        c.tb.query(
            "ec2",
            &format!(
                "Action=DeleteRoute&RouteTableId={}&DestinationCidrBlock={NODES}",
                ids[0]
            ),
        );
        c.drift_shows(&[&format!("route/{}/{NODES}", ids[0])]);
        c.repair();
        c.destroy_leaves_nothing();
    }

    #[test]
    fn switching_to_the_gateway_changes_in_place_and_leaves_the_pod_routes_for_it() {
        let (c, tgw) = ssm_cluster(TF_NEW, "");
        let ids = route_table_ids(&c);
        c.ws.write(&ssm_config(&tgw, BY_GATEWAY));
        c.plans_in_place();
        c.repair();
        let owned = c.state()["owned_objects"].clone();
        let routes: Vec<&String> = owned
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("route/"))
            .collect();
        assert!(
            routes.iter().all(|k| !k.ends_with(PODS)) && routes.iter().any(|k| k.ends_with(NODES)),
            "the provider owns node routes only: {routes:?}"
        );
        // Control plane ingress from the pods stays: webhooks and kubectl exec still need it.
        assert_eq!(
            owned[format!(
                "security_group_rule/{}/tcp443/{PODS}",
                c.state()["control_plane_security_group_id"]
                    .as_str()
                    .unwrap()
            )],
            "ok"
        );
        let tables = common::route_tables_of(&c.tb, c.state()["vpc_id"].as_str().unwrap());
        for t in tables.iter().filter(|t| ids.contains(&t.id)) {
            assert_eq!(
                t.routes.get(PODS),
                Some(&tgw),
                "left for the gateway to take over"
            );
        }
        // Back again: the pod routes the gateway was left are taken back, whether it kept
        // them (RouteAlreadyExists) or repointed one to its own interface.
        let first = tables.iter().find(|t| ids.contains(&t.id)).unwrap();
        let eni = common::xml_values(
            &c.tb.query(
                "ec2",
                &format!(
                    "Action=CreateNetworkInterface&SubnetId={}",
                    c.state()["private_subnet_ids"][0].as_str().unwrap()
                ),
            ),
            "networkInterfaceId",
        )[0]
        .clone();
        c.tb.query(
            "ec2",
            &format!(
                "Action=ReplaceRoute&RouteTableId={}&DestinationCidrBlock={PODS}&NetworkInterfaceId={eni}",
                first.id
            ),
        );
        c.ws.write(&ssm_config(&tgw, ""));
        c.repair();
        let tables = common::route_tables_of(&c.tb, c.state()["vpc_id"].as_str().unwrap());
        for t in tables.iter().filter(|t| ids.contains(&t.id)) {
            assert_eq!(t.routes.get(PODS), Some(&tgw), "taken back: {}", t.id);
        }
        c.tb.query(
            "ec2",
            &format!("Action=DeleteNetworkInterface&NetworkInterfaceId={eni}"),
        );
        c.destroy_leaves_nothing();
    }
}

/// Ctrl-C during a refresh (issue 18, item 3): AWS answers slowly (a minute a call), and the
/// plan stops at once, saying why, instead of Terraform waiting at "Gracefully shutting
/// down…" until the reads end. The state is untouched and the next plan is empty.
#[test]
fn ctrl_c_during_a_refresh_stops_at_once() {
    for tf in [TF_NEW, TOFU] {
        ctrl_c_during_refresh(tf);
    }
}

fn ctrl_c_during_refresh(tf: &str) {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let ws = Workspace::new(tf, &tb, &ssm_config(&tgw, ""));
    ws.apply();
    let before = ws.state();
    tb.control("POST", "latency", r#"{"ms": 60000}"#);
    let started = std::time::Instant::now();
    let reading = || started.elapsed() > std::time::Duration::from_secs(4);
    let (run, stopped_after) = ws.run_interrupted(&["plan", "-input=false", "-no-color"], reading);
    tb.control("POST", "latency", r#"{"ms": 0}"#);
    println!(
        "{tf}: plan stopped {:.2} s after Ctrl-C",
        stopped_after.as_secs_f64()
    );
    assert_ne!(
        run.code,
        0,
        "{tf}: an interrupted plan fails: {}",
        run.all()
    );
    assert!(
        stopped_after < std::time::Duration::from_secs(10),
        "{tf}: stopping took {stopped_after:?}: {}",
        run.all()
    );
    assert_eq!(ws.state(), before, "{tf}: the state is untouched");
    assert_eq!(ws.plan_code().code, 0, "{tf}: the next plan is empty");
    ws.destroy();
}

/// Issue 18, item 2, under the real CLIs: an in-place change planned with values only apply
/// knows (a tag from `terraform_data`) while EKS is slower to finish the update than the
/// update timeout. The apply fails naming the wait, never with "inconsistent result after
/// apply" (status and platform version were planned unknown, not carried); the next apply
/// completes the change and the plan after it is empty.
#[test]
fn an_in_place_change_that_outlasts_its_timeout_fails_cleanly_then_converges() {
    for tf in [TF_NEW, TOFU] {
        in_place_change_outlasting_its_timeout(tf);
    }
}

fn in_place_change_outlasting_its_timeout(tf: &str) {
    let (tb, vgw) = vgw_testbed();
    let config = |version: &str, tag: bool| {
        let base = vgw_config(&vgw, version, false, "10.80.146.0/24");
        let tags = if tag {
            "  tags = { build = terraform_data.build.output }\n  timeouts { update = \"2s\" }\n"
        } else {
            "  timeouts { update = \"2s\" }\n"
        };
        format!(
            "resource \"terraform_data\" \"build\" {{\n  input = \"b-{version}\"\n}}\n{}",
            base.replacen("  name ", &format!("{tags}  name "), 1)
        )
    };
    let c = Applied::new(tf, tb, &config("1.33", false));
    c.tb.set(&[("eks_update_ms", 6000)]);
    c.ws.write(&config("1.34", true));
    let slow =
        c.ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_ne!(slow.code, 0, "{tf}: {}", slow.all());
    assert!(
        !slow.all().contains("inconsistent") && slow.all().contains("timed out"),
        "{tf}: the apply fails on its timeout, not on Terraform's rules: {}",
        slow.all()
    );
    c.tb.set(&[("eks_update_ms", 200)]);
    std::thread::sleep(std::time::Duration::from_secs(6));
    let done =
        c.ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(done.code, 0, "{tf}: {}", done.all());
    let s = c.state();
    assert_eq!(s["kubernetes_version"], "1.34", "{tf}");
    assert_eq!(s["tags"]["build"], "b-1.34", "{tf}");
    c.plans_no_changes("the change is complete");
    c.destroy_leaves_nothing();
}

/// Issue 19, item 1: a brought nodes role under a path (`/teams/edge/`) gets its activation.
/// SSM takes the role with its path as `IamRole`; given the bare name it answers "Nonexistent
/// role", which the provider used to retry as IAM propagation until it gave up.
#[test]
fn an_activation_for_a_brought_role_with_a_path_names_the_path() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let trust = common::path_segment(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
    );
    tb.query(
        "iam",
        &format!("Action=CreateRole&RoleName=edge-nodes&Path=/teams/edge/&AssumeRolePolicyDocument={trust}"),
    );
    let config = format!(
        r#"
resource "eks_hybrid_cluster" "this" {{
  name = "hybrid-path"
  remote_network_config {{
    vpc_gateway_id = "{tgw}"
    remote_node_networks {{ cidrs = ["10.80.146.0/24"] }}
    iam {{ role_arn = "arn:aws:iam::123456789012:role/teams/edge/edge-nodes" }}
  }}
  ssm_activation {{}}
}}
"#
    );
    let c = Applied::new(TF_NEW, tb, &config);
    assert_eq!(c.first.code, 0, "{}", c.first.all());
    let listed = ssm_call(&c.tb, "DescribeActivations", "{}", true);
    assert_eq!(
        listed["ActivationList"][0]["IamRole"], "teams/edge/edge-nodes",
        "{listed}"
    );
    c.plans_no_changes("the activation is in place");
    c.destroy_leaves_nothing();
}

/// Issue 19, item 5: time passes. An activation expiring in a few seconds (written with an
/// offset, `+02:00`, as RFC 3339 allows) is created; once the date has passed, the plan is
/// empty (the expired activation is kept, not replaced with a new code on every plan, and the
/// date is no longer refused at validate) and destroy works.
#[test]
fn an_expired_activation_is_kept_and_its_date_stops_nothing() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let offset = time::UtcOffset::from_hms(2, 0, 0).unwrap();
    let expires = (time::OffsetDateTime::now_utc() + std::time::Duration::from_secs(25))
        .to_offset(offset)
        .replace_nanosecond(0)
        .unwrap();
    let text = expires
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert!(text.ends_with("+02:00"), "{text}");
    let c = Applied::new(
        TF_NEW,
        tb,
        &ssm_config(
            &tgw,
            &format!("ssm_activation {{ expiration = \"{text}\" }}"),
        ),
    );
    let id = activation_of(&c);
    let wait = expires - time::OffsetDateTime::now_utc() + time::Duration::seconds(3);
    std::thread::sleep(std::time::Duration::try_from(wait).unwrap_or_default());
    let listed = ssm_call(&c.tb, "DescribeActivations", "{}", true);
    assert_eq!(listed["ActivationList"][0]["Expired"], true, "{listed}");
    c.plans_no_changes("an activation that expired by itself is kept");
    assert_eq!(activation_of(&c), id);
    assert_eq!(activations(&c.tb), vec![id]);
    c.destroy_leaves_nothing();
}

/// Issue 19, item 4: a jump of two minor versions, or a downgrade, fails at plan, at
/// `kubernetes_version`, naming the versions to go through, with no write to AWS; EKS would
/// refuse it at apply.
#[test]
fn a_version_jump_or_downgrade_fails_at_plan_naming_the_steps() {
    let (tb, vgw) = vgw_testbed();
    let config = |version: &str| vgw_config(&vgw, version, false, "10.80.146.0/24");
    let c = Applied::new(TF_NEW, tb, &config("1.33"));
    for (version, expected) in [
        ("1.35", "From 1.33, apply 1.34, then 1.35 in turn."),
        (
            "1.32",
            "EKS does not downgrade a cluster: it runs Kubernetes 1.33",
        ),
    ] {
        c.ws.write(&config(version));
        c.tb.control("DELETE", "calls", "");
        let plan = c.ws.plan_code();
        assert_eq!(plan.code, 1, "{version}: {}", plan.all());
        let text = plan.text();
        assert!(
            text.contains(expected) && text.contains("kubernetes_version"),
            "{version}: {}",
            plan.all()
        );
        assert!(common::writes(&c.tb).is_empty(), "{version}: reads only");
    }
    c.ws.write(&config("1.34"));
    c.ws.apply();
    c.plans_no_changes("one step at a time applies");
    // A destroy plans the configuration first, so it meets the same refusal, which names the
    // destroy that does not.
    c.ws.write(&config("1.36"));
    let refused =
        c.ws.run(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
    assert!(
        refused.code == 1
            && refused.text().contains(
                "set kubernetes_version back to 1.34 or run `terraform destroy -refresh=false`"
            ),
        "{}",
        refused.all()
    );
    let destroyed = c.ws.run(&[
        "destroy",
        "-auto-approve",
        "-refresh=false",
        "-no-color",
        "-input=false",
    ]);
    assert_eq!(destroyed.code, 0, "{}", destroyed.all());
    assert_eq!(
        c.tb.inventory(),
        c.before,
        "destroy must leave nothing behind"
    );
}

/// Issue 19, item 2: EKS binds an access entry to the role's unique ID, not its ARN. The nodes
/// role is deleted and made again under the same name behind Terraform's back: the plan shows
/// the old entry as drift, and apply replaces it, so the entry is newer than the role nodes
/// assume. Before, the entry read `ok` and stayed bound to the deleted role.
#[test]
fn a_re_created_nodes_role_gets_a_new_access_entry() {
    let (c, _) = ssm_cluster(TF_NEW, "");
    let entry_created = |c: &Applied| {
        let (code, body) = common::access_entry(
            &c.tb,
            "hybrid-demo",
            &format!("arn:aws:iam::123456789012:role/{NODES_ROLE}"),
        );
        assert_eq!(code, 200, "{body}");
        body["accessEntry"]["createdAt"].as_f64().unwrap()
    };
    let first = entry_created(&c);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let doc = delete_nodes_role(&c.tb);
    c.tb.query(
        "iam",
        &format!(
            "Action=CreateRole&RoleName={NODES_ROLE}&AssumeRolePolicyDocument={}",
            common::path_segment(&doc.to_string())
        ),
    );
    let stale = |c: &Applied| c.tb.control("GET", "objects", "")["stale_access_entries"].clone();
    assert_eq!(
        stale(&c),
        serde_json::json!([format!(
            "hybrid-demo:arn:aws:iam::123456789012:role/{NODES_ROLE}"
        )]),
        "EKS binds the entry to the old role's ID"
    );
    c.drift_shows(&["access_entry/hybrid-demo"]);
    c.repair();
    assert!(
        entry_created(&c) > first,
        "the entry was made again for the new role"
    );
    assert_eq!(stale(&c), serde_json::json!([]), "bound to the new role");
    c.plans_no_changes("repaired");
    c.destroy_leaves_nothing();
}

/// Issue 30, item 12: the nodes role deleted outside Terraform (not made again). Apply makes
/// the role again; the old entry stays bound to the deleted role's ID, so it is drift too and
/// is made again after the role. Before, the plan showed only the role, and after the repair
/// the entry was stale: no node could authenticate.
#[test]
fn a_nodes_role_made_again_by_apply_gets_a_new_access_entry() {
    let (c, _) = ssm_cluster(TF_NEW, "");
    let principal = format!("arn:aws:iam::123456789012:role/{NODES_ROLE}");
    let stale = |c: &Applied| c.tb.control("GET", "objects", "")["stale_access_entries"].clone();
    delete_nodes_role(&c.tb);
    assert_eq!(
        stale(&c),
        serde_json::json!([format!("hybrid-demo:{principal}")]),
        "the entry is bound to the deleted role"
    );
    c.drift_shows(&[
        &format!(r#""iam_role/{NODES_ROLE}" = "missing""#),
        r#""access_entry/hybrid-demo" = "changed""#,
    ]);
    c.repair();
    assert_eq!(
        stale(&c),
        serde_json::json!([]),
        "bound to the role made again"
    );
    c.destroy_leaves_nothing();
}

/// The permissions boundary of the roles the provider makes: set on both at create (under the
/// published boundary policy), read back, put back when removed outside Terraform, changed in
/// place; and, outside that policy (which forbids it), dropped when the configuration drops it.
#[test]
fn role_permissions_boundary_is_set_read_back_repaired_and_changed_in_place() {
    let tb = common::testbed();
    common::restrict_to(&tb, "ssm");
    let tgw = tb.seed().transit_gateway;
    let c = Applied::new(TF_NEW, tb, &ssm_config(&tgw, ""));
    let boundary_of = |role: &str| {
        let x =
            c.tb.query("iam", &format!("Action=GetRole&RoleName={role}"));
        common::xml_values(&x, "PermissionsBoundaryArn")
            .into_iter()
            .next()
    };
    let roles = [NODES_ROLE, "hybrid-demo-eks-cluster-role"];
    for role in roles {
        assert_eq!(
            boundary_of(role).as_deref(),
            Some(common::BOUNDARY_ARN),
            "{role}"
        );
    }
    let s = c.state();
    assert_eq!(s["role_permissions_boundary"], common::BOUNDARY_ARN);
    for role in roles {
        assert_eq!(
            s["owned_objects"][format!("iam_role_permissions_boundary/{role}")],
            "ok",
            "{s}"
        );
    }
    c.plans_no_changes("the boundary reads back as configured");

    // Removed behind Terraform's back (by someone the published policy does not bind).
    c.tb.query(
        "iam",
        &format!("Action=DeleteRolePermissionsBoundary&RoleName={NODES_ROLE}"),
    );
    c.drift_shows(&[
        &format!("iam_role_permissions_boundary/{NODES_ROLE}"),
        r#""changed" -> "ok""#,
    ]);
    c.repair();
    assert_eq!(
        boundary_of(NODES_ROLE).as_deref(),
        Some(common::BOUNDARY_ARN)
    );

    // Another boundary under the path the policy names: in place.
    let doc = common::path_segment(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["eks:Describe*","ecr:GetAuthorizationToken"],"Resource":"*"}]}"#,
    );
    let x = c.tb.query(
        "iam",
        &format!("Action=CreatePolicy&Path=/terraform-provider-eks/&PolicyName=Tighter&PolicyDocument={doc}"),
    );
    let tighter = common::xml_values(&x, "Arn")[0].clone();
    let config = ssm_config(&tgw, "").replace(common::BOUNDARY_ARN, &tighter);
    c.ws.write(&config);
    c.plans_in_place();
    c.ws.apply();
    for role in roles {
        assert_eq!(
            boundary_of(role).as_deref(),
            Some(tighter.as_str()),
            "{role}"
        );
    }
    c.plans_no_changes("the new boundary is read back");
    assert!(c.tb.denied_calls().is_empty(), "{:?}", c.tb.denied_calls());

    // Dropping it removes the boundary: the published policy denies that, so it is done with
    // the unbounded policy.
    common::restrict_to(&c.tb, "ssm-unbounded");
    let unbounded = config.replace(&format!("role_permissions_boundary = \"{tighter}\""), "");
    c.ws.write(&unbounded);
    c.ws.apply();
    for role in roles {
        assert_eq!(boundary_of(role), None, "{role}");
    }
    c.plans_no_changes("no boundary, none read back");
    c.destroy_leaves_nothing();
}
