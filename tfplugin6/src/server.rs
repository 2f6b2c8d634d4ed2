//! The provider server: resources, data sources, ephemeral and list resources registered by
//! type name, and the protocol's calls as methods on plain values. The gRPC layer
//! (`grpc.rs`) only decodes and encodes around these methods, so tests can drive a provider
//! in-process exactly as Terraform does over the wire.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::action::{Action, ActionEvent, ActionPlan, Progress};
use crate::data_source::DataSource;
use crate::diag::Diagnostics;
use crate::ephemeral::{EphemeralResource, Opened, Renewed};
use crate::function::{Function, FunctionError, Signature};
use crate::identity::IdentitySchema;
use crate::list::{ListRequest, ListResource, ListSink, Listed};
use crate::planning;
use crate::provider::Provider;
use crate::resource::{
    ApplyRequest, ClientCapabilities, ImportRequest, Outcome, PlanRequest, PlanResponse,
    ReadRequest, Resource,
};
use crate::schema::Schema;
use crate::transport::Lifecycle;
use crate::validators::validate_block;
use crate::value::Value;
use crate::AttrPath;

pub struct Server {
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) resources: BTreeMap<&'static str, Arc<dyn Resource>>,
    pub(crate) data_sources: BTreeMap<&'static str, Arc<dyn DataSource>>,
    pub(crate) ephemeral_resources: BTreeMap<&'static str, Arc<dyn EphemeralResource>>,
    pub(crate) list_resources: BTreeMap<&'static str, Arc<dyn ListResource>>,
    pub(crate) functions: BTreeMap<&'static str, Arc<dyn Function>>,
    pub(crate) actions: BTreeMap<&'static str, Arc<dyn Action>>,
    pub(crate) lifecycle: Lifecycle,
}

/// What Terraform sends to plan a change, decoded.
pub struct PlanInput {
    pub prior: Value,
    pub proposed: Value,
    pub config: Value,
    pub prior_private: Vec<u8>,
    pub client: ClientCapabilities,
    pub prior_identity: Value,
}

/// What Terraform sends to apply a change, decoded.
pub struct ApplyInput {
    pub prior: Value,
    pub planned: Value,
    pub config: Value,
    pub private: Vec<u8>,
    pub planned_identity: Value,
}

/// Sets are not supported yet (every collection is handled as a list): a schema with one is
/// refused at start-up, naming where, rather than answered wrongly at plan.
fn refuse_sets(kind: &str, name: &str, schema: &Schema) {
    let sets = schema.block.set_paths();
    if !sets.is_empty() {
        panic!(
            "{kind} {name}: its schema has sets at {}, which this crate does not support yet (it would treat them as lists); use lists",
            sets.join(", ")
        );
    }
}

/// A receiver that yields `one` and ends.
fn single(
    tx: tokio::sync::mpsc::Sender<Listed>,
    rx: tokio::sync::mpsc::Receiver<Listed>,
    one: Listed,
) -> tokio::sync::mpsc::Receiver<Listed> {
    let _ = tx.try_send(one);
    rx
}

fn register<T: ?Sized>(
    map: &mut BTreeMap<&'static str, Arc<T>>,
    kind: &str,
    name: &'static str,
    item: Arc<T>,
) {
    if map.insert(name, item).is_some() {
        panic!("{kind} {name} is registered twice");
    }
}

/// The identity of `state`, shaped by the resource's identity schema.
fn identity_of(r: &dyn Resource, state: &Value) -> Option<Value> {
    let schema = r.identity_schema()?;
    r.identity_of(state).map(|id| schema.conform(&id))
}

fn with_identity(r: &dyn Resource, mut out: Outcome) -> Outcome {
    if out.identity.is_none() && !out.state.is_null() {
        out.identity = identity_of(r, &out.state);
    }
    out
}

/// The schema's validators on `config`, then the type's own rules (`rules`).
fn validated(schema: &Schema, config: &Value, rules: impl FnOnce() -> Diagnostics) -> Diagnostics {
    let mut d = Diagnostics::default();
    validate_block(&schema.block, config, &AttrPath::default(), &mut d);
    d.extend(rules());
    d
}

fn unknown_type(kind: &str, type_name: &str) -> Diagnostics {
    let mut d = Diagnostics::default();
    d.error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} named {type_name:?}."),
    );
    d
}

