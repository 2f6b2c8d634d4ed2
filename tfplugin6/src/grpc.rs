//! The tfplugin6 `Provider` gRPC service over a [`Server`]: decode, call, encode. A type
//! name nobody registered is answered with a diagnostic, as Terraform expects, not with a
//! gRPC error.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use crate::convert;
use crate::diag::Diagnostics;
use crate::list::ListRequest;
use crate::proto::tfplugin6 as pb;
use crate::resource::{ImportRequest, ReadRequest};
use crate::server::{ApplyInput, PlanInput, Server};
use crate::value::Value;

pub struct Grpc(pub Arc<Server>);

type Rpc<T> = Result<Response<T>, Status>;

fn capabilities() -> Option<pb::ServerCapabilities> {
    Some(pb::ServerCapabilities {
        // Destroy plans reach the provider, which says what they delete.
        plan_destroy: true,
        get_provider_schema_optional: true,
        move_resource_state: false,
        generate_resource_config: true,
    })
}

fn functions(s: &Server) -> std::collections::HashMap<String, pb::Function> {
    s.functions()
        .iter()
        .map(|(k, f)| (k.to_string(), convert::function(f)))
        .collect()
}

fn ok<T>(v: T) -> Rpc<T> {
    Ok(Response::new(v))
}

#[tonic::async_trait]
impl pb::provider_server::Provider for Grpc {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> Rpc<pb::get_metadata::Response> {
        let s = &self.0;
        ok(pb::get_metadata::Response {
            server_capabilities: capabilities(),
            diagnostics: vec![],
            data_sources: s
                .data_source_types()
                .into_iter()
                .map(|t| pb::get_metadata::DataSourceMetadata {
                    type_name: t.into(),
                })
                .collect(),
            resources: s
                .resource_types()
                .into_iter()
                .map(|t| pb::get_metadata::ResourceMetadata {
                    type_name: t.into(),
                })
                .collect(),
            ephemeral_resources: s
                .ephemeral_resource_types()
                .into_iter()
                .map(|t| pb::get_metadata::EphemeralMetadata {
                    type_name: t.into(),
                })
                .collect(),
            functions: s
                .functions()
                .into_keys()
                .map(|name| pb::get_metadata::FunctionMetadata { name: name.into() })
                .collect(),
            list_resources: s
                .list_resource_types()
                .into_iter()
                .map(|t| pb::get_metadata::ListResourceMetadata {
                    type_name: t.into(),
                })
                .collect(),
            ..Default::default()
        })
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Rpc<pb::get_provider_schema::Response> {
        let s = &self.0;
        let schemas = |m: std::collections::BTreeMap<&'static str, crate::Schema>| {
            m.into_iter()
                .map(|(k, v)| (k.to_string(), convert::schema(&v)))
                .collect()
        };
        ok(pb::get_provider_schema::Response {
            provider: Some(convert::schema(&s.provider_schema())),
            resource_schemas: schemas(s.resource_schemas()),
            data_source_schemas: schemas(s.data_source_schemas()),
            diagnostics: vec![],
            provider_meta: None,
            server_capabilities: capabilities(),
            list_resource_schemas: schemas(s.list_resource_schemas()),
            ephemeral_resource_schemas: schemas(s.ephemeral_resource_schemas()),
            functions: functions(s),
            ..Default::default()
        })
    }

    async fn validate_list_resource_config(
        &self,
        r: Request<pb::validate_list_resource_config::Request>,
    ) -> Rpc<pb::validate_list_resource_config::Response> {
        let req = r.get_ref();
        let config = convert::value(req.config.as_ref())?;
        let d = self
            .0
            .validate_list_resource_config(&req.type_name, &config);
        ok(pb::validate_list_resource_config::Response {
            diagnostics: convert::diagnostics(&d),
        })
    }

