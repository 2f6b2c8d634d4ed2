//! Faults: every AWS call of the create sequence failing once, throttling, and timeouts. A
//! failed apply must name the step and AWS's message, keep what it created in state, converge
//! on the next apply, and leave nothing behind after destroy.

mod common;

use std::collections::BTreeSet;

use common::{ssm_config, Testbed, Workspace, TF_NEW};

/// (service, operation) of every call a clean apply of the seed example makes, in order.
fn create_sequence(tb: &Testbed, ws: &Workspace) -> Vec<(String, String)> {
    tb.control("DELETE", "calls", "");
    ws.apply();
    let mut seen = BTreeSet::new();
    tb.calls()
        .iter()
        .map(|c| {
            (
                c["service"].as_str().unwrap().to_string(),
                c["operation"].as_str().unwrap().to_string(),
            )
        })
        .filter(|k| seen.insert(k.clone()))
        .collect()
}

/// The next call of `service:Operation` answers AWS's `code` with HTTP `status`.
fn fail_once(tb: &Testbed, call: &str, code: &str, status: u16) {
    tb.control(
        "POST",
        "faults",
        &format!(r#"{{"operation":"{call}","nth":1,"code":"{code}","status":{status}}}"#),
    );
}

/// The calls after which a failure may cost a cluster: the cluster's own creation. Its wait
/// (DescribeCluster) is not here, since the cluster is recorded before it is awaited.
const CLUSTER_CALLS: [&str; 1] = ["eks:CreateCluster"];

/// One row of the sweep: the call that failed, then what converging cost on the simulated
/// AWS clock.
struct Row {
    call: String,
    failed_at: &'static str,
    clusters_created: u64,
    aws_minutes: f64,
}

fn inject_each(status: u16, code: &str, expect_failure: bool) -> Vec<Row> {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let before = tb.inventory();
    let ws = Workspace::new(TF_NEW, &tb, &ssm_config(&tgw, ""));
    let ops = create_sequence(&tb, &ws);
    ws.destroy();
    assert!(
        ops.len() > 25,
        "the create sequence has {} distinct calls: {ops:?}",
        ops.len()
    );
    println!("{} distinct AWS calls in the create sequence", ops.len());
    let mut rows = Vec::new();
    for (service, op) in &ops {
        let call = format!("{service}:{op}");
        tb.reset_cost();
        fail_once(&tb, &call, code, status);
        let first = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        tb.control("DELETE", "faults", "");
        // Reading the vpc-cni add-on is advice: its failure must not fail the apply.
        let advisory = op == "DescribeAddon";
        let mut failed_at = "-";
        if advisory {
            assert_eq!(
                first.code,
                0,
                "{call} failing is only logged:\n{}",
                first.all()
            );
        } else if expect_failure {
            assert_eq!(
                first.code,
                1,
                "{call} failing must fail the apply:\n{}",
                first.all()
            );
            let text = first.text();
            assert!(
                text.contains("AWS error while")
                    && text.contains(code)
                    && text.contains("(request ID: "),
                "{call}: the error names the step, AWS's code and the request ID:\n{}",
                first.all()
            );
            failed_at = converge(&ws, &call, &text);
        } else {
            assert_eq!(
                first.code,
                0,
                "{call}: a transient {status} is retried:\n{}",
                first.all()
            );
        }
        assert_eq!(ws.plan_code().code, 0, "{call}: converged");
        let (aws_minutes, clusters_created) = tb.cost();
        rows.push(Row {
            call: call.clone(),
            failed_at,
            clusters_created,
            aws_minutes,
        });
        ws.destroy();
        assert_eq!(tb.inventory(), before, "{call}: leaked objects");
    }
    print_table(status, code, &rows);
    for r in &rows {
        if !CLUSTER_CALLS.contains(&r.call.as_str()) {
            assert_eq!(
                r.clusters_created, 1,
                "{}: converging created {} clusters; a failure anywhere but the cluster's own creation must cost none extra",
                r.call, r.clusters_created
            );
        }
    }
    println!(
        "{} faults ({status} {code}) injected, 0 objects leaked",
        ops.len()
    );
    rows
}

/// Follows the advice of a failed apply: untaint when the cluster is kept, then apply.
/// Returns where the apply failed: at plan, before the cluster, or after it.
fn converge(ws: &Workspace, call: &str, text: &str) -> &'static str {
    let after_cluster = text.contains("terraform untaint");
    let at_plan = !ws
        .state_resources()
        .iter()
        .any(|r| r.contains("eks_hybrid_cluster"));
    if after_cluster {
        let untaint = ws.run(&["untaint", "-no-color", "eks_hybrid_cluster.this"]);
        assert_eq!(untaint.code, 0, "{call}: untaint:\n{}", untaint.all());
        let plan = ws.run(&["plan", "-no-color", "-input=false"]);
        assert!(
            plan.text().contains("1 to change") && !plan.text().contains("1 to add"),
            "{call}: after untaint the apply completes the cluster in place:\n{}",
            plan.all()
        );
    }
    let second = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(
        second.code,
        0,
        "{call}: the next apply converges:\n{}",
        second.all()
    );
    match (at_plan, after_cluster) {
        (true, _) => "nothing made",
        (false, false) => "before cluster",
        (false, true) => "after cluster: untaint",
    }
}

