//! What the testbed's own tests share: starting it, and SDK clients pointed at it.
#![allow(dead_code)]

use std::path::PathBuf;

pub use aws_testbed::harness::Testbed;

pub fn start(args: &[&str]) -> Testbed {
    let moto = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/moto_server");
    Testbed::start(
        &PathBuf::from(env!("CARGO_BIN_EXE_aws-testbed")),
        &moto,
        args,
    )
}

pub async fn sdk_in(tb: &Testbed, region: &str) -> aws_config::SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .endpoint_url(&tb.url)
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await
}

pub async fn sdk(tb: &Testbed) -> aws_config::SdkConfig {
    sdk_in(tb, "us-west-2").await
}

pub fn ca_pem(is_ca: bool) -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    if is_ca {
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    }
    params.self_signed(&key).unwrap().pem()
}

/// A role trusting `service`, with `policies` attached.
pub async fn role(
    iam: &aws_sdk_iam::Client,
    name: &str,
    service: &str,
    policies: &[&str],
) -> String {
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let arn = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string();
    for p in policies {
        iam.attach_role_policy()
            .role_name(name)
            .policy_arn(format!("arn:aws:iam::aws:policy/{p}"))
            .send()
            .await
            .unwrap();
    }
    arn
}
