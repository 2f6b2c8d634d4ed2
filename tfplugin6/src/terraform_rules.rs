//! Terraform's rules for a provider's answers, written down as ours. Terraform (and OpenTofu,
//! which keeps the same code) applies each to what a provider returns and stops the run with
//! "Provider produced invalid plan", "inconsistent final plan", "inconsistent result after
//! apply" or "different identity" when one is broken. Read from hashicorp/terraform:
//! - `internal/plans/objchange/plan_valid.go` (`AssertPlanValid`): [`plan_valid`];
//! - `internal/plans/objchange/compatible.go` (`AssertObjectCompatible`): [`object_compatible`],
//!   used for apply against plan and for the final plan against the first;
//! - `internal/terraform/node_resource_abstract_instance.go`: the planned action may not change
//!   at apply, `requires_replace` paths must exist, results must be wholly known and of the
//!   schema's type, and an identity may not change or hold unknowns.
//!
//! `cli.rs` walks a provider through plan, final plan, apply and refresh as Terraform does and
//! checks every answer against these.

use std::fmt;

use crate::diag::AttrPath;
use crate::identity::IdentitySchema;
use crate::schema::{Attribute, Block, Type};
use crate::value::Value;

/// A broken rule: which, where, and the values involved.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// Terraform's error summary for it ("Provider produced invalid plan", …).
    pub rule: &'static str,
    pub path: AttrPath,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.path.to_string();
        let at = if at.is_empty() { "(root)".into() } else { at };
        write!(f, "{}: {at}: {}", self.rule, self.message)
    }
}

pub const INVALID_PLAN: &str = "Provider produced invalid plan";
pub const INCONSISTENT_FINAL_PLAN: &str = "Provider produced inconsistent final plan";
pub const INCONSISTENT_RESULT: &str = "Provider produced inconsistent result after apply";
pub const INVALID_OBJECT: &str = "Provider produced invalid object";
pub const INVALID_IDENTITY: &str = "Provider produced invalid identity";
pub const DIFFERENT_IDENTITY: &str = "Provider produced different identity";

struct Out<'a> {
    rule: &'static str,
    found: &'a mut Vec<Violation>,
}

impl Out<'_> {
    fn push(&mut self, path: &AttrPath, message: String) {
        self.found.push(Violation {
            rule: self.rule,
            path: path.clone(),
            message,
        });
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Unknown => "(unknown)".into(),
        Value::String(s) => format!("{s:?}"),
        other => format!("{other:?}"),
    }
}

/// The value is of the schema's type: an object with exactly the block's attributes and
/// blocks, each of its type. Terraform decodes every answer against the schema first.
pub fn conforms(block: &Block, value: &Value, rule: &'static str) -> Vec<Violation> {
    let mut found = Vec::new();
    let mut out = Out {
        rule,
        found: &mut found,
    };
    conforms_block(block, value, &AttrPath::default(), &mut out);
    found
}

fn conforms_block(block: &Block, value: &Value, path: &AttrPath, out: &mut Out<'_>) {
    let Value::Map(entries) = value else {
        if !value.is_null() {
            out.push(path, format!("{} is not an object", show(value)));
        }
        return;
    };
    for k in entries.keys() {
        if block.find_attribute(k).is_none() && block.find_block(k).is_none() {
            out.push(&path.attr(k), "not in the schema".into());
        }
    }
    for a in &block.attributes {
        match entries.get(&a.name) {
            None => out.push(&path.attr(&a.name), "missing".into()),
            Some(v) => conforms_type(&a.ty, v, &path.attr(&a.name), out),
        }
    }
    for b in &block.blocks {
        let at = path.attr(&b.name);
        match entries.get(&b.name) {
            None => out.push(&at, "missing".into()),
            Some(Value::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    conforms_block(&b.block, item, &at.index(i), out);
                }
            }
            Some(Value::Unknown | Value::Null) => {}
            Some(v) => out.push(&at, format!("{} is not a list of blocks", show(v))),
        }
    }
}

