//! Real-Terraform harness: an isolated testbed (moto + aws-testbed) per test, the provider
//! installed through a filesystem mirror (the real `terraform init` path), and helpers to run
//! Terraform 1.15.5 and 1.0.3 and to inspect AWS state through the testbed.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

#[allow(unused_imports)]
pub use aws_testbed::harness::{xml_values, ItemSet, Testbed, REGION};

/// The provider's propagation window in tests: longer than any the testbed models, short
/// enough that a role or subnet that really does not exist fails quickly.
pub const PROPAGATION_MS: &str = "5000";

pub const TF_NEW: &str = "terraform-1.15.5";
pub const TF_OLD: &str = "terraform-1.0.3";
/// OpenTofu, built from its Go module by `make tools`.
pub const TOFU: &str = "tofu-1.12.6";

/// `source = "local/eks"` expands to a different host in each tool: a mirror holds both.
pub const MIRROR_HOSTS: [&str; 2] = ["registry.terraform.io", "registry.opentofu.org"];

/// CLI configuration installing `include`d providers from `mirror` only.
fn mirror_rc(mirror: &std::path::Path, include: &[String]) -> String {
    let list = include
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n    include = [{list}]\n  }}\n  direct {{ exclude = [{list}] }}\n}}\n",
        mirror.display()
    )
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tool(name: &str) -> PathBuf {
    let p = repo().join(".tools/bin").join(name);
    assert!(
        p.exists(),
        "{} is missing: run `make tools` first",
        p.display()
    );
    p
}

/// A testbed for one test: moto, the testbed, and the knobs the e2e suite runs with. Every
/// realism window (eventual consistency, IAM propagation, settling, pages) is on, at the
/// testbed's defaults.
pub fn testbed() -> Testbed {
    testbed_with(&[])
}

/// The provider under test: this build, or `TF_EKS_PROVIDER_BIN` (to run today's tests
/// against an earlier build, as the closing notes of issues do for "before").
pub fn provider_binary() -> PathBuf {
    std::env::var_os("TF_EKS_PROVIDER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-eks")))
}

/// A testbed with extra knobs (`--ec2-settle-ms`, `--page-size`, …).
pub fn testbed_with(args: &[&str]) -> Testbed {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-eks"));
    let mut all = vec![
        "--eks-create-ms",
        "300",
        "--eks-delete-ms",
        "200",
        "--eks-update-ms",
        "200",
    ];
    all.extend_from_slice(args);
    let tb = Testbed::start(
        &exe.with_file_name("aws-testbed"),
        &repo().join(".tools/venv/bin/moto_server"),
        &all,
    );
    make_boundary_policy(&tb, REGION);
    tb
}

/// The permissions boundary the published policies name, as an administrator makes it once
/// per account (`docs/iam/role-boundary.json` under `/terraform-provider-eks/`).
pub const BOUNDARY_ARN: &str =
    "arn:aws:iam::123456789012:policy/terraform-provider-eks/EKSHybridRoleBoundary";

/// In `region`'s partition (IAM is global within one).
pub fn make_boundary_policy(tb: &Testbed, region: &str) {
    let doc = std::fs::read_to_string(repo().join("docs/iam/role-boundary.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    tb.query_in(
        region,
        "iam",
        &format!(
            "Action=CreatePolicy&Path=/terraform-provider-eks/&PolicyName=EKSHybridRoleBoundary&PolicyDocument={}",
            path_segment(&doc.to_string())
        ),
    );
}

/// A role trusting `service`, made behind the provider's back; its ARN.
pub fn role(tb: &Testbed, name: &str, service: &str) -> String {
    let trust = path_segment(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
    ));
    let x = tb.query(
        "iam",
        &format!("Action=CreateRole&RoleName={name}&AssumeRolePolicyDocument={trust}"),
    );
    xml_values(&x, "Arn")[0].clone()
}