/// What an operation answers when Terraform asked the provider to stop before it finished.
fn stopped(what: &str) -> Diagnostics {
    let mut d = Diagnostics::default();
    d.error(
        "Stopped",
        format!("Terraform asked the provider to stop (Ctrl-C) while it was {what}; it stopped without changing anything."),
    );
    d
}

impl Server {
    /// Runs `work` until it finishes or Terraform asks the provider to stop; then answers
    /// `on_stop` with why. Only for work that changes nothing (reads, plans): dropping it
    /// part way loses nothing, and Terraform gets its answer at once, as terraform-plugin-go
    /// cancels every RPC's context at StopProvider.
    async fn until_stopped<T>(
        &self,
        what: &str,
        work: impl std::future::Future<Output = T>,
        on_stop: impl FnOnce(Diagnostics) -> T,
    ) -> T {
        let token = self.lifecycle.stop.token();
        tokio::select! {
            biased;
            out = work => out,
            () = token.cancelled() => on_stop(stopped(what)),
        }
    }

    pub fn new(provider: impl Provider + 'static) -> Server {
        Server {
            provider: Arc::new(provider),
            resources: BTreeMap::new(),
            data_sources: BTreeMap::new(),
            ephemeral_resources: BTreeMap::new(),
            list_resources: BTreeMap::new(),
            functions: BTreeMap::new(),
            actions: BTreeMap::new(),
            lifecycle: Lifecycle::default(),
        }
    }

    pub fn resource(mut self, r: impl Resource + 'static) -> Server {
        refuse_sets("resource", r.type_name(), &r.schema());
        register(&mut self.resources, "resource", r.type_name(), Arc::new(r));
        self
    }

    pub fn data_source(mut self, d: impl DataSource + 'static) -> Server {
        refuse_sets("data source", d.type_name(), &d.schema());
        register(
            &mut self.data_sources,
            "data source",
            d.type_name(),
            Arc::new(d),
        );
        self
    }

    pub fn ephemeral_resource(mut self, e: impl EphemeralResource + 'static) -> Server {
        let name = e.type_name();
        refuse_sets("ephemeral resource", name, &e.schema());
        register(
            &mut self.ephemeral_resources,
            "ephemeral resource",
            name,
            Arc::new(e),
        );
        self
    }

    pub fn list_resource(mut self, l: impl ListResource + 'static) -> Server {
        register(
            &mut self.list_resources,
            "list resource",
            l.type_name(),
            Arc::new(l),
        );
        self
    }

    pub fn action(mut self, a: impl Action + 'static) -> Server {
        refuse_sets("action", a.type_name(), &a.schema());
        register(&mut self.actions, "action", a.type_name(), Arc::new(a));
        self
    }

