//! `ephemeral "eks_hybrid_activation"`: a short-lived SSM hybrid activation for a cluster's
//! hybrid nodes role (the principal of its `HYBRID_LINUX` access entry), for `nodeadm` with
//! `hybrid.ssm`. The code goes to where it is used (a provisioner, a write-only attribute,
//! `provider::eks::node_config`) and never to plan or state. By default nothing is deleted on
//! close: nodes often register after the run, and the activation expires by itself after
//! `ttl`. Terraform opens ephemeral resources at every plan too, so `revoke_on_close` deletes
//! the activation when Terraform closes it, for runs whose nodes register during the run.
//! Deleting an activation leaves the nodes it registered registered (SSM API reference,
//! DeleteActivation: "doesn't de-register managed instances").

use std::time::{Duration, SystemTime};

use tfplugin6::ephemeral::Opened;
use tfplugin6::schema::{Attribute, Block, Schema, Type};
use tfplugin6::validators::string_rule;
use tfplugin6::value::Number;
use tfplugin6::{async_trait, Diagnostics, EphemeralResource, Value};
use tokio_util::sync::CancellationToken;

use crate::aws::{eks, ssm, wait::Budget, AwsClients, AwsResult};
use crate::cluster::policies::CLUSTER_ARN_TAG;
use crate::cluster::spec::parse_duration;
use crate::provider::ProviderData;
use crate::provider::{report::report, rules};

pub const TYPE_NAME: &str = "eks_hybrid_activation";
const CLUSTER_NAME: &str = "cluster_name";
const REGISTRATION_LIMIT: &str = "registration_limit";
const TTL: &str = "ttl";
const DEFAULT_TTL: &str = "1h";
const ACTIVATION_ID: &str = "activation_id";
const ACTIVATION_CODE: &str = "activation_code";
const EXPIRES_AT: &str = "expires_at";
const ROLE_NAME: &str = "role_name";
const REVOKE_ON_CLOSE: &str = "revoke_on_close";

/// SSM's CreateActivation takes an ExpirationDate "up to 30 days in advance" (API reference).
const MAX_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

pub struct HybridActivation {
    data: ProviderData,
}

impl HybridActivation {
    pub fn new(data: ProviderData) -> HybridActivation {
        HybridActivation { data }
    }
}

fn ttl_rule() -> tfplugin6::validators::StringRule {
    string_rule("A Go duration, up to 720h (SSM: 30 days).", |s, path, d| {
        match parse_duration(s) {
            Some(t) if !t.is_zero() && t <= MAX_TTL => {}
            _ => d.error_at(
                path.clone(),
                "Invalid ttl",
                format!("{s:?} is not a duration from \"1m\" to \"720h\" (SSM accepts expirations up to 30 days ahead)."),
            ),
        }
    })
}

fn computed(description: &str) -> Attribute {
    Attribute::string(description).computed()
}

