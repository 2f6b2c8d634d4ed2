//! The resource's part of PlanResourceChange. The server has applied the model's defaults,
//! found the replacing changes and, for a new object, left every computed attribute unknown;
//! this fills what plan can know (IDs of a pre-existing VPC, EKS's default service CIDR,
//! merged tags) and plans drift back to `ok`.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;
use tfplugin6::{One, Unknown};

use super::model::{ClusterConfig, ClusterState, Vpc, DEFAULT_NAT_GATEWAY, DEFAULT_VPC_CIDR};
use crate::cluster::cidr;
use crate::cluster::objects::{made_anew_with_the_cluster, ObjectKey, ObjectStatus};
use crate::cluster::spec::{parse_provider, CredentialsProvider};

/// What plan knows beyond the configuration.
#[derive(Default)]
pub struct Context<'a> {
    /// None while the provider's default tags are not all known.
    pub default_tags: Option<BTreeMap<String, String>>,
    /// The CIDR blocks of a pre-existing VPC, read at plan: they set EKS's default service
    /// CIDR.
    pub existing_vpc_cidrs: Option<&'a [Ipv4Net]>,
}

/// `p` is the server's proposal; `makes_new` is true for a create or a replacement.
pub fn plan(
    prior: Option<&ClusterState>,
    mut p: ClusterState,
    config: &ClusterConfig,
    makes_new: bool,
    cx: &Context<'_>,
) -> ClusterState {
    // The ID is the cluster's name, but only once the cluster exists: known after apply on a
    // create, so what keys on it (an ephemeral activation's cluster_name) waits for the cluster.
    p.id = if makes_new {
        Unknown::Unknown
    } else {
        p.config.name.clone().map(Some)
    };
    p.tags_all = tags_all(&p.config, &cx.default_tags);
    vpc_settings(&mut p.config, config);
    if makes_new {
        if config.service_ipv4_cidr.is_null() {
            p.config.service_ipv4_cidr = default_service_cidr(&p.config, cx);
        }
        known_at_create(&mut p);
    } else if prior.is_some_and(is_unfinished) {
        // Untainted after a failed create: apply completes it, and everything the create
        // had not made yet is as unknown as on a create.
        unknown_computed(&mut p, config);
        known_at_create(&mut p);
    } else if let Some(prior) = prior {
        if prior.config.kubernetes_version != p.config.kubernetes_version {
            p.platform_version = Unknown::Unknown;
        }
        plan_owned_objects(&mut p);
        let by_gateway = |c: &ClusterConfig| {
            c.pod_routes_by_hybrid_nodes_gateway
                .value()
                .copied()
                .unwrap_or(false)
        };
        let unknown_yet = p.config.pod_routes_by_hybrid_nodes_gateway.is_unknown()
            || p.config.role_permissions_boundary.is_unknown();
        // A boundary set, changed or dropped adds or removes its entries.
        let boundary_changes =
            prior.config.role_permissions_boundary != p.config.role_permissions_boundary;
        if unknown_yet || boundary_changes || by_gateway(&prior.config) != by_gateway(&p.config) {
            // The routes the provider owns change (or may, when the value is known only at
            // apply): some are forgotten or made.
            p.owned_objects = Unknown::Unknown;
        }
        plan_activation(prior, &mut p);
        // Apply reads these back from EKS; on any change they may differ (EKS bumps platform
        // versions, an update passes through UPDATING): unknown, as the plugin framework
        // plans computed attributes of a changing resource.
        if p != *prior {
            p.status = Unknown::Unknown;
            p.platform_version = Unknown::Unknown;
        }
    }
    p
}

fn tags_all(
    c: &ClusterConfig,
    default_tags: &Option<BTreeMap<String, String>>,
) -> Unknown<Option<BTreeMap<String, String>>> {
    let (tags, Some(default_tags)) = (&c.tags, default_tags) else {
        return Unknown::Unknown;
    };
    let Unknown::Known(tags) = tags else {
        return Unknown::Unknown;
    };
    let mut all = default_tags.clone();
    for (k, v) in tags.iter().flatten() {
        let Some(v) = v.known() else {
            return Unknown::Unknown;
        };
        all.insert(k.clone(), v.clone());
    }
    Unknown::some(all)
}

