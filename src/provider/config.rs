//! `provider "eks" { … }`: schema, validation and the AWS SDK configuration it yields.

use std::collections::BTreeMap;

use crate::aws::AwsClients;
use crate::plugin::schema::{Attribute, Block, NestedBlock, Schema, Type};
use crate::plugin::{AttrPath, Diagnostics, Value};

pub const SERVICES: [&str; 6] = ["ec2", "eks", "iam", "sts", "rolesanywhere", "ssm"];

pub fn schema() -> Schema {
    let s = |n: &str, d: &str| Attribute::new(n, Type::String, d).optional();
    let mut endpoints = Block::new("Custom endpoint URLs per service (also read from `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`).");
    for service in SERVICES {
        endpoints = endpoints.attribute(s(service, &format!("Endpoint URL for {service}.")));
    }
    Schema {
        version: 0,
        block: Block::new("Credentials follow the standard AWS chain (environment, shared config and credentials files, SSO, IMDS/ECS).")
            .attribute(s("region", "AWS region. Default: `AWS_REGION` / `AWS_DEFAULT_REGION` / the profile's region."))
            .attribute(s("profile", "Named profile from the shared config files."))
            .attribute(Attribute::new("shared_config_files", Type::list_of_strings(), "Shared config files to read instead of `~/.aws/config`.").optional())
            .attribute(Attribute::new("max_retries", Type::Number, "Attempts after the first for throttled or failed AWS calls. Default 25, as the AWS provider.").optional())
            .block(
                NestedBlock::list(
                    "assume_role",
                    Block::new("Role to assume before any call.")
                        .attribute(Attribute::new("role_arn", Type::String, "ARN of the role.").required())
                        .attribute(s("session_name", "Session name. Default `terraform-provider-eks`."))
                        .attribute(s("external_id", "External ID the role's trust policy requires.")),
                )
                .items(0, 1),
            )
            .block(NestedBlock::list("endpoints", endpoints).items(0, 1))
            .block(
                NestedBlock::list(
                    "default_tags",
                    Block::new("Tags for every object the provider creates, under the resource's own `tags`.")
                        .attribute(Attribute::new("tags", Type::map_of_strings(), "The tags.").optional()),
                )
                .items(0, 1),
            ),
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProviderConfig {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub shared_config_files: Vec<String>,
    pub max_retries: Option<u32>,
    pub assume_role: Option<AssumeRole>,
    pub endpoints: BTreeMap<String, String>,
    pub default_tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

pub fn validate(config: &Value) -> Diagnostics {
    let mut d = Diagnostics::default();
    if let Some(r) = config.get("region").as_str() {
        let ok = !r.is_empty()
            && r.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            d.error_at(
                AttrPath::root("region"),
                "Invalid region",
                format!("{r:?} is not an AWS region such as \"us-west-2\"."),
            );
        }
    }
    if let Some(n) = config.get("max_retries").as_i64() {
        if !(0..=100).contains(&n) {
            d.error_at(
                AttrPath::root("max_retries"),
                "Invalid max_retries",
                "max_retries must be between 0 and 100.",
            );
        }
    }
    let endpoints = config.get("endpoints").first();
    for service in SERVICES {
        if let Some(url) = endpoints.get(service).as_str() {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                d.error_at(
                    AttrPath::root("endpoints").index(0).attr(service),
                    "Invalid endpoint URL",
                    format!("{url:?} must start with https:// (or http:// for a local emulator)."),
                );
            }
        }
    }
    d
}

impl ProviderConfig {
    pub fn from_value(config: &Value) -> ProviderConfig {
        let s = |v: &Value| v.as_str().map(str::to_string);
        let assume = config.get("assume_role").first();
        let endpoints = config.get("endpoints").first();
        ProviderConfig {
            region: s(config.get("region")),
            profile: s(config.get("profile")),
            shared_config_files: config.get("shared_config_files").strings(),
            max_retries: config.get("max_retries").as_i64().map(|n| n as u32),
            assume_role: s(assume.get("role_arn")).map(|role_arn| AssumeRole {
                role_arn,
                session_name: s(assume.get("session_name")),
                external_id: s(assume.get("external_id")),
            }),
            endpoints: SERVICES
                .iter()
                .filter_map(|svc| s(endpoints.get(svc)).map(|url| (svc.to_string(), url)))
                .collect(),
            default_tags: crate::resource::hybrid_cluster::model::tags_of(
                config.get("default_tags").first().get("tags"),
            ),
        }
    }

    pub async fn connect(&self) -> AwsClients {
        AwsClients::connect(self).await
    }
}
