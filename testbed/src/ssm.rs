//! SSM hybrid activations (awsJson1_1): create, describe (paged), delete; and the managed
//! instances nodes become when they register with one: describe (paged, filtered) and
//! deregister. botocore's model checks the request contract (`model.rs`); SSM's own checks are
//! here: the IAM role must exist in moto, trust ssm.amazonaws.com and have propagated (the
//! Terraform AWS provider retries "Nonexistent role" for that:
//! `internal/service/ssm/activation.go`), and the expiration must lie within 30 days.
//!
//! Registration (what amazon-ssm-agent does with an activation's ID and code) is a control
//! call, `register`: the node gets an `mi-` ID and the activation's tags ("tags assigned to the
//! activation are automatically applied to the on-premises servers or VMs", botocore's
//! CreateActivation `Tags`), within the activation's limit and before it expires. Deleting an
//! activation leaves its nodes registered (SSM API reference, DeleteActivation).

use serde_json::{json, Value as Json};

use crate::http::{aws_error, json as ok_json, page, Resp};
use crate::moto::Moto;
use crate::state::{iam_signing_region, Shared, State};
use crate::xml::values as xml_values;

const MAX_DAYS: f64 = 30.0;

fn validation(msg: &str) -> Resp {
    aws_error(400, "ValidationException", msg)
}

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

pub async fn handle(
    shared: &Shared,
    moto: &Moto,
    region: &str,
    operation: &str,
    input: &Json,
) -> Resp {
    match operation {
        "CreateActivation" => create(shared, moto, region, input).await,
        "DescribeActivations" => describe(shared, input).await,
        "DeleteActivation" => delete(shared, input).await,
        "DescribeInstanceInformation" => describe_instances(shared, region, input).await,
        "DeregisterManagedInstance" => deregister(shared, input).await,
        _ => aws_error(400, "UnknownOperationException", operation),
    }
}

/// `IamRole` is the role with its path (`path/name`): SSM builds `arn:…:role/<IamRole>` from
/// it (SSM API reference, CreateActivation, whose example is
/// `service-role/AmazonEC2RunCommandRoleForManagedInstances`; aws-cli #4232), so a role under a
/// path named by its bare name is not found. Returns (path as IAM shows it, name).
fn path_and_name(iam_role: &str) -> (String, &str) {
    match iam_role.rsplit_once('/') {
        Some((path, name)) => (format!("/{path}/"), name),
        None => ("/".to_string(), iam_role),
    }
}

async fn role_trusts_ssm(moto: &Moto, region: &str, iam_role: &str) -> bool {
    let (path, name) = path_and_name(iam_role);
    let params = [
        ("Action", "GetRole".to_string()),
        ("RoleName", name.to_string()),
    ];
    match moto.query("iam", iam_signing_region(region), &params).await {
        Ok((200, xml)) => {
            xml_values(&xml, "Path") == [path]
                && xml_values(&xml, "AssumeRolePolicyDocument")
                    .iter()
                    .any(|doc| crate::http::url_decode(doc).contains("ssm.amazonaws.com"))
        }
        _ => false,
    }
}

async fn create(shared: &Shared, moto: &Moto, region: &str, input: &Json) -> Resp {
    let role = input["IamRole"].as_str().unwrap_or_default();
    let propagating = {
        let st = shared.lock().await;
        st.iam.propagating(path_and_name(role).1).is_some()
    };
    if propagating || !role_trusts_ssm(moto, region, role).await {
        return validation(&format!(
            "Nonexistent role or missing ssm service principal in trust policy: {role}"
        ));
    }
    let limit = input["RegistrationLimit"].as_i64().unwrap_or(1);
    let now = now_secs();
    let expiration = input["ExpirationDate"].as_f64().unwrap_or(now + 86_400.0);
    if expiration <= now || expiration > now + MAX_DAYS * 86_400.0 {
        return validation("ExpirationDate must be in the future and at most 30 days ahead");
    }
    let id = uuid_like();
    let code = activation_code();
    let activation = json!({
        "ActivationId": id,
        "Description": input["Description"],
        "DefaultInstanceName": input["DefaultInstanceName"],
        "IamRole": role,
        "RegistrationLimit": limit,
        "RegistrationsCount": 0,
        "ExpirationDate": expiration,
        "CreatedDate": now,
        "Tags": input["Tags"],
    });
    let mut st = shared.lock().await;
    st.activations.insert(id.clone(), activation);
    st.activation_codes.insert(id.clone(), code.clone());
    ok_json(200, json!({"ActivationId": id, "ActivationCode": code}))
}