/// A VPC the provider creates gets eksctl's defaults where the configuration leaves a
/// setting unset (and it is not carried from the prior state); a pre-existing one has none.
fn vpc_settings(p: &mut ClusterConfig, config: &ClusterConfig) {
    let configured = config.vpc.known().and_then(One::get);
    let unset =
        |pick: fn(&Vpc) -> &Unknown<Option<String>>| configured.is_none_or(|c| pick(c).is_null());
    let (cidr_unset, nat_unset) = (unset(|v| &v.cidr), unset(|v| &v.nat_gateway));
    let Some(vpc) = p.vpc.known_mut().and_then(One::get_mut) else {
        return;
    };
    let not_carried = |v: &Unknown<Option<String>>| v.is_null() || v.is_unknown();
    if vpc.id.is_null() {
        if cidr_unset && not_carried(&vpc.cidr) {
            vpc.cidr = Unknown::some(DEFAULT_VPC_CIDR.into());
        }
        if nat_unset && not_carried(&vpc.nat_gateway) {
            vpc.nat_gateway = Unknown::some(DEFAULT_NAT_GATEWAY.into());
        }
        vpc.availability_zones.or_unknown();
    } else if vpc.id.is_unknown() {
        // Which kind of VPC it is shows at apply: a created one's settings may then be
        // eksctl's defaults.
        vpc.cidr.or_unknown();
        vpc.nat_gateway.or_unknown();
        vpc.availability_zones.or_unknown();
    } else {
        // A pre-existing VPC has none of them; one the configuration leaves unknown stays
        // unknown (validation refuses it at apply if it is set).
        let unknown_in_config = |pick: fn(&Vpc) -> bool| configured.is_some_and(pick);
        if !unknown_in_config(|c| c.cidr.is_unknown()) {
            vpc.cidr = Unknown::null();
        }
        if !unknown_in_config(|c| c.nat_gateway.is_unknown()) {
            vpc.nat_gateway = Unknown::null();
        }
        if !unknown_in_config(|c| c.availability_zones.is_unknown()) {
            vpc.availability_zones = Unknown::null();
        }
    }
}

/// The VPC's CIDR blocks when plan can know them: the provider's VPC (given or default CIDR),
/// or a pre-existing one read at plan. None while a `vpc` block or its CIDR is unknown (a
/// `dynamic` block whose `for_each` is not known yet arrives wholly unknown).
fn vpc_cidrs(c: &ClusterConfig, cx: &Context<'_>) -> Option<Vec<Ipv4Net>> {
    let vpc = c.vpc.known()?;
    match vpc.get() {
        None => Some(vec![DEFAULT_VPC_CIDR.parse().expect("constant")]),
        Some(v) if !v.id.is_null() => cx.existing_vpc_cidrs.map(<[Ipv4Net]>::to_vec),
        Some(v) => v.cidr.value().and_then(|s| s.parse().ok()).map(|n| vec![n]),
    }
}

fn default_service_cidr(c: &ClusterConfig, cx: &Context<'_>) -> Unknown<Option<String>> {
    match vpc_cidrs(c, cx) {
        Some(cidrs) => Unknown::some(cidr::default_service_cidr(cidrs.iter()).to_string()),
        None => Unknown::Unknown,
    }
}

/// Whether the state is that of a create that failed part way.
pub fn is_unfinished(s: &ClusterState) -> bool {
    s.owned_objects
        .value()
        .is_some_and(|o| o.contains_key(&ObjectKey::UnfinishedCreate))
}

