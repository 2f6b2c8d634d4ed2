//! The tfplugin6 `Provider` gRPC service over a [`Server`]: decode, call, encode. A type
//! name nobody registered is answered with a diagnostic, as Terraform expects, not with a
//! gRPC error.

use std::sync::Arc;

use tokio_stream::StreamExt;
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

/// A value decoded from what Terraform sent, or the RPC answered at once with `$answer`
/// (a function of the diagnostics) saying what could not be decoded: Terraform shows a
/// diagnostic under the resource's address rather than a bare gRPC error.
macro_rules! decoded {
    ($value:expr, $type_name:expr, $what:expr, $answer:expr) => {
        match $value {
            Ok(v) => v,
            Err(e) => {
                let d = convert::undecodable($type_name, $what, &e);
                let answer = $answer;
                return ok(answer(convert::diagnostics(&d)));
            }
        }
    };
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
            actions: s
                .action_types()
                .into_iter()
                .map(|t| pb::get_metadata::ActionMetadata {
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
            action_schemas: s
                .action_schemas()
                .into_iter()
                .map(|(k, v)| {
                    let schema = Some(convert::schema(&v));
                    (k.to_string(), pb::ActionSchema { schema })
                })
                .collect(),
            ..Default::default()
        })
    }

    async fn validate_action_config(
        &self,
        r: Request<pb::validate_action_config::Request>,
    ) -> Rpc<pb::validate_action_config::Response> {
        let req = r.get_ref();
        let config = decoded!(
            convert::value(req.config.as_ref()),
            &req.type_name,
            "action configuration",
            |diagnostics| pb::validate_action_config::Response { diagnostics }
        );
        let d = self.0.validate_action_config(&req.type_name, &config);
        ok(pb::validate_action_config::Response {
            diagnostics: convert::diagnostics(&d),
        })
    }

    async fn plan_action(
        &self,
        r: Request<pb::plan_action::Request>,
    ) -> Rpc<pb::plan_action::Response> {
        let req = r.get_ref();
        let config = decoded!(
            convert::value(req.config.as_ref()),
            &req.action_type,
            "action configuration",
            |diagnostics| pb::plan_action::Response {
                diagnostics,
                deferred: None,
            }
        );
        let client = convert::client_capabilities(req.client_capabilities.as_ref());
        let plan = self.0.plan_action(&req.action_type, &config, client).await;
        ok(pb::plan_action::Response {
            diagnostics: convert::diagnostics(&plan.diagnostics),
            deferred: convert::deferred(plan.deferred),
        })
    }

    async fn invoke_action(
        &self,
        r: Request<pb::invoke_action::Request>,
    ) -> Rpc<tonic::codegen::BoxStream<pb::invoke_action::Event>> {
        use pb::invoke_action::event::{Completed, Progress, Type};
        let req = r.into_inner();
        let completed = |d: &Diagnostics| pb::invoke_action::Event {
            r#type: Some(Type::Completed(Completed {
                diagnostics: convert::diagnostics(d),
            })),
        };
        let config = match convert::value(req.config.as_ref()) {
            Ok(c) => c,
            Err(e) => {
                let d = convert::undecodable(&req.action_type, "action configuration", &e);
                return ok(Box::pin(tokio_stream::iter([Ok(completed(&d))])));
            }
        };
        // Each line leaves as soon as the action says it.
        let events = self.0.invoke_action(&req.action_type, config);
        let events = tokio_stream::wrappers::ReceiverStream::new(events).map(move |e| {
            Ok(match e {
                crate::action::ActionEvent::Progress(message) => pb::invoke_action::Event {
                    r#type: Some(Type::Progress(Progress { message })),
                },
                crate::action::ActionEvent::Completed(d) => completed(&d),
            })
        });
        ok(Box::pin(events))
    }

    async fn validate_list_resource_config(
        &self,
        r: Request<pb::validate_list_resource_config::Request>,
    ) -> Rpc<pb::validate_list_resource_config::Response> {
        let req = r.get_ref();
        let config = decoded!(
            convert::value(req.config.as_ref()),
            &req.type_name,
            "list configuration",
            |diagnostics| pb::validate_list_resource_config::Response { diagnostics }
        );
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
        let config = match convert::value(req.config.as_ref()) {
            Ok(c) => c,
            Err(e) => {
                let d = convert::undecodable(&req.type_name, "list configuration", &e);
                let event = pb::list_resource::Event {
                    diagnostic: convert::diagnostics(&d),
                    ..Default::default()
                };
                return ok(Box::pin(tokio_stream::iter([Ok(event)])));
            }
        };
        let list = ListRequest {
            config,
            include_resource: req.include_resource_object,
            limit: req.limit,
        };
        // Each result leaves as soon as it is found.
        let found = self.0.list(&req.type_name, list);
        let events = tokio_stream::wrappers::ReceiverStream::new(found).map(|f| {
            Ok(pb::list_resource::Event {
                identity: convert::identity_out(Some(&f.identity).filter(|i| !i.is_null())),
                display_name: f.display_name,
                resource_object: f.resource.as_ref().and_then(convert::dynamic),
                diagnostic: convert::diagnostics(&f.diagnostics),
            })
        });
        ok(Box::pin(events))
    }

    async fn generate_resource_config(
        &self,
        r: Request<pb::generate_resource_config::Request>,
    ) -> Rpc<pb::generate_resource_config::Response> {
        let req = r.get_ref();
        let state = decoded!(
            convert::value(req.state.as_ref()),
            &req.type_name,
            "state",
            |diagnostics| pb::generate_resource_config::Response {
                config: None,
                diagnostics,
            }
        );
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
        let arguments = match req
            .arguments
            .iter()
            .map(|a| convert::value(Some(a)))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(a) => a,
            Err(e) => {
                return ok(pb::call_function::Response {
                    result: None,
                    error: Some(convert::function_error(&crate::function::FunctionError {
                        text: format!("Cannot decode the arguments of {}: {e}", req.name),
                        argument: None,
                    })),
                })
            }
        };
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
        let config = decoded!(
            convert::value(req.config.as_ref()),
            &req.type_name,
            "configuration",
            |diagnostics| pb::validate_ephemeral_resource_config::Response { diagnostics }
        );
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
        let config = decoded!(
            convert::value(req.config.as_ref()),
            &req.type_name,
            "configuration",
            |diagnostics| pb::open_ephemeral_resource::Response {
                diagnostics,
                ..Default::default()
            }
        );
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
        let config = decoded!(
            convert::value(r.get_ref().config.as_ref()),
            "the provider",
            "provider configuration",
            |diagnostics| pb::validate_provider_config::Response { diagnostics }
        );
        ok(pb::validate_provider_config::Response {
            diagnostics: convert::diagnostics(&self.0.validate_provider_config(&config)),
        })
    }

    async fn validate_resource_config(
        &self,
        r: Request<pb::validate_resource_config::Request>,
    ) -> Rpc<pb::validate_resource_config::Response> {
        let req = r.get_ref();
        let config = decoded!(
            convert::value(req.config.as_ref()),
            &req.type_name,
            "configuration",
            |diagnostics| pb::validate_resource_config::Response { diagnostics }
        );
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
        let config = decoded!(
            convert::value(req.config.as_ref()),
            &req.type_name,
            "configuration",
            |diagnostics| pb::validate_data_resource_config::Response { diagnostics }
        );
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
            Some(raw) if !raw.json.is_empty() => decoded!(
                Value::from_json(&raw.json),
                &req.type_name,
                "stored state",
                |diagnostics| pb::upgrade_resource_state::Response {
                    upgraded_state: None,
                    diagnostics,
                }
            ),
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

    async fn upgrade_resource_identity(
        &self,
        r: Request<pb::upgrade_resource_identity::Request>,
    ) -> Rpc<pb::upgrade_resource_identity::Response> {
        let req = r.get_ref();
        let refused = |diagnostics| pb::upgrade_resource_identity::Response {
            upgraded_identity: None,
            diagnostics,
        };
        let raw = req
            .raw_identity
            .as_ref()
            .map(|r| r.json.as_slice())
            .unwrap_or_default();
        let identity = decoded!(
            Value::from_json(if raw.is_empty() { b"null" } else { raw }),
            &req.type_name,
            "stored identity",
            refused
        );
        match self
            .0
            .upgrade_resource_identity(&req.type_name, req.version, identity)
        {
            Ok(v) => ok(pb::upgrade_resource_identity::Response {
                upgraded_identity: convert::identity_out(Some(&v)),
                diagnostics: vec![],
            }),
            Err(d) => ok(refused(convert::diagnostics(&d))),
        }
    }

    async fn configure_provider(
        &self,
        r: Request<pb::configure_provider::Request>,
    ) -> Rpc<pb::configure_provider::Response> {
        let config = decoded!(
            convert::value(r.get_ref().config.as_ref()),
            "the provider",
            "provider configuration",
            |diagnostics| pb::configure_provider::Response { diagnostics }
        );
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
        // Answered with the state as Terraform sent it, so nothing is lost.
        let unread = |diagnostics| pb::read_resource::Response {
            new_state: req.current_state.clone(),
            diagnostics,
            private: req.private.clone(),
            deferred: None,
            new_identity: req.current_identity.clone(),
        };
        let state = decoded!(
            convert::value(req.current_state.as_ref()),
            &req.type_name,
            "state",
            unread
        );
        let identity = decoded!(
            convert::identity_in(req.current_identity.as_ref()),
            &req.type_name,
            "identity",
            unread
        );
        let read = ReadRequest {
            state,
            private: req.private,
            client: convert::client_capabilities(req.client_capabilities.as_ref()),
            identity,
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
        let refused = |diagnostics| pb::plan_resource_change::Response {
            diagnostics,
            ..Default::default()
        };
        let t = &req.type_name;
        let input = PlanInput {
            prior: decoded!(
                convert::value(req.prior_state.as_ref()),
                t,
                "prior state",
                refused
            ),
            proposed: decoded!(
                convert::value(req.proposed_new_state.as_ref()),
                t,
                "proposed state",
                refused
            ),
            config: decoded!(
                convert::value(req.config.as_ref()),
                t,
                "configuration",
                refused
            ),
            prior_private: req.prior_private.clone(),
            client: convert::client_capabilities(req.client_capabilities.as_ref()),
            prior_identity: decoded!(
                convert::identity_in(req.prior_identity.as_ref()),
                t,
                "identity",
                refused
            ),
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
        // Answered with the prior state as Terraform sent it: nothing was applied.
        let refused = |diagnostics| pb::apply_resource_change::Response {
            new_state: req.prior_state.clone(),
            private: req.planned_private.clone(),
            diagnostics,
            legacy_type_system: false,
            new_identity: None,
        };
        let t = &req.type_name;
        let input = ApplyInput {
            prior: decoded!(
                convert::value(req.prior_state.as_ref()),
                t,
                "prior state",
                refused
            ),
            planned: decoded!(
                convert::value(req.planned_state.as_ref()),
                t,
                "planned state",
                refused
            ),
            config: decoded!(
                convert::value(req.config.as_ref()),
                t,
                "configuration",
                refused
            ),
            private: req.planned_private.clone(),
            planned_identity: decoded!(
                convert::identity_in(req.planned_identity.as_ref()),
                t,
                "identity",
                refused
            ),
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
        let identity = decoded!(
            convert::identity_in(req.identity.as_ref()),
            &req.type_name,
            "identity",
            |diagnostics| pb::import_resource_state::Response {
                diagnostics,
                ..Default::default()
            }
        );
        let import = ImportRequest {
            id: req.id,
            client: convert::client_capabilities(req.client_capabilities.as_ref()),
            identity,
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
        let config = decoded!(
            convert::value(req.config.as_ref()),
            &req.type_name,
            "configuration",
            |diagnostics| pb::read_data_source::Response {
                diagnostics,
                ..Default::default()
            }
        );
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

#[cfg(test)]
mod tests {
    //! The RPCs as Terraform calls them, on a small provider: what Terraform sees when a value
    //! cannot be decoded, when it stops the provider, when it upgrades an identity and when it
    //! lists.

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::identity::IdentitySchema;
    use crate::list::{ListResource, ListSink, Listed};
    use crate::resource::{ApplyRequest, Outcome, Resource};
    use crate::schema::{Attribute, Block, Schema};
    use pb::provider_server::Provider as _;

    struct Nothing;

    #[async_trait::async_trait]
    impl crate::Provider for Nothing {
        fn schema(&self) -> Schema {
            Schema::new(Block::new("p"))
        }
        async fn configure(&self, _: Value) -> Diagnostics {
            Diagnostics::default()
        }
    }

    struct Thing;

    fn is_slow(v: &Value) -> bool {
        v.get("name").as_str() == Some("slow")
    }

    #[async_trait::async_trait]
    impl Resource for Thing {
        fn type_name(&self) -> &'static str {
            "x_thing"
        }
        fn schema(&self) -> Schema {
            Schema::new(Block::new("t").attribute(Attribute::string("n").named("name").required()))
        }
        fn identity_schema(&self) -> Option<IdentitySchema> {
            let mut s = IdentitySchema::new().required("name", "n");
            s.version = 2;
            Some(s)
        }
        async fn plan(&self, req: crate::resource::PlanRequest) -> crate::resource::PlanResponse {
            if is_slow(&req.config) {
                std::future::pending::<()>().await;
            }
            crate::resource::PlanResponse::proposed(req)
        }
        async fn apply(&self, req: ApplyRequest) -> Outcome {
            Outcome::new(req.planned, vec![], Diagnostics::default())
        }
        async fn read(&self, req: crate::resource::ReadRequest) -> Outcome {
            if is_slow(&req.state) {
                std::future::pending::<()>().await;
            }
            Outcome::new(req.state, req.private, Diagnostics::default())
        }
    }

    struct Many(Arc<AtomicUsize>);

    #[async_trait::async_trait]
    impl ListResource for Many {
        fn type_name(&self) -> &'static str {
            "x_thing"
        }
        fn config_schema(&self) -> Schema {
            Schema::new(Block::new("l"))
        }
        async fn list(&self, _: crate::list::ListRequest, out: &mut ListSink) {
            for i in 0..1000 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                self.0.fetch_add(1, Ordering::SeqCst);
                let mut identity = Value::Map(Default::default());
                identity.set("name", Value::string(format!("t{i}")));
                let listed = Listed {
                    identity,
                    display_name: format!("t{i}"),
                    resource: None,
                    diagnostics: Diagnostics::default(),
                };
                if !out.send(listed).await {
                    return;
                }
            }
        }
    }

    /// Three steps of 100 ms, a line after each; `steps` must be 1 to 3.
    struct Steps;

    #[async_trait::async_trait]
    impl crate::Action for Steps {
        fn type_name(&self) -> &'static str {
            "x_steps"
        }
        fn schema(&self) -> Schema {
            Schema::new(
                Block::new("a").attribute(
                    crate::Attribute::of(crate::Type::Number, "n")
                        .named("steps")
                        .required(),
                ),
            )
        }
        fn validate(&self, config: &Value) -> Diagnostics {
            let mut d = Diagnostics::default();
            if let Some(n) = config.get("steps").as_i64() {
                if !(1..=3).contains(&n) {
                    d.error_at(crate::AttrPath::root("steps"), "Too many", "1 to 3");
                }
            }
            d
        }
        async fn invoke(
            &self,
            config: Value,
            progress: &crate::action::Progress,
            cancel: tokio_util::sync::CancellationToken,
        ) -> Diagnostics {
            let n = config.get("steps").as_i64().expect("validated");
            for i in 0..n {
                if cancel.is_cancelled() {
                    let mut d = Diagnostics::default();
                    d.error("Stopped", format!("after {i}"));
                    return d;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                progress.say(format!("step {i}")).await;
            }
            Diagnostics::default()
        }
    }

    fn grpc() -> (Grpc, Arc<AtomicUsize>) {
        let made = Arc::new(AtomicUsize::new(0));
        let server = Server::new(Nothing)
            .resource(Thing)
            .list_resource(Many(made.clone()))
            .action(Steps);
        (Grpc(Arc::new(server)), made)
    }

    fn steps(n: i64) -> Option<pb::DynamicValue> {
        let mut v = Value::Map(Default::default());
        v.set("steps", Value::Number(crate::value::Number::Int(n)));
        dynamic(&v)
    }

    async fn invoke(
        g: &Grpc,
        config: Option<pb::DynamicValue>,
    ) -> Vec<(Duration, pb::invoke_action::Event)> {
        let started = Instant::now();
        let mut stream = g
            .invoke_action(Request::new(pb::invoke_action::Request {
                action_type: "x_steps".into(),
                config,
                client_capabilities: None,
            }))
            .await
            .unwrap()
            .into_inner();
        let mut events = Vec::new();
        while let Some(e) = stream.next().await {
            events.push((started.elapsed(), e.unwrap()));
        }
        events
    }

    #[tokio::test]
    async fn a_stop_reaches_a_running_action_which_says_what_it_did() {
        use pb::invoke_action::event::Type;
        let (g, _) = grpc();
        let g = Arc::new(g);
        let running = {
            let g = g.clone();
            tokio::spawn(async move { invoke(&g, steps(3)).await })
        };
        tokio::time::sleep(Duration::from_millis(150)).await;
        g.stop_provider(Request::new(pb::stop_provider::Request {}))
            .await
            .unwrap();
        let events = running.await.unwrap();
        let lines = events
            .iter()
            .filter(|(_, e)| matches!(e.r#type, Some(Type::Progress(_))))
            .count();
        assert_eq!(
            lines, 1,
            "the step under way finishes, unsaid (a line after a stop crashes Terraform); no new one starts"
        );
        match &events.last().unwrap().1.r#type {
            Some(Type::Completed(c)) => {
                assert_eq!(c.diagnostics[0].summary, "Stopped");
                assert_eq!(c.diagnostics[0].detail, "after 2");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_action_streams_each_line_as_it_goes_then_completes_once() {
        use pb::invoke_action::event::Type;
        let (g, _) = grpc();
        let events = invoke(&g, steps(3)).await;
        assert_eq!(events.len(), 4, "three lines, then the completion");
        for (i, (at, e)) in events[..3].iter().enumerate() {
            match &e.r#type {
                Some(Type::Progress(p)) => assert_eq!(p.message, format!("step {i}")),
                other => panic!("{other:?}"),
            }
            assert!(
                *at < Duration::from_millis(100 * (i as u64 + 1) + 80),
                "line {i} arrives as it is said, not at the end: {at:?}"
            );
        }
        match &events[3].1.r#type {
            Some(Type::Completed(c)) => assert!(c.diagnostics.is_empty(), "{c:?}"),
            other => panic!("{other:?}"),
        }
        // The server's checks: an unknown type, an invalid or unknown configuration complete at
        // once with an error, and nothing runs.
        for (config, expected) in [
            (steps(9), "Too many"),
            (
                dynamic(&{
                    let mut v = Value::Map(Default::default());
                    v.set("steps", Value::Unknown);
                    v
                }),
                "Action configuration not known",
            ),
        ] {
            let events = invoke(&g, config).await;
            assert_eq!(events.len(), 1);
            match &events[0].1.r#type {
                Some(Type::Completed(c)) => assert_eq!(c.diagnostics[0].summary, expected),
                other => panic!("{other:?}"),
            }
        }
        let plan = g
            .plan_action(Request::new(pb::plan_action::Request {
                action_type: "x_nothing".into(),
                config: steps(1),
                client_capabilities: None,
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(plan.diagnostics[0].summary, "Unknown action type");
        let schema = g
            .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
            .await
            .unwrap()
            .into_inner();
        assert!(schema.action_schemas["x_steps"].schema.is_some());
    }

    fn dynamic(v: &Value) -> Option<pb::DynamicValue> {
        convert::dynamic(v)
    }

    fn thing(name: &str) -> Value {
        let mut v = Value::Map(Default::default());
        v.set("name", Value::string(name));
        v
    }

    fn garbage() -> Option<pb::DynamicValue> {
        Some(pb::DynamicValue {
            msgpack: vec![0xc1, 0xff, 0x00],
            json: vec![],
        })
    }

    #[tokio::test]
    async fn an_undecodable_value_is_a_diagnostic_and_apply_keeps_the_prior_state() {
        let (g, _) = grpc();
        let plan = g
            .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: "x_thing".into(),
                prior_state: garbage(),
                config: dynamic(&thing("a")),
                proposed_new_state: dynamic(&thing("a")),
                ..Default::default()
            }))
            .await
            .expect("answered, not a gRPC error")
            .into_inner();
        assert_eq!(plan.diagnostics.len(), 1);
        assert_eq!(
            plan.diagnostics[0].summary,
            "Unable to read the prior state"
        );
        assert!(plan.diagnostics[0].detail.contains("x_thing"));

        // An array of two holding one value: truncated.
        let prior = pb::DynamicValue {
            msgpack: vec![0x92, 0x01],
            json: vec![],
        };
        let apply = g
            .apply_resource_change(Request::new(pb::apply_resource_change::Request {
                type_name: "x_thing".into(),
                prior_state: Some(prior.clone()),
                planned_state: dynamic(&thing("a")),
                config: dynamic(&thing("a")),
                ..Default::default()
            }))
            .await
            .expect("answered")
            .into_inner();
        assert_eq!(apply.new_state, Some(prior), "the state is left as it was");
        assert_eq!(
            apply.diagnostics[0].summary,
            "Unable to read the prior state"
        );
    }

    #[tokio::test]
    async fn an_identity_from_an_earlier_version_is_upgraded_and_a_newer_one_refused() {
        let (g, _) = grpc();
        let upgrade = |version: i64| {
            g.upgrade_resource_identity(Request::new(pb::upgrade_resource_identity::Request {
                type_name: "x_thing".into(),
                version,
                raw_identity: Some(pb::RawState {
                    json: br#"{"name":"a","dropped_in_v2":"x"}"#.to_vec(),
                    flatmap: Default::default(),
                }),
            }))
        };
        let old = upgrade(1).await.expect("answered").into_inner();
        assert!(old.diagnostics.is_empty(), "{:?}", old.diagnostics);
        let data = old.upgraded_identity.unwrap().identity_data.unwrap();
        let id = Value::from_msgpack(&data.msgpack).unwrap();
        assert_eq!(id, Value::string_map([("name", "a")]));
        let newer = upgrade(3).await.expect("answered").into_inner();
        assert_eq!(
            newer.diagnostics[0].summary,
            "Identity from a newer provider"
        );
    }

    #[tokio::test]
    async fn stop_ends_a_read_and_a_plan_at_once_and_the_next_ones_run() {
        let (g, _) = grpc();
        let g = Arc::new(g);
        let read = |name: &str| {
            let g = g.clone();
            let state = dynamic(&thing(name));
            async move {
                g.read_resource(Request::new(pb::read_resource::Request {
                    type_name: "x_thing".into(),
                    current_state: state,
                    ..Default::default()
                }))
                .await
                .unwrap()
                .into_inner()
            }
        };
        let slow = tokio::spawn(read("slow"));
        let plan = {
            let g = g.clone();
            tokio::spawn(async move {
                g.plan_resource_change(Request::new(pb::plan_resource_change::Request {
                    type_name: "x_thing".into(),
                    config: dynamic(&thing("slow")),
                    proposed_new_state: dynamic(&thing("slow")),
                    ..Default::default()
                }))
                .await
                .unwrap()
                .into_inner()
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let asked = Instant::now();
        g.stop_provider(Request::new(pb::stop_provider::Request {}))
            .await
            .unwrap();
        let (read_out, plan_out) = (slow.await.unwrap(), plan.await.unwrap());
        assert!(asked.elapsed() < Duration::from_secs(1));
        assert_eq!(read_out.diagnostics[0].summary, "Stopped");
        assert_eq!(read_out.new_state, dynamic(&thing("slow")), "state kept");
        assert_eq!(plan_out.diagnostics[0].summary, "Stopped");
        let after = read("fast").await;
        assert!(after.diagnostics.is_empty(), "the next read is not stopped");
    }

    #[tokio::test]
    async fn a_listing_streams_and_stops_at_its_limit() {
        let (g, made) = grpc();
        let started = Instant::now();
        let stream = g
            .list_resource(Request::new(pb::list_resource::Request {
                type_name: "x_thing".into(),
                config: dynamic(&Value::Map(Default::default())),
                include_resource_object: false,
                limit: 3,
            }))
            .await
            .unwrap()
            .into_inner();
        let mut stream = stream;
        let first = stream.next().await.unwrap().unwrap();
        let first_after = started.elapsed();
        assert_eq!(first.display_name, "t0");
        let rest: Vec<_> = stream.collect().await;
        assert_eq!(rest.len(), 2, "three in all");
        assert!(
            first_after < Duration::from_millis(500),
            "the first result arrives before the listing ends: {first_after:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            made.load(Ordering::SeqCst) <= 4,
            "the listing stopped at the limit, having made {}",
            made.load(Ordering::SeqCst)
        );
    }
}