/// A node registers with an activation's ID and code, as amazon-ssm-agent does: Ok(its `mi-`
/// ID) or why SSM refuses it.
pub fn register(st: &mut State, region: &str, id: &str, code: &str) -> Result<String, String> {
    let now = now_secs();
    if st.activation_codes.get(id).map(String::as_str) != Some(code) {
        return Err(format!("no activation {id} with that code"));
    }
    let a = st
        .activations
        .get_mut(id)
        .ok_or("the activation was deleted")?;
    if a["ExpirationDate"].as_f64().unwrap_or(0.0) <= now {
        return Err("the activation has expired".into());
    }
    let count = a["RegistrationsCount"].as_i64().unwrap_or(0);
    if count >= a["RegistrationLimit"].as_i64().unwrap_or(1) {
        return Err("the activation's registration limit is reached".into());
    }
    a["RegistrationsCount"] = json!(count + 1);
    let r: u128 = rand::random();
    let instance_id = format!("mi-{}", &format!("{r:032x}")[..17]);
    let node = json!({
        "InstanceId": instance_id,
        "ActivationId": id,
        "IamRole": a["IamRole"],
        "PingStatus": "Online",
        "ResourceType": "ManagedInstance",
        "PlatformType": "Linux",
        "RegistrationDate": now,
        "LastPingDateTime": now,
        "Name": a["DefaultInstanceName"],
        "_region": region,
        "_tags": a["Tags"],
    });
    st.managed_instances.insert(instance_id.clone(), node);
    Ok(instance_id)
}

/// A node whose agent stopped reaching SSM `since_secs_ago`: SSM shows it `ConnectionLost`
/// with that `LastPingDateTime` (API reference, `InstanceInformation`: PingStatus `Online |
/// ConnectionLost | Inactive`; LastPingDateTime, "the date and time when the agent last
/// pinged the Systems Manager service").
pub fn go_offline(st: &mut State, instance_id: &str, since_secs_ago: f64) -> Result<(), String> {
    let node = st
        .managed_instances
        .get_mut(instance_id)
        .ok_or_else(|| format!("no managed instance {instance_id}"))?;
    node["PingStatus"] = json!("ConnectionLost");
    node["LastPingDateTime"] = json!(now_secs() - since_secs_ago);
    Ok(())
}

/// Whether a node matches one InstanceInformationStringFilter (botocore's filter keys:
/// `InstanceIds`, `ActivationIds`, `ResourceType`, `PingStatus`, `tag:<key>`, `tag-key`).
/// None: a key the testbed does not model.
fn filter_matches(node: &Json, key: &str, values: &[String]) -> Option<bool> {
    let field = |f: &str| {
        node[f]
            .as_str()
            .is_some_and(|v| values.iter().any(|w| w == v))
    };
    let tags = node["_tags"].as_array().cloned().unwrap_or_default();
    Some(match key {
        "InstanceIds" => field("InstanceId"),
        "ActivationIds" => field("ActivationId"),
        "ResourceType" => field("ResourceType"),
        "PingStatus" => field("PingStatus"),
        "tag-key" => tags.iter().any(|t| {
            t["Key"]
                .as_str()
                .is_some_and(|k| values.iter().any(|w| w == k))
        }),
        _ => {
            let tag = key.strip_prefix("tag:")?;
            tags.iter().any(|t| {
                t["Key"] == tag
                    && t["Value"]
                        .as_str()
                        .is_some_and(|v| values.iter().any(|w| w == v))
            })
        }
    })
}

