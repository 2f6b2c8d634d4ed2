//! IAM: the EKS service role and the hybrid nodes role, their policies, and full deletion.

use std::collections::BTreeMap;

use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;

use super::wait::{self, Budget};
use super::{error, ignore_not_found, AwsError, AwsResult};

fn tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

/// What a new role is: its name, description, trust policy, tags and permissions boundary.
pub struct NewRole<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub trust: &'a serde_json::Value,
    pub tags: &'a BTreeMap<String, String>,
    pub boundary: Option<&'a str>,
}

pub async fn create_role(iam: &Client, role: &NewRole<'_>) -> AwsResult<String> {
    let name = role.name;
    let step = format!("creating IAM role {name}");
    let out = iam
        .create_role()
        .role_name(name)
        .description(role.description)
        .assume_role_policy_document(role.trust.to_string())
        .set_tags(Some(tags(role.tags)))
        .set_permissions_boundary(role.boundary.map(str::to_string))
        .send()
        .await
        .map_err(error::iam(&step))?;
    Ok(out.role().map(|r| r.arn().to_string()).unwrap_or_default())
}

/// Sets the role's permissions boundary, or removes it (None).
pub async fn set_permissions_boundary(
    iam: &Client,
    name: &str,
    boundary: Option<&str>,
    budget: &Budget,
) -> AwsResult<()> {
    let step = format!("setting the permissions boundary of {name}");
    wait::while_propagating(&step, budget, settling_after_create_role, || async {
        match boundary {
            Some(b) => iam
                .put_role_permissions_boundary()
                .role_name(name)
                .permissions_boundary(b)
                .send()
                .await
                .map(|_| ())
                .map_err(error::iam(&step)),
            None => iam
                .delete_role_permissions_boundary()
                .role_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(error::iam(&step)),
        }
    })
    .await
}

pub async fn update_trust_policy(
    iam: &Client,
    name: &str,
    trust: &serde_json::Value,
) -> AwsResult<()> {
    iam.update_assume_role_policy()
        .role_name(name)
        .policy_document(trust.to_string())
        .send()
        .await
        .map_err(error::iam(&format!("updating the trust policy of {name}")))?;
    Ok(())
}

