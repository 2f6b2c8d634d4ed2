//! Schemas, with each attribute's facts declared once: type, flags, description, default,
//! whether a change replaces the resource, and validators. Validation, planning and the docs
//! generator all read them from here.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::validators::Validator;
use crate::value::Value;

#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    String,
    Number,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
}

impl Type {
    pub fn list_of_strings() -> Type {
        Type::List(Box::new(Type::String))
    }

    pub fn set_of_strings() -> Type {
        Type::Set(Box::new(Type::String))
    }

    pub fn map_of_strings() -> Type {
        Type::Map(Box::new(Type::String))
    }

    /// The JSON type expression Terraform expects in `Schema.Attribute.type`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Type::String => json!("string"),
            Type::Number => json!("number"),
            Type::Bool => json!("bool"),
            Type::List(t) => json!(["list", t.to_json()]),
            Type::Set(t) => json!(["set", t.to_json()]),
            Type::Map(t) => json!(["map", t.to_json()]),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Type::String => "String".into(),
            Type::Number => "Number".into(),
            Type::Bool => "Boolean".into(),
            Type::List(t) => format!("List of {}", t.describe()),
            Type::Set(t) => format!("Set of {}", t.describe()),
            Type::Map(t) => format!("Map of {}", t.describe()),
        }
    }
}

#[derive(Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub deprecated: bool,
    /// Planned when the configuration leaves the attribute null.
    pub default: Option<Value>,
    /// A change to it plans a replacement of the resource.
    pub requires_replace: bool,
    /// Values that differ only in ASCII case mean the same (a replacement is not planned for
    /// such a change).
    pub case_insensitive: bool,
    /// Run on its known, non-null value at validate and plan.
    pub validators: Vec<Arc<dyn Validator>>,
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("ty", &self.ty)
            .field("required", &self.required)
            .field("optional", &self.optional)
            .field("computed", &self.computed)
            .field("default", &self.default)
            .field("requires_replace", &self.requires_replace)
            .field("validators", &self.validators.len())
            .finish()
    }
}

impl Attribute {
    pub fn new(name: &str, ty: Type, description: &str) -> Attribute {
        Attribute {
            name: name.to_string(),
            ty,
            description: description.to_string(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: false,
            default: None,
            requires_replace: false,
            case_insensitive: false,
            validators: Vec::new(),
        }
    }

    /// An attribute of this type, named by the model that declares it.
    pub fn of(ty: Type, description: &str) -> Attribute {
        Attribute::new("", ty, description)
    }

    pub fn string(description: &str) -> Attribute {
        Attribute::of(Type::String, description)
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    /// Optional and computed, planned as `value` when unset.
    pub fn default(mut self, value: Value) -> Self {
        self.optional = true;
        self.computed = true;
        self.default = Some(value);
        self
    }

    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    pub fn case_insensitive(mut self) -> Self {
        self.case_insensitive = true;
        self
    }

    pub fn validator(mut self, v: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(v));
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Nesting {
    /// Encoded as a list; with `max_items = 1` Terraform 1.0 treats it like the AWS
    /// provider's MaxItems=1 blocks.
    List,
    Set,
}

#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub name: String,
    pub nesting: Nesting,
    pub min_items: i64,
    pub max_items: i64,
    /// A change anywhere in it plans a replacement of the resource.
    pub requires_replace: bool,
    pub block: Block,
}

impl NestedBlock {
    pub fn list() -> NestedBlock {
        NestedBlock {
            name: String::new(),
            nesting: Nesting::List,
            min_items: 0,
            max_items: 0,
            requires_replace: false,
            block: Block::default(),
        }
    }

    pub fn set() -> NestedBlock {
        NestedBlock {
            nesting: Nesting::Set,
            ..NestedBlock::list()
        }
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// The element's block. A description set with `described` stays: one element type may
    /// serve blocks that mean different things.
    pub fn of(mut self, block: Block) -> Self {
        let description = std::mem::take(&mut self.block.description);
        self.block = block;
        if !description.is_empty() {
            self.block.description = description;
        }
        self
    }

    pub fn described(mut self, description: &str) -> Self {
        self.block.description = description.to_string();
        self
    }

    pub fn items(mut self, min: i64, max: i64) -> Self {
        self.min_items = min;
        self.max_items = max;
        self
    }

    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub deprecated: bool,
}

/// A doc comment's lines as one description: lines trimmed, paragraphs kept.
pub fn doc_text(lines: &[&str]) -> String {
    let mut out = String::new();
    for line in lines.iter().map(|l| l.trim()) {
        if line.is_empty() {
            out.push_str("\n\n");
        } else {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push(' ');
            }
            out.push_str(line);
        }
    }
    out.trim().to_string()
}

impl Block {
    pub fn new(description: &str) -> Block {
        Block {
            description: description.to_string(),
            ..Block::default()
        }
    }

    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    /// Another block's attributes and nested blocks, as if declared here.
    pub fn inline(mut self, other: Block) -> Self {
        if self.description.is_empty() {
            self.description = other.description;
        }
        self.attributes.extend(other.attributes);
        self.blocks.extend(other.blocks);
        self
    }

    pub fn find_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn find_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// An object of this block's shape with every attribute null and every nested block empty.
    pub fn null_object(&self) -> Value {
        let mut entries = BTreeMap::new();
        for a in &self.attributes {
            entries.insert(a.name.clone(), Value::Null);
        }
        for b in &self.blocks {
            entries.insert(b.name.clone(), Value::List(Vec::new()));
        }
        Value::Map(entries)
    }

    /// Fills what `value` lacks (attributes absent, blocks absent) so it has this block's shape,
    /// and drops keys the schema does not know. Used on state from older provider versions.
    /// `state` with the attributes only the provider sets (computed, not optional) null, in
    /// this block and every nested one: what a configuration of it can say.
    pub fn config_from_state(&self, state: &Value) -> Value {
        if !matches!(state, Value::Map(_)) {
            return state.clone();
        }
        let mut out = state.clone();
        for a in &self.attributes {
            // Generated configuration should not start out with a deprecation warning.
            if (a.computed && !a.optional) || a.deprecated {
                out.set(&a.name, Value::Null);
            }
        }
        for b in &self.blocks {
            if b.block.deprecated {
                out.set(&b.name, Value::List(Vec::new()));
                continue;
            }
            if let Value::List(items) = state.get(&b.name) {
                let items = items.iter().map(|i| b.block.config_from_state(i)).collect();
                out.set(&b.name, Value::List(items));
            }
        }
        out
    }

    /// The paths of attributes or blocks that are sets. The server treats every collection
    /// as a list (defaults, replacement paths, diagnostics), so it refuses to register a
    /// schema with one rather than answer wrongly for it.
    pub fn set_paths(&self) -> Vec<String> {
        fn has_set(t: &Type) -> bool {
            match t {
                Type::Set(_) => true,
                Type::List(inner) | Type::Map(inner) => has_set(inner),
                _ => false,
            }
        }
        let mut out: Vec<String> = self
            .attributes
            .iter()
            .filter(|a| has_set(&a.ty))
            .map(|a| a.name.clone())
            .collect();
        for b in &self.blocks {
            if b.nesting == Nesting::Set {
                out.push(b.name.clone());
            }
            out.extend(
                b.block
                    .set_paths()
                    .into_iter()
                    .map(|p| format!("{}.{p}", b.name)),
            );
        }
        out
    }

    pub fn conform(&self, value: &Value) -> Value {
        let mut out = self.null_object();
        for a in &self.attributes {
            let v = value.get(&a.name);
            out.set(&a.name, v.clone());
        }
        for b in &self.blocks {
            let items = value
                .get(&b.name)
                .as_list()
                .iter()
                .map(|item| b.block.conform(item))
                .collect();
            out.set(&b.name, Value::List(items));
        }
        out
    }
}

#[derive(Clone, Debug)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(block: Block) -> Schema {
        Schema { version: 0, block }
    }

