//! Registry-layout documentation rendered from the provider's own schema. The test
//! `docs_are_current` fails when `docs/` is stale; `make docs` rewrites it (UPDATE_DOCS=1).

use tfplugin6::schema::{Attribute, Block, Nesting};
use tfplugin6::value::Number;
use tfplugin6::Value;

fn kind(a: &Attribute) -> String {
    a.ty.describe()
}

/// A default as it would be written in HCL.
fn hcl(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Bool(b) => b.to_string(),
        Value::Number(Number::Int(n)) => n.to_string(),
        Value::Number(Number::UInt(n)) => n.to_string(),
        Value::Number(Number::Float(n)) => n.to_string(),
        Value::Number(Number::Decimal(n)) => n.clone(),
        other => format!("{other:?}"),
    }
}

/// The description, then what the schema declares: the rules, the default, replacement.
fn described(a: &Attribute) -> String {
    let mut parts = vec![a.description.clone()];
    parts.extend(a.validators.iter().map(|v| v.description()));
    if let Some(d) = &a.default {
        parts.push(format!("Default: `{}`.", hcl(d)));
    }
    if a.requires_replace {
        parts.push(REPLACES.into());
    }
    parts.join(" ")
}

const REPLACES: &str = "Changing it replaces the resource.";

fn attribute_line(a: &Attribute) -> String {
    let mut flags = Vec::new();
    if a.sensitive {
        flags.push("Sensitive");
    }
    if a.deprecated {
        flags.push("Deprecated");
    }
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(", {}", flags.join(", "))
    };
    format!("- `{}` ({}{}) {}\n", a.name, kind(a), flags, described(a))
}

/// A list heading and which attributes go under it.
type Section = (&'static str, fn(&Attribute) -> bool);

/// The Required / Optional / Read-Only lists of a block, then one section per nested block.
pub fn render_block(block: &Block, anchor_prefix: &str) -> String {
    let mut out = String::new();
    let mut nested = String::new();
    let sections: [Section; 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional && !a.required),
    ];
    for (title, keep) in sections {
        let mut lines: Vec<String> = block
            .attributes
            .iter()
            .filter(|a| keep(a))
            .map(attribute_line)
            .collect();
        if title != "Read-Only" {
            let required_blocks = title == "Required";
            for b in block
                .blocks
                .iter()
                .filter(|b| (b.min_items > 0) == required_blocks)
            {
                let anchor = format!("{anchor_prefix}{}", b.name);
                let many = match (b.nesting, b.max_items) {
                    (_, 1) => "Block, at most one",
                    (Nesting::Set, _) => "Block Set",
                    _ => "Block List",
                };
                let replaces = if b.requires_replace {
                    format!(" {REPLACES}")
                } else {
                    String::new()
                };
                lines.push(format!(
                    "- `{}` ({many}) {}{replaces} (see [below for nested schema](#nestedblock--{anchor}))\n",
                    b.name,
                    first_sentence(&b.block.description)
                ));
                nested.push_str(&format!(
                    "\n<a id=\"nestedblock--{anchor}\"></a>\n### Nested Schema for `{}`\n\n{}\n\n{}",
                    anchor.replace("--", "."),
                    b.block.description,
                    render_block(&b.block, &format!("{anchor}--"))
                ));
            }
        }
        lines.sort();
        if !lines.is_empty() {
            out.push_str(&format!("### {title}\n\n{}\n", lines.concat()));
        }
    }
    out.push_str(&nested);
    out
}

fn first_sentence(s: &str) -> &str {
    match s.find(". ") {
        Some(i) => &s[..=i],
        None => s,
    }
}

/// A function's parameters and result, as the schema's attributes are listed.
pub fn render_signature(s: &tfplugin6::function::Signature) -> String {
    let mut out = format!("{}\n\n### Parameters\n\n", s.description);
    for (i, p) in s.parameters.iter().enumerate() {
        out.push_str(&format!(
            "{}. `{}` ({}) {}\n",
            i + 1,
            p.name,
            p.ty.describe(),
            p.description
        ));
    }
    if let Some(p) = &s.variadic {
        out.push_str(&format!(
            "{}. `{}` ({}, any number, variadic) {}\n",
            s.parameters.len() + 1,
            p.name,
            p.ty.describe(),
            p.description
        ));
    }
    out.push_str(&format!("\n### Return\n\n{}\n", s.returns.describe()));
    out
}

