//! SSM: the hybrid activation hybrid nodes register with (`nodeadm` with `hybrid.ssm`), and
//! the managed instances they become.

use std::collections::BTreeMap;

use aws_sdk_ssm::types::{
    DescribeActivationsFilter, DescribeActivationsFilterKeys, InstanceInformationStringFilter, Tag,
};
use aws_sdk_ssm::Client;
use aws_smithy_types::DateTime;

use super::wait::{self, Budget};
use super::{error, AwsError, AwsResult};

pub struct Activation {
    pub id: String,
    /// Only returned by CreateActivation; AWS never shows it again.
    pub code: String,
}

pub struct ActivationRequest<'a> {
    pub role_name: &'a str,
    pub registration_limit: i32,
    /// RFC 3339; None lets SSM pick its default (24 hours).
    pub expiration: Option<&'a str>,
    pub description: &'a str,
    pub default_instance_name: &'a str,
    pub tags: &'a BTreeMap<String, String>,
}

/// SSM checks the role's trust policy when the activation is created; a role made seconds ago
/// is not visible to it yet: "Nonexistent role or missing ssm service principal in trust
/// policy" (the Terraform AWS provider retries this: `internal/service/ssm/activation.go`).
fn role_propagating(e: &AwsError) -> bool {
    e.is("ValidationException") && e.message().contains("Nonexistent role")
}

/// Seconds since the epoch of an RFC 3339 time, `Z` or with an offset (`+02:00`): the form
/// `expiration` documents. Smithy's own parser takes only `Z`.
pub fn parse_rfc3339(t: &str) -> Option<i64> {
    let format = aws_smithy_types::date_time::Format::DateTime;
    if let Ok(at) = DateTime::from_str(t, format) {
        return Some(at.secs());
    }
    // `…±HH:MM`: the local time, read as UTC, less the offset.
    let cut = t.len().checked_sub(6)?;
    let (local, offset) = (t.get(..cut)?, t.get(cut..)?);
    let sign = match offset.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = offset[1..].split_once(':')?;
    let (hours, minutes): (i64, i64) = (hours.parse().ok()?, minutes.parse().ok()?);
    if offset[1..].len() != 5 || hours > 23 || minutes > 59 {
        return None;
    }
    let utc = DateTime::from_str(&format!("{local}Z"), format).ok()?;
    Some(utc.secs() - sign * (hours * 3600 + minutes * 60))
}

/// SSM answers "Nonexistent role or missing ssm service principal in trust policy" both while
/// a new role propagates and for a role that will never do: IAM tells them apart, so only the
/// first is waited on.
async fn unusable_role(
    iam: &aws_sdk_iam::Client,
    role_with_path: &str,
    step: &str,
) -> Option<AwsError> {
    let name = role_with_path.rsplit('/').next().unwrap_or(role_with_path);
    let why = match super::iam::role_details(iam, name).await {
        Ok(None) => format!("The role {role_with_path} does not exist."),
        Ok(Some(role)) if !role.trust.contains("ssm.amazonaws.com") => format!(
            "The role {role_with_path} does not trust ssm.amazonaws.com: SSM cannot register nodes with it."
        ),
        Ok(Some(role)) if !role.arn.ends_with(&format!(":role/{role_with_path}")) => format!(
            "No role {role_with_path}: the role named {name} is {}.",
            role.arn
        ),
        // There and trusting SSM (so still propagating), or IAM cannot say: keep waiting.
        _ => return None,
    };
    Some(AwsError::refused(step, "NonexistentRole", why))
}

pub async fn create_activation(
    ssm: &Client,
    iam: &aws_sdk_iam::Client,
    r: &ActivationRequest<'_>,
    budget: &Budget,
) -> AwsResult<Activation> {
    let step = format!("creating SSM activation for role {}", r.role_name);
    let expiration = match r.expiration {
        Some(t) => Some(DateTime::from_secs(parse_rfc3339(t).ok_or_else(|| {
            AwsError::refused(&step, "InvalidExpiration", format!("{t} is not RFC 3339"))
        })?)),
        None => None,
    };
    let tags: Vec<Tag> = r
        .tags
        .iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect();
    let out = wait::while_propagating(&step, budget, role_propagating, || async {
        let attempt = ssm
            .create_activation()
            .iam_role(r.role_name)
            .registration_limit(r.registration_limit)
            .set_expiration_date(expiration)
            .description(r.description)
            .default_instance_name(r.default_instance_name)
            .set_tags(Some(tags.clone()))
            .send()
            .await
            .map_err(error::ssm(&step));
        match attempt {
            Err(e) if role_propagating(&e) => {
                Err(unusable_role(iam, r.role_name, &step).await.unwrap_or(e))
            }
            other => other,
        }
    })
    .await?;
    match (out.activation_id(), out.activation_code()) {
        (Some(id), Some(code)) => Ok(Activation {
            code: code.to_string(),
            id: id.to_string(),
        }),
        _ => Err(AwsError::invalid_response(step, "activation ID or code")),
    }
}

