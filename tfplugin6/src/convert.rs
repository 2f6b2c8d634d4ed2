//! Between the generated protocol types and the crate's public ones, in both directions (as
//! terraform-plugin-go's fromproto / toproto). Nothing outside this module and `grpc.rs`
//! touches a generated type.

use crate::diag::{AttrPath, Diagnostics, Severity, Step};
use crate::function::{FunctionError, Signature};
use crate::identity::IdentitySchema;
use crate::proto::tfplugin6 as pb;
use crate::resource::{ClientCapabilities, Deferral};
use crate::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use crate::value::{DecodeError, Value};

pub fn value(v: Option<&pb::DynamicValue>) -> Result<Value, DecodeError> {
    let Some(v) = v else { return Ok(Value::Null) };
    if !v.msgpack.is_empty() {
        Value::from_msgpack(&v.msgpack)
    } else if !v.json.is_empty() {
        Value::from_json(&v.json)
    } else {
        Ok(Value::Null)
    }
}

/// A value Terraform sent that cannot be decoded (a damaged state, say), as the diagnostic
/// Terraform shows under the resource's address, as terraform-plugin-framework reports it.
pub fn undecodable(type_name: &str, what: &str, e: &DecodeError) -> Diagnostics {
    let mut d = Diagnostics::default();
    d.error(
        format!("Unable to read the {what}"),
        format!("The {what} Terraform sent for {type_name} cannot be decoded: {e}. If it comes from the state, the state file may be damaged: restore it from a backup, or remove the object (`terraform state rm`) and import it again."),
    );
    d
}

pub fn dynamic(v: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: v.to_msgpack(),
        json: Vec::new(),
    })
}

/// An identity as the CLI sent it: null when it sent none.
pub fn identity_in(v: Option<&pb::ResourceIdentityData>) -> Result<Value, DecodeError> {
    value(v.and_then(|d| d.identity_data.as_ref()))
}

pub fn identity_out(v: Option<&Value>) -> Option<pb::ResourceIdentityData> {
    v.map(|v| pb::ResourceIdentityData {
        identity_data: dynamic(v),
    })
}

pub fn identity_schema(s: &IdentitySchema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: s.version,
        identity_attributes: s
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.clone(),
                r#type: a.ty.to_json().to_string().into_bytes(),
                required_for_import: a.required_for_import,
                optional_for_import: !a.required_for_import,
                description: a.description.clone(),
            })
            .collect(),
    }
}

fn parameter(p: &crate::function::Parameter) -> pb::function::Parameter {
    pb::function::Parameter {
        name: p.name.clone(),
        r#type: p.ty.to_json().to_string().into_bytes(),
        allow_null_value: false,
        allow_unknown_values: false,
        description: p.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
    }
}

pub fn function(s: &Signature) -> pb::Function {
    pb::Function {
        parameters: s.parameters.iter().map(parameter).collect(),
        variadic_parameter: s.variadic.as_ref().map(parameter),
        r#return: Some(pb::function::Return {
            r#type: s.returns.to_json().to_string().into_bytes(),
        }),
        summary: s.summary.clone(),
        description: s.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecation_message: String::new(),
    }
}

pub fn function_error(e: &FunctionError) -> pb::FunctionError {
    pb::FunctionError {
        text: e.text.clone(),
        function_argument: e.argument.map(|a| a as i64),
    }
}

pub fn timestamp(t: Option<std::time::SystemTime>) -> Option<prost_types::Timestamp> {
    let since = t?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(prost_types::Timestamp {
        seconds: i64::try_from(since.as_secs()).ok()?,
        nanos: i32::try_from(since.subsec_nanos()).ok()?,
    })
}

pub fn client_capabilities(c: Option<&pb::ClientCapabilities>) -> ClientCapabilities {
    ClientCapabilities {
        deferral_allowed: c.is_some_and(|c| c.deferral_allowed),
    }
}

pub fn deferred(reason: Option<Deferral>) -> Option<pb::Deferred> {
    use pb::deferred::Reason;
    reason.map(|r| pb::Deferred {
        reason: match r {
            Deferral::ResourceConfigUnknown => Reason::ResourceConfigUnknown,
            Deferral::ProviderConfigUnknown => Reason::ProviderConfigUnknown,
            Deferral::AbsentPrereq => Reason::AbsentPrereq,
        } as i32,
    })
}

pub fn attribute_path(p: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    Step::Attr(a) => Selector::AttributeName(a.clone()),
                    Step::Index(i) => Selector::ElementKeyInt(*i),
                    Step::Key(k) => Selector::ElementKeyString(k.clone()),
                }),
            })
            .collect(),
    }
}

pub fn diagnostics(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.0.iter()
        .map(|d| pb::Diagnostic {
            severity: match d.severity {
                Severity::Error => pb::diagnostic::Severity::Error,
                Severity::Warning => pb::diagnostic::Severity::Warning,
            } as i32,
            summary: d.summary.clone(),
            detail: d.detail.clone(),
            attribute: d.path.as_ref().map(attribute_path),
        })
        .collect()
}

pub fn schema(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block(&s.block, s.version)),
    }
}

fn block(b: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute).collect(),
        block_types: b.blocks.iter().map(nested_block).collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: b.deprecated,
        ..Default::default()
    }
}

fn attribute(a: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: a.ty.to_json().to_string().into_bytes(),
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: a.deprecated,
        ..Default::default()
    }
}

fn nested_block(b: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    pb::schema::NestedBlock {
        type_name: b.name.clone(),
        block: Some(block(&b.block, 0)),
        nesting: match b.nesting {
            Nesting::List => NestingMode::List,
            Nesting::Set => NestingMode::Set,
        } as i32,
        min_items: b.min_items,
        max_items: b.max_items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Type;

    #[test]
    fn schemas_carry_flags_types_and_nesting() {
        let s = Schema::new(
            Block::new("root")
                .attribute(Attribute::string("n").named("name").required())
                .attribute(
                    Attribute::of(Type::map_of_strings(), "t")
                        .named("tags")
                        .optional(),
                )
                .block(
                    NestedBlock::list()
                        .named("inner")
                        .of(Block::new("i"))
                        .items(1, 1),
                ),
        );
        let p = schema(&s).block.unwrap();
        assert!(p.attributes[0].required);
        assert_eq!(p.attributes[1].r#type, br#"["map","string"]"#);
        assert_eq!(p.block_types[0].max_items, 1);
        assert_eq!(p.block_types[0].nesting, 2);
    }

    #[test]
    fn paths_and_severities_reach_the_wire() {
        let mut d = Diagnostics::default();
        d.warning("w", "");
        d.error_at(AttrPath::root("tags").key("team"), "bad", "detail");
        let p = diagnostics(&d);
        assert_eq!(p[0].severity, 2);
        assert_eq!(p[1].severity, 1);
        assert_eq!(
            p[1].attribute.as_ref().unwrap().steps[1].selector,
            Some(pb::attribute_path::step::Selector::ElementKeyString(
                "team".into()
            ))
        );
    }

    #[test]
    fn values_round_trip_through_msgpack() {
        let v = Value::string_list(["a", "b"]);
        assert_eq!(value(dynamic(&v).as_ref()).unwrap(), v);
        assert_eq!(value(None).unwrap(), Value::Null);
        let bad = pb::DynamicValue {
            msgpack: vec![0x92, 0x01],
            json: vec![],
        };
        assert!(value(Some(&bad)).is_err());
    }
}
