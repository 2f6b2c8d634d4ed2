//! aws-testbed: one endpoint on 127.0.0.1 for everything the provider calls. EKS and IAM Roles
//! Anywhere are emulated here; EC2, IAM and STS are forwarded to moto unchanged. A control API
//! under /_testbed/ resets state, injects faults and latency, and exposes the call log.

mod eks;
mod http;
mod moto;
mod ra;
mod settle;
mod ssm;
mod state;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::json;

use http::{aws_error, query_error, sigv4_scope, Resp};
use state::{Call, Fault, Shared, State, Timing};

struct App {
    shared: Shared,
    moto: moto::Moto,
}

fn arg(name: &str, env: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var(env).ok())
}

fn ms_arg(name: &str, env: &str, default: u64) -> Duration {
    Duration::from_millis(
        arg(name, env)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

#[tokio::main]
async fn main() {
    let port: u16 = arg("--port", "TESTBED_PORT")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let timing = Timing {
        eks_create: ms_arg("--eks-create-ms", "TESTBED_EKS_CREATE_MS", 1000),
        eks_delete: ms_arg("--eks-delete-ms", "TESTBED_EKS_DELETE_MS", 500),
        eks_update: ms_arg("--eks-update-ms", "TESTBED_EKS_UPDATE_MS", 500),
        ec2_settle: ms_arg("--ec2-settle-ms", "TESTBED_EC2_SETTLE_MS", 0),
    };
    let (moto_url, _moto_child) = match arg("--moto-url", "TESTBED_MOTO_URL") {
        Some(url) => (url, None),
        None => match start_moto().await {
            Ok((url, child)) => (url, Some(child)),
            Err(e) => {
                eprintln!("aws-testbed: cannot start moto: {e}");
                std::process::exit(1);
            }
        },
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("aws-testbed: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    let addr = listener.local_addr().expect("bound");
    let app = Arc::new(App {
        shared: Arc::new(tokio::sync::Mutex::new(State::new(timing))),
        moto: moto::Moto::new(&moto_url),
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
}

/// Starts moto on a free port and waits until it answers.
async fn start_moto() -> Result<(String, tokio::process::Child), String> {
    let bin = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        l.local_addr().map_err(|e| e.to_string())?.port()
    };
    let child = tokio::process::Command::new(&bin)
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

/// EKS operation names from method and path, for the call log and fault rules.
fn rest_operation(service: &str, method: &str, path: &str) -> String {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let op = match (service, method, segs.as_slice()) {
        ("eks", "POST", ["clusters"]) => "CreateCluster",
        ("eks", "GET", ["clusters"]) => "ListClusters",
        ("eks", "GET", ["clusters", _]) => "DescribeCluster",
        ("eks", "DELETE", ["clusters", _]) => "DeleteCluster",
        ("eks", "POST", ["clusters", _, "updates"]) => "UpdateClusterVersion",
        ("eks", "POST", ["clusters", _, "update-config"]) => "UpdateClusterConfig",
        ("eks", "GET", ["clusters", _, "updates", _]) => "DescribeUpdate",
        ("eks", "POST", ["clusters", _, "access-entries"]) => "CreateAccessEntry",
        ("eks", "GET", ["clusters", _, "access-entries"]) => "ListAccessEntries",
        ("eks", "GET", ["clusters", _, "access-entries", _]) => "DescribeAccessEntry",
        ("eks", "POST", ["clusters", _, "addons"]) => "CreateAddon",
        ("eks", "GET", ["clusters", _, "addons", _]) => "DescribeAddon",
        ("eks", "DELETE", ["clusters", _, "addons", _]) => "DeleteAddon",
        ("eks", "POST", ["clusters", _, "access-entries", _]) => "UpdateAccessEntry",
        ("eks", "DELETE", ["clusters", _, "access-entries", _]) => "DeleteAccessEntry",
        ("eks", "POST", ["tags", _]) => "TagResource",
        ("eks", "DELETE", ["tags", _]) => "UntagResource",
        ("eks", "GET", ["tags", _]) => "ListTagsForResource",
        ("eks", "GET", ["addons", "supported-versions"]) => "DescribeAddonVersions",
        ("rolesanywhere", "POST", ["trustanchors"]) => "CreateTrustAnchor",
        ("rolesanywhere", "GET", ["trustanchors"]) => "ListTrustAnchors",
        ("rolesanywhere", "GET", ["trustanchor", _]) => "GetTrustAnchor",
        ("rolesanywhere", "PATCH", ["trustanchor", _]) => "UpdateTrustAnchor",
        ("rolesanywhere", "DELETE", ["trustanchor", _]) => "DeleteTrustAnchor",
        ("rolesanywhere", "POST", ["trustanchor", _, "enable"]) => "EnableTrustAnchor",
        ("rolesanywhere", "POST", ["trustanchor", _, "disable"]) => "DisableTrustAnchor",
        ("rolesanywhere", "POST", ["profiles"]) => "CreateProfile",
        ("rolesanywhere", "GET", ["profiles"]) => "ListProfiles",
        ("rolesanywhere", "GET", ["profile", _]) => "GetProfile",
        ("rolesanywhere", "PATCH", ["profile", _]) => "UpdateProfile",
        ("rolesanywhere", "DELETE", ["profile", _]) => "DeleteProfile",
        ("rolesanywhere", "POST", ["profile", _, "enable"]) => "EnableProfile",
        ("rolesanywhere", "POST", ["profile", _, "disable"]) => "DisableProfile",
        ("rolesanywhere", "POST", ["TagResource"]) => "TagResource",
        ("rolesanywhere", "POST", ["UntagResource"]) => "UntagResource",
        ("rolesanywhere", "GET", ["ListTagsForResource"]) => "ListTagsForResource",
        _ => "Unknown",
    };
    op.to_string()
}

/// awsJson protocols name the operation in `X-Amz-Target: AmazonSSM.CreateActivation`.
fn json_target_operation(headers: &hyper::HeaderMap) -> String {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or("Unknown")
        .to_string()
}

fn query_operation(query: &str, body: &[u8]) -> String {
    url::form_urlencoded::parse(body)
        .chain(url::form_urlencoded::parse(query.as_bytes()))
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| "Unknown".into())
}

impl App {
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
            return Ok(self.control(parts.method.as_str(), rest, &body).await);
        }
        let auth = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let (service, region) =
            sigv4_scope(auth).unwrap_or_else(|| ("unknown".into(), "us-east-1".into()));
        let method = parts.method.as_str().to_string();
        let operation = match service.as_str() {
            "eks" | "rolesanywhere" => rest_operation(&service, &method, &path),
            "ssm" => json_target_operation(&parts.headers),
            _ => query_operation(&query, &body),
        };
        let (start, fault, latency) = {
            let mut st = self.shared.lock().await;
            (st.ms(), st.fault_for(&service, &operation), st.latency)
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let resp = match fault {
            Some(Fault { drop: true, .. }) => {
                self.log(&service, &operation, start, 0).await;
                return Err(std::io::Error::other("testbed fault: connection dropped"));
            }
            Some(f) => {
                let msg = format!("injected by aws-testbed ({}:{operation})", service);
                if matches!(service.as_str(), "eks" | "rolesanywhere" | "ssm") {
                    aws_error(f.status, &f.code, &msg)
                } else {
                    query_error(&service, f.status, &f.code, &msg)
                }
            }
            None => match service.as_str() {
                "eks" => {
                    eks::handle(
                        &self.shared,
                        &self.moto,
                        &region,
                        &method,
                        &path,
                        &query,
                        &body,
                    )
                    .await
                }
                "rolesanywhere" => {
                    ra::handle(&self.shared, &region, &method, &path, &query, &body).await
                }
                "ssm" => ssm::handle(&self.shared, &self.moto, &operation, &body).await,
                "ec2" => {
                    self.forward_ec2(&operation, Request::from_parts(parts, body))
                        .await
                }
                _ => self.forward(Request::from_parts(parts, body)).await,
            },
        };
        self.log(&service, &operation, start, resp.status().as_u16())
            .await;
        Ok(resp)
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

    /// Forwards to moto, then shows NAT gateways and transit gateway attachments settling.
    async fn forward_ec2(&self, operation: &str, req: Request<Bytes>) -> Resp {
        let params: Vec<(String, String)> = url::form_urlencoded::parse(req.body())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let r = match self.moto.forward(req).await {
            Ok(r) => r,
            Err(e) => return aws_error(502, "ServiceUnavailable", &e),
        };
        let (parts, body) = r.into_parts();
        let mut st = self.shared.lock().await;
        let settle = st.timing.ec2_settle;
        if settle.is_zero() || parts.status != 200 {
            return Response::from_parts(parts, Full::new(body));
        }
        let xml = String::from_utf8_lossy(&body).into_owned();
        st.settling.observe(operation, &params, &xml);
        let xml = st.settling.rewrite(operation, settle, xml);
        let mut parts = parts;
        parts.headers.remove("content-length");
        Response::from_parts(parts, Full::new(Bytes::from(xml)))
    }

    /// A transit gateway and a virtual private gateway, standing in for the on-premises side.
    async fn seed(&self, region: &str) -> Result<serde_json::Value, String> {
        let (_, tgw) = self
            .moto
            .query(
                "ec2",
                region,
                &[
                    ("Action", "CreateTransitGateway".into()),
                    ("Description", "testbed on-premises link".into()),
                ],
            )
            .await?;
        let (_, vgw) = self
            .moto
            .query(
                "ec2",
                region,
                &[
                    ("Action", "CreateVpnGateway".into()),
                    ("Type", "ipsec.1".into()),
                ],
            )
            .await?;
        let first = |xml: &str, tag: &str| {
            moto::xml_values(xml, tag)
                .into_iter()
                .next()
                .ok_or(format!("moto did not return {tag}"))
        };
        Ok(
            json!({"transit_gateway_id": first(&tgw, "transitGatewayId")?, "vpn_gateway_id": first(&vgw, "vpnGatewayId")?}),
        )
    }

    async fn log(&self, service: &str, operation: &str, start_ms: u64, status: u16) {
        let mut st = self.shared.lock().await;
        let end_ms = st.ms();
        st.calls.push(Call {
            service: service.into(),
            operation: operation.into(),
            start_ms,
            end_ms,
            status,
        });
    }

    async fn control(&self, method: &str, path: &str, body: &[u8]) -> Resp {
        let input: serde_json::Value = serde_json::from_slice(body).unwrap_or(json!({}));
        match (method, path) {
            ("GET", "health") => http::json(200, json!({"ok": true})),
            ("POST", "reset") => {
                {
                    let mut st = self.shared.lock().await;
                    let timing = st.timing.clone();
                    *st = State::new(timing);
                }
                match self.moto.reset().await {
                    Ok(()) => http::json(200, json!({"reset": true})),
                    Err(e) => http::json(502, json!({"error": e})),
                }
            }
            ("POST", "faults") => match serde_json::from_value::<Fault>(input) {
                Ok(f) => {
                    self.shared.lock().await.faults.push(f);
                    http::json(200, json!({"ok": true}))
                }
                Err(e) => http::json(400, json!({"error": e.to_string()})),
            },
            ("DELETE", "faults") => {
                self.shared.lock().await.faults.clear();
                http::json(200, json!({"ok": true}))
            }
            ("POST", "latency") => {
                self.shared.lock().await.latency =
                    Duration::from_millis(input["ms"].as_u64().unwrap_or(0));
                http::json(200, json!({"ok": true}))
            }
            ("POST", "timing") => {
                let mut st = self.shared.lock().await;
                let t = &mut st.timing;
                for (k, slot) in [
                    ("eks_create_ms", &mut t.eks_create),
                    ("eks_delete_ms", &mut t.eks_delete),
                    ("eks_update_ms", &mut t.eks_update),
                    ("ec2_settle_ms", &mut t.ec2_settle),
                ] {
                    if let Some(ms) = input[k].as_u64() {
                        *slot = Duration::from_millis(ms);
                    }
                }
                http::json(200, json!({"ok": true}))
            }
            ("POST", "seed") => {
                let region = input["region"].as_str().unwrap_or("us-west-2").to_string();
                match self.seed(&region).await {
                    Ok(v) => http::json(200, v),
                    Err(e) => http::json(502, json!({"error": e})),
                }
            }
            ("GET", "calls") => http::json(200, json!({"calls": self.shared.lock().await.calls})),
            ("DELETE", "calls") => {
                self.shared.lock().await.calls.clear();
                http::json(200, json!({"ok": true}))
            }
            ("GET", "objects") => {
                eks::advance(&self.shared, &self.moto).await;
                let st = self.shared.lock().await;
                http::json(
                    200,
                    json!({
                        "clusters": st.clusters.keys().collect::<Vec<_>>(),
                        "access_entries": st.clusters.values().map(|c| c.access_entries.len()).sum::<usize>(),
                        "trust_anchors": st.trust_anchors.keys().collect::<Vec<_>>(),
                        "profiles": st.profiles.keys().collect::<Vec<_>>(),
                        "activations": st.activations.keys().collect::<Vec<_>>(),
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
    fn operations_are_named_like_aws() {
        assert_eq!(rest_operation("eks", "POST", "/clusters"), "CreateCluster");
        assert_eq!(
            rest_operation("eks", "GET", "/clusters/demo/access-entries/arn%3Ax"),
            "DescribeAccessEntry"
        );
        assert_eq!(
            rest_operation("rolesanywhere", "POST", "/trustanchor/abc/enable"),
            "EnableTrustAnchor"
        );
        assert_eq!(
            query_operation("", b"Action=CreateVpc&Version=2016-11-15"),
            "CreateVpc"
        );
        assert_eq!(
            query_operation("Action=GetCallerIdentity", b""),
            "GetCallerIdentity"
        );
    }
}
