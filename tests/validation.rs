//! Validation, in process and table-driven: each configuration goes through the provider's
//! server as Terraform sends it (ValidateResourceConfig, and PlanResourceChange for a
//! create), with no AWS configured, so no call can be made. Each bad configuration must fail
//! with its message at its attribute's path; each configuration AWS accepts must pass.
//! `bad_inputs.rs` keeps a handful through real Terraform for the `on main.tf line N`
//! mapping.

mod common;

use tfplugin6::diag::Severity;
use tfplugin6::walk::{Stored, Walk};
use tfplugin6::{Diagnostics, PlanInput, Server, Value};

const TYPE: &str = "eks_hybrid_cluster";
const VPC: &str = "vpc-0123456789abcdef0";
const S1: &str = "subnet-0123456789abcdef0";
const S2: &str = "subnet-0123456789abcdef1";

/// Marks a value unknown in a JSON configuration.
const UNKNOWN: &str = "(known after apply)";
const PCA: &str = "arn:aws:acm-pca:us-west-2:123456789012:certificate-authority/12345678-1234-1234-1234-123456789012";

fn to_value(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::String(s) if s == UNKNOWN => Value::Unknown,
        serde_json::Value::Array(items) => Value::List(items.iter().map(to_value).collect()),
        serde_json::Value::Object(m) => {
            Value::Map(m.iter().map(|(k, v)| (k.clone(), to_value(v))).collect())
        }
        other => Value::from_json(other.to_string().as_bytes()).unwrap(),
    }
}

/// A configuration of the resource's shape: `body`'s attributes and blocks, a name and one
/// remote node network unless it gives its own, everything else null, as Terraform sends it.
fn config(body: serde_json::Value) -> Value {
    let mut j = serde_json::json!({
        "name": "bad",
        "remote_network_config": [{"remote_node_networks": [{"cidrs": ["10.1.0.0/24"]}]}],
    });
    for (k, v) in body.as_object().unwrap() {
        j[k] = v.clone();
    }
    let schema = terraform_provider_eks::resource::hybrid_cluster::model::schema();
    schema.block.conform(&to_value(&j))
}

fn rnc(body: serde_json::Value) -> serde_json::Value {
    serde_json::json!({ "remote_network_config": [body] })
}

fn nodes(cidrs: &[&str]) -> serde_json::Value {
    serde_json::json!([{ "cidrs": cidrs }])
}

fn ira(cert: &str) -> serde_json::Value {
    serde_json::json!({
        "remote_node_networks": nodes(&["10.1.0.0/24"]),
        "iam": [{"provider": "ira", "ca_bundle_cert": cert}],
    })
}

