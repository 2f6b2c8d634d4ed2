//! AWS clients and one module per service, each with its find/status/wait helpers.

pub mod acmpca;
mod call_log;
pub mod ec2;
pub mod eks;
pub mod error;
pub mod iam;
pub mod rolesanywhere;
pub mod settings;
pub mod ssm;
pub mod sts;
pub mod wait;

use aws_config::BehaviorVersion;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

pub use settings::Settings;

#[derive(Clone, Debug)]
pub struct AwsClients {
    pub acmpca: aws_sdk_acmpca::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub eks: aws_sdk_eks::Client,
    pub iam: aws_sdk_iam::Client,
    pub rolesanywhere: aws_sdk_rolesanywhere::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub sts: aws_sdk_sts::Client,
    pub region: String,
}

const DEFAULT_MAX_RETRIES: u32 = 25;

impl AwsClients {
    /// Builds clients without calling AWS: credentials resolve lazily on the first call.
    pub async fn connect(cfg: &Settings) -> AwsClients {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let retries = cfg.max_retries.unwrap_or(DEFAULT_MAX_RETRIES);
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .retry_config(
                aws_config::retry::RetryConfig::standard().with_max_attempts(retries + 1),
            );
        if let Some(region) = &cfg.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(profile) = &cfg.profile {
            loader = loader.profile_name(profile);
        }
        if !cfg.shared_config_files.is_empty() {
            let mut files = aws_runtime::env_config::file::EnvConfigFiles::builder();
            for f in &cfg.shared_config_files {
                files =
                    files.with_file(aws_runtime::env_config::file::EnvConfigFileKind::Config, f);
            }
            loader = loader.profile_files(files.build());
        }
        let mut sdk = loader.load().await;
        if let Some(role) = &cfg.assume_role {
            let mut provider = aws_config::sts::AssumeRoleProvider::builder(&role.role_arn)
                .session_name(
                    role.session_name
                        .clone()
                        .unwrap_or_else(|| "terraform-provider-eks".into()),
                )
                .configure(&sdk);
            if let Some(id) = &role.external_id {
                provider = provider.external_id(id);
            }
            let provider = provider.build().await;
            sdk = sdk
                .into_builder()
                .credentials_provider(
                    aws_credential_types::provider::SharedCredentialsProvider::new(provider),
                )
                .build();
        }
        let endpoint = |svc: &str| cfg.endpoints.get(svc).cloned();
        macro_rules! client {
            ($krate:ident, $svc:literal) => {{
                let mut b = $krate::config::Builder::from(&sdk).interceptor(call_log::CallLog);
                if let Some(url) = endpoint($svc) {
                    b = b.endpoint_url(url);
                }
                $krate::Client::from_conf(b.build())
            }};
        }
        AwsClients {
            acmpca: client!(aws_sdk_acmpca, "acmpca"),
            ec2: client!(aws_sdk_ec2, "ec2"),
            eks: client!(aws_sdk_eks, "eks"),
            iam: client!(aws_sdk_iam, "iam"),
            rolesanywhere: client!(aws_sdk_rolesanywhere, "rolesanywhere"),
            ssm: client!(aws_sdk_ssm, "ssm"),
            sts: client!(aws_sdk_sts, "sts"),
            region: sdk.region().map(|r| r.to_string()).unwrap_or_default(),
        }
    }
}

pub use error::{ignore_not_found, AwsError, AwsResult, ErrorKind};
