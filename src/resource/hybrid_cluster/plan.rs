//! PlanResourceChange: defaults, computed values, replacement paths, and drift to repair.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;

use super::cidr;
use super::schema::{self, REPLACE_ON_CHANGE};
use crate::plugin::{AttrPath, Value};

/// Attributes only AWS knows until the cluster exists.
const CLUSTER_COMPUTED: &[&str] = &[
    "arn",
    "endpoint",
    "certificate_authority_data",
    "status",
    "platform_version",
    "cluster_security_group_id",
];

pub struct Planned {
    pub state: Value,
    pub requires_replace: Vec<AttrPath>,
}

/// What plan knows beyond the configuration.
#[derive(Default)]
pub struct Context<'a> {
    pub default_tags: BTreeMap<String, String>,
    /// The CIDR blocks of a pre-existing VPC, read at plan: they set EKS's default service
    /// CIDR.
    pub existing_vpc_cidrs: Option<&'a [Ipv4Net]>,
}

pub fn plan(prior: &Value, proposed: &Value, cx: &Context<'_>) -> Planned {
    let mut p = proposed.clone();
    let creating = prior.is_null();
    fill_defaults(&mut p, cx);
    if creating {
        plan_create_computed(&mut p);
    } else {
        plan_update_computed(prior, &mut p);
    }
    let requires_replace = if creating {
        Vec::new()
    } else {
        REPLACE_ON_CHANGE
            .iter()
            .filter(|a| prior.get(a) != p.get(a))
            .map(|a| AttrPath::root(a))
            .collect()
    };
    if !requires_replace.is_empty() {
        // A replacement creates everything anew: show it as such.
        plan_create_computed(&mut p);
    }
    Planned {
        state: p,
        requires_replace,
    }
}

fn set_if_null(v: &mut Value, key: &str, default: Value) {
    if v.get(key).is_null() {
        v.set(key, default);
    }
}

fn fill_defaults(p: &mut Value, cx: &Context<'_>) {
    set_if_null(p, "endpoint_public_access", Value::Bool(true));
    set_if_null(p, "endpoint_private_access", Value::Bool(false));
    set_if_null(
        p,
        "authentication_mode",
        Value::string(schema::DEFAULT_AUTHENTICATION_MODE),
    );
    p.set("id", p.get("name").clone());
    p.set("tags_all", tags_all(p.get("tags"), &cx.default_tags));
    let vpc_cidrs = vpc_cidrs(p, cx);
    if let Some(Value::List(vpcs)) = p.get_mut("vpc") {
        if let Some(vpc) = vpcs.first_mut().filter(|v| v.get("id").is_null()) {
            set_if_null(vpc, "cidr", Value::string(schema::DEFAULT_VPC_CIDR));
            set_if_null(
                vpc,
                "nat_gateway",
                Value::string(schema::DEFAULT_NAT_GATEWAY),
            );
            set_if_null(vpc, "availability_zones", Value::Unknown);
        }
    }
    if p.get("service_ipv4_cidr").is_null() {
        let default = match vpc_cidrs {
            Some(cidrs) => Value::string(cidr::default_service_cidr(cidrs.iter())),
            None => Value::Unknown,
        };
        p.set("service_ipv4_cidr", default);
    }
    if let Some(Value::List(activations)) = p.get_mut("ssm_activation") {
        for a in activations {
            set_if_null(
                a,
                "registration_limit",
                Value::Number(crate::plugin::value::Number::Int(1)),
            );
        }
    }
    if let Some(Value::List(rncs)) = p.get_mut("remote_network_config") {
        for rnc in rncs {
            if let Some(Value::List(iams)) = rnc.get_mut("iam") {
                for iam in iams {
                    set_if_null(iam, "provider", Value::string("SSM"));
                }
            }
        }
    }
}

