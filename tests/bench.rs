//! Measurements with printed figures (`make bench`; also part of `make test`):
//! the plugin protocol beside HashiCorp's Go null provider, and a 30-cluster apply under
//! throttling. Bounds are generous: they catch regressions of an order of magnitude.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{startup_median, Workspace, TF_NEW};

fn null_provider() -> PathBuf {
    let p = common::repo().join(".tools/null-mirror/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64/terraform-provider-null_v2.1.2_x4");
    assert!(p.exists(), "{} missing: run `make tools`", p.display());
    p
}

/// Samples the peak resident set (VmHWM) of every process whose command line contains `needle`.
fn watch_peak_rss(
    needle: &'static str,
) -> (Arc<AtomicBool>, Arc<AtomicU64>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let (s, p) = (stop.clone(), peak.clone());
    let handle = std::thread::spawn(move || {
        while !s.load(Ordering::Relaxed) {
            for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                let cmd = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
                if !String::from_utf8_lossy(&cmd).contains(needle) {
                    continue;
                }
                let status =
                    std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
                if let Some(kb) = status
                    .lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
                {
                    p.fetch_max(kb, Ordering::Relaxed);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    (stop, peak, handle)
}

/// Plans, expecting `adds` (e.g. "200 to add"), and returns how long it took.
fn timed_plan(ws: &Workspace, adds: &str) -> Duration {
    let start = Instant::now();
    let r = ws.run(&[
        "plan",
        "-refresh=false",
        "-parallelism=1",
        "-input=false",
        "-no-color",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains(adds), "{}", r.stdout);
    start.elapsed()
}

#[test]
fn protocol_plan_of_200_instances_beside_the_go_null_provider() {
    let tb = common::testbed();
    let clusters = r#"
resource "eks_hybrid_cluster" "c" {
  count = 200
  name  = "c-${count.index}"
  remote_network_config {
    remote_node_networks { cidrs = ["10.80.146.0/24"] }
  }
}
"#;
    let ours = Workspace::new(TF_NEW, &tb, clusters);
    // The protocol and the plan logic, not AWS: a plan of a create reads AWS (are the names
    // free?), so the region comes from a resource, leaving the provider unconfigured at plan.
    ours.write_with_provider(
        "resource \"terraform_data\" \"region\" {\n  input = \"us-west-2\"\n}\nprovider \"eks\" {\n  region = terraform_data.region.output\n}\n",
        clusters,
    );
    let null_mirror = common::repo().join(".tools/null-mirror");
    let _ = null_provider();
    let null = Workspace::with_mirror(
        TF_NEW,
        &tb,
        &null_mirror,
        "registry.terraform.io/hashicorp/null",
        "terraform {\n  required_providers {\n    null = { source = \"hashicorp/null\", version = \"2.1.2\" }\n  }\n}\nresource \"null_resource\" \"n\" {\n  count = 200\n  triggers = { i = count.index }\n}\n",
    );
    let (stop, peak, watcher) = watch_peak_rss("terraform-provider-eks_v0.1.0");
    // The 200 clusters and the terraform_data that holds the region.
    let ours_plan = timed_plan(&ours, "201 to add");
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let null_plan = timed_plan(&null, "200 to add");
    let our_bin = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-eks"));
    let our_start = startup_median(&our_bin, "6");
    let null_start = startup_median(&null_provider(), "5");
    let size = |p: &Path| std::fs::metadata(p).unwrap().len() as f64 / 1e6;
    println!("| | terraform-provider-eks (this build) | Go null provider 2.1.2 |");
    println!("|---|---|---|");
    println!(
        "| plan of 200 instances, -refresh=false -parallelism=1 | {:.2} s | {:.2} s |",
        ours_plan.as_secs_f64(),
        null_plan.as_secs_f64()
    );
    println!(
        "| start to handshake line, median of 20 | {:.1} ms | {:.1} ms |",
        our_start.as_secs_f64() * 1e3,
        null_start.as_secs_f64() * 1e3
    );
    println!(
        "| binary size | {:.1} MB | {:.1} MB |",
        size(&our_bin),
        size(&null_provider())
    );
    println!(
        "| provider peak RSS during the plan | {:.1} MB | - |",
        peak.load(Ordering::Relaxed) as f64 / 1024.0
    );
    assert!(
        peak.load(Ordering::Relaxed) > 0,
        "the provider process was observed"
    );
    assert!(
        ours_plan < null_plan * 3 + Duration::from_secs(5),
        "protocol overhead regressed: {ours_plan:?} vs {null_plan:?}"
    );
    assert!(
        tb.calls().is_empty(),
        "a plan with the provider unconfigured makes no AWS call"
    );
}

#[test]
fn thirty_clusters_under_throttling_apply_and_destroy_without_leaks() {
    let tb = common::testbed();
    let before = tb.inventory();
    let ws = Workspace::new(
        TF_NEW,
        &tb,
        r#"
resource "eks_hybrid_cluster" "c" {
  for_each = toset([for i in range(30) : "scale-${i}"])
  name     = each.key
  vpc { nat_gateway = "Disable" }
  remote_network_config {
    remote_node_networks { cidrs = ["10.80.146.0/24"] }
  }
}
"#,
    );
    tb.control(
        "POST",
        "faults",
        r#"{"operation":"*","fraction":0.1,"code":"ThrottlingException","status":400}"#,
    );
    let start = Instant::now();
    ws.apply();
    let applied = start.elapsed();
    assert_eq!(
        tb.control("GET", "objects", "")["clusters"]
            .as_array()
            .unwrap()
            .len(),
        30
    );
    let start = Instant::now();
    ws.destroy();
    let destroyed = start.elapsed();
    let calls = tb.calls();
    let throttled = calls
        .iter()
        .filter(|c| c["code"] == "ThrottlingException")
        .count();
    let early = calls
        .iter()
        .filter(|c| c["status"] != 200 && c["code"] != "ThrottlingException")
        .count();
    tb.control("DELETE", "faults", "");
    println!(
        "30 clusters, 10% of calls throttled: apply {:.1} s, destroy {:.1} s, {} AWS calls, {throttled} throttled and retried, {early} other refusals (not-found answers for IDs or roles still propagating, existence checks)",
        applied.as_secs_f64(),
        destroyed.as_secs_f64(),
        calls.len()
    );
    assert!(throttled > 50, "{throttled}");
    assert_eq!(tb.inventory(), before, "no leaked object");
}

/// The longest chain of calls each starting after the previous one ended: how many round
/// trips the reads took one after another, whatever the emulator's own processing time.
fn sequential_round_trips(calls: &[serde_json::Value]) -> usize {
    let mut spans: Vec<(u64, u64)> = calls
        .iter()
        .map(|c| {
            (
                c["start_ms"].as_u64().unwrap(),
                c["end_ms"].as_u64().unwrap(),
            )
        })
        .collect();
    spans.sort();
    let mut chain = vec![1usize; spans.len()];
    for i in 0..spans.len() {
        for j in 0..i {
            if spans[j].1 <= spans[i].0 {
                chain[i] = chain[i].max(chain[j] + 1);
            }
        }
    }
    chain.into_iter().max().unwrap_or(0)
}

/// One cluster's refresh (`terraform plan -refresh-only`) with every AWS call taking 100 ms
/// and AWS's page sizes (one page for lists this small): its calls, its round trips, the span
/// of its calls over the latency, and the command's wall time. Drift detection is unchanged:
/// the `drift` tests run the same reads.
#[test]
fn one_clusters_refresh_takes_at_most_three_round_trips() {
    const LATENCY_MS: u64 = 100;
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let ws = Workspace::new(
        TF_NEW,
        &tb,
        &common::ssm_config(&tgw, "ssm_activation {\n    registration_limit = 2\n  }"),
    );
    ws.apply();
    tb.control("POST", "timing", r#"{"page_size": 0}"#);
    tb.control("POST", "latency", &format!(r#"{{"ms": {LATENCY_MS}}}"#));
    tb.control("DELETE", "calls", "");
    let start = Instant::now();
    let refresh = ws.ok(&["plan", "-refresh-only", "-input=false", "-no-color"]);
    let wall = start.elapsed();
    let calls = tb.calls();
    tb.control("POST", "latency", r#"{"ms": 0}"#);
    assert!(refresh.stdout.contains("No changes"), "{}", refresh.all());
    let first = calls
        .iter()
        .map(|c| c["start_ms"].as_u64().unwrap())
        .min()
        .unwrap();
    let last = calls
        .iter()
        .map(|c| c["end_ms"].as_u64().unwrap())
        .max()
        .unwrap();
    let span = last - first;
    let trips = sequential_round_trips(&calls);
    let mut operations: Vec<String> = calls
        .iter()
        .map(|c| c["operation"].as_str().unwrap().to_string())
        .collect();
    operations.sort();
    println!(
        "| refresh of one cluster (SSM, transit gateway, activation), {LATENCY_MS} ms per call | {} calls | {trips} round trips | span {span} ms = {:.1} x latency | wall {:.2} s |\n{operations:?}",
        calls.len(),
        span as f64 / LATENCY_MS as f64,
        wall.as_secs_f64()
    );
    assert!(trips <= 3, "{trips} round trips: {calls:#?}");
    ws.destroy();
}