fn conforms_type(ty: &Type, v: &Value, path: &AttrPath, out: &mut Out<'_>) {
    let ok = match (ty, v) {
        (_, Value::Null | Value::Unknown) => true,
        (Type::String, Value::String(_))
        | (Type::Number, Value::Number(_))
        | (Type::Bool, Value::Bool(_)) => true,
        (Type::List(t) | Type::Set(t), Value::List(items)) => {
            for (i, item) in items.iter().enumerate() {
                conforms_type(t, item, &path.index(i), out);
            }
            true
        }
        (Type::Map(t), Value::Map(entries)) => {
            for (k, item) in entries {
                conforms_type(t, item, &path.key(k), out);
            }
            true
        }
        _ => false,
    };
    if !ok {
        out.push(path, format!("{} is not a {}", show(v), ty.describe()));
    }
}

/// `AssertPlanValid`: a provider may change only what the configuration leaves null and the
/// schema marks computed; anything else must be the configuration's value, or the prior
/// state's unchanged (the provider saying the two are equivalent).
pub fn plan_valid(block: &Block, prior: &Value, config: &Value, planned: &Value) -> Vec<Violation> {
    let mut found = Vec::new();
    let mut out = Out {
        rule: INVALID_PLAN,
        found: &mut found,
    };
    plan_valid_block(
        block,
        prior,
        config,
        planned,
        &AttrPath::default(),
        &mut out,
    );
    found
}

fn plan_valid_block(
    block: &Block,
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &AttrPath,
    out: &mut Out<'_>,
) {
    if planned.is_null() && !config.is_null() {
        return out.push(
            path,
            "planned for absence but config wants existence".into(),
        );
    }
    if config.is_null() && !planned.is_null() {
        return out.push(
            path,
            "planned for existence but config wants absence".into(),
        );
    }
    if planned.is_null() {
        return;
    }
    for a in &block.attributes {
        planned_value_valid(
            a,
            prior.get(&a.name),
            config.get(&a.name),
            planned.get(&a.name),
            &path.attr(&a.name),
            out,
        );
    }
    for b in &block.blocks {
        let at = path.attr(&b.name);
        let (planned_v, config_v) = (planned.get(&b.name), config.get(&b.name));
        if planned_v.is_null() {
            out.push(
                &at,
                "attribute representing a list of nested blocks must be empty to indicate no blocks, not null".into(),
            );
            continue;
        }
        if planned_v == config_v {
            continue;
        }
        if config_v.is_unknown() {
            out.push(
                &at,
                format!(
                    "planned value {} for unknown dynamic block",
                    show(planned_v)
                ),
            );
            continue;
        }
        if planned_v.is_unknown() {
            out.push(&at, "planned unknown value for non-computed block".into());
            continue;
        }
        let (planned_items, config_items) = (planned_v.as_list(), config_v.as_list());
        if planned_items.len() != config_items.len() {
            out.push(
                &at,
                format!(
                    "block count in plan ({}) disagrees with count in config ({})",
                    planned_items.len(),
                    config_items.len()
                ),
            );
            continue;
        }
        for (i, (p, c)) in planned_items.iter().zip(config_items).enumerate() {
            let at = at.index(i);
            if p.is_unknown() {
                out.push(&at, "element representing nested block must not be unknown itself; set nested attribute values to unknown instead".into());
                continue;
            }
            let prior_item = prior.get(&b.name).as_list().get(i).unwrap_or(&Value::Null);
            plan_valid_block(&b.block, prior_item, c, p, &at, out);
        }
    }
}

fn planned_value_valid(
    a: &Attribute,
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &AttrPath,
    out: &mut Out<'_>,
) {
    if planned == config {
        return;
    }
    if planned == prior && !prior.is_null() && !config.is_null() {
        return;
    }
    if a.computed && !a.optional {
        return;
    }
    if config.is_null() && a.computed {
        return;
    }
    let shown = |v: &Value| {
        if a.sensitive {
            "(sensitive)".to_string()
        } else {
            show(v)
        }
    };
    if config.is_null() {
        return out.push(
            path,
            format!(
                "planned value {} for a non-computed attribute",
                shown(planned)
            ),
        );
    }
    if prior.is_null() {
        out.push(
            path,
            format!(
                "planned value {} does not match config value {}",
                shown(planned),
                shown(config)
            ),
        );
    } else {
        out.push(
            path,
            format!(
                "planned value {} does not match config value {} nor prior value {}",
                shown(planned),
                shown(config),
                shown(prior)
            ),
        );
    }
}

