//! Terraform's side of one resource instance, in process: the proposal it builds, plan (and
//! the second plan of a replacement), the final plan at apply with the configuration's values
//! all known, apply, and refresh, each answer checked against [`terraform_rules`] as Terraform
//! checks it. Values cross msgpack both ways, as on the wire. Tests drive a provider's
//! [`Server`] through it instead of asserting what they expect Terraform to accept.

use crate::diag::{AttrPath, Diagnostics, Step};
use crate::resource::{ClientCapabilities, ReadRequest};
use crate::schema::{Block, Nesting};
use crate::server::{ApplyInput, PlanInput, Server};
use crate::terraform_rules::{self as rules, Violation};
use crate::value::Value;

/// `objchange.ProposedNew`: the configuration, with the prior state's value wherever the
/// configuration leaves a computed attribute null; nested list blocks pair by index.
pub fn proposed_new(block: &Block, prior: &Value, config: &Value) -> Value {
    if config.is_null() || config.is_unknown() {
        return config.clone();
    }
    let mut out = config.clone();
    for a in &block.attributes {
        let c = config.get(&a.name);
        if a.computed && c.is_null() {
            out.set(&a.name, prior.get(&a.name).clone());
        }
    }
    for b in block.blocks.iter().filter(|b| b.nesting == Nesting::List) {
        let c = config.get(&b.name);
        let Value::List(items) = c else { continue };
        let prior_items = prior.get(&b.name).as_list();
        let merged = items
            .iter()
            .enumerate()
            .map(|(i, item)| match prior_items.get(i) {
                Some(p) => proposed_new(&b.block, p, item),
                None => item.clone(),
            })
            .collect();
        out.set(&b.name, Value::List(merged));
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    NoOp,
    Create,
    Update,
    /// Delete, then create (Terraform's default).
    Replace,
}

/// What the state file holds for the instance.
#[derive(Clone, Debug, Default)]
pub struct Stored {
    pub state: Value,
    pub private: Vec<u8>,
    pub identity: Value,
    /// A create that returned an error: the next plan replaces it.
    pub tainted: bool,
}

/// A plan Terraform accepted (or the diagnostics that stopped it).
#[derive(Clone, Debug)]
pub struct Planned {
    pub action: Action,
    pub planned: Value,
    pub private: Vec<u8>,
    pub identity: Value,
    pub diagnostics: Diagnostics,
}

impl Planned {
    fn stopped(diagnostics: Diagnostics) -> Planned {
        Planned {
            action: Action::NoOp,
            planned: Value::Null,
            private: Vec::new(),
            identity: Value::Null,
            diagnostics,
        }
    }

    pub fn failed(&self) -> bool {
        self.diagnostics.has_errors()
    }
}

/// Where a violation was found and what it was.
#[derive(Clone, Debug)]
pub struct Found {
    pub step: &'static str,
    pub violation: Violation,
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.step, self.violation)
    }
}

/// One resource type's walk; every violation found is kept in `found`.
pub struct Walk {
    pub type_name: &'static str,
    block: Block,
    identity: Option<crate::identity::IdentitySchema>,
    pub found: Vec<Found>,
}

/// The prior a replacement's new object is planned from: none, but with the private data of
/// the plan that chose the replacement, as Terraform passes it (`PriorPrivate: plannedPrivate`).
fn replacement_of(planned: &Planned) -> Stored {
    Stored {
        private: planned.private.clone(),
        ..Stored::default()
    }
}

fn wire(v: &Value) -> Value {
    Value::from_msgpack(&v.to_msgpack()).expect("what we encode decodes")
}

fn at_path<'a>(v: &'a Value, path: &AttrPath) -> &'a Value {
    static NULL: Value = Value::Null;
    let mut v = v;
    for step in &path.0 {
        v = match step {
            Step::Attr(name) | Step::Key(name) => v.get(name),
            Step::Index(i) => v.as_list().get(*i as usize).unwrap_or(&NULL),
        };
    }
    v
}