    pub fn action_types(&self) -> Vec<&'static str> {
        self.actions.keys().copied().collect()
    }

    pub fn action_schemas(&self) -> BTreeMap<&'static str, Schema> {
        self.actions.iter().map(|(k, a)| (*k, a.schema())).collect()
    }

    fn find_action(&self, type_name: &str) -> Result<&Arc<dyn Action>, Diagnostics> {
        self.actions
            .get(type_name)
            .ok_or_else(|| unknown_type("action", type_name))
    }

    /// The action block's `config`: the schema's validators, then the action's rules.
    pub fn validate_action_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        let a = match self.find_action(type_name) {
            Ok(a) => a,
            Err(d) => return d,
        };
        validated(&a.schema(), config, || a.validate(config))
    }

    /// PlanAction: validation again (Terraform may not have asked), then the action's plan,
    /// which only reads, so a stop ends it at once.
    pub async fn plan_action(
        &self,
        type_name: &str,
        config: &Value,
        client: ClientCapabilities,
    ) -> ActionPlan {
        let d = self.validate_action_config(type_name, config);
        if d.has_errors() {
            return ActionPlan {
                diagnostics: d,
                deferred: None,
            };
        }
        let a = self.find_action(type_name).expect("validated").clone();
        let mut plan = self
            .until_stopped("planning an action", a.plan(config, client), |d| {
                ActionPlan {
                    diagnostics: d,
                    deferred: None,
                }
            })
            .await;
        plan.diagnostics.0.splice(0..0, d.0);
        plan
    }

    /// InvokeAction: progress lines as the action sends them, then one completion. The
    /// configuration must be valid and wholly known (Terraform invokes only then). A stop
    /// reaches the action as its cancellation, so it can say what it did before it stopped.
    pub fn invoke_action(
        &self,
        type_name: &str,
        config: Value,
    ) -> tokio::sync::mpsc::Receiver<ActionEvent> {
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        let mut d = self.validate_action_config(type_name, &config);
        if !d.has_errors() && !config.is_wholly_known() {
            d.error(
                "Action configuration not known",
                format!("Terraform invoked {type_name} with values still unknown; an action runs only once everything it is given is known."),
            );
        }
        if d.has_errors() {
            let _ = tx.try_send(ActionEvent::Completed(d));
            return rx;
        }
        let a = self.find_action(type_name).expect("validated").clone();
        let cancel = self.lifecycle.stop.token();
        tokio::spawn(async move {
            let progress = Progress::new(tx.clone(), cancel.clone());
            let mut done = a.invoke(config, &progress, cancel).await;
            done.0.splice(0..0, d.0);
            let _ = tx.send(ActionEvent::Completed(done)).await;
        });
        rx
    }

    pub fn function(mut self, f: impl Function + 'static) -> Server {
        register(&mut self.functions, "function", f.name(), Arc::new(f));
        self
    }

    pub fn functions(&self) -> BTreeMap<&'static str, Signature> {
        self.functions
            .iter()
            .map(|(k, f)| (*k, f.signature()))
            .collect()
    }

    pub fn call_function(&self, name: &str, arguments: &[Value]) -> Result<Value, FunctionError> {
        match self.functions.get(name) {
            Some(f) => f.call(arguments),
            None => Err(FunctionError {
                text: format!("This provider has no function named {name:?}."),
                argument: None,
            }),
        }
    }

    pub fn ephemeral_resource_types(&self) -> Vec<&'static str> {
        self.ephemeral_resources.keys().copied().collect()
    }

    pub fn ephemeral_resource_schemas(&self) -> BTreeMap<&'static str, Schema> {
        self.ephemeral_resources
            .iter()
            .map(|(k, e)| (*k, e.schema()))
            .collect()
    }

    fn find_ephemeral(&self, type_name: &str) -> Result<&Arc<dyn EphemeralResource>, Diagnostics> {
        self.ephemeral_resources
            .get(type_name)
            .ok_or_else(|| unknown_type("ephemeral resource", type_name))
    }

    pub fn validate_ephemeral_resource_config(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Diagnostics {
        let e = match self.find_ephemeral(type_name) {
            Ok(e) => e,
            Err(d) => return d,
        };
        validated(&e.schema(), config, || e.validate(config))
    }

    pub async fn open_ephemeral_resource(&self, type_name: &str, config: Value) -> Opened {
        let e = match self.find_ephemeral(type_name) {
            Ok(e) => e.clone(),
            Err(d) => return Opened::failed(d),
        };
        let d = self.validate_ephemeral_resource_config(type_name, &config);
        if d.has_errors() {
            return Opened::failed(d);
        }
        e.open(config, self.lifecycle.stop.token()).await
    }

    pub async fn renew_ephemeral_resource(&self, type_name: &str, private: Vec<u8>) -> Renewed {
        match self.find_ephemeral(type_name) {
            Ok(e) => e.clone().renew(private).await,
            Err(diagnostics) => Renewed {
                private,
                renew_at: None,
                diagnostics,
            },
        }
    }

    pub async fn close_ephemeral_resource(&self, type_name: &str, private: Vec<u8>) -> Diagnostics {
        match self.find_ephemeral(type_name) {
            Ok(e) => e.clone().close(private).await,
            Err(d) => d,
        }
    }

    pub fn resource_types(&self) -> Vec<&'static str> {
        self.resources.keys().copied().collect()
    }

    pub fn data_source_types(&self) -> Vec<&'static str> {
        self.data_sources.keys().copied().collect()
    }

    pub fn list_resource_types(&self) -> Vec<&'static str> {
        self.list_resources.keys().copied().collect()
    }

    pub fn list_resource_schemas(&self) -> BTreeMap<&'static str, Schema> {
        self.list_resources
            .iter()
            .map(|(k, l)| (*k, l.config_schema()))
            .collect()
    }

    fn find_list_resource(&self, type_name: &str) -> Result<&Arc<dyn ListResource>, Diagnostics> {
        self.list_resources
            .get(type_name)
            .ok_or_else(|| unknown_type("list resource", type_name))
    }

    /// The `list` block's `config`: the schema's validators, then the list resource's rules.
    pub fn validate_list_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        let l = match self.find_list_resource(type_name) {
            Ok(l) => l,
            Err(d) => return d,
        };
        validated(&l.config_schema(), config, || l.validate(config))
    }

    /// The instances found, streamed as the list resource finds them, each identity shaped by
    /// the managed resource's identity schema. It stops at `limit`, when Terraform stops the
    /// provider (a last entry says so) and when the receiver is dropped.
    pub fn list(&self, type_name: &str, req: ListRequest) -> tokio::sync::mpsc::Receiver<Listed> {
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        let l = match self.find_list_resource(type_name) {
            Ok(l) => l.clone(),
            Err(diagnostics) => return single(tx, rx, Listed::failed(diagnostics)),
        };
        let d = self.validate_list_resource_config(type_name, &req.config);
        if d.has_errors() {
            return single(tx, rx, Listed::failed(d));
        }
        let identity = self
            .resources
            .get(type_name)
            .and_then(|r| r.identity_schema());
        let limit = usize::try_from(req.limit.max(0)).unwrap_or(usize::MAX);
        let stop = self.lifecycle.stop.token();
        tokio::spawn(async move {
            let (found_tx, mut found_rx) = tokio::sync::mpsc::channel::<Listed>(1);
            let mut sink = ListSink::new(found_tx, limit, stop.clone());
            let listing = async move {
                l.list(req, &mut sink).await;
            };
            let forwarding = async {
                while let Some(mut f) = found_rx.recv().await {
                    if let (Some(schema), false) = (&identity, f.identity.is_null()) {
                        f.identity = schema.conform(&f.identity);
                    }
                    if tx.send(f).await.is_err() {
                        break;
                    }
                }
            };
            tokio::select! {
                biased;
                () = stop.cancelled() => {
                    let _ = tx.send(Listed::failed(stopped("listing"))).await;
                }
                _ = async { tokio::join!(listing, forwarding) } => {}
            }
        });
        rx
    }

    pub fn generate_resource_config(
        &self,
        type_name: &str,
        state: &Value,
    ) -> Result<Value, Diagnostics> {
        self.find_resource(type_name)?.generate_config(state)
    }

    pub fn provider_schema(&self) -> Schema {
        self.provider.schema()
    }

    pub fn resource_schemas(&self) -> BTreeMap<&'static str, Schema> {
        self.resources
            .iter()
            .map(|(k, r)| (*k, r.schema()))
            .collect()
    }

    pub fn data_source_schemas(&self) -> BTreeMap<&'static str, Schema> {
        self.data_sources
            .iter()
            .map(|(k, d)| (*k, d.schema()))
            .collect()
    }

    fn find_resource(&self, type_name: &str) -> Result<&Arc<dyn Resource>, Diagnostics> {
        self.resources
            .get(type_name)
            .ok_or_else(|| unknown_type("resource", type_name))
    }

    fn find_data_source(&self, type_name: &str) -> Result<&Arc<dyn DataSource>, Diagnostics> {
        self.data_sources
            .get(type_name)
            .ok_or_else(|| unknown_type("data source", type_name))
    }

    pub fn validate_provider_config(&self, config: &Value) -> Diagnostics {
        validated(&self.provider.schema(), config, || {
            self.provider.validate(config)
        })
    }

    pub async fn configure_provider(&self, config: Value) -> Diagnostics {
        let d = self.validate_provider_config(&config);
        if d.has_errors() {
            return d;
        }
        let mut out = d;
        let configured = self
            .until_stopped("configuring", self.provider.configure(config), |d| d)
            .await;
        out.extend(configured);
        out
    }

    /// The schema's validators, then the resource's own rules.
    pub fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        let r = match self.find_resource(type_name) {
            Ok(r) => r,
            Err(d) => return d,
        };
        validated(&r.schema(), config, || r.validate(config))
    }

    pub async fn plan_resource_change(&self, type_name: &str, input: PlanInput) -> PlanResponse {
        tracing::debug!(
            type_name,
            deferral_allowed = input.client.deferral_allowed,
            "planning"
        );
        let r = match self.find_resource(type_name) {
            Ok(r) => r.clone(),
            Err(diagnostics) => {
                return PlanResponse {
                    planned: input.prior,
                    requires_replace: vec![],
                    private: input.prior_private,
                    diagnostics,
                    deferred: None,
                    identity: None,
                }
            }
        };
        let (proposed, requires_replace) = if input.proposed.is_null() {
            (Value::Null, Vec::new())
        } else {
            let p = planning::propose(
                &r.schema().block,
                &input.prior,
                &input.proposed,
                &input.config,
            );
            (p.planned, p.requires_replace)
        };
        let (prior, private) = (input.prior.clone(), input.prior_private.clone());
        let plan = r.plan(PlanRequest {
            prior: input.prior,
            proposed,
            config: input.config,
            prior_private: input.prior_private,
            requires_replace,
            client: input.client,
            prior_identity: input.prior_identity,
        });
        let mut out = self
            .until_stopped("planning", plan, |diagnostics| PlanResponse {
                planned: prior,
                requires_replace: vec![],
                private,
                diagnostics,
                deferred: None,
                identity: None,
            })
            .await;
        if out.identity.is_none() && !out.planned.is_null() {
            out.identity = identity_of(r.as_ref(), &out.planned);
        }
        out
    }

    /// ApplyResourceChange; the server supplies the cancellation token.
    pub async fn apply_resource_change(&self, type_name: &str, input: ApplyInput) -> Outcome {
        let r = match self.find_resource(type_name) {
            Ok(r) => r.clone(),
            Err(d) => return Outcome::unchanged(input.prior, input.private, d),
        };
        let out = r
            .apply(ApplyRequest {
                prior: input.prior,
                planned: input.planned,
                config: input.config,
                private: input.private,
                cancel: self.lifecycle.stop.token(),
                planned_identity: input.planned_identity,
            })
            .await;
        with_identity(r.as_ref(), out)
    }

    pub fn identity_schemas(&self) -> BTreeMap<&'static str, IdentitySchema> {
        self.resources
            .iter()
            .filter_map(|(k, r)| Some((*k, r.identity_schema()?)))
            .collect()
    }

    pub async fn read_resource(&self, type_name: &str, req: ReadRequest) -> Outcome {
        let r = match self.find_resource(type_name) {
            Ok(r) => r.clone(),
            Err(d) => return Outcome::unchanged(req.state, req.private, d),
        };
        let (state, private) = (req.state.clone(), req.private.clone());
        let read = self
            .until_stopped("reading", r.read(req), |d| {
                Outcome::unchanged(state, private, d)
            })
            .await;
        with_identity(r.as_ref(), read)
    }

    pub async fn import_resource_state(&self, type_name: &str, req: ImportRequest) -> Outcome {
        let r = match self.find_resource(type_name) {
            Ok(r) => r.clone(),
            Err(d) => return Outcome::unchanged(Value::Null, vec![], d),
        };
        let imported = self
            .until_stopped("importing", r.import(req), |d| {
                Outcome::unchanged(Value::Null, vec![], d)
            })
            .await;
        with_identity(r.as_ref(), imported)
    }

    pub fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        state: Value,
    ) -> Result<Value, Diagnostics> {
        self.find_resource(type_name)?.upgrade(version, state)
    }

    pub fn upgrade_resource_identity(
        &self,
        type_name: &str,
        version: i64,
        identity: Value,
    ) -> Result<Value, Diagnostics> {
        self.find_resource(type_name)?
            .upgrade_identity(version, identity)
    }

    pub fn validate_data_source_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        let ds = match self.find_data_source(type_name) {
            Ok(ds) => ds,
            Err(d) => return d,
        };
        validated(&ds.schema(), config, || ds.validate(config))
    }

    pub async fn read_data_source(&self, type_name: &str, config: Value) -> Outcome {
        let ds = match self.find_data_source(type_name) {
            Ok(ds) => ds.clone(),
            Err(d) => return Outcome::unchanged(Value::Null, vec![], d),
        };
        self.until_stopped("reading", ds.read(config), |d| {
            Outcome::unchanged(Value::Null, vec![], d)
        })
        .await
    }

    /// StopProvider: in-flight applies see their cancellation token fire; later ones get a
    /// fresh token.
    pub fn stop(&self) {
        tracing::info!("stop requested: cancelling in-flight operations");
        self.lifecycle.stop.fire();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, Block, Type};

    #[test]
    #[should_panic(expected = "resource x_thing: its schema has sets at ids")]
    fn a_schema_with_a_set_is_refused_at_start_up() {
        let block = Block::new("x")
            .attribute(Attribute::new("ids", Type::set_of_strings(), "i").optional());
        refuse_sets("resource", "x_thing", &Schema::new(block));
    }
}
