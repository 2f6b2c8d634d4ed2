//! The bad-input corpus: each configuration goes through real `terraform validate` and
//! `terraform plan`; each must fail with the expected message pointing at a line of main.tf,
//! and the testbed's call log must show that no AWS call was made.

mod common;

use common::{Workspace, TF_NEW};

const VPC: &str = "vpc-0123456789abcdef0";
const S1: &str = "subnet-0123456789abcdef0";
const S2: &str = "subnet-0123456789abcdef1";

fn leaf_pem() -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    rcgen::CertificateParams::new(vec!["node".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap()
        .pem()
}

/// `body` of the resource; `rnc` a remote_network_config body (a default one when empty).
fn resource(body: &str, rnc: &str) -> String {
    let rnc = if rnc.is_empty() {
        r#"remote_node_networks { cidrs = ["10.1.0.0/24"] }"#
    } else {
        rnc
    };
    format!("resource \"eks_hybrid_cluster\" \"bad\" {{\n  {body}\n  remote_network_config {{\n    {rnc}\n  }}\n}}\n")
}

fn corpus() -> Vec<(String, &'static str)> {
    let named = |extra: &str| format!("name = \"bad\"\n  {extra}");
    let existing_vpc =
        format!("vpc {{\n    id = \"{VPC}\"\n    subnet_ids = [\"{S1}\", \"{S2}\"]\n  }}");
    let ira = |cert: &str| {
        format!("remote_node_networks {{ cidrs = [\"10.1.0.0/24\"] }}\n    iam {{\n      provider = \"ira\"\n      ca_bundle_cert = <<-PEM\n{cert}PEM\n    }}")
    };
    vec![
        (resource("name = \"-bad\"", ""), "not a valid EKS cluster name"),
        (resource("name = \"a b\"", ""), "not a valid EKS cluster name"),
        (resource(&format!("name = \"{}\"", "c".repeat(101)), ""), "not a valid EKS cluster name"),
        (resource(&named("authentication_mode = \"CONFIG_MAP\""), ""), "remoteNetworkConfig requires authenticationMode to be either"),
        (resource(&named("authentication_mode = \"OIDC\""), ""), "is not one of \"API\", \"API_AND_CONFIG_MAP\""),
        (resource(&named("kubernetes_version = \"1.33.1\""), ""), "is not a Kubernetes minor version"),
        (resource(&named("kubernetes_version = \"latest\""), ""), "is not a Kubernetes minor version"),
        (resource(&named("endpoint_public_access = false\n  endpoint_private_access = false"), ""), "At least one of endpoint_public_access"),
        (resource(&named("service_ipv4_cidr = \"10.100.0.0\""), ""), "is not an IPv4 CIDR"),
        (resource(&named("service_ipv4_cidr = \"8.8.0.0/16\""), ""), "must be within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"),
        (resource(&named("service_ipv4_cidr = \"10.0.0.0/8\""), ""), "with a prefix from /12 to /24"),
        (resource(&named("service_ipv4_cidr = \"192.168.0.0/16\""), ""), "overlaps the VPC CIDR 192.168.0.0/16"),
        (resource(&named("service_ipv4_cidr = \"10.1.0.0/16\""), ""), "overlaps the Kubernetes service CIDR 10.1.0.0/16"),
        (resource(&named("cluster_role_arn = \"arn:aws:iam::123456789012:user/x\""), ""), "is not an IAM role ARN"),
        (resource(&named(&format!("vpc {{\n    cidr = \"10.0.0.0/16\"\n    id = \"{VPC}\"\n  }}")), ""), "Conflicting VPC settings"),
        (resource(&named("vpc { cidr = \"10.0.0.0/8\" }"), ""), "a VPC the provider lays out subnets in must be /16 to /24"),
        (resource(&named("vpc { cidr = \"10.0.0.1/16\" }"), ""), "has host bits set; did you mean 10.0.0.0/16"),
        (resource(&named("vpc { availability_zones = [\"us-west-2a\"] }"), ""), "give 2 or 3, not 1"),
        (resource(&named("vpc { availability_zones = [\"a\", \"b\", \"c\", \"d\"] }"), ""), "give 2 or 3, not 4"),
        (resource(&named("vpc { availability_zones = [\"us-west-2a\", \"us-west-2a\"] }"), ""), "\"us-west-2a\" is listed twice"),
        (resource(&named("vpc { nat_gateway = \"Double\" }"), ""), "\"Double\" is not one of \"Single\""),
        (resource(&named(&format!("vpc {{\n    id = \"vpc-123\"\n    subnet_ids = [\"{S1}\", \"{S2}\"]\n  }}")), ""), "\"vpc-123\" is not a VPC ID"),
        (resource(&named(&format!("vpc {{ id = \"{VPC}\" }}")), ""), "A pre-existing VPC needs subnet_ids"),
        (resource(&named(&format!("vpc {{\n    id = \"{VPC}\"\n    subnet_ids = [\"{S1}\"]\n  }}")), ""), "give at least 2 subnet IDs"),
        (resource(&named(&format!("vpc {{\n    id = \"{VPC}\"\n    subnet_ids = [\"subnet-1\", \"{S2}\"]\n  }}")), ""), "\"subnet-1\" is not a subnet- ID"),
        (resource(&named(&format!("vpc {{ subnet_ids = [\"{S1}\", \"{S2}\"] }}")), ""), "set vpc.id too"),
        (resource(&named(""), "remote_pod_networks { cidrs = [\"10.2.0.0/24\"] }"), "remoteNetworkConfig.remoteNodeNetworks must be set and non-empty"),
        (resource(&named(""), "remote_node_networks { cidrs = [] }"), "Give at least one CIDR"),
        (resource(&named(""), "remote_node_networks { cidrs = [\"10.0.0.0/7\"] }"), "is larger than /8"),
        (resource(&named(""), "remote_node_networks { cidrs = [\"172.32.0.0/16\"] }"), "is not within RFC 1918"),
        (resource(&named(""), "remote_node_networks { cidrs = [\"100.128.0.0/16\"] }"), "is not within RFC 1918 (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) or CGNAT (100.64.0.0/10)"),
        (resource(&named(""), "remote_node_networks { cidrs = [\"10.1.0.0/24\", \"10.1.0.128/25\"] }"), "remote node CIDR 10.1.0.128/25 overlaps remote node CIDR 10.1.0.0/24"),
        (resource(&named(""), "remote_node_networks { cidrs = [\"not-a-cidr\"] }"), "\"not-a-cidr\" is not an IPv4 CIDR"),
        (resource(&named(""), "remote_node_networks { cidrs = [\"10.1.0.0/33\"] }"), "\"10.1.0.0/33\" is not an IPv4 CIDR"),
        (resource(&named(""), "remote_node_networks { cidrs = [\"10.1.0.0/24\"] }\n    remote_pod_networks { cidrs = [\"10.2.0.0/24\"] }\n    remote_pod_networks { cidrs = [\"10.3.0.0/24\"] }"), "only one remotePodNetwork is allowed"),
        (resource(&named(""), "vpc_gateway_id = \"tgw-xyz\"\n    remote_node_networks { cidrs = [\"10.1.0.0/24\"] }"), "only transit gateway (tgw-*) or virtual private gateway (vgw-*) IDs are supported"),
        (resource(&named(""), "vpc_gateway_id = \"TGW-0123456789ABCDEF0\"\n    remote_node_networks { cidrs = [\"10.1.0.0/24\"] }"), "only transit gateway (tgw-*)"),
        (resource(&named(&existing_vpc), "vpc_gateway_id = \"tgw-0123456789abcdef0\"\n    remote_node_networks { cidrs = [\"10.1.0.0/24\"] }"), "remoteNetworkConfig.vpcGatewayID is not supported when using pre-existing VPC"),
        (resource(&named(""), "remote_node_networks { cidrs = [\"10.1.0.0/24\"] }\n    iam {\n      provider = \"ssm\"\n      ca_bundle_cert = \"x\"\n    }"), "caBundleCert is not supported when using SSM credentials provider"),
        (resource(&named(""), &ira("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")), "is a private key"),
        (resource(&named(""), &ira(&leaf_pem())), "is not a CA certificate"),
        (resource(&named(""), &ira(&format!("{}\n", "x".repeat(204_801)))), "accepts at most 204800"),
        (resource("name = \"sg-demo\"", ""), "EC2 refuses security group names that start with \"sg-\""),
        (resource(&named("tags = { team = \"a,b\" }"), &ira(&common::ca_pem())), "Roles Anywhere allows only letters, digits, spaces and _.:/=+@-"),
        (resource(&named(&format!("tags = {{ {} }}", (0..48).map(|i| format!("k{i} = \"v\"")).collect::<Vec<_>>().join(", "))), ""), "exceed the 50 tags EC2 allows on an object"),
        (resource(&named(""), "remote_node_networks { cidrs = [\"10.1.0.0/24\"] }\n    iam { role_arn = \"arn:aws:iam::12345:role/x\" }"), "is not an IAM role ARN"),
        (resource(&named("timeouts { create = \"forever\" }"), ""), "\"forever\" is not a duration"),
        (resource(&named("timeouts { delete = \"0s\" }"), ""), "\"0s\" is not a duration"),
        (resource(&named("ssm_activation { registration_limit = 0 }"), ""), "0 is outside what SSM accepts: 1 to 1000 nodes"),
        (resource(&named("ssm_activation { registration_limit = 1001 }"), ""), "1001 is outside what SSM accepts"),
        (resource(&named("ssm_activation { expiration = \"tomorrow\" }"), ""), "\"tomorrow\" is not an RFC 3339 time"),
        (resource(&named("ssm_activation { expiration = \"2020-01-01T00:00:00Z\" }"), ""), "2020-01-01T00:00:00Z is in the past"),
        (resource(&named("ssm_activation { expiration = \"2099-01-01T00:00:00Z\" }"), ""), "more than 30 days ahead, the longest SSM allows"),
        (resource(&named("ssm_activation {}"), &ira(&common::ca_pem())), "ssm_activation needs remote_network_config.iam.provider = \"SSM\""),
    ]
}

/// What AWS accepts today must not be refused: CGNAT remote networks (EKS, May 2026), CA
/// bundles past the 8,000 characters older API pages gave (botocore's model allows 204,800),
/// Roles Anywhere tags within its pattern, and a cluster name that merely contains "sg-".
#[test]
fn configurations_aws_accepts_pass_validate_and_plan_without_aws_calls() {
    let tb = common::testbed();
    let bundle: String = (0..20).map(|_| common::ca_pem()).collect();
    assert!(bundle.len() > 8000);
    let ira = |cert: &str| {
        format!("remote_node_networks {{ cidrs = [\"100.64.10.0/24\"] }}\n    remote_pod_networks {{ cidrs = [\"100.65.0.0/16\"] }}\n    iam {{\n      provider = \"ira\"\n      ca_bundle_cert = <<-PEM\n{cert}PEM\n    }}")
    };
    let cases = [
        resource(
            "name = \"cgnat\"",
            "remote_node_networks { cidrs = [\"100.64.0.0/16\"] }",
        ),
        resource(
            "name = \"big-bundle-sg-x\"\n  tags = { team = \"a b:c/d=e+f@g-h_i.j\" }",
            &ira(&bundle),
        ),
    ];
    let ws = Workspace::new(TF_NEW, &tb, &cases[0]);
    for config in &cases {
        ws.write(config);
        let validate = ws.run(&["validate", "-no-color"]);
        assert_eq!(validate.code, 0, "{}", validate.all());
        let plan = ws.run(&["plan", "-input=false", "-no-color"]);
        assert_eq!(plan.code, 0, "{}", plan.all());
    }
    assert!(tb.calls().is_empty(), "{:?}", tb.calls());
}

#[test]
fn every_bad_configuration_fails_at_validate_and_plan_without_aws_calls() {
    let tb = common::testbed();
    let cases = corpus();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let ws = Workspace::new(TF_NEW, &tb, &cases[0].0);
    for (config, expected) in &cases {
        ws.write(config);
        let config: String = config.chars().take(400).collect();
        for cmd in [
            &["validate", "-no-color"][..],
            &["plan", "-input=false", "-no-color"][..],
        ] {
            let r = ws.run(cmd);
            assert_eq!(r.code, 1, "{cmd:?} should fail for:\n{config}\n{}", r.all());
            let text = r.text();
            assert!(
                text.contains(expected),
                "{cmd:?}: expected {expected:?} for:\n{config}\ngot:\n{}",
                r.all()
            );
            assert!(
                text.contains("on main.tf line"),
                "the error points at the configuration:\n{}",
                r.all()
            );
        }
    }
    assert!(
        tb.calls().is_empty(),
        "bad input must make no AWS call, saw {:?}",
        tb.calls()
    );
    println!(
        "{} bad configurations rejected at validate and plan, 0 AWS calls",
        cases.len()
    );
}