/// A published policy (`docs/iam/terraform-<name>.json`: `ssm`, `ira`, or the unbounded
/// `ssm-unbounded`, `ira-unbounded`).
pub fn published_policy(name: &str) -> serde_json::Value {
    let path = repo().join(format!("docs/iam/terraform-{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("policy file")).unwrap()
}

/// From now on the provider has exactly the README's minimal policy for `name` (`ssm` or
/// `ira`, whose role writes need `role_permissions_boundary = BOUNDARY_ARN`; or their
/// unbounded forms), evaluated with its resources and conditions; anything else is denied,
/// and `denied_calls` shows it.
pub fn restrict_to(tb: &Testbed, name: &str) {
    tb.set_policy(&published_policy(name));
}

/// A route table as the tests inspect it: its subnets and routes (destination → target).
pub struct RouteTable {
    pub id: String,
    pub subnets: Vec<String>,
    pub routes: std::collections::BTreeMap<String, String>,
}

/// The VPC's route tables, read behind the provider's back.
pub fn route_tables_of(tb: &Testbed, vpc_id: &str) -> Vec<RouteTable> {
    let xml = tb.query(
        "ec2",
        &format!("Action=DescribeRouteTables&Filter.1.Name=vpc-id&Filter.1.Value.1={vpc_id}"),
    );
    let tables = ItemSet::parse(&xml, "routeTableSet").map_or(Vec::new(), |s| s.items);
    tables
        .iter()
        .filter_map(|t| {
            let routes = ItemSet::parse(t, "routeSet").map_or(Vec::new(), |s| s.items);
            Some(RouteTable {
                id: xml_values(t, "routeTableId").into_iter().next()?,
                subnets: xml_values(t, "subnetId"),
                routes: routes
                    .iter()
                    .filter_map(|r| {
                        let dest = xml_values(r, "destinationCidrBlock").into_iter().next()?;
                        let target = ["transitGatewayId", "gatewayId", "natGatewayId"]
                            .iter()
                            .find_map(|t| xml_values(r, t).into_iter().next())?;
                        Some((dest, target))
                    })
                    .collect(),
            })
        })
        .collect()
}

pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub terraform: PathBuf,
    pub endpoint: String,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// All output with whitespace runs folded to one space: Terraform wraps long messages.
    pub fn text(&self) -> String {
        self.all().split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

impl Workspace {
    /// A working directory whose providers come from `mirror` (for `include`) and nothing else.
    pub fn with_mirror(
        terraform: &str,
        testbed: &Testbed,
        mirror: &std::path::Path,
        include: &str,
        main_tf: &str,
    ) -> Workspace {
        let dir = tempfile::tempdir().expect("tempdir");
        let rc = mirror_rc(mirror, &[include.to_string()]);
        std::fs::write(dir.path().join("tf.rc"), rc).unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        std::fs::write(dir.path().join("work/main.tf"), main_tf).unwrap();
        let ws = Workspace {
            dir,
            terraform: tool(terraform),
            endpoint: testbed.url.clone(),
        };
        let init = ws.run(&["init", "-input=false", "-no-color"]);
        assert_eq!(init.code, 0, "init failed: {}", init.all());
        ws
    }

    /// A working directory whose provider comes from a filesystem mirror holding this build.
    pub fn new(terraform: &str, testbed: &Testbed, config: &str) -> Workspace {
        let dir = tempfile::tempdir().expect("tempdir");
        for host in MIRROR_HOSTS {
            let mirror = dir
                .path()
                .join(format!("mirror/{host}/local/eks/0.1.0/linux_amd64"));
            std::fs::create_dir_all(&mirror).unwrap();
            std::fs::copy(
                provider_binary(),
                mirror.join("terraform-provider-eks_v0.1.0"),
            )
            .unwrap();
        }
        let include = MIRROR_HOSTS.map(|h| format!("{h}/local/*"));
        let rc = mirror_rc(&dir.path().join("mirror"), &include);
        std::fs::write(dir.path().join("tf.rc"), rc).unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        let ws = Workspace {
            dir,
            terraform: tool(terraform),
            endpoint: testbed.url.clone(),
        };
        ws.write(config);
        let init = ws.run(&["init", "-input=false", "-no-color"]);
        assert_eq!(init.code, 0, "init failed: {}", init.all());
        ws
    }

    pub fn write(&self, config: &str) {
        self.write_with_provider("provider \"eks\" {\n  region = \"us-west-2\"\n}\n", config);
    }

    pub fn write_with_provider(&self, provider: &str, config: &str) {
        let header = "terraform {\n  required_providers {\n    eks = { source = \"local/eks\", version = \"0.1.0\" }\n  }\n}\n";
        std::fs::write(
            self.work().join("main.tf"),
            format!("{header}{provider}{config}"),
        )
        .unwrap();
    }

    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.terraform);
        c.args(args)
            .current_dir(self.work())
            .env("TF_CLI_CONFIG_FILE", self.dir.path().join("tf.rc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("RUST_BACKTRACE", "0")
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", REGION)
            .env("TF_EKS_POLL_MIN_MS", "50")
            .env("TF_EKS_PROPAGATION_MS", PROPAGATION_MS)
            .env_remove("TF_LOG")
            .stdin(Stdio::null());
        c
    }

    /// Runs terraform in its own process group and, once `ready()` holds, sends SIGINT to the
    /// whole group, as Ctrl-C in a terminal does.
    pub fn run_interrupted(
        &self,
        args: &[&str],
        ready: impl Fn() -> bool,
    ) -> (Run, std::time::Duration) {
        use std::os::unix::process::CommandExt;
        let child = self
            .command(args)
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn terraform");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !ready() {
            assert!(
                std::time::Instant::now() < deadline,
                "the interruption point was never reached"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let interrupted = std::time::Instant::now();
        let status = Command::new("sh")
            .args(["-c", &format!("kill -INT -{}", child.id())])
            .status()
            .expect("kill");
        assert!(status.success());
        let out = child.wait_with_output().expect("wait terraform");
        (
            Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            },
            interrupted.elapsed(),
        )
    }

    pub fn run_env(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let out = self
            .command(args)
            .envs(extra.iter().copied())
            .output()
            .expect("run terraform");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "terraform {args:?} failed:\n{}", r.all());
        r
    }

    pub fn apply(&self) -> Run {
        self.ok(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    pub fn destroy(&self) -> Run {
        self.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// The addresses `terraform state list` prints.
    pub fn state_resources(&self) -> Vec<String> {
        let r = self.run(&["state", "list", "-no-color"]);
        r.stdout.lines().map(str::to_string).collect()
    }

    /// `plan -detailed-exitcode`: 0 no changes, 2 changes.
    pub fn plan_code(&self) -> Run {
        self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])
    }

    /// The resource's attributes from `terraform show -json`.
    pub fn state(&self) -> serde_json::Value {
        let r = self.ok(&["show", "-json", "-no-color"]);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("show -json");
        v["values"]["root_module"]["resources"][0]["values"].clone()
    }
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn ca_pem() -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Hybrid Nodes CA");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.self_signed(&key).unwrap().pem()
}

/// Registers a node with an activation, as amazon-ssm-agent does; its `mi-` ID.
pub fn register_node(tb: &Testbed, id: &str, code: &str) -> String {
    let body = serde_json::json!({"activation_id": id, "activation_code": code});
    let answer = tb.control("POST", "register-node", &body.to_string());
    answer["instance_id"]
        .as_str()
        .expect("registered")
        .to_string()
}

/// An SSM call as another client would make it (`inspect`: behind the provider's back).
pub fn ssm_call(tb: &Testbed, target: &str, body: &str, inspect: bool) -> serde_json::Value {
    let mut headers = vec![
        ("authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-west-2/ssm/aws4_request, SignedHeaders=host, Signature=0".to_string()),
        ("x-amz-target", format!("AmazonSSM.{target}")),
    ];
    if inspect {
        headers.push(("x-testbed-inspect", "1".into()));
    }
    let (status, body) = tb.request("POST", "/", &headers, body);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// An AWS Private CA made as its owner would, behind the provider's back: created (it is then
/// `PENDING_CERTIFICATE`), and with `install` its root certificate issued from its own CSR
/// and installed, which makes it `ACTIVE` (ACM PCA user guide, "Installing the CA
/// certificate"). Returns its ARN.
pub fn private_ca(tb: &Testbed, install: bool) -> String {
    let pca = |op: &str, body: serde_json::Value| {
        let (status, out) = tb.json("acm-pca", &format!("ACMPrivateCA.{op}"), &body);
        assert_eq!(status, 200, "{op}: {out}");
        out
    };
    let created = pca(
        "CreateCertificateAuthority",
        serde_json::json!({
            "CertificateAuthorityType": "ROOT",
            "CertificateAuthorityConfiguration": {
                "KeyAlgorithm": "RSA_2048",
                "SigningAlgorithm": "SHA256WITHRSA",
                "Subject": {"CommonName": "Hybrid Nodes Private CA"},
            },
        }),
    );
    let arn = created["CertificateAuthorityArn"]
        .as_str()
        .unwrap()
        .to_string();
    if install {
        let ca = serde_json::json!({"CertificateAuthorityArn": arn});
        let csr = pca("GetCertificateAuthorityCsr", ca.clone())["Csr"].clone();
        let issued = pca(
            "IssueCertificate",
            serde_json::json!({
                "CertificateAuthorityArn": arn,
                "Csr": aws_smithy_types::base64::encode(csr.as_str().unwrap()),
                "SigningAlgorithm": "SHA256WITHRSA",
                "TemplateArn": "arn:aws:acm-pca:::template/RootCACertificate/V1",
                "Validity": {"Type": "YEARS", "Value": 1},
            }),
        );
        let certificate = pca(
            "GetCertificate",
            serde_json::json!({"CertificateAuthorityArn": arn, "CertificateArn": issued["CertificateArn"]}),
        );
        pca(
            "ImportCertificateAuthorityCertificate",
            serde_json::json!({
                "CertificateAuthorityArn": arn,
                "Certificate": aws_smithy_types::base64::encode(certificate["Certificate"].as_str().unwrap()),
            }),
        );
    }
    arn
}

/// A private CA's status, as its owner sees it.
pub fn private_ca_status(tb: &Testbed, arn: &str) -> String {
    let (_, out) = tb.json(
        "acm-pca",
        "ACMPrivateCA.DescribeCertificateAuthority",
        &serde_json::json!({"CertificateAuthorityArn": arn}),
    );
    out["CertificateAuthority"]["Status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The seed example: SSM credentials, a transit gateway, one node and one pod network.
pub fn ssm_config(tgw: &str, extra: &str) -> String {
    format!(
        r#"
resource "eks_hybrid_cluster" "this" {{
  name = "hybrid-demo"
  tags = {{ team = "platform" }}
  role_permissions_boundary = "{BOUNDARY_ARN}"
  {extra}
  remote_network_config {{
    vpc_gateway_id = "{tgw}"
    remote_node_networks {{ cidrs = ["10.80.146.0/24"] }}
    remote_pod_networks  {{ cidrs = ["10.86.30.0/23"] }}
  }}
}}
"#
    )
}

/// go-plugin's magic cookie, as Terraform sets it when it launches a provider.
pub const COOKIE: (&str, &str) = (
    "TF_PLUGIN_MAGIC_COOKIE",
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
);

/// A self-signed client certificate standing in for Terraform's (PLUGIN_CLIENT_CERT).
pub fn client_cert_pem() -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap()
        .pem()
}

/// Starts a plugin binary with exactly `env`, reads its first stdout line (the handshake line,
/// or nothing), then stops it: (time to that line, the line, exit code).
pub fn launch_plugin(
    binary: &std::path::Path,
    env: &[(&str, &str)],
) -> (std::time::Duration, String, i32) {
    let start = std::time::Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let elapsed = start.elapsed();
    let _ = child.kill();
    let code = child.wait().unwrap().code().unwrap_or(-1);
    (elapsed, line, code)
}

/// Median over 20 launches of the time to the handshake line, as Terraform launches plugins
/// (AutoMTLS with a fresh client certificate, a port range, `protocol` offered).
pub fn startup_median(binary: &std::path::Path, protocol: &str) -> std::time::Duration {
    let pem = client_cert_pem();
    let env = [
        COOKIE,
        ("PLUGIN_PROTOCOL_VERSIONS", protocol),
        ("PLUGIN_MIN_PORT", "10000"),
        ("PLUGIN_MAX_PORT", "25000"),
        ("PLUGIN_CLIENT_CERT", &pem),
    ];
    let mut times: Vec<std::time::Duration> = (0..20)
        .map(|_| {
            let (t, line, _) = launch_plugin(binary, &env);
            assert!(line.starts_with("1|") && line.contains("|grpc|"), "{line}");
            t
        })
        .collect();
    times.sort();
    times[10]
}

/// One scenario's cluster: applied from a configuration on its own testbed, with what the
/// testbed held before (for the leak check at the end).
pub struct Applied {
    pub tb: Testbed,
    pub ws: Workspace,
    pub before: Vec<String>,
    pub first: Run,
}

impl Applied {
    /// Applies `config` with Terraform `tf` on `tb` (seeded and restricted as the test wants).
    pub fn new(tf: &str, tb: Testbed, config: &str) -> Applied {
        let before = tb.inventory();
        let ws = Workspace::new(tf, &tb, config);
        let first = ws.apply();
        Applied {
            tb,
            ws,
            before,
            first,
        }
    }

    pub fn state(&self) -> serde_json::Value {
        self.ws.state()
    }

    pub fn plans_no_changes(&self, why: &str) {
        let plan = self.ws.plan_code();
        assert_eq!(plan.code, 0, "{why}:\n{}", plan.all());
    }

    /// A plan that shows drift, naming each of `expected`, as an in-place update.
    pub fn drift_shows(&self, expected: &[&str]) -> Run {
        let drift = self.plans_in_place();
        // Terraform aligns `=` signs: a needle may be written with the padding or without.
        let folded = drift.text();
        for e in expected {
            assert!(
                drift.stdout.contains(e) || folded.contains(e),
                "the plan names {e}:\n{}",
                drift.stdout
            );
        }
        drift
    }

    /// A plan with changes, all of them in place: the cluster is not replaced.
    pub fn plans_in_place(&self) -> Run {
        let plan = self.ws.plan_code();
        assert_eq!(plan.code, 2, "{}", plan.all());
        assert!(
            plan.stdout.contains("update in-place") && !plan.stdout.contains("must be replaced"),
            "the cluster must not be replaced:\n{}",
            plan.stdout
        );
        plan
    }

    /// Apply, then a plan with no changes.
    pub fn repair(&self) {
        self.ws.apply();
        self.plans_no_changes("apply must repair the drift");
    }

    /// Destroy; then the testbed holds what it held before, and no call was denied.
    pub fn destroy_leaves_nothing(self) {
        destroy_leaves_nothing(&self.tb, &self.ws, &self.before);
    }
}

/// Destroy; then the testbed holds what it held before, and no call was denied.
/// The calls since the call log was last cleared that were not reads (`service:Operation`).
pub fn writes(tb: &Testbed) -> Vec<String> {
    tb.calls()
        .iter()
        .map(|c| {
            format!(
                "{}:{}",
                c["service"].as_str().unwrap_or_default(),
                c["operation"].as_str().unwrap_or_default()
            )
        })
        .filter(|op| {
            let name = op.split(':').nth(1).unwrap_or_default();
            !["Describe", "Get", "List"]
                .iter()
                .any(|p| name.starts_with(p))
        })
        .collect()
}

pub fn destroy_leaves_nothing(tb: &Testbed, ws: &Workspace, before: &[String]) {
    ws.destroy();
    assert_eq!(tb.inventory(), before, "destroy must leave nothing behind");
    assert!(
        tb.denied_calls().is_empty(),
        "calls outside the minimal policy: {:?}",
        tb.denied_calls()
    );
}

/// An ARN or ID as one segment of a REST path.
pub fn path_segment(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}

/// The cluster's access entry for `principal`: (HTTP status, body).
pub fn access_entry(tb: &Testbed, cluster: &str, principal: &str) -> (u16, serde_json::Value) {
    let (code, body) = tb.rest(
        "eks",
        "GET",
        &format!(
            "/clusters/{cluster}/access-entries/{}",
            principal.replace('/', "%2F")
        ),
        "",
    );
    (code, serde_json::from_str(&body).unwrap_or_default())
}

/// A role's policy document (trust when `inline` is None), decoded.
pub fn role_document(tb: &Testbed, role: &str, inline: Option<&str>) -> serde_json::Value {
    let (xml, tag) = match inline {
        None => (
            tb.query("iam", &format!("Action=GetRole&RoleName={role}")),
            "AssumeRolePolicyDocument",
        ),
        Some(p) => (
            tb.query(
                "iam",
                &format!("Action=GetRolePolicy&RoleName={role}&PolicyName={p}"),
            ),
            "PolicyDocument",
        ),
    };
    serde_json::from_str(&percent_decode(&xml_values(&xml, tag)[0])).unwrap()
}

/// The names of the managed policies attached to a role.
pub fn attached_policies(tb: &Testbed, role: &str) -> Vec<String> {
    xml_values(
        &tb.query(
            "iam",
            &format!("Action=ListAttachedRolePolicies&RoleName={role}"),
        ),
        "PolicyName",
    )
}

/// The tags EKS holds for an ARN, as its JSON body.
pub fn eks_tags(tb: &Testbed, arn: &str) -> String {
    tb.rest("eks", "GET", &format!("/tags/{}", path_segment(arn)), "")
        .1
}

/// Waits until the testbed's EKS holds no cluster (a delete finishes after `eks_delete_ms`).
pub fn wait_for_no_clusters(tb: &Testbed) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while tb.control("GET", "objects", "")["clusters"]
        .as_array()
        .is_some_and(|c| !c.is_empty())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the cluster never went"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// What eksctl makes for `remoteNetworkConfig`: a VPC with subnets in two zones, a cluster
/// role, a nodes role and a HYBRID_LINUX access entry, made here through the EKS, EC2 and
/// IAM APIs directly.
pub struct Eksctl {
    pub vpc: String,
    pub subnets: Vec<String>,
    pub nodes_role_arn: String,
    pub cluster_security_group: String,
}

/// Retries a call that EKS refuses while an IAM change propagates (the testbed's window).
fn retry_while_propagating(call: impl Fn() -> (u16, String)) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (code, out) = call();
        if code == 200 {
            return;
        }
        assert!(
            code == 400 && std::time::Instant::now() < deadline,
            "{code}: {out}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

pub fn made_as_eksctl_makes_it(tb: &Testbed, name: &str) -> Eksctl {
    let vpc_xml = tb.query("ec2", "Action=CreateVpc&CidrBlock=192.168.0.0/16");
    let vpc = xml_values(&vpc_xml, "vpcId")[0].clone();
    let mut subnets = Vec::new();
    for (cidr, az) in [
        ("192.168.0.0/19", "us-west-2a"),
        ("192.168.32.0/19", "us-west-2b"),
    ] {
        let x = tb.query(
            "ec2",
            &format!("Action=CreateSubnet&VpcId={vpc}&CidrBlock={cidr}&AvailabilityZone={az}"),
        );
        subnets.push(xml_values(&x, "subnetId")[0].clone());
    }
    let trust = |service: &str| {
        path_segment(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
        ))
    };
    let role = |name: &str, service: &str| {
        let x = tb.query(
            "iam",
            &format!(
                "Action=CreateRole&RoleName={name}&AssumeRolePolicyDocument={}",
                trust(service)
            ),
        );
        xml_values(&x, "Arn")[0].clone()
    };
    let cluster_role = role(
        &format!("eksctl-{name}-cluster-ServiceRole"),
        "eks.amazonaws.com",
    );
    tb.query(
        "iam",
        &format!("Action=AttachRolePolicy&RoleName=eksctl-{name}-cluster-ServiceRole&PolicyArn=arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"),
    );
    let nodes_role_arn = role(
        &format!("eksctl-{name}-cluster-RemoteNodesRole"),
        "ssm.amazonaws.com",
    );
    let body = serde_json::json!({
        "name": name,
        "roleArn": cluster_role,
        "version": "1.33",
        "resourcesVpcConfig": {"subnetIds": subnets},
        "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"},
        "remoteNetworkConfig": {
            "remoteNodeNetworks": [{"cidrs": ["10.200.0.0/24"]}],
            "remotePodNetworks": [{"cidrs": ["10.201.0.0/16"]}],
        },
    });
    // As eksctl does, wait out IAM propagation: EKS refuses a role it cannot see yet.
    retry_while_propagating(|| tb.rest("eks", "POST", "/clusters", &body.to_string()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, d) = tb.rest("eks", "GET", &format!("/clusters/{name}"), "");
        if d.contains("\"ACTIVE\"") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{d}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let entry = serde_json::json!({"principalArn": nodes_role_arn, "type": "HYBRID_LINUX"});
    retry_while_propagating(|| {
        tb.rest(
            "eks",
            "POST",
            &format!("/clusters/{name}/access-entries"),
            &entry.to_string(),
        )
    });
    let (_, described) = tb.rest("eks", "GET", &format!("/clusters/{name}"), "");
    let described: serde_json::Value = serde_json::from_str(&described).unwrap();
    Eksctl {
        vpc,
        subnets,
        nodes_role_arn,
        cluster_security_group: described["cluster"]["resourcesVpcConfig"]
            ["clusterSecurityGroupId"]
            .as_str()
            .unwrap()
            .to_string(),
    }
}
