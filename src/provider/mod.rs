//! The tfplugin6 Provider service: decodes requests, dispatches to the resource, encodes
//! responses. Holds the configured AWS clients.

pub mod config;

use std::collections::BTreeMap;

use tokio::sync::RwLock;
use tonic::{Request, Response, Status};

use crate::aws::AwsClients;
use crate::plugin::proto::tfplugin6 as pb;
use crate::plugin::serve::Lifecycle;
use crate::plugin::{AttrPath, Diagnostics, Value};
use crate::resource::hybrid_cluster::{self as cluster, TYPE_NAME};

#[derive(Default)]
struct Configured {
    /// None while the provider configuration still has unknown values (plan only).
    aws: Option<AwsClients>,
    default_tags: BTreeMap<String, String>,
}

pub struct EksProvider {
    lifecycle: Lifecycle,
    configured: RwLock<Configured>,
}

impl EksProvider {
    pub fn new(lifecycle: Lifecycle) -> EksProvider {
        EksProvider {
            lifecycle,
            configured: RwLock::new(Configured::default()),
        }
    }

    async fn aws(&self) -> Result<AwsClients, Diagnostics> {
        match &self.configured.read().await.aws {
            Some(aws) => Ok(aws.clone()),
            None => {
                let mut d = Diagnostics::default();
                d.error("Provider not configured", "The eks provider's configuration is not known yet; apply what it depends on first.");
                Err(d)
            }
        }
    }
}

fn decode(v: Option<&pb::DynamicValue>) -> Result<Value, Status> {
    let Some(v) = v else { return Ok(Value::Null) };
    let r = if !v.msgpack.is_empty() {
        Value::from_msgpack(&v.msgpack)
    } else if !v.json.is_empty() {
        Value::from_json(&v.json)
    } else {
        Ok(Value::Null)
    };
    r.map_err(|e| Status::invalid_argument(e.to_string()))
}

fn encode(v: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: v.to_msgpack(),
        json: Vec::new(),
    })
}

fn check_type(type_name: &str) -> Result<(), Status> {
    if type_name == TYPE_NAME {
        Ok(())
    } else {
        Err(Status::not_found(format!(
            "unknown resource type {type_name}"
        )))
    }
}

fn capabilities() -> Option<pb::ServerCapabilities> {
    Some(pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: true,
        move_resource_state: false,
    })
}

