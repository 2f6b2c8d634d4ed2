//! Critical-path benchmark (`make bench`): the SSM + transit gateway cluster of the demo, with
//! every AWS call delayed by a fixed latency, fixed times for EKS to create the cluster and
//! for NAT gateways and transit gateway attachments to become available, and AWS's
//! propagation on: a new EC2 ID is unknown to EC2 for a while, a role change reaches EKS
//! late. Apply runs twice:
//! once as the provider does it (every step as soon as what it needs exists), once strictly
//! sequentially (`TF_EKS_SEQUENTIAL_CREATE=1`, one step at a time in dependency order, as
//! a CloudFormation stack without parallelism would). Each is compared with the critical-path
//! bound: the longest chain through AWS's own dependencies between the calls, weighted with
//! the call durations measured in the same run's call log. `SHOW_CALLS=1` prints the log.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use common::{ssm_config, Testbed, Workspace, TF_NEW};

const LATENCY_MS: u64 = 50;
const EKS_CREATE_MS: u64 = 5000;
const EKS_DELETE_MS: u64 = 2000;
/// NAT gateways and transit gateway attachments: pending after create, deleting after delete.
const EC2_SETTLE_MS: u64 = 1500;
/// A new EC2 object's ID is unknown to the EC2 calls naming it for this long.
const EC2_CONSISTENCY_MS: u64 = 300;
/// A role's creation and policy changes reach EKS after this long.
const IAM_PROPAGATION_MS: u64 = 600;
const ZONES: usize = 2;
const REMOTE_CIDRS: usize = 2;

/// One AWS call of the create, and the calls AWS requires to have finished before it.
struct Call {
    name: String,
    op: &'static str,
    after: Vec<String>,
    /// Time AWS needs after the call before the next step can use the object.
    settle_ms: f64,
    /// Time before EC2 calls naming the ID this call created find it.
    unknown_to_ec2_ms: f64,
}

fn call(name: impl Into<String>, op: &'static str, after: &[&str]) -> Call {
    Call {
        name: name.into(),
        op,
        after: after.iter().map(|s| s.to_string()).collect(),
        settle_ms: 0.0,
        unknown_to_ec2_ms: 0.0,
    }
}

/// A call creating an EC2 object whose ID the next EC2 calls name.
fn creates(name: impl Into<String>, op: &'static str, after: &[&str]) -> Call {
    Call {
        unknown_to_ec2_ms: EC2_CONSISTENCY_MS as f64,
        ..call(name, op, after)
    }
}

