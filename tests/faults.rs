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

fn inject_each(status: u16, code: &str, expect_failure: bool) {
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
    for (service, op) in &ops {
        tb.control(
            "POST",
            "faults",
            &format!(
                r#"{{"operation":"{service}:{op}","nth":1,"code":"{code}","status":{status}}}"#
            ),
        );
        let first = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        tb.control("DELETE", "faults", "");
        // Reading the vpc-cni add-on is advice: its failure must not fail the apply.
        let advisory = op == "DescribeAddon";
        if advisory {
            assert_eq!(
                first.code,
                0,
                "{service}:{op} failing is only logged:\n{}",
                first.all()
            );
        } else if expect_failure {
            assert_eq!(
                first.code,
                1,
                "{service}:{op} failing must fail the apply:\n{}",
                first.all()
            );
            let text = first.text();
            assert!(
                text.contains("AWS error while")
                    && text.contains(code)
                    && text.contains("(request ID: "),
                "{service}:{op}: the error names the step, AWS's code and the request ID:\n{}",
                first.all()
            );
            let second = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
            assert_eq!(
                second.code,
                0,
                "{service}:{op}: the next apply converges:\n{}",
                second.all()
            );
        } else {
            assert_eq!(
                first.code,
                0,
                "{service}:{op}: a transient {status} is retried:\n{}",
                first.all()
            );
        }
        assert_eq!(ws.plan_code().code, 0, "{service}:{op}: converged");
        ws.destroy();
        assert_eq!(tb.inventory(), before, "{service}:{op}: leaked objects");
    }
    println!(
        "{} faults ({status} {code}) injected, 0 objects leaked",
        ops.len()
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