/// The identity's attributes, as the schema's are listed.
pub fn render_identity(id: &tfplugin6::IdentitySchema) -> String {
    let mut out = String::new();
    for a in &id.attributes {
        let need = if a.required_for_import {
            "Required for import"
        } else {
            "Optional for import"
        };
        out.push_str(&format!(
            "- `{}` ({}, {need}) {}\n",
            a.name,
            a.ty.describe(),
            a.description
        ));
    }
    out
}

pub fn render(template: &str, block: &Block) -> String {
    template.replace("{{ .SchemaMarkdown }}", render_block(block, "").trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn check_or_write(template: &str, target: &str, block: &Block) {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let template = std::fs::read_to_string(root.join(template)).expect("template");
        check_rendered(&template, target, block);
    }

    fn check_rendered(template: &str, target: &str, block: &Block) {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let rendered = render(template, block);
        let path = root.join(target);
        if std::env::var("UPDATE_DOCS").is_ok() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &rendered).unwrap();
        }
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(current == rendered, "{target} is stale: run `make docs`");
    }

    /// One page per registered type, from `templates/<kind>/<name>.md.tmpl`.
    #[test]
    fn docs_are_current() {
        check_or_write(
            "templates/index.md.tmpl",
            "docs/index.md",
            &crate::provider::config::schema().block,
        );
        let server = crate::server();
        let pages = [
            ("resources", server.resource_schemas()),
            ("data-sources", server.data_source_schemas()),
            ("list-resources", server.list_resource_schemas()),
            ("ephemeral-resources", server.ephemeral_resource_schemas()),
            ("actions", server.action_schemas()),
        ];
        for (kind, schemas) in pages {
            for (type_name, schema) in schemas {
                let short = type_name.trim_start_matches("eks_");
                let template = format!("templates/{kind}/{short}.md.tmpl");
                let identity = server.identity_schemas().remove(type_name);
                let template_text = std::fs::read_to_string(
                    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(&template),
                )
                .unwrap_or_else(|_| panic!("{template} is missing"));
                let with_identity = match (&identity, kind) {
                    (Some(id), "resources") => template_text
                        .replace("{{ .IdentityMarkdown }}", render_identity(id).trim_end()),
                    _ => template_text,
                };
                check_rendered(
                    &with_identity,
                    &format!("docs/{kind}/{short}.md"),
                    &schema.block,
                );
            }
        }
    }

    #[test]
    fn function_docs_are_current() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        for (name, signature) in crate::server().functions() {
            let template =
                std::fs::read_to_string(root.join(format!("templates/functions/{name}.md.tmpl")))
                    .unwrap_or_else(|_| panic!("templates/functions/{name}.md.tmpl is missing"));
            let rendered = template.replace(
                "{{ .SchemaMarkdown }}",
                render_signature(&signature).trim_end(),
            );
            let path = root.join(format!("docs/functions/{name}.md"));
            if std::env::var("UPDATE_DOCS").is_ok() {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &rendered).unwrap();
            }
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                current == rendered,
                "docs/functions/{name}.md is stale: run `make docs`"
            );
        }
    }

    #[test]
    fn every_attribute_and_block_is_documented() {
        let doc = render(
            "{{ .SchemaMarkdown }}",
            &crate::resource::hybrid_cluster::model::schema().block,
        );
        for name in [
            "`name`",
            "`remote_network_config`",
            "`remote_nodes_role_arn`",
            "`ca_bundle_cert`",
            "`vpc_gateway_id`",
            "`owned_objects`",
        ] {
            assert!(doc.contains(name), "{name} missing");
        }
        assert!(doc.contains("### Nested Schema for `remote_network_config.iam`"));
    }

    #[test]
    fn declared_facts_are_printed() {
        let doc = render(
            "{{ .SchemaMarkdown }}",
            &crate::resource::hybrid_cluster::model::schema().block,
        );
        assert!(doc.contains(
            "- `endpoint_public_access` (Boolean) Whether the API server endpoint is public. Hybrid nodes need public *or* private access, not both. Default: `true`.\n"
        ));
        assert!(doc.contains("Name of the EKS cluster. 1 to 100 letters"));
        assert!(doc.contains("Changing it replaces the resource. (see [below for nested schema](#nestedblock--remote_network_config))"));
        assert!(doc.contains("- `nat_gateway` (String) NAT gateways of a VPC the provider creates (`HighlyAvailable`: one per zone). Default `Single`. One of `Single`, `HighlyAvailable`, `Disable`.\n"));
    }
}
