//! IAM Roles Anywhere (REST-JSON): trust anchors and profiles. Names, lengths, patterns and
//! ranges are checked by botocore's model (`model.rs`); what the model cannot say (the bundle
//! must be PEM X.509 CA certificates) is checked here.

use serde_json::{json, Value as Json};
use x509_parser::pem::Pem;

use crate::http::{aws_error, json as ok_json, now_iso, page, Resp};
use crate::moto::Moto;
use crate::state::{partition_of, Shared, State, ACCOUNT};

fn validation(msg: &str) -> Resp {
    aws_error(400, "ValidationException", msg)
}

fn not_found() -> Resp {
    aws_error(404, "ResourceNotFoundException", "Resource not found")
}

/// The bundle must be PEM X.509 CA certificates.
fn check_bundle(pem: &str) -> Result<(), String> {
    let mut n = 0;
    for block in Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block
            .map_err(|_| "Invalid certificate bundle: PEM could not be decoded".to_string())?;
        let cert = block
            .parse_x509()
            .map_err(|_| "Invalid certificate bundle: not an X.509 certificate".to_string())?;
        if !cert.is_ca() {
            return Err("Invalid certificate bundle: certificate is not a CA certificate".into());
        }
        n += 1;
    }
    if n == 0 {
        return Err("Invalid certificate bundle: no certificate found".into());
    }
    Ok(())
}

fn s<'a>(input: &'a Json, member: &str) -> &'a str {
    input[member].as_str().unwrap_or_default()
}

/// The source's data must be of its type (`SourceData` is a union). A bundle must be PEM CA
/// certificates; a Private CA must exist and be `ACTIVE`: Roles Anywhere anchors on the CA's
/// own certificate, which a CA has only once it is installed (the Terraform AWS provider's
/// trust anchor acceptance test waits for `aws_acmpca_certificate_authority_certificate`;
/// ACM PCA API reference, `DescribeCertificateAuthority`: `PENDING_CERTIFICATE` until then).
async fn check_source(moto: &Moto, source: &Json) -> Result<(), String> {
    let data = &source["sourceData"];
    match source["sourceType"].as_str() {
        Some("CERTIFICATE_BUNDLE") => match data["x509CertificateData"].as_str() {
            Some(pem) => check_bundle(pem),
            None => Err("sourceData must be x509CertificateData for CERTIFICATE_BUNDLE".into()),
        },
        Some("AWS_ACM_PCA") => {
            let Some(arn) = data["acmPcaArn"].as_str() else {
                return Err("sourceData must be acmPcaArn for AWS_ACM_PCA".into());
            };
            match moto.private_ca_status(arn).await? {
                None => Err(format!("Could not find certificate authority {arn}")),
                Some(s) if s == "ACTIVE" => Ok(()),
                Some(s) => Err(format!(
                    "Certificate authority {arn} is {s}; it must be ACTIVE"
                )),
            }
        }
        _ => Ok(()),
    }
}

