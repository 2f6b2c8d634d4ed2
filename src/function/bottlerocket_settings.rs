//! `provider::eks::bottlerocket_settings(node_config, api_server, cluster_certificate, node)`:
//! the `settings.toml` a Bottlerocket VMware hybrid node boots with, as the EKS user guide's
//! "Connect hybrid nodes with Bottlerocket" gives it (awsdocs/amazon-eks-user-guide
//! `latest/ug/nodes/hybrid-nodes-bottlerocket.adoc`, Step 1), for SSM or IAM Roles Anywhere.
//! The cluster's name, region, credential provider and Roles Anywhere ARNs come from its
//! `node_config`, so the two renderings cannot disagree.

use std::collections::BTreeMap;

use aws_smithy_types::base64;
use tfplugin6::function::{Function, FunctionError, Signature};
use tfplugin6::{Type, Value};

use super::node_values::{self, shell_word, toml_string};

const NODE: usize = 3;

pub struct BottlerocketSettings;

impl Function for BottlerocketSettings {
    fn name(&self) -> &'static str {
        "bottlerocket_settings"
    }

    fn signature(&self) -> Signature {
        Signature::new(
            "The Bottlerocket settings.toml of one hybrid node.",
            "Renders the `settings.toml` of the EKS user guide's \"Connect hybrid nodes with Bottlerocket\" for the cluster whose `node_config` is given: the Kubernetes settings (cluster name, API server, certificate, `hostname-override`, `provider-id = \"eks-hybrid:///<region>/<cluster>/<hostname>\"`), the node labels `eks.amazonaws.com/compute-type = \"hybrid\"` and `eks.amazonaws.com/hybrid-credential-provider`, the ECR credential provider, and the `eks-hybrid-setup` bootstrap container with its base64 user data. `node` gives `hostname` (at most 64 characters, a Kubernetes object name) and, for SSM, `activation_id` and `activation_code`; for IAM Roles Anywhere, `certificate` and `private_key` (PEM), `role_session_name` (defaults to `hostname`: the CN of the certificate) and the anchor, profile and role ARNs when the cluster brought its own role. `admin_user_data`, the admin container's JSON, turns the admin container on. Pass the result base64-encoded as the VM's `guestinfo.userdata`. It holds the node's secrets: with an ephemeral activation it is ephemeral too.",
            Type::String,
        )
        .parameter(
            "node_config",
            Type::String,
            "The cluster's `node_config` (from `eks_hybrid_cluster` or `data.eks_hybrid_cluster`).",
        )
        .parameter("api_server", Type::String, "The cluster's `endpoint`.")
        .parameter(
            "cluster_certificate",
            Type::String,
            "The cluster's `certificate_authority_data` (base64, as EKS gives it).",
        )
        .parameter("node", Type::map_of_strings(), "This node's values.")
    }

    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
        let text = |i: usize, name: &str| {
            arguments
                .get(i)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string)
                .ok_or_else(|| FunctionError::at(i, format!("{name} must be a non-empty string")))
        };
        let cluster = Cluster {
            template: Template::parse(&text(0, "node_config")?)?,
            api_server: checked(text(1, "api_server")?, 1, node_values::is_api_server, "api_server must be the cluster's endpoint, an https:// URL")?,
            certificate: checked(
                text(2, "cluster_certificate")?,
                2,
                node_values::is_base64,
                "cluster_certificate must be the cluster's certificate_authority_data, base64 as EKS gives it",
            )?,
        };
        let node = node_values(arguments.get(NODE))?;
        render(&cluster, &node).map(|s| Value::string(&s))
    }
}

fn checked(
    value: String,
    argument: usize,
    valid: fn(&str) -> bool,
    what: &str,
) -> Result<String, FunctionError> {
    if valid(&value) {
        return Ok(value);
    }
    let short: String = value.chars().take(80).collect();
    Err(FunctionError::at(argument, format!("{what}: {short:?}")))
}

/// What the cluster's nodeadm `node_config` says.
#[derive(Debug, PartialEq)]
struct Template {
    name: String,
    region: String,
    credentials: Credentials,
}