    pub fn version(mut self, version: i64) -> Schema {
        self.version = version;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Block {
        Block::new("root")
            .attribute(Attribute::new("name", Type::String, "n").required())
            .attribute(Attribute::new("tags", Type::map_of_strings(), "t").optional())
            .block(
                NestedBlock::list()
                    .named("inner")
                    .of(Block::new("i").attribute(Attribute::new(
                        "cidrs",
                        Type::set_of_strings(),
                        "c",
                    )))
                    .items(1, 1),
            )
    }

    #[test]
    fn sets_are_found_wherever_they_are() {
        assert_eq!(sample().set_paths(), ["inner.cidrs"]);
        let block = Block::new("b").block(NestedBlock::set().named("rules").of(Block::new("r")));
        assert_eq!(block.set_paths(), ["rules"]);
        let lists = Block::new("l")
            .attribute(Attribute::new("ids", Type::list_of_strings(), "i").optional());
        assert!(lists.set_paths().is_empty());
    }

    #[test]
    fn generated_configuration_leaves_deprecated_attributes_out() {
        let mut old_name = Attribute::new("old_name", Type::String, "o").optional();
        old_name.deprecated = true;
        let block = Block::new("root")
            .attribute(Attribute::new("name", Type::String, "n").required())
            .attribute(old_name)
            .attribute(Attribute::new("arn", Type::String, "a").computed());
        let state = Value::Map(BTreeMap::from([
            ("name".to_string(), Value::string("x")),
            ("old_name".to_string(), Value::string("y")),
            ("arn".to_string(), Value::string("z")),
        ]));
        let config = block.config_from_state(&state);
        assert_eq!(config.get("name"), &Value::string("x"));
        assert!(config.get("old_name").is_null(), "deprecated: left out");
        assert!(config.get("arn").is_null(), "computed only: left out");
    }

    #[test]
    fn types_render_as_cty_json() {
        assert_eq!(
            Type::set_of_strings().to_json().to_string(),
            r#"["set","string"]"#
        );
        assert_eq!(Type::Bool.to_json().to_string(), r#""bool""#);
    }

    #[test]
    fn a_default_makes_an_attribute_optional_and_computed() {
        let a = Attribute::of(Type::Bool, "b").default(Value::Bool(true));
        assert!(a.optional && a.computed && !a.required);
        assert_eq!(a.default, Some(Value::Bool(true)));
    }

    #[test]
    fn doc_comments_become_one_description() {
        assert_eq!(
            doc_text(&[" An EKS cluster", " for hybrid nodes.", "", " Second."]),
            "An EKS cluster for hybrid nodes.\n\nSecond."
        );
    }

    #[test]
    fn conform_fills_missing_and_drops_unknown_keys() {
        let old = Value::Map(BTreeMap::from([
            ("name".to_string(), Value::string("x")),
            ("gone".to_string(), Value::Bool(true)),
            (
                "inner".to_string(),
                Value::List(vec![Value::Map(BTreeMap::new())]),
            ),
        ]));
        let v = sample().conform(&old);
        assert_eq!(v.get("name"), &Value::string("x"));
        assert!(v.get("tags").is_null());
        assert!(v.as_map().unwrap().get("gone").is_none());
        assert!(v.get("inner").first().get("cidrs").is_null());
    }
}
