//! What an ephemeral resource implements: a value opened for one Terraform run and never
//! stored in state or plan (protocol 6.7+).

use std::time::SystemTime;

use async_trait::async_trait;

use crate::diag::Diagnostics;
use crate::schema::Schema;
use crate::value::Value;

pub struct Opened {
    pub result: Value,
    /// Handed back to `renew` and `close`.
    pub private: Vec<u8>,
    pub renew_at: Option<SystemTime>,
    pub diagnostics: Diagnostics,
}

impl Opened {
    /// Nothing opened: only why.
    pub fn failed(diagnostics: Diagnostics) -> Opened {
        Opened {
            result: Value::Null,
            private: vec![],
            renew_at: None,
            diagnostics,
        }
    }
}

pub struct Renewed {
    pub private: Vec<u8>,
    pub renew_at: Option<SystemTime>,
    pub diagnostics: Diagnostics,
}

#[async_trait]
pub trait EphemeralResource: Send + Sync {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }

    /// `cancel` fires when Terraform asks the provider to stop (Ctrl-C): stop waiting, but
    /// let a call that creates something finish, so what it made is returned (and closed).
    async fn open(&self, config: Value, cancel: tokio_util::sync::CancellationToken) -> Opened;

    async fn renew(&self, private: Vec<u8>) -> Renewed {
        Renewed {
            private,
            renew_at: None,
            diagnostics: Diagnostics::default(),
        }
    }

    async fn close(&self, _private: Vec<u8>) -> Diagnostics {
        Diagnostics::default()
    }
}
