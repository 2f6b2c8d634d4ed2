//! SSM hybrid activations (awsJson1_1): create, describe (paged), delete. botocore's model
//! checks the request contract (`model.rs`); SSM's own checks are here: the IAM role must
//! exist in moto, trust ssm.amazonaws.com and have propagated (the Terraform AWS provider
//! retries "Nonexistent role" for that: `internal/service/ssm/activation.go`), and the
//! expiration must lie within 30 days.

use serde_json::{json, Value as Json};

use crate::http::{aws_error, json as ok_json, page, Resp};
use crate::moto::Moto;
use crate::state::Shared;
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

pub async fn handle(shared: &Shared, moto: &Moto, operation: &str, input: &Json) -> Resp {
    match operation {
        "CreateActivation" => create(shared, moto, input).await,
        "DescribeActivations" => describe(shared, input).await,
        "DeleteActivation" => delete(shared, input).await,
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

async fn role_trusts_ssm(moto: &Moto, iam_role: &str) -> bool {
    let (path, name) = path_and_name(iam_role);
    let params = [
        ("Action", "GetRole".to_string()),
        ("RoleName", name.to_string()),
    ];
    match moto.query("iam", "us-east-1", &params).await {
        Ok((200, xml)) => {
            xml_values(&xml, "Path") == [path]
                && xml_values(&xml, "AssumeRolePolicyDocument")
                    .iter()
                    .any(|doc| crate::http::url_decode(doc).contains("ssm.amazonaws.com"))
        }
        _ => false,
    }
}

async fn create(shared: &Shared, moto: &Moto, input: &Json) -> Resp {
    let role = input["IamRole"].as_str().unwrap_or_default();
    let propagating = {
        let st = shared.lock().await;
        st.iam.propagating(path_and_name(role).1).is_some()
    };
    if propagating || !role_trusts_ssm(moto, role).await {
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
    let code = format!("{}{}", &uuid_like()[..10], &uuid_like()[..10]).replace('-', "");
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
    shared
        .lock()
        .await
        .activations
        .insert(id.clone(), activation);
    ok_json(200, json!({"ActivationId": id, "ActivationCode": code}))
}

async fn describe(shared: &Shared, input: &Json) -> Resp {
    let filters: Vec<(String, Vec<String>)> = input["Filters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let key = f["FilterKey"].as_str().unwrap_or_default().to_string();
            let values = f["FilterValues"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            (key, values)
        })
        .collect();
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
