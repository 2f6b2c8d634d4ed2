//! The plan steps the schema decides, before the resource refines the plan: defaults for
//! attributes the configuration leaves null, the paths whose change requires a replacement,
//! and, for an object about to be made anew, unknown for every computed attribute the
//! configuration does not set.

use crate::diag::AttrPath;
use crate::schema::{Attribute, Block, Nesting};
use crate::value::Value;

/// The server's proposal for a create or update (not a destroy).
pub struct Proposal {
    pub planned: Value,
    pub requires_replace: Vec<AttrPath>,
}

pub fn propose(block: &Block, prior: &Value, proposed: &Value, config: &Value) -> Proposal {
    let mut planned = proposed.clone();
    apply_defaults(block, &mut planned, config);
    let mut requires_replace = Vec::new();
    if !prior.is_null() {
        replaced_paths(
            block,
            prior,
            &planned,
            &AttrPath::default(),
            &mut requires_replace,
        );
    }
    if prior.is_null() || !requires_replace.is_empty() {
        mark_computed_unknown(block, &mut planned, config);
    }
    Proposal {
        planned,
        requires_replace,
    }
}

/// A default is planned whenever the configuration leaves the attribute null, also over a
/// prior value: removing `x = false` from the configuration plans the default again.
fn apply_defaults(block: &Block, planned: &mut Value, config: &Value) {
    for a in &block.attributes {
        if let Some(default) = &a.default {
            if config.get(&a.name).is_null() {
                planned.set(&a.name, default.clone());
            }
        }
    }
    for_each_list_element(block, planned, config, apply_defaults);
}

fn mark_computed_unknown(block: &Block, planned: &mut Value, config: &Value) {
    for a in &block.attributes {
        if a.computed && a.default.is_none() && config.get(&a.name).is_null() {
            planned.set(&a.name, Value::Unknown);
        }
    }
    for_each_list_element(block, planned, config, mark_computed_unknown);
}

/// Runs `f` on each element of each list-nested block present in both `planned` and
/// `config`, paired by index. Set-nested blocks have no stable pairing and are left alone.
fn for_each_list_element(
    block: &Block,
    planned: &mut Value,
    config: &Value,
    f: fn(&Block, &mut Value, &Value),
) {
    for nb in block.blocks.iter().filter(|b| b.nesting == Nesting::List) {
        let configured = config.get(&nb.name).as_list();
        if let Some(Value::List(items)) = planned.get_mut(&nb.name) {
            for (item, item_config) in items.iter_mut().zip(configured) {
                f(&nb.block, item, item_config);
            }
        }
    }
}

fn replaced_paths(
    block: &Block,
    prior: &Value,
    planned: &Value,
    path: &AttrPath,
    out: &mut Vec<AttrPath>,
) {
    for a in block.attributes.iter().filter(|a| a.requires_replace) {
        if !same_attribute(a, prior.get(&a.name), planned.get(&a.name)) {
            out.push(path.attr(&a.name));
        }
    }
    for nb in &block.blocks {
        let (before, after) = (prior.get(&nb.name), planned.get(&nb.name));
        if same_blocks(&nb.block, before, after) {
            continue;
        }
        let at = path.attr(&nb.name);
        if nb.requires_replace {
            out.push(at);
            continue;
        }
        let (before, after) = (before.as_list(), after.as_list());
        if before.len() != after.len() || !matches!(planned.get(&nb.name), Value::List(_)) {
            if contains_replacing(&nb.block) {
                out.push(at);
            }
            continue;
        }
        for (i, (b, a)) in before.iter().zip(after).enumerate() {
            replaced_paths(&nb.block, b, a, &at.index(i), out);
        }
    }
}

fn same_attribute(a: &Attribute, before: &Value, after: &Value) -> bool {
    match (before.as_str(), after.as_str()) {
        (Some(b), Some(x)) if a.case_insensitive => b.eq_ignore_ascii_case(x),
        _ => before == after,
    }
}

/// Equal, but for the case of case-insensitive attributes: a list of a nested block's objects.
fn same_blocks(block: &Block, before: &Value, after: &Value) -> bool {
    if before == after {
        return true;
    }
    let (Value::List(b), Value::List(a)) = (before, after) else {
        return false;
    };
    b.len() == a.len()
        && b.iter().zip(a).all(|(b, a)| {
            block
                .attributes
                .iter()
                .all(|at| same_attribute(at, b.get(&at.name), a.get(&at.name)))
                && block
                    .blocks
                    .iter()
                    .all(|nb| same_blocks(&nb.block, b.get(&nb.name), a.get(&nb.name)))
        })
}