/// Every attribute AWS decides, unknown, as the server plans a create (and the optional ones
/// the configuration leaves to AWS).
fn unknown_computed(p: &mut ClusterState, config: &ClusterConfig) {
    (p.arn, p.endpoint, p.certificate_authority_data) =
        (Unknown::Unknown, Unknown::Unknown, Unknown::Unknown);
    (p.status, p.platform_version) = (Unknown::Unknown, Unknown::Unknown);
    p.created_at = Unknown::Unknown;
    (p.cluster_security_group_id, p.vpc_id) = (Unknown::Unknown, Unknown::Unknown);
    p.control_plane_security_group_id = Unknown::Unknown;
    (p.public_subnet_ids, p.private_subnet_ids) = (Unknown::Unknown, Unknown::Unknown);
    p.route_table_ids = Unknown::Unknown;
    (p.remote_nodes_role_arn, p.access_entry_arn) = (Unknown::Unknown, Unknown::Unknown);
    p.vpc_gateway_attachment_id = Unknown::Unknown;
    p.remote_nodes_trust_anchor_arn = Unknown::Unknown;
    p.remote_nodes_anywhere_profile_arn = Unknown::Unknown;
    (p.node_config, p.owned_objects) = (Unknown::Unknown, Unknown::Unknown);
    if config.kubernetes_version.is_null() {
        p.config.kubernetes_version = Unknown::Unknown;
    }
    if config.cluster_role_arn.is_null() {
        p.config.cluster_role_arn = Unknown::Unknown;
    }
}

/// For a new cluster, what plan already knows of the attributes the server left unknown.
fn known_at_create(p: &mut ClusterState) {
    if let Some(vpc) = p.config.vpc.known().and_then(One::get) {
        if vpc.id.known().is_some_and(Option::is_some) {
            existing_vpc_outputs(p, &vpc.clone());
        }
    }
    let Some(rnc) = p.config.remote_network_config.known().and_then(One::get) else {
        return;
    };
    let iam = rnc.iam.as_ref().map(|i| i.get().cloned());
    let role_arn = match &iam {
        Unknown::Known(Some(i)) => i.role_arn.clone(),
        Unknown::Known(None) => Unknown::null(),
        Unknown::Unknown => Unknown::Unknown,
    };
    let created_role = role_arn.is_null();
    let maybe_created_role = created_role || role_arn.is_unknown();
    p.remote_nodes_role_arn = if created_role {
        Unknown::Unknown
    } else {
        role_arn
    };
    let provider = match &iam {
        Unknown::Known(Some(i)) => i.provider.clone(),
        Unknown::Known(None) => Unknown::some("SSM".into()),
        Unknown::Unknown => Unknown::Unknown,
    };
    let maybe_ira = match provider {
        Unknown::Unknown => true,
        Unknown::Known(p) => {
            p.as_deref().and_then(parse_provider) == Some(CredentialsProvider::Ira)
        }
    };
    // A role ARN not known yet may turn out null: then the role, trust anchor and profile
    // are created.
    let roles_anywhere = if maybe_ira && maybe_created_role {
        Unknown::Unknown
    } else {
        Unknown::null()
    };
    p.remote_nodes_trust_anchor_arn = roles_anywhere.clone();
    p.remote_nodes_anywhere_profile_arn = roles_anywhere;
    p.vpc_gateway_attachment_id = if rnc.vpc_gateway_id.is_null() {
        Unknown::null()
    } else {
        Unknown::Unknown
    };
}

fn existing_vpc_outputs(p: &mut ClusterState, vpc: &Vpc) {
    p.vpc_id = vpc.id.clone();
    p.private_subnet_ids = match &vpc.subnet_ids {
        Unknown::Known(Some(ids)) => ids
            .iter()
            .map(|s| s.known().cloned())
            .collect::<Option<Vec<_>>>()
            .map_or(Unknown::Unknown, Unknown::some),
        Unknown::Known(None) => Unknown::null(),
        Unknown::Unknown => Unknown::Unknown,
    };
    p.public_subnet_ids = Unknown::some(Vec::new());
}

/// Whether repairing an object in this state replaces it with a new one (new ID, new key in
/// `owned_objects`), and the attribute that holds its ID or ARN.
enum Repair {
    InPlace,
    NewObject,
    /// A new object whose ID or ARN an attribute shows.
    NewObjectShownIn(fn(&mut ClusterState) -> &mut Unknown<Option<String>>),
}

