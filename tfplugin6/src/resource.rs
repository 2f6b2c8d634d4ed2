//! What a managed resource implements. The server decodes each request, finds the resource
//! by type name, runs what the schema declares (validators, defaults, replacement), and
//! calls these methods with plain values; they never see the protocol's types.

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::diag::{AttrPath, Diagnostics};
use crate::identity::IdentitySchema;
use crate::schema::Schema;
use crate::value::Value;

/// What Terraform can handle, as it told the provider in the request.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ClientCapabilities {
    pub deferral_allowed: bool,
}

/// Why a change cannot be planned, or an object read, in this run (protocol 6.6's
/// `Deferred.Reason`). Only returned when the client announced `deferral_allowed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deferral {
    ResourceConfigUnknown,
    ProviderConfigUnknown,
    AbsentPrereq,
}

impl ClientCapabilities {
    /// `Some(reason)` when `cannot_proceed` and the client can take a deferral.
    pub fn defer_if(&self, cannot_proceed: bool, reason: Deferral) -> Option<Deferral> {
        (self.deferral_allowed && cannot_proceed).then_some(reason)
    }
}

/// PlanResourceChange, after the server applied the schema's defaults and found the
/// attributes whose change requires a replacement.
pub struct PlanRequest {
    /// Null when the resource is being created.
    pub prior: Value,
    /// The configuration merged with the prior state, defaults filled. Null for a destroy.
    pub proposed: Value,
    pub config: Value,
    pub prior_private: Vec<u8>,
    /// Paths the schema says replace the resource and that changed.
    pub requires_replace: Vec<AttrPath>,
    pub client: ClientCapabilities,
    /// The identity stored with the prior state (null when none).
    pub prior_identity: Value,
}

impl PlanRequest {
    pub fn is_create(&self) -> bool {
        self.prior.is_null()
    }

    pub fn is_destroy(&self) -> bool {
        self.proposed.is_null()
    }

    /// Create, or a replacement: everything will be made anew.
    pub fn makes_new(&self) -> bool {
        self.is_create() || !self.requires_replace.is_empty()
    }
}

pub struct PlanResponse {
    pub planned: Value,
    pub requires_replace: Vec<AttrPath>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
    pub deferred: Option<Deferral>,
    /// The identity the object will have, when the resource has an identity schema.
    pub identity: Option<Value>,
}

impl PlanResponse {
    /// The proposal as it stands: what a resource without plan logic returns.
    pub fn proposed(req: PlanRequest) -> PlanResponse {
        PlanResponse {
            planned: req.proposed,
            requires_replace: req.requires_replace,
            private: req.prior_private,
            diagnostics: Diagnostics::default(),
            deferred: None,
            identity: None,
        }
    }
}

/// ApplyResourceChange: create (prior null), update, or destroy (planned null).
pub struct ApplyRequest {
    pub prior: Value,
    pub planned: Value,
    pub config: Value,
    pub private: Vec<u8>,
    /// Cancelled when Terraform asks the provider to stop (Ctrl-C).
    pub cancel: CancellationToken,
    pub planned_identity: Value,
}

impl ApplyRequest {
    pub fn is_destroy(&self) -> bool {
        self.planned.is_null()
    }
}

/// ReadResource: the state as last saved.
pub struct ReadRequest {
    pub state: Value,
    pub private: Vec<u8>,
    pub client: ClientCapabilities,
    /// The identity stored with the state (null when none, as after an upgrade).
    pub identity: Value,
}

/// ImportResourceState: the ID the user gave, or (Terraform and OpenTofu 1.12+) the identity.
pub struct ImportRequest {
    /// Empty when the user gave an identity.
    pub id: String,
    pub client: ClientCapabilities,
    /// Null when the user gave an ID.
    pub identity: Value,
}