/// What AWS itself forces, not what the provider chooses: e.g. a subnet needs its VPC and
/// zone, a NAT gateway needs its subnet, address and an attached internet gateway, the
/// cluster needs its subnets, security group, DNS and role with its policy, the access entry
/// needs an ACTIVE cluster. Reads the provider makes before creating (does it exist?) are
/// included with no prerequisites.
fn aws_dependencies() -> Vec<Call> {
    let mut g = vec![
        call("identity", "sts:GetCallerIdentity", &[]),
        creates("vpc", "ec2:CreateVpc", &[]),
        call("dns_support", "ec2:ModifyVpcAttribute", &["vpc"]),
        call("dns_hostnames", "ec2:ModifyVpcAttribute", &["dns_support"]),
        call("zones", "ec2:DescribeAvailabilityZones", &[]),
        creates("igw", "ec2:CreateInternetGateway", &[]),
        call("igw_attach", "ec2:AttachInternetGateway", &["igw", "vpc"]),
        creates("public_rtb", "ec2:CreateRouteTable", &["vpc"]),
        call(
            "public_route",
            "ec2:CreateRoute",
            &["public_rtb", "igw_attach"],
        ),
        creates("eip", "ec2:AllocateAddress", &[]),
        creates(
            "nat",
            "ec2:CreateNatGateway",
            &["eip", "public_subnet_0", "igw_attach"],
        ),
        Call {
            settle_ms: EC2_SETTLE_MS as f64,
            ..call("nat_ready", "ec2:DescribeNatGateways", &["nat"])
        },
        creates("sg", "ec2:CreateSecurityGroup", &["vpc"]),
        call("sg_ingress", "ec2:AuthorizeSecurityGroupIngress", &["sg"]),
        Call {
            settle_ms: EC2_SETTLE_MS as f64,
            ..call(
                "tgw_ready",
                "ec2:DescribeTransitGatewayVpcAttachments",
                &["tgw_attach"],
            )
        },
        call("cluster_role_check", "iam:GetRole", &[]),
        call("cluster_role", "iam:CreateRole", &["cluster_role_check"]),
        Call {
            settle_ms: IAM_PROPAGATION_MS as f64,
            ..call("cluster_policy", "iam:AttachRolePolicy", &["cluster_role"])
        },
        call("nodes_role_check", "iam:GetRole", &[]),
        call(
            "nodes_role",
            "iam:CreateRole",
            &["nodes_role_check", "identity"],
        ),
        call(
            "nodes_inline",
            "iam:PutRolePolicy",
            &["nodes_role", "identity"],
        ),
        call("nodes_policy_0", "iam:AttachRolePolicy", &["nodes_role"]),
        call("nodes_policy_1", "iam:AttachRolePolicy", &["nodes_role"]),
        call("cluster_check", "eks:DescribeCluster", &[]),
        Call {
            settle_ms: EKS_CREATE_MS as f64,
            ..call("cluster_active", "eks:DescribeCluster", &["cluster"])
        },
        call(
            "entry_check",
            "eks:DescribeAccessEntry",
            &["cluster_active"],
        ),
        call(
            "entry",
            "eks:CreateAccessEntry",
            &["entry_check", "nodes_role"],
        ),
    ];
    let mut cluster_needs = vec![
        "cluster_check".to_string(),
        "sg".into(),
        "dns_hostnames".into(),
        "cluster_policy".into(),
    ];
    let mut attachment_needs = Vec::new();
    for z in 0..ZONES {
        let (public, private, rtb) = (
            format!("public_subnet_{z}"),
            format!("private_subnet_{z}"),
            format!("private_rtb_{z}"),
        );
        g.push(creates(&public, "ec2:CreateSubnet", &["vpc", "zones"]));
        g.push(call(
            format!("public_ips_{z}"),
            "ec2:ModifySubnetAttribute",
            &[&public],
        ));
        g.push(call(
            format!("public_assoc_{z}"),
            "ec2:AssociateRouteTable",
            &["public_rtb", &public],
        ));
        g.push(creates(&private, "ec2:CreateSubnet", &["vpc", "zones"]));
        g.push(creates(&rtb, "ec2:CreateRouteTable", &["vpc"]));
        g.push(call(
            format!("private_assoc_{z}"),
            "ec2:AssociateRouteTable",
            &[&rtb, &private],
        ));
        g.push(call(
            format!("nat_route_{z}"),
            "ec2:CreateRoute",
            &[&rtb, "nat_ready"],
        ));
        for c in 0..REMOTE_CIDRS {
            g.push(call(
                format!("remote_route_{z}_{c}"),
                "ec2:CreateRoute",
                &[&rtb, "tgw_ready"],
            ));
        }
        cluster_needs.extend([public, private.clone()]);
        attachment_needs.push(private);
    }
    // The remote networks are reached from every cluster route table, the public one too.
    for c in 0..REMOTE_CIDRS {
        g.push(call(
            format!("remote_route_public_{c}"),
            "ec2:CreateRoute",
            &["public_rtb", "tgw_ready"],
        ));
    }
    fn refs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    g.push(call("cluster", "eks:CreateCluster", &refs(&cluster_needs)));
    g.push(creates(
        "tgw_attach",
        "ec2:CreateTransitGatewayVpcAttachment",
        &refs(&attachment_needs),
    ));
    g
}

fn is_read(operation: &str) -> bool {
    ["Describe", "Get", "List"]
        .iter()
        .any(|p| operation.starts_with(p))
}

struct Measured {
    calls: Vec<serde_json::Value>,
    apply: Duration,
    destroy: Duration,
    destroy_calls: usize,
}

impl Measured {
    /// First call of the apply to the end of its last creating call, before the final read
    /// that fills the state.
    fn create_span_ms(&self) -> f64 {
        let start = self
            .calls
            .iter()
            .map(|c| c["start_ms"].as_f64().unwrap())
            .fold(f64::MAX, f64::min);
        self.end_of_create_ms() - start
    }

    fn end_of_create_ms(&self) -> f64 {
        self.calls
            .iter()
            .filter(|c| !is_read(c["operation"].as_str().unwrap()))
            .map(|c| c["end_ms"].as_f64().unwrap())
            .fold(0.0, f64::max)
    }

