//! The `eks_hybrid_nodes_deregister` action through the real Terraform 1.15.5 CLI: invoked
//! with `-invoke` and from a resource's `action_trigger`, on a testbed held to the SSM policy;
//! and OpenTofu, which has no actions, ignoring the capability.

mod common;

use common::{ssm_config, Applied, Testbed, TF_NEW, TOFU};

const NODES_ROLE: &str = "hybrid-demo-eks-hybrid-nodes-role";

/// The node's agent stopped reaching SSM `hours` ago.
fn goes_offline(tb: &Testbed, instance: &str, hours: u64) {
    let body = serde_json::json!({"instance_id": instance, "since_secs_ago": hours * 3600});
    tb.control("POST", "node-offline", &body.to_string());
}

fn managed_instances(tb: &Testbed) -> Vec<String> {
    tb.inventory()
        .into_iter()
        .filter_map(|o| o.strip_prefix("managed_instance:").map(str::to_string))
        .collect()
}

fn with_action(cluster: &str, action: &str) -> String {
    format!("{cluster}\n{action}")
}

const STALE: &str = r#"
action "eks_hybrid_nodes_deregister" "stale" {
  config {
    cluster_name = eks_hybrid_cluster.this.name
    offline_for  = "72h"
  }
}
"#;

const RETIRE_ALL: &str = r#"
action "eks_hybrid_nodes_deregister" "all" {
  config {
    cluster_name = eks_hybrid_cluster.this.name
    all_nodes    = true
  }
}

resource "terraform_data" "retired" {
  input = "retire the remaining nodes"
  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.eks_hybrid_nodes_deregister.all]
    }
  }
}
"#;

#[test]
fn the_action_deregisters_stale_nodes_with_a_line_per_node_and_runs_from_a_trigger() {
    let tb = common::testbed();
    common::restrict_to(&tb, "ssm");
    let tgw = tb.seed().transit_gateway;
    let cluster = ssm_config(&tgw, "ssm_activation { registration_limit = 3 }");
    let c = Applied::new(TF_NEW, tb, &cluster);
    let a = c.state()["ssm_activation"][0].clone();
    let (id, code) = (
        a["activation_id"].as_str().unwrap(),
        a["activation_code"].as_str().unwrap(),
    );
    let online = common::register_node(&c.tb, id, code);
    let stale = common::register_node(&c.tb, id, code);
    let recent = common::register_node(&c.tb, id, code);
    goes_offline(&c.tb, &stale, 4 * 24);
    goes_offline(&c.tb, &recent, 1);
    // A node of someone else's activation, in the same account, untagged.
    let (_, their_activation) = c.tb.json(
        "ssm",
        "AmazonSSM.CreateActivation",
        &serde_json::json!({"IamRole": NODES_ROLE, "Description": "not ours"}),
    );
    let theirs = common::register_node(
        &c.tb,
        their_activation["ActivationId"].as_str().unwrap(),
        their_activation["ActivationCode"].as_str().unwrap(),
    );
    goes_offline(&c.tb, &theirs, 30 * 24);

    // Neither selection: validate says which to give, at the attribute.
    c.ws.write(&with_action(
        &cluster,
        r#"action "eks_hybrid_nodes_deregister" "x" {
  config {
    cluster_name = "hybrid-demo"
  }
}"#,
    ));
    let v = c.ws.run(&["validate", "-no-color"]);
    assert_eq!(v.code, 1, "{}", v.all());
    assert!(
        v.text().contains("Which nodes?") && v.text().contains("Give offline_for"),
        "{}",
        v.all()
    );

    c.ws.write(&with_action(&cluster, STALE));
    c.tb.control("DELETE", "calls", "");
    let run = c.ws.ok(&[
        "apply",
        "-invoke=action.eks_hybrid_nodes_deregister.stale",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]);
    let out = run.text();
    // The plan, before approval, says which would go.
    assert!(
        out.contains("Warning: eks_hybrid_nodes_deregister would deregister 1 of the 3 hybrid node(s) of hybrid-demo as of this plan")
            && out.contains(&format!("- {stale} (hybrid-demo): ConnectionLost, last seen 4d0h ago"))
            && !out.contains(&format!("- {online}"))
            && !out.contains(&format!("- {recent}")),
        "{}",
        run.all()
    );
    for line in [
        "3 hybrid node(s) registered through the SSM activations of arn:aws:eks:us-west-2:123456789012:cluster/hybrid-demo".to_string(),
        // Each node by its ID and the name it registered with (the activation's default).
        format!("{stale} (hybrid-demo): deregistered (ConnectionLost, last seen 4d0h ago)"),
        format!("{online} (hybrid-demo): kept (Online)"),
        format!("{recent} (hybrid-demo): kept (ConnectionLost, last seen 1h0m ago, under offline_for 3d0h)"),
        "1 deregistered, 2 kept".to_string(),
    ] {
        assert!(out.contains(&line), "the run shows {line:?}:\n{}", run.all());
    }
    assert!(!out.contains(&theirs), "{}", run.all());
    let mut left = managed_instances(&c.tb);
    left.sort();
    let mut expected = vec![online.clone(), recent.clone(), theirs.clone()];
    expected.sort();
    assert_eq!(left, expected, "only the stale node of ours is gone");
    assert_eq!(common::writes(&c.tb), ["ssm:DeregisterManagedInstance"]);
    c.plans_no_changes("an action leaves nothing in state to change");

    // From a trigger: creating terraform_data runs the action after it.
    c.ws.write(&with_action(&cluster, RETIRE_ALL));
    let run = c.ws.apply();
    let out = run.text();
    assert!(
        out.contains(&format!("{online} (hybrid-demo): deregistered (Online"))
            && out.contains(&format!(
                "{recent} (hybrid-demo): deregistered (ConnectionLost"
            ))
            && out.contains("2 deregistered, 0 kept"),
        "{}",
        run.all()
    );
    assert_eq!(
        managed_instances(&c.tb),
        vec![theirs.clone()],
        "theirs stays"
    );
    assert!(c.tb.denied_calls().is_empty(), "{:?}", c.tb.denied_calls());
    c.ws.write(&cluster);
    c.ws.destroy();
    let left: Vec<String> =
        c.tb.inventory()
            .into_iter()
            .filter(|o| !c.before.contains(o))
            .collect();
    assert_eq!(
        left,
        [
            format!(
                "activation:{}",
                their_activation["ActivationId"].as_str().unwrap()
            ),
            format!("managed_instance:{theirs}"),
        ]
    );
}

