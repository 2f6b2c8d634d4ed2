//! The caller's identity-based policy, evaluated as IAM evaluates one (IAM user guide, "Policy
//! evaluation logic": a request is allowed when an Allow statement matches its action, its
//! resource and all of its conditions; "IAM JSON policy elements": Action, Resource, Condition).
//!
//! Only what the published policies use is understood: Allow statements with Action and
//! Resource, and the StringEquals / StringLike / ArnEquals / ArnLike condition operators.
//! Anything else is refused when the policy is loaded, so a published policy can never pass
//! a test by using an element the testbed would ignore.

use serde_json::Value as Json;

/// One authorization request: the action, the resource it acts on when the testbed knows it
/// (None: only statements whose Resource is `*` match, as for actions that support no
/// resource-level permissions), and the request's condition keys.
pub struct Request {
    pub action: String,
    pub resource: Option<String>,
    pub context: Vec<(&'static str, String)>,
}

impl Request {
    pub fn of(action: impl Into<String>) -> Request {
        Request {
            action: action.into(),
            resource: None,
            context: Vec::new(),
        }
    }

    pub fn on(mut self, resource: impl Into<String>) -> Request {
        self.resource = Some(resource.into());
        self
    }

    pub fn with(mut self, key: &'static str, value: impl Into<String>) -> Request {
        self.context.push((key, value.into()));
        self
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone)]
struct Statement {
    actions: Vec<String>,
    resources: Vec<String>,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone)]
struct Condition {
    /// StringEquals / ArnEquals compare exactly; StringLike / ArnLike take wildcards.
    like: bool,
    key: String,
    values: Vec<String>,
}

fn strings(v: &Json) -> Vec<String> {
    match v {
        Json::String(s) => vec![s.clone()],
        Json::Array(all) => all
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

impl Policy {
    /// Everything on every resource: the caller before a test restricts it.
    pub fn allowing(actions: &[String]) -> Policy {
        Policy {
            statements: vec![Statement {
                actions: actions.to_vec(),
                resources: vec!["*".into()],
                conditions: Vec::new(),
            }],
        }
    }

    pub fn parse(doc: &Json) -> Result<Policy, String> {
        let statements = match &doc["Statement"] {
            Json::Array(all) => all.clone(),
            one @ Json::Object(_) => vec![one.clone()],
            _ => return Err("a policy needs a Statement".into()),
        };
        statements
            .iter()
            .map(Statement::parse)
            .collect::<Result<_, _>>()
            .map(|statements| Policy { statements })
    }

    pub fn allows(&self, req: &Request) -> bool {
        self.statements.iter().any(|s| s.matches(req))
    }
}

impl Statement {
    fn parse(s: &Json) -> Result<Statement, String> {
        let map = s.as_object().ok_or("a statement must be an object")?;
        for key in map.keys() {
            if !["Sid", "Effect", "Action", "Resource", "Condition"].contains(&key.as_str()) {
                return Err(format!("the testbed does not evaluate {key}"));
            }
        }
        if s["Effect"] != "Allow" {
            return Err("the testbed evaluates Allow statements only".into());
        }
        let mut conditions = Vec::new();
        for (operator, keys) in s["Condition"].as_object().into_iter().flatten() {
            let like = match operator.as_str() {
                "StringEquals" | "ArnEquals" => false,
                "StringLike" | "ArnLike" => true,
                other => return Err(format!("the testbed does not evaluate {other}")),
            };
            for (key, values) in keys.as_object().ok_or("a condition needs keys")? {
                conditions.push(Condition {
                    like,
                    key: key.clone(),
                    values: strings(values),
                });
            }
        }
        Ok(Statement {
            actions: strings(&s["Action"]),
            resources: strings(&s["Resource"]),
            conditions,
        })
    }

    fn matches(&self, req: &Request) -> bool {
        self.actions
            .iter()
            .any(|a| wildcard(&a.to_lowercase(), &req.action.to_lowercase()))
            && self.resources.iter().any(|r| {
                r == "*"
                    || req
                        .resource
                        .as_deref()
                        .is_some_and(|resource| wildcard(r, resource))
            })
            && self.conditions.iter().all(|c| c.holds(req))
    }
}

impl Condition {
    /// A key the request does not carry fails the condition (IAM user guide, "Condition
    /// element": "If the key that you specify in a policy condition is not present in the
    /// request context, the values do not match").
    fn holds(&self, req: &Request) -> bool {
        req.context
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(&self.key))
            .any(|(_, v)| {
                self.values.iter().any(|want| {
                    if self.like {
                        wildcard(want, v)
                    } else {
                        want == v
                    }
                })
            })
    }
}

/// IAM's matching: `*` for any run of characters (across `/` and `:` too), `?` for one.
/// Actions are compared case-insensitively by the caller; resources are case-sensitive.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], a: &[char]) -> bool {
        match (p.first(), a.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], a) || (!a.is_empty() && go(p, &a[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &a[1..]),
            (Some(x), Some(y)) => x == y && go(&p[1..], &a[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let a: Vec<char> = text.chars().collect();
    go(&p, &a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn published() -> Policy {
        Policy::parse(&json!({"Statement": [
            {"Effect": "Allow", "Action": ["ec2:Describe*"], "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:CreateRole",
             "Resource": ["arn:*:iam::*:role/*-eks-cluster-role"]},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
             "Condition": {"StringEquals": {"iam:PassedToService": ["eks.amazonaws.com"]}}},
        ]}))
        .unwrap()
    }

    #[test]
    fn actions_match_case_insensitively_and_resources_by_pattern() {
        let p = published();
        assert!(p.allows(&Request::of("EC2:describevpcs")));
        assert!(!p.allows(&Request::of("ec2:CreateVpc")));
        let role = |arn: &str| Request::of("iam:CreateRole").on(arn);
        assert!(p.allows(&role("arn:aws:iam::1:role/c-eks-cluster-role")));
        assert!(p.allows(&role("arn:aws-us-gov:iam::1:role/team/c-eks-cluster-role")));
        assert!(!p.allows(&role("arn:aws:iam::1:role/c-EKS-cluster-role")));
        assert!(!p.allows(&role("arn:aws:iam::1:role/admin")));
        assert!(
            !p.allows(&Request::of("iam:CreateRole")),
            "a scoped statement never matches an unknown resource"
        );
    }

    #[test]
    fn a_condition_needs_its_key_with_a_matching_value() {
        let p = published();
        let pass = || Request::of("iam:PassRole").on("arn:aws:iam::1:role/r");
        assert!(p.allows(&pass().with("iam:PassedToService", "eks.amazonaws.com")));
        assert!(!p.allows(&pass().with("iam:PassedToService", "ec2.amazonaws.com")));
        assert!(!p.allows(&pass()));
    }

    #[test]
    fn elements_the_testbed_cannot_evaluate_are_refused_at_load() {
        for s in [
            json!({"Effect": "Deny", "Action": "*", "Resource": "*"}),
            json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
            json!({"Effect": "Allow", "Action": "*", "Resource": "*",
                   "Condition": {"IpAddress": {"aws:SourceIp": "1.2.3.4/32"}}}),
        ] {
            assert!(Policy::parse(&json!({ "Statement": [s] })).is_err(), "{s}");
        }
    }
}