    fn create_calls(&self) -> Vec<&serde_json::Value> {
        let end = self.end_of_create_ms();
        self.calls
            .iter()
            .filter(|c| c["end_ms"].as_f64().unwrap() <= end)
            .collect()
    }

    /// Median duration of each operation during the create, leaving out the refusals of
    /// calls that were early for AWS's propagation.
    fn durations(&self) -> HashMap<String, f64> {
        let mut by_op: HashMap<String, Vec<f64>> = HashMap::new();
        let answered = |c: &&serde_json::Value| c["status"] == 200 || c["status"] == 404;
        for c in self.create_calls().into_iter().filter(answered) {
            let op = format!(
                "{}:{}",
                c["service"].as_str().unwrap(),
                c["operation"].as_str().unwrap()
            );
            let d = c["end_ms"].as_f64().unwrap() - c["start_ms"].as_f64().unwrap();
            by_op.entry(op).or_default().push(d);
        }
        by_op
            .into_iter()
            .map(|(op, mut v)| {
                v.sort_by(f64::total_cmp);
                (op, v[v.len() / 2])
            })
            .collect()
    }

    /// The longest chain through `graph`, each call weighted by its measured duration.
    fn bound_ms(&self, graph: &[Call]) -> f64 {
        let durations = self.durations();
        let by_name: HashMap<&str, &Call> = graph.iter().map(|c| (c.name.as_str(), c)).collect();
        let mut finish: HashMap<String, f64> = HashMap::new();
        fn finish_of(
            name: &str,
            by_name: &HashMap<&str, &Call>,
            durations: &HashMap<String, f64>,
            finish: &mut HashMap<String, f64>,
        ) -> f64 {
            if let Some(f) = finish.get(name) {
                return *f;
            }
            let c = by_name
                .get(name)
                .unwrap_or_else(|| panic!("unknown call {name}"));
            let start = c
                .after
                .iter()
                .map(|d| {
                    let unknown = match c.op.starts_with("ec2:") {
                        true => by_name[d.as_str()].unknown_to_ec2_ms,
                        false => 0.0,
                    };
                    finish_of(d, by_name, durations, finish) + unknown
                })
                .fold(0.0, f64::max);
            let own = durations.get(c.op).unwrap_or_else(|| {
                panic!(
                    "{} ({name}) is not in the call log: the graph is stale",
                    c.op
                )
            });
            let f = start + c.settle_ms + own;
            finish.insert(name.to_string(), f);
            f
        }
        graph
            .iter()
            .map(|c| finish_of(&c.name, &by_name, &durations, &mut finish))
            .fold(0.0, f64::max)
    }

    /// How many calls that create or change something, per operation (retries of a call AWS
    /// refused while a change propagated are one call).
    fn mutations(calls: &[&serde_json::Value]) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for c in calls.iter().filter(|c| c["status"] == 200) {
            let op = format!(
                "{}:{}",
                c["service"].as_str().unwrap(),
                c["operation"].as_str().unwrap()
            );
            if !is_read(op.split(':').nth(1).unwrap()) {
                *m.entry(op).or_insert(0) += 1;
            }
        }
        m
    }
}

/// Successes; existence checks answering 404 before create, as AWS does (or, for a cluster
/// name deleted moments ago, ClientException); and what AWS answers
/// while a change propagates: EC2's not-found for a new ID, EKS's refusal of a new role.
fn expected(call: &serde_json::Value) -> bool {
    let existence_checks = [
        "DescribeCluster",
        "GetRole",
        "DescribeAccessEntry",
        "DescribeAddon",
    ];
    let op = call["operation"].as_str().unwrap_or_default();
    let code = call["code"].as_str().unwrap_or_default();
    call["status"] == 200
        || (call["status"] == 404 && existence_checks.contains(&op))
        || (op == "DescribeCluster" && code == "ClientException")
        || (call["service"] == "ec2" && code.ends_with(".NotFound"))
        || (op == "CreateCluster" && code == "InvalidParameterException")
}

