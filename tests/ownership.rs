//! Objects this provider did not create are never taken over. For every kind that carries a
//! name we would give our own (cluster, IAM roles, Roles Anywhere trust anchor and profile,
//! the control-plane security group in a pre-existing VPC, a VPC tagged for our cluster name),
//! a foreign one fails the plan at the attribute that chose the name, with no AWS write, and
//! survives plan, apply and destroy untouched.

mod common;

use common::{ca_pem, ssm_config, Testbed, Workspace, TF_NEW};

fn role_exists(tb: &Testbed, name: &str) -> bool {
    tb.call("iam", &format!("Action=GetRole&RoleName={name}"))
        .contains("<RoleName>")
}

/// The plan fails, naming each of `named` as taken, with only reads made.
fn plan_refuses(tb: &Testbed, ws: &Workspace, named: &[&str]) {
    tb.control("DELETE", "calls", "");
    let plan = ws.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(plan.code, 1, "{}", plan.all());
    let text = plan.text();
    for n in named {
        assert!(
            text.contains("Name already taken") && text.contains(n),
            "the plan names {n}:\n{}",
            plan.all()
        );
    }
    assert!(
        text.contains("terraform import") && text.contains("terraform query"),
        "the error points to import and query:\n{}",
        plan.all()
    );
    assert_eq!(common::writes(tb), Vec::<String>::new(), "plan made writes");
}

#[test]
fn a_cluster_made_elsewhere_with_our_name_fails_the_plan_and_destroy_leaves_it() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let made = common::made_as_eksctl_makes_it(&tb, "legacy");
    let before = tb.inventory();
    let config = ssm_config(&tgw, "").replace("\"hybrid-demo\"", "\"legacy\"");
    assert!(config.contains("\"legacy\""), "{config}");
    let ws = Workspace::new(TF_NEW, &tb, &config);
    plan_refuses(&tb, &ws, &["an EKS cluster named legacy"]);
    let plan = ws.run(&["plan", "-no-color", "-input=false"]);
    assert!(
        plan.stderr.contains("main.tf") && plan.stderr.contains("name"),
        "the error points at `name` in main.tf:\n{}",
        plan.all()
    );
    let apply = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(apply.code, 1, "{}", apply.all());
    ws.destroy();
    assert_eq!(tb.inventory(), before, "nothing made, nothing deleted");
    let (_, described) = tb.rest("eks", "GET", "/clusters/legacy", "");
    assert!(described.contains("\"ACTIVE\""), "{described}");
    assert!(described.contains(&made.vpc), "{described}");
}

#[test]
fn roles_trust_anchor_and_profile_with_our_names_fail_the_plan_and_survive() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    common::restrict_to(&tb, "ira");
    common::role(&tb, "own-eks-cluster-role", "eks.amazonaws.com");
    common::role(
        &tb,
        "own-eks-hybrid-nodes-role",
        "rolesanywhere.amazonaws.com",
    );
    let anchor = serde_json::json!({
        "name": "own-hybrid-nodes-CA",
        "source": {"sourceType": "CERTIFICATE_BUNDLE", "sourceData": {"x509CertificateData": ca_pem()}},
        "enabled": true,
    });
    let (code, out) = tb.rest(
        "rolesanywhere",
        "POST",
        "/trustanchors",
        &anchor.to_string(),
    );
    assert_eq!(code, 201, "{out}");
    let profile = serde_json::json!({
        "name": "own-hybrid-nodes",
        "roleArns": [format!("arn:aws:iam::{}:role/own-eks-hybrid-nodes-role", "123456789012")],
    });
    let (code, out) = tb.rest("rolesanywhere", "POST", "/profiles", &profile.to_string());
    assert_eq!(code, 201, "{out}");
    let before = tb.inventory();
    let ca = ca_pem();
    let ira = |name: &str| {
        format!(
            r#"
resource "eks_hybrid_cluster" "this" {{
  name = "{name}"
  role_permissions_boundary = "arn:aws:iam::123456789012:policy/terraform-provider-eks/EKSHybridRoleBoundary"
  remote_network_config {{
    vpc_gateway_id = "{tgw}"
    remote_node_networks {{ cidrs = ["10.80.146.0/24"] }}
    iam {{
      provider       = "IRA"
      ca_bundle_cert = <<-PEM
{ca}PEM
    }}
  }}
}}
"#
        )
    };
    let ws = Workspace::new(TF_NEW, &tb, &ira("own"));
    plan_refuses(
        &tb,
        &ws,
        &[
            "an IAM role named own-eks-cluster-role",
            "an IAM role named own-eks-hybrid-nodes-role",
            "an IAM Roles Anywhere trust anchor named own-hybrid-nodes-CA",
            "an IAM Roles Anywhere profile named own-hybrid-nodes",
        ],
    );
    ws.destroy();
    assert_eq!(tb.inventory(), before, "nothing made, nothing deleted");
    // Another name works beside them, and its destroy leaves them.
    ws.write(&ira("other"));
    ws.apply();
    ws.destroy();
    assert_eq!(tb.inventory(), before, "the foreign objects survive");
    assert!(role_exists(&tb, "own-eks-cluster-role"));
    assert!(role_exists(&tb, "own-eks-hybrid-nodes-role"));
    assert!(tb.denied_calls().is_empty(), "{:?}", tb.denied_calls());
}

