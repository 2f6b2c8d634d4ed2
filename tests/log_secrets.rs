//! No secret in any log, at any level: an SSM cluster with an `ssm_activation`, an ephemeral
//! activation rendered by `node_config` and `bottlerocket_settings`, and a Bottlerocket node of
//! IAM Roles Anywhere whose private key comes from `file()`, through apply, plan and destroy
//! under each way a user turns logs on. Every activation code the testbed issued in the run,
//! and every line of the key, is then looked for in everything Terraform printed.

mod common;

use common::{Workspace, TF_NEW};

const KEY_FILE: &str = "node.key";

/// The seed SSM cluster with an activation, an ephemeral one handed to both node functions,
/// and a Roles Anywhere Bottlerocket node rendered from a fixed `node_config`.
fn config(tgw: &str) -> String {
    let cluster = common::ssm_config(tgw, "ssm_activation {\n    registration_limit = 2\n  }");
    format!(
        r#"{cluster}
ephemeral "eks_hybrid_activation" "node" {{
  cluster_name = eks_hybrid_cluster.this.id
  ttl          = "30m"
}}

locals {{
  ira_node_config = <<-EOT
    apiVersion: node.eks.aws/v1alpha1
    kind: NodeConfig
    spec:
      cluster:
        name: hybrid-demo
        region: us-west-2
      hybrid:
        iamRolesAnywhere:
          nodeName: <NODE_NAME>
          trustAnchorArn: arn:aws:rolesanywhere:us-west-2:123456789012:trust-anchor/0a1b2c3d-0000-4000-8000-00000000000a
          profileArn: arn:aws:rolesanywhere:us-west-2:123456789012:profile/0a1b2c3d-0000-4000-8000-00000000000b
          roleArn: arn:aws:iam::123456789012:role/hybrid-demo-eks-hybrid-nodes-role
  EOT
}}

resource "terraform_data" "node" {{
  input = sha256(provider::eks::bottlerocket_settings(
    local.ira_node_config,
    eks_hybrid_cluster.this.endpoint,
    eks_hybrid_cluster.this.certificate_authority_data,
    {{
      hostname    = "edge-ira-1"
      certificate = file("node.crt")
      private_key = file("{KEY_FILE}")
    }}
  ))
  provisioner "local-exec" {{
    command = "printf '%s' \"$NODE_CONFIG\" > node.yaml && printf '%s' \"$BOTTLEROCKET\" > settings.toml"
    environment = {{
      NODE_CONFIG = provider::eks::node_config(eks_hybrid_cluster.this.node_config, {{
        activation_id   = ephemeral.eks_hybrid_activation.node.activation_id
        activation_code = ephemeral.eks_hybrid_activation.node.activation_code
      }})
      BOTTLEROCKET = provider::eks::bottlerocket_settings(
        eks_hybrid_cluster.this.node_config,
        eks_hybrid_cluster.this.endpoint,
        eks_hybrid_cluster.this.certificate_authority_data,
        {{
          hostname        = "edge-1"
          activation_id   = ephemeral.eks_hybrid_activation.node.activation_id
          activation_code = ephemeral.eks_hybrid_activation.node.activation_code
        }}
      )
    }}
  }}
}}
"#
    )
}

/// A node's certificate and key, as a site's own CA would issue them.
fn node_key_pair(dir: &std::path::Path) -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["edge-ira-1".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(dir.join("node.crt"), cert.pem()).unwrap();
    std::fs::write(dir.join(KEY_FILE), key.serialize_pem()).unwrap();
    key.serialize_pem()
}

/// The lines of a PEM body, each long enough to be the key's and no one else's.
fn key_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_string)
        .collect()
}

/// Every activation code the testbed issued so far.
fn issued_codes(tb: &aws_testbed::harness::Testbed) -> Vec<String> {
    let objects = tb.control("GET", "objects", "");
    objects["activation_codes"]
        .as_object()
        .map(|m| {
            m.values()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn no_activation_code_or_private_key_reaches_any_log_at_any_level() {
    let tb = common::testbed();
    let tgw = tb.seed().transit_gateway;
    let ws = Workspace::new(TF_NEW, &tb, &config(&tgw));
    let key = node_key_pair(&ws.work());
    let levels: [&[(&str, &str)]; 3] = [
        &[("TF_LOG", "TRACE")],
        &[("TF_LOG", "json")],
        &[("TF_LOG_PROVIDER", "TRACE")],
    ];
    let mut logs = Vec::new();
    for env in levels {
        for args in [
            &["apply", "-auto-approve", "-input=false", "-no-color"][..],
            &["plan", "-input=false", "-no-color"],
            &["destroy", "-auto-approve", "-input=false", "-no-color"],
        ] {
            let run = ws.run_env(args, env);
            assert_eq!(run.code, 0, "{env:?} {args:?}: {}", run.all());
            let debug_lines = run
                .stderr
                .lines()
                .filter(|l| l.contains("terraform-provider-eks") && l.contains("planning"))
                .count();
            assert!(
                debug_lines > 0,
                "{env:?} {args:?}: the provider's DEBUG lines are in the log:\n{}",
                run.stderr
            );
            logs.push((format!("{env:?} {args:?}"), run.all()));
        }
    }
    let codes = issued_codes(&tb);
    assert!(
        codes.len() >= 6,
        "each apply made an activation and each run opened an ephemeral one: {codes:?}"
    );
    let secrets: Vec<String> = codes.into_iter().chain(key_lines(&key)).collect();
    let mut leaks = Vec::new();
    for (run, text) in &logs {
        for secret in &secrets {
            if let Some(line) = text.lines().find(|l| l.contains(secret.as_str())) {
                let short: String = line.chars().take(300).collect();
                leaks.push(format!("{run}: {short}"));
            }
        }
    }
    let total: usize = logs.iter().map(|(_, t)| t.lines().count()).sum();
    eprintln!(
        "{} secrets looked for in {total} log lines of {} runs",
        secrets.len(),
        logs.len()
    );
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}
