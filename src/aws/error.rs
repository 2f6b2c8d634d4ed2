//! What went wrong talking to AWS, kept in the form a user can act on: the step, AWS's code
//! and message, and the request ID AWS support asks for.

use std::sync::Arc;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;

/// What kind of refusal an AWS error is, from the SDK's typed service errors where the
/// service has them (EKS, IAM, IAM Roles Anywhere, SSM), from the code where it has not
/// (EC2's errors are codes only, such as `InvalidVpcID.NotFound`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    /// In use, or busy with another change.
    InUse,
    InvalidParameter,
    UnsupportedAvailabilityZone,
    Other,
}

#[derive(Clone, Debug, thiserror::Error)]
pub enum AwsError {
    /// AWS answered the call with an error.
    #[error("{step}: {code}: {message}{}", request_id_note(request_id.as_deref()))]
    Api {
        step: String,
        code: String,
        message: String,
        request_id: Option<String>,
        kind: ErrorKind,
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

    pub fn kind(&self) -> ErrorKind {
        match self {
            AwsError::Api { kind, .. } => *kind,
            _ => ErrorKind::Other,
        }
    }

    /// AWS's answer for what does not exist, in each service's words.
    pub fn is_not_found(&self) -> bool {
        self.kind() == ErrorKind::NotFound
    }

    /// An Api error whose message says more: e.g. how long it was retried.
    pub fn with_note(self, note: &str) -> AwsError {
        match self {
            AwsError::Api {
                step,
                code,
                message,
                request_id,
                kind,
                source,
            } => AwsError::Api {
                step,
                code,
                message: format!("{message} ({note})"),
                request_id,
                kind,
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
            kind: kind_of_code(code),
            source: None,
        }
    }
}

/// The kind of an error known only by its code: EC2's, and what a service's SDK does not
/// model (`Unhandled`).
fn kind_of_code(code: &str) -> ErrorKind {
    match code {
        c if c.ends_with(".NotFound") || c.ends_with("NotFound") => ErrorKind::NotFound,
        "DependencyViolation" | "IncorrectState" => ErrorKind::InUse,
        "InvalidParameterValue" | "InvalidParameterCombination" | "ValidationException" => {
            ErrorKind::InvalidParameter
        }
        _ => ErrorKind::Other,
    }
}

/// An [`AwsError`] for `step` from an error that carries AWS's metadata, keeping the request
/// ID and the error itself as the source.
fn api_error<E>(step: &str, e: E, kind: ErrorKind) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = e.code().unwrap_or_default().to_string();
    let message = match e.message() {
        Some(m) => m.to_string(),
        None => format!(
            "{}",
            aws_smithy_types::error::display::DisplayErrorContext(&e)
        ),
    };
    let request_id = e.meta().request_id().map(str::to_string);
    AwsError::Api {
        step: step.to_string(),
        code,
        message,
        request_id,
        kind,
        source: Some(Arc::new(e)),
    }
}

/// EC2: its errors are classified by code.
pub fn ec2<E>(step: &str) -> impl FnOnce(SdkError<E, Response>) -> AwsError + '_
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| {
        let kind = kind_of_code(e.code().unwrap_or_default());
        api_error(step, e, kind)
    }
}

/// EKS, by its typed errors. `ClientException: No cluster found for name: …` is EKS's other
/// "not found" (`findClusterByName` in the Terraform AWS provider handles both).
pub fn eks<E>(step: &str) -> impl FnOnce(SdkError<E, Response>) -> AwsError + '_
where
    aws_sdk_eks::Error: From<SdkError<E, Response>>,
{
    move |e| eks_service(step, aws_sdk_eks::Error::from(e))
}