#[test]
fn a_security_group_with_our_name_in_a_pre_existing_vpc_fails_the_plan_at_the_vpc() {
    let tb = common::testbed();
    let made = common::made_as_eksctl_makes_it(&tb, "legacy");
    let x = tb.query(
        "ec2",
        &format!(
            "Action=CreateSecurityGroup&VpcId={}&GroupName=mine-ControlPlaneSecurityGroup&GroupDescription=theirs",
            made.vpc
        ),
    );
    let sg = common::xml_values(&x, "groupId")[0].clone();
    let before = tb.inventory();
    let config = format!(
        r#"resource "eks_hybrid_cluster" "this" {{
  name = "mine"
  role_permissions_boundary = "arn:aws:iam::123456789012:policy/terraform-provider-eks/EKSHybridRoleBoundary"
  vpc {{
    id         = "{}"
    subnet_ids = ["{}", "{}"]
  }}
  remote_network_config {{
    remote_node_networks {{
      cidrs = ["10.80.146.0/24"]
    }}
  }}
}}
"#,
        made.vpc, made.subnets[0], made.subnets[1]
    );
    let ws = Workspace::new(TF_NEW, &tb, &config);
    plan_refuses(
        &tb,
        &ws,
        &["a security group named mine-ControlPlaneSecurityGroup"],
    );
    ws.destroy();
    assert_eq!(tb.inventory(), before);
    assert!(
        tb.inventory().iter().any(|o| o.contains(&sg)),
        "{sg} survives"
    );
}

/// The issue's two workspaces: the second uses the first's name. Its plan warns (the objects
/// carry our tag, as a tainted object of its own would), its apply stops before any write,
/// and its destroy removes nothing of the first's.
#[test]
fn a_second_workspace_with_the_same_name_changes_nothing_of_the_first() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    common::restrict_to(&tb, "ssm");
    let before = tb.inventory();
    let first = Workspace::new(TF_NEW, &tb, &ssm_config(&tgw, ""));
    first.apply();
    let with_first = tb.inventory();
    let second = Workspace::new(TF_NEW, &tb, &ssm_config(&tgw, ""));
    let plan = second.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.text().contains("Name already used by this provider")
            && plan.text().contains("an EKS cluster named hybrid-demo"),
        "{}",
        plan.all()
    );
    tb.control("DELETE", "calls", "");
    let apply = second.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(apply.code, 1, "{}", apply.all());
    assert!(
        apply
            .text()
            .contains("an EKS cluster named hybrid-demo already exists")
            && apply.text().contains("did not create it"),
        "{}",
        apply.all()
    );
    assert_eq!(
        common::writes(&tb),
        Vec::<String>::new(),
        "apply made writes"
    );
    assert!(second.state_resources().is_empty(), "nothing was created");
    second.destroy();
    assert_eq!(
        tb.inventory(),
        with_first,
        "the first's objects are untouched"
    );
    assert_eq!(first.plan_code().code, 0, "the first plans no changes");
    common::destroy_leaves_nothing(&tb, &first, &before);
}

/// Replacing a tainted cluster: Terraform hands its destroy no private state, and destroy
/// takes what the state names, not what carries the name (here another VPC tagged for the
/// same cluster name, as a second workspace's would be).
#[test]
fn destroy_takes_what_the_state_records_not_what_carries_the_name() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let x = tb.query("ec2", "Action=CreateVpc&CidrBlock=10.42.0.0/16");
    let foreign_vpc = common::xml_values(&x, "vpcId")[0].clone();
    tb.query(
        "ec2",
        &format!("Action=CreateTags&ResourceId.1={foreign_vpc}&Tag.1.Key=terraform-provider-eks/cluster&Tag.1.Value=hybrid-demo"),
    );
    let before = tb.inventory();
    let ws = Workspace::new(TF_NEW, &tb, &ssm_config(&tgw, ""));
    ws.apply();
    let vpc = ws.state()["vpc_id"].as_str().unwrap().to_string();
    assert_ne!(vpc, foreign_vpc);
    ws.ok(&["taint", "-no-color", "eks_hybrid_cluster.this"]);
    let replaced = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(replaced.code, 0, "{}", replaced.all());
    let inv = tb.inventory();
    assert!(inv.iter().any(|o| o.contains(&foreign_vpc)), "{inv:?}");
    assert!(
        !inv.iter().any(|o| o.contains(&vpc)),
        "the tainted VPC went: {inv:?}"
    );
    assert_eq!(ws.plan_code().code, 0);
    ws.destroy();
    assert_eq!(tb.inventory(), before, "only the foreign VPC is left");
}

