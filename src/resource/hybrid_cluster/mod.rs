//! The `eks_hybrid_cluster` resource: its model (schema, rules), validation, plan, create and
//! update (a graph of ensure steps), read and drift, delete and import.

mod apply;
pub mod convert;
mod delete;
pub mod destroy_preview;
pub mod identity;
pub mod import;
pub mod list;
pub mod model;
pub mod name_checks;
pub mod plan;
mod plan_change;
pub mod preflight;
mod read;
pub mod state;
pub mod validate;

use tfplugin6::model::{read as read_model, ToValue};
use tfplugin6::resource::{ApplyRequest, ImportRequest, PlanRequest, PlanResponse, ReadRequest};
use tfplugin6::{
    async_trait, Deferral, Diagnostics, IdentitySchema, Outcome, Resource, Schema, Value,
};

use crate::provider::ProviderData;
use model::{invalid, typed_prior, ClusterState};

pub const TYPE_NAME: &str = "eks_hybrid_cluster";

pub struct HybridCluster {
    data: ProviderData,
}

impl HybridCluster {
    pub fn new(data: ProviderData) -> HybridCluster {
        HybridCluster { data }
    }
}

#[async_trait]
impl Resource for HybridCluster {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        model::schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(identity::schema())
    }

    fn identity_of(&self, state: &Value) -> Option<Value> {
        identity::of_state(state)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate::validate_config(config)
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        // Fault injection for the crash-report test; not in a release build.
        #[cfg(feature = "test-hooks")]
        if std::env::var_os("TF_EKS_TEST_PANIC").is_some() {
            panic!("TF_EKS_TEST_PANIC is set: planning {TYPE_NAME} panics on purpose");
        }
        if req.is_destroy() {
            let mut diagnostics = Diagnostics::default();
            if let Ok(Some(mut prior)) = typed_prior(&req.prior) {
                if let Some(aws) = self.data.aws_if_known().await {
                    plan_change::mark_other_cluster(&aws, &mut prior).await;
                }
                destroy_preview::warn(&prior, None, &mut diagnostics);
            }
            return PlanResponse {
                diagnostics,
                ..PlanResponse::proposed(req)
            };
        }
        let unconfigured = self.data.aws_if_known().await.is_none();
        if let Some(reason) = req
            .client
            .defer_if(unconfigured, Deferral::ProviderConfigUnknown)
        {
            return PlanResponse {
                deferred: Some(reason),
                ..PlanResponse::proposed(req)
            };
        }
        match plan_change::plan_change(&self.data, &req).await {
            Ok((planned, mut diagnostics)) => {
                if let (false, Ok(Some(prior))) =
                    (req.requires_replace.is_empty(), typed_prior(&req.prior))
                {
                    let paths: Vec<String> = req
                        .requires_replace
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                    destroy_preview::warn(&prior, Some(&paths.join(", ")), &mut diagnostics);
                }
                PlanResponse {
                    planned: planned.to_value(),
                    diagnostics,
                    ..PlanResponse::proposed(req)
                }
            }
            Err(diagnostics) => PlanResponse {
                diagnostics,
                ..PlanResponse::proposed(req)
            },
        }
    }

    async fn apply(&self, req: ApplyRequest) -> Outcome {
        let aws = match self.data.aws().await {
            Ok(aws) => aws,
            Err(d) => return Outcome::unchanged(req.prior, req.private, d),
        };
        let prior = match typed_prior(&req.prior) {
            Ok(p) => p,
            Err(d) => return Outcome::unchanged(req.prior, req.private, d),
        };
        if req.is_destroy() {
            let Some(prior) = prior else {
                return Outcome::default();
            };
            return delete::delete(&aws, &prior, &req.private, req.cancel).await;
        }
        let planned: ClusterState = match read_model(&req.planned) {
            Ok(p) => p,
            Err(e) => return Outcome::unchanged(req.prior, req.private, invalid(e)),
        };
        apply::apply(&aws, prior.as_ref(), &planned, &req.private, req.cancel).await
    }

    async fn read(&self, req: ReadRequest) -> Outcome {
        let aws = match self.data.aws().await {
            Ok(aws) => aws,
            Err(d) => {
                return match req.client.defer_if(true, Deferral::ProviderConfigUnknown) {
                    Some(reason) => Outcome::deferred(req.state, req.private, reason),
                    None => Outcome::unchanged(req.state, req.private, d),
                }
            }
        };
        match typed_prior(&req.state) {
            Ok(Some(prior)) => read::read_cluster(&aws, &prior, &req.private).await,
            Ok(None) => Outcome::default(),
            Err(d) => Outcome::unchanged(req.state, req.private, d),
        }
    }

    async fn import(&self, req: ImportRequest) -> Outcome {
        let aws = match self.data.aws().await {
            Ok(aws) => aws,
            Err(d) => {
                return match req.client.defer_if(true, Deferral::ProviderConfigUnknown) {
                    Some(reason) => Outcome::deferred(Value::Null, vec![], reason),
                    None => Outcome::unchanged(Value::Null, vec![], d),
                }
            }
        };
        let default_tags = self.data.default_tags().await;
        if req.identity.is_null() {
            return import::import(&aws, &req.id, &default_tags).await;
        }
        let asked = match identity::requested(&req.identity) {
            Ok(asked) => asked,
            Err(d) => return Outcome::unchanged(Value::Null, vec![], d),
        };
        let d = asked.check_region(&aws.region);
        if d.has_errors() {
            return Outcome::unchanged(Value::Null, vec![], d);
        }
        let out = import::import(&aws, &asked.name, &default_tags).await;
        let d = asked.check_found(&out.state);
        if d.has_errors() {
            return Outcome::unchanged(Value::Null, vec![], d);
        }
        out
    }
}
