//! The request contract of the services the testbed owns (EKS, IAM Roles Anywhere, SSM), read
//! from botocore's service models: the `service-2.json.gz` files that ship with botocore in
//! the same virtualenv as moto. The model names each operation (from its HTTP method and URI
//! for REST-JSON, from `X-Amz-Target` for awsJson), assembles its input from the URI, query
//! string, headers and body, and checks it: required members, enums, lengths, patterns and
//! ranges. A request that breaks the contract gets the service's validation error, worded as
//! AWS's validation layer words it ("1 validation error detected: Value … at '…' failed to
//! satisfy constraint: Member must …"). Limits then come from AWS's model, not from memory.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value as Json};

pub struct Operation {
    pub name: String,
    method: String,
    segments: Vec<Segment>,
    input: Option<String>,
}

enum Segment {
    Literal(String),
    Label(String),
}

pub struct Model {
    rest: bool,
    /// The error code the service answers a contract violation with.
    pub validation_error: &'static str,
    shapes: Map<String, Json>,
    operations: Vec<Operation>,
    patterns: HashMap<String, Option<fancy_regex::Regex>>,
}

/// botocore's data directory in the virtualenv that holds `moto_server`.
pub fn data_dir_near(moto_server: &Path) -> Option<PathBuf> {
    let venv = moto_server.parent()?.parent()?;
    let lib = std::fs::read_dir(venv.join("lib")).ok()?;
    lib.filter_map(Result::ok)
        .map(|e| e.path().join("site-packages/botocore/data"))
        .find(|p| p.is_dir())
}

impl Model {
    pub fn load(data_dir: &Path, service: &'static str) -> Result<Model, String> {
        let versions = std::fs::read_dir(data_dir.join(service))
            .map_err(|e| format!("{}/{service}: {e}", data_dir.display()))?;
        let mut dirs: Vec<PathBuf> = versions.filter_map(|e| e.ok().map(|e| e.path())).collect();
        dirs.sort();
        let dir = dirs
            .last()
            .ok_or(format!("no model version for {service}"))?;
        let doc = read_model(dir)?;
        let protocol = doc["metadata"]["protocol"].as_str().unwrap_or_default();
        let operations = doc["operations"]
            .as_object()
            .ok_or("model without operations")?
            .iter()
            .map(|(name, op)| Operation {
                name: name.clone(),
                method: op["http"]["method"].as_str().unwrap_or("POST").to_string(),
                segments: parse_uri(op["http"]["requestUri"].as_str().unwrap_or("/")),
                input: op["input"]["shape"].as_str().map(str::to_string),
            })
            .collect();
        Ok(Model {
            rest: protocol == "rest-json",
            validation_error: if service == "eks" {
                // EKS answers contract violations with InvalidParameterException
                // (surajincloud/kubectl-eks #72 shows one for a name pattern).
                "InvalidParameterException"
            } else {
                "ValidationException"
            },
            shapes: doc["shapes"].as_object().cloned().unwrap_or_default(),
            operations,
            patterns: HashMap::new(),
        })
    }

