//! `provider "eks" { … }`: its model (schema and rules declared once) and the AWS SDK
//! configuration it yields.

use std::collections::BTreeMap;

use tfplugin6::model::{known_elements, known_entries, Object};
use tfplugin6::schema::{Attribute, NestedBlock, Schema, Type};
use tfplugin6::validators::{int_between, string_rule, IntBetween, StringRule};
use tfplugin6::{One, Unknown};

use crate::aws::settings::{AssumeRole as AssumeRoleSettings, Settings};
use crate::aws::AwsClients;

fn region() -> StringRule {
    string_rule("An AWS region such as `us-west-2`.", |r, path, d| {
        let ok = !r.is_empty()
            && r.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            d.error_at(
                path.clone(),
                "Invalid region",
                format!("{r:?} is not an AWS region such as \"us-west-2\"."),
            );
        }
    })
}

fn endpoint_url() -> StringRule {
    string_rule(
        "`https://…` (or `http://…` for a local emulator).",
        |url, path, d| {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                d.error_at(
                    path.clone(),
                    "Invalid endpoint URL",
                    format!("{url:?} must start with https:// (or http:// for a local emulator)."),
                );
            }
        },
    )
}

/// Any number of attempts within reason, as the AWS provider allows.
fn max_retries() -> IntBetween {
    int_between("Invalid max_retries", 0, 100)
        .saying(|_| "max_retries must be between 0 and 100.".into())
}

fn url(service: &str) -> Attribute {
    Attribute::string(&format!("Endpoint URL for {service}."))
        .optional()
        .validator(endpoint_url())
}

tfplugin6::object! {
    /// Role to assume before any call.
    pub struct AssumeRole {
        #[attr(Attribute::string("ARN of the role.").required())]
        pub role_arn: Unknown<String>,
        #[attr(Attribute::string("Session name. Default `terraform-provider-eks`.").optional())]
        pub session_name: Unknown<Option<String>>,
        #[attr(Attribute::string("External ID the role's trust policy requires.").optional())]
        pub external_id: Unknown<Option<String>>,
    }
}

tfplugin6::object! {
    /// Custom endpoint URLs per service (also read from `AWS_ENDPOINT_URL` and
    /// `AWS_ENDPOINT_URL_<SERVICE>`).
    pub struct Endpoints {
        #[attr(url("acmpca"))]
        pub acmpca: Unknown<Option<String>>,
        #[attr(url("ec2"))]
        pub ec2: Unknown<Option<String>>,
        #[attr(url("eks"))]
        pub eks: Unknown<Option<String>>,
        #[attr(url("iam"))]
        pub iam: Unknown<Option<String>>,
        #[attr(url("sts"))]
        pub sts: Unknown<Option<String>>,
        #[attr(url("rolesanywhere"))]
        pub rolesanywhere: Unknown<Option<String>>,
        #[attr(url("ssm"))]
        pub ssm: Unknown<Option<String>>,
    }
}

tfplugin6::object! {
    /// Tags for every object the provider creates, under the resource's own `tags`.
    pub struct DefaultTags {
        #[attr(Attribute::of(Type::map_of_strings(), "The tags.").optional())]
        pub tags: Unknown<Option<BTreeMap<String, Unknown<String>>>>,
    }
}

tfplugin6::object! {
    /// Credentials follow the standard AWS chain (environment, shared config and credentials
    /// files, SSO, IMDS/ECS).
    pub struct ProviderModel {
        #[attr(Attribute::string("AWS region. Default: `AWS_REGION` / `AWS_DEFAULT_REGION` / the profile's region.").optional().validator(region()))]
        pub region: Unknown<Option<String>>,
        #[attr(Attribute::string("Named profile from the shared config files.").optional())]
        pub profile: Unknown<Option<String>>,
        #[attr(Attribute::of(Type::list_of_strings(), "Shared config files to read instead of `~/.aws/config`.").optional())]
        pub shared_config_files: Unknown<Option<Vec<Unknown<String>>>>,
        #[attr(Attribute::of(Type::Number, "Attempts after the first for throttled or failed AWS calls. Default 25, as the AWS provider.").optional().validator(max_retries()))]
        pub max_retries: Unknown<Option<i64>>,
        #[block(NestedBlock::list().items(0, 1))]
        pub assume_role: Unknown<One<AssumeRole>>,
        #[block(NestedBlock::list().items(0, 1))]
        pub endpoints: Unknown<One<Endpoints>>,
        #[block(NestedBlock::list().items(0, 1))]
        pub default_tags: Unknown<One<DefaultTags>>,
    }
}

pub fn schema() -> Schema {
    Schema::new(ProviderModel::schema_block())
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProviderConfig {
    /// How to reach AWS.
    pub aws: Settings,
    pub default_tags: BTreeMap<String, String>,
    /// False while any default tag (or the block) is unknown: `tags_all` is then unknown too,
    /// as the Terraform AWS provider learned (hashicorp/terraform-provider-aws#40065).
    pub default_tags_known: bool,
}

fn known(v: &Unknown<Option<String>>) -> Option<String> {
    v.value().cloned()
}

impl ProviderConfig {
    /// The known settings (all of them, once the configuration is wholly known).
    pub fn from_model(m: &ProviderModel) -> ProviderConfig {
        let assume = m.assume_role.known().and_then(One::get);
        let endpoints = m.endpoints.known().and_then(One::get);
        let endpoint_urls = endpoints
            .map(|e| {
                [
                    ("acmpca", &e.acmpca),
                    ("ec2", &e.ec2),
                    ("eks", &e.eks),
                    ("iam", &e.iam),
                    ("sts", &e.sts),
                    ("rolesanywhere", &e.rolesanywhere),
                    ("ssm", &e.ssm),
                ]
                .into_iter()
                .filter_map(|(svc, url)| Some((svc.to_string(), known(url)?)))
                .collect()
            })
            .unwrap_or_default();
        ProviderConfig {
            aws: Settings {
                region: known(&m.region),
                profile: known(&m.profile),
                shared_config_files: known_elements(&m.shared_config_files),
                max_retries: m.max_retries.value().map(|n| *n as u32),
                assume_role: assume.and_then(|a| {
                    Some(AssumeRoleSettings {
                        role_arn: a.role_arn.known()?.clone(),
                        session_name: known(&a.session_name),
                        external_id: known(&a.external_id),
                    })
                }),
                endpoints: endpoint_urls,
            },
            default_tags: m
                .default_tags
                .known()
                .and_then(One::get)
                .map(|t| known_entries(&t.tags))
                .unwrap_or_default(),
            default_tags_known: match &m.default_tags {
                Unknown::Unknown => false,
                Unknown::Known(block) => block.get().is_none_or(|t| match &t.tags {
                    Unknown::Unknown => false,
                    Unknown::Known(tags) => tags.iter().flatten().all(|(_, v)| v.known().is_some()),
                }),
            },
        }
    }

    pub async fn connect(&self) -> AwsClients {
        AwsClients::connect(&self.aws).await
    }
}
