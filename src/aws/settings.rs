//! How to reach AWS: what the provider's configuration says about regions, credentials and
//! endpoints, in the AWS wrappers' own terms.

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub shared_config_files: Vec<String>,
    pub max_retries: Option<u32>,
    pub assume_role: Option<AssumeRole>,
    /// Endpoint URL by service (`ec2`, `eks`, `iam`, `sts`, `rolesanywhere`, `ssm`, `acmpca`).
    pub endpoints: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}