#[derive(Debug, PartialEq)]
enum Credentials {
    Ssm,
    /// Trust anchor, profile and role ARNs; None where the template has a placeholder.
    RolesAnywhere([Option<String>; 3]),
}

const ARN_FIELDS: [(&str, &str); 3] = [
    ("trustAnchorArn", "trust_anchor_arn"),
    ("profileArn", "profile_arn"),
    ("roleArn", "role_arn"),
];

impl Template {
    fn parse(yaml: &str) -> Result<Template, FunctionError> {
        if !yaml.contains("kind: NodeConfig") {
            return Err(FunctionError::at(
                0,
                "node_config is not a cluster's node_config (no `kind: NodeConfig`)",
            ));
        }
        let field = |key: &str| {
            yaml.lines()
                .filter_map(|l| l.trim().strip_prefix(key)?.strip_prefix(':'))
                .map(|v| v.trim().trim_matches('"').to_string())
                .find(|v| !v.is_empty())
        };
        let required = |key: &str| {
            field(key).ok_or_else(|| FunctionError::at(0, format!("node_config has no {key}")))
        };
        let credentials = if yaml.contains("iamRolesAnywhere:") {
            Credentials::RolesAnywhere(
                ARN_FIELDS.map(|(key, _)| field(key).filter(|v| !v.starts_with('<'))),
            )
        } else if yaml.contains("ssm:") {
            Credentials::Ssm
        } else {
            return Err(FunctionError::at(
                0,
                "node_config names neither ssm nor iamRolesAnywhere credentials",
            ));
        };
        if let Credentials::RolesAnywhere(arns) = &credentials {
            for ((key, node_key), arn) in ARN_FIELDS.iter().zip(arns) {
                if let Some(arn) = arn {
                    node_values::check(0, node_key, arn).map_err(|_| {
                        FunctionError::at(
                            0,
                            format!("node_config's {key} is not an ARN of its kind: {arn:?}"),
                        )
                    })?;
                }
            }
        }
        Ok(Template {
            name: checked(
                required("name")?,
                0,
                node_values::is_cluster_name,
                "node_config's cluster name is not an EKS cluster name",
            )?,
            region: checked(
                required("region")?,
                0,
                node_values::is_region,
                "node_config's region is not a region",
            )?,
            credentials,
        })
    }
}

struct Cluster {
    template: Template,
    api_server: String,
    certificate: String,
}

const SSM_KEYS: [&str; 2] = ["activation_id", "activation_code"];
const IRA_KEYS: [&str; 6] = [
    "certificate",
    "private_key",
    "role_session_name",
    "trust_anchor_arn",
    "profile_arn",
    "role_arn",
];

fn node_values(v: Option<&Value>) -> Result<BTreeMap<String, String>, FunctionError> {
    let Some(Value::Map(m)) = v else {
        return Err(FunctionError::at(NODE, "node must be a map of strings"));
    };
    m.iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) if !s.trim().is_empty() => Ok((k.clone(), s.to_string())),
            Some(_) => Err(FunctionError::at(NODE, format!("node.{k} is empty"))),
            None => Err(FunctionError::at(
                NODE,
                format!("node.{k} must be a string"),
            )),
        })
        .collect()
}

/// The guide: "any unique value of your choice, but must follow the Kubernetes Object naming
/// conventions. In addition, the hostname you use cannot be longer than 64 characters." Node
/// names are DNS subdomain names (Kubernetes docs, "Object Names and IDs"): lowercase
/// alphanumerics, '-' and '.', starting and ending alphanumeric.
fn check_hostname(h: &str) -> Result<(), FunctionError> {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let valid = h.len() <= 64
        && h.chars().all(|c| alnum(c) || c == '-' || c == '.')
        && h.starts_with(alnum)
        && h.ends_with(alnum);
    if valid {
        return Ok(());
    }
    Err(FunctionError::at(
        NODE,
        format!("node.hostname {h:?} is not a node name Bottlerocket hybrid nodes accept: at most 64 characters, lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (EKS user guide, \"Connect hybrid nodes with Bottlerocket\")"),
    ))
}