/// Runs one Roles Anywhere operation, named by the model.
pub async fn handle(shared: &Shared, moto: &Moto, region: &str, op: &str, input: &Json) -> Resp {
    if matches!(op, "CreateTrustAnchor" | "UpdateTrustAnchor") && input.get("source").is_some() {
        if let Err(e) = check_source(moto, &input["source"]).await {
            return validation(&e);
        }
    }
    let mut st = shared.lock().await;
    match op {
        "CreateTrustAnchor" => {
            let source = &input["source"];
            let id = uuid::Uuid::new_v4().to_string();
            let anchor = json!({
                "trustAnchorId": id,
                "trustAnchorArn": format!("arn:{}:rolesanywhere:{region}:{ACCOUNT}:trust-anchor/{id}", partition_of(region)),
                "name": input["name"],
                "source": source,
                "enabled": input["enabled"].as_bool().unwrap_or(false),
                "createdAt": now_iso(),
                "updatedAt": now_iso(),
                "tags": input["tags"].as_array().cloned().unwrap_or_default(),
            });
            st.trust_anchors.insert(id, anchor.clone());
            ok_json(201, json!({"trustAnchor": anchor}))
        }
        "ListTrustAnchors" => {
            let all: Vec<Json> = st.trust_anchors.values().cloned().collect();
            let (items, next) = list_page(&st, &all, input);
            ok_json(200, json!({"trustAnchors": items, "nextToken": next}))
        }
        "GetTrustAnchor" => st
            .trust_anchors
            .get(s(input, "trustAnchorId"))
            .map_or_else(not_found, |a| ok_json(200, json!({"trustAnchor": a}))),
        "DeleteTrustAnchor" => st
            .trust_anchors
            .remove(s(input, "trustAnchorId"))
            .map_or_else(not_found, |a| ok_json(200, json!({"trustAnchor": a}))),
        "UpdateTrustAnchor" => match st.trust_anchors.get_mut(s(input, "trustAnchorId")) {
            None => not_found(),
            Some(a) => {
                for k in ["name", "source"] {
                    if let Some(v) = input.get(k) {
                        a[k] = v.clone();
                    }
                }
                a["updatedAt"] = json!(now_iso());
                ok_json(200, json!({"trustAnchor": a}))
            }
        },
        "EnableTrustAnchor" | "DisableTrustAnchor" => {
            match st.trust_anchors.get_mut(s(input, "trustAnchorId")) {
                None => not_found(),
                Some(a) => {
                    a["enabled"] = json!(op == "EnableTrustAnchor");
                    a["updatedAt"] = json!(now_iso());
                    ok_json(200, json!({"trustAnchor": a}))
                }
            }
        }
        "CreateProfile" => {
            let id = uuid::Uuid::new_v4().to_string();
            let profile = json!({
                "profileId": id,
                "profileArn": format!("arn:{}:rolesanywhere:{region}:{ACCOUNT}:profile/{id}", partition_of(region)),
                "name": input["name"],
                "roleArns": input["roleArns"].as_array().cloned().unwrap_or_default(),
                "durationSeconds": input["durationSeconds"].as_i64().unwrap_or(3600),
                "acceptRoleSessionName": input["acceptRoleSessionName"].as_bool().unwrap_or(false),
                "requireInstanceProperties": input["requireInstanceProperties"].as_bool().unwrap_or(false),
                "managedPolicyArns": input["managedPolicyArns"].as_array().cloned().unwrap_or_default(),
                "enabled": input["enabled"].as_bool().unwrap_or(false),
                "createdAt": now_iso(),
                "updatedAt": now_iso(),
                "tags": input["tags"].as_array().cloned().unwrap_or_default(),
            });
            st.profiles.insert(id, profile.clone());
            ok_json(201, json!({"profile": profile}))
        }
        "ListProfiles" => {
            let all: Vec<Json> = st.profiles.values().cloned().collect();
            let (items, next) = list_page(&st, &all, input);
            ok_json(200, json!({"profiles": items, "nextToken": next}))
        }
        "GetProfile" => st
            .profiles
            .get(s(input, "profileId"))
            .map_or_else(not_found, |p| ok_json(200, json!({"profile": p}))),
        "DeleteProfile" => st
            .profiles
            .remove(s(input, "profileId"))
            .map_or_else(not_found, |p| ok_json(200, json!({"profile": p}))),
        "UpdateProfile" => match st.profiles.get_mut(s(input, "profileId")) {
            None => not_found(),
            Some(p) => {
                for k in [
                    "name",
                    "durationSeconds",
                    "acceptRoleSessionName",
                    "managedPolicyArns",
                    "sessionPolicy",
                    "roleArns",
                ] {
                    if let Some(v) = input.get(k) {
                        p[k] = v.clone();
                    }
                }
                p["updatedAt"] = json!(now_iso());
                ok_json(200, json!({"profile": p}))
            }
        },
        "EnableProfile" | "DisableProfile" => match st.profiles.get_mut(s(input, "profileId")) {
            None => not_found(),
            Some(p) => {
                p["enabled"] = json!(op == "EnableProfile");
                p["updatedAt"] = json!(now_iso());
                ok_json(200, json!({"profile": p}))
            }
        },
        "TagResource" | "UntagResource" | "ListTagsForResource" => tags(&mut st, op, input),
        _ => aws_error(
            404,
            "UnknownOperationException",
            &format!("{op} is a Roles Anywhere operation the testbed does not model"),
        ),
    }
}

fn list_page(st: &State, all: &[Json], input: &Json) -> (Vec<Json>, Option<String>) {
    page(
        all,
        input["nextToken"].as_str(),
        input["pageSize"].as_u64(),
        st.knobs.page_size,
    )
}

fn tags(st: &mut State, op: &str, input: &Json) -> Resp {
    let arn = s(input, "resourceArn");
    let Some(obj) = st
        .trust_anchors
        .values_mut()
        .chain(st.profiles.values_mut())
        .find(|o| o["trustAnchorArn"] == arn || o["profileArn"] == arn)
    else {
        return not_found();
    };
    let mut map: std::collections::BTreeMap<String, Json> = obj["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t["key"].as_str()?.to_string(), t["value"].clone())))
        .collect();
    match op {
        "TagResource" => {
            for t in input["tags"].as_array().into_iter().flatten() {
                if let Some(k) = t["key"].as_str() {
                    map.insert(k.to_string(), t["value"].clone());
                }
            }
        }
        "UntagResource" => {
            for k in input["tagKeys"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
            {
                map.remove(k);
            }
        }
        _ => {}
    }
    let tags: Vec<Json> = map
        .into_iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    obj["tags"] = json!(tags);
    if op == "ListTagsForResource" {
        ok_json(200, json!({"tags": tags}))
    } else {
        ok_json(201, json!({}))
    }
}