/// The VPC's CIDR blocks when plan can know them: the provider's VPC (given or default
/// CIDR), or a pre-existing one read at plan. None while a `vpc` block or its CIDR is
/// unknown (a `dynamic` block whose `for_each` is not known yet arrives wholly unknown).
fn vpc_cidrs(p: &Value, cx: &Context<'_>) -> Option<Vec<Ipv4Net>> {
    let vpc = p.get("vpc");
    if vpc.is_unknown() {
        return None;
    }
    let block = vpc.first();
    if !block.get("id").is_null() {
        return cx.existing_vpc_cidrs.map(<[Ipv4Net]>::to_vec);
    }
    match block.get("cidr") {
        Value::Null => Some(vec![schema::DEFAULT_VPC_CIDR.parse().expect("constant")]),
        v => v.as_str().and_then(|c| c.parse().ok()).map(|c| vec![c]),
    }
}

fn tags_all(tags: &Value, default_tags: &BTreeMap<String, String>) -> Value {
    if !tags.is_wholly_known() {
        return Value::Unknown;
    }
    let mut all: BTreeMap<String, Value> = default_tags
        .iter()
        .map(|(k, v)| (k.clone(), Value::string(v)))
        .collect();
    if let Some(m) = tags.as_map() {
        all.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Value::Map(all)
}

fn uses_ira_without_role(p: &Value) -> bool {
    let iam = p.get("remote_network_config").first().get("iam").first();
    let provider = iam.get("provider");
    iam.get("role_arn").is_null()
        && (provider.is_unknown()
            || provider
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("ira")))
}

fn plan_create_computed(p: &mut Value) {
    for a in CLUSTER_COMPUTED {
        p.set(a, Value::Unknown);
    }
    for a in [
        "access_entry_arn",
        "owned_objects",
        "control_plane_security_group_id",
        "node_config",
    ] {
        p.set(a, Value::Unknown);
    }
    set_if_null(p, "kubernetes_version", Value::Unknown);
    set_if_null(p, "cluster_role_arn", Value::Unknown);
    set_activation_unknown(p);

    let vpc = p.get("vpc").first().clone();
    match vpc.get("id") {
        Value::Null => {
            for a in ["vpc_id", "public_subnet_ids", "private_subnet_ids"] {
                p.set(a, Value::Unknown);
            }
        }
        id => {
            p.set("vpc_id", id.clone());
            p.set("private_subnet_ids", vpc.get("subnet_ids").clone());
            p.set("public_subnet_ids", Value::List(Vec::new()));
        }
    }
    if p.get("remote_network_config").is_unknown() {
        for a in [
            "remote_nodes_role_arn",
            "remote_nodes_trust_anchor_arn",
            "remote_nodes_anywhere_profile_arn",
            "vpc_gateway_attachment_id",
        ] {
            p.set(a, Value::Unknown);
        }
        return;
    }
    let rnc = p.get("remote_network_config").first().clone();
    let role_arn = rnc.get("iam").first().get("role_arn").clone();
    p.set(
        "remote_nodes_role_arn",
        if role_arn.is_null() {
            Value::Unknown
        } else {
            role_arn
        },
    );
    let ira = if uses_ira_without_role(p) {
        Value::Unknown
    } else {
        Value::Null
    };
    p.set("remote_nodes_trust_anchor_arn", ira.clone());
    p.set("remote_nodes_anywhere_profile_arn", ira);
    let gateway = rnc.get("vpc_gateway_id");
    p.set(
        "vpc_gateway_attachment_id",
        if gateway.is_null() {
            Value::Null
        } else {
            Value::Unknown
        },
    );
}

/// Whether repairing an object in this state replaces it with a new one (new ID, new key in
/// `owned_objects`), and the attribute that holds its ID or ARN.
fn replaced_by_repair(key: &str, status: &str) -> Option<Option<&'static str>> {
    let kept = |states: &[&str]| states.contains(&status);
    if key.starts_with("transit_gateway_attachment/") {
        (!kept(&["ok", "pending", "pendingAcceptance"]))
            .then_some(Some("vpc_gateway_attachment_id"))
    } else if key.starts_with("profile/") {
        (status == "missing").then_some(Some("remote_nodes_anywhere_profile_arn"))
    } else if key.starts_with("trust_anchor/") {
        (status == "missing").then_some(Some("remote_nodes_trust_anchor_arn"))
    } else if key.starts_with("nat_gateway/") {
        (status != "ok").then_some(None)
    } else {
        // Detaching what should not be attached removes its key.
        (status == "attached").then_some(None)
    }
}