impl Walk {
    pub fn new(server: &Server, type_name: &'static str) -> Walk {
        let block = server.resource_schemas()[type_name].block.clone();
        let identity = server.identity_schemas().remove(type_name);
        Walk {
            type_name,
            block,
            identity,
            found: Vec::new(),
        }
    }

    fn record(&mut self, step: &'static str, violations: Vec<Violation>) {
        self.found.extend(
            violations
                .into_iter()
                .map(|violation| Found { step, violation }),
        );
    }

    /// `terraform plan` for this instance: validate, propose, plan, check; for a replacement,
    /// the second plan from a null prior, as Terraform makes it.
    pub async fn plan(&mut self, server: &Server, prior: &Stored, config: &Value) -> Planned {
        let config = wire(config);
        let d = server.validate_resource_config(self.type_name, &config);
        if d.has_errors() {
            return Planned::stopped(d);
        }
        let mut planned = self.plan_once(server, "plan", prior, &config).await;
        planned.diagnostics.0.splice(0..0, d.0);
        if planned.action == Action::Replace && !planned.failed() {
            let fresh = replacement_of(&planned);
            let mut new = self
                .plan_once(server, "plan (replacement)", &fresh, &config)
                .await;
            new.action = Action::Replace;
            new.diagnostics.0.splice(0..0, planned.diagnostics.0);
            return new;
        }
        planned
    }

    async fn plan_once(
        &mut self,
        server: &Server,
        step: &'static str,
        prior: &Stored,
        config: &Value,
    ) -> Planned {
        let prior_state = wire(&prior.state);
        let proposed = proposed_new(&self.block, &prior_state, config);
        let resp = server
            .plan_resource_change(
                self.type_name,
                PlanInput {
                    prior: prior_state.clone(),
                    proposed,
                    config: config.clone(),
                    prior_private: prior.private.clone(),
                    client: ClientCapabilities::default(),
                    prior_identity: prior.identity.clone(),
                },
            )
            .await;
        if resp.diagnostics.has_errors() {
            return Planned::stopped(resp.diagnostics);
        }
        let planned = wire(&resp.planned);
        let mut v = rules::conforms(&self.block, &planned, rules::INVALID_PLAN);
        v.extend(rules::plan_valid(
            &self.block,
            &prior_state,
            config,
            &planned,
        ));
        v.extend(rules::replace_paths_exist(
            &self.block,
            &prior_state,
            &planned,
            &resp.requires_replace,
        ));
        let replacing = resp
            .requires_replace
            .iter()
            .any(|p| at_path(&planned, p) != at_path(&prior_state, p));
        let action = if prior_state.is_null() {
            Action::Create
        } else if prior.tainted {
            Action::Replace
        } else if planned == prior_state {
            Action::NoOp
        } else if replacing {
            Action::Replace
        } else {
            Action::Update
        };
        let identity = resp.identity.map(|i| wire(&i)).unwrap_or_default();
        if matches!(action, Action::NoOp | Action::Update) {
            v.extend(rules::same_identity(&prior.identity, &identity, "plan"));
        }
        self.record(step, v);
        Planned {
            action,
            planned,
            private: resp.private,
            identity,
            diagnostics: resp.diagnostics,
        }
    }