/// `AssertObjectCompatible`: every known value in `planned` is the same in `actual`; an
/// unknown one may become anything of its type. Used for an apply's result against its plan
/// (`rule` = [`INCONSISTENT_RESULT`]) and for the final plan at apply against the first
/// ([`INCONSISTENT_FINAL_PLAN`]).
pub fn object_compatible(
    block: &Block,
    planned: &Value,
    actual: &Value,
    rule: &'static str,
) -> Vec<Violation> {
    let mut found = Vec::new();
    let mut out = Out {
        rule,
        found: &mut found,
    };
    object_compatible_block(block, planned, actual, &AttrPath::default(), &mut out);
    found
}

fn object_compatible_block(
    block: &Block,
    planned: &Value,
    actual: &Value,
    path: &AttrPath,
    out: &mut Out<'_>,
) {
    let root = if path.0.is_empty() {
        "Root object "
    } else {
        ""
    };
    if planned.is_null() && !actual.is_null() {
        return out.push(path, format!("{root}was absent, but now present"));
    }
    if actual.is_null() && !planned.is_null() {
        return out.push(path, format!("{root}was present, but now absent"));
    }
    if planned.is_null() {
        return;
    }
    for a in &block.attributes {
        let before = out.found.len();
        value_compatible(
            planned.get(&a.name),
            actual.get(&a.name),
            &path.attr(&a.name),
            out,
        );
        if a.sensitive && out.found.len() > before {
            out.found.truncate(before);
            out.push(
                &path.attr(&a.name),
                "inconsistent values for sensitive attribute".into(),
            );
        }
    }
    for b in &block.blocks {
        let at = path.attr(&b.name);
        let (p, x) = (planned.get(&b.name), actual.get(&b.name));
        if p.is_unknown() || x.is_unknown() || p.is_null() || x.is_null() {
            continue;
        }
        let (p, x) = (p.as_list(), x.as_list());
        if p.len() != x.len() {
            out.push(
                &at,
                format!("block count changed from {} to {}", p.len(), x.len()),
            );
            continue;
        }
        for (i, (pe, xe)) in p.iter().zip(x).enumerate() {
            object_compatible_block(&b.block, pe, xe, &at.index(i), out);
        }
    }
}

fn value_compatible(planned: &Value, actual: &Value, path: &AttrPath, out: &mut Out<'_>) {
    if planned.is_unknown() {
        return;
    }
    match (planned, actual) {
        (Value::Null, Value::Null) => {}
        (_, Value::Null) => out.push(path, format!("was {}, but now null", show(planned))),
        (Value::Null, _) => out.push(path, format!("was null, but now {}", show(actual))),
        (_, Value::Unknown) => out.push(path, "was known, but now unknown".into()),
        (Value::List(p), Value::List(x)) => {
            for (i, pe) in p.iter().enumerate() {
                match x.get(i) {
                    Some(xe) => value_compatible(pe, xe, &path.index(i), out),
                    None => out.push(path, format!("element {i} has vanished")),
                }
            }
            for i in p.len()..x.len() {
                out.push(path, format!("new element {i} has appeared"));
            }
        }
        (Value::Map(p), Value::Map(x)) => {
            for (k, pe) in p {
                match x.get(k) {
                    Some(xe) => value_compatible(pe, xe, &path.key(k), out),
                    None => out.push(path, format!("element {k:?} has vanished")),
                }
            }
            for k in x.keys().filter(|k| !p.contains_key(*k)) {
                out.push(path, format!("new element {k:?} has appeared"));
            }
        }
        (p, x) if p == x => {}
        (p, x) => out.push(path, format!("was {}, but now {}", show(p), show(x))),
    }
}