fn set_activation_unknown(p: &mut Value) {
    if let Some(Value::List(activations)) = p.get_mut("ssm_activation") {
        for a in activations {
            a.set("activation_id", Value::Unknown);
            a.set("activation_code", Value::Unknown);
        }
    }
}

const ACTIVATION_KEY: &str = "ssm_activation/";

/// An activation cannot be changed, only replaced: a new one (new ID and code) when the block
/// changes, appears or drifted; none when the block goes.
fn plan_activation(prior: &Value, p: &mut Value) {
    let settings = |v: &Value| {
        let a = v.get("ssm_activation").first().clone();
        (
            a.get("registration_limit").clone(),
            a.get("expiration").clone(),
        )
    };
    let wanted = !p.get("ssm_activation").as_list().is_empty();
    let had = !prior.get("ssm_activation").as_list().is_empty();
    let owned = prior
        .get("owned_objects")
        .as_map()
        .cloned()
        .unwrap_or_default();
    let drifted = owned
        .iter()
        .any(|(k, v)| k.starts_with(ACTIVATION_KEY) && v.as_str() != Some("ok"));
    if wanted && (!had || drifted || settings(prior) != settings(p)) {
        set_activation_unknown(p);
        p.set("owned_objects", Value::Unknown);
    } else if wanted {
        let old = prior.get("ssm_activation").first().clone();
        if let Some(Value::List(activations)) = p.get_mut("ssm_activation") {
            for a in activations {
                a.set("activation_id", old.get("activation_id").clone());
                a.set("activation_code", old.get("activation_code").clone());
            }
        }
    } else if had {
        if let Some(Value::Map(m)) = p.get_mut("owned_objects") {
            m.retain(|k, _| !k.starts_with(ACTIVATION_KEY));
        }
    }
}

fn plan_update_computed(prior: &Value, p: &mut Value) {
    if prior.get("kubernetes_version") != p.get("kubernetes_version") {
        p.set("platform_version", Value::Unknown);
    }
    plan_owned_objects(p);
    plan_activation(prior, p);
}

