//! AWS Private CA: the status of the CA a Roles Anywhere trust anchor names.

use aws_sdk_acmpca::Client;

use super::{error, AwsResult};

/// The CA's client in the CA's own region (the ARN's fourth field), which may not be the
/// provider's.
fn client_in_region_of(pca: &Client, arn: &str) -> Client {
    match arn.split(':').nth(3).filter(|r| !r.is_empty()) {
        Some(region) => Client::from_conf(
            pca.config()
                .to_builder()
                .region(aws_config::Region::new(region.to_string()))
                .build(),
        ),
        None => pca.clone(),
    }
}

/// `CREATING`, `PENDING_CERTIFICATE`, `ACTIVE`, `DISABLED`, `EXPIRED`, `FAILED` or `DELETED`
/// (ACM PCA API reference, `CertificateAuthorityStatus`); None when no such CA exists.
pub async fn certificate_authority_status(pca: &Client, arn: &str) -> AwsResult<Option<String>> {
    match client_in_region_of(pca, arn)
        .describe_certificate_authority()
        .certificate_authority_arn(arn)
        .send()
        .await
        .map_err(error::acmpca("reading the AWS Private CA"))
    {
        Ok(out) => Ok(out
            .certificate_authority()
            .and_then(|ca| ca.status())
            .map(|s| s.as_str().to_string())),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}