/// An object after apply or refresh holds no unknown value.
pub fn wholly_known(value: &Value, rule: &'static str) -> Vec<Violation> {
    let mut found = Vec::new();
    let mut out = Out {
        rule,
        found: &mut found,
    };
    unknowns(value, &AttrPath::default(), &mut out);
    found
}

fn unknowns(v: &Value, path: &AttrPath, out: &mut Out<'_>) {
    match v {
        Value::Unknown => out.push(path, "unknown value in a final object".into()),
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                unknowns(item, &path.index(i), out);
            }
        }
        Value::Map(entries) => {
            for (k, item) in entries {
                unknowns(item, &path.attr(k), out);
            }
        }
        _ => {}
    }
}

/// Each `requires_replace` path names an attribute of the prior or the planned value
/// ("indicated requires replacement … for a non-existent attribute path").
pub fn replace_paths_exist(
    block: &Block,
    prior: &Value,
    planned: &Value,
    paths: &[AttrPath],
) -> Vec<Violation> {
    paths
        .iter()
        .filter(|p| !path_exists(block, prior, p) && !path_exists(block, planned, p))
        .map(|p| Violation {
            rule: INVALID_PLAN,
            path: p.clone(),
            message: "requires replacement on a non-existent attribute path".into(),
        })
        .collect()
}

fn path_exists(block: &Block, value: &Value, path: &AttrPath) -> bool {
    use crate::diag::Step;
    let mut v = value;
    let mut b = Some(block);
    for step in &path.0 {
        // cty refuses to step into a null or unknown value.
        if v.is_null() || v.is_unknown() {
            return false;
        }
        match step {
            Step::Attr(name) => {
                let Some(block) = b else { return false };
                if block.find_attribute(name).is_none() && block.find_block(name).is_none() {
                    return false;
                }
                b = block.find_block(name).map(|nb| &nb.block);
                v = v.get(name);
            }
            Step::Index(i) => match v.as_list().get(*i as usize) {
                Some(item) => v = item,
                None => return false,
            },
            Step::Key(k) => match v.as_map().and_then(|m| m.get(k)) {
                Some(item) => v = item,
                None => return false,
            },
        }
    }
    true
}

/// An identity is an object of its schema's attributes, wholly known.
pub fn identity_valid(schema: &IdentitySchema, identity: &Value) -> Vec<Violation> {
    let mut found = wholly_known(identity, INVALID_IDENTITY);
    let fits = matches!(identity, Value::Map(m)
        if m.len() == schema.attributes.len()
            && schema.attributes.iter().all(|a| m.contains_key(&a.name)));
    if !fits {
        found.push(Violation {
            rule: INVALID_IDENTITY,
            path: AttrPath::default(),
            message: format!("{} does not match the identity schema", show(identity)),
        });
    }
    found
}