    /// `terraform apply` of `first`: the final plan with `config`'s values known (on
    /// `server`, the apply run's provider), checked against the first, then the apply,
    /// checked against the final plan. Returns what the state then holds, and the
    /// diagnostics the run showed.
    pub async fn apply(
        &mut self,
        server: &Server,
        prior: &Stored,
        first: &Planned,
        config: &Value,
    ) -> (Stored, Diagnostics) {
        let config = wire(config);
        let mut shown = server.validate_resource_config(self.type_name, &config);
        if shown.has_errors() {
            return (prior.clone(), shown);
        }
        let mut prior = prior.clone();
        if first.action == Action::Replace {
            let (gone, d) = self.destroy(server, &prior).await;
            shown.extend(d);
            if !gone.state.is_null() {
                return (gone, shown);
            }
            prior = gone;
        }
        let fin = self.final_plan(server, &prior, first, &config).await;
        shown.extend(fin.diagnostics.clone());
        if fin.failed() {
            return (prior, shown);
        }
        if fin.action == Action::NoOp {
            return (prior, shown);
        }
        let out = server
            .apply_resource_change(
                self.type_name,
                ApplyInput {
                    prior: wire(&prior.state),
                    planned: fin.planned.clone(),
                    config,
                    private: fin.private.clone(),
                    planned_identity: fin.identity.clone(),
                },
            )
            .await;
        let failed = out.diagnostics.has_errors();
        shown.extend(out.diagnostics);
        let state = wire(&out.state);
        let mut v = rules::conforms(&self.block, &state, rules::INVALID_OBJECT);
        v.extend(rules::wholly_known(&state, rules::INVALID_OBJECT));
        if !failed {
            v.extend(rules::object_compatible(
                &self.block,
                &fin.planned,
                &state,
                rules::INCONSISTENT_RESULT,
            ));
        }
        let identity = out.identity.map(|i| wire(&i)).unwrap_or_default();
        v.extend(self.identity_checks(&state, &identity, !failed));
        if fin.action == Action::Update {
            v.extend(rules::same_identity(&prior.identity, &identity, "apply"));
        }
        self.record("apply", v);
        // Terraform taints an object whose create returned an error.
        let tainted = !state.is_null() && failed && fin.action == Action::Create;
        (
            Stored {
                state,
                private: out.private,
                identity,
                tainted,
            },
            shown,
        )
    }

    /// The plan Terraform makes again at apply, with the configuration's values known, checked
    /// against `first`: the same action, and every value `first` knew unchanged.
    pub async fn final_plan(
        &mut self,
        server: &Server,
        prior: &Stored,
        first: &Planned,
        config: &Value,
    ) -> Planned {
        // A replacement's object is gone by then: its final plan is a create's, from no
        // prior state and no private data.
        let prior = if first.action == Action::Replace {
            Stored::default()
        } else {
            prior.clone()
        };
        let config = wire(config);
        let fin = self.plan_once(server, "final plan", &prior, &config).await;
        if fin.failed() {
            return fin;
        }
        // An update may turn out a no-op once its unknowns are known (Terraform's
        // checkPlannedChange allows exactly that).
        let same_action = fin.action == first.action
            || (first.action == Action::Replace && fin.action == Action::Create)
            || (first.action == Action::Update && fin.action == Action::NoOp);
        if !same_action {
            self.record(
                "final plan",
                vec![Violation {
                    rule: rules::INCONSISTENT_FINAL_PLAN,
                    path: AttrPath::default(),
                    message: format!(
                        "changed the planned action from {:?} to {:?}",
                        first.action, fin.action
                    ),
                }],
            );
        }
        let v = rules::object_compatible(
            &self.block,
            &first.planned,
            &fin.planned,
            rules::INCONSISTENT_FINAL_PLAN,
        );
        self.record("final plan", v);
        fin
    }

    /// An identity given is of the schema and wholly known. Terraform accepts none (it then
    /// stores none), but after an apply without errors the object exists and has one (the
    /// plugin framework's "Missing Resource Identity After Create/Update").
    fn identity_checks(&self, state: &Value, identity: &Value, complete: bool) -> Vec<Violation> {
        match (&self.identity, state.is_null()) {
            (Some(schema), false) if !identity.is_null() => rules::identity_valid(schema, identity),
            (Some(_), false) if complete => vec![Violation {
                rule: rules::INVALID_IDENTITY,
                path: AttrPath::default(),
                message: "an object without its identity after an apply without errors".into(),
            }],
            _ => Vec::new(),
        }
    }

