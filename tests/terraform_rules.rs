//! Terraform's own rules (`tfplugin6::terraform_rules`), applied by an in-process Terraform
//! (`tfplugin6::walk`) to every answer the provider gives, over generated cases:
//! - valid configurations with unknown values in every position the schema allows (each
//!   attribute, list element, map value and whole `dynamic` block), provider configuration
//!   included, planned and then planned again at apply with the values known;
//! - in-place changes from one valid configuration to another, from applied clusters;
//! - full walks (create, refresh, update, destroy) against the testbed, with AWS settling
//!   late and with Ctrl-C at a random moment, which must then converge: the next apply
//!   succeeds and the plan after it is empty.
//!
//! Seeds are in `tests/terraform_rules.seeds`; `RULES_SEED=<n>` adds one, `RULES_CASES=<n>`
//! changes how many plan cases each seed makes. A failure prints the smallest case that still
//! fails, found by dropping its unknowns and edits one at a time.

mod common;

use std::time::Duration;

use common::Testbed;
use tfplugin6::diag::{Severity, Step};
use tfplugin6::walk::{Action, Found, Planned, Stored, Walk};
use tfplugin6::{AttrPath, Block, Server, Value};

const TYPE: &str = "eks_hybrid_cluster";
/// The provider's propagation window here: above every window the testbed models by
/// default, below the ones the late-settling phase sets.
const PROPAGATION_MS: &str = "2000";

/// SplitMix64: the same cases from the same seed on every machine and toolchain.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn subset<T: Clone>(&mut self, items: &[T], percent: u64) -> Vec<T> {
        items
            .iter()
            .filter(|_| self.chance(percent))
            .cloned()
            .collect()
    }
}

fn seeds() -> Vec<u64> {
    let file = std::fs::read_to_string(common::repo().join("tests/terraform_rules.seeds"))
        .expect("tests/terraform_rules.seeds");
    let mut seeds: Vec<u64> = file
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.parse().expect("a seed is a number"))
        .collect();
    if let Some(s) = std::env::var("RULES_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        seeds.push(s);
    }
    seeds
}