fn print_table(status: u16, code: &str, rows: &[Row]) {
    println!("| fault ({status} {code}) at | failed | clusters created converging | AWS minutes to converge |");
    println!("|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {:.0} |",
            r.call, r.failed_at, r.clusters_created, r.aws_minutes
        );
    }
    let clusters: u64 = rows.iter().map(|r| r.clusters_created).sum();
    let minutes: f64 = rows.iter().map(|r| r.aws_minutes).sum();
    let extra: u64 = rows
        .iter()
        .map(|r| r.clusters_created.saturating_sub(1))
        .sum();
    println!(
        "| total ({} faults) | | {clusters} ({extra} beyond one per fault) | {minutes:.0} |",
        rows.len()
    );
}

#[test]
fn every_create_call_failing_with_a_non_retryable_error() {
    inject_each(400, "InjectedFault", true);
}

#[test]
fn every_create_call_failing_once_with_500_is_retried() {
    inject_each(500, "InternalFailure", false);
}

#[test]
fn apply_and_destroy_succeed_under_30_percent_throttling() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let before = tb.inventory();
    let ws = Workspace::new(TF_NEW, &tb, &ssm_config(&tgw, ""));
    tb.control(
        "POST",
        "faults",
        r#"{"operation":"*","fraction":0.3,"code":"ThrottlingException","status":400}"#,
    );
    let start = std::time::Instant::now();
    ws.apply();
    assert_eq!(ws.plan_code().code, 0);
    ws.destroy();
    let throttled = tb.calls().iter().filter(|c| c["status"] == 400).count();
    println!(
        "apply+plan+destroy under 30% throttling: {:.1} s, {throttled} calls throttled",
        start.elapsed().as_secs_f64()
    );
    assert!(throttled > 10, "the fault rule fired ({throttled})");
    tb.control("DELETE", "faults", "");
    assert_eq!(tb.inventory(), before);
}

#[test]
fn create_timeout_is_honoured_with_a_clear_message() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let before = tb.inventory();
    tb.control("POST", "timing", r#"{"eks_create_ms": 600000}"#);
    let ws = Workspace::new(
        TF_NEW,
        &tb,
        &ssm_config(&tgw, "timeouts {\n    create = \"4s\"\n  }"),
    );
    let start = std::time::Instant::now();
    let r = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let took = start.elapsed();
    assert_eq!(r.code, 1);
    let text = r.text();
    assert!(
        text.contains("timed out") && text.contains("timeouts"),
        "{}",
        r.all()
    );
    assert!(
        took < std::time::Duration::from_secs(30),
        "the 4 s timeout took {took:?}"
    );
    tb.control("POST", "timing", r#"{"eks_create_ms": 200}"#);
    ws.destroy();
    assert_eq!(tb.inventory(), before);
}

/// What IAM answers for a moment after CreateRole, as the Terraform AWS provider retries it
/// (hashicorp/terraform-provider-aws #34371 / PR #34378: ConcurrentModification on concurrent
/// AttachRolePolicy; #5409 / PR #6709: NoSuchEntity just after CreateRole): retried, so the
/// apply succeeds.
#[test]
fn iams_transient_answers_after_create_role_are_retried() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let before = tb.inventory();
    let ws = Workspace::new(TF_NEW, &tb, &ssm_config(&tgw, ""));
    fail_once(&tb, "iam:AttachRolePolicy", "ConcurrentModification", 409);
    fail_once(&tb, "iam:PutRolePolicy", "NoSuchEntity", 404);
    let apply = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    tb.control("DELETE", "faults", "");
    assert_eq!(apply.code, 0, "{}", apply.all());
    let fired = |op: &str, code: &str| {
        tb.calls()
            .iter()
            .any(|c| c["operation"] == op && c["code"] == code)
    };
    assert!(fired("AttachRolePolicy", "ConcurrentModification"));
    assert!(fired("PutRolePolicy", "NoSuchEntity"));
    assert_eq!(ws.plan_code().code, 0);
    ws.destroy();
    assert_eq!(tb.inventory(), before);
}