fn render(cluster: &Cluster, node: &BTreeMap<String, String>) -> Result<String, FunctionError> {
    for (key, value) in node {
        if matches!(key.as_str(), "activation_code" | "private_key") {
            tfplugin6::logging::mask(value);
        }
        node_values::check(NODE, key, value)?;
    }
    let t = &cluster.template;
    let (own_keys, label) = match t.credentials {
        Credentials::Ssm => (&SSM_KEYS[..], "ssm"),
        Credentials::RolesAnywhere(_) => (&IRA_KEYS[..], "iam-ra"),
    };
    if let Some(key) = node.keys().find(|k| {
        !own_keys.contains(&k.as_str()) && !["hostname", "admin_user_data"].contains(&k.as_str())
    }) {
        let expected: Vec<&str> = ["hostname", "admin_user_data"]
            .into_iter()
            .chain(own_keys.iter().copied())
            .collect();
        return Err(FunctionError::at(
            NODE,
            format!(
                "node.{key} is not a value of a {label} node; expected {}",
                expected.join(", ")
            ),
        ));
    }
    let get = |key: &str| {
        node.get(key)
            .cloned()
            .ok_or_else(|| FunctionError::at(NODE, format!("node needs {key}")))
    };
    let hostname = get("hostname")?;
    check_hostname(&hostname)?;
    let (aws_config, setup) = match &t.credentials {
        Credentials::Ssm => (
            None,
            ssm_setup(&get("activation_id")?, &get("activation_code")?, &t.region),
        ),
        Credentials::RolesAnywhere(arns) => {
            let arn = |i: usize| {
                let (field, key) = ARN_FIELDS[i];
                match (&arns[i], node.get(key)) {
                    (Some(_), Some(_)) => Err(FunctionError::at(
                        NODE,
                        format!(
                            "node.{key} has no place here: the cluster's node_config sets {field}"
                        ),
                    )),
                    (Some(v), None) | (None, Some(v)) => Ok(v.clone()),
                    (None, None) => Err(FunctionError::at(
                        NODE,
                        format!("node needs {key} ({field})"),
                    )),
                }
            };
            let session = node.get("role_session_name").unwrap_or(&hostname);
            let config = format!(
                "[default]\ncredential_process = aws_signing_helper credential-process --certificate /root/.aws/node.crt --private-key /root/.aws/node.key --profile-arn {} --role-arn {} --trust-anchor-arn {} --role-session-name {}\n",
                shell_word(&arn(1)?),
                shell_word(&arn(2)?),
                shell_word(&arn(0)?),
                shell_word(session),
            );
            (
                Some(config),
                iam_ra_setup(&get("certificate")?, &get("private_key")?)?,
            )
        }
    };
    Ok(settings(
        cluster,
        &hostname,
        label,
        aws_config.as_deref(),
        &setup,
        node.get("admin_user_data"),
    ))
}

/// The bootstrap container's command for SSM, as the guide gives it.
fn ssm_setup(id: &str, code: &str, region: &str) -> String {
    format!(
        "eks-hybrid-ssm-setup --activation-id={} --activation-code={} --region={}",
        shell_word(id),
        shell_word(code),
        shell_word(region)
    )
}

/// The PEM texts span lines, so each is single-quoted, as AWS's own Bottlerocket tests do
/// (aws/eks-hybrid `test/e2e/os/bottlerocket.go`); `node_values::is_pem` has refused quotes.
fn iam_ra_setup(certificate: &str, key: &str) -> Result<String, FunctionError> {
    Ok(format!(
        "eks-hybrid-iam-ra-setup --certificate='{certificate}' --key='{key}'"
    ))
}

/// The image patterns of the guide's ECR credential provider (its `\*` is AsciiDoc's escape).
const ECR_IMAGE_PATTERNS: [&str; 6] = [
    "*.dkr.ecr.*.amazonaws.com",
    "*.dkr.ecr.*.amazonaws.com.cn",
    "*.dkr.ecr.*.amazonaws.eu",
    "*.dkr.ecr-fips.*.amazonaws.com",
    "*.dkr.ecr-fips.*.amazonaws.eu",
    "public.ecr.aws",
];

