//! What went wrong talking to AWS, kept in the form a user can act on: the step, AWS's code
//! and message, and the request ID AWS support asks for.

use std::sync::Arc;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;

#[derive(Clone, Debug, thiserror::Error)]
pub enum AwsError {
    /// AWS answered the call with an error.
    #[error("{step}: {code}: {message}{}", request_id_note(request_id.as_deref()))]
    Api {
        step: String,
        code: String,
        message: String,
        request_id: Option<String>,
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
    #[error("{step}: timed out; raise the matching value in the resource's `timeouts` block if AWS is just slow")]
    Timeout { step: String },
    #[error("{step}: the operation was interrupted (Ctrl-C or provider shutdown)")]
    Cancelled { step: String },
    #[error("{step}: AWS returned no {what}")]
    InvalidResponse { step: String, what: String },
    /// An object everything else depends on was deleted outside Terraform.
    #[error("{step}: {message}")]
    CannotRepair { step: String, message: String },
    /// AWS's answers were fine, but what they describe stops the provider: a name taken by an
    /// object it does not own, an attachment awaiting acceptance, a failed object.
    #[error("{step}: {code}: {message}")]
    Refused {
        step: String,
        code: String,
        message: String,
    },
}

fn request_id_note(id: Option<&str>) -> String {
    id.map(|id| format!(" (request ID: {id})"))
        .unwrap_or_default()
}

impl AwsError {
    pub fn refused(
        step: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> AwsError {
        AwsError::Refused {
            step: step.into(),
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn invalid_response(step: impl Into<String>, what: impl Into<String>) -> AwsError {
        AwsError::InvalidResponse {
            step: step.into(),
            what: what.into(),
        }
    }

    pub fn step(&self) -> &str {
        match self {
            AwsError::Api { step, .. }
            | AwsError::Timeout { step }
            | AwsError::Cancelled { step }
            | AwsError::InvalidResponse { step, .. }
            | AwsError::CannotRepair { step, .. }
            | AwsError::Refused { step, .. } => step,
        }
    }

    /// AWS's error code, or the kind of failure.
    pub fn code(&self) -> &str {
        match self {
            AwsError::Api { code, .. } | AwsError::Refused { code, .. } => code,
            AwsError::Timeout { .. } => "Timeout",
            AwsError::Cancelled { .. } => "Cancelled",
            AwsError::InvalidResponse { .. } => "InvalidResponse",
            AwsError::CannotRepair { .. } => "CannotRepairInPlace",
        }
    }

    /// What the user reads under the step: code, message and request ID.
    pub fn detail(&self) -> String {
        match self {
            AwsError::Api {
                code,
                message,
                request_id,
                ..
            } => {
                let code = if code.is_empty() { "Error" } else { code };
                format!(
                    "{code}: {message}{}",
                    request_id_note(request_id.as_deref())
                )
            }
            AwsError::Refused { code, message, .. } => format!("{code}: {message}"),
            other => {
                let text = other.to_string();
                let step = format!("{}: ", other.step());
                text.strip_prefix(&step).unwrap_or(&text).to_string()
            }
        }
    }

    pub fn message(&self) -> &str {
        match self {
            AwsError::Api { message, .. }
            | AwsError::Refused { message, .. }
            | AwsError::CannotRepair { message, .. } => message,
            _ => "",
        }
    }

    pub fn is(&self, code: &str) -> bool {
        self.code() == code
    }

    /// AWS's answer for what does not exist, in each service's words.
    pub fn is_not_found(&self) -> bool {
        let code = self.code();
        code.ends_with(".NotFound")
            || code.ends_with("NotFound")
            || code == "ResourceNotFoundException"
            || code == "NoSuchEntity"
    }

    /// An Api error whose message says more: e.g. how long it was retried.
    pub fn with_note(self, note: &str) -> AwsError {
        match self {
            AwsError::Api {
                step,
                code,
                message,
                request_id,
                source,
            } => AwsError::Api {
                step,
                code,
                message: format!("{message} ({note})"),
                request_id,
                source,
            },
            other => other,
        }
    }

    #[cfg(test)]
    pub fn api(step: &str, code: &str, message: &str) -> AwsError {
        AwsError::Api {
            step: step.into(),
            code: code.into(),
            message: message.into(),
            request_id: None,
            source: None,
        }
    }
}

/// Converts any SDK error into an [`AwsError`] for `step`, keeping the request ID.
pub fn err<E>(step: &str) -> impl FnOnce(SdkError<E, Response>) -> AwsError + '_
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| {
        let code = e.code().unwrap_or_default().to_string();
        let message = match e.message() {
            Some(m) => m.to_string(),
            None => format!(
                "{}",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            ),
        };
        let request_id = e
            .request_id()
            .or_else(|| e.meta().request_id())
            .map(str::to_string);
        AwsError::Api {
            step: step.to_string(),
            code,
            message,
            request_id,
            source: Some(Arc::new(e)),
        }
    }
}

pub type AwsResult<T> = Result<T, AwsError>;

/// Deleting or detaching what is already gone is not an error.
pub fn ignore_not_found(r: AwsResult<()>) -> AwsResult<()> {
    match r {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_read_the_code_message_and_request_id() {
        let e = AwsError::Api {
            step: "creating VPC".into(),
            code: "InvalidParameterValue".into(),
            message: "bad".into(),
            request_id: Some("req-1".into()),
            source: None,
        };
        assert_eq!(e.detail(), "InvalidParameterValue: bad (request ID: req-1)");
        assert_eq!(
            e.to_string(),
            "creating VPC: InvalidParameterValue: bad (request ID: req-1)"
        );
        let t = AwsError::Timeout {
            step: "waiting".into(),
        };
        assert!(t.detail().starts_with("timed out"));
        assert_eq!(t.code(), "Timeout");
    }

    #[test]
    fn not_found_in_every_service_s_words() {
        for code in [
            "InvalidVpcID.NotFound",
            "NatGatewayNotFound",
            "ResourceNotFoundException",
            "NoSuchEntity",
        ] {
            assert!(AwsError::api("s", code, "m").is_not_found(), "{code}");
        }
        assert!(!AwsError::api("s", "ClientException", "m").is_not_found());
    }
}
