//! One endpoint on 127.0.0.1 for everything the provider calls. EKS, IAM Roles Anywhere and
//! SSM activations are emulated here, their requests checked against botocore's models; EC2,
//! IAM and STS are forwarded to moto, with AWS's eventual consistency, lifecycles and pages
//! added to EC2's answers (`ec2.rs`) and IAM propagation watched (`iam.rs`). A control API
//! under /_testbed/ sets the knobs, injects faults and latency, restricts the caller to an
//! allow-list of actions, and exposes the call log and an inventory of every object.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value as Json};

use crate::ec2::{self, Verdict};
use crate::http::{self, aws_error, query_error, sigv4_scope, Resp};
use crate::model::Model;
use crate::moto::Moto;
use crate::policy::Policy;
use crate::state::{Call, Fault, Knobs, Shared, State, KNOBS};
use crate::{authz, eks, ra, ssm, xml, zones};

pub struct Config {
    pub port: u16,
    pub knobs: Knobs,
    /// An already running moto; otherwise the testbed starts `moto_server`.
    pub moto_url: Option<String>,
    pub moto_server: String,
    /// botocore's `data` directory; found next to `moto_server` when not given.
    pub botocore_data: Option<PathBuf>,
}

/// The services whose requests are checked against botocore's models.
const MODELLED: [&str; 3] = ["eks", "rolesanywhere", "ssm"];

struct App {
    shared: Shared,
    moto: Moto,
    models: HashMap<&'static str, std::sync::Mutex<Model>>,
}

/// Serves until SIGINT or SIGTERM. Returns the process exit code.
pub async fn run(config: Config) -> i32 {
    let data = config.botocore_data.clone().or_else(|| {
        let moto = which(&config.moto_server)?;
        crate::model::data_dir_near(&moto)
    });
    let Some(data) = data else {
        eprintln!(
            "aws-testbed: botocore's data directory was not found near {} (use --botocore-data)",
            config.moto_server
        );
        return 1;
    };
    let mut models = HashMap::new();
    for service in MODELLED {
        match Model::load(&data, service) {
            Ok(m) => {
                models.insert(service, std::sync::Mutex::new(m));
            }
            Err(e) => {
                eprintln!("aws-testbed: cannot read the {service} model: {e}");
                return 1;
            }
        }
    }
    let (moto_url, _moto_child) = match config.moto_url.clone() {
        Some(url) => (url, None),
        None => match start_moto(&config.moto_server).await {
            Ok((url, child)) => (url, Some(child)),
            Err(e) => {
                eprintln!("aws-testbed: cannot start moto: {e}");
                return 1;
            }
        },
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "aws-testbed: cannot listen on 127.0.0.1:{}: {e}",
                config.port
            );
            return 1;
        }
    };
    let addr = listener.local_addr().expect("bound");
    let app = Arc::new(App {
        shared: Arc::new(tokio::sync::Mutex::new(State::new(config.knobs))),
        moto: Moto::new(&moto_url),
        models,
    });
    // One write, errors ignored: a reader may close the pipe after the first line.
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "TESTBED_URL=http://{addr}\nMOTO_URL={moto_url}\n");
        let _ = out.flush();
    }
    let shutdown = tokio::signal::ctrl_c();
    tokio::pin!(shutdown);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("signal handler");
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            _ = term.recv() => break,
            a = listener.accept() => a,
        };
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let app = app.clone();
                async move { app.handle(req).await }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
    0
}

fn which(program: &str) -> Option<PathBuf> {
    let p = PathBuf::from(program);
    if p.components().count() > 1 {
        return Some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.exists())
    })
}

/// Starts moto on a free port and waits until it answers.
async fn start_moto(bin: &str) -> Result<(String, tokio::process::Child), String> {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        l.local_addr().map_err(|e| e.to_string())?.port()
    };
    let child = tokio::process::Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{bin}: {e}"))?;
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok((url, child));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err("moto did not start listening within 15 s".into())
}

