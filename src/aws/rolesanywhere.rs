//! IAM Roles Anywhere: the trust anchor built from the CA bundle or an AWS Private CA, and the
//! profile.

use std::collections::BTreeMap;

use aws_sdk_rolesanywhere::types::{Source, SourceData, Tag, TrustAnchorType};
use aws_sdk_rolesanywhere::Client;

use super::{error, ignore_not_found, AwsError, AwsResult};

fn tags(t: &BTreeMap<String, String>) -> Vec<Tag> {
    t.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

/// What a trust anchor trusts (Roles Anywhere API reference, `Source`).
#[derive(Clone, Debug, PartialEq)]
pub enum AnchorSource {
    /// PEM CA certificates (`CERTIFICATE_BUNDLE`).
    Bundle(String),
    /// An AWS Private CA's ARN (`AWS_ACM_PCA`).
    PrivateCa(String),
}

impl AnchorSource {
    fn to_sdk(&self) -> Source {
        let (kind, data) = match self {
            AnchorSource::Bundle(pem) => (
                TrustAnchorType::CertificateBundle,
                SourceData::X509CertificateData(pem.clone()),
            ),
            AnchorSource::PrivateCa(arn) => (
                TrustAnchorType::AwsAcmPca,
                SourceData::AcmPcaArn(arn.clone()),
            ),
        };
        Source::builder()
            .source_type(kind)
            .source_data(data)
            .build()
    }

    fn from_sdk(source: &Source) -> Option<AnchorSource> {
        match source.source_data()? {
            SourceData::X509CertificateData(pem) => Some(AnchorSource::Bundle(pem.clone())),
            SourceData::AcmPcaArn(arn) => Some(AnchorSource::PrivateCa(arn.clone())),
            _ => None,
        }
    }
}

/// (id, arn)
pub async fn create_trust_anchor(
    ra: &Client,
    name: &str,
    source: &AnchorSource,
    t: &BTreeMap<String, String>,
) -> AwsResult<(String, String)> {
    let step = "creating IAM Roles Anywhere trust anchor";
    let source = source.to_sdk();
    let out = ra
        .create_trust_anchor()
        .name(name)
        .source(source)
        .enabled(true)
        .set_tags(Some(tags(t)))
        .send()
        .await
        .map_err(error::rolesanywhere(step))?;
    let anchor = out
        .trust_anchor()
        .ok_or_else(|| AwsError::invalid_response(step, "trust anchor"))?;
    Ok((
        anchor.trust_anchor_id().unwrap_or_default().to_string(),
        anchor.trust_anchor_arn().unwrap_or_default().to_string(),
    ))
}

/// A trust anchor as read: what decides whom it trusts.
#[derive(Clone, Debug, PartialEq)]
pub struct TrustAnchor {
    pub arn: String,
    pub enabled: bool,
    pub source: Option<AnchorSource>,
}

/// The trust anchor, or None when gone.
pub async fn trust_anchor(ra: &Client, id: &str) -> AwsResult<Option<TrustAnchor>> {
    match ra
        .get_trust_anchor()
        .trust_anchor_id(id)
        .send()
        .await
        .map_err(error::rolesanywhere("reading trust anchor"))
    {
        Ok(out) => Ok(out.trust_anchor().map(|a| TrustAnchor {
            arn: a.trust_anchor_arn().unwrap_or_default().to_string(),
            enabled: a.enabled().unwrap_or(false),
            source: a.source().and_then(AnchorSource::from_sdk),
        })),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Puts the anchor's source back (UpdateTrustAnchor).
pub async fn set_trust_anchor_source(
    ra: &Client,
    id: &str,
    source: &AnchorSource,
) -> AwsResult<()> {
    ra.update_trust_anchor()
        .trust_anchor_id(id)
        .source(source.to_sdk())
        .send()
        .await
        .map_err(error::rolesanywhere("updating the trust anchor's source"))?;
    Ok(())
}

pub async fn enable_trust_anchor(ra: &Client, id: &str) -> AwsResult<()> {
    ra.enable_trust_anchor()
        .trust_anchor_id(id)
        .send()
        .await
        .map_err(error::rolesanywhere("enabling trust anchor"))?;
    Ok(())
}

pub async fn delete_trust_anchor(ra: &Client, id: &str) -> AwsResult<()> {
    ignore_not_found(
        ra.delete_trust_anchor()
            .trust_anchor_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(error::rolesanywhere("deleting trust anchor")),
    )
}

/// (id, arn). acceptRoleSessionName is required: nodeadm passes the node name as session name.
pub async fn create_profile(
    ra: &Client,
    name: &str,
    role_arn: &str,
    t: &BTreeMap<String, String>,
) -> AwsResult<(String, String)> {
    let step = "creating IAM Roles Anywhere profile";
    let out = ra
        .create_profile()
        .name(name)
        .role_arns(role_arn)
        .accept_role_session_name(true)
        .enabled(true)
        .set_tags(Some(tags(t)))
        .send()
        .await
        .map_err(error::rolesanywhere(step))?;
    let p = out
        .profile()
        .ok_or_else(|| AwsError::invalid_response(step, "profile"))?;
    Ok((
        p.profile_id().unwrap_or_default().to_string(),
        p.profile_arn().unwrap_or_default().to_string(),
    ))
}

/// A profile as read: what decides which role nodes get, and how.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub arn: String,
    pub enabled: bool,
    pub role_arns: Vec<String>,
    pub accept_role_session_name: bool,
}

impl Profile {
    /// Whether it hands out exactly `role_arn`, taking the node's name as session name (as
    /// `create_profile` made it).
    pub fn serves_only(&self, role_arn: &str) -> bool {
        self.role_arns == [role_arn] && self.accept_role_session_name
    }
}

/// The profile, or None when gone.
pub async fn profile(ra: &Client, id: &str) -> AwsResult<Option<Profile>> {
    match ra
        .get_profile()
        .profile_id(id)
        .send()
        .await
        .map_err(error::rolesanywhere("reading profile"))
    {
        Ok(out) => Ok(out.profile().map(|p| Profile {
            arn: p.profile_arn().unwrap_or_default().to_string(),
            enabled: p.enabled().unwrap_or(false),
            role_arns: p.role_arns().to_vec(),
            accept_role_session_name: p.accept_role_session_name().unwrap_or(false),
        })),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Puts the profile's role and session-name setting back (UpdateProfile).
pub async fn set_profile_role(ra: &Client, id: &str, role_arn: &str) -> AwsResult<()> {
    ra.update_profile()
        .profile_id(id)
        .role_arns(role_arn)
        .accept_role_session_name(true)
        .send()
        .await
        .map_err(error::rolesanywhere("updating the profile's role"))?;
    Ok(())
}

pub async fn enable_profile(ra: &Client, id: &str) -> AwsResult<()> {
    ra.enable_profile()
        .profile_id(id)
        .send()
        .await
        .map_err(error::rolesanywhere("enabling profile"))?;
    Ok(())
}

pub async fn delete_profile(ra: &Client, id: &str) -> AwsResult<()> {
    ignore_not_found(
        ra.delete_profile()
            .profile_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(error::rolesanywhere("deleting profile")),
    )
}

/// A trust anchor or profile found by name: (ID, ARN).
pub type Named = (String, String);

/// Every trust anchor named `anchor_name` and every profile named `profile_name` (Roles
/// Anywhere does not make names unique, so there may be several of each).
pub async fn find_by_names(
    ra: &Client,
    anchor_name: &str,
    profile_name: &str,
) -> AwsResult<(Vec<Named>, Vec<Named>)> {
    let anchors = async {
        let all: Vec<_> = ra
            .list_trust_anchors()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(error::rolesanywhere("listing trust anchors"))?;
        AwsResult::Ok(
            all.iter()
                .filter(|a| a.name() == Some(anchor_name))
                .filter_map(|a| Some((a.trust_anchor_id()?.into(), a.trust_anchor_arn()?.into())))
                .collect::<Vec<Named>>(),
        )
    };
    let profiles = async {
        let all: Vec<_> = ra
            .list_profiles()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(error::rolesanywhere("listing profiles"))?;
        AwsResult::Ok(
            all.iter()
                .filter(|p| p.name() == Some(profile_name))
                .filter_map(|p| Some((p.profile_id()?.into(), p.profile_arn()?.into())))
                .collect::<Vec<Named>>(),
        )
    };
    let (anchors, profiles) = tokio::join!(anchors, profiles);
    Ok((anchors?, profiles?))
}

/// The first of `found` whose tag `key` is `value`: the one this provider made for that cluster.
pub async fn first_tagged(
    ra: &Client,
    found: &[Named],
    key: &str,
    value: &str,
) -> AwsResult<Option<String>> {
    for (id, arn) in found {
        let out = ra
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(error::rolesanywhere("reading Roles Anywhere tags"))?;
        if out
            .tags()
            .iter()
            .any(|t| t.key() == key && t.value() == value)
        {
            return Ok(Some(id.clone()));
        }
    }
    Ok(None)
}

/// What a trust anchor trusts: its CA bundle or its Private CA.
pub async fn trust_anchor_source(ra: &Client, id: &str) -> AwsResult<Option<AnchorSource>> {
    let out = ra
        .get_trust_anchor()
        .trust_anchor_id(id)
        .send()
        .await
        .map_err(error::rolesanywhere("reading trust anchor"))?;
    Ok(out
        .trust_anchor()
        .and_then(|a| a.source())
        .and_then(AnchorSource::from_sdk))
}

pub async fn retag(
    ra: &Client,
    arn: &str,
    t: &BTreeMap<String, String>,
    removed: &[String],
) -> AwsResult<()> {
    if !removed.is_empty() {
        ra.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(removed.to_vec()))
            .send()
            .await
            .map_err(error::rolesanywhere("removing Roles Anywhere tags"))?;
    }
    ra.tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags(t)))
        .send()
        .await
        .map_err(error::rolesanywhere("tagging Roles Anywhere object"))?;
    Ok(())
}
