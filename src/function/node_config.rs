//! `provider::eks::node_config(template, node)`: a complete nodeadm `NodeConfig` for one node.
//! `template` is a cluster's `node_config` (the resource's or the data source's), whose
//! placeholders stand for what differs per node; `node` gives them: `activation_id` and
//! `activation_code` for SSM, `node_name` for IAM Roles Anywhere (the CN of the node's
//! certificate), and the anchor, profile and role ARNs when the cluster did not make them.

use std::collections::BTreeMap;

use tfplugin6::function::{Function, FunctionError, Signature};
use tfplugin6::{Type, Value};

/// Each key of `node`, the placeholder it fills, and the nodeadm field it is.
const FILLS: [(&str, &str, &str); 6] = [
    (
        "activation_id",
        "<SSM_ACTIVATION_ID>",
        "hybrid.ssm.activationId",
    ),
    (
        "activation_code",
        "<SSM_ACTIVATION_CODE>",
        "hybrid.ssm.activationCode",
    ),
    (
        "node_name",
        "<NODE_NAME>",
        "hybrid.iamRolesAnywhere.nodeName",
    ),
    (
        "trust_anchor_arn",
        "<TRUST_ANCHOR_ARN>",
        "hybrid.iamRolesAnywhere.trustAnchorArn",
    ),
    (
        "profile_arn",
        "<PROFILE_ARN>",
        "hybrid.iamRolesAnywhere.profileArn",
    ),
    ("role_arn", "<ROLE_ARN>", "hybrid.iamRolesAnywhere.roleArn"),
];

/// Keys that replace a whole default line rather than a placeholder.
const OVERRIDES: [(&str, &str); 2] = [
    (
        "certificate_path",
        "certificatePath: /etc/iam/pki/server.pem",
    ),
    (
        "private_key_path",
        "privateKeyPath: /etc/iam/pki/server.key",
    ),
];

pub struct NodeConfig;

impl Function for NodeConfig {
    fn name(&self) -> &'static str {
        "node_config"
    }

    fn signature(&self) -> Signature {
        Signature::new(
            "A complete nodeadm NodeConfig for one hybrid node.",
            "Fills a cluster's `node_config` with one node's values: `activation_id` and `activation_code` (SSM), or `node_name` (IAM Roles Anywhere: the CN of the node's certificate), plus `trust_anchor_arn`, `profile_arn` and `role_arn` when the cluster brought its own role, and optionally `certificate_path` and `private_key_path`. Every placeholder must be filled. With an ephemeral activation, the result is ephemeral too and never reaches state.",
            Type::String,
        )
        .parameter(
            "template",
            Type::String,
            "The cluster's `node_config` (from `eks_hybrid_cluster` or `data.eks_hybrid_cluster`).",
        )
        .parameter("node", Type::map_of_strings(), "This node's values.")
    }

    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
        let template = arguments
            .first()
            .and_then(Value::as_str)
            .ok_or_else(|| FunctionError::at(0, "template must be a string"))?;
        let node = node_values(arguments.get(1))?;
        render(template, &node).map(|s| Value::string(&s))
    }
}

fn node_values(v: Option<&Value>) -> Result<BTreeMap<String, String>, FunctionError> {
    let Some(Value::Map(m)) = v else {
        return Err(FunctionError::at(1, "node must be a map of strings"));
    };
    m.iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|s| (k.clone(), s.to_string()))
                .ok_or_else(|| FunctionError::at(1, format!("node.{k} must be a string")))
        })
        .collect()
}

/// A YAML double-quoted scalar (JSON's string syntax is valid YAML).
fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