/// A stored identity may not change under the object: at refresh, at an update's plan and
/// apply.
pub fn same_identity(stored: &Value, returned: &Value, when: &str) -> Vec<Violation> {
    if stored.is_null() || returned.is_null() || stored == returned {
        return Vec::new();
    }
    vec![Violation {
        rule: DIFFERENT_IDENTITY,
        path: AttrPath::default(),
        message: format!("{when}: was {}, now {}", show(stored), show(returned)),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock};

    fn block() -> Block {
        Block::new("r")
            .attribute(Attribute::string("n").named("name").required())
            .attribute(Attribute::string("o").named("opt").optional())
            .attribute(Attribute::string("oc").named("oc").optional().computed())
            .attribute(Attribute::string("c").named("arn").computed())
            .attribute(
                Attribute::of(Type::map_of_strings(), "t")
                    .named("tags")
                    .computed(),
            )
            .block(
                NestedBlock::list()
                    .named("net")
                    .of(Block::new("n").attribute(Attribute::string("c").named("cidr").required())),
            )
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        let mut v = block().null_object();
        for (k, x) in pairs {
            v.set(k, x.clone());
        }
        v
    }

    #[test]
    fn a_plan_may_fill_computed_nulls_but_not_change_configured_values() {
        let config = obj(&[("name", Value::string("a"))]);
        let ok = obj(&[
            ("name", Value::string("a")),
            ("oc", Value::string("filled")),
            ("arn", Value::Unknown),
        ]);
        assert!(plan_valid(&block(), &Value::Null, &config, &ok).is_empty());

        let bad = obj(&[("name", Value::string("b")), ("opt", Value::string("x"))]);
        let v = plan_valid(&block(), &Value::Null, &config, &bad);
        let msgs: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(v.len(), 2, "{msgs:?}");
        assert!(msgs[0].contains("name: planned value \"b\" does not match config value \"a\""));
        assert!(msgs[1].contains("opt: planned value \"x\" for a non-computed attribute"));
    }

    #[test]
    fn an_unknown_in_config_must_stay_unknown_and_the_prior_value_may_be_kept() {
        let config = obj(&[("name", Value::string("a")), ("oc", Value::Unknown)]);
        let known = obj(&[("name", Value::string("a")), ("oc", Value::string("x"))]);
        assert_eq!(plan_valid(&block(), &Value::Null, &config, &known).len(), 1);
        let config = obj(&[("name", Value::string("a")), ("oc", Value::string("X"))]);
        let prior = obj(&[("name", Value::string("a")), ("oc", Value::string("x"))]);
        assert!(plan_valid(&block(), &prior, &config, &prior).is_empty());
    }

    #[test]
    fn block_counts_and_unknown_dynamic_blocks() {
        let net = |c: &str| {
            let mut n = Value::Map(Default::default());
            n.set("cidr", Value::string(c));
            n
        };
        let config = obj(&[("name", Value::string("a")), ("net", Value::Unknown)]);
        let planned = obj(&[
            ("name", Value::string("a")),
            ("net", Value::List(vec![net("x")])),
        ]);
        assert!(plan_valid(&block(), &Value::Null, &config, &planned)[0]
            .message
            .contains("unknown dynamic block"));
        let mut null_blocks = planned.clone();
        null_blocks.set("net", Value::Null);
        let config = obj(&[("name", Value::string("a"))]);
        assert!(plan_valid(&block(), &Value::Null, &config, &null_blocks)[0]
            .message
            .contains("not null"));
    }

    #[test]
    fn apply_may_fill_unknowns_only() {
        let planned = obj(&[
            ("name", Value::string("a")),
            ("arn", Value::Unknown),
            ("tags", Value::string_map([("a", "1")])),
        ]);
        let actual = obj(&[
            ("name", Value::string("a")),
            ("arn", Value::string("arn:x")),
            ("tags", Value::string_map([("a", "1")])),
        ]);
        assert!(object_compatible(&block(), &planned, &actual, INCONSISTENT_RESULT).is_empty());
        let grown = obj(&[
            ("name", Value::string("a")),
            ("arn", Value::string("arn:x")),
            ("tags", Value::string_map([("a", "1"), ("Owner", "x")])),
        ]);
        let v = object_compatible(&block(), &planned, &grown, INCONSISTENT_FINAL_PLAN);
        assert_eq!(
            v[0].to_string(),
            "Provider produced inconsistent final plan: tags: new element \"Owner\" has appeared"
        );
    }

    #[test]
    fn results_are_known_typed_and_identities_stay() {
        let v = obj(&[("name", Value::Unknown)]);
        assert_eq!(wholly_known(&v, INVALID_OBJECT).len(), 1);
        let mut wrong = obj(&[("name", Value::Bool(true))]);
        wrong.set("extra", Value::Null);
        assert_eq!(conforms(&block(), &wrong, INVALID_OBJECT).len(), 2);
        let schema = IdentitySchema::new().required("name", "n");
        let id = Value::string_map([("name", "a")]);
        assert!(identity_valid(&schema, &id).is_empty());
        assert_eq!(
            identity_valid(&schema, &Value::string_map([("x", "a")])).len(),
            1
        );
        assert_eq!(
            same_identity(&id, &Value::string_map([("name", "b")]), "refresh").len(),
            1
        );
        let replace = [AttrPath::root("nope"), AttrPath::root("name")];
        let obj_a = obj(&[("name", Value::string("a"))]);
        assert_eq!(
            replace_paths_exist(&block(), &obj_a, &obj_a, &replace).len(),
            1
        );
    }
}