fn repair_of(key: &ObjectKey, status: &ObjectStatus) -> Repair {
    use ObjectStatus as S;
    match key {
        ObjectKey::TransitGatewayAttachment(_) => match status {
            S::Ok | S::PendingAcceptance => Repair::InPlace,
            S::Other(s) if s == "pending" => Repair::InPlace,
            _ => Repair::NewObjectShownIn(|p| &mut p.vpc_gateway_attachment_id),
        },
        ObjectKey::Profile(_) if *status == S::Missing => {
            Repair::NewObjectShownIn(|p| &mut p.remote_nodes_anywhere_profile_arn)
        }
        ObjectKey::TrustAnchor(_) if *status == S::Missing => {
            Repair::NewObjectShownIn(|p| &mut p.remote_nodes_trust_anchor_arn)
        }
        ObjectKey::NatGateway(_) if *status != S::Ok => Repair::NewObject,
        // A role made anew brings its policies', trust policy's and boundary's entries back.
        ObjectKey::IamRole(_) if *status == S::Missing => Repair::NewObject,
        // Detaching what should not be attached removes its key.
        _ if *status == S::Attached => Repair::NewObject,
        _ => Repair::InPlace,
    }
}

/// An activation that expired by itself stays as it is: nodes it registered keep working, and
/// a fresh one (new code, new ID) comes only when the configuration asks for it (a new
/// `expiration` or limit), not on every plan after the date. Everything else is repaired.
fn planned_status(key: &ObjectKey, observed: &ObjectStatus) -> ObjectStatus {
    match (key, observed) {
        (ObjectKey::SsmActivation(_), ObjectStatus::Expired) => ObjectStatus::Expired,
        _ => ObjectStatus::Ok,
    }
}

/// Everything recorded is expected to exist and be healthy after apply; the map is shown
/// key by key, so the plan names exactly what drifted.
fn plan_owned_objects(p: &mut ClusterState) {
    let Some(owned) = p.owned_objects.value().cloned() else {
        return;
    };
    let drifted =
        |f: fn(&ObjectKey) -> bool| owned.iter().any(|(k, s)| f(k) && *s != ObjectStatus::Ok);
    p.owned_objects = Unknown::some(
        owned
            .iter()
            .map(|(k, s)| (k.clone(), planned_status(k, s)))
            .collect(),
    );
    if drifted(|k| matches!(k, ObjectKey::Cluster(_))) {
        p.arn = Unknown::Unknown;
        p.endpoint = Unknown::Unknown;
        p.certificate_authority_data = Unknown::Unknown;
        p.status = Unknown::Unknown;
        p.platform_version = Unknown::Unknown;
        p.created_at = Unknown::Unknown;
        p.cluster_security_group_id = Unknown::Unknown;
    }
    if drifted(|k| matches!(k, ObjectKey::AccessEntry(_))) {
        p.access_entry_arn = Unknown::Unknown;
    }
    let cluster = owned
        .iter()
        .find(|(k, _)| matches!(k, ObjectKey::Cluster(_)))
        .map(|(_, s)| s);
    for (key, status) in &owned {
        let repair = match key {
            _ if !made_anew_with_the_cluster(key, Some(status), cluster) => repair_of(key, status),
            ObjectKey::SecurityGroup(_) => {
                Repair::NewObjectShownIn(|p| &mut p.control_plane_security_group_id)
            }
            _ => Repair::NewObject,
        };
        match repair {
            Repair::InPlace => {}
            Repair::NewObject => p.owned_objects = Unknown::Unknown,
            Repair::NewObjectShownIn(attribute) => {
                p.owned_objects = Unknown::Unknown;
                *attribute(p) = Unknown::Unknown;
                p.node_config = Unknown::Unknown;
            }
        }
    }
}