/// OpenTofu has no actions: it reads the provider's schema, which carries the action, and
/// plans and applies as before; Terraform 1.15.5 lists the action.
#[test]
fn opentofu_ignores_the_action_and_terraform_lists_it() {
    let tb = common::testbed();
    for (tf, host) in [
        (TF_NEW, "registry.terraform.io"),
        (TOFU, "registry.opentofu.org"),
    ] {
        let ws = common::Workspace::new(tf, &tb, &ssm_config("tgw-0123456789abcdef0", ""));
        let schema = ws.ok(&["providers", "schema", "-json"]);
        let s: serde_json::Value = serde_json::from_str(&schema.stdout).unwrap();
        let provider = &s["provider_schemas"][format!("{host}/local/eks")];
        assert!(
            provider["resource_schemas"]["eks_hybrid_cluster"].is_object(),
            "{tf}"
        );
        let action = &provider["action_schemas"]["eks_hybrid_nodes_deregister"];
        if tf == TF_NEW {
            let attrs = &action["block"]["attributes"];
            assert_eq!(attrs["cluster_name"]["required"], true, "{}", schema.stdout);
            assert_eq!(attrs["offline_for"]["optional"], true);
        } else {
            assert!(action.is_null(), "{tf} has no actions: {action}");
        }
        let v = ws.ok(&["validate", "-no-color"]);
        assert!(
            v.stdout.contains("The configuration is valid"),
            "{tf}: {}",
            v.all()
        );
    }
    // An action block is Terraform's: OpenTofu says so instead of failing obscurely.
    let plain = ssm_config("tgw-0123456789abcdef0", "");
    let ws = common::Workspace::new(TOFU, &tb, &plain);
    ws.write(&with_action(&plain, STALE));
    let v = ws.run(&["validate", "-no-color"]);
    assert_eq!(v.code, 1, "{}", v.all());
    assert!(
        v.text()
            .contains(r#"Blocks of type "action" are not expected here"#),
        "{}",
        v.all()
    );
    assert!(tb.calls().is_empty());
}

/// Ctrl-C while the action deregisters, through Terraform 1.15.5: Terraform asks the provider
/// to stop, the call in flight finishes, and the action stops before the next node, saying how
/// far it got; the nodes it had not reached stay registered, and the state is untouched.
#[test]
fn ctrl_c_stops_the_action_between_nodes_and_it_says_how_far_it_got() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let cluster = ssm_config(&tgw, "ssm_activation { registration_limit = 5 }");
    let c = Applied::new(TF_NEW, tb, &cluster);
    let a = c.state()["ssm_activation"][0].clone();
    let (id, code) = (
        a["activation_id"].as_str().unwrap(),
        a["activation_code"].as_str().unwrap(),
    );
    let nodes: Vec<String> = (0..4)
        .map(|_| common::register_node(&c.tb, id, code))
        .collect();
    let retire_all = r#"
action "eks_hybrid_nodes_deregister" "all" {
  config {
    cluster_name = eks_hybrid_cluster.this.name
    all_nodes    = true
  }
}
"#;
    c.ws.write(&with_action(&cluster, retire_all));
    let state = c.state();
    // Each AWS call takes a while, so there is time to stop between nodes.
    c.tb.control("POST", "latency", r#"{"ms": 1500}"#);
    let first_gone = || managed_instances(&c.tb).len() < nodes.len();
    let (run, stopped_after) = c.ws.run_interrupted(
        &[
            "apply",
            "-invoke=action.eks_hybrid_nodes_deregister.all",
            "-auto-approve",
            "-input=false",
            "-no-color",
        ],
        first_gone,
    );
    c.tb.control("POST", "latency", r#"{"ms": 0}"#);
    println!(
        "the action stopped {:.2} s after Ctrl-C",
        stopped_after.as_secs_f64()
    );
    let left = managed_instances(&c.tb);
    assert!(
        run.code != 0
            && run.text().contains("Stopped")
            && run.text().contains("not looked at")
            && !left.is_empty()
            && left.len() < nodes.len(),
        "{} of {} left:\n{}",
        left.len(),
        nodes.len(),
        run.all()
    );
    assert!(
        stopped_after < std::time::Duration::from_secs(10),
        "stopping took {stopped_after:?}"
    );
    assert_eq!(c.state(), state, "the state is untouched");
    c.ws.write(&cluster);
    c.destroy_leaves_nothing();
}
