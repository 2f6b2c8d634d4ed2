//! No input crashes the provider. Arbitrary values (Unicode, control characters, huge numbers,
//! long strings, near-misses of valid ones) go into every string, number and collection
//! attribute of every kind's schema, nested blocks included, and into every function's
//! arguments and the import ID, through the provider's server as Terraform sends them: validate,
//! then plan the resource (through the in-process Terraform, whose rules every answer must
//! keep), read the data source, open the ephemeral resource, plan the action, import. No AWS
//! is configured (the region is unknown), so no call can be made. Each input must end in an
//! answer, never a panic.
//!
//! `NO_CRASH_SEED` replays a run, `NO_CRASH_INPUTS` sets how many (default 12,000).

mod common;

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tfplugin6::schema::{Block, Type};
use tfplugin6::value::Number;
use tfplugin6::walk::{Stored, Walk};
use tfplugin6::{Server, Value};

/// What a generated value goes into.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Provider,
    Resource,
    DataSource,
    Ephemeral,
    Action,
    List,
}

/// One step down a configuration: an attribute, or the first item of a nested block.
#[derive(Clone, Debug)]
enum Step {
    Attribute(String),
    Block(String),
}

#[derive(Clone, Debug)]
struct Target {
    kind: Kind,
    type_name: &'static str,
    path: Vec<Step>,
    ty: Type,
}

fn targets_of(kind: Kind, type_name: &'static str, block: &Block, prefix: &[Step]) -> Vec<Target> {
    let mut out = Vec::new();
    for a in &block.attributes {
        if a.computed && !a.optional {
            continue;
        }
        let mut path = prefix.to_vec();
        path.push(Step::Attribute(a.name.clone()));
        out.push(Target {
            kind,
            type_name,
            path,
            ty: a.ty.clone(),
        });
    }
    for b in &block.blocks {
        let mut path = prefix.to_vec();
        path.push(Step::Block(b.name.clone()));
        out.extend(targets_of(kind, type_name, &b.block, &path));
    }
    out
}