/// An EKS error already in the service's typed form.
pub fn eks_service(step: &str, service: aws_sdk_eks::Error) -> AwsError {
    {
        use aws_sdk_eks::Error as E;
        let kind = match &service {
            E::ResourceNotFoundException(_) | E::NotFoundException(_) => ErrorKind::NotFound,
            // Also where the operation's model lists no ClientException (DeleteAccessEntry,
            // …): the SDK then leaves it unhandled, with the same code and message.
            other
                if other.code() == Some("ClientException")
                    && other
                        .message()
                        .is_some_and(|m| m.contains("No cluster found for name")) =>
            {
                ErrorKind::NotFound
            }
            E::ResourceInUseException(_) => ErrorKind::InUse,
            E::InvalidParameterException(_) | E::InvalidRequestException(_) => {
                ErrorKind::InvalidParameter
            }
            E::UnsupportedAvailabilityZoneException(_) => ErrorKind::UnsupportedAvailabilityZone,
            other => kind_of_code(other.code().unwrap_or_default()),
        };
        api_error(step, service, kind)
    }
}

/// IAM, by its typed errors.
pub fn iam<E>(step: &str) -> impl FnOnce(SdkError<E, Response>) -> AwsError + '_
where
    aws_sdk_iam::Error: From<SdkError<E, Response>>,
{
    move |e| {
        use aws_sdk_iam::Error as E;
        let service = E::from(e);
        let kind = match &service {
            E::NoSuchEntityException(_) => ErrorKind::NotFound,
            E::DeleteConflictException(_) | E::ConcurrentModificationException(_) => {
                ErrorKind::InUse
            }
            E::InvalidInputException(_) | E::MalformedPolicyDocumentException(_) => {
                ErrorKind::InvalidParameter
            }
            other => kind_of_code(other.code().unwrap_or_default()),
        };
        api_error(step, service, kind)
    }
}

/// IAM Roles Anywhere, by its typed errors.
pub fn rolesanywhere<E>(step: &str) -> impl FnOnce(SdkError<E, Response>) -> AwsError + '_
where
    aws_sdk_rolesanywhere::Error: From<SdkError<E, Response>>,
{
    move |e| {
        use aws_sdk_rolesanywhere::Error as E;
        let service = E::from(e);
        let kind = match &service {
            E::ResourceNotFoundException(_) => ErrorKind::NotFound,
            E::ValidationException(_) => ErrorKind::InvalidParameter,
            other => kind_of_code(other.code().unwrap_or_default()),
        };
        api_error(step, service, kind)
    }
}

/// AWS Private CA, by its typed errors.
pub fn acmpca<E>(step: &str) -> impl FnOnce(SdkError<E, Response>) -> AwsError + '_
where
    aws_sdk_acmpca::Error: From<SdkError<E, Response>>,
{
    move |e| {
        use aws_sdk_acmpca::Error as E;
        let service = E::from(e);
        let kind = match &service {
            E::ResourceNotFoundException(_) => ErrorKind::NotFound,
            E::InvalidArnException(_) => ErrorKind::InvalidParameter,
            other => kind_of_code(other.code().unwrap_or_default()),
        };
        api_error(step, service, kind)
    }
}

/// SSM, by its typed errors: an activation that is gone is `InvalidActivation` or
/// `InvalidActivationId`.
pub fn ssm<E>(step: &str) -> impl FnOnce(SdkError<E, Response>) -> AwsError + '_
where
    aws_sdk_ssm::Error: From<SdkError<E, Response>>,
{
    move |e| {
        use aws_sdk_ssm::Error as E;
        let service = E::from(e);
        let kind = match &service {
            E::InvalidActivation(_) | E::InvalidActivationId(_) | E::InvalidInstanceId(_) => {
                ErrorKind::NotFound
            }
            E::InvalidParameters(_) => ErrorKind::InvalidParameter,
            other => kind_of_code(other.code().unwrap_or_default()),
        };
        api_error(step, service, kind)
    }
}

