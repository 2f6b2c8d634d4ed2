//! IAM Roles Anywhere (REST-JSON): trust anchors and profiles, with AWS's input checks.

use serde_json::{json, Value as Json};
use x509_parser::pem::Pem;

use crate::http::{aws_error, json as ok_json, now_iso, url_decode, Resp};
use crate::state::{Shared, ACCOUNT};

fn validation(msg: &str) -> Resp {
    aws_error(400, "ValidationException", msg)
}

fn not_found() -> Resp {
    aws_error(404, "ResourceNotFoundException", "Resource not found")
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 255
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-' || c == '_')
}

/// The bundle must be PEM X.509 CA certificates, at most 8000 characters.
fn check_bundle(pem: &str) -> Result<(), String> {
    if pem.is_empty() || pem.len() > 8000 {
        return Err("x509CertificateData must be 1 to 8000 characters".into());
    }
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

fn valid_role_arn(arn: &str) -> bool {
    let p: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == 6
        && p[0] == "arn"
        && p[1].starts_with("aws")
        && p[2] == "iam"
        && p[5].starts_with("role")
}

pub async fn handle(
    shared: &Shared,
    region: &str,
    method: &str,
    path: &str,
    path_query: &str,
    body: &[u8],
) -> Resp {
    let input: Json = serde_json::from_slice(body).unwrap_or(json!({}));
    let segs: Vec<String> = path.trim_matches('/').split('/').map(url_decode).collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let mut st = shared.lock().await;
    match (method, segs.as_slice()) {
        ("POST", ["trustanchors"]) => {
            let name = input["name"].as_str().unwrap_or_default();
            if !valid_name(name) {
                return validation("name must be 1-255 characters of letters, digits, spaces, hyphens and underscores");
            }
            let source = &input["source"];
            match source["sourceType"].as_str() {
                Some("CERTIFICATE_BUNDLE") => {
                    if let Err(e) = check_bundle(
                        source["sourceData"]["x509CertificateData"]
                            .as_str()
                            .unwrap_or_default(),
                    ) {
                        return validation(&e);
                    }
                }
                Some("AWS_ACM_PCA") => {}
                _ => {
                    return validation(
                        "source.sourceType must be AWS_ACM_PCA or CERTIFICATE_BUNDLE",
                    )
                }
            }
            let id = uuid::Uuid::new_v4().to_string();
            let anchor = json!({
                "trustAnchorId": id,
                "trustAnchorArn": format!("arn:aws:rolesanywhere:{region}:{ACCOUNT}:trust-anchor/{id}"),
                "name": name,
                "source": source,
                "enabled": input["enabled"].as_bool().unwrap_or(false),
                "createdAt": now_iso(),
                "updatedAt": now_iso(),
                "tags": input["tags"].as_array().cloned().unwrap_or_default(),
            });
            st.trust_anchors.insert(id, anchor.clone());
            ok_json(201, json!({"trustAnchor": anchor}))
        }
        ("GET", ["trustanchors"]) => ok_json(
            200,
            json!({"trustAnchors": st.trust_anchors.values().collect::<Vec<_>>()}),
        ),
        ("GET", ["trustanchor", id]) => st
            .trust_anchors
            .get(*id)
            .map_or_else(not_found, |a| ok_json(200, json!({"trustAnchor": a}))),
        ("DELETE", ["trustanchor", id]) => st
            .trust_anchors
            .remove(*id)
            .map_or_else(not_found, |a| ok_json(200, json!({"trustAnchor": a}))),
        ("PATCH", ["trustanchor", id]) => {
            if let Some(name) = input["name"].as_str() {
                if !valid_name(name) {
                    return validation("name must be 1-255 characters of letters, digits, spaces, hyphens and underscores");
                }
            }
            if let Some(pem) = input["source"]["sourceData"]["x509CertificateData"].as_str() {
                if let Err(e) = check_bundle(pem) {
                    return validation(&e);
                }
            }
            match st.trust_anchors.get_mut(*id) {
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
            }
        }
        ("POST", ["trustanchor", id, action @ ("enable" | "disable")]) => {
            match st.trust_anchors.get_mut(*id) {
                None => not_found(),
                Some(a) => {
                    a["enabled"] = json!(*action == "enable");
                    a["updatedAt"] = json!(now_iso());
                    ok_json(200, json!({"trustAnchor": a}))
                }
            }
        }
        ("POST", ["profiles"]) => {
            let name = input["name"].as_str().unwrap_or_default();
            if !valid_name(name) {
                return validation("name must be 1-255 characters of letters, digits, spaces, hyphens and underscores");
            }
            let roles: Vec<&str> = input["roleArns"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .collect();
            if roles.is_empty() || roles.len() > 250 || !roles.iter().all(|r| valid_role_arn(r)) {
                return validation("roleArns must hold 1 to 250 IAM role ARNs");
            }
            let duration = input["durationSeconds"].as_i64().unwrap_or(3600);
            if !(900..=43200).contains(&duration) {
                return validation("durationSeconds must be between 900 and 43200");
            }
            let id = uuid::Uuid::new_v4().to_string();
            let profile = json!({
                "profileId": id,
                "profileArn": format!("arn:aws:rolesanywhere:{region}:{ACCOUNT}:profile/{id}"),
                "name": name,
                "roleArns": roles,
                "durationSeconds": duration,
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
        ("GET", ["profiles"]) => ok_json(
            200,
            json!({"profiles": st.profiles.values().collect::<Vec<_>>()}),
        ),
        ("GET", ["profile", id]) => st
            .profiles
            .get(*id)
            .map_or_else(not_found, |p| ok_json(200, json!({"profile": p}))),
        ("DELETE", ["profile", id]) => st
            .profiles
            .remove(*id)
            .map_or_else(not_found, |p| ok_json(200, json!({"profile": p}))),
        ("PATCH", ["profile", id]) => {
            if let Some(d) = input["durationSeconds"].as_i64() {
                if !(900..=43200).contains(&d) {
                    return validation("durationSeconds must be between 900 and 43200");
                }
            }
            match st.profiles.get_mut(*id) {
                None => not_found(),
                Some(p) => {
                    for k in [
                        "name",
                        "durationSeconds",
                        "acceptRoleSessionName",
                        "managedPolicyArns",
                        "sessionPolicy",
                    ] {
                        if let Some(v) = input.get(k) {
                            p[k] = v.clone();
                        }
                    }
                    p["updatedAt"] = json!(now_iso());
                    ok_json(200, json!({"profile": p}))
                }
            }
        }
        ("POST", ["profile", id, action @ ("enable" | "disable")]) => {
            match st.profiles.get_mut(*id) {
                None => not_found(),
                Some(p) => {
                    p["enabled"] = json!(*action == "enable");
                    p["updatedAt"] = json!(now_iso());
                    ok_json(200, json!({"profile": p}))
                }
            }
        }
        ("POST", ["TagResource"])
        | ("POST", ["UntagResource"])
        | ("GET", ["ListTagsForResource"]) => {
            let arn = input["resourceArn"]
                .as_str()
                .map(str::to_string)
                .or_else(|| query_arn(path_query))
                .unwrap_or_default();
            let state = &mut *st;
            let Some(obj) = state
                .trust_anchors
                .values_mut()
                .chain(state.profiles.values_mut())
                .find(|o| o["trustAnchorArn"] == arn.as_str() || o["profileArn"] == arn.as_str())
            else {
                return not_found();
            };
            let tags = obj["tags"].as_array().cloned().unwrap_or_default();
            let mut map: std::collections::BTreeMap<String, Json> = tags
                .iter()
                .filter_map(|t| Some((t["key"].as_str()?.to_string(), t["value"].clone())))
                .collect();
            match segs[0] {
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
            ok_json(
                200,
                if segs[0] == "ListTagsForResource" {
                    json!({"tags": tags})
                } else {
                    json!({})
                },
            )
        }
        _ => aws_error(
            404,
            "UnknownOperationException",
            &format!("{method} {path} is not a Roles Anywhere operation the testbed models"),
        ),
    }
}

fn query_arn(query: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "resourceArn")
        .map(|(_, v)| v.into_owned())
}