pub fn render(template: &str, node: &BTreeMap<String, String>) -> Result<String, FunctionError> {
    if !template.contains("kind: NodeConfig") {
        return Err(FunctionError::at(
            0,
            "template is not a cluster's node_config (no `kind: NodeConfig`)",
        ));
    }
    let mut out = template.to_string();
    for (key, value) in node {
        if value.trim().is_empty() {
            return Err(FunctionError::at(1, format!("node.{key} is empty")));
        }
        if key == "activation_code" {
            tfplugin6::logging::mask(value);
        }
        super::node_values::check(1, key, value)?;
        if let Some((_, placeholder, field)) = FILLS.iter().find(|(k, _, _)| k == key) {
            if !out.contains(placeholder) {
                return Err(FunctionError::at(
                    1,
                    format!("node.{key} has no place in this template: {field} is not a placeholder here"),
                ));
            }
            out = out.replace(placeholder, &quoted(value));
        } else if let Some((_, line)) = OVERRIDES.iter().find(|(k, _)| k == key) {
            let field = line.split(':').next().unwrap_or_default();
            out = out.replace(line, &format!("{field}: {}", quoted(value)));
        } else {
            let known: Vec<&str> = FILLS
                .iter()
                .map(|f| f.0)
                .chain(OVERRIDES.iter().map(|o| o.0))
                .collect();
            return Err(FunctionError::at(
                1,
                format!(
                    "node.{key} is not a node value; expected one of {}",
                    known.join(", ")
                ),
            ));
        }
    }
    let missing: Vec<String> = FILLS
        .iter()
        .filter(|(_, placeholder, _)| out.contains(placeholder))
        .map(|(key, _, field)| format!("{key} ({field})"))
        .collect();
    if !missing.is_empty() {
        return Err(FunctionError::at(
            1,
            format!("node needs {}", missing.join(", ")),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "8f3c2b1a-4d5e-4f60-8a7b-9c0d1e2f3a4b";
    const SSM: &str = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: demo\n    region: us-west-2\n  hybrid:\n    ssm:\n      activationCode: <SSM_ACTIVATION_CODE>\n      activationId: <SSM_ACTIVATION_ID>\n";
    const IRA: &str = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: demo\n    region: us-west-2\n  hybrid:\n    iamRolesAnywhere:\n      nodeName: <NODE_NAME>\n      trustAnchorArn: arn:a\n      profileArn: arn:p\n      roleArn: arn:r\n      certificatePath: /etc/iam/pki/server.pem\n      privateKeyPath: /etc/iam/pki/server.key\n";

    fn node(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn ssm_and_ira_templates_are_filled_and_quoted() {
        let out = render(
            SSM,
            &node(&[
                ("activation_id", ID),
                ("activation_code", "x+y/z=Fjz3/sZfSvv78EX"),
            ]),
        )
        .unwrap();
        assert!(
            out.contains(&format!(
                "activationCode: \"x+y/z=Fjz3/sZfSvv78EX\"\n      activationId: \"{ID}\""
            )),
            "{out}"
        );
        let out = render(
            IRA,
            &node(&[("node_name", "edge-1"), ("certificate_path", "/pki/n.pem")]),
        )
        .unwrap();
        assert!(out.contains("nodeName: \"edge-1\""), "{out}");
        assert!(out.contains("certificatePath: \"/pki/n.pem\""), "{out}");
        assert!(
            out.contains("privateKeyPath: /etc/iam/pki/server.key"),
            "{out}"
        );
    }

    #[test]
    fn what_is_missing_misplaced_or_unknown_is_named_at_the_node_argument() {
        let e = render(SSM, &node(&[("activation_id", ID)])).unwrap_err();
        assert_eq!(e.argument, Some(1));
        assert!(
            e.text
                .contains("activation_code (hybrid.ssm.activationCode)"),
            "{}",
            e.text
        );
        let e = render(SSM, &node(&[("node_name", "n1")])).unwrap_err();
        assert!(e.text.contains("no place in this template"), "{}", e.text);
        let e = render(IRA, &node(&[("nodename", "n")])).unwrap_err();
        assert!(e.text.contains("not a node value"), "{}", e.text);
        let e = render("hello", &node(&[])).unwrap_err();
        assert_eq!(e.argument, Some(0));
    }

    /// Each node value that would break out of its YAML scalar (a newline, a quote, a
    /// placeholder of another field) is refused at the node argument, never written.
    #[test]
    fn a_hostile_node_value_fails_at_the_node_argument() {
        let inject = "x\"\n  kubelet:\n    flags: [\"--evil\"]\n#";
        for (template, key) in [
            (SSM, "activation_id"),
            (SSM, "activation_code"),
            (IRA, "node_name"),
            (IRA, "certificate_path"),
            (IRA, "private_key_path"),
            (&IRA.replace("arn:r", "<ROLE_ARN>")[..], "role_arn"),
        ] {
            let e = render(template, &node(&[(key, inject)])).unwrap_err();
            assert_eq!(e.argument, Some(1), "{key}: {}", e.text);
        }
        let e = render(IRA, &node(&[("node_name", "<ROLE_ARN>")])).unwrap_err();
        assert_eq!(e.argument, Some(1), "{}", e.text);
    }
}
