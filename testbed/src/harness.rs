//! The testbed from a test's side: start it on a free port, stop it (and its moto) cleanly,
//! and talk to it: the control API, AWS calls that inspect or change AWS behind the
//! provider's back (marked so the testbed leaves them out of faults, policy, realism and the
//! call log), and the inventory every leak check compares.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value as Json;

pub use crate::xml::{values as xml_values, ItemSet};

pub const REGION: &str = "us-west-2";

pub struct Testbed {
    child: Child,
    pub url: String,
}

/// The gateways `seed` creates in moto.
pub struct Seeded {
    pub transit_gateway: String,
    pub vpn_gateway: String,
    /// Shared by another account, without auto-accept: attachments await acceptance.
    pub shared_transit_gateway: String,
}

impl Testbed {
    /// Starts the testbed `binary` on a free port, with moto from `moto_server` and `args`
    /// (knobs such as `--eks-create-ms 300`, or `--exact`).
    pub fn start(binary: &Path, moto_server: &Path, args: &[&str]) -> Testbed {
        assert!(
            binary.exists(),
            "{} is missing: build the workspace first",
            binary.display()
        );
        assert!(
            moto_server.exists(),
            "{} is missing: run `make tools` first",
            moto_server.display()
        );
        let mut child = Command::new(binary)
            .args(["--port", "0"])
            .args(args)
            .env("MOTO_SERVER", moto_server)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aws-testbed");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let url = lines
            .next()
            .and_then(|l| l.ok())
            .and_then(|l| l.strip_prefix("TESTBED_URL=").map(str::to_string))
            .expect("testbed announces its URL");
        Testbed { child, url }
    }

    fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    /// A minimal HTTP/1.1 exchange with the testbed (control API or an AWS call).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> (u16, String) {
        let mut s = TcpStream::connect(self.addr()).expect("connect testbed");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr(),
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).expect("send");
        let mut resp = String::new();
        s.read_to_string(&mut resp).expect("read");
        let status = resp
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = resp
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    pub fn control(&self, method: &str, path: &str, body: &str) -> Json {
        let (status, body) = self.request(
            method,
            &format!("/_testbed/{path}"),
            &[("content-type", "application/json".into())],
            body,
        );
        assert!(status < 300, "control {path}: {status} {body}");
        serde_json::from_str(&body).unwrap_or_default()
    }

    fn auth(service: &str, region: &str) -> (&'static str, String) {
        ("authorization", crate::moto::authorization(service, region))
    }

    /// A query-protocol call (EC2 or IAM) behind the provider's back; returns the XML body.
    pub fn query(&self, service: &str, params: &str) -> String {
        self.query_in(REGION, service, params)
    }

    pub fn query_in(&self, region: &str, service: &str, params: &str) -> String {
        self.query_as(region, service, params, true)
    }

    /// A query-protocol call as another AWS client would make it: subject to the testbed's
    /// realism (a VPC made this way is unknown to EC2 for the consistency window).
    pub fn call(&self, service: &str, params: &str) -> String {
        self.query_as(REGION, service, params, false)
    }

    fn query_as(&self, region: &str, service: &str, params: &str, inspect: bool) -> String {
        let version = if service == "ec2" {
            "2016-11-15"
        } else {
            "2010-05-08"
        };
        let region = if service == "iam" {
            crate::state::iam_signing_region(region)
        } else {
            region
        };
        let mut headers = vec![
            Self::auth(service, region),
            ("content-type", "application/x-www-form-urlencoded".into()),
        ];
        if inspect {
            headers.push(("x-testbed-inspect", "1".into()));
        }
        let (status, body) = self.request(
            "POST",
            "/",
            &headers,
            &format!("{params}&Version={version}"),
        );
        assert_eq!(status, 200, "{service} {params}: {body}");
        body
    }

    /// An AWS JSON 1.1 call (`target` as `ACMPrivateCA.DescribeCertificateAuthority`) behind the
    /// provider's back; returns the status and the body.
    pub fn json(&self, service: &str, target: &str, body: &Json) -> (u16, Json) {
        let (status, body) = self.request(
            "POST",
            "/",
            &[
                Self::auth(service, REGION),
                ("content-type", "application/x-amz-json-1.1".into()),
                ("x-amz-target", target.into()),
                ("x-testbed-inspect", "1".into()),
            ],
            &body.to_string(),
        );
        (status, serde_json::from_str(&body).unwrap_or_default())
    }

    /// A REST call to an emulated service (eks, rolesanywhere) behind the provider's back.
    pub fn rest(&self, service: &str, method: &str, path: &str, body: &str) -> (u16, String) {
        self.request(
            method,
            path,
            &[
                Self::auth(service, REGION),
                ("content-type", "application/json".into()),
                ("x-testbed-inspect", "1".into()),
            ],
            body,
        )
    }

    pub fn seed(&self) -> Seeded {
        self.seed_in(REGION)
    }

    pub fn seed_in(&self, region: &str) -> Seeded {
        let v = self.control("POST", "seed", &format!("{{\"region\":\"{region}\"}}"));
        let id = |k: &str| v[k].as_str().expect("seeded gateway").to_string();
        Seeded {
            transit_gateway: id("transit_gateway_id"),
            vpn_gateway: id("vpn_gateway_id"),
            shared_transit_gateway: id("shared_transit_gateway_id"),
        }
    }

    /// Sets knobs by name (`eks_create_ms`, `ec2_consistency_ms`, `page_size`, …).
    pub fn set(&self, knobs: &[(&str, u64)]) {
        let body: serde_json::Map<String, Json> = knobs
            .iter()
            .map(|(k, v)| (k.to_string(), Json::from(*v)))
            .collect();
        self.control("POST", "timing", &Json::Object(body).to_string());
    }

    /// From now on, AWS calls outside `actions` (IAM action patterns) are denied.
    pub fn allow_only(&self, actions: &[String]) {
        let body = serde_json::json!({ "allow": actions });
        self.control("POST", "policy", &body.to_string());
    }

    /// From now on, the caller has exactly this identity-based policy document: actions,
    /// resources and conditions are evaluated as IAM does.
    pub fn set_policy(&self, document: &Json) {
        let body = serde_json::json!({ "document": document });
        self.control("POST", "policy", &body.to_string());
    }

    /// (simulated AWS minutes, clusters created) since the last `reset_cost`.
    pub fn cost(&self) -> (f64, u64) {
        let c = self.control("GET", "cost", "");
        (
            c["aws_minutes"].as_f64().unwrap_or_default(),
            c["clusters_created"].as_u64().unwrap_or_default(),
        )
    }

    pub fn reset_cost(&self) {
        self.control("DELETE", "cost", "");
    }

    pub fn calls(&self) -> Vec<Json> {
        self.control("GET", "calls", "")["calls"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The calls the caller's policy refused (`service:Operation`).
    pub fn denied_calls(&self) -> Vec<String> {
        self.calls()
            .iter()
            .filter(|c| c["status"] == 403)
            .map(|c| {
                format!(
                    "{}:{}",
                    c["service"].as_str().unwrap_or(""),
                    c["operation"].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    /// Every object of every kind the provider can create, by kind and ID.
    pub fn inventory(&self) -> Vec<String> {
        self.inventory_in(REGION)
    }

    pub fn inventory_in(&self, region: &str) -> Vec<String> {
        self.control("GET", &format!("inventory?region={region}"), "")["objects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }
}

/// SIGTERM lets the testbed stop moto, its child, before exiting; SIGKILL would orphan it.
impl Drop for Testbed {
    fn drop(&mut self) {
        let term = format!("kill -TERM {}", self.child.id());
        let _ = Command::new("sh").args(["-c", &term]).status();
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