fn leaf_pem() -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    rcgen::CertificateParams::new(vec!["node".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap()
        .pem()
}

/// The provider's server, configured with `default_tags` and a region not known yet, so it
/// has no AWS clients at all.
async fn server(default_tags: serde_json::Value) -> Server {
    let s = terraform_provider_eks::server();
    let provider = s
        .provider_schema()
        .block
        .conform(&to_value(&serde_json::json!({
            "region": UNKNOWN,
            "default_tags": [{"tags": default_tags}],
        })));
    let d = s.configure_provider(provider).await;
    assert!(!d.has_errors(), "{d:?}");
    s
}

/// Validate, then (when that passes, as Terraform goes on) plan a create, through the
/// in-process Terraform, whose rules every plan must keep.
async fn check(s: &Server, config: &Value) -> Diagnostics {
    let d = s.validate_resource_config(TYPE, config);
    if d.has_errors() {
        return d;
    }
    let mut walk = Walk::new(s, TYPE);
    let plan = walk.plan(s, &Stored::default(), config).await;
    let broken: Vec<String> = walk.found.iter().map(ToString::to_string).collect();
    assert!(broken.is_empty(), "{broken:#?}");
    plan.diagnostics
}

fn errors(d: &Diagnostics) -> Vec<String> {
    d.0.iter()
        .filter(|x| x.severity == Severity::Error)
        .map(|x| {
            let at = x.path.as_ref().map(ToString::to_string).unwrap_or_default();
            format!("{at}: {}: {}", x.summary, x.detail)
        })
        .collect()
}

/// (configuration, expected message, the attribute path it is reported at)
fn bad_corpus() -> Vec<(Value, &'static str, &'static str)> {
    use serde_json::json;
    let existing = |extra: serde_json::Value| {
        let mut vpc = json!({"id": VPC, "subnet_ids": [S1, S2]});
        for (k, v) in extra.as_object().unwrap() {
            vpc[k] = v.clone();
        }
        json!({ "vpc": [vpc] })
    };
    let many_tags: serde_json::Map<String, serde_json::Value> =
        (0..48).map(|i| (format!("k{i}"), json!("v"))).collect();
    let rn = |c: &[&str]| rnc(json!({ "remote_node_networks": nodes(c) }));
    vec![
        (config(json!({"name": "-bad"})), "not a valid EKS cluster name", "name"),
        (config(json!({"name": "a b"})), "not a valid EKS cluster name", "name"),
        (config(json!({"name": "c".repeat(101)})), "not a valid EKS cluster name", "name"),
        (config(json!({"name": "sg-demo"})), "EC2 refuses security group names that start with \"sg-\"", "name"),
        (config(json!({"authentication_mode": "CONFIG_MAP"})), "remoteNetworkConfig requires authenticationMode to be either", "authentication_mode"),
        (config(json!({"authentication_mode": "OIDC"})), "is not one of \"API\", \"API_AND_CONFIG_MAP\"", "authentication_mode"),
        (config(json!({"kubernetes_version": "1.33.1"})), "is not a Kubernetes minor version", "kubernetes_version"),
        (config(json!({"kubernetes_version": "latest"})), "is not a Kubernetes minor version", "kubernetes_version"),
        (config(json!({"endpoint_public_access": false, "endpoint_private_access": false})), "At least one of endpoint_public_access", "endpoint_public_access"),
        (config(json!({"service_ipv4_cidr": "10.100.0.0"})), "is not an IPv4 CIDR", "service_ipv4_cidr"),
        (config(json!({"service_ipv4_cidr": "8.8.0.0/16"})), "must be within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16", "service_ipv4_cidr"),
        (config(json!({"service_ipv4_cidr": "10.0.0.0/8"})), "with a prefix from /12 to /24", "service_ipv4_cidr"),
        (config(json!({"service_ipv4_cidr": "192.168.0.0/16"})), "overlaps the VPC CIDR 192.168.0.0/16", "service_ipv4_cidr"),
        (config(json!({"service_ipv4_cidr": "10.1.0.0/16"})), "overlaps the Kubernetes service CIDR 10.1.0.0/16", "remote_network_config[0].remote_node_networks[0].cidrs[0]"),
        (config(json!({"cluster_role_arn": "arn:aws:iam::123456789012:user/x"})), "is not an IAM role ARN", "cluster_role_arn"),
        (config(json!({"vpc": [{"cidr": "10.0.0.0/16", "id": VPC}]})), "Conflicting VPC settings", "vpc[0].cidr"),
        (config(json!({"vpc": [{"cidr": "10.0.0.0/8"}]})), "a VPC the provider lays out subnets in must be /16 to /24", "vpc[0].cidr"),
        (config(json!({"vpc": [{"cidr": "10.0.0.1/16"}]})), "has host bits set; did you mean 10.0.0.0/16", "vpc[0].cidr"),
        (config(json!({"vpc": [{"availability_zones": ["us-west-2a"]}]})), "give 2 or 3, not 1", "vpc[0].availability_zones"),
        (config(json!({"vpc": [{"availability_zones": ["a", "b", "c", "d"]}]})), "give 2 or 3, not 4", "vpc[0].availability_zones"),
        (config(json!({"vpc": [{"availability_zones": ["us-west-2a", "us-west-2a"]}]})), "\"us-west-2a\" is listed twice", "vpc[0].availability_zones[1]"),
        (config(json!({"vpc": [{"nat_gateway": "Double"}]})), "\"Double\" is not one of \"Single\"", "vpc[0].nat_gateway"),
        (config(existing(json!({"id": "vpc-123"}))), "\"vpc-123\" is not a VPC ID", "vpc[0].id"),
        (config(json!({"vpc": [{"id": VPC}]})), "A pre-existing VPC needs subnet_ids", "vpc[0].subnet_ids"),
        (config(existing(json!({"subnet_ids": [S1]}))), "give at least 2 subnet IDs", "vpc[0].subnet_ids"),
        (config(existing(json!({"subnet_ids": ["subnet-1", S2]}))), "\"subnet-1\" is not a subnet- ID", "vpc[0].subnet_ids[0]"),
        (config(existing(json!({"security_group_ids": ["sg-x"]}))), "\"sg-x\" is not a sg- ID", "vpc[0].security_group_ids[0]"),
        (config(json!({"vpc": [{"subnet_ids": [S1, S2]}]})), "set vpc.id too", "vpc[0].id"),
        (config(rnc(json!({"remote_pod_networks": nodes(&["10.2.0.0/24"])}))), "remoteNetworkConfig.remoteNodeNetworks must be set and non-empty", "remote_network_config[0].remote_node_networks"),
        (config(rn(&[])), "Give at least one CIDR", "remote_network_config[0].remote_node_networks[0].cidrs"),
        (config(rn(&["10.0.0.0/7"])), "is larger than /8", "remote_network_config[0].remote_node_networks[0].cidrs[0]"),
        (config(rn(&["172.32.0.0/16"])), "is not within RFC 1918", "remote_network_config[0].remote_node_networks[0].cidrs[0]"),
        (config(rn(&["8.8.8.0/24"])), "is not within RFC 1918", "remote_network_config[0].remote_node_networks[0].cidrs[0]"),
        (config(rn(&["100.128.0.0/16"])), "is not within RFC 1918 (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) or CGNAT (100.64.0.0/10)", "remote_network_config[0].remote_node_networks[0].cidrs[0]"),
        (config(rn(&["10.80.146.1/24"])), "did you mean 10.80.146.0/24", "remote_network_config[0].remote_node_networks[0].cidrs[0]"),
        (config(rn(&["192.168.1.0/24"])), "overlaps with VPC CIDR 192.168.0.0/16", "remote_network_config[0].remote_node_networks[0].cidrs[0]"),
        (config(json!({"service_ipv4_cidr": "10.100.0.0/16", "remote_network_config": [{"remote_node_networks": nodes(&["10.100.1.0/24"])}]})), "overlaps the Kubernetes service CIDR 10.100.0.0/16", "remote_network_config[0].remote_node_networks[0].cidrs[0]"),
        (config(rn(&["10.1.0.0/24", "10.1.0.128/25"])), "remote node CIDR 10.1.0.128/25 overlaps remote node CIDR 10.1.0.0/24", "remote_network_config[0].remote_node_networks[0].cidrs[1]"),
        (config(rn(&["not-a-cidr"])), "\"not-a-cidr\" is not an IPv4 CIDR", "remote_network_config[0].remote_node_networks[0].cidrs[0]"),
        (config(rn(&["10.1.0.0/33"])), "\"10.1.0.0/33\" is not an IPv4 CIDR", "remote_network_config[0].remote_node_networks[0].cidrs[0]"),
        (config(rnc(json!({"remote_node_networks": [{"cidrs": ["10.1.0.0/24"]}, {"cidrs": ["10.2.0.0/24"]}]}))), "only one remoteNodeNetwork is allowed", "remote_network_config[0].remote_node_networks[1]"),
        (config(rnc(json!({"remote_node_networks": nodes(&["10.1.0.0/24"]), "remote_pod_networks": [{"cidrs": ["10.2.0.0/24"]}, {"cidrs": ["10.3.0.0/24"]}]}))), "only one remotePodNetwork is allowed", "remote_network_config[0].remote_pod_networks[1]"),
        (config(rnc(json!({"remote_node_networks": nodes(&["10.1.0.0/16"]), "remote_pod_networks": nodes(&["10.1.4.0/24"])}))), "remote pod CIDR 10.1.4.0/24 overlaps remote node CIDR 10.1.0.0/16", "remote_network_config[0].remote_pod_networks[0].cidrs[0]"),
        (config(rnc(json!({"vpc_gateway_id": "tgw-xyz", "remote_node_networks": nodes(&["10.1.0.0/24"])}))), "only transit gateway (tgw-*) or virtual private gateway (vgw-*) IDs are supported", "remote_network_config[0].vpc_gateway_id"),
        (config(rnc(json!({"vpc_gateway_id": "TGW-0123456789ABCDEF0", "remote_node_networks": nodes(&["10.1.0.0/24"])}))), "only transit gateway (tgw-*)", "remote_network_config[0].vpc_gateway_id"),
        (config(rnc(json!({"vpc_gateway_id": "igw-0123456789abcdef0", "remote_node_networks": nodes(&["10.1.0.0/24"])}))), "only transit gateway (tgw-*)", "remote_network_config[0].vpc_gateway_id"),
        ({
            let mut c = existing(json!({}));
            c["remote_network_config"] = json!([{"vpc_gateway_id": "tgw-0123456789abcdef0", "remote_node_networks": nodes(&["10.1.0.0/24"])}]);
            config(c)
        }, "remoteNetworkConfig.vpcGatewayID is not supported when using pre-existing VPC", "remote_network_config[0].vpc_gateway_id"),
        (config(rnc(json!({"remote_node_networks": nodes(&["10.1.0.0/24"]), "iam": [{"provider": "ssm", "ca_bundle_cert": "x"}]}))), "caBundleCert is not supported when using SSM credentials provider", "remote_network_config[0].iam[0].ca_bundle_cert"),
        (config(rnc(json!({"remote_node_networks": nodes(&["10.1.0.0/24"]), "iam": [{"provider": "ira"}]}))), "caBundleCert is required when using IAMRolesAnywhere", "remote_network_config[0].iam[0].ca_bundle_cert"),
        (config(rnc(json!({"remote_node_networks": nodes(&["10.1.0.0/24"]), "iam": [{"provider": "kerberos"}]}))), "only \"ssm\" and \"ira\" are supported", "remote_network_config[0].iam[0].provider"),
        (config(rnc(ira("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))), "not valid X.509", "remote_network_config[0].iam[0].ca_bundle_cert"),
        (config(rnc(ira("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))), "is a private key", "remote_network_config[0].iam[0].ca_bundle_cert"),
        (config(rnc(ira(&leaf_pem()))), "is not a CA certificate", "remote_network_config[0].iam[0].ca_bundle_cert"),
        (config(rnc(json!({"remote_node_networks": nodes(&["10.1.0.0/24"]), "iam": [{"provider": "ira", "ca_bundle_cert": common::ca_pem(), "acm_pca_arn": PCA}]}))), "either ca_bundle_cert (a CA certificate bundle) or acm_pca_arn (an AWS Private CA), not both", "remote_network_config[0].iam[0].acm_pca_arn"),
        (config(rnc(json!({"remote_node_networks": nodes(&["10.1.0.0/24"]), "iam": [{"provider": "ssm", "acm_pca_arn": PCA}]}))), "acm_pca_arn makes an IAM Roles Anywhere trust anchor: set provider = \"IRA\"", "remote_network_config[0].iam[0].acm_pca_arn"),
        (config(rnc(json!({"remote_node_networks": nodes(&["10.1.0.0/24"]), "iam": [{"provider": "ira", "acm_pca_arn": "arn:aws:acm-pca:::template/RootCACertificate/V1"}]}))), "is not an AWS Private CA ARN", "remote_network_config[0].iam[0].acm_pca_arn"),
        (config(rnc(json!({"remote_node_networks": nodes(&["10.1.0.0/24"]), "iam": [{"provider": "ira", "acm_pca_arn": "12345678-1234-1234-1234-123456789012"}]}))), "is not an AWS Private CA ARN", "remote_network_config[0].iam[0].acm_pca_arn"),
        (config(rnc(ira(&format!("{}\n", "x".repeat(204_801))))), "accepts at most 204800", "remote_network_config[0].iam[0].ca_bundle_cert"),
        (config(rnc(json!({"remote_node_networks": nodes(&["10.1.0.0/24"]), "iam": [{"role_arn": "arn:aws:iam::12345:role/x"}]}))), "is not an IAM role ARN", "remote_network_config[0].iam[0].role_arn"),
        ({
            let mut c = rnc(ira(&common::ca_pem()));
            c["tags"] = json!({"team": "a,b"});
            config(c)
        }, "Roles Anywhere allows only letters, digits, spaces and _.:/=+@-", "tags[\"team\"]"),
        (config(json!({"tags": many_tags})), "exceed the 50 tags EC2 allows on an object", "tags"),
        (config(json!({"tags": {"team": "R&D"}})), "IAM allows only letters, digits and spaces of any script and _.:/=+-@", "tags[\"team\"]"),
        (config(json!({"tags": {"aws:owner": "me"}})), "keys that begin with aws: are reserved", "tags[\"aws:owner\"]"),
        ({
            let mut c = rnc(json!({"remote_node_networks": nodes(&["10.1.0.0/24"]), "iam": [{"role_arn": "arn:aws:iam::123456789012:role/nodes"}]}));
            c["cluster_role_arn"] = json!("arn:aws:iam::123456789012:role/cluster");
            c["ssm_activation"] = json!([{"registration_limit": 2}]);
            c["tags"] = json!({"team": "R&D"});
            config(c)
        }, "SSM allows only letters, digits and spaces of any script and _.:/=+-@", "tags[\"team\"]"),
        (config(json!({"timeouts": [{"create": "forever"}]})), "\"forever\" is not a duration", "timeouts[0].create"),
        (config(json!({"timeouts": [{"delete": "0s"}]})), "\"0s\" is not a duration", "timeouts[0].delete"),
        (config(json!({"ssm_activation": [{"registration_limit": 0}]})), "0 is outside what SSM accepts: 1 to 1000 nodes", "ssm_activation[0].registration_limit"),
        (config(json!({"ssm_activation": [{"registration_limit": 1001}]})), "1001 is outside what SSM accepts", "ssm_activation[0].registration_limit"),
        (config(json!({"ssm_activation": [{"expiration": "tomorrow"}]})), "\"tomorrow\" is not an RFC 3339 time", "ssm_activation[0].expiration"),
        (config(json!({"ssm_activation": [{"expiration": "2020-01-01T00:00:00Z"}]})), "2020-01-01T00:00:00Z is in the past", "ssm_activation[0].expiration"),
        (config(json!({"ssm_activation": [{"expiration": "2099-01-01T00:00:00Z"}]})), "more than 30 days ahead, the longest SSM allows", "ssm_activation[0].expiration"),
        ({
            let mut c = rnc(ira(&common::ca_pem()));
            c["ssm_activation"] = json!([{}]);
            config(c)
        }, "ssm_activation needs remote_network_config.iam.provider = \"SSM\"", "ssm_activation"),
    ]
}

#[tokio::test]
async fn every_bad_configuration_is_refused_at_its_attribute() {
    let s = server(serde_json::json!({})).await;
    let cases = bad_corpus();
    for (config, expected, path) in &cases {
        let d = check(&s, config).await;
        let found = errors(&d);
        assert!(
            found
                .iter()
                .any(|e| e.starts_with(&format!("{path}: ")) && e.contains(expected)),
            "expected {expected:?} at {path}, got {found:#?}"
        );
    }
    println!(
        "{} bad configurations refused in process, each at its attribute",
        cases.len()
    );
}

/// What AWS accepts today must not be refused: CGNAT remote networks (EKS, May 2026), CA
/// bundles past the 8,000 characters older API pages gave (botocore's model allows 204,800),
/// Roles Anywhere tags within its pattern, a name that merely contains "sg-", and a VPC
/// gateway, public and private access, a pre-existing VPC.
#[tokio::test]
async fn configurations_aws_accepts_pass() {
    use serde_json::json;
    let bundle: String = (0..20).map(|_| common::ca_pem()).collect();
    assert!(bundle.len() > 8000);
    let s = server(json!({})).await;
    let cases = [
        config(rnc(
            json!({"remote_node_networks": nodes(&["100.64.0.0/16"])}),
        )),
        {
            let mut c = rnc(json!({
                "remote_node_networks": nodes(&["100.64.10.0/24"]),
                "remote_pod_networks": nodes(&["100.65.0.0/16"]),
                "iam": [{"provider": "ira", "ca_bundle_cert": bundle}],
            }));
            c["name"] = json!("big-bundle-sg-x");
            c["tags"] = json!({"team": "a b:c/d=e+f@g-h_i.j"});
            config(c)
        },
        config(rnc(json!({
            "remote_node_networks": nodes(&["10.1.0.0/24"]),
            "iam": [{"provider": "ira", "acm_pca_arn": PCA}],
        }))),
        config(rnc(
            json!({"vpc_gateway_id": "tgw-0123456789abcdef0", "remote_node_networks": nodes(&["10.80.146.0/24"]), "remote_pod_networks": nodes(&["10.86.30.0/23"])}),
        )),
        config(
            json!({"vpc": [{"id": VPC, "subnet_ids": [S1, S2], "security_group_ids": ["sg-0123456789abcdef0"]}], "kubernetes_version": "1.33"}),
        ),
        config(
            json!({"vpc": [{"cidr": "10.0.0.0/16", "availability_zones": ["us-east-1b", "us-east-1c", "us-east-1d"], "nat_gateway": "HighlyAvailable"}], "remote_network_config": [{"remote_node_networks": nodes(&["172.16.0.0/16"])}]}),
        ),
        config(
            json!({"ssm_activation": [{"registration_limit": 1000}], "timeouts": [{"create": "1h30m"}]}),
        ),
        // EKS and EC2 take any character: with both roles brought, no IAM object is tagged.
        {
            let mut c = rnc(
                json!({"remote_node_networks": nodes(&["10.1.0.0/24"]), "iam": [{"role_arn": "arn:aws:iam::123456789012:role/nodes"}]}),
            );
            c["cluster_role_arn"] = json!("arn:aws:iam::123456789012:role/cluster");
            c["tags"] = json!({"team": "R&D", "équipe": "plateforme été"});
            config(c)
        },
        // IAM and SSM take letters of any script.
        config(
            json!({"tags": {"équipe": "plateforme"}, "ssm_activation": [{"registration_limit": 2}]}),
        ),
    ];
    for c in &cases {
        let d = check(&s, c).await;
        assert!(errors(&d).is_empty(), "{:#?}", errors(&d));
    }
}

/// Where AWS's rule is not written down, the provider warns rather than refuses: with the
/// service CIDR unset EKS picks "either 10.100.0.0/16 or 172.20.0.0/16" (EKS API reference),
/// so a remote network in either is a warning at its attribute. Security group names may not
/// start with `sg-` as written (EC2 API reference; `^sg-` in the Terraform AWS provider): no
/// source says `SG-` is refused too.
#[tokio::test]
async fn what_aws_does_not_document_is_a_warning_or_allowed() {
    use serde_json::json;
    let s = server(json!({})).await;
    for (cidr, vpc) in [
        ("10.100.1.0/24", "192.168.0.0/16"),
        ("172.20.5.0/24", "192.168.0.0/16"),
        ("172.20.5.0/24", "10.0.0.0/16"),
    ] {
        let c = config(
            json!({"vpc": [{"cidr": vpc}], "remote_network_config": [{"remote_node_networks": nodes(&[cidr])}]}),
        );
        let d = check(&s, &c).await;
        assert!(errors(&d).is_empty(), "{cidr}: {:#?}", errors(&d));
        let warned = d.0.iter().any(|x| {
            x.severity == Severity::Warning
                && x.summary == "Remote network may overlap the service CIDR"
                && x.path.as_ref().map(ToString::to_string).as_deref()
                    == Some("remote_network_config[0].remote_node_networks[0].cidrs[0]")
        });
        assert!(warned, "{cidr} in a {vpc} VPC: {d:?}");
    }
    let clear = config(rnc(
        json!({"remote_node_networks": nodes(&["10.80.146.0/24"])}),
    ));
    let d = check(&s, &clear).await;
    assert!(
        !d.0.iter().any(|x| x.summary.contains("service CIDR")),
        "no warning without an overlap: {d:?}"
    );
    let upper = config(json!({"name": "SG-demo"}));
    let d = check(&s, &upper).await;
    assert!(errors(&d).is_empty(), "{:#?}", errors(&d));
}

/// Values from other resources are unknown at validate time: checks wait for them, and run
/// once they are known.
#[tokio::test]
async fn unknown_values_are_deferred_not_rejected() {
    use serde_json::json;
    let s = server(json!({})).await;
    let c = config(json!({
        "name": UNKNOWN,
        "service_ipv4_cidr": UNKNOWN,
        "cluster_role_arn": UNKNOWN,
        "tags": {"team": UNKNOWN},
        "vpc": [{"cidr": UNKNOWN, "availability_zones": UNKNOWN}],
        "remote_network_config": [{
            "vpc_gateway_id": UNKNOWN,
            "remote_node_networks": [{"cidrs": [UNKNOWN]}],
            "iam": [{"provider": UNKNOWN, "ca_bundle_cert": UNKNOWN, "role_arn": UNKNOWN}],
        }],
    }));
    assert_eq!(s.validate_resource_config(TYPE, &c), Diagnostics::default());
    let mut known = c.clone();
    known.set("name", Value::string("bad name"));
    assert!(s.validate_resource_config(TYPE, &known).has_errors());
    // A `dynamic` block whose for_each is not known yet arrives wholly unknown.
    let mut dynamic = config(json!({}));
    dynamic.set("vpc", Value::Unknown);
    dynamic.set("remote_network_config", Value::Unknown);
    assert_eq!(
        s.validate_resource_config(TYPE, &dynamic),
        Diagnostics::default()
    );
}

/// A client that announces `deferral_allowed` (protocol 6.6; no released Terraform or
/// OpenTofu does yet, see the README's compatibility section) gets a deferral when the
/// provider's own configuration is unknown; one that does not gets today's plan, with the
/// values only AWS knows left unknown.
#[tokio::test]
async fn an_unknown_provider_configuration_defers_only_when_the_client_allows_it() {
    use serde_json::json;
    use tfplugin6::resource::{ClientCapabilities, ReadRequest};
    use tfplugin6::Deferral;
    let s = server(json!({})).await;
    let c = config(json!({}));
    let plan = |deferral_allowed| {
        s.plan_resource_change(
            TYPE,
            PlanInput {
                prior: Value::Null,
                proposed: c.clone(),
                config: c.clone(),
                prior_private: vec![],
                client: ClientCapabilities { deferral_allowed },
                prior_identity: Value::Null,
            },
        )
    };
    let allowed = plan(true).await;
    assert_eq!(allowed.deferred, Some(Deferral::ProviderConfigUnknown));
    assert!(
        !allowed.diagnostics.has_errors(),
        "{:?}",
        allowed.diagnostics
    );
    let not_allowed = plan(false).await;
    assert_eq!(not_allowed.deferred, None);
    assert!(!not_allowed.diagnostics.has_errors());
    assert_eq!(not_allowed.planned.get("arn"), &Value::Unknown);

    let read = |deferral_allowed| {
        s.read_resource(
            TYPE,
            ReadRequest {
                state: Value::Null,
                private: vec![],
                client: ClientCapabilities { deferral_allowed },
                identity: Value::Null,
            },
        )
    };
    assert_eq!(
        read(true).await.deferred,
        Some(Deferral::ProviderConfigUnknown)
    );
    let refused = read(false).await;
    assert_eq!(refused.deferred, None);
    assert!(
        refused.diagnostics.has_errors(),
        "a read without AWS must say why"
    );
}

/// Tag rules apply again at plan to `tags` merged with the provider's `default_tags`, which
/// only plan knows.
#[tokio::test]
async fn default_tags_are_held_to_the_tag_rules_at_plan() {
    use serde_json::json;
    let s = server(json!({"cost center": "a,b"})).await;
    let c = config(rnc(ira(&common::ca_pem())));
    assert!(!s.validate_resource_config(TYPE, &c).has_errors());
    let found = errors(&check(&s, &c).await);
    assert!(
        found
            .iter()
            .any(|e| e.starts_with("tags[\"cost center\"]: Tag not allowed by IAM Roles Anywhere")),
        "{found:#?}"
    );
}

/// A default tag not known at plan (`default_tags { tags = { Owner = terraform_data.x.output } }`)
/// plans `tags_all` unknown: a known map without it would be "inconsistent final plan" at
/// apply (hashicorp/terraform-provider-aws#40065). Known default tags merge as before.
#[tokio::test]
async fn an_unknown_default_tag_plans_tags_all_unknown() {
    use serde_json::json;
    let plan_tags_all = |s: Server| async move {
        let c = config(json!({"tags": {"team": "platform"}}));
        let plan = s
            .plan_resource_change(
                TYPE,
                PlanInput {
                    prior: Value::Null,
                    proposed: c.clone(),
                    config: c,
                    prior_private: vec![],
                    client: Default::default(),
                    prior_identity: Value::Null,
                },
            )
            .await;
        assert!(!plan.diagnostics.has_errors(), "{:?}", plan.diagnostics);
        plan.planned.get("tags_all").clone()
    };
    let unknown = plan_tags_all(server(json!({"Owner": UNKNOWN, "env": "prod"})).await).await;
    assert!(unknown.is_unknown(), "{unknown:?}");
    let known = plan_tags_all(server(json!({"env": "prod"})).await).await;
    assert_eq!(
        known,
        to_value(&json!({"env": "prod", "team": "platform"})),
        "known default tags merge under the resource's"
    );
}

mod fuzz {
    //! Seeded random configurations of the right types from pools of valid, invalid, null and
    //! unknown values: validation never panics, is deterministic, and refuses every node CIDR
    //! outside the ranges EKS accepts.
    use super::*;
    use rand::seq::IndexedRandom;
    use rand::{Rng, SeedableRng};
    use tfplugin6::schema::{Block, Type};

    const STRINGS: &[&str] = &[
        "",
        "10.80.146.0/24",
        "10.80.146.1/24",
        "192.168.0.0/16",
        "8.8.8.0/24",
        "10.0.0.0/7",
        "x/y",
        "tgw-0123456789abcdef0",
        "igw-1",
        "SSM",
        "ira",
        "kerberos",
        "CONFIG_MAP",
        "arn:aws:iam::123456789012:role/x",
        "1.33",
        "40m",
        "0s",
        "🦀",
        "vpc-0123456789abcdef0",
        "subnet-0123456789abcdef0",
        "Single",
        "-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n",
    ];

    fn scalar(ty: &Type, rng: &mut rand::rngs::StdRng) -> Value {
        match rng.random_range(0..10) {
            0 => return Value::Null,
            1 => return Value::Unknown,
            _ => {}
        }
        match ty {
            Type::Bool => Value::Bool(rng.random()),
            Type::Number => {
                Value::Number(tfplugin6::value::Number::Int(rng.random_range(-5..2000)))
            }
            Type::Map(_) => Value::string_map([("team", *STRINGS.choose(rng).unwrap())]),
            Type::List(inner) | Type::Set(inner) => Value::List(
                (0..rng.random_range(0..4))
                    .map(|_| scalar(inner, rng))
                    .collect(),
            ),
            Type::String => Value::string(*STRINGS.choose(rng).unwrap()),
        }
    }

    fn fill(block: &Block, rng: &mut rand::rngs::StdRng, depth: u32) -> Value {
        let mut v = block.null_object();
        for a in block
            .attributes
            .iter()
            .filter(|a| !a.computed || a.optional)
        {
            v.set(&a.name, scalar(&a.ty, rng));
        }
        for b in &block.blocks {
            let n = if depth == 0 {
                0
            } else {
                rng.random_range(0..3)
            };
            v.set(
                &b.name,
                Value::List((0..n).map(|_| fill(&b.block, rng, depth - 1)).collect()),
            );
        }
        v
    }

    #[test]
    fn random_configurations_never_panic_and_are_deterministic() {
        let s = terraform_provider_eks::server();
        let block = terraform_provider_eks::resource::hybrid_cluster::model::schema().block;
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut with_errors = 0;
        for _ in 0..3000 {
            let c = fill(&block, &mut rng, 3);
            let d = s.validate_resource_config(TYPE, &c);
            assert_eq!(d, s.validate_resource_config(TYPE, &c));
            with_errors += usize::from(d.has_errors());
        }
        assert!(with_errors > 100, "{with_errors}");
    }

    #[test]
    fn every_node_cidr_outside_what_eks_accepts_is_refused() {
        let s = terraform_provider_eks::server();
        let cgnat: ipnet::Ipv4Net = "100.64.0.0/10".parse().unwrap();
        let private: Vec<ipnet::Ipv4Net> = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
            .iter()
            .map(|r| r.parse().unwrap())
            .collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let mut checked = 0;
        while checked < 2000 {
            let ip = std::net::Ipv4Addr::from(rng.random::<u32>());
            let net = ipnet::Ipv4Net::new(ip, rng.random_range(8..=32u8))
                .unwrap()
                .trunc();
            if cgnat.contains(&net) || private.iter().any(|p| p.contains(&net)) {
                continue;
            }
            let c = config(rnc(serde_json::json!({
                "remote_node_networks": nodes(&[&net.to_string()]),
            })));
            assert!(
                s.validate_resource_config(TYPE, &c).has_errors(),
                "{net} was accepted"
            );
            checked += 1;
        }
    }
}