fn settings(
    cluster: &Cluster,
    hostname: &str,
    label: &str,
    aws_config: Option<&str>,
    setup: &str,
    admin: Option<&String>,
) -> String {
    let t = &cluster.template;
    let q = toml_string;
    let b64 = |s: &str| q(&base64::encode(s.as_bytes()));
    let mut out = format!(
        "[settings.kubernetes]\ncluster-name = {}\napi-server = {}\ncluster-certificate = {}\nhostname-override = {}\nprovider-id = {}\nauthentication-mode = \"aws\"\ncloud-provider = \"\"\nserver-tls-bootstrap = true\n\n[settings.network]\nhostname = {}\n\n[settings.aws]\nregion = {}\n",
        q(&t.name),
        q(&cluster.api_server),
        q(&cluster.certificate),
        q(hostname),
        q(&format!("eks-hybrid:///{}/{}/{hostname}", t.region, t.name)),
        q(hostname),
        q(&t.region),
    );
    if let Some(config) = aws_config {
        out.push_str(&format!("config = {}\n", b64(config)));
    }
    let patterns: Vec<String> = ECR_IMAGE_PATTERNS
        .iter()
        .map(|p| format!("    {}", q(p)))
        .collect();
    out.push_str(&format!(
        "\n[settings.kubernetes.credential-providers.ecr-credential-provider]\nenabled = true\ncache-duration = \"12h\"\nimage-patterns = [\n{}\n]\n\n[settings.kubernetes.node-labels]\n\"eks.amazonaws.com/compute-type\" = \"hybrid\"\n\"eks.amazonaws.com/hybrid-credential-provider\" = {}\n",
        patterns.join(",\n"),
        q(label),
    ));
    if let Some(admin) = admin {
        out.push_str(&format!(
            "\n[settings.host-containers.admin]\nenabled = true\nuser-data = {}\n",
            b64(admin)
        ));
    }
    out.push_str(&format!(
        "\n[settings.bootstrap-containers.eks-hybrid-setup]\nmode = \"always\"\nuser-data = {}\n",
        b64(setup)
    ));
    if label == "ssm" {
        out.push_str("\n[settings.host-containers.control]\nenabled = true\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SSM: &str = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: demo\n    region: us-west-2\n  hybrid:\n    ssm:\n      activationCode: <SSM_ACTIVATION_CODE>\n      activationId: <SSM_ACTIVATION_ID>\n";
    const IRA: &str = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: demo\n    region: eu-west-1\n  hybrid:\n    iamRolesAnywhere:\n      nodeName: <NODE_NAME>\n      trustAnchorArn: arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/0a1b2c3d-0000-4000-8000-00000000000a\n      profileArn: arn:aws:rolesanywhere:eu-west-1:123456789012:profile/0a1b2c3d-0000-4000-8000-00000000000b\n      roleArn: arn:aws:iam::123456789012:role/r\n      certificatePath: /etc/iam/pki/server.pem\n      privateKeyPath: /etc/iam/pki/server.key\n";
    const A_BYO: &str = "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/0a1b2c3d-0000-4000-8000-0000000000aa";
    const P_BYO: &str =
        "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/0a1b2c3d-0000-4000-8000-0000000000bb";
    const R_BYO: &str = "arn:aws:iam::123456789012:role/teams/edge/nodes";
    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

    fn cluster(template: &str) -> Cluster {
        Cluster {
            template: Template::parse(template).unwrap(),
            api_server: "https://ABC.gr7.us-west-2.eks.amazonaws.com".into(),
            certificate: "LS0tQ0E=".into(),
        }
    }

    fn node(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The value of `key` in the TOML table `table`, as written.
    fn value<'a>(toml: &'a str, table: &str, key: &str) -> &'a str {
        let body = toml
            .split(&format!("[{table}]\n"))
            .nth(1)
            .unwrap_or_else(|| panic!("no [{table}] in\n{toml}"));
        let body = body.split("\n[").next().unwrap();
        body.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no {key} in [{table}]"))
    }

    fn decoded(quoted_b64: &str) -> String {
        let raw: String = serde_json::from_str(quoted_b64).unwrap();
        String::from_utf8(base64::decode(raw).unwrap()).unwrap()
    }

    #[test]
    fn ssm_settings_have_the_guides_tables_keys_and_bootstrap_command() {
        let n = node(&[
            ("hostname", "edge-1"),
            ("activation_id", "8f3c2b1a-4d5e-4f60-8a7b-9c0d1e2f3a4b"),
            ("activation_code", "Fjz3/sZfSvv78EXAMPLE"),
        ]);
        let out = render(&cluster(SSM), &n).unwrap();
        let k = "settings.kubernetes";
        assert_eq!(value(&out, k, "cluster-name"), "\"demo\"");
        assert_eq!(
            value(&out, k, "api-server"),
            "\"https://ABC.gr7.us-west-2.eks.amazonaws.com\""
        );
        assert_eq!(value(&out, k, "cluster-certificate"), "\"LS0tQ0E=\"");
        assert_eq!(value(&out, k, "hostname-override"), "\"edge-1\"");
        assert_eq!(
            value(&out, k, "provider-id"),
            "\"eks-hybrid:///us-west-2/demo/edge-1\""
        );
        assert_eq!(value(&out, k, "authentication-mode"), "\"aws\"");
        assert_eq!(value(&out, k, "cloud-provider"), "\"\"");
        assert_eq!(value(&out, k, "server-tls-bootstrap"), "true");
        assert_eq!(value(&out, "settings.network", "hostname"), "\"edge-1\"");
        assert_eq!(value(&out, "settings.aws", "region"), "\"us-west-2\"");
        assert!(!out.contains("config ="), "{out}");
        let labels = "settings.kubernetes.node-labels";
        assert_eq!(
            value(&out, labels, "\"eks.amazonaws.com/compute-type\""),
            "\"hybrid\""
        );
        assert_eq!(
            value(
                &out,
                labels,
                "\"eks.amazonaws.com/hybrid-credential-provider\""
            ),
            "\"ssm\""
        );
        let ecr = "settings.kubernetes.credential-providers.ecr-credential-provider";
        assert_eq!(value(&out, ecr, "cache-duration"), "\"12h\"");
        assert!(
            out.contains("    \"*.dkr.ecr.*.amazonaws.com\",\n"),
            "{out}"
        );
        assert!(out.contains("    \"public.ecr.aws\"\n]"), "{out}");
        let setup = "settings.bootstrap-containers.eks-hybrid-setup";
        assert_eq!(value(&out, setup, "mode"), "\"always\"");
        assert_eq!(
            decoded(value(&out, setup, "user-data")),
            "eks-hybrid-ssm-setup --activation-id=8f3c2b1a-4d5e-4f60-8a7b-9c0d1e2f3a4b --activation-code=Fjz3/sZfSvv78EXAMPLE --region=us-west-2"
        );
        assert_eq!(
            value(&out, "settings.host-containers.control", "enabled"),
            "true"
        );
        assert!(!out.contains("host-containers.admin"), "{out}");
    }

    #[test]
    fn iam_roles_anywhere_settings_carry_the_aws_config_and_the_pems() {
        let admin = r#"{"user":"ops","ssh":{"authorized-keys":["ssh-ed25519 AAAA"]}}"#;
        let n = node(&[
            ("hostname", "edge-2"),
            ("certificate", CERT),
            ("private_key", KEY),
            ("admin_user_data", admin),
        ]);
        let out = render(&cluster(IRA), &n).unwrap();
        assert_eq!(
            decoded(value(&out, "settings.aws", "config")),
            "[default]\ncredential_process = aws_signing_helper credential-process --certificate /root/.aws/node.crt --private-key /root/.aws/node.key --profile-arn arn:aws:rolesanywhere:eu-west-1:123456789012:profile/0a1b2c3d-0000-4000-8000-00000000000b --role-arn arn:aws:iam::123456789012:role/r --trust-anchor-arn arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/0a1b2c3d-0000-4000-8000-00000000000a --role-session-name edge-2\n"
        );
        assert_eq!(
            value(
                &out,
                "settings.kubernetes.node-labels",
                "\"eks.amazonaws.com/hybrid-credential-provider\""
            ),
            "\"iam-ra\""
        );
        let setup = value(
            &out,
            "settings.bootstrap-containers.eks-hybrid-setup",
            "user-data",
        );
        assert_eq!(
            decoded(setup),
            format!("eks-hybrid-iam-ra-setup --certificate='{CERT}' --key='{KEY}'")
        );
        let admin_table = "settings.host-containers.admin";
        assert_eq!(value(&out, admin_table, "enabled"), "true");
        assert_eq!(decoded(value(&out, admin_table, "user-data")), admin);
        assert!(!out.contains("host-containers.control"), "{out}");
    }

    #[test]
    fn a_brought_role_takes_its_arns_from_the_node() {
        let byo = IRA
            .replace(
                "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/0a1b2c3d-0000-4000-8000-00000000000a",
                "<TRUST_ANCHOR_ARN>",
            )
            .replace(
                "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/0a1b2c3d-0000-4000-8000-00000000000b",
                "<PROFILE_ARN>",
            )
            .replace("arn:aws:iam::123456789012:role/r", "<ROLE_ARN>");
        let mut n = node(&[
            ("hostname", "edge-3"),
            ("certificate", CERT),
            ("private_key", KEY),
        ]);
        let e = render(&cluster(&byo), &n).unwrap_err();
        assert_eq!(e.argument, Some(NODE));
        assert!(
            e.text.contains("node needs profile_arn (profileArn)"),
            "{}",
            e.text
        );
        for (k, v) in [
            ("trust_anchor_arn", A_BYO),
            ("profile_arn", P_BYO),
            ("role_arn", R_BYO),
        ] {
            n.insert(k.into(), v.into());
        }
        n.insert("role_session_name".into(), "cn-3".into());
        let out = render(&cluster(&byo), &n).unwrap();
        assert!(
            decoded(value(&out, "settings.aws", "config")).contains(&format!(
                "--profile-arn {P_BYO} --role-arn {R_BYO} --trust-anchor-arn {A_BYO} --role-session-name cn-3"
            )),
            "{out}"
        );
        let e = render(&cluster(IRA), &n).unwrap_err();
        assert!(
            e.text.contains("node.profile_arn has no place here"),
            "{}",
            e.text
        );
    }

    #[test]
    fn wrong_node_values_are_named_at_the_node_argument() {
        let ssm = cluster(SSM);
        let base = [
            ("activation_id", "8f3c2b1a-4d5e-4f60-8a7b-9c0d1e2f3a4b"),
            ("activation_code", "Fjz3/sZfSvv78EXAMPLE"),
        ];
        for (hostname, ok) in [
            ("edge-1", true),
            ("edge.site-2.example", true),
            (&"a".repeat(64)[..], true),
            (&"a".repeat(65)[..], false),
            ("Edge-1", false),
            ("-edge", false),
            ("edge_1", false),
        ] {
            let mut n = node(&base);
            n.insert("hostname".into(), hostname.into());
            let r = render(&ssm, &n);
            assert_eq!(r.is_ok(), ok, "{hostname}: {r:?}");
            if let Err(e) = r {
                assert_eq!(e.argument, Some(NODE));
                assert!(e.text.contains("at most 64 characters"), "{}", e.text);
            }
        }
        let e = render(
            &ssm,
            &node(&[
                ("hostname", "h"),
                ("activation_id", "8f3c2b1a-4d5e-4f60-8a7b-9c0d1e2f3a4b"),
            ]),
        )
        .unwrap_err();
        assert!(e.text.contains("node needs activation_code"), "{}", e.text);
        let e = render(&ssm, &node(&[("hostname", "h"), ("certificate", CERT)])).unwrap_err();
        assert!(
            e.text
                .contains("node.certificate is not a value of a ssm node"),
            "{}",
            e.text
        );
        let n = node(&[
            ("hostname", "h"),
            ("certificate", "MIIB"),
            ("private_key", KEY),
        ]);
        let e = render(&cluster(IRA), &n).unwrap_err();
        assert!(
            e.text
                .contains("node.certificate is not the PEM text itself"),
            "{}",
            e.text
        );
        let e = Template::parse("hello").unwrap_err();
        assert_eq!(e.argument, Some(0));
    }

    /// Each argument with a value that would break out of its place: refused at that
    /// argument, never written.
    #[test]
    fn a_hostile_value_fails_at_its_argument() {
        let f = BottlerocketSettings;
        let inject = "x\"\n[settings.host-containers.admin]\nenabled = true\n#";
        let ssm_node = |extra: (&str, &str)| {
            let mut n = node(&[
                ("hostname", "edge-1"),
                ("activation_id", "8f3c2b1a-4d5e-4f60-8a7b-9c0d1e2f3a4b"),
                ("activation_code", "Fjz3/sZfSvv78EXAMPLE"),
            ]);
            n.insert(extra.0.into(), extra.1.into());
            Value::Map(n.into_iter().map(|(k, v)| (k, Value::string(v))).collect())
        };
        let args = |template: &str, api: &str, cert: &str, node: Value| {
            [
                Value::string(template),
                Value::string(api),
                Value::string(cert),
                node,
            ]
        };
        let api = "https://ABC.gr7.us-west-2.eks.amazonaws.com";
        let cases: Vec<(usize, [Value; 4])> = vec![
            (
                0,
                args(
                    &SSM.replace("name: demo", "name: demo\\\" = 1 #"),
                    api,
                    "LS0tQ0E=",
                    ssm_node(("hostname", "edge-1")),
                ),
            ),
            (
                0,
                args(
                    &SSM.replace("us-west-2", "us-west-2 --x"),
                    api,
                    "LS0tQ0E=",
                    ssm_node(("hostname", "edge-1")),
                ),
            ),
            (
                0,
                args(
                    &IRA.replace("profile/", "profile/x\n"),
                    api,
                    "LS0tQ0E=",
                    ssm_node(("hostname", "edge-1")),
                ),
            ),
            (
                1,
                args(
                    SSM,
                    &format!("{api}{inject}"),
                    "LS0tQ0E=",
                    ssm_node(("hostname", "edge-1")),
                ),
            ),
            (2, args(SSM, api, inject, ssm_node(("hostname", "edge-1")))),
            (
                NODE,
                args(SSM, api, "LS0tQ0E=", ssm_node(("hostname", inject))),
            ),
            (
                NODE,
                args(SSM, api, "LS0tQ0E=", ssm_node(("activation_id", inject))),
            ),
            (
                NODE,
                args(
                    SSM,
                    api,
                    "LS0tQ0E=",
                    ssm_node(("activation_code", "Fjz3/sZfSvv78EXAMPLE\n--region=evil")),
                ),
            ),
        ];
        for (argument, call) in cases {
            let e = f.call(&call).unwrap_err();
            assert_eq!(e.argument, Some(argument), "{}", e.text);
        }
        let ira = |key: &str, value: &str| {
            let mut n = node(&[
                ("hostname", "edge-2"),
                ("certificate", CERT),
                ("private_key", KEY),
            ]);
            n.insert(key.into(), value.into());
            render(&cluster(IRA), &n)
        };
        for key in ["role_session_name", "certificate", "private_key"] {
            let e = ira(key, inject).unwrap_err();
            assert_eq!(e.argument, Some(NODE), "{key}: {}", e.text);
        }
    }

    /// A code with characters a shell would act on reaches the setup command as one word:
    /// POSIX `sh` reads the command back to exactly the code.
    #[test]
    fn the_setup_command_is_read_back_by_sh_word_for_word() {
        let code = "Ab'$(touch${IFS}/nonexistent/x);`id`|&*?~#\"\\";
        let n = node(&[
            ("hostname", "edge-1"),
            ("activation_id", "8f3c2b1a-4d5e-4f60-8a7b-9c0d1e2f3a4b"),
            ("activation_code", code),
        ]);
        let out = render(&cluster(SSM), &n).unwrap();
        let setup = decoded(value(
            &out,
            "settings.bootstrap-containers.eks-hybrid-setup",
            "user-data",
        ));
        let words = setup.strip_prefix("eks-hybrid-ssm-setup ").unwrap();
        let printed = std::process::Command::new("sh")
            .args(["-c", &format!("printf '%s\\n' {words}")])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(printed.stdout).unwrap(),
            format!("--activation-id=8f3c2b1a-4d5e-4f60-8a7b-9c0d1e2f3a4b\n--activation-code={code}\n--region=us-west-2\n")
        );
    }
}