pub async fn put_inline_policy(
    iam: &Client,
    role: &str,
    policy: &str,
    document: &serde_json::Value,
    budget: &Budget,
) -> AwsResult<()> {
    let step = format!("putting inline policy {policy} on {role}");
    wait::while_propagating(&step, budget, settling_after_create_role, || async {
        iam.put_role_policy()
            .role_name(role)
            .policy_name(policy)
            .policy_document(document.to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(error::iam(&step))
    })
    .await
}

/// What IAM answers for a moment after `CreateRole`: `NoSuchEntity` for the new role, and
/// `ConcurrentModification` when several writes reach one role at once. The Terraform AWS
/// provider retries both (hashicorp/terraform-provider-aws #5409 / PR #6709, #34371 / PR #34378).
fn settling_after_create_role(e: &AwsError) -> bool {
    e.is_not_found() || e.is("ConcurrentModification")
}

pub async fn detach_policy(iam: &Client, role: &str, policy_arn: &str) -> AwsResult<()> {
    let r = iam
        .detach_role_policy()
        .role_name(role)
        .policy_arn(policy_arn)
        .send()
        .await
        .map(|_| ())
        .map_err(error::iam(&format!("detaching {policy_arn} from {role}")));
    ignore_not_found(r)
}

pub async fn attach_policy(
    iam: &Client,
    role: &str,
    policy_arn: &str,
    budget: &Budget,
) -> AwsResult<()> {
    let step = format!("attaching {policy_arn} to {role}");
    wait::while_propagating(&step, budget, settling_after_create_role, || async {
        iam.attach_role_policy()
            .role_name(role)
            .policy_arn(policy_arn)
            .send()
            .await
            .map(|_| ())
            .map_err(error::iam(&step))
    })
    .await
}

/// The role's ARN, or None when it does not exist.
pub async fn role_arn(iam: &Client, name: &str) -> AwsResult<Option<String>> {
    Ok(role_details(iam, name).await?.map(|d| d.arn))
}

/// The managed policies attached to `role`; none when the role does not exist.
pub async fn attached_policies_if_any(iam: &Client, role: &str) -> AwsResult<Vec<String>> {
    match attached_policies(iam, role).await {
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        other => other,
    }
}

pub async fn attached_policies(iam: &Client, role: &str) -> AwsResult<Vec<String>> {
    let attached: Vec<_> = iam
        .list_attached_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(error::iam(&format!("listing policies of {role}")))?;
    Ok(attached
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect())
}

pub async fn inline_policies(iam: &Client, role: &str) -> AwsResult<Vec<String>> {
    iam.list_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(error::iam(&format!("listing inline policies of {role}")))
}

/// An inline policy's document (URL-decoded JSON), or None when the role has no such policy.
pub async fn inline_policy(iam: &Client, role: &str, policy: &str) -> AwsResult<Option<String>> {
    let r = iam
        .get_role_policy()
        .role_name(role)
        .policy_name(policy)
        .send()
        .await
        .map_err(error::iam(&format!("reading policy {policy} of {role}")));
    match r {
        Ok(out) => Ok(Some(percent_decode(out.policy_document()))),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Detaches and deletes every policy, then the role. A role already gone is not an error.
pub async fn delete_role(iam: &Client, name: &str) -> AwsResult<()> {
    let attached = match attached_policies(iam, name).await {
        Err(e) if e.is_not_found() => return Ok(()),
        other => other?,
    };
    for arn in attached {
        ignore_not_found(
            iam.detach_role_policy()
                .role_name(name)
                .policy_arn(&arn)
                .send()
                .await
                .map(|_| ())
                .map_err(error::iam(&format!("detaching {arn} from {name}"))),
        )?;
    }
    for policy in inline_policies(iam, name).await.or_else(|e| {
        if e.is_not_found() {
            Ok(vec![])
        } else {
            Err(e)
        }
    })? {
        ignore_not_found(
            iam.delete_role_policy()
                .role_name(name)
                .policy_name(&policy)
                .send()
                .await
                .map(|_| ())
                .map_err(error::iam(&format!("deleting policy {policy} of {name}"))),
        )?;
    }
    ignore_not_found(
        iam.delete_role()
            .role_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(error::iam(&format!("deleting IAM role {name}"))),
    )
}

#[derive(Clone, Debug)]
pub struct RoleDetails {
    pub arn: String,
    pub tags: BTreeMap<String, String>,
    /// The trust policy document, URL-decoded JSON.
    pub trust: String,
    /// Seconds since the epoch: a role deleted and made again under the same name is a new
    /// principal (new unique ID) to every service that bound the old one.
    pub created: Option<i64>,
    /// The ARN of its permissions boundary.
    pub boundary: Option<String>,
}

/// The role's ARN, tags and trust policy, or None when the role does not exist.
pub async fn role_details(iam: &Client, name: &str) -> AwsResult<Option<RoleDetails>> {
    let out = match iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(error::iam(&format!("reading IAM role {name}")))
    {
        Ok(out) => out,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(out.role().map(|r| RoleDetails {
        arn: r.arn().to_string(),
        tags: r
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
        trust: r
            .assume_role_policy_document()
            .map(percent_decode)
            .unwrap_or_default(),
        created: Some(r.create_date().secs()),
        boundary: r
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_string),
    }))
}

/// IAM returns policy documents URL-encoded.
/// The role's name in an IAM role ARN (`arn:<partition>:iam::<account>:role/<path>/<name>`):
/// what IAM's own calls take.
pub fn role_name_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The role with its path, without the leading slash (`<path>/<name>`): what SSM's
/// `CreateActivation` takes as `IamRole`, building `arn:…:role/<IamRole>` from it (SSM API
/// reference, CreateActivation; its example is `service-role/AmazonEC2RunCommandRoleFor…`;
/// aws-cli #4232).
pub fn role_with_path_of(arn: &str) -> &str {
    arn.split_once(":role/").map_or(arn, |(_, r)| r)
}

pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

pub async fn retag_role(
    iam: &Client,
    name: &str,
    t: &BTreeMap<String, String>,
    removed: &[String],
) -> AwsResult<()> {
    if !removed.is_empty() {
        iam.untag_role()
            .role_name(name)
            .set_tag_keys(Some(removed.to_vec()))
            .send()
            .await
            .map_err(error::iam(&format!("removing tags of {name}")))?;
    }
    iam.tag_role()
        .role_name(name)
        .set_tags(Some(tags(t)))
        .send()
        .await
        .map_err(error::iam(&format!("tagging {name}")))?;
    Ok(())
}