fn cases_per_seed(default: usize) -> usize {
    std::env::var("RULES_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// What the testbed holds for the configurations to name.
struct World {
    tb: Testbed,
    tgw: String,
    vgw: String,
    vpc: String,
    subnets: Vec<String>,
    cluster_role: String,
    nodes_role: String,
    ca: String,
    private_ca: String,
}

fn world() -> World {
    std::env::set_var("AWS_ACCESS_KEY_ID", "test");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
    std::env::set_var("TF_EKS_POLL_MIN_MS", "50");
    std::env::set_var("TF_EKS_PROPAGATION_MS", PROPAGATION_MS);
    let tb = common::testbed();
    let seeded = tb.seed();
    let x = tb.query("ec2", "Action=CreateVpc&CidrBlock=10.0.0.0/16");
    let vpc = common::xml_values(&x, "vpcId")[0].clone();
    let subnets = [("10.0.1.0/24", "us-west-2a"), ("10.0.2.0/24", "us-west-2b")]
        .iter()
        .map(|(cidr, az)| {
            let x = tb.query(
                "ec2",
                &format!("Action=CreateSubnet&VpcId={vpc}&CidrBlock={cidr}&AvailabilityZone={az}"),
            );
            common::xml_values(&x, "subnetId")[0].clone()
        })
        .collect();
    let cluster_role = common::role(&tb, "rules-cluster", "eks.amazonaws.com");
    tb.query(
        "iam",
        "Action=AttachRolePolicy&RoleName=rules-cluster&PolicyArn=arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
    );
    let nodes_role = common::role(&tb, "rules-nodes", "ssm.amazonaws.com");
    World {
        tgw: seeded.transit_gateway,
        vgw: seeded.vpn_gateway,
        vpc,
        subnets,
        cluster_role,
        nodes_role,
        ca: common::ca_pem(),
        private_ca: common::private_ca(&tb, true),
        tb,
    }
}

fn schema() -> Block {
    terraform_provider_eks::resource::hybrid_cluster::model::schema().block
}

fn provider_block() -> Block {
    terraform_provider_eks::provider::config::schema().block
}

fn to_value(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Array(items) => Value::List(items.iter().map(to_value).collect()),
        serde_json::Value::Object(m) => {
            Value::Map(m.iter().map(|(k, v)| (k.clone(), to_value(v))).collect())
        }
        other => Value::from_json(other.to_string().as_bytes()).unwrap(),
    }
}

/// Valid configurations, one per way of using the resource. `name` names the cluster.
fn bases(w: &World, name: &str) -> Vec<Value> {
    use serde_json::json;
    let nodes = |c: &str| json!([{ "cidrs": [c] }]);
    let all = [
        // SSM, everything by default.
        json!({"name": name, "remote_network_config": [{"remote_node_networks": nodes("10.80.0.0/24")}]}),
        // SSM with a transit gateway, pods, tags, an activation and timeouts.
        json!({
            "name": name, "tags": {"team": "edge", "cost": "42"},
            "role_permissions_boundary": common::BOUNDARY_ARN,
            "remote_network_config": [{
                "vpc_gateway_id": w.tgw,
                "remote_node_networks": nodes("10.80.0.0/24"),
                "remote_pod_networks": nodes("10.81.0.0/24"),
            }],
            "ssm_activation": [{"registration_limit": 3}],
            "timeouts": [{"create": "30m", "update": "45m"}],
        }),
        // IAM Roles Anywhere, a virtual private gateway, a VPC of our choosing, a version.
        json!({
            "name": name, "kubernetes_version": "1.34",
            "endpoint_public_access": false, "endpoint_private_access": true,
            "vpc": [{"cidr": "10.20.0.0/16", "nat_gateway": "HighlyAvailable", "availability_zones": ["us-west-2a", "us-west-2b"]}],
            "remote_network_config": [{
                "vpc_gateway_id": w.vgw,
                "remote_node_networks": [{"cidrs": ["10.80.0.0/24", "10.82.0.0/24"]}],
                "iam": [{"provider": "IRA", "ca_bundle_cert": w.ca}],
            }],
        }),
        // IAM Roles Anywhere trusting an AWS Private CA, the provider spelt in lower case.
        json!({
            "name": name,
            "remote_network_config": [{
                "remote_node_networks": nodes("10.80.0.0/24"),
                "iam": [{"provider": "ira", "acm_pca_arn": w.private_ca}],
            }],
        }),
        // Everything brought: roles and a pre-existing VPC; a service CIDR; API only.
        json!({
            "name": name, "authentication_mode": "API",
            "cluster_role_arn": w.cluster_role, "service_ipv4_cidr": "172.21.0.0/16",
            "vpc": [{"id": w.vpc, "subnet_ids": w.subnets}],
            "remote_network_config": [{
                "remote_node_networks": nodes("10.80.0.0/24"),
                "iam": [{"role_arn": w.nodes_role}],
            }],
        }),
        // The hybrid nodes gateway routes the pods.
        json!({
            "name": name, "pod_routes_by_hybrid_nodes_gateway": true,
            "remote_network_config": [{
                "vpc_gateway_id": w.tgw,
                "remote_node_networks": nodes("10.80.0.0/24"),
                "remote_pod_networks": nodes("10.81.0.0/24"),
            }],
        }),
    ];
    all.iter().map(|j| schema().conform(&to_value(j))).collect()
}

fn provider_config(w: &World, tags: &[(&str, &str)]) -> Value {
    use serde_json::json;
    let url = &w.tb.url;
    let j = json!({
        "region": "us-west-2",
        "max_retries": 3,
        "endpoints": [{"acmpca": url, "ec2": url, "eks": url, "iam": url, "sts": url, "rolesanywhere": url, "ssm": url}],
        "default_tags": [{"tags": tags.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>()}],
    });
    provider_block().conform(&to_value(&j))
}

/// Every position of `v` (of `block`'s shape) that a configuration can make unknown: each
/// settable attribute (also a null one: an unknown may turn out null), each element of a list
/// and value of a map, and each nested block list as a whole (a `dynamic` block whose
/// `for_each` is not known yet).
fn positions(block: &Block, v: &Value, at: &AttrPath, out: &mut Vec<AttrPath>) {
    for a in block.attributes.iter().filter(|a| a.required || a.optional) {
        let p = at.attr(&a.name);
        match v.get(&a.name) {
            Value::List(items) => out.extend((0..items.len()).map(|i| p.index(i))),
            Value::Map(m) => out.extend(m.keys().map(|k| p.key(k))),
            _ => {}
        }
        out.push(p);
    }
    for b in &block.blocks {
        let p = at.attr(&b.name);
        for (i, item) in v.get(&b.name).as_list().iter().enumerate() {
            positions(&b.block, item, &p.index(i), out);
        }
        out.push(p);
    }
}

fn set_at(v: &mut Value, path: &[Step], x: Value) {
    let Some((first, rest)) = path.split_first() else {
        *v = x;
        return;
    };
    let next = match (first, v) {
        (Step::Attr(k) | Step::Key(k), Value::Map(m)) => m.get_mut(k),
        (Step::Index(i), Value::List(items)) => items.get_mut(*i as usize),
        _ => None,
    };
    if let Some(next) = next {
        set_at(next, rest, x);
    }
}

fn with_unknowns(v: &Value, unknowns: &[AttrPath]) -> Value {
    let mut out = v.clone();
    for p in unknowns {
        set_at(&mut out, &p.0, Value::Unknown);
    }
    out
}

/// A change that keeps the cluster (an update in place).
#[derive(Clone, Debug)]
enum Edit {
    Tag(&'static str, &'static str),
    Untag,
    Endpoints,
    UpgradeVersion,
    PodRoutes,
    Activation(i64),
    NoActivation,
    Timeouts,
    DefaultTag(&'static str),
    /// Sets `role_permissions_boundary` when it is unset, unsets it when set.
    Boundary,
}

fn edits_for(base: &Value) -> Vec<Edit> {
    let mut e = vec![
        Edit::Tag("team", "core"),
        Edit::Tag("new", "x"),
        Edit::Untag,
        Edit::Endpoints,
        Edit::Timeouts,
        Edit::DefaultTag("blue"),
    ];
    let rnc = base.get("remote_network_config").first();
    let ssm = rnc
        .get("iam")
        .first()
        .get("provider")
        .as_str()
        .is_none_or(|p| p == "SSM")
        && rnc.get("iam").first().get("role_arn").is_null();
    if ssm {
        e.push(Edit::Activation(7));
        e.push(Edit::NoActivation);
    }
    if !rnc.get("vpc_gateway_id").is_null() && !rnc.get("remote_pod_networks").as_list().is_empty()
    {
        e.push(Edit::PodRoutes);
    }
    if base.get("kubernetes_version").as_str() == Some("1.34") {
        e.push(Edit::UpgradeVersion);
    }
    if base.get("cluster_role_arn").is_null() {
        e.push(Edit::Boundary);
    }
    e
}

fn apply_edits(
    base: &Value,
    default_tags: &mut Vec<(&'static str, &'static str)>,
    edits: &[Edit],
) -> Value {
    let mut v = base.clone();
    for e in edits {
        match e {
            Edit::Tag(k, val) => {
                let mut tags = v.get("tags").as_map().cloned().unwrap_or_default();
                tags.insert(k.to_string(), Value::string(*val));
                v.set("tags", Value::Map(tags));
            }
            Edit::Untag => v.set("tags", Value::Null),
            Edit::Endpoints => {
                let public = v.get("endpoint_public_access").as_bool().unwrap_or(true);
                v.set("endpoint_public_access", Value::Bool(!public));
                v.set("endpoint_private_access", Value::Bool(public));
            }
            Edit::UpgradeVersion => v.set("kubernetes_version", Value::string("1.35")),
            Edit::PodRoutes => {
                let on = v
                    .get("pod_routes_by_hybrid_nodes_gateway")
                    .as_bool()
                    .unwrap_or(false);
                v.set("pod_routes_by_hybrid_nodes_gateway", Value::Bool(!on));
            }
            Edit::Activation(n) => {
                let block = schema().find_block("ssm_activation").unwrap().block.clone();
                let mut a = block.null_object();
                a.set(
                    "registration_limit",
                    Value::Number(tfplugin6::value::Number::Int(*n)),
                );
                v.set("ssm_activation", Value::List(vec![a]));
            }
            Edit::NoActivation => v.set("ssm_activation", Value::List(vec![])),
            Edit::Timeouts => {
                let block = schema().find_block("timeouts").unwrap().block.clone();
                let mut t = block.null_object();
                t.set("update", Value::string("50m"));
                v.set("timeouts", Value::List(vec![t]));
            }
            Edit::DefaultTag(val) => default_tags.push(("Owner", val)),
            Edit::Boundary => {
                let set = v.get("role_permissions_boundary").is_null();
                let boundary = set.then(|| Value::string(common::BOUNDARY_ARN));
                v.set("role_permissions_boundary", boundary.unwrap_or(Value::Null));
            }
        }
    }
    schema().conform(&v)
}

/// One generated case: a base configuration, the positions unknown at plan (in the resource's
/// and the provider's configuration), and the edits from the applied base (none: a create).
#[derive(Clone, Debug)]
struct Case {
    base: usize,
    unknown: Vec<AttrPath>,
    provider_unknown: Vec<AttrPath>,
    edits: Vec<Edit>,
}

fn render(v: &Value) -> String {
    fn j(v: &Value) -> serde_json::Value {
        match v {
            Value::Null => serde_json::Value::Null,
            Value::Unknown => serde_json::json!("(known after apply)"),
            Value::Bool(b) => serde_json::json!(b),
            Value::Number(n) => serde_json::json!(format!("{n:?}")),
            Value::String(s) if s.starts_with("-----BEGIN") => serde_json::json!("<CA PEM>"),
            Value::String(s) => serde_json::json!(s),
            Value::List(items) => serde_json::Value::Array(items.iter().map(j).collect()),
            Value::Map(m) => serde_json::Value::Object(
                m.iter()
                    .filter(|(_, x)| !x.is_null() && *x != &Value::List(vec![]))
                    .map(|(k, x)| (k.clone(), j(x)))
                    .collect(),
            ),
        }
    }
    serde_json::to_string(&j(v)).unwrap()
}

fn errors(d: &tfplugin6::Diagnostics) -> Vec<String> {
    d.0.iter()
        .filter(|x| x.severity == Severity::Error)
        .map(|x| format!("{}: {}", x.summary, x.detail))
        .collect()
}

/// A server configured as Terraform configures it for a run.
async fn configured(provider: &Value) -> Server {
    let s = terraform_provider_eks::server();
    let d = s.configure_provider(provider.clone()).await;
    assert!(!d.has_errors(), "{d:?}");
    s
}

/// What the plan-only walk of `case` found: violations, and errors a valid configuration
/// must not get.
async fn plan_case(w: &World, case: &Case, name: &str, prior: Option<&Stored>) -> Vec<String> {
    let base = &bases(w, name)[case.base];
    let mut default_tags = vec![("env", "rules")];
    let config = apply_edits(base, &mut default_tags, &case.edits);
    let known_provider = provider_config(w, &default_tags);
    let plan_provider = with_unknowns(&known_provider, &case.provider_unknown);
    let (planner, applier) = (
        configured(&plan_provider).await,
        configured(&known_provider).await,
    );
    let mut walk = Walk::new(&planner, TYPE);
    let prior = prior.cloned().unwrap_or_default();
    let first = walk
        .plan(&planner, &prior, &with_unknowns(&config, &case.unknown))
        .await;
    let mut problems: Vec<String> = errors(&first.diagnostics)
        .into_iter()
        .map(|e| format!("[plan] a valid configuration was refused: {e}"))
        .collect();
    // A replacement's final plan comes after its destroy, which only the apply walks make.
    if !first.failed() && first.action != Action::Replace {
        let fin = walk.final_plan(&applier, &prior, &first, &config).await;
        problems.extend(
            errors(&fin.diagnostics)
                .into_iter()
                .map(|e| format!("[final plan] a valid configuration was refused: {e}")),
        );
    }
    problems.extend(walk.found.iter().map(Found::to_string));
    problems
}

/// Drops unknowns and edits one at a time while the case still fails.
async fn shrink(
    w: &World,
    mut case: Case,
    name: &str,
    prior: Option<&Stored>,
) -> (Case, Vec<String>) {
    let mut problems = plan_case(w, &case, name, prior).await;
    loop {
        let mut smaller = None;
        let candidates = (0..case.unknown.len())
            .map(|i| (0, i))
            .chain((0..case.provider_unknown.len()).map(|i| (1, i)))
            .chain((0..case.edits.len()).map(|i| (2, i)));
        for (list, i) in candidates {
            let mut c = case.clone();
            match list {
                0 => drop(c.unknown.remove(i)),
                1 => drop(c.provider_unknown.remove(i)),
                _ => drop(c.edits.remove(i)),
            }
            let p = plan_case(w, &c, name, prior).await;
            if !p.is_empty() {
                smaller = Some((c, p));
                break;
            }
        }
        match smaller {
            Some((c, p)) => (case, problems) = (c, p),
            None => return (case, problems),
        }
    }
}

fn describe(w: &World, case: &Case, name: &str) -> String {
    let base = &bases(w, name)[case.base];
    let mut tags = vec![("env", "rules")];
    let config = apply_edits(base, &mut tags, &case.edits);
    let provider = with_unknowns(&provider_config(w, &tags), &case.provider_unknown);
    format!(
        "base {}, edits {:?}\n  config at plan: {}\n  provider at plan: {}",
        case.base,
        case.edits,
        render(&with_unknowns(&config, &case.unknown)),
        render(&provider),
    )
}

fn generate(rng: &mut Rng, w: &World, base: usize, edits: Vec<Edit>) -> Case {
    let mut tags = vec![("env", "rules")];
    let config = apply_edits(&bases(w, "x")[base], &mut tags, &edits);
    let mut all = Vec::new();
    positions(&schema(), &config, &AttrPath::default(), &mut all);
    let mut provider_all = Vec::new();
    positions(
        &provider_block(),
        &provider_config(w, &tags),
        &AttrPath::default(),
        &mut provider_all,
    );
    // Most cases have a few unknowns; some have many.
    let percent = [5, 10, 25, 60][rng.below(4)];
    Case {
        base,
        unknown: rng.subset(&all, percent),
        provider_unknown: if rng.chance(25) {
            rng.subset(&provider_all, 20)
        } else {
            Vec::new()
        },
        edits,
    }
}

async fn run_plan_cases(
    w: &World,
    label: &str,
    cases: Vec<(Case, String, Option<Stored>)>,
) -> usize {
    let mut failures = Vec::new();
    let n = cases.len();
    for (case, name, prior) in cases {
        if plan_case(w, &case, &name, prior.as_ref()).await.is_empty() {
            continue;
        }
        let (small, problems) = shrink(w, case, &name, prior.as_ref()).await;
        failures.push(format!(
            "smallest failing case: {}\n    {}",
            describe(w, &small, &name),
            problems.join("\n    ")
        ));
        if failures.len() >= 3 {
            break;
        }
    }
    assert!(
        failures.is_empty(),
        "{label}: {} of {n} cases broke Terraform's rules:\n{}",
        failures.len(),
        failures.join("\n")
    );
    n
}

/// Plan-only cases: creates with unknowns everywhere, then in-place changes (with unknowns)
/// from a cluster of each base applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_plan_keeps_terraforms_rules() {
    let w = world();
    let started = std::time::Instant::now();
    let mut total = 0;
    for seed in seeds() {
        let mut rng = Rng(seed);
        let n = cases_per_seed(700);
        let nbases = bases(&w, "x").len();
        let creates = (0..n)
            .map(|i| {
                let case = generate(&mut rng, &w, i % nbases, Vec::new());
                (case, format!("rules-p{seed}-{i}"), None)
            })
            .collect();
        total += run_plan_cases(&w, "create", creates).await;

        let mut updates = Vec::new();
        let mut made = Vec::new();
        for base in 0..nbases {
            let name = format!("rules-u{seed}-{base}");
            let stored = applied(&w, base, &name).await;
            made.push(stored.clone());
            for _ in 0..n / 2 / nbases {
                let possible = edits_for(&bases(&w, &name)[base]);
                let edits = rng.subset(&possible, 30);
                updates.push((
                    generate(&mut rng, &w, base, edits),
                    name.clone(),
                    Some(stored.clone()),
                ));
            }
        }
        total += run_plan_cases(&w, "update", updates).await;
        // The next seed's creates need the gateways free (a virtual private gateway attaches
        // to one VPC at a time).
        let server = configured(&provider_config(&w, &[("env", "rules")])).await;
        for stored in made {
            let mut walk = Walk::new(&server, TYPE);
            let (gone, d) = walk.destroy(&server, &stored).await;
            assert!(!d.has_errors() && gone.state.is_null(), "{:?}", errors(&d));
        }
    }
    println!(
        "{total} generated plan cases kept Terraform's rules in {:.0?}",
        started.elapsed()
    );
    assert!(total >= 1000, "only {total} cases ran");
}

/// `base` created with everything known, refreshed: the state a later plan starts from.
async fn applied(w: &World, base: usize, name: &str) -> Stored {
    let config = bases(w, name)[base].clone();
    let provider = provider_config(w, &[("env", "rules")]);
    let server = configured(&provider).await;
    let mut walk = Walk::new(&server, TYPE);
    let plan = walk.plan(&server, &Stored::default(), &config).await;
    assert!(!plan.failed(), "{:?}", errors(&plan.diagnostics));
    let (stored, d) = walk
        .apply(&server, &Stored::default(), &plan, &config)
        .await;
    assert!(!d.has_errors(), "{:?}", errors(&d));
    let (stored, d) = walk.refresh(&server, &stored).await;
    assert!(!d.has_errors(), "{:?}", errors(&d));
    let found: Vec<String> = walk.found.iter().map(Found::to_string).collect();
    assert!(found.is_empty(), "creating base {base}: {found:#?}");
    stored
}

/// Whether an unknown at `p` plans a replacement (the schema's replacing attributes and blocks).
fn forces_replacement(p: &AttrPath) -> bool {
    let block = schema();
    let Some(Step::Attr(first)) = p.0.first() else {
        return false;
    };
    block
        .find_attribute(first)
        .is_some_and(|a| a.requires_replace)
        || block.find_block(first).is_some_and(|b| b.requires_replace)
}

/// What disturbs an apply.
#[derive(Clone, Copy, Debug)]
enum Disturbance {
    None,
    /// EC2, IAM and EKS take longer to show their changes than the provider waits.
    SettlesLate,
    /// Ctrl-C this many milliseconds into the apply.
    Interrupted(u64),
}

/// One step of an apply walk: the configuration as apply knows it and as plan saw it.
struct WalkStep {
    config: Value,
    plan_config: Value,
    provider: Value,
    disturbance: Disturbance,
}

/// One apply of `config` from `stored` under `disturbance`, then, when it did not succeed,
/// the apply a user runs next, which must; then the plan after it must be empty.
async fn apply_and_converge(
    w: &World,
    walk: &mut Walk,
    stored: Stored,
    step: &WalkStep,
    log: &mut Vec<String>,
) -> Stored {
    let WalkStep {
        config,
        plan_config,
        provider,
        disturbance,
    } = step;
    let disturbance = *disturbance;
    let planner = configured(provider).await;
    let (stored, _) = walk.refresh(&planner, &stored).await;
    let first = walk.plan(&planner, &stored, plan_config).await;
    assert!(!first.failed(), "plan: {:?}", errors(&first.diagnostics));
    let applier = configured(provider).await;
    if let Disturbance::SettlesLate = disturbance {
        // NAT gateways and attachments stay pending, and EKS updating, past the provider's
        // window; new IDs stay invisible (consistency) and roles unpropagated for most of it.
        w.tb.set(&[
            ("ec2_consistency_ms", 1500),
            ("ec2_settle_ms", 3000),
            ("iam_propagation_ms", 1500),
            ("eks_update_ms", 3000),
        ]);
    }
    let (after, d) = match disturbance {
        Disturbance::Interrupted(ms) => {
            let stop = async {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                applier.stop();
            };
            let (out, ()) = tokio::join!(walk.apply(&applier, &stored, &first, config), stop);
            out
        }
        _ => walk.apply(&applier, &stored, &first, config).await,
    };
    w.tb.set(&[
        ("ec2_consistency_ms", 300),
        ("ec2_settle_ms", 300),
        ("iam_propagation_ms", 600),
        ("eks_update_ms", 200),
    ]);
    log.push(format!(
        "  {:?} {:?}: {:?}",
        first.action,
        disturbance,
        errors(&d)
    ));
    let after = if d.has_errors() {
        // What the user does next: plan and apply again, with everything known.
        let planner = configured(provider).await;
        let (fresh, _) = walk.refresh(&planner, &after).await;
        let again = walk.plan(&planner, &fresh, config).await;
        assert!(
            !again.failed(),
            "{}\nplan after {disturbance:?}: {:?}",
            log.join("\n"),
            errors(&again.diagnostics)
        );
        let (done, d) = walk
            .apply(&configured(provider).await, &fresh, &again, config)
            .await;
        assert!(
            !d.has_errors(),
            "{}\napply after {disturbance:?}: {:?}",
            log.join("\n"),
            errors(&d)
        );
        done
    } else {
        after
    };
    let planner = configured(provider).await;
    let (fresh, d) = walk.refresh(&planner, &after).await;
    assert!(!d.has_errors(), "{:?}", errors(&d));
    let next = walk.plan(&planner, &fresh, config).await;
    assert_eq!(
        next.action,
        Action::NoOp,
        "the plan after a successful apply is not empty ({disturbance:?}): {}",
        differences(&fresh.state, &next)
    );
    fresh
}

fn differences(state: &Value, next: &Planned) -> String {
    let (Some(a), Some(b)) = (state.as_map(), next.planned.as_map()) else {
        return format!("{:?}", next.diagnostics);
    };
    a.iter()
        .filter(|(k, v)| b.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}: {v:?} -> {:?}", b.get(k).unwrap_or(&Value::Null)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Full walks against the testbed: create with unknowns, change in place with unknowns,
/// destroy, with AWS settling late and Ctrl-C at random moments; every answer checked, every
/// disturbed apply converging on the next, nothing left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_apply_keeps_terraforms_rules_and_converges() {
    let w = world();
    let before = w.tb.inventory();
    let mut log = Vec::new();
    let mut walks = 0;
    for seed in seeds() {
        let mut rng = Rng(seed ^ 0xA11);
        let nbases = bases(&w, "x").len();
        for base in 0..nbases {
            let name = format!("rules-a{seed}-{base}");
            let mut walk = Walk::new(&configured(&provider_config(&w, &[])).await, TYPE);
            let disturb = |rng: &mut Rng| match rng.below(4) {
                0 => Disturbance::SettlesLate,
                1 => Disturbance::Interrupted(rng.below(3000) as u64),
                _ => Disturbance::None,
            };
            let mut stored = Stored::default();
            let mut upgraded = false;
            let possible = edits_for(&bases(&w, &name)[base]);
            for step in 0..3 {
                let mut edits = if step == 0 {
                    Vec::new()
                } else {
                    rng.subset(&possible, 40)
                };
                // EKS does not downgrade: once upgraded, later steps keep the new version.
                let upgrades = |e: &Vec<Edit>| e.iter().any(|e| matches!(e, Edit::UpgradeVersion));
                if upgraded && !upgrades(&edits) {
                    edits.push(Edit::UpgradeVersion);
                }
                upgraded |= upgrades(&edits);
                let mut case = generate(&mut rng, &w, base, edits);
                // Mostly in place after the create: unknowns where they force no replacement.
                if step > 0 && rng.chance(75) {
                    case.unknown.retain(|p| !forces_replacement(p));
                }
                let mut tags = vec![("env", "rules")];
                let config = apply_edits(&bases(&w, &name)[base], &mut tags, &case.edits);
                let provider = provider_config(&w, &tags);
                let plan_config = with_unknowns(&config, &case.unknown);
                let disturbance = disturb(&mut rng);
                log.push(format!(
                    "{name} step {step}: {}",
                    describe(&w, &case, &name)
                ));
                let step = WalkStep {
                    config,
                    plan_config,
                    provider,
                    disturbance,
                };
                stored = apply_and_converge(&w, &mut walk, stored, &step, &mut log).await;
                walks += 1;
            }
            let server = configured(&provider_config(&w, &[])).await;
            let (gone, d) = walk.destroy(&server, &stored).await;
            assert!(
                !d.has_errors() && gone.state.is_null(),
                "destroy: {:?}",
                errors(&d)
            );
            let found: Vec<String> = walk.found.iter().map(Found::to_string).collect();
            assert!(found.is_empty(), "{}\n{found:#?}", log.join("\n"));
            let left: Vec<String> =
                w.tb.inventory()
                    .into_iter()
                    .filter(|o| !before.contains(o))
                    .collect();
            assert!(left.is_empty(), "{}\nleft behind: {left:?}", log.join("\n"));
        }
    }
    assert_eq!(w.tb.inventory(), before, "the walks left objects behind");
    println!(
        "{walks} applies walked, each checked and converged:\n{}",
        log.join("\n")
    );
}