/// awsJson protocols name the operation in `X-Amz-Target: AmazonSSM.CreateActivation`.
/// The response, and its AWS error code when it is an error (from `x-amzn-ErrorType` or the
/// query protocol's `<Code>`), for the call log.
async fn with_error_code(resp: Resp) -> (Resp, Option<String>) {
    if resp.status().is_success() {
        return (resp, None);
    }
    if let Some(t) = resp.headers().get("x-amzn-ErrorType") {
        let code = t.to_str().unwrap_or_default();
        let code = code.split(':').next().unwrap_or_default().to_string();
        return (resp, Some(code));
    }
    let (parts, body) = resp.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let code = xml::first(&String::from_utf8_lossy(&bytes), "Code");
    (Response::from_parts(parts, Full::new(bytes)), code)
}

fn json_target_operation(headers: &hyper::HeaderMap) -> String {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or("Unknown")
        .to_string()
}

fn form_params(query: &str, body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .chain(url::form_urlencoded::parse(query.as_bytes()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn query_operation(params: &[(String, String)]) -> String {
    params
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "Unknown".into())
}

/// The answer to a caller whose policy does not allow `action`, as each protocol gives it,
/// saying whether no statement allowed it or one denied it (IAM user guide, "Troubleshoot
/// access denied error messages").
fn access_denied(
    service: &str,
    region: &str,
    action: &str,
    resource: Option<&str>,
    explicit: bool,
) -> Resp {
    let why = if explicit {
        "with an explicit deny in an identity-based policy".to_string()
    } else {
        format!("because no identity-based policy allows the {action} action")
    };
    let on = resource
        .map(|r| format!(" on resource: {r}"))
        .unwrap_or_default();
    let message = format!(
        "User: arn:{}:iam::{}:user/testbed is not authorized to perform: {action}{on} {why}",
        crate::state::partition_of(region),
        crate::state::ACCOUNT
    );
    match service {
        "ec2" => query_error(service, 403, "UnauthorizedOperation", &message),
        "iam" | "sts" => query_error(service, 403, "AccessDenied", &message),
        _ => aws_error(403, "AccessDeniedException", &message),
    }
}

impl App {
    /// The action the caller's policy refuses this call, and whether an explicit Deny did, if
    /// any. A call that makes a service-linked role the account lacks needs
    /// `iam:CreateServiceLinkedRole` too, and makes the role once allowed.
    async fn refusal(&self, call: &authz::Call<'_>) -> Option<(String, Option<String>, bool)> {
        let action = format!("{}:{}", call.service, call.operation);
        if action == "sts:GetCallerIdentity" {
            // "No permissions are required to perform this operation" (STS API reference).
            return None;
        }
        let restricted = self.shared.lock().await.policy.is_some();
        let mut requests = Vec::new();
        if restricted {
            requests = authz::requests(&self.moto, &self.shared, call).await;
        }
        let linked = match authz::linked_role_of(call.service, call.operation) {
            Some(l) if !matches!(self.moto.role_arn(call.region, l.name).await, Ok(Some(_))) => {
                Some(l)
            }
            _ => None,
        };
        if let (true, Some(l)) = (restricted, &linked) {
            requests.push(l.request(call.region));
        }
        {
            let st = self.shared.lock().await;
            if let Some(r) = requests.iter().find(|r| !st.allows(r)) {
                return Some((
                    r.action.clone(),
                    r.resource.clone(),
                    st.denies_explicitly(r),
                ));
            }
        }
        if let Some(l) = linked {
            let path = format!("/aws-service-role/{}/", l.service);
            let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": l.service}, "Action": "sts:AssumeRole"}]});
            let _ = self
                .moto
                .query(
                    "iam",
                    call.region,
                    &[
                        ("Action", "CreateRole".into()),
                        ("RoleName", l.name.into()),
                        ("Path", path),
                        ("AssumeRolePolicyDocument", trust.to_string()),
                    ],
                )
                .await;
        }
        None
    }

    /// EC2 tags a transit gateway attachment with the tag specifications of its create (EC2 API
    /// reference, CreateTransitGatewayVpcAttachment `TagSpecifications`); moto 5.2.5 reads them
    /// only from a specification of type `transit-gateway-route-table`
    /// (`moto/ec2/responses/transit_gateway_attachments.py`) and drops the attachment's, so the
    /// testbed tags the new attachment itself.
    async fn tag_attachment_as_asked(&self, region: &str, params: &[(String, String)], xml: &str) {
        let Some(id) = xml::first(xml, "transitGatewayAttachmentId") else {
            return;
        };
        let get = |k: String| {
            params
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.clone())
        };
        let mut tags: Vec<(String, String)> = Vec::new();
        for list in ["TagSpecification", "TagSpecifications"] {
            for i in 1.. {
                let Some(kind) = get(format!("{list}.{i}.ResourceType")) else {
                    break;
                };
                if kind != "transit-gateway-attachment" {
                    continue;
                }
                for j in 1.. {
                    let Some(key) = get(format!("{list}.{i}.Tag.{j}.Key")) else {
                        break;
                    };
                    let value = get(format!("{list}.{i}.Tag.{j}.Value")).unwrap_or_default();
                    tags.push((key, value));
                }
            }
        }
        if tags.is_empty() {
            return;
        }
        let names: Vec<(String, String)> = tags
            .iter()
            .enumerate()
            .flat_map(|(n, (k, v))| {
                [
                    (format!("Tag.{}.Key", n + 1), k.clone()),
                    (format!("Tag.{}.Value", n + 1), v.clone()),
                ]
            })
            .collect();
        let mut call: Vec<(&str, String)> =
            vec![("Action", "CreateTags".into()), ("ResourceId.1", id)];
        call.extend(names.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let _ = self.moto.query("ec2", region, &call).await;
    }

    /// A permissions boundary that names no managed policy: IAM refuses the role (IAM API
    /// reference, CreateRole and PutRolePermissionsBoundary: `NoSuchEntity`, "Scope ARN: …
    /// does not exist or is not attachable."). moto checks only the ARN's form.
    async fn missing_boundary(&self, region: &str, params: &[(String, String)]) -> Option<Resp> {
        let get = |k: &str| {
            params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let action = get("Action")?;
        if !matches!(action.as_str(), "CreateRole" | "PutRolePermissionsBoundary") {
            return None;
        }
        let boundary = get("PermissionsBoundary")?;
        if boundary.starts_with("arn:") && boundary.contains(":iam::aws:policy/") {
            return None;
        }
        let (status, _) = self
            .moto
            .query(
                "iam",
                region,
                &[
                    ("Action", "GetPolicy".into()),
                    ("PolicyArn", boundary.clone()),
                ],
            )
            .await
            .ok()?;
        (status != 200).then(|| {
            query_error(
                "iam",
                404,
                "NoSuchEntity",
                &format!("Scope ARN: {boundary} does not exist or is not attachable."),
            )
        })
    }

    /// The JSON input of a JSON or REST call, as botocore's model assembles it (what the
    /// emulation will run), for authorization.
    fn json_input(
        &self,
        service: &str,
        operation: &str,
        labels: &HashMap<String, String>,
        query: &str,
        body: &[u8],
    ) -> Json {
        match self.models.get(service) {
            Some(model) if service != "ssm" => {
                let model = model.lock().expect("model lock");
                match model.operation(operation) {
                    Some(op) => model.input(op, labels, query, body),
                    None => Json::Null,
                }
            }
            _ => serde_json::from_slice(body).unwrap_or(Json::Null),
        }
    }

    async fn handle(&self, req: Request<hyper::body::Incoming>) -> Result<Resp, std::io::Error> {
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let path = parts.uri.path().to_string();
        let query = parts.uri.query().unwrap_or_default().to_string();
        if let Some(rest) = path.strip_prefix("/_testbed/") {
            return Ok(self
                .control(parts.method.as_str(), rest, &query, &body)
                .await);
        }
        // Tests inspect and mutate AWS behind the provider's back with this header: no faults,
        // latency, policy, log or EC2 realism.
        let inspect = parts.headers.contains_key("x-testbed-inspect");
        let auth = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let (service, region) =
            sigv4_scope(auth).unwrap_or_else(|| ("unknown".into(), "us-east-1".into()));
        let method = parts.method.as_str().to_string();
        let params = form_params(&query, &body);
        let (operation, labels) = match service.as_str() {
            "eks" | "rolesanywhere" => {
                let model = self.models[service.as_str()].lock().expect("model lock");
                match model.route(&method, &path) {
                    Some((op, labels)) => (op.name.clone(), labels),
                    None => ("Unknown".to_string(), HashMap::new()),
                }
            }
            "ssm" | "acm-pca" => (json_target_operation(&parts.headers), HashMap::new()),
            _ => (query_operation(&params), HashMap::new()),
        };
        if inspect {
            let resp = match service.as_str() {
                "eks" | "rolesanywhere" | "ssm" => {
                    self.emulated(&service, &region, &operation, &labels, &query, &body)
                        .await
                }
                _ => self.forward(Request::from_parts(parts, body)).await,
            };
            return Ok(resp);
        }
        let input = match service.as_str() {
            "ec2" | "iam" | "sts" => Json::Null,
            _ => self.json_input(&service, &operation, &labels, &query, &body),
        };
        let call = authz::Call {
            service: &service,
            operation: &operation,
            region: &region,
            params: &params,
            input: &input,
        };
        let refused = self.refusal(&call).await;
        let (start, fault, latency) = {
            let mut st = self.shared.lock().await;
            let fault = if refused.is_some() {
                None
            } else {
                st.fault_for(&service, &operation)
            };
            (st.ms(), fault, st.latency)
        };
        if let Some((needed, resource, explicit)) = refused {
            self.log(
                &service,
                &operation,
                start,
                403,
                Some("AccessDenied".into()),
            )
            .await;
            return Ok(access_denied(
                &service,
                &region,
                &needed,
                resource.as_deref(),
                explicit,
            ));
        }
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let resp = match fault {
            Some(Fault { drop: true, .. }) => {
                self.log(&service, &operation, start, 0, None).await;
                return Err(std::io::Error::other("testbed fault: connection dropped"));
            }
            Some(f) => {
                let msg = format!("injected by aws-testbed ({service}:{operation})");
                if MODELLED.contains(&service.as_str()) {
                    aws_error(f.status, &f.code, &msg)
                } else {
                    query_error(&service, f.status, &f.code, &msg)
                }
            }
            None => match service.as_str() {
                "eks" | "rolesanywhere" | "ssm" => {
                    self.emulated(&service, &region, &operation, &labels, &query, &body)
                        .await
                }
                "ec2" => {
                    self.forward_ec2(&operation, &region, &params, parts, body)
                        .await
                }
                "iam" => {
                    if let Some(refused) = self.missing_boundary(&region, &params).await {
                        refused
                    } else {
                        let resp = self.forward(Request::from_parts(parts, body)).await;
                        if resp.status() == 200 {
                            let mut st = self.shared.lock().await;
                            let window = st.knobs.iam_propagation;
                            st.iam.observe(&params, window);
                        }
                        resp
                    }
                }
                _ => self.forward(Request::from_parts(parts, body)).await,
            },
        };
        let (resp, code) = with_error_code(resp).await;
        self.log(&service, &operation, start, resp.status().as_u16(), code)
            .await;
        Ok(resp)
    }

    /// EKS, Roles Anywhere and SSM: the request is checked against botocore's model, then run
    /// by the emulation.
    async fn emulated(
        &self,
        service: &str,
        region: &str,
        operation: &str,
        labels: &HashMap<String, String>,
        query: &str,
        body: &[u8],
    ) -> Resp {
        let checked = {
            let mut model = self.models[service].lock().expect("model lock");
            match model.operation(operation) {
                None => Err(aws_error(
                    404,
                    "UnknownOperationException",
                    &format!("{operation} is not a {service} operation"),
                )),
                Some(op) => {
                    let input = model.input(op, labels, query, body);
                    match model.validate(operation, &input) {
                        Ok(()) => Ok(input),
                        Err(message) => Err(aws_error(400, model.validation_error, &message)),
                    }
                }
            }
        };
        let input = match checked {
            Ok(input) => input,
            Err(resp) => return resp,
        };
        match service {
            "eks" => eks::handle(&self.shared, &self.moto, region, operation, &input).await,
            "rolesanywhere" => {
                ra::handle(&self.shared, &self.moto, region, operation, &input).await
            }
            _ => ssm::handle(&self.shared, &self.moto, region, operation, &input).await,
        }
    }

    async fn forward(&self, req: Request<Bytes>) -> Resp {
        match self.moto.forward(req).await {
            Ok(r) => {
                let (parts, body) = r.into_parts();
                Response::from_parts(parts, Full::new(body))
            }
            Err(e) => aws_error(502, "ServiceUnavailable", &e),
        }
    }

    /// Forwards to moto what AWS would accept now, and answers as AWS would (`ec2.rs`).
    async fn forward_ec2(
        &self,
        operation: &str,
        region: &str,
        params: &[(String, String)],
        mut parts: hyper::http::request::Parts,
        body: Bytes,
    ) -> Resp {
        let (verdict, w) = {
            let st = self.shared.lock().await;
            let w = st.knobs.ec2_windows();
            (st.ec2.check(operation, params, &w), w)
        };
        let omit_all = match verdict {
            Verdict::Fail(status, code, message) => {
                return query_error("ec2", status, code, &message)
            }
            Verdict::CheckTransitGatewayRoute { route_table, tgw } => {
                if !self
                    .attachment_available(region, &route_table, &tgw, &w)
                    .await
                {
                    let message = format!("The transitGateway ID '{tgw}' does not exist.");
                    return query_error("ec2", 400, "InvalidTransitGatewayID.NotFound", &message);
                }
                false
            }
            Verdict::Forward { omit_all } => omit_all,
        };
        let body = if ec2::describe(operation).is_some_and(|d| d.paged) {
            parts.headers.remove("content-length");
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.extend_pairs(ec2::strip_paging(params));
            Bytes::from(form.finish())
        } else {
            body
        };
        let r = match self.moto.forward(Request::from_parts(parts, body)).await {
            Ok(r) => r,
            Err(e) => return aws_error(502, "ServiceUnavailable", &e),
        };
        let (mut parts, body) = r.into_parts();
        if parts.status != 200 {
            if operation == "DescribeSubnets" {
                if let Some(missing) = self.first_missing_subnet(region, params).await {
                    let message = format!("The subnet ID '{missing}' does not exist");
                    return query_error("ec2", 400, "InvalidSubnetID.NotFound", &message);
                }
            }
            return Response::from_parts(parts, Full::new(body));
        }
        if operation == "DeleteNatGateway" {
            self.release_nat_address(region, params).await;
        }
        let xml = String::from_utf8_lossy(&body).into_owned();
        if operation == "CreateTransitGatewayVpcAttachment" {
            self.tag_attachment_as_asked(region, params, &xml).await;
        }
        let zones = zones::of_region(&self.shared, &self.moto, region).await;
        let xml = {
            let mut st = self.shared.lock().await;
            st.ec2.observe(operation, params, &xml, &w);
            st.ec2.rewrite(operation, params, omit_all, xml, &w)
        };
        let xml = zones::rewrite(operation, xml, &zones);
        parts.headers.remove("content-length");
        Response::from_parts(parts, Full::new(Bytes::from(xml)))
    }

    /// AWS names the subnet it cannot find; moto names any of those asked for (its
    /// `get_all_subnets` subtracts subnet objects from IDs), so the testbed asks for each.
    async fn first_missing_subnet(
        &self,
        region: &str,
        params: &[(String, String)],
    ) -> Option<String> {
        let asked = params.iter().filter(|(k, _)| k.starts_with("SubnetId."));
        for (_, id) in asked {
            let one = [
                ("Action", "DescribeSubnets".into()),
                ("SubnetId.1", id.clone()),
            ];
            match self.moto.query("ec2", region, &one).await {
                Ok((200, _)) => continue,
                _ => return Some(id.clone()),
            }
        }
        None
    }

    /// AWS disassociates a NAT gateway's Elastic IP when the NAT gateway is deleted (VPC user
    /// guide, "Delete a NAT gateway": the address is disassociated, not released); moto keeps
    /// the association, so the testbed removes it.
    async fn release_nat_address(&self, region: &str, params: &[(String, String)]) {
        let nat = params
            .iter()
            .find(|(k, _)| k == "NatGatewayId")
            .map(|(_, v)| v.clone());
        let allocation = match nat {
            Some(nat) => self.shared.lock().await.ec2.address_of(&nat),
            None => None,
        };
        let Some(allocation) = allocation else { return };
        let described = self
            .moto
            .query(
                "ec2",
                region,
                &[
                    ("Action", "DescribeAddresses".into()),
                    ("AllocationId.1", allocation),
                ],
            )
            .await;
        if let Some(association) = described
            .ok()
            .and_then(|(_, xml)| xml::first(&xml, "associationId"))
        {
            let _ = self
                .moto
                .query(
                    "ec2",
                    region,
                    &[
                        ("Action", "DisassociateAddress".into()),
                        ("AssociationId", association),
                    ],
                )
                .await;
        }
    }

    /// Whether the route table's VPC has an available attachment to the transit gateway.
    async fn attachment_available(
        &self,
        region: &str,
        route_table: &str,
        tgw: &str,
        w: &ec2::Windows,
    ) -> bool {
        let table = self
            .moto
            .query(
                "ec2",
                region,
                &[
                    ("Action", "DescribeRouteTables".into()),
                    ("RouteTableId.1", route_table.into()),
                ],
            )
            .await;
        let Some(vpc) = table.ok().and_then(|(_, xml)| xml::first(&xml, "vpcId")) else {
            return false;
        };
        let attachments = self
            .moto
            .query(
                "ec2",
                region,
                &[
                    ("Action", "DescribeTransitGatewayVpcAttachments".into()),
                    ("Filter.1.Name", "vpc-id".into()),
                    ("Filter.1.Value.1", vpc),
                ],
            )
            .await;
        let Ok((_, xml)) = attachments else {
            return false;
        };
        let Some(set) = xml::ItemSet::parse(&xml, "transitGatewayVpcAttachments") else {
            return false;
        };
        let st = self.shared.lock().await;
        set.items.iter().any(|item| {
            let (Some(id), Some(state)) = (
                xml::first(item, "transitGatewayAttachmentId"),
                xml::first(item, "state"),
            ) else {
                return false;
            };
            xml::first(item, "transitGatewayId").as_deref() == Some(tgw)
                && st.ec2.shown_state(&id, &state, w) == "available"
        })
    }

    /// A transit gateway and a virtual private gateway standing in for the on-premises side,
    /// and a transit gateway another account shares without auto-accepting attachments.
    async fn seed(&self, region: &str) -> Result<Json, String> {
        let create = |action: &'static str, extra: (&'static str, &'static str)| async move {
            self.moto
                .query(
                    "ec2",
                    region,
                    &[("Action", action.into()), (extra.0, extra.1.into())],
                )
                .await
        };
        let (_, tgw) = create(
            "CreateTransitGateway",
            ("Description", "testbed on-premises link"),
        )
        .await?;
        let (_, vgw) = create("CreateVpnGateway", ("Type", "ipsec.1")).await?;
        let (_, shared) = create(
            "CreateTransitGateway",
            ("Description", "shared by another account"),
        )
        .await?;
        let id =
            |xml: &str, tag: &str| xml::first(xml, tag).ok_or(format!("moto did not return {tag}"));
        let shared_id = id(&shared, "transitGatewayId")?;
        self.shared
            .lock()
            .await
            .ec2
            .shared_tgws
            .insert(shared_id.clone());
        Ok(json!({
            "transit_gateway_id": id(&tgw, "transitGatewayId")?,
            "vpn_gateway_id": id(&vgw, "vpnGatewayId")?,
            "shared_transit_gateway_id": shared_id,
        }))
    }

    async fn log(
        &self,
        service: &str,
        operation: &str,
        start_ms: u64,
        status: u16,
        code: Option<String>,
    ) {
        let mut st = self.shared.lock().await;
        let end_ms = st.ms();
        if status == 200 {
            st.cost.charge(&format!("{service}:{operation}"));
        }
        st.calls.push(Call {
            service: service.into(),
            operation: operation.into(),
            start_ms,
            end_ms,
            status,
            code,
        });
    }

    /// Every object of every kind the provider can create, one `kind:id` per entry, sorted:
    /// the leak checks of the tests and the demo compare it before and after.
    async fn inventory(&self, region: &str) -> Result<Vec<String>, String> {
        let mut ids = Vec::new();
        let ec2 = [
            ("DescribeVpcs", "vpcSet", "vpcId"),
            ("DescribeSubnets", "subnetSet", "subnetId"),
            ("DescribeSecurityGroups", "securityGroupInfo", "groupId"),
            (
                "DescribeInternetGateways",
                "internetGatewaySet",
                "internetGatewayId",
            ),
            ("DescribeRouteTables", "routeTableSet", "routeTableId"),
            ("DescribeAddresses", "addressesSet", "allocationId"),
            (
                "DescribeNetworkInterfaces",
                "networkInterfaceSet",
                "networkInterfaceId",
            ),
            ("DescribeNatGateways", "natGatewaySet", "natGatewayId"),
            (
                "DescribeTransitGatewayVpcAttachments",
                "transitGatewayVpcAttachments",
                "transitGatewayAttachmentId",
            ),
            ("DescribeVpnGateways", "vpnGatewaySet", "vpnGatewayId"),
        ];
        for (action, set, tag) in ec2 {
            let (_, body) = self
                .moto
                .query("ec2", region, &[("Action", action.into())])
                .await?;
            let items = xml::ItemSet::parse(&body, set).map_or(Vec::new(), |s| s.items);
            for item in items {
                let gone = xml::first(&item, "state").is_some_and(|s| s == "deleted");
                if gone {
                    continue;
                }
                let Some(id) = xml::first(&item, tag) else {
                    continue;
                };
                if action == "DescribeVpnGateways" {
                    let attached = xml::values(&item, "state").iter().any(|s| s == "attached");
                    if attached {
                        ids.push(format!("vgw-attachment:{id}"));
                    }
                    continue;
                }
                ids.push(format!("{action}:{id}"));
            }
        }
        let (_, roles) = self
            .moto
            .query("iam", region, &[("Action", "ListRoles".into())])
            .await?;
        // Service-linked roles are AWS's: made by a service on first use and kept after
        // (IAM user guide, "Using service-linked roles"), so no client leaks them.
        ids.extend(
            xml::values(&roles, "Arn")
                .into_iter()
                .filter(|arn| !arn.contains(":role/aws-service-role/"))
                .filter_map(|arn| arn.rsplit('/').next().map(|r| format!("role:{r}"))),
        );
        eks::advance(&self.shared, &self.moto).await;
        let st = self.shared.lock().await;
        ids.extend(st.clusters.keys().map(|c| format!("cluster:{c}")));
        for (name, c) in &st.clusters {
            ids.extend(
                c.access_entries
                    .keys()
                    .map(|p| format!("access_entry:{name}:{p}")),
            );
        }
        ids.extend(st.trust_anchors.keys().map(|k| format!("trust_anchor:{k}")));
        ids.extend(st.profiles.keys().map(|k| format!("profile:{k}")));
        ids.extend(st.activations.keys().map(|k| format!("activation:{k}")));
        ids.extend(
            st.managed_instances
                .iter()
                .filter(|(_, n)| n["_region"] == region)
                .map(|(k, _)| format!("managed_instance:{k}")),
        );
        ids.sort();
        Ok(ids)
    }

    async fn control(&self, method: &str, path: &str, query: &str, body: &[u8]) -> Resp {
        let input: Json = serde_json::from_slice(body).unwrap_or(json!({}));
        let query: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let ok = || http::json(200, json!({"ok": true}));
        match (method, path) {
            ("GET", "health") => ok(),
            ("POST", "reset") => {
                {
                    let mut st = self.shared.lock().await;
                    let knobs = st.knobs.clone();
                    *st = State::new(knobs);
                }
                match self.moto.reset().await {
                    Ok(()) => http::json(200, json!({"reset": true})),
                    Err(e) => http::json(502, json!({"error": e})),
                }
            }
            ("POST", "faults") => match serde_json::from_value::<Fault>(input) {
                Ok(f) => {
                    self.shared.lock().await.faults.push(f);
                    ok()
                }
                Err(e) => http::json(400, json!({"error": e.to_string()})),
            },
            ("DELETE", "faults") => {
                self.shared.lock().await.faults.clear();
                ok()
            }
            ("POST", "latency") => {
                self.shared.lock().await.latency =
                    Duration::from_millis(input["ms"].as_u64().unwrap_or(0));
                ok()
            }
            ("POST", "timing") => {
                let mut st = self.shared.lock().await;
                for name in KNOBS {
                    if let Some(v) = input[name].as_u64() {
                        st.knobs.set(name, v);
                    }
                }
                ok()
            }
            ("POST", "policy") => {
                let policy = match &input["document"] {
                    Json::Null => {
                        let allow: Vec<String> = input["allow"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|a| a.as_str().map(str::to_string))
                            .collect();
                        Ok(Policy::allowing(&allow))
                    }
                    doc => Policy::parse(doc),
                };
                match policy {
                    Ok(p) => {
                        self.shared.lock().await.policy = Some(p);
                        ok()
                    }
                    Err(e) => http::json(400, json!({ "error": e })),
                }
            }
            ("DELETE", "policy") => {
                self.shared.lock().await.policy = None;
                ok()
            }
            ("POST", "accept") => {
                let id = input["attachment_id"].as_str().unwrap_or_default();
                if self.shared.lock().await.ec2.accept(id) {
                    ok()
                } else {
                    http::json(
                        404,
                        json!({"error": format!("{id} is not awaiting acceptance")}),
                    )
                }
            }
            ("POST", "register-node") => {
                let region = input["region"].as_str().unwrap_or("us-west-2");
                let id = input["activation_id"].as_str().unwrap_or_default();
                let code = input["activation_code"].as_str().unwrap_or_default();
                let mut st = self.shared.lock().await;
                match ssm::register(&mut st, region, id, code) {
                    Ok(instance) => http::json(200, json!({ "instance_id": instance })),
                    Err(e) => http::json(400, json!({ "error": e })),
                }
            }
            ("POST", "node-offline") => {
                let id = input["instance_id"].as_str().unwrap_or_default();
                let since = input["since_secs_ago"].as_f64().unwrap_or(0.0);
                let mut st = self.shared.lock().await;
                match ssm::go_offline(&mut st, id, since) {
                    Ok(()) => ok(),
                    Err(e) => http::json(404, json!({ "error": e })),
                }
            }
            ("POST", "block-upgrade") => {
                let name = input["cluster"].as_str().unwrap_or_default();
                match self.shared.lock().await.clusters.get_mut(name) {
                    Some(c) => {
                        c.upgrade_blocked = true;
                        ok()
                    }
                    None => http::json(404, json!({"error": format!("no cluster {name}")})),
                }
            }
            ("POST", "fail-nat-gateway") => {
                let id = input["id"].as_str().unwrap_or_default();
                self.shared.lock().await.ec2.fail_nat_gateway(id);
                ok()
            }
            ("POST", "seed") => {
                let region = input["region"].as_str().unwrap_or("us-west-2").to_string();
                match self.seed(&region).await {
                    Ok(v) => http::json(200, v),
                    Err(e) => http::json(502, json!({"error": e})),
                }
            }
            ("GET", "cost") => http::json(200, json!(self.shared.lock().await.cost)),
            ("DELETE", "cost") => {
                self.shared.lock().await.cost = Default::default();
                ok()
            }
            ("GET", "calls") => http::json(200, json!({"calls": self.shared.lock().await.calls})),
            ("DELETE", "calls") => {
                self.shared.lock().await.calls.clear();
                ok()
            }
            ("GET", "inventory") => {
                let region = query.get("region").map_or("us-west-2", String::as_str);
                match self.inventory(region).await {
                    Ok(ids) => http::json(200, json!({"objects": ids})),
                    Err(e) => http::json(502, json!({"error": e})),
                }
            }
            ("GET", "objects") => {
                eks::advance(&self.shared, &self.moto).await;
                let stale = eks::stale_access_entries(&self.shared, &self.moto).await;
                let st = self.shared.lock().await;
                http::json(
                    200,
                    json!({
                        "clusters": st.clusters.keys().collect::<Vec<_>>(),
                        "access_entries": st.clusters.values().map(|c| c.access_entries.len()).sum::<usize>(),
                        "stale_access_entries": stale,
                        "trust_anchors": st.trust_anchors.keys().collect::<Vec<_>>(),
                        "profiles": st.profiles.keys().collect::<Vec<_>>(),
                        "activations": st.activations.keys().collect::<Vec<_>>(),
                        "activation_codes": st.activation_codes,
                        "managed_instances": st.managed_instances.keys().collect::<Vec<_>>(),
                    }),
                )
            }
            _ => http::json(
                404,
                json!({"error": format!("no control endpoint {method} /_testbed/{path}")}),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_operations_are_named_by_their_action() {
        let params = form_params("", b"Action=CreateVpc&Version=2016-11-15");
        assert_eq!(query_operation(&params), "CreateVpc");
        let params = form_params("Action=GetCallerIdentity", b"");
        assert_eq!(query_operation(&params), "GetCallerIdentity");
    }

    #[test]
    fn denials_speak_each_protocol() {
        let r = access_denied("ec2", "us-west-2", "ec2:CreateVpc", None, false);
        assert_eq!(r.status(), 403);
        let r = access_denied(
            "eks",
            "us-west-2",
            "eks:DescribeCluster",
            Some("arn:aws:eks:us-west-2:123456789012:cluster/c"),
            true,
        );
        assert_eq!(
            r.headers().get("x-amzn-ErrorType").unwrap(),
            "AccessDeniedException"
        );
    }
}