    /// `terraform destroy` of the instance (plan, then apply).
    pub async fn destroy(&mut self, server: &Server, prior: &Stored) -> (Stored, Diagnostics) {
        if prior.state.is_null() {
            return (prior.clone(), Diagnostics::default());
        }
        let plan = server
            .plan_resource_change(
                self.type_name,
                PlanInput {
                    prior: wire(&prior.state),
                    proposed: Value::Null,
                    config: Value::Null,
                    prior_private: prior.private.clone(),
                    client: ClientCapabilities::default(),
                    prior_identity: prior.identity.clone(),
                },
            )
            .await;
        let mut shown = plan.diagnostics;
        if shown.has_errors() {
            return (prior.clone(), shown);
        }
        if !plan.planned.is_null() {
            self.record(
                "destroy plan",
                vec![Violation {
                    rule: rules::INVALID_PLAN,
                    path: AttrPath::default(),
                    message: "planned for existence but config wants absence".into(),
                }],
            );
        }
        let out = server
            .apply_resource_change(
                self.type_name,
                ApplyInput {
                    prior: wire(&prior.state),
                    planned: Value::Null,
                    config: Value::Null,
                    private: prior.private.clone(),
                    planned_identity: prior.identity.clone(),
                },
            )
            .await;
        let failed = out.diagnostics.has_errors();
        shown.extend(out.diagnostics);
        let state = wire(&out.state);
        if !failed && !state.is_null() {
            self.record(
                "destroy",
                vec![Violation {
                    rule: rules::INCONSISTENT_RESULT,
                    path: AttrPath::default(),
                    message: "Root object was absent, but now present".into(),
                }],
            );
        }
        let kept = if state.is_null() {
            Stored::default()
        } else {
            Stored {
                state,
                private: out.private,
                ..prior.clone()
            }
        };
        (kept, shown)
    }

    /// `terraform refresh` (the first step of every plan): ReadResource, checked.
    pub async fn refresh(&mut self, server: &Server, stored: &Stored) -> (Stored, Diagnostics) {
        if stored.state.is_null() {
            return (stored.clone(), Diagnostics::default());
        }
        let out = server
            .read_resource(
                self.type_name,
                ReadRequest {
                    state: wire(&stored.state),
                    private: stored.private.clone(),
                    client: ClientCapabilities::default(),
                    identity: stored.identity.clone(),
                },
            )
            .await;
        if out.diagnostics.has_errors() {
            return (stored.clone(), out.diagnostics);
        }
        let state = wire(&out.state);
        let identity = out.identity.map(|i| wire(&i)).unwrap_or_default();
        let mut v = rules::conforms(&self.block, &state, rules::INVALID_OBJECT);
        v.extend(rules::wholly_known(&state, rules::INVALID_OBJECT));
        v.extend(self.identity_checks(&state, &identity, false));
        v.extend(rules::same_identity(&stored.identity, &identity, "refresh"));
        self.record("refresh", v);
        let fresh = Stored {
            state,
            private: out.private,
            identity,
            tainted: stored.tainted,
        };
        (fresh, out.diagnostics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock};

    #[test]
    fn the_proposal_keeps_prior_computed_values_the_config_leaves_null() {
        let block = Block::new("r")
            .attribute(Attribute::string("n").named("name").required())
            .attribute(Attribute::string("a").named("arn").computed())
            .attribute(
                Attribute::string("v")
                    .named("version")
                    .optional()
                    .computed(),
            )
            .block(
                NestedBlock::list()
                    .named("net")
                    .of(Block::new("n").attribute(Attribute::string("i").named("id").computed())),
            );
        let mut prior = block.null_object();
        prior.set("name", Value::string("a"));
        prior.set("arn", Value::string("arn:1"));
        prior.set("version", Value::string("1.33"));
        let mut net = Value::Map(Default::default());
        net.set("id", Value::string("n-1"));
        prior.set("net", Value::List(vec![net]));
        let mut config = block.null_object();
        config.set("name", Value::string("b"));
        let mut net_config = Value::Map(Default::default());
        net_config.set("id", Value::Null);
        config.set("net", Value::List(vec![net_config.clone(), net_config]));
        let p = proposed_new(&block, &prior, &config);
        assert_eq!(p.get("name"), &Value::string("b"));
        assert_eq!(p.get("arn"), &Value::string("arn:1"));
        assert_eq!(p.get("version"), &Value::string("1.33"));
        assert_eq!(p.get("net").as_list()[0].get("id"), &Value::string("n-1"));
        assert_eq!(p.get("net").as_list()[1].get("id"), &Value::Null);
    }
}