#[async_trait]
impl EphemeralResource for HybridActivation {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("A short-lived SSM hybrid activation for a cluster's hybrid nodes role, never stored in plan or state.")
                .attribute(
                    Attribute::string("The EKS cluster whose hybrid nodes role (its `HYBRID_LINUX` access entry) the nodes assume.")
                        .named(CLUSTER_NAME)
                        .required()
                        .validator(rules::cluster_name()),
                )
                .attribute(
                    Attribute::of(Type::Number, "How many nodes may register with it.")
                        .named(REGISTRATION_LIMIT)
                        .optional()
                        .default(Value::Number(Number::Int(1)))
                        .validator(rules::registration_limit()),
                )
                .attribute(
                    Attribute::string("How long it can be used, from the run that opens it. Default `1h`.")
                        .named(TTL)
                        .optional()
                        .validator(ttl_rule()),
                )
                .attribute(
                    Attribute::of(Type::Bool, "Delete the activation when Terraform closes it, at the end of the plan or apply that opened it, so no registration code outlives the run (Terraform opens ephemeral resources at plan too). Nodes that registered during the run stay registered. Leave it off when nodes register after the run: they need the code until `ttl`.")
                        .named(REVOKE_ON_CLOSE)
                        .optional()
                        .default(Value::Bool(false)),
                )
                .attribute(computed("The activation ID (`hybrid.ssm.activationId`).").named(ACTIVATION_ID))
                .attribute(
                    computed("The activation code (`hybrid.ssm.activationCode`).")
                        .named(ACTIVATION_CODE)
                        .sensitive(),
                )
                .attribute(computed("When it expires (RFC 3339).").named(EXPIRES_AT))
                .attribute(computed("The hybrid nodes role it registers nodes with.").named(ROLE_NAME)),
        )
    }

    async fn open(&self, config: Value, cancel: CancellationToken) -> Opened {
        let aws = match self.data.aws().await {
            Ok(aws) => aws,
            Err(d) => return Opened::failed(d),
        };
        match create(&aws, &config, &self.data.default_tags().await, cancel).await {
            Ok(result) => {
                // What close needs: the activation to revoke, when asked to.
                let revoke = config.get(REVOKE_ON_CLOSE) == &Value::Bool(true);
                let private = match result.get(ACTIVATION_ID).as_str() {
                    Some(id) if revoke => id.as_bytes().to_vec(),
                    _ => vec![],
                };
                Opened {
                    result,
                    private,
                    renew_at: None,
                    diagnostics: Diagnostics::default(),
                }
            }
            Err(e) => {
                let mut d = Diagnostics::default();
                report(vec![e], &mut d);
                Opened::failed(d)
            }
        }
    }

    async fn close(&self, private: Vec<u8>) -> Diagnostics {
        let id = String::from_utf8(private).unwrap_or_default();
        if id.is_empty() {
            return Diagnostics::default();
        }
        let aws = match self.data.aws().await {
            Ok(aws) => aws,
            Err(d) => return d,
        };
        let mut d = Diagnostics::default();
        if let Err(e) = ssm::delete_activation(&aws.ssm, &id).await {
            report(vec![e], &mut d);
        }
        d
    }
}

async fn create(
    aws: &AwsClients,
    config: &Value,
    default_tags: &std::collections::BTreeMap<String, String>,
    cancel: CancellationToken,
) -> AwsResult<Value> {
    let name = config.get(CLUSTER_NAME).as_str().unwrap_or_default();
    let step = format!("opening an SSM activation for cluster {name}");
    let Some(cluster) = eks::describe_cluster(&aws.eks, name).await? else {
        return Err(crate::aws::AwsError::refused(
            &step,
            "ClusterNotFound",
            format!("No EKS cluster named {name:?} exists in this account and region."),
        ));
    };
    let role_arn = eks::hybrid_principals(&aws.eks, name)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            crate::aws::AwsError::refused(
                &step,
                "NotAHybridCluster",
                format!("cluster {name} has no HYBRID_LINUX access entry: no hybrid nodes role to register nodes with"),
            )
        })?;
    let role_name = crate::aws::iam::role_with_path_of(&role_arn).to_string();
    let ttl = config
        .get(TTL)
        .as_str()
        .and_then(parse_duration)
        .unwrap_or_else(|| parse_duration(DEFAULT_TTL).expect("the default is a duration"));
    let expires = SystemTime::now() + ttl;
    let expiration = aws_smithy_types::DateTime::from(expires)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .map_err(|e| crate::aws::AwsError::refused(&step, "InvalidExpiration", e.to_string()))?;
    let limit = match config.get(REGISTRATION_LIMIT) {
        Value::Number(Number::Int(n)) => i32::try_from(*n).unwrap_or(1),
        _ => 1,
    };
    let mut tags = default_tags.clone();
    tags.insert(
        CLUSTER_ARN_TAG.to_string(),
        cluster.arn().unwrap_or_default().to_string(),
    );
    let request = ssm::ActivationRequest {
        role_name: &role_name,
        registration_limit: limit,
        expiration: Some(&expiration),
        description: &format!("{TYPE_NAME} for {name}"),
        default_instance_name: name,
        tags: &tags,
    };
    let budget = Budget::new(Duration::from_secs(120), cancel);
    let activation = ssm::create_activation(&aws.ssm, &aws.iam, &request, &budget).await?;
    tfplugin6::logging::mask(&activation.code);
    let mut result = config.clone();
    result.set(
        REGISTRATION_LIMIT,
        Value::Number(Number::Int(i64::from(limit))),
    );
    result.set(ACTIVATION_ID, Value::string(&activation.id));
    result.set(ACTIVATION_CODE, Value::string(&activation.code));
    result.set(EXPIRES_AT, Value::string(&expiration));
    result.set(ROLE_NAME, Value::string(&role_name));
    Ok(result)
}
