//! STS: who the caller is, for the account and partition every ARN the provider writes
//! names.

use super::{AwsClients, AwsError, AwsResult};

/// Who we are in AWS, needed for ARNs and trust conditions.
#[derive(Clone, Debug)]
pub struct CallerIdentity {
    pub account: String,
    pub partition: String,
}

pub async fn caller(aws: &AwsClients) -> AwsResult<CallerIdentity> {
    let out = aws
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(super::error::sts("reading the caller identity"))?;
    identity_of(out.arn(), out.account()).ok_or_else(|| {
        AwsError::invalid_response(
            "reading the caller identity",
            "GetCallerIdentity answered without an ARN and account",
        )
    })
}

/// The account and partition of the caller's ARN. Every ARN the provider writes takes its
/// partition from here, so an answer without one is no identity rather than a guess of `aws`.
fn identity_of(arn: Option<&str>, account: Option<&str>) -> Option<CallerIdentity> {
    let partition = arn?.split(':').nth(1).filter(|p| !p.is_empty())?;
    let account = account.filter(|a| !a.is_empty())?;
    Some(CallerIdentity {
        account: account.to_string(),
        partition: partition.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partition_comes_from_the_callers_arn_and_is_never_guessed() {
        let gov = identity_of(
            Some("arn:aws-us-gov:iam::123456789012:user/u"),
            Some("123456789012"),
        )
        .unwrap();
        assert_eq!(
            (gov.partition.as_str(), gov.account.as_str()),
            ("aws-us-gov", "123456789012")
        );
        assert!(identity_of(None, Some("123456789012")).is_none());
        assert!(identity_of(Some("arn::iam::1:user/u"), Some("1")).is_none());
        assert!(identity_of(Some("arn:aws-cn:iam::1:user/u"), None).is_none());
    }
}