/// An activation cannot be changed, only replaced: a new one (new ID and code) when the block
/// changes, appears or drifted; none when the block goes.
fn plan_activation(prior: &ClusterState, p: &mut ClusterState) {
    // A `dynamic` block unknown until apply: an activation may come, go or change.
    if p.config.ssm_activation.is_unknown() {
        p.owned_objects = Unknown::Unknown;
        return;
    }
    let settings = |s: &ClusterState| {
        s.config
            .ssm_activation
            .known()
            .and_then(One::get)
            .map(|a| (a.registration_limit.clone(), a.expiration.clone()))
    };
    let old = prior
        .config
        .ssm_activation
        .known()
        .and_then(One::get)
        .cloned();
    let had = old.is_some();
    let wanted = settings(p).is_some();
    let drifted = prior.owned_objects.value().is_some_and(|m| {
        m.iter().any(|(k, s)| {
            matches!(k, ObjectKey::SsmActivation(_))
                && planned_status(k, s) == ObjectStatus::Ok
                && *s != ObjectStatus::Ok
        })
    });
    let new = wanted && (!had || drifted || settings(prior) != settings(p));
    if let Some(a) = p.config.ssm_activation.known_mut().and_then(One::get_mut) {
        if new {
            a.activation_id = Unknown::Unknown;
            a.activation_code = Unknown::Unknown;
        } else if let Some(old) = &old {
            a.activation_id = old.activation_id.clone();
            a.activation_code = old.activation_code.clone();
        }
    }
    if new {
        p.owned_objects = Unknown::Unknown;
    } else if had && !wanted {
        if let Some(m) = p.owned_objects.value_mut() {
            m.retain(|k, _| !matches!(k, ObjectKey::SsmActivation(_)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::hybrid_cluster::model::schema;
    use tfplugin6::model::{read, ToValue};
    use tfplugin6::Value;

    fn config() -> Value {
        let block = schema().block;
        let mut v = block.null_object();
        v.set("name", Value::string("demo"));
        let mut rnc = block
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

    /// What the configuration holds of a value: computed-only attributes are null there.
    fn config_of(block: &tfplugin6::Block, v: &Value) -> Value {
        let mut out = v.clone();
        for a in block
            .attributes
            .iter()
            .filter(|a| a.computed && !a.optional)
        {
            out.set(&a.name, Value::Null);
        }
        for b in &block.blocks {
            let items = v
                .get(&b.name)
                .as_list()
                .iter()
                .map(|i| config_of(&b.block, i))
                .collect();
            out.set(&b.name, Value::List(items));
        }
        out
    }

    /// The server's proposal and then this plan, as PlanResourceChange runs them.
    fn run(prior: &Value, proposed: &Value, cx: &Context<'_>) -> (ClusterState, Vec<String>) {
        let config = config_of(&schema().block, proposed);
        let p = tfplugin6::planning::propose(&schema().block, prior, proposed, &config);
        let makes_new = prior.is_null() || !p.requires_replace.is_empty();
        let prior_state: Option<ClusterState> = (!prior.is_null()).then(|| read(prior).unwrap());
        let config: ClusterConfig = read(&config).unwrap();
        let planned = plan(
            prior_state.as_ref(),
            read(&p.planned).unwrap(),
            &config,
            makes_new,
            cx,
        );
        (
            planned,
            p.requires_replace.iter().map(ToString::to_string).collect(),
        )
    }

    #[test]
    fn create_fills_defaults_and_marks_computed_unknown() {
        let cx = Context {
            default_tags: Some(BTreeMap::from([("env".to_string(), "test".to_string())])),
            ..Context::default()
        };
        let (p, replace) = run(&Value::Null, &config(), &cx);
        let v = p.to_value();
        assert!(replace.is_empty());
        assert_eq!(v.get("endpoint_public_access"), &Value::Bool(true));
        assert_eq!(
            v.get("authentication_mode"),
            &Value::string("API_AND_CONFIG_MAP")
        );
        assert_eq!(v.get("service_ipv4_cidr"), &Value::string("10.100.0.0/16"));
        assert_eq!(v.get("tags_all").get("env"), &Value::string("test"));
        assert!(v.get("arn").is_unknown());
        assert!(v.get("vpc_gateway_attachment_id").is_unknown());
        assert!(v.get("remote_nodes_trust_anchor_arn").is_null());
        assert!(
            v.get("id").is_unknown(),
            "the name is the ID once the cluster exists"
        );
    }

    #[test]
    fn changed_remote_network_config_requires_replacement() {
        let (prior, _) = run(&Value::Null, &config(), &Context::default());
        let mut prior = prior.to_value();
        prior.set("arn", Value::string("arn:1"));
        let mut proposed = prior.clone();
        let mut rnc = proposed.get("remote_network_config").first().clone();
        rnc.set("vpc_gateway_id", Value::string("vgw-0123456789abcdef0"));
        proposed.set("remote_network_config", Value::List(vec![rnc]));
        let (planned, replace) = run(&prior, &proposed, &Context::default());
        assert_eq!(replace, ["remote_network_config"]);
        assert!(planned.arn.is_unknown(), "a replacement is a new cluster");
    }

    fn known_state() -> Value {
        let (p, _) = run(&Value::Null, &config(), &Context::default());
        let mut v = p.to_value();
        for a in [
            "arn",
            "endpoint",
            "certificate_authority_data",
            "status",
            "platform_version",
            "cluster_security_group_id",
            "access_entry_arn",
            "node_config",
            "kubernetes_version",
            "cluster_role_arn",
            "vpc_id",
            "control_plane_security_group_id",
            "remote_nodes_role_arn",
            "vpc_gateway_attachment_id",
        ] {
            v.set(a, Value::string("x"));
        }
        v.set("public_subnet_ids", Value::string_list(["subnet-1"]));
        v.set("private_subnet_ids", Value::string_list(["subnet-2"]));
        v.set("owned_objects", Value::string_map([("vpc/vpc-1", "ok")]));
        v
    }

    #[test]
    fn drift_plans_every_owned_object_back_to_ok() {
        let mut prior = known_state();
        prior.set(
            "owned_objects",
            Value::string_map([("access_entry/demo", "missing"), ("vpc/vpc-1", "ok")]),
        );
        prior.set("access_entry_arn", Value::string("arn:old"));
        let (planned, replace) = run(&prior, &prior.clone(), &Context::default());
        assert!(replace.is_empty());
        let v = planned.to_value();
        assert_eq!(
            v.get("owned_objects").get("access_entry/demo"),
            &Value::string("ok")
        );
        assert!(v.get("access_entry_arn").is_unknown());
        assert_eq!(v.get("arn"), &Value::string("x"));
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
            Value::Number(tfplugin6::value::Number::Int(limit)),
        );
        v.set("ssm_activation", Value::List(vec![a]));
        v
    }

    #[test]
    fn an_activation_is_kept_when_unchanged_and_replaced_in_place_when_changed() {
        let mut prior = with_activation(&known_state(), 5);
        if let Some(Value::List(blocks)) = prior.get_mut("ssm_activation") {
            blocks[0].set("activation_id", Value::string("act-1"));
            blocks[0].set("activation_code", Value::string("secret"));
        }
        prior.set(
            "owned_objects",
            Value::string_map([("ssm_activation/act-1", "ok")]),
        );
        let (same, _) = run(&prior, &prior.clone(), &Context::default());
        let same = same.to_value();
        let kept = same.get("ssm_activation").first().clone();
        assert_eq!(kept.get("activation_code"), &Value::string("secret"));
        assert_eq!(same.get("owned_objects"), prior.get("owned_objects"));

        let (changed, replace) = run(&prior, &with_activation(&prior, 10), &Context::default());
        assert!(replace.is_empty(), "the cluster stays");
        let block = changed.to_value().get("ssm_activation").first().clone();
        assert!(
            block.get("activation_id").is_unknown() && block.get("activation_code").is_unknown()
        );

        let mut removed = prior.clone();
        removed.set("ssm_activation", Value::List(Vec::new()));
        let (gone, _) = run(&prior, &removed, &Context::default());
        assert!(gone.owned_objects.value().unwrap().is_empty());
    }

    #[test]
    fn a_pre_existing_vpc_is_known_at_plan_and_has_no_created_vpc_settings() {
        let mut v = config();
        let mut vpc = schema()
            .block
            .find_block("vpc")
            .unwrap()
            .block
            .null_object();
        vpc.set("id", Value::string("vpc-0123456789abcdef0"));
        vpc.set("subnet_ids", Value::string_list(["subnet-1", "subnet-2"]));
        v.set("vpc", Value::List(vec![vpc]));
        let cidrs = ["10.1.0.0/16".parse().unwrap()];
        let cx = Context {
            existing_vpc_cidrs: Some(&cidrs),
            ..Context::default()
        };
        let (p, _) = run(&Value::Null, &v, &cx);
        let v = p.to_value();
        assert_eq!(v.get("vpc_id"), &Value::string("vpc-0123456789abcdef0"));
        assert_eq!(
            v.get("private_subnet_ids"),
            &Value::string_list(["subnet-1", "subnet-2"])
        );
        assert!(v.get("vpc").first().get("cidr").is_null());
        assert!(v.get("vpc").first().get("nat_gateway").is_null());
        assert_eq!(v.get("service_ipv4_cidr"), &Value::string("172.20.0.0/16"));
    }
}