async fn activations_where(
    ssm: &Client,
    key: DescribeActivationsFilterKeys,
    value: &str,
) -> AwsResult<Vec<aws_sdk_ssm::types::Activation>> {
    let filter = DescribeActivationsFilter::builder()
        .filter_key(key)
        .filter_values(value)
        .build();
    ssm.describe_activations()
        .filters(filter)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(error::ssm("reading SSM activations"))
}

/// Whether the activation still exists and has not expired: Some(expired), or None when gone.
pub async fn activation_expired(ssm: &Client, id: &str) -> AwsResult<Option<bool>> {
    let found = activations_where(ssm, DescribeActivationsFilterKeys::ActivationIds, id).await?;
    Ok(found
        .iter()
        .find(|a| a.activation_id() == Some(id))
        .map(|a| a.expired()))
}

pub async fn delete_activation(ssm: &Client, id: &str) -> AwsResult<()> {
    match ssm
        .delete_activation()
        .activation_id(id)
        .send()
        .await
        .map_err(error::ssm("deleting SSM activation"))
    {
        Err(e) if e.is_not_found() => Ok(()),
        other => other.map(|_| ()),
    }
}

/// The managed instances (registered hybrid nodes) that carry the tag `key` = `value`, over
/// every page. A node carries its activation's tags (SSM API reference, CreateActivation
/// `Tags`).
pub async fn managed_instances_tagged(
    ssm: &Client,
    key: &str,
    value: &str,
) -> AwsResult<Vec<String>> {
    Ok(managed_nodes_tagged(ssm, key, value)
        .await?
        .into_iter()
        .map(|n| n.id)
        .collect())
}

/// A hybrid node as SSM knows it (API reference, `InstanceInformation`).
#[derive(Clone, Debug, PartialEq)]
pub struct ManagedNode {
    pub id: String,
    /// The name it registered with (`nodeadm` gives the node's name), if any.
    pub name: Option<String>,
    /// `Online`, `ConnectionLost` or `Inactive`.
    pub ping_status: String,
    /// When its agent last reached SSM.
    pub last_ping: Option<std::time::SystemTime>,
}

/// The managed instances tagged `key` = `value`, with how recently each was heard from.
pub async fn managed_nodes_tagged(
    ssm: &Client,
    key: &str,
    value: &str,
) -> AwsResult<Vec<ManagedNode>> {
    let step = "listing the hybrid nodes registered with SSM";
    let filter = InstanceInformationStringFilter::builder()
        .key(format!("tag:{key}"))
        .values(value)
        .build()
        .map_err(|e| AwsError::invalid_response(step, e.to_string()))?;
    let pages: Vec<_> = ssm
        .describe_instance_information()
        .filters(filter)
        .max_results(50)
        .into_paginator()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(error::ssm(step))?;
    Ok(pages
        .iter()
        .flat_map(|p| p.instance_information_list())
        .filter_map(|i| {
            Some(ManagedNode {
                id: i.instance_id()?.to_string(),
                name: i.name().or(i.computer_name()).map(str::to_string),
                ping_status: i
                    .ping_status()
                    .map_or("Inactive", |p| p.as_str())
                    .to_string(),
                last_ping: i
                    .last_ping_date_time()
                    .and_then(|t| std::time::SystemTime::try_from(*t).ok()),
            })
        })
        .collect())
}

/// A node already deregistered is not an error.
pub async fn deregister_managed_instance(ssm: &Client, id: &str) -> AwsResult<()> {
    match ssm
        .deregister_managed_instance()
        .instance_id(id)
        .send()
        .await
        .map_err(error::ssm(&format!(
            "deregistering hybrid node {id} from SSM"
        ))) {
        Err(e) if e.is_not_found() => Ok(()),
        other => other.map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339;

    #[test]
    fn rfc_3339_times_with_offsets_are_read() {
        let z = parse_rfc3339("2026-12-31T10:00:00Z").unwrap();
        assert_eq!(parse_rfc3339("2026-12-31T12:00:00+02:00"), Some(z));
        assert_eq!(parse_rfc3339("2026-12-31T05:30:00-04:30"), Some(z));
        assert_eq!(parse_rfc3339("2026-12-31T10:00:00.5Z"), Some(z));
        for bad in [
            "2026-12-31",
            "2026-12-31T10:00:00",
            "2026-12-31T10:00:00+2:00",
            "soon",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