    /// The REST operation for a method and path, with its URI labels.
    pub fn route(&self, method: &str, path: &str) -> Option<(&Operation, HashMap<String, String>)> {
        let segs: Vec<String> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(crate::http::url_decode)
            .collect();
        let mut best: Option<(&Operation, HashMap<String, String>, usize)> = None;
        for op in self.operations.iter().filter(|o| o.method == method) {
            if op.segments.len() != segs.len() {
                continue;
            }
            let mut labels = HashMap::new();
            let mut literals = 0;
            let matched = op.segments.iter().zip(&segs).all(|(s, v)| match s {
                Segment::Literal(l) => {
                    literals += 1;
                    l == v
                }
                Segment::Label(name) => {
                    labels.insert(name.clone(), v.clone());
                    true
                }
            });
            if matched && best.as_ref().is_none_or(|(_, _, n)| literals > *n) {
                best = Some((op, labels, literals));
            }
        }
        best.map(|(op, labels, _)| (op, labels))
    }

    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.iter().find(|o| o.name == name)
    }

    /// The operation's input as one JSON object keyed by member name, gathered from where the
    /// model places each member.
    pub fn input(
        &self,
        op: &Operation,
        labels: &HashMap<String, String>,
        query: &str,
        body: &[u8],
    ) -> Json {
        let body: Json = serde_json::from_slice(body).unwrap_or(json!({}));
        if !self.rest {
            return body;
        }
        let Some(shape) = op.input.as_ref().and_then(|s| self.shapes.get(s)) else {
            return body;
        };
        let query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut out = Map::new();
        for (member, spec) in shape["members"].as_object().into_iter().flatten() {
            let wire = spec["locationName"].as_str().unwrap_or(member);
            let target = self.shape(&spec["shape"]);
            let value = match spec["location"].as_str() {
                Some("uri") => labels.get(wire).map(|v| json!(v)),
                Some("querystring") => {
                    let all: Vec<&String> = query
                        .iter()
                        .filter(|(k, _)| k == wire)
                        .map(|(_, v)| v)
                        .collect();
                    match target["type"].as_str() {
                        Some("list") => (!all.is_empty()).then(|| json!(all)),
                        Some("integer" | "long") => all
                            .first()
                            .map(|v| v.parse::<i64>().map_or(json!(v), |n| json!(n))),
                        _ => all.first().map(|v| json!(v)),
                    }
                }
                Some(_) => None,
                None => body.get(wire).cloned(),
            };
            if let Some(v) = value {
                out.insert(member.clone(), v);
            }
        }
        Json::Object(out)
    }

    fn shape(&self, reference: &Json) -> &Json {
        static NULL: Json = Json::Null;
        reference
            .as_str()
            .and_then(|name| self.shapes.get(name))
            .unwrap_or(&NULL)
    }

    /// The first contract violation of `input`, as AWS's validation message.
    pub fn validate(&mut self, op_name: &str, input: &Json) -> Result<(), String> {
        let Some(shape) = self.operation(op_name).and_then(|o| o.input.clone()) else {
            return Ok(());
        };
        let mut problems = Vec::new();
        self.check(&shape, input, "", &mut problems);
        match problems.len() {
            0 => Ok(()),
            n => Err(format!(
                "{n} validation error{} detected: {}",
                if n == 1 { "" } else { "s" },
                problems.join("; ")
            )),
        }
    }

    fn check(&mut self, shape_name: &str, v: &Json, path: &str, problems: &mut Vec<String>) {
        let shape = self.shapes.get(shape_name).cloned().unwrap_or(Json::Null);
        let sensitive = shape["sensitive"].as_bool().unwrap_or(false);
        let shown = |v: &Json| -> String {
            if sensitive {
                String::new()
            } else {
                match v {
                    Json::String(s) => format!(" '{s}'"),
                    other => format!(" '{other}'"),
                }
            }
        };
        let mut fail = |v: &Json, rule: String| {
            problems.push(format!(
                "Value{} at '{path}' failed to satisfy constraint: Member must {rule}",
                shown(v)
            ))
        };
        let (min, max) = (shape["min"].as_f64(), shape["max"].as_f64());
        match shape["type"].as_str().unwrap_or_default() {
            "structure" => {
                let Some(obj) = v.as_object() else { return };
                for req in shape["required"].as_array().into_iter().flatten() {
                    let req = req.as_str().unwrap_or_default();
                    if obj.get(req).is_none_or(Json::is_null) {
                        problems.push(format!(
                            "Value null at '{}' failed to satisfy constraint: Member must not be null",
                            join(path, req)
                        ));
                    }
                }
                for (member, spec) in shape["members"].as_object().into_iter().flatten() {
                    if let (Some(value), Some(target)) = (obj.get(member), spec["shape"].as_str()) {
                        if !value.is_null() {
                            self.check(target, value, &join(path, member), problems);
                        }
                    }
                }
            }
            "list" => {
                let Some(items) = v.as_array() else { return };
                let n = items.len() as f64;
                if let Some(max) = max.filter(|m| n > *m) {
                    fail(v, format!("have length less than or equal to {max}"));
                }
                if let Some(min) = min.filter(|m| n < *m) {
                    fail(v, format!("have length greater than or equal to {min}"));
                }
                let member = shape["member"]["shape"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                for (i, item) in items.iter().enumerate() {
                    self.check(&member, item, &format!("{path}.{}.member", i + 1), problems);
                }
            }
            "map" => {
                let Some(entries) = v.as_object() else { return };
                let n = entries.len() as f64;
                if let Some(max) = max.filter(|m| n > *m) {
                    fail(v, format!("have length less than or equal to {max}"));
                }
                if let Some(min) = min.filter(|m| n < *m) {
                    fail(v, format!("have length greater than or equal to {min}"));
                }
                let key = shape["key"]["shape"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let value = shape["value"]["shape"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                for (k, item) in entries {
                    self.check(&key, &json!(k), &format!("{path}.key"), problems);
                    self.check(&value, item, &format!("{path}.{k}"), problems);
                }
            }
            "string" => {
                let Some(s) = v.as_str() else { return };
                let n = s.chars().count() as f64;
                if let Some(max) = max.filter(|m| n > *m) {
                    fail(v, format!("have length less than or equal to {max}"));
                }
                if let Some(min) = min.filter(|m| n < *m) {
                    fail(v, format!("have length greater than or equal to {min}"));
                }
                if let Some(values) = shape["enum"].as_array() {
                    if !values.iter().any(|e| e.as_str() == Some(s)) {
                        let set: Vec<&str> = values.iter().filter_map(Json::as_str).collect();
                        fail(v, format!("satisfy enum value set: [{}]", set.join(", ")));
                    }
                }
                if let Some(pattern) = shape["pattern"].as_str() {
                    if !self.matches(pattern, s) {
                        fail(v, format!("satisfy regular expression pattern: {pattern}"));
                    }
                }
            }
            "integer" | "long" | "double" | "float" => {
                let Some(n) = v.as_f64() else { return };
                if let Some(max) = max.filter(|m| n > *m) {
                    fail(v, format!("have value less than or equal to {max}"));
                }
                if let Some(min) = min.filter(|m| n < *m) {
                    fail(v, format!("have value greater than or equal to {min}"));
                }
            }
            _ => {}
        }
    }

    /// Model patterns are matched against the whole value, as AWS's validation does.
    fn matches(&mut self, pattern: &str, value: &str) -> bool {
        let compiled = self.patterns.entry(pattern.to_string()).or_insert_with(|| {
            let anchored = format!("^(?:{pattern})$");
            match fancy_regex::Regex::new(&anchored) {
                Ok(r) => Some(r),
                Err(e) => {
                    eprintln!("aws-testbed: model pattern {pattern:?} not checked: {e}");
                    None
                }
            }
        });
        compiled
            .as_ref()
            .is_none_or(|r| r.is_match(value).unwrap_or(true))
    }
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_string()
    } else {
        format!("{path}.{member}")
    }
}

fn parse_uri(uri: &str) -> Vec<Segment> {
    let path = uri.split('?').next().unwrap_or(uri);
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(label) => Segment::Label(label.trim_end_matches('+').to_string()),
                None => Segment::Literal(s.to_string()),
            },
        )
        .collect()
}

fn read_model(dir: &Path) -> Result<Json, String> {
    let gz = dir.join("service-2.json.gz");
    let raw = if gz.exists() {
        let file = std::fs::File::open(&gz).map_err(|e| format!("{}: {e}", gz.display()))?;
        let mut s = String::new();
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut s)
            .map_err(|e| format!("{}: {e}", gz.display()))?;
        s
    } else {
        let plain = dir.join("service-2.json");
        std::fs::read_to_string(&plain).map_err(|e| format!("{}: {e}", plain.display()))?
    };
    serde_json::from_str(&raw).map_err(|e| format!("{}: {e}", dir.display()))
}