fn contains_replacing(block: &Block) -> bool {
    block.attributes.iter().any(|a| a.requires_replace)
        || block
            .blocks
            .iter()
            .any(|b| b.requires_replace || contains_replacing(&b.block))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock, Type};

    fn schema() -> Block {
        Block::new("r")
            .attribute(
                Attribute::string("n")
                    .named("name")
                    .required()
                    .requires_replace(),
            )
            .attribute(
                Attribute::of(Type::Bool, "p")
                    .named("public")
                    .default(Value::Bool(true)),
            )
            .attribute(Attribute::string("a").named("arn").computed())
            .attribute(
                Attribute::string("v")
                    .named("version")
                    .optional()
                    .computed(),
            )
            .block(
                NestedBlock::list().named("net").of(Block::new("n")
                    .attribute(
                        Attribute::string("c")
                            .named("cidr")
                            .required()
                            .requires_replace(),
                    )
                    .attribute(
                        Attribute::string("m")
                            .named("mode")
                            .default(Value::string("Single")),
                    )),
            )
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        let mut v = schema().null_object();
        for (k, x) in pairs {
            v.set(k, x.clone());
        }
        v
    }

    fn net(cidr: &str, mode: Value) -> Value {
        let mut n = Value::Map(Default::default());
        n.set("cidr", Value::string(cidr));
        n.set("mode", mode);
        Value::List(vec![n])
    }

    #[test]
    fn create_fills_defaults_everywhere_and_leaves_computed_unknown() {
        let config = obj(&[
            ("name", Value::string("a")),
            ("net", net("10.0.0.0/8", Value::Null)),
        ]);
        let p = propose(&schema(), &Value::Null, &config, &config);
        assert_eq!(p.planned.get("public"), &Value::Bool(true));
        assert_eq!(
            p.planned.get("net").first().get("mode"),
            &Value::string("Single")
        );
        assert!(p.planned.get("arn").is_unknown());
        assert!(p.planned.get("version").is_unknown());
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn an_update_keeps_computed_values_replans_defaults_and_names_replacements() {
        let prior = obj(&[
            ("name", Value::string("a")),
            ("public", Value::Bool(false)),
            ("arn", Value::string("arn:1")),
            ("version", Value::string("1.33")),
            ("net", net("10.0.0.0/8", Value::string("Single"))),
        ]);
        let config = obj(&[
            ("name", Value::string("a")),
            ("net", net("10.0.0.0/8", Value::Null)),
        ]);
        // Terraform's proposal keeps the prior value of an optional+computed attribute.
        let mut proposed = prior.clone();
        proposed.set("net", net("10.0.0.0/8", Value::string("Single")));
        let p = propose(&schema(), &prior, &proposed, &config);
        assert_eq!(
            p.planned.get("public"),
            &Value::Bool(true),
            "the default again"
        );
        assert_eq!(p.planned.get("arn"), &Value::string("arn:1"));
        assert!(p.requires_replace.is_empty());

        proposed.set("net", net("172.16.0.0/12", Value::string("Single")));
        let p = propose(&schema(), &prior, &proposed, &config);
        assert_eq!(
            p.requires_replace
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["net[0].cidr"]
        );
        assert!(
            p.planned.get("arn").is_unknown(),
            "a replacement is a new object"
        );
    }

    #[test]
    fn a_block_added_or_removed_replaces_when_it_holds_a_replacing_attribute() {
        let prior = obj(&[
            ("name", Value::string("a")),
            ("net", net("10.0.0.0/8", Value::string("Single"))),
        ]);
        let mut proposed = prior.clone();
        proposed.set("net", Value::List(vec![]));
        let p = propose(&schema(), &prior, &proposed, &proposed);
        assert_eq!(p.requires_replace[0].to_string(), "net");
        proposed.set("net", Value::Unknown);
        let p = propose(&schema(), &prior, &proposed, &proposed);
        assert_eq!(p.requires_replace[0].to_string(), "net");
    }

    #[test]
    fn a_change_of_case_alone_replaces_nothing_where_case_does_not_matter() {
        let block = Block::new("r").block(
            NestedBlock::list()
                .named("iam")
                .requires_replace()
                .of(Block::new("i")
                    .attribute(
                        Attribute::string("p")
                            .named("provider")
                            .optional()
                            .case_insensitive(),
                    )
                    .attribute(Attribute::string("c").named("ca").optional())),
        );
        let iam = |provider: &str, ca: &str| {
            let mut v = Value::Map(Default::default());
            let mut i = Value::Map(Default::default());
            i.set("provider", Value::string(provider));
            i.set("ca", Value::string(ca));
            v.set("iam", Value::List(vec![i]));
            v
        };
        let (prior, lower) = (iam("IRA", "x"), iam("ira", "x"));
        let p = propose(&block, &prior, &lower, &lower);
        assert!(p.requires_replace.is_empty(), "{:?}", p.requires_replace);
        assert_eq!(p.planned, lower, "the configuration's spelling is planned");
        let p = propose(&block, &prior, &iam("ssm", "x"), &iam("ssm", "x"));
        assert_eq!(p.requires_replace, vec![AttrPath::root("iam")]);
        let p = propose(&block, &prior, &iam("ira", "y"), &iam("ira", "y"));
        assert_eq!(p.requires_replace, vec![AttrPath::root("iam")]);
    }
}