/// Every configurable attribute of every kind the provider serves.
fn all_targets(s: &Server) -> Vec<Target> {
    let mut out = targets_of(Kind::Provider, "provider", &s.provider_schema().block, &[]);
    let kinds: [(Kind, Vec<(&'static str, tfplugin6::Schema)>); 5] = [
        (Kind::Resource, s.resource_schemas().into_iter().collect()),
        (
            Kind::DataSource,
            s.data_source_schemas().into_iter().collect(),
        ),
        (
            Kind::Ephemeral,
            s.ephemeral_resource_schemas().into_iter().collect(),
        ),
        (Kind::Action, s.action_schemas().into_iter().collect()),
        (Kind::List, s.list_resource_schemas().into_iter().collect()),
    ];
    for (kind, schemas) in kinds {
        for (name, schema) in schemas {
            out.extend(targets_of(kind, name, &schema.block, &[]));
        }
    }
    out
}

/// Valid values of the kind a user writes, mutated below.
const SEEDS: &[&str] = &[
    "hybrid-demo",
    "10.80.146.0/24",
    "192.168.0.0/16",
    "1.33",
    "40m",
    "2026-12-31T10:00:00+02:00",
    "arn:aws:iam::123456789012:role/teams/edge/nodes",
    "arn:aws:acm-pca:us-west-2:123456789012:certificate-authority/12345678-1234-1234-1234-123456789012",
    "tgw-0123456789abcdef0",
    "vpc-0123456789abcdef0",
    "subnet-0123456789abcdef0",
    "sg-0123456789abcdef0",
    "us-west-2a",
    "IRA",
    "ssm",
    "API_AND_CONFIG_MAP",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    "https://example.eks.amazonaws.com",
    "8f3c2b1a-4d5e-4f60-8a7b-9c0d1e2f3a4b",
    "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: demo\n    region: us-west-2\n  hybrid:\n    ssm:\n      activationCode: <SSM_ACTIVATION_CODE>\n      activationId: <SSM_ACTIVATION_ID>\n",
];

/// Pieces that have broken parsers before, or could.
const HOSTILE: &[&str] = &[
    "",
    " ",
    "é",
    "ééééa",
    "👩‍🚀",
    "\u{202e}",
    "a\u{301}",
    "\0",
    "\n",
    "\r\n",
    "\t",
    "\u{7f}",
    "\u{85}",
    "\u{2028}",
    "\"",
    "'",
    "\\",
    "${x}",
    "%{",
    "/",
    ":",
    "*",
    "-",
    "3000000000000000h",
    "18446744073709551616",
    "99999999999999999999999s",
    "-1",
    "1e309",
    "NaN",
    "0/0",
    "255.255.255.255/32",
    "10.0.0.0/33",
    "::1/128",
    "1.2.3.4/-1",
    "arn:",
    "arn:aws:iam::1:role/",
    "+99:99",
    "-----BEGIN ",
    "<SSM_ACTIVATION_CODE>",
    "kind: NodeConfig",
];

fn one_char(rng: &mut StdRng) -> char {
    match rng.random_range(0..6) {
        0 => rng.random_range(0u8..0x20) as char,
        1 => rng.random_range(0x20u8..0x7f) as char,
        2 => char::from_u32(rng.random_range(0x80..0x800)).unwrap_or('é'),
        3 => char::from_u32(rng.random_range(0x800..0xd800)).unwrap_or('中'),
        4 => char::from_u32(rng.random_range(0x10000..0x10ffff)).unwrap_or('😀'),
        _ => ['é', '😀', '\u{301}', '\0', '\n', '"', '\\', ':', '/', '-'][rng.random_range(0..10)],
    }
}

fn random_string(rng: &mut StdRng) -> String {
    let mut s: String = match rng.random_range(0..10) {
        0..=3 => SEEDS[rng.random_range(0..SEEDS.len())].to_string(),
        4..=5 => HOSTILE[rng.random_range(0..HOSTILE.len())].to_string(),
        6 => (0..rng.random_range(0..40))
            .map(|_| one_char(rng))
            .collect(),
        7 => {
            rng.random::<u64>().to_string() + ["h", "m", "s", "", "d", "/"][rng.random_range(0..6)]
        }
        8 => {
            // A long input: 1,000 to 300,000 characters.
            let unit = HOSTILE[rng.random_range(0..HOSTILE.len())];
            let n = if rng.random_bool(0.05) {
                300_000
            } else {
                rng.random_range(1_000..5_000)
            };
            unit.repeat(n / unit.len().max(1))
                .chars()
                .take(n)
                .collect::<String>()
                + "x"
        }
        _ => format!(
            "{}{}{}",
            SEEDS[rng.random_range(0..SEEDS.len())],
            HOSTILE[rng.random_range(0..HOSTILE.len())],
            SEEDS[rng.random_range(0..SEEDS.len())]
        ),
    };
    // Mutations: insert, delete or replace characters at random places.
    for _ in 0..rng.random_range(0..4) {
        let chars: Vec<char> = s.chars().collect();
        let at = rng.random_range(0..=chars.len());
        let mut out: Vec<char> = chars.clone();
        match rng.random_range(0..3) {
            0 => out.insert(at, one_char(rng)),
            1 if at < chars.len() => {
                out.remove(at);
            }
            _ if at < chars.len() => out[at] = one_char(rng),
            _ => {}
        }
        s = out.into_iter().collect();
    }
    s
}

fn random_number(rng: &mut StdRng) -> Value {
    Value::Number(match rng.random_range(0..8) {
        0 => Number::Int(i64::MAX),
        1 => Number::Int(i64::MIN),
        2 => Number::UInt(u64::MAX),
        3 => Number::Float((rng.random::<f64>() - 0.5) * 1e308),
        4 => Number::Float([0.5, -0.0, 1e-300, f64::MAX, f64::MIN][rng.random_range(0..5)]),
        5 => Number::Decimal(
            ["1e400", "-1e400", "123456789012345678901234567890", "0.1"][rng.random_range(0..4)]
                .into(),
        ),
        _ => Number::Int(rng.random_range(-5..2000)),
    })
}

fn random_value(rng: &mut StdRng, ty: &Type) -> Value {
    match ty {
        Type::String => Value::String(random_string(rng)),
        Type::Number => random_number(rng),
        Type::Bool => Value::Bool(rng.random()),
        Type::List(t) | Type::Set(t) => Value::List(
            (0..rng.random_range(0..4))
                .map(|_| random_value(rng, t))
                .collect(),
        ),
        Type::Map(t) => Value::Map(
            (0..rng.random_range(0..4))
                .map(|_| (random_string(rng), random_value(rng, t)))
                .collect(),
        ),
    }
}

/// `value` (a block's object) with `leaf` at `path`, making the nested blocks on the way.
fn set_at(value: &mut Value, block: &Block, path: &[Step], leaf: Value) {
    match path {
        [] => {}
        [Step::Attribute(name)] => value.set(name, leaf),
        [Step::Attribute(_), ..] => unreachable!("attributes are leaves"),
        [Step::Block(name), rest @ ..] => {
            let nested = &block.find_block(name).expect("schema block").block;
            let mut items = value.get(name).as_list().to_vec();
            if items.is_empty() {
                items.push(nested.null_object());
            }
            set_at(&mut items[0], nested, rest, leaf);
            value.set(name, Value::List(items));
        }
    }
}

/// The smallest configuration of each kind that gets past "required".
fn base(kind: Kind, block: &Block) -> Value {
    let j = match kind {
        Kind::Resource => serde_json::json!({
            "name": "fuzz",
            "remote_network_config": [{"remote_node_networks": [{"cidrs": ["10.1.0.0/24"]}]}],
        }),
        Kind::DataSource => serde_json::json!({ "name": "fuzz" }),
        Kind::Ephemeral | Kind::Action => {
            serde_json::json!({ "cluster_name": "fuzz", "all_nodes": true })
        }
        Kind::Provider | Kind::List => serde_json::json!({}),
    };
    block.conform(&Value::from_json(j.to_string().as_bytes()).unwrap())
}

fn block_of(s: &Server, t: &Target) -> Block {
    let name = t.type_name;
    match t.kind {
        Kind::Provider => s.provider_schema().block,
        Kind::Resource => s.resource_schemas()[name].block.clone(),
        Kind::DataSource => s.data_source_schemas()[name].block.clone(),
        Kind::Ephemeral => s.ephemeral_resource_schemas()[name].block.clone(),
        Kind::Action => s.action_schemas()[name].block.clone(),
        Kind::List => s.list_resource_schemas()[name].block.clone(),
    }
}

/// Runs one input through everything that takes it. Rule violations of the in-process
/// Terraform are returned; a panic unwinds to the caller.
async fn exercise(s: &Server, t: &Target, config: Value) -> Vec<String> {
    match t.kind {
        Kind::Provider => {
            let _ = s.validate_provider_config(&config);
            Vec::new()
        }
        Kind::Resource => {
            if s.validate_resource_config(t.type_name, &config)
                .has_errors()
            {
                return Vec::new();
            }
            let mut walk = Walk::new(s, t.type_name);
            let _ = walk.plan(s, &Stored::default(), &config).await;
            walk.found.iter().map(ToString::to_string).collect()
        }
        Kind::DataSource => {
            if !s
                .validate_data_source_config(t.type_name, &config)
                .has_errors()
            {
                let _ = s.read_data_source(t.type_name, config).await;
            }
            Vec::new()
        }
        Kind::Ephemeral => {
            let _ = s.open_ephemeral_resource(t.type_name, config).await;
            Vec::new()
        }
        Kind::Action => {
            let _ = s
                .plan_action(t.type_name, &config, Default::default())
                .await;
            Vec::new()
        }
        Kind::List => {
            let _ = s.validate_list_resource_config(t.type_name, &config);
            Vec::new()
        }
    }
}

/// Arguments of a function's types, the node map with its known keys among random ones.
fn random_arguments(rng: &mut StdRng, sig: &tfplugin6::function::Signature) -> Vec<Value> {
    let keys = [
        "hostname",
        "activation_id",
        "activation_code",
        "node_name",
        "certificate",
        "private_key",
        "role_session_name",
        "trust_anchor_arn",
        "profile_arn",
        "role_arn",
        "certificate_path",
        "private_key_path",
        "admin_user_data",
    ];
    let mut args: Vec<Value> = sig
        .parameters
        .iter()
        .map(|p| match &p.ty {
            Type::Map(_) if rng.random_bool(0.7) => Value::Map(
                (0..rng.random_range(1..5))
                    .map(|_| {
                        let key = if rng.random_bool(0.8) {
                            keys[rng.random_range(0..keys.len())].to_string()
                        } else {
                            random_string(rng)
                        };
                        (key, Value::String(random_string(rng)))
                    })
                    .collect(),
            ),
            ty => random_value(rng, ty),
        })
        .collect();
    if let Some(v) = &sig.variadic {
        for _ in 0..rng.random_range(0..3) {
            args.push(random_value(rng, &v.ty));
        }
    }
    if rng.random_bool(0.05) {
        args.pop();
    }
    args
}

/// The provider's server with a region not known yet, so it has no AWS clients at all.
async fn unconfigured_server() -> Server {
    let s = terraform_provider_eks::server();
    let provider = s
        .provider_schema()
        .block
        .conform(&Value::from_json(br#"{"region": null}"#).unwrap());
    let mut provider = provider;
    provider.set("region", Value::Unknown);
    let d = s.configure_provider(provider).await;
    assert!(!d.has_errors(), "{d:?}");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_input_crashes_the_provider() {
    let seed: u64 = std::env::var("NO_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let inputs: usize = std::env::var("NO_CRASH_INPUTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12_000);
    eprintln!("no_crash: NO_CRASH_SEED={seed} NO_CRASH_INPUTS={inputs}");
    let panics = Arc::new(Mutex::new(Vec::<String>::new()));
    {
        let panics = panics.clone();
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(mut p) = panics.lock() {
                p.push(info.to_string());
            }
            default(info);
        }));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let server = Arc::new(unconfigured_server().await);
    let targets = all_targets(&server);
    let functions: Vec<(&'static str, tfplugin6::function::Signature)> =
        server.functions().into_iter().collect();
    let mut crashed: Vec<String> = Vec::new();
    let mut broken: Vec<String> = Vec::new();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let started = std::time::Instant::now();
    for i in 0..inputs {
        // One in six inputs goes to a function or the import ID, the rest to an attribute.
        let pick = rng.random_range(0..6);
        if pick == 0 {
            let (name, sig) = &functions[rng.random_range(0..functions.len())];
            let args = random_arguments(&mut rng, sig);
            *counts.entry(format!("function {name}")).or_default() += 1;
            let s = server.clone();
            let called =
                std::panic::catch_unwind(AssertUnwindSafe(|| s.call_function(name, &args)));
            if called.is_err() {
                crashed.push(format!("#{i} {name}({args:?})"));
            }
            continue;
        }
        if pick == 1 {
            let id = random_string(&mut rng);
            *counts.entry("import id".into()).or_default() += 1;
            let s = server.clone();
            let type_name = "eks_hybrid_cluster";
            let idc = id.clone();
            let run = tokio::spawn(async move {
                let _ = s
                    .import_resource_state(
                        type_name,
                        tfplugin6::resource::ImportRequest {
                            id: idc,
                            identity: Value::Null,
                            client: Default::default(),
                        },
                    )
                    .await;
            });
            if run.await.is_err() {
                crashed.push(format!("#{i} import {id:?}"));
            }
            continue;
        }
        let t = targets[rng.random_range(0..targets.len())].clone();
        let block = block_of(&server, &t);
        let mut config = base(t.kind, &block);
        let leaf = random_value(&mut rng, &t.ty);
        set_at(&mut config, &block, &t.path, leaf.clone());
        *counts
            .entry(format!("{:?} {}", t.kind, t.type_name))
            .or_default() += 1;
        let s = server.clone();
        let target = t.clone();
        let run = tokio::spawn(async move { exercise(&s, &target, config).await });
        match run.await {
            Ok(found) if found.is_empty() => {}
            Ok(found) => broken.push(format!("#{i} {:?} = {leaf:?}: {found:?}", t.path)),
            Err(_) => crashed.push(format!(
                "#{i} {:?} {} {:?} = {leaf:?}",
                t.kind, t.type_name, t.path
            )),
        }
    }
    drop(std::panic::take_hook());
    eprintln!(
        "no_crash: {inputs} inputs in {:.1} s over {} attributes and {} functions: {counts:?}",
        started.elapsed().as_secs_f64(),
        targets.len(),
        functions.len()
    );
    let messages = panics.lock().unwrap().clone();
    assert!(
        crashed.is_empty(),
        "{} of {inputs} inputs crashed the provider (NO_CRASH_SEED={seed}):\n{}\npanics:\n{}",
        crashed.len(),
        crashed
            .iter()
            .take(10)
            .map(|c| c.chars().take(500).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n"),
        messages
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        broken.is_empty(),
        "{} answers break Terraform's rules (NO_CRASH_SEED={seed}):\n{}",
        broken.len(),
        broken
            .iter()
            .take(10)
            .map(|c| c.chars().take(500).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        inputs < 10_000 || targets.len() > 30,
        "every kind's attributes are reached"
    );
}