fn measure(tb: &Testbed, tgw: &str, env: &[(&str, &str)]) -> Measured {
    let before = tb.inventory();
    let ws = Workspace::new(TF_NEW, tb, &ssm_config(tgw, ""));
    let plan = ws.run(&["plan", "-out=tfplan", "-input=false", "-no-color"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    tb.control("DELETE", "calls", "");
    let start = Instant::now();
    let r = ws.run_env(&["apply", "-input=false", "-no-color", "tfplan"], env);
    let apply = start.elapsed();
    assert_eq!(r.code, 0, "{}", r.all());
    let calls = tb.calls();
    let unexpected: Vec<_> = calls.iter().filter(|c| !expected(c)).collect();
    assert!(unexpected.is_empty(), "unexpected failures: {unexpected:?}");
    tb.control("DELETE", "calls", "");
    let start = Instant::now();
    ws.destroy();
    let destroy = start.elapsed();
    let destroy_calls = tb.calls().len();
    assert_eq!(tb.inventory(), before, "no leaked object");
    Measured {
        calls,
        apply,
        destroy,
        destroy_calls,
    }
}

#[test]
fn create_follows_the_critical_path_and_beats_a_sequential_baseline() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    tb.control(
        "POST",
        "timing",
        &format!(
            r#"{{"eks_create_ms":{EKS_CREATE_MS},"eks_delete_ms":{EKS_DELETE_MS},"ec2_settle_ms":{EC2_SETTLE_MS},"ec2_consistency_ms":{EC2_CONSISTENCY_MS},"iam_propagation_ms":{IAM_PROPAGATION_MS}}}"#
        ),
    );
    tb.control("POST", "latency", &format!(r#"{{"ms":{LATENCY_MS}}}"#));
    let graph = aws_dependencies();
    let concurrent = measure(&tb, &tgw, &[]);
    let sequential = measure(&tb, &tgw, &[("TF_EKS_SEQUENTIAL_CREATE", "1")]);

    // The model must describe exactly the calls the provider makes: same operations, and as
    // many creating calls per operation.
    let mut modelled: BTreeMap<String, usize> = BTreeMap::new();
    for c in &graph {
        if !is_read(c.op.split(':').nth(1).unwrap()) {
            *modelled.entry(c.op.to_string()).or_insert(0) += 1;
        }
    }
    for m in [&concurrent, &sequential] {
        if std::env::var("SHOW_CALLS").is_ok() {
            for c in &m.calls {
                println!(
                    "{} {} {} {}",
                    c["start_ms"], c["end_ms"], c["operation"], c["status"]
                );
            }
        }
        assert_eq!(
            Measured::mutations(&m.create_calls()),
            modelled,
            "the dependency model is stale"
        );
    }

    println!("EKS create {EKS_CREATE_MS} ms and delete {EKS_DELETE_MS} ms, NAT gateway and transit gateway attachment {EC2_SETTLE_MS} ms each way, new EC2 IDs unknown for {EC2_CONSISTENCY_MS} ms, role changes reach EKS after {IAM_PROPAGATION_MS} ms, {LATENCY_MS} ms per AWS call; SSM + transit gateway, {ZONES} zones, single NAT gateway");
    println!("| | concurrent (the provider) | strictly sequential baseline |");
    println!("|---|---|---|");
    let row = |label: &str, f: &dyn Fn(&Measured) -> String| {
        println!("| {label} | {} | {} |", f(&concurrent), f(&sequential));
    };
    row("AWS calls during apply (create + final read)", &|m| {
        m.calls.len().to_string()
    });
    row("create: first call to last creating call", &|m| {
        format!("{:.2} s", m.create_span_ms() / 1e3)
    });
    row("critical-path bound from the call log", &|m| {
        format!("{:.2} s", m.bound_ms(&graph) / 1e3)
    });
    row("create / bound", &|m| {
        format!("{:.3}", m.create_span_ms() / m.bound_ms(&graph))
    });
    row("`terraform apply` wall time", &|m| {
        format!("{:.2} s", m.apply.as_secs_f64())
    });
    row("`terraform destroy` wall time", &|m| {
        format!("{:.2} s", m.destroy.as_secs_f64())
    });
    row("AWS calls during destroy", &|m| m.destroy_calls.to_string());
    println!(
        "sequential / concurrent create: {:.2}x",
        sequential.create_span_ms() / concurrent.create_span_ms()
    );

    let ratio = concurrent.create_span_ms() / concurrent.bound_ms(&graph);
    assert!(
        ratio <= 1.10,
        "create took {ratio:.3} times its critical path"
    );
    assert!(
        sequential.create_span_ms() > concurrent.create_span_ms() * 1.3,
        "the sequential baseline should be clearly slower"
    );
}
