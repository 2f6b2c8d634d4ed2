//! Typed schema building: attributes and nested blocks, converted to the protocol's form and
//! used to build null-filled objects of the right shape.

use std::collections::BTreeMap;

use super::proto::tfplugin6 as pb;
use super::value::Value;

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

#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub deprecated: bool,
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
        }
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

    fn to_proto(&self) -> pb::schema::Attribute {
        pb::schema::Attribute {
            name: self.name.clone(),
            r#type: self.ty.to_json().to_string().into_bytes(),
            description: self.description.clone(),
            required: self.required,
            optional: self.optional,
            computed: self.computed,
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Nesting {
    /// Encoded as a list of at most one element, so `min_items`/`max_items` apply and
    /// Terraform 1.0 treats it like the AWS provider's MaxItems=1 blocks.
    List,
    Set,
}

#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub name: String,
    pub nesting: Nesting,
    pub min_items: i64,
    pub max_items: i64,
    pub block: Block,
}

impl NestedBlock {
    pub fn list(name: &str, block: Block) -> NestedBlock {
        NestedBlock {
            name: name.to_string(),
            nesting: Nesting::List,
            min_items: 0,
            max_items: 0,
            block,
        }
    }

    pub fn set(name: &str, block: Block) -> NestedBlock {
        NestedBlock {
            nesting: Nesting::Set,
            ..NestedBlock::list(name, block)
        }
    }

    pub fn items(mut self, min: i64, max: i64) -> Self {
        self.min_items = min;
        self.max_items = max;
        self
    }

    fn to_proto(&self) -> pb::schema::NestedBlock {
        use pb::schema::nested_block::NestingMode;
        pb::schema::NestedBlock {
            type_name: self.name.clone(),
            block: Some(self.block.to_proto()),
            nesting: match self.nesting {
                Nesting::List => NestingMode::List,
                Nesting::Set => NestingMode::Set,
            } as i32,
            min_items: self.min_items,
            max_items: self.max_items,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub deprecated: bool,
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

    pub fn to_proto(&self) -> pb::schema::Block {
        pb::schema::Block {
            version: 0,
            attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
            block_types: self.blocks.iter().map(NestedBlock::to_proto).collect(),
            description: self.description.clone(),
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(self.block.to_proto()),
        }
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
                NestedBlock::list(
                    "inner",
                    Block::new("i").attribute(Attribute::new("cidrs", Type::set_of_strings(), "c")),
                )
                .items(1, 1),
            )
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
    fn proto_carries_flags_and_nesting() {
        let p = sample().to_proto();
        assert!(p.attributes[0].required);
        assert_eq!(p.attributes[1].r#type, br#"["map","string"]"#);
        assert_eq!(p.block_types[0].max_items, 1);
        assert_eq!(p.block_types[0].nesting, 2);
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