type Rpc<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl pb::provider_server::Provider for EksProvider {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> Rpc<pb::get_metadata::Response> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: capabilities(),
            diagnostics: vec![],
            data_sources: vec![],
            resources: vec![pb::get_metadata::ResourceMetadata {
                type_name: TYPE_NAME.into(),
            }],
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Rpc<pb::get_provider_schema::Response> {
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(config::schema().to_proto()),
            resource_schemas: [(TYPE_NAME.to_string(), cluster::schema::schema().to_proto())]
                .into(),
            data_source_schemas: Default::default(),
            diagnostics: vec![],
            provider_meta: None,
            server_capabilities: capabilities(),
        }))
    }

    async fn validate_provider_config(
        &self,
        r: Request<pb::validate_provider_config::Request>,
    ) -> Rpc<pb::validate_provider_config::Response> {
        let config = decode(r.get_ref().config.as_ref())?;
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: config::validate(&config).to_proto(),
        }))
    }

    async fn validate_resource_config(
        &self,
        r: Request<pb::validate_resource_config::Request>,
    ) -> Rpc<pb::validate_resource_config::Response> {
        check_type(&r.get_ref().type_name)?;
        let config = decode(r.get_ref().config.as_ref())?;
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: cluster::validate::validate_config(&config).to_proto(),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        r: Request<pb::validate_data_resource_config::Request>,
    ) -> Rpc<pb::validate_data_resource_config::Response> {
        Err(Status::not_found(format!(
            "this provider has no data source {}",
            r.get_ref().type_name
        )))
    }

    async fn upgrade_resource_state(
        &self,
        r: Request<pb::upgrade_resource_state::Request>,
    ) -> Rpc<pb::upgrade_resource_state::Response> {
        let req = r.get_ref();
        check_type(&req.type_name)?;
        let mut d = Diagnostics::default();
        let raw = req.raw_state.as_ref();
        let state = match raw {
            Some(raw) if !raw.json.is_empty() => {
                Value::from_json(&raw.json).map_err(|e| Status::invalid_argument(e.to_string()))?
            }
            Some(raw) if !raw.flatmap.is_empty() => {
                d.error("Unsupported state format", "This state was written in the pre-0.12 flatmap format, which eks_hybrid_cluster never used.");
                Value::Null
            }
            _ => Value::Null,
        };
        if req.version > cluster::schema::schema().version {
            d.error(
                "State from a newer provider",
                format!(
                    "The state has schema version {}; upgrade terraform-provider-eks.",
                    req.version
                ),
            );
        }
        let upgraded = if state.is_null() {
            Value::Null
        } else {
            cluster::schema::schema().block.conform(&state)
        };
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: encode(&upgraded),
            diagnostics: d.to_proto(),
        }))
    }

    async fn configure_provider(
        &self,
        r: Request<pb::configure_provider::Request>,
    ) -> Rpc<pb::configure_provider::Response> {
        let config = decode(r.get_ref().config.as_ref())?;
        let d = config::validate(&config);
        if d.has_errors() {
            return Ok(Response::new(pb::configure_provider::Response {
                diagnostics: d.to_proto(),
            }));
        }
        let parsed = config::ProviderConfig::from_value(&config);
        let aws = if config.is_wholly_known() {
            Some(parsed.connect().await)
        } else {
            None
        };
        tracing::debug!(region = ?parsed.region, known = aws.is_some(), "provider configured");
        *self.configured.write().await = Configured {
            aws,
            default_tags: parsed.default_tags,
        };
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: d.to_proto(),
        }))
    }

    async fn read_resource(
        &self,
        r: Request<pb::read_resource::Request>,
    ) -> Rpc<pb::read_resource::Response> {
        let req = r.get_ref();
        check_type(&req.type_name)?;
        let prior = decode(req.current_state.as_ref())?;
        let aws = match self.aws().await {
            Ok(aws) => aws,
            Err(d) => {
                return Ok(Response::new(pb::read_resource::Response {
                    new_state: encode(&prior),
                    diagnostics: d.to_proto(),
                    private: req.private.clone(),
                }))
            }
        };
        let out = cluster::read(&aws, &prior, &req.private).await;
        Ok(Response::new(pb::read_resource::Response {
            new_state: encode(&out.state),
            diagnostics: out.diagnostics.to_proto(),
            private: out.private,
        }))
    }

    async fn plan_resource_change(
        &self,
        r: Request<pb::plan_resource_change::Request>,
    ) -> Rpc<pb::plan_resource_change::Response> {
        let req = r.get_ref();
        check_type(&req.type_name)?;
        let prior = decode(req.prior_state.as_ref())?;
        let proposed = decode(req.proposed_new_state.as_ref())?;
        let config = decode(req.config.as_ref())?;
        if proposed.is_null() {
            return Ok(Response::new(pb::plan_resource_change::Response {
                planned_state: encode(&Value::Null),
                requires_replace: vec![],
                planned_private: req.prior_private.clone(),
                diagnostics: vec![],
            }));
        }
        let mut d = cluster::validate::validate_config(&config);
        let configured = self.configured.read().await;
        let mut vpc_cidrs = None;
        // Only a configuration without errors is worth an AWS call, and only a network about
        // to be made: an existing one was checked when it was (and destroy, which plans the
        // configuration once to refresh, must not stop at it).
        let new_network = ["vpc", "remote_network_config", "service_ipv4_cidr"]
            .iter()
            .any(|a| prior.get(a) != proposed.get(a));
        if let (Some(aws), false) = (&configured.aws, d.has_errors()) {
            if new_network {
                let preflight = cluster::preflight::check_existing_vpc(aws, &config).await;
                d.extend(preflight.diagnostics);
                vpc_cidrs = preflight.vpc_cidrs;
            }
            // Only a cluster that exists can run an add-on.
            if let Some(name) = prior.get("name").as_str() {
                d.extend(cluster::vpc_cni::check(aws, name).await);
            }
        }
        let cx = cluster::plan::Context {
            default_tags: configured.default_tags.clone(),
            existing_vpc_cidrs: vpc_cidrs.as_deref(),
        };
        let planned = cluster::plan::plan(&prior, &proposed, &cx);
        d.extend(cluster::validate::validate_tags_all(
            &config,
            planned.state.get("tags_all"),
        ));
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state: encode(&planned.state),
            requires_replace: planned
                .requires_replace
                .iter()
                .map(AttrPath::to_proto)
                .collect(),
            planned_private: req.prior_private.clone(),
            diagnostics: d.to_proto(),
        }))
    }

    async fn apply_resource_change(
        &self,
        r: Request<pb::apply_resource_change::Request>,
    ) -> Rpc<pb::apply_resource_change::Response> {
        let req = r.get_ref();
        check_type(&req.type_name)?;
        let prior = decode(req.prior_state.as_ref())?;
        let planned = decode(req.planned_state.as_ref())?;
        let aws = match self.aws().await {
            Ok(aws) => aws,
            Err(d) => {
                return Ok(Response::new(pb::apply_resource_change::Response {
                    new_state: encode(&prior),
                    private: req.planned_private.clone(),
                    diagnostics: d.to_proto(),
                }))
            }
        };
        let cancel = self.lifecycle.stop.child_token();
        let out = if planned.is_null() {
            cluster::delete(&aws, &prior, &req.planned_private, cancel).await
        } else {
            cluster::apply(&aws, &prior, &planned, &req.planned_private, cancel).await
        };
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state: encode(&out.state),
            private: out.private,
            diagnostics: out.diagnostics.to_proto(),
        }))
    }

    async fn import_resource_state(
        &self,
        r: Request<pb::import_resource_state::Request>,
    ) -> Rpc<pb::import_resource_state::Response> {
        let req = r.get_ref();
        check_type(&req.type_name)?;
        let aws = match self.aws().await {
            Ok(aws) => aws,
            Err(d) => {
                return Ok(Response::new(pb::import_resource_state::Response {
                    imported_resources: vec![],
                    diagnostics: d.to_proto(),
                }))
            }
        };
        let default_tags = self.configured.read().await.default_tags.clone();
        let out = cluster::import::import(&aws, &req.id, &default_tags).await;
        let imported = if out.state.is_null() {
            vec![]
        } else {
            vec![pb::import_resource_state::ImportedResource {
                type_name: TYPE_NAME.into(),
                state: encode(&out.state),
                private: out.private,
            }]
        };
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: imported,
            diagnostics: out.diagnostics.to_proto(),
        }))
    }

    async fn read_data_source(
        &self,
        r: Request<pb::read_data_source::Request>,
    ) -> Rpc<pb::read_data_source::Response> {
        Err(Status::not_found(format!(
            "this provider has no data source {}",
            r.get_ref().type_name
        )))
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> Rpc<pb::stop_provider::Response> {
        tracing::info!("stop requested: cancelling in-flight operations");
        self.lifecycle.stop.cancel();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}