/// A request's `Filters` as (key, values): DescribeInstanceInformation names the members
/// `Key`/`Values`, DescribeActivations `FilterKey`/`FilterValues` (botocore's SSM model).
fn filters(input: &Json, key: &str, values: &str) -> Vec<(String, Vec<String>)> {
    input["Filters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let values = f[values]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            (f[key].as_str().unwrap_or_default().to_string(), values)
        })
        .collect()
}

async fn describe_instances(shared: &Shared, region: &str, input: &Json) -> Resp {
    let filters = filters(input, "Key", "Values");
    let st = shared.lock().await;
    let mut all = Vec::new();
    for node in st
        .managed_instances
        .values()
        .filter(|n| n["_region"] == region)
    {
        let mut keep = true;
        for (key, values) in &filters {
            match filter_matches(node, key, values) {
                Some(m) => keep &= m,
                None => {
                    return aws_error(
                        400,
                        "InvalidFilterKey",
                        &format!("{key} is not a valid filter key"),
                    )
                }
            }
        }
        if keep {
            let mut shown = node.clone();
            for private in ["_region", "_tags"] {
                shown.as_object_mut().map(|o| o.remove(private));
            }
            all.push(shown);
        }
    }
    let (list, next) = page(
        &all,
        input["NextToken"].as_str(),
        input["MaxResults"].as_u64(),
        st.knobs.page_size,
    );
    ok_json(
        200,
        json!({"InstanceInformationList": list, "NextToken": next}),
    )
}

async fn deregister(shared: &Shared, input: &Json) -> Resp {
    let id = input["InstanceId"].as_str().unwrap_or_default();
    match shared.lock().await.managed_instances.remove(id) {
        Some(_) => ok_json(200, json!({})),
        None => aws_error(
            400,
            "InvalidInstanceId",
            &format!("Instance Id {id} is not valid"),
        ),
    }
}

async fn describe(shared: &Shared, input: &Json) -> Resp {
    let filters = filters(input, "FilterKey", "FilterValues");
    let field = |key: &str| match key {
        "ActivationIds" => Some("ActivationId"),
        "DefaultInstanceName" => Some("DefaultInstanceName"),
        "IamRole" => Some("IamRole"),
        _ => None,
    };
    let now = now_secs();
    let st = shared.lock().await;
    let all: Vec<Json> = st
        .activations
        .values()
        .filter(|a| {
            filters.iter().all(|(k, values)| {
                field(k)
                    .is_some_and(|f| a[f].as_str().is_some_and(|v| values.iter().any(|w| w == v)))
            })
        })
        .map(|a| {
            let mut a = a.clone();
            a["Expired"] = json!(a["ExpirationDate"].as_f64().unwrap_or(0.0) <= now);
            a
        })
        .collect();
    let (list, next) = page(
        &all,
        input["NextToken"].as_str(),
        input["MaxResults"].as_u64(),
        st.knobs.page_size,
    );
    ok_json(200, json!({"ActivationList": list, "NextToken": next}))
}

async fn delete(shared: &Shared, input: &Json) -> Resp {
    let id = input["ActivationId"].as_str().unwrap_or_default();
    match shared.lock().await.activations.remove(id) {
        Some(_) => ok_json(200, json!({})),
        None => aws_error(
            400,
            "InvalidActivation",
            &format!("Activation ID {id} not found"),
        ),
    }
}

/// 20 characters of base64's alphabet, as SSM issues them (SSM API reference: `ActivationCode`
/// is 20 to 250 characters; its CreateActivation example is `Fjz3/sZfSvv78EXAMPLE`).
fn activation_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..20)
        .map(|_| ALPHABET[(rand::random::<u32>() as usize) % ALPHABET.len()] as char)
        .collect()
}

fn uuid_like() -> String {
    let r: u128 = rand::random();
    let h = format!("{r:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