fn plan_owned_objects(p: &mut Value) {
    let owned = p.get("owned_objects").clone();
    let Some(m) = owned.as_map() else { return };
    let drifted = |prefix: &str| {
        m.iter()
            .any(|(k, v)| k.starts_with(prefix) && v.as_str() != Some("ok"))
    };
    // Everything recorded is expected to exist and be healthy after apply; the map is shown
    // key by key, so the plan names exactly what drifted.
    let expected = m.keys().map(|k| (k.clone(), Value::string("ok"))).collect();
    p.set("owned_objects", Value::Map(expected));
    if drifted("cluster/") {
        for a in CLUSTER_COMPUTED {
            p.set(a, Value::Unknown);
        }
    }
    if drifted("access_entry/") {
        p.set("access_entry_arn", Value::Unknown);
    }
    for (key, status) in m {
        let Some(attribute) = replaced_by_repair(key, status.as_str().unwrap_or_default()) else {
            continue;
        };
        // Its key in owned_objects changes, and node_config may carry its ARN.
        p.set("owned_objects", Value::Unknown);
        if let Some(a) = attribute {
            p.set(a, Value::Unknown);
            p.set("node_config", Value::Unknown);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::hybrid_cluster::schema::schema;

    fn config() -> Value {
        let mut v = schema().block.null_object();
        v.set("name", Value::string("demo"));
        let mut rnc = schema()
            .block
            .find_block("remote_network_config")
            .unwrap()
            .block
            .null_object();
        let mut nodes = Value::Map(Default::default());
        nodes.set("cidrs", Value::string_list(["10.80.146.0/24"]));
        rnc.set("remote_node_networks", Value::List(vec![nodes]));
        rnc.set("vpc_gateway_id", Value::string("tgw-0123456789abcdef0"));
        v.set("remote_network_config", Value::List(vec![rnc]));
        v
    }

    #[test]
    fn create_fills_defaults_and_marks_computed_unknown() {
        let cx = Context {
            default_tags: BTreeMap::from([("env".to_string(), "test".to_string())]),
            ..Context::default()
        };
        let p = plan(&Value::Null, &config(), &cx).state;
        assert_eq!(p.get("endpoint_public_access"), &Value::Bool(true));
        assert_eq!(
            p.get("authentication_mode"),
            &Value::string("API_AND_CONFIG_MAP")
        );
        assert_eq!(p.get("service_ipv4_cidr"), &Value::string("10.100.0.0/16"));
        assert_eq!(p.get("tags_all").get("env"), &Value::string("test"));
        assert!(p.get("arn").is_unknown());
        assert!(p.get("vpc_gateway_attachment_id").is_unknown());
        assert!(p.get("remote_nodes_trust_anchor_arn").is_null());
        assert_eq!(p.get("id"), &Value::string("demo"));
    }

    #[test]
    fn changed_remote_network_config_requires_replacement() {
        let prior = plan(&Value::Null, &config(), &Context::default()).state;
        let mut proposed = prior.clone();
        let mut rnc = proposed.get("remote_network_config").first().clone();
        rnc.set("vpc_gateway_id", Value::string("vgw-0123456789abcdef0"));
        proposed.set("remote_network_config", Value::List(vec![rnc]));
        let planned = plan(&prior, &proposed, &Context::default());
        assert_eq!(
            planned.requires_replace,
            vec![AttrPath::root("remote_network_config")]
        );
    }

    #[test]
    fn drift_plans_every_owned_object_back_to_ok() {
        let mut prior = plan(&Value::Null, &config(), &Context::default()).state;
        prior.set(
            "owned_objects",
            Value::string_map([("access_entry/demo", "missing"), ("vpc/vpc-1", "ok")]),
        );
        prior.set("access_entry_arn", Value::string("arn:old"));
        let planned = plan(&prior, &prior.clone(), &Context::default());
        assert!(planned.requires_replace.is_empty());
        assert_eq!(
            planned.state.get("owned_objects").get("access_entry/demo"),
            &Value::string("ok")
        );
        assert!(planned.state.get("access_entry_arn").is_unknown());
    }

    fn with_activation(v: &Value, limit: i64) -> Value {
        let mut v = v.clone();
        let mut a = schema()
            .block
            .find_block("ssm_activation")
            .unwrap()
            .block
            .null_object();
        a.set(
            "registration_limit",
            Value::Number(crate::plugin::value::Number::Int(limit)),
        );
        v.set("ssm_activation", Value::List(vec![a]));
        v
    }

    #[test]
    fn an_activation_is_kept_when_unchanged_and_replaced_in_place_when_changed() {
        let mut prior = plan(
            &Value::Null,
            &with_activation(&config(), 5),
            &Context::default(),
        )
        .state;
        assert!(prior
            .get("ssm_activation")
            .first()
            .get("activation_code")
            .is_unknown());
        if let Some(Value::List(blocks)) = prior.get_mut("ssm_activation") {
            blocks[0].set("activation_id", Value::string("act-1"));
            blocks[0].set("activation_code", Value::string("secret"));
        }
        prior.set(
            "owned_objects",
            Value::string_map([("ssm_activation/act-1", "ok")]),
        );
        let same = plan(&prior, &prior.clone(), &Context::default());
        let kept = same.state.get("ssm_activation").first().clone();
        assert_eq!(kept.get("activation_code"), &Value::string("secret"));
        assert_eq!(same.state.get("owned_objects"), prior.get("owned_objects"));

        let changed = plan(&prior, &with_activation(&prior, 10), &Context::default());
        assert!(changed.requires_replace.is_empty(), "the cluster stays");
        let block = changed.state.get("ssm_activation").first().clone();
        assert!(
            block.get("activation_id").is_unknown() && block.get("activation_code").is_unknown()
        );

        let mut removed = prior.clone();
        removed.set("ssm_activation", Value::List(Vec::new()));
        let gone = plan(&prior, &removed, &Context::default());
        assert!(gone.state.get("owned_objects").as_map().unwrap().is_empty());
    }
}