    async fn list_resource(
        &self,
        r: Request<pb::list_resource::Request>,
    ) -> Rpc<tonic::codegen::BoxStream<pb::list_resource::Event>> {
        let req = r.into_inner();
        let list = ListRequest {
            config: convert::value(req.config.as_ref())?,
            include_resource: req.include_resource_object,
            limit: req.limit,
        };
        let found = self.0.list(&req.type_name, list).await;
        let events = found.into_iter().map(|f| {
            Ok(pb::list_resource::Event {
                identity: convert::identity_out(Some(&f.identity).filter(|i| !i.is_null())),
                display_name: f.display_name,
                resource_object: f.resource.as_ref().and_then(convert::dynamic),
                diagnostic: convert::diagnostics(&f.diagnostics),
            })
        });
        ok(Box::pin(tokio_stream::iter(events.collect::<Vec<_>>())))
    }

    async fn generate_resource_config(
        &self,
        r: Request<pb::generate_resource_config::Request>,
    ) -> Rpc<pb::generate_resource_config::Response> {
        let req = r.get_ref();
        let state = convert::value(req.state.as_ref())?;
        let (config, d) = match self.0.generate_resource_config(&req.type_name, &state) {
            Ok(c) => (c, Diagnostics::default()),
            Err(d) => (Value::Null, d),
        };
        ok(pb::generate_resource_config::Response {
            config: convert::dynamic(&config),
            diagnostics: convert::diagnostics(&d),
        })
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Rpc<pb::get_resource_identity_schemas::Response> {
        ok(pb::get_resource_identity_schemas::Response {
            identity_schemas: self
                .0
                .identity_schemas()
                .iter()
                .map(|(k, v)| (k.to_string(), convert::identity_schema(v)))
                .collect(),
            diagnostics: vec![],
        })
    }

    /// OpenTofu asks for the provider's functions when a configuration calls one; answering
    /// (even with none) lets it say "function not found" instead of "Unsupported plugin
    /// method".
    async fn get_functions(
        &self,
        _: Request<pb::get_functions::Request>,
    ) -> Rpc<pb::get_functions::Response> {
        ok(pb::get_functions::Response {
            functions: functions(&self.0),
            diagnostics: vec![],
        })
    }

    async fn call_function(
        &self,
        r: Request<pb::call_function::Request>,
    ) -> Rpc<pb::call_function::Response> {
        let req = r.get_ref();
        let arguments = req
            .arguments
            .iter()
            .map(|a| convert::value(Some(a)))
            .collect::<Result<Vec<_>, _>>()?;
        ok(match self.0.call_function(&req.name, &arguments) {
            Ok(v) => pb::call_function::Response {
                result: convert::dynamic(&v),
                error: None,
            },
            Err(e) => pb::call_function::Response {
                result: None,
                error: Some(convert::function_error(&e)),
            },
        })
    }

    async fn validate_ephemeral_resource_config(
        &self,
        r: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Rpc<pb::validate_ephemeral_resource_config::Response> {
        let req = r.get_ref();
        let config = convert::value(req.config.as_ref())?;
        let d = self
            .0
            .validate_ephemeral_resource_config(&req.type_name, &config);
        ok(pb::validate_ephemeral_resource_config::Response {
            diagnostics: convert::diagnostics(&d),
        })
    }

    async fn open_ephemeral_resource(
        &self,
        r: Request<pb::open_ephemeral_resource::Request>,
    ) -> Rpc<pb::open_ephemeral_resource::Response> {
        let req = r.get_ref();
        let config = convert::value(req.config.as_ref())?;
        let out = self.0.open_ephemeral_resource(&req.type_name, config).await;
        ok(pb::open_ephemeral_resource::Response {
            diagnostics: convert::diagnostics(&out.diagnostics),
            renew_at: convert::timestamp(out.renew_at),
            result: convert::dynamic(&out.result),
            private: Some(out.private),
            deferred: None,
        })
    }

    async fn renew_ephemeral_resource(
        &self,
        r: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Rpc<pb::renew_ephemeral_resource::Response> {
        let req = r.into_inner();
        let out = self
            .0
            .renew_ephemeral_resource(&req.type_name, req.private.unwrap_or_default())
            .await;
        ok(pb::renew_ephemeral_resource::Response {
            diagnostics: convert::diagnostics(&out.diagnostics),
            renew_at: convert::timestamp(out.renew_at),
            private: Some(out.private),
        })
    }

    async fn close_ephemeral_resource(
        &self,
        r: Request<pb::close_ephemeral_resource::Request>,
    ) -> Rpc<pb::close_ephemeral_resource::Response> {
        let req = r.into_inner();
        let d = self
            .0
            .close_ephemeral_resource(&req.type_name, req.private.unwrap_or_default())
            .await;
        ok(pb::close_ephemeral_resource::Response {
            diagnostics: convert::diagnostics(&d),
        })
    }

    async fn validate_provider_config(
        &self,
        r: Request<pb::validate_provider_config::Request>,
    ) -> Rpc<pb::validate_provider_config::Response> {
        let config = convert::value(r.get_ref().config.as_ref())?;
        ok(pb::validate_provider_config::Response {
            diagnostics: convert::diagnostics(&self.0.validate_provider_config(&config)),
        })
    }

    async fn validate_resource_config(
        &self,
        r: Request<pb::validate_resource_config::Request>,
    ) -> Rpc<pb::validate_resource_config::Response> {
        let req = r.get_ref();
        let config = convert::value(req.config.as_ref())?;
        let d = self.0.validate_resource_config(&req.type_name, &config);
        ok(pb::validate_resource_config::Response {
            diagnostics: convert::diagnostics(&d),
        })
    }

    async fn validate_data_resource_config(
        &self,
        r: Request<pb::validate_data_resource_config::Request>,
    ) -> Rpc<pb::validate_data_resource_config::Response> {
        let req = r.get_ref();
        let config = convert::value(req.config.as_ref())?;
        let d = self.0.validate_data_source_config(&req.type_name, &config);
        ok(pb::validate_data_resource_config::Response {
            diagnostics: convert::diagnostics(&d),
        })
    }

    async fn upgrade_resource_state(
        &self,
        r: Request<pb::upgrade_resource_state::Request>,
    ) -> Rpc<pb::upgrade_resource_state::Response> {
        let req = r.get_ref();
        let raw = req.raw_state.as_ref();
        let state = match raw {
            Some(raw) if !raw.json.is_empty() => {
                Value::from_json(&raw.json).map_err(|e| Status::invalid_argument(e.to_string()))?
            }
            Some(raw) if !raw.flatmap.is_empty() => {
                let mut d = Diagnostics::default();
                d.error(
                    "Unsupported state format",
                    format!(
                        "This state was written in the pre-0.12 flatmap format, which {} never used.",
                        req.type_name
                    ),
                );
                return ok(pb::upgrade_resource_state::Response {
                    upgraded_state: None,
                    diagnostics: convert::diagnostics(&d),
                });
            }
            _ => Value::Null,
        };
        let (upgraded, d) = match self
            .0
            .upgrade_resource_state(&req.type_name, req.version, state)
        {
            Ok(v) => (v, Diagnostics::default()),
            Err(d) => (Value::Null, d),
        };
        ok(pb::upgrade_resource_state::Response {
            upgraded_state: convert::dynamic(&upgraded),
            diagnostics: convert::diagnostics(&d),
        })
    }

    async fn configure_provider(
        &self,
        r: Request<pb::configure_provider::Request>,
    ) -> Rpc<pb::configure_provider::Response> {
        let config = convert::value(r.get_ref().config.as_ref())?;
        let d = self.0.configure_provider(config).await;
        ok(pb::configure_provider::Response {
            diagnostics: convert::diagnostics(&d),
        })
    }

    async fn read_resource(
        &self,
        r: Request<pb::read_resource::Request>,
    ) -> Rpc<pb::read_resource::Response> {
        let req = r.into_inner();
        let state = convert::value(req.current_state.as_ref())?;
        let read = ReadRequest {
            state,
            private: req.private,
            client: convert::client_capabilities(req.client_capabilities.as_ref()),
            identity: convert::identity_in(req.current_identity.as_ref())?,
        };
        let out = self.0.read_resource(&req.type_name, read).await;
        ok(pb::read_resource::Response {
            new_state: convert::dynamic(&out.state),
            diagnostics: convert::diagnostics(&out.diagnostics),
            private: out.private,
            deferred: convert::deferred(out.deferred),
            new_identity: convert::identity_out(out.identity.as_ref()),
        })
    }

    async fn plan_resource_change(
        &self,
        r: Request<pb::plan_resource_change::Request>,
    ) -> Rpc<pb::plan_resource_change::Response> {
        let req = r.into_inner();
        let input = PlanInput {
            prior: convert::value(req.prior_state.as_ref())?,
            proposed: convert::value(req.proposed_new_state.as_ref())?,
            config: convert::value(req.config.as_ref())?,
            prior_private: req.prior_private,
            client: convert::client_capabilities(req.client_capabilities.as_ref()),
            prior_identity: convert::identity_in(req.prior_identity.as_ref())?,
        };
        let out = self.0.plan_resource_change(&req.type_name, input).await;
        ok(pb::plan_resource_change::Response {
            planned_state: convert::dynamic(&out.planned),
            requires_replace: out
                .requires_replace
                .iter()
                .map(convert::attribute_path)
                .collect(),
            planned_private: out.private,
            diagnostics: convert::diagnostics(&out.diagnostics),
            deferred: convert::deferred(out.deferred),
            planned_identity: convert::identity_out(out.identity.as_ref()),
            legacy_type_system: false,
        })
    }

    async fn apply_resource_change(
        &self,
        r: Request<pb::apply_resource_change::Request>,
    ) -> Rpc<pb::apply_resource_change::Response> {
        let req = r.into_inner();
        let input = ApplyInput {
            prior: convert::value(req.prior_state.as_ref())?,
            planned: convert::value(req.planned_state.as_ref())?,
            config: convert::value(req.config.as_ref())?,
            private: req.planned_private,
            planned_identity: convert::identity_in(req.planned_identity.as_ref())?,
        };
        let out = self.0.apply_resource_change(&req.type_name, input).await;
        ok(pb::apply_resource_change::Response {
            new_state: convert::dynamic(&out.state),
            private: out.private,
            diagnostics: convert::diagnostics(&out.diagnostics),
            legacy_type_system: false,
            new_identity: convert::identity_out(out.identity.as_ref()),
        })
    }

    async fn import_resource_state(
        &self,
        r: Request<pb::import_resource_state::Request>,
    ) -> Rpc<pb::import_resource_state::Response> {
        let req = r.into_inner();
        let import = ImportRequest {
            id: req.id,
            client: convert::client_capabilities(req.client_capabilities.as_ref()),
            identity: convert::identity_in(req.identity.as_ref())?,
        };
        let out = self.0.import_resource_state(&req.type_name, import).await;
        let imported = if out.state.is_null() {
            vec![]
        } else {
            vec![pb::import_resource_state::ImportedResource {
                type_name: req.type_name,
                state: convert::dynamic(&out.state),
                private: out.private,
                identity: convert::identity_out(out.identity.as_ref()),
            }]
        };
        ok(pb::import_resource_state::Response {
            imported_resources: imported,
            diagnostics: convert::diagnostics(&out.diagnostics),
            deferred: convert::deferred(out.deferred),
        })
    }

    async fn read_data_source(
        &self,
        r: Request<pb::read_data_source::Request>,
    ) -> Rpc<pb::read_data_source::Response> {
        let req = r.into_inner();
        let config = convert::value(req.config.as_ref())?;
        let out = self.0.read_data_source(&req.type_name, config).await;
        ok(pb::read_data_source::Response {
            state: convert::dynamic(&out.state),
            diagnostics: convert::diagnostics(&out.diagnostics),
            deferred: convert::deferred(out.deferred),
        })
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> Rpc<pb::stop_provider::Response> {
        self.0.stop();
        ok(pb::stop_provider::Response {
            error: String::new(),
        })
    }
}