/// STS has nothing to classify: any error is just reported.
pub fn sts<E>(step: &str) -> impl FnOnce(SdkError<E, Response>) -> AwsError + '_
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    ec2(step)
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
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn meta(code: &str, message: &str) -> ErrorMetadata {
        ErrorMetadata::builder()
            .code(code)
            .message(message)
            .custom("aws_request_id", "req-9")
            .build()
    }

    fn answered<E>(e: E) -> SdkError<E, Response> {
        let status = aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap();
        SdkError::service_error(e, Response::new(status, SdkBody::empty()))
    }

    #[test]
    fn users_read_the_code_message_and_request_id() {
        let e = AwsError::api("creating VPC", "InvalidParameterValue", "bad");
        let e = match e {
            AwsError::Api {
                step,
                code,
                message,
                kind,
                ..
            } => AwsError::Api {
                step,
                code,
                message,
                kind,
                request_id: Some("req-1".into()),
                source: None,
            },
            other => other,
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
    fn ec2_errors_are_known_by_their_codes() {
        for code in ["InvalidVpcID.NotFound", "NatGatewayNotFound"] {
            assert!(AwsError::api("s", code, "m").is_not_found(), "{code}");
        }
        assert_eq!(
            AwsError::api("s", "DependencyViolation", "m").kind(),
            ErrorKind::InUse
        );
        assert!(!AwsError::api("s", "UnauthorizedOperation", "m").is_not_found());
    }

    #[test]
    fn eks_errors_are_known_by_their_types_with_request_ids() {
        use aws_sdk_eks::operation::describe_cluster::DescribeClusterError as D;
        use aws_sdk_eks::types::error::{
            ClientException, ResourceInUseException, ResourceNotFoundException,
        };
        let gone = D::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("No cluster found")
                .meta(meta("ResourceNotFoundException", "No cluster found"))
                .build(),
        );
        let e = eks("reading")(answered(gone));
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(
            e.detail().ends_with("(request ID: req-9)"),
            "{}",
            e.detail()
        );
        let other_not_found = D::ClientException(
            ClientException::builder()
                .message("No cluster found for name: demo.")
                .meta(meta("ClientException", "No cluster found for name: demo."))
                .build(),
        );
        assert!(eks("reading")(answered(other_not_found)).is_not_found());
        // DeleteAccessEntry's model lists no ClientException: the SDK leaves it unhandled.
        let unmodelled =
            aws_sdk_eks::operation::delete_access_entry::DeleteAccessEntryError::generic(meta(
                "ClientException",
                "No cluster found for name: demo.",
            ));
        assert!(eks("deleting access entry")(answered(unmodelled)).is_not_found());
        let denied = D::ClientException(
            ClientException::builder()
                .message("not authorized")
                .meta(meta("ClientException", "not authorized"))
                .build(),
        );
        assert_eq!(eks("reading")(answered(denied)).kind(), ErrorKind::Other);
        use aws_sdk_eks::operation::delete_cluster::DeleteClusterError;
        let busy = DeleteClusterError::ResourceInUseException(
            ResourceInUseException::builder()
                .message("in progress")
                .meta(meta("ResourceInUseException", "in progress"))
                .build(),
        );
        assert_eq!(eks("deleting")(answered(busy)).kind(), ErrorKind::InUse);
    }

    #[test]
    fn iam_and_ssm_errors_are_known_by_their_types() {
        use aws_sdk_iam::operation::get_role::GetRoleError;
        use aws_sdk_iam::types::error::NoSuchEntityException;
        let gone = GetRoleError::NoSuchEntityException(
            NoSuchEntityException::builder()
                .message("The role cannot be found.")
                .meta(meta("NoSuchEntity", "The role cannot be found."))
                .build(),
        );
        assert!(iam("reading role")(answered(gone)).is_not_found());
        use aws_sdk_ssm::operation::delete_activation::DeleteActivationError;
        use aws_sdk_ssm::types::error::InvalidActivationId;
        let gone = DeleteActivationError::InvalidActivationId(
            InvalidActivationId::builder()
                .meta(meta("InvalidActivationId", ""))
                .build(),
        );
        assert!(ssm("deleting activation")(answered(gone)).is_not_found());
    }
}