/// Our cluster deleted outside Terraform, then another made under its name (as eksctl makes
/// it, in its own VPC). EKS names ARNs by name, so it has our cluster's ARN too; only when EKS
/// created it tells them apart. The refresh does not read it as ours, the plan fails at `name`
/// with no write, an apply planned without a refresh stops before any write, and destroy
/// deletes everything this state made but leaves that cluster, its access entry and the node
/// registered with it.
#[test]
fn a_cluster_made_under_our_name_after_ours_was_deleted_is_never_taken_over() {
    never_takes_over_a_cluster_made_under_its_name(TF_NEW);
}

#[test]
fn a_cluster_made_under_our_name_is_never_taken_over_in_opentofu() {
    never_takes_over_a_cluster_made_under_its_name(common::TOFU);
}

fn never_takes_over_a_cluster_made_under_its_name(tf: &str) {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let before = tb.inventory();
    let ws = Workspace::new(tf, &tb, &ssm_config(&tgw, ""));
    ws.apply();
    let ours_made: Vec<String> = tb
        .inventory()
        .into_iter()
        .filter(|o| !before.contains(o))
        .collect();
    let ours = ws.state();
    let arn = ours["arn"].as_str().unwrap().to_string();
    let created_at = ours["created_at"].as_str().unwrap().to_string();
    assert!(created_at.ends_with('Z'), "{created_at}");

    let (code, _) = tb.rest("eks", "DELETE", "/clusters/hybrid-demo", "");
    assert_eq!(code, 200);
    common::wait_for_no_clusters(&tb);
    // EKS reports creation to the second; on AWS a cluster takes minutes to make.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let theirs = common::made_as_eksctl_makes_it(&tb, "hybrid-demo");
    let activation = common::ssm_call(
        &tb,
        "CreateActivation",
        &serde_json::json!({
            "IamRole": theirs.nodes_role_arn.rsplit('/').next().unwrap(),
            "Tags": [{"Key": "EKSClusterARN", "Value": arn}],
        })
        .to_string(),
        true,
    );
    let their_node = common::register_node(
        &tb,
        activation["ActivationId"].as_str().unwrap(),
        activation["ActivationCode"].as_str().unwrap(),
    );
    let theirs_before = tb.inventory();

    // Each refusal names the cluster's time and makes no write.
    let refuses = |args: &[&str], says: &str| {
        tb.control("DELETE", "calls", "");
        let run = ws.run(args);
        assert!(
            run.code == 1
                && run.text().contains("Cluster name held by another cluster")
                && run.text().contains(says)
                && run.stderr.contains("main.tf"),
            "{}",
            run.all()
        );
        assert_eq!(common::writes(&tb), Vec::<String>::new(), "{args:?} wrote");
    };
    let ours_deleted = format!("(created at {created_at}) was deleted outside Terraform");
    refuses(&["plan", "-no-color", "-input=false"], &ours_deleted);
    // Planned without a refresh, a tag change reaches apply, which looks before writing.
    ws.write(&ssm_config(&tgw, "").replace("platform", "edge"));
    let no_refresh = [
        "-auto-approve",
        "-refresh=false",
        "-input=false",
        "-no-color",
    ];
    refuses(&[&["apply"], &no_refresh[..]].concat(), &ours_deleted);
    // A destroy plans the configuration first, and stops there, naming the way out.
    refuses(
        &["destroy", "-auto-approve", "-no-color", "-input=false"],
        "run `terraform destroy -refresh=false`",
    );
    let preview = ws.run(&[
        "plan",
        "-destroy",
        "-refresh=false",
        "-no-color",
        "-input=false",
    ]);
    assert!(
        preview.text().contains("Kept (not made by this provider): - the EKS cluster hybrid-demo: not the one this state created")
            && !preview.text().contains("deregistered"),
        "{}",
        preview.all()
    );
    let destroyed = ws.run(&[&["destroy"], &no_refresh[..]].concat());
    assert!(
        destroyed.code == 0
            && destroyed
                .text()
                .contains("Kept a cluster this state did not create"),
        "{}",
        destroyed.all()
    );
    // Everything this state made is gone; theirs, under the same cluster name, is all there.
    let left = tb.inventory();
    let mut expected: Vec<String> = theirs_before
        .iter()
        .filter(|o| !ours_made.contains(o) || o.as_str() == "cluster:hybrid-demo")
        .cloned()
        .collect();
    expected.sort();
    assert_eq!(left, expected);
    let (_, described) = tb.rest("eks", "GET", "/clusters/hybrid-demo", "");
    assert!(
        described.contains("\"ACTIVE\"") && described.contains(&theirs.vpc),
        "{described}"
    );
    let (code, _) = common::access_entry(&tb, "hybrid-demo", &theirs.nodes_role_arn);
    assert_eq!(code, 200, "their access entry stays");
    assert!(
        left.contains(&format!("managed_instance:{their_node}")),
        "their node stays registered: {left:?}"
    );
    let ours_left: Vec<&String> = left
        .iter()
        .filter(|o| !before.contains(o) && !theirs_before.contains(o))
        .collect();
    assert!(ours_left.is_empty(), "{ours_left:?}");
}