/// What apply, read and import return: the new state (null when the object is gone), the
/// resource's private data, and diagnostics.
#[derive(Debug, Default)]
pub struct Outcome {
    pub state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
    /// Read and import only: the object could not be looked at in this run.
    pub deferred: Option<Deferral>,
    /// The object's identity, when the resource has an identity schema and the object exists.
    pub identity: Option<Value>,
}

impl Outcome {
    pub fn new(state: Value, private: Vec<u8>, diagnostics: Diagnostics) -> Outcome {
        Outcome {
            state,
            private,
            diagnostics,
            deferred: None,
            identity: None,
        }
    }

    /// Nothing changes: `state` and `private` as they were, with an explanation.
    pub fn unchanged(state: Value, private: Vec<u8>, diagnostics: Diagnostics) -> Outcome {
        Outcome::new(state, private, diagnostics)
    }

    /// The object as it was, looked at in a later run.
    pub fn deferred(state: Value, private: Vec<u8>, reason: Deferral) -> Outcome {
        Outcome {
            state,
            private,
            diagnostics: Diagnostics::default(),
            deferred: Some(reason),
            identity: None,
        }
    }
}

#[async_trait]
pub trait Resource: Send + Sync {
    /// The full type name, `<provider>_<name>`.
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// The attributes that name one object for good, when the resource has them.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }

    /// The identity of the object a state describes, when it is known. The server returns it
    /// from plan, apply, read and import.
    fn identity_of(&self, _state: &Value) -> Option<Value> {
        None
    }

    /// Configuration that, imported with this state, plans no change (`terraform query
    /// -generate-config-out`). By default: the state without what only the provider sets.
    fn generate_config(&self, state: &Value) -> Result<Value, Diagnostics> {
        Ok(self.schema().block.config_from_state(state))
    }

    /// Rules across attributes; the schema's single-attribute validators have already run.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }

    /// Refines the server's proposal: computed values, unknowns, warnings.
    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        PlanResponse::proposed(req)
    }

    async fn apply(&self, req: ApplyRequest) -> Outcome;

    async fn read(&self, req: ReadRequest) -> Outcome;

    async fn import(&self, req: ImportRequest) -> Outcome {
        let mut diagnostics = Diagnostics::default();
        diagnostics.error(
            "Import not supported",
            format!("{} cannot be imported ({:?}).", self.type_name(), req.id),
        );
        Outcome {
            diagnostics,
            ..Outcome::default()
        }
    }

    /// An identity stored under an earlier identity schema `version`, decoded from its JSON.
    /// By default the attributes the current schema shares with it are kept (a renamed or
    /// added attribute needs an override); one from a newer provider is refused.
    fn upgrade_identity(&self, version: i64, identity: Value) -> Result<Value, Diagnostics> {
        let Some(schema) = self.identity_schema() else {
            let mut d = Diagnostics::default();
            d.error(
                "No identity",
                format!("{} has no resource identity to upgrade.", self.type_name()),
            );
            return Err(d);
        };
        if version > schema.version {
            let mut d = Diagnostics::default();
            d.error(
                "Identity from a newer provider",
                format!(
                    "The identity of {} has schema version {version}; this provider knows up to {}. Upgrade the provider.",
                    self.type_name(),
                    schema.version
                ),
            );
            return Err(d);
        }
        Ok(schema.conform(&identity))
    }

    /// State written by an earlier schema `version`, decoded from its JSON. By default it is
    /// fitted to the current schema's shape.
    fn upgrade(&self, version: i64, state: Value) -> Result<Value, Diagnostics> {
        let schema = self.schema();
        if version > schema.version {
            let mut d = Diagnostics::default();
            d.error(
                "State from a newer provider",
                format!(
                    "The state of {} has schema version {version}; this provider knows up to {}. Upgrade the provider.",
                    self.type_name(),
                    schema.version
                ),
            );
            return Err(d);
        }
        Ok(if state.is_null() {
            state
        } else {
            schema.block.conform(&state)
        })
    }
}
