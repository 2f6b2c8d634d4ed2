//! The caller's identity-based policy, evaluated as IAM evaluates one. Sources (IAM user
//! guide):
//! - "Policy evaluation logic": an explicit Deny in any statement wins; otherwise a request is
//!   allowed when an Allow statement matches it; otherwise it is implicitly denied.
//! - "IAM JSON policy elements": Effect, Action / NotAction, Resource / NotResource,
//!   Condition. NotAction and NotResource match what is not listed.
//! - "Resource": wildcards `*` and `?` within a segment of the ARN (the parts between colons);
//!   a `*` that is the last character of a segment may also match across colons.
//! - "Condition operators": the String, Arn, Bool and Null operators, each with `IfExists`;
//!   "If the key that you specify in a policy condition is not present in the request context,
//!   the values do not match and the condition is false. If the policy condition requires that
//!   the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not
//!   present, the condition is true." ArnLike and ArnEquals compare the six colon-delimited
//!   components of an ARN separately.
//! - "Multivalued context keys": `ForAllValues:` holds when every value of the request's key
//!   matches (and when the key is absent or empty), `ForAnyValue:` when at least one does.
//! - "Condition element": several keys in one operator, and several operators, must all hold;
//!   several values for one key are alternatives.
//! - "Policy variables": `${key}` in Resource and in condition values is replaced by the
//!   request's value of that key (`${key, 'default'}` when absent); `${*}`, `${?}` and `${$}`
//!   stand for the characters themselves. A variable with no value makes its element not
//!   match.
//!
//! Anything else is refused when the policy is loaded, so a published policy can never pass a
//! test by using an element the testbed would ignore.

use serde_json::Value as Json;

/// One authorization request: the action, the resource it acts on when the testbed knows it
/// (None: only statements whose Resource is `*`, or whose NotResource does not name one,
/// match, as for actions that support no resource-level permissions), and the request's
/// condition keys, each with its values (one, or several for multivalued keys such as
/// `aws:TagKeys`).
#[derive(Clone, Debug)]
pub struct Request {
    pub action: String,
    pub resource: Option<String>,
    pub context: Vec<(String, Vec<String>)>,
    /// The object the call names does not exist, so it has no tags to judge: its service
    /// answers "not found" to a caller allowed the action on objects of its kind. Conditions
    /// on its tags are taken as met by an Allow and as not met by a Deny.
    pub missing_object: bool,
}

impl Request {
    pub fn of(action: impl Into<String>) -> Request {
        Request {
            action: action.into(),
            resource: None,
            context: Vec::new(),
            missing_object: false,
        }
    }

    pub fn of_missing_object(mut self) -> Request {
        self.missing_object = true;
        self
    }

    pub fn on(mut self, resource: impl Into<String>) -> Request {
        self.resource = Some(resource.into());
        self
    }

    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Request {
        self.context.push((key.into(), vec![value.into()]));
        self
    }

    pub fn with_all(mut self, key: impl Into<String>, values: Vec<String>) -> Request {
        self.context.push((key.into(), values));
        self
    }

    /// The values of `key` (condition keys are case-insensitive), or None when the request
    /// does not carry it.
    pub fn values(&self, key: &str) -> Option<&[String]> {
        self.context
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
    }

    /// The one value of a single-valued key.
    fn value(&self, key: &str) -> Option<&str> {
        self.values(key).and_then(|v| v.first()).map(String::as_str)
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone)]
struct Statement {
    effect: Effect,
    /// Action, or NotAction when `not_action`.
    actions: Vec<String>,
    not_action: bool,
    resources: Vec<String>,
    not_resource: bool,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Compare {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    ArnEquals,
    ArnLike,
    Bool,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum SetOperator {
    None,
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Clone)]
struct Condition {
    compare: Compare,
    /// A `…Not…` operator: the key's values must match none.
    negated: bool,
    if_exists: bool,
    set: SetOperator,
    key: String,
    values: Vec<String>,
}

fn strings(v: &Json) -> Vec<String> {
    match v {
        Json::String(s) => vec![s.clone()],
        Json::Bool(b) => vec![b.to_string()],
        Json::Array(all) => all
            .iter()
            .filter_map(|s| match s {
                Json::String(s) => Some(s.clone()),
                Json::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl Policy {
    /// Everything on every resource: the caller before a test restricts it.
    pub fn allowing(actions: &[String]) -> Policy {
        Policy {
            statements: vec![Statement {
                effect: Effect::Allow,
                actions: actions.to_vec(),
                not_action: false,
                resources: vec!["*".into()],
                not_resource: false,
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

    /// IAM's decision: an explicit Deny wins, then an Allow, else the implicit deny.
    pub fn allows(&self, req: &Request) -> bool {
        !self.denies(req) && self.matching(Effect::Allow, req)
    }

    /// Whether a Deny statement matches the request.
    pub fn denies(&self, req: &Request) -> bool {
        self.matching(Effect::Deny, req)
    }

    fn matching(&self, effect: Effect, req: &Request) -> bool {
        self.statements
            .iter()
            .any(|s| s.effect == effect && s.matches(req))
    }
}

impl Statement {
    fn parse(s: &Json) -> Result<Statement, String> {
        let map = s.as_object().ok_or("a statement must be an object")?;
        for key in map.keys() {
            let known = [
                "Sid",
                "Effect",
                "Action",
                "NotAction",
                "Resource",
                "NotResource",
                "Condition",
            ];
            if !known.contains(&key.as_str()) {
                return Err(format!("the testbed does not evaluate {key}"));
            }
        }
        let effect = match s["Effect"].as_str() {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            other => return Err(format!("Effect must be Allow or Deny, not {other:?}")),
        };
        let (actions, not_action) = one_of(s, "Action", "NotAction")?;
        let (resources, not_resource) = one_of(s, "Resource", "NotResource")?;
        let mut conditions = Vec::new();
        for (operator, keys) in s["Condition"].as_object().into_iter().flatten() {
            let keys = keys.as_object().ok_or("a condition needs keys")?;
            for (key, values) in keys {
                let mut c = Condition::parse(operator)?;
                c.key = key.clone();
                c.values = strings(values);
                conditions.push(c);
            }
        }
        Ok(Statement {
            effect,
            actions,
            not_action,
            resources,
            not_resource,
            conditions,
        })
    }

    fn matches(&self, req: &Request) -> bool {
        let action = self
            .actions
            .iter()
            .any(|a| wildcard(&a.to_lowercase(), &req.action.to_lowercase()));
        let resource = self.resources.iter().any(|r| match substituted(r, req) {
            None => false,
            Some(r) if r == "*" => true,
            Some(r) => req
                .resource
                .as_deref()
                .is_some_and(|resource| resource_matches(&r, resource)),
        });
        let conditions = self.conditions.iter().all(|c| {
            if req.missing_object && c.is_on_resource_tags() {
                return self.effect == Effect::Allow;
            }
            c.holds(req)
        });
        action != self.not_action && resource != self.not_resource && conditions
    }
}

/// The list of `name`, or of `not_name` (then true), exactly one of which a statement has.
fn one_of(s: &Json, name: &str, not_name: &str) -> Result<(Vec<String>, bool), String> {
    match (s.get(name), s.get(not_name)) {
        (Some(v), None) => Ok((strings(v), false)),
        (None, Some(v)) => Ok((strings(v), true)),
        _ => Err(format!(
            "a statement needs exactly one of {name} and {not_name}"
        )),
    }
}

impl Condition {
    fn parse(operator: &str) -> Result<Condition, String> {
        let (set, rest) = if let Some(r) = operator.strip_prefix("ForAllValues:") {
            (SetOperator::ForAllValues, r)
        } else if let Some(r) = operator.strip_prefix("ForAnyValue:") {
            (SetOperator::ForAnyValue, r)
        } else {
            (SetOperator::None, operator)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let (compare, negated) = match base {
            "StringEquals" => (Compare::StringEquals, false),
            "StringNotEquals" => (Compare::StringEquals, true),
            "StringEqualsIgnoreCase" => (Compare::StringEqualsIgnoreCase, false),
            "StringNotEqualsIgnoreCase" => (Compare::StringEqualsIgnoreCase, true),
            "StringLike" => (Compare::StringLike, false),
            "StringNotLike" => (Compare::StringLike, true),
            "ArnEquals" => (Compare::ArnEquals, false),
            "ArnNotEquals" => (Compare::ArnEquals, true),
            "ArnLike" => (Compare::ArnLike, false),
            "ArnNotLike" => (Compare::ArnLike, true),
            "Bool" => (Compare::Bool, false),
            "Null" if !if_exists && set == SetOperator::None => (Compare::Null, false),
            _ => return Err(format!("the testbed does not evaluate {operator}")),
        };
        Ok(Condition {
            compare,
            negated,
            if_exists,
            set,
            key: String::new(),
            values: Vec::new(),
        })
    }

    /// `aws:ResourceTag/…`, or a service's own `…:ResourceTag/…`.
    fn is_on_resource_tags(&self) -> bool {
        self.key
            .split_once(':')
            .is_some_and(|(_, k)| k.to_ascii_lowercase().starts_with("resourcetag/"))
    }

    fn holds(&self, req: &Request) -> bool {
        let present = req.values(&self.key);
        if self.compare == Compare::Null {
            // "true": the key must be absent; "false": present.
            let absent = present.is_none_or(<[String]>::is_empty);
            return self.values.iter().any(|v| (v == "true") == absent);
        }
        let Some(values) = present else {
            return match self.set {
                SetOperator::ForAllValues => true,
                SetOperator::ForAnyValue => false,
                SetOperator::None => self.if_exists || self.negated,
            };
        };
        let wanted: Vec<String> = self
            .values
            .iter()
            .filter_map(|v| substituted(v, req))
            .collect();
        let one_matches = |value: &str| wanted.iter().any(|w| self.compare(w, value));
        match self.set {
            SetOperator::ForAllValues => values.iter().all(|v| one_matches(v) != self.negated),
            SetOperator::ForAnyValue => values.iter().any(|v| one_matches(v) != self.negated),
            SetOperator::None => {
                let any = values.iter().any(|v| one_matches(v));
                any != self.negated
            }
        }
    }

    fn compare(&self, wanted: &str, value: &str) -> bool {
        match self.compare {
            Compare::StringEquals | Compare::Bool => wanted == value,
            Compare::StringEqualsIgnoreCase => wanted.eq_ignore_ascii_case(value),
            Compare::StringLike => wildcard(wanted, value),
            Compare::ArnEquals => arn_components_match(wanted, value, false),
            Compare::ArnLike => arn_components_match(wanted, value, true),
            Compare::Null => unreachable!("handled before"),
        }
    }
}

/// `text` with its policy variables replaced from the request, or None when one has no value
/// and no default.
fn substituted(text: &str, req: &Request) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let inner = after[..end].trim();
        match inner {
            "*" | "?" | "$" => out.push_str(inner),
            _ => {
                let (key, default) = match inner.split_once(',') {
                    Some((k, d)) => (k.trim(), Some(d.trim().trim_matches('\''))),
                    None => (inner, None),
                };
                out.push_str(req.value(key).or(default)?);
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// The Resource element's matching: `*` and `?` within a segment; a `*` that ends a segment
/// may also match across colons.
pub fn resource_matches(pattern: &str, arn: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let a: Vec<char> = arn.chars().collect();
    // A `*` spans colons when it is the last character of its segment.
    let spans: Vec<bool> = (0..p.len())
        .map(|i| p[i] == '*' && p.get(i + 1).is_none_or(|c| *c == ':'))
        .collect();
    fn go(p: &[char], spans: &[bool], a: &[char]) -> bool {
        match (p.first(), a.first()) {
            (None, None) => true,
            (Some('*'), _) => {
                go(&p[1..], &spans[1..], a)
                    || (!a.is_empty() && (spans[0] || a[0] != ':') && go(p, spans, &a[1..]))
            }
            (Some('?'), Some(c)) => *c != ':' && go(&p[1..], &spans[1..], &a[1..]),
            (Some(x), Some(y)) => x == y && go(&p[1..], &spans[1..], &a[1..]),
            _ => false,
        }
    }
    go(&p, &spans, &a)
}

/// ArnLike / ArnEquals: the six components compared one by one (the resource, the sixth,
/// may itself contain colons).
fn arn_components_match(pattern: &str, arn: &str, like: bool) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == a.len()
        && p.iter()
            .zip(&a)
            .all(|(p, a)| if like { wildcard(p, a) } else { p == a })
}

/// `*` for any run of characters, `?` for one. Actions are compared case-insensitively by the
/// caller; resources and condition values are case-sensitive.
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

    fn policy(statements: Json) -> Policy {
        Policy::parse(&json!({ "Statement": statements })).unwrap()
    }

    fn published() -> Policy {
        policy(json!([
            {"Effect": "Allow", "Action": ["ec2:Describe*"], "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:CreateRole",
             "Resource": ["arn:*:iam::*:role/*-eks-cluster-role"]},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
             "Condition": {"StringEquals": {"iam:PassedToService": ["eks.amazonaws.com"]}}},
        ]))
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
    fn a_wildcard_stays_in_its_segment_unless_it_ends_it() {
        // IAM user guide, "Resource": "If the * wildcard is the last character of a resource
        // ARN segment, it can expand to match beyond the colon boundaries."
        assert!(resource_matches(
            "arn:aws:ec2:*:*:vpc/*",
            "arn:aws:ec2:us-west-2:1:vpc/vpc-1"
        ));
        assert!(!resource_matches(
            "arn:aws:ec2:us-*2:1:vpc/*",
            "arn:aws:ec2:us-west:x2:1:vpc/v"
        ));
        assert!(resource_matches(
            "arn:aws:logs:*",
            "arn:aws:logs:us-east-1:1:log-group:/a:*"
        ));
        assert!(!resource_matches(
            "arn:aws:iam::*:role/a*b",
            "arn:aws:iam::1:role/a:b"
        ));
        assert!(resource_matches(
            "arn:aws:iam::*:role/a*b",
            "arn:aws:iam::1:role/a/x/b"
        ));
    }

    #[test]
    fn arn_operators_compare_component_by_component() {
        let p = policy(
            json!([{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
            "Condition": {"ArnLike": {"iam:PermissionsBoundary": "arn:*:iam::*:policy/b/*"}}}]),
        );
        let with = |b: &str| Request::of("iam:PassRole").with("iam:PermissionsBoundary", b);
        assert!(p.allows(&with("arn:aws:iam::123456789012:policy/b/x")));
        assert!(
            !p.allows(&with("arn:aws:iam:x:123:policy/b/x")),
            "the region is its own part"
        );
        assert!(!p.allows(&with("arn:aws:iam::123:policy/c/b/x")));
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
    fn an_explicit_deny_wins_and_not_elements_invert() {
        let p = policy(json!([
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:DeleteRolePermissionsBoundary", "Resource": "*"},
            {"Effect": "Deny", "NotAction": ["ec2:*", "iam:*"], "Resource": "*"},
            {"Effect": "Deny", "Action": "ec2:DeleteVpc", "NotResource": "arn:aws:ec2:*:*:vpc/vpc-ours"},
        ]));
        assert!(p.allows(&Request::of("iam:CreateRole")));
        assert!(!p.allows(&Request::of("iam:DeleteRolePermissionsBoundary")));
        assert!(!p.allows(&Request::of("s3:GetObject")), "NotAction");
        let vpc = |id: &str| Request::of("ec2:DeleteVpc").on(format!("arn:aws:ec2:r:1:vpc/{id}"));
        assert!(p.allows(&vpc("vpc-ours")));
        assert!(!p.allows(&vpc("vpc-theirs")), "NotResource");
    }

    #[test]
    fn missing_keys_fail_positive_operators_and_pass_negated_and_if_exists_ones() {
        let with_cond = |op: &str| {
            policy(json!([{"Effect": "Allow", "Action": "*", "Resource": "*",
                "Condition": {op: {"aws:ResourceTag/owner": "me"}}}]))
        };
        let bare = Request::of("ec2:DeleteVpc");
        let mine = Request::of("ec2:DeleteVpc").with("aws:ResourceTag/owner", "me");
        let theirs = Request::of("ec2:DeleteVpc").with("aws:ResourceTag/Owner", "you");
        assert!(!with_cond("StringEquals").allows(&bare));
        assert!(with_cond("StringEquals").allows(&mine));
        assert!(
            !with_cond("StringEquals").allows(&theirs),
            "keys are case-insensitive"
        );
        assert!(with_cond("StringNotEquals").allows(&bare));
        assert!(!with_cond("StringNotEquals").allows(&mine));
        assert!(with_cond("StringEqualsIfExists").allows(&bare));
        assert!(!with_cond("StringEqualsIfExists").allows(&theirs));
        assert!(with_cond("StringEqualsIgnoreCase")
            .allows(&Request::of("x").with("aws:ResourceTag/owner", "ME")));
        let null = |v: &str| {
            policy(json!([{"Effect": "Allow", "Action": "*", "Resource": "*",
                "Condition": {"Null": {"aws:RequestTag/owner": v}}}]))
        };
        let tagged = Request::of("ec2:CreateVpc").with("aws:RequestTag/owner", "x");
        assert!(null("true").allows(&bare) && !null("true").allows(&tagged));
        assert!(null("false").allows(&tagged) && !null("false").allows(&bare));
    }

    #[test]
    fn set_operators_judge_every_or_any_value() {
        let all = policy(json!([{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}}]));
        let any = policy(json!([{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}}]));
        let keys = |k: &[&str]| {
            Request::of("x").with_all("aws:TagKeys", k.iter().map(|s| s.to_string()).collect())
        };
        assert!(all.allows(&keys(&["a", "b"])));
        assert!(!all.allows(&keys(&["a", "c"])));
        assert!(
            all.allows(&Request::of("x")),
            "ForAllValues holds for an absent key"
        );
        assert!(any.allows(&keys(&["c", "a"])));
        assert!(!any.allows(&keys(&["c"])));
        assert!(!any.allows(&Request::of("x")));
    }

    #[test]
    fn policy_variables_take_the_requests_values() {
        let p = policy(json!([{"Effect": "Allow", "Action": "ec2:DeleteVpc",
            "Resource": "arn:aws:ec2:${aws:RequestedRegion}:*:vpc/*",
            "Condition": {"StringEquals": {"aws:ResourceTag/cluster": "${aws:RequestTag/cluster, 'none'}"}}}]));
        let req = |region: &str, tag: &str| {
            Request::of("ec2:DeleteVpc")
                .on("arn:aws:ec2:us-west-2:1:vpc/vpc-1")
                .with("aws:RequestedRegion", region)
                .with("aws:ResourceTag/cluster", tag)
        };
        assert!(p.allows(&req("us-west-2", "none")), "the default");
        assert!(!p.allows(&req("eu-west-1", "none")));
        assert!(
            !p.allows(&Request::of("ec2:DeleteVpc").on("arn:aws:ec2:us-west-2:1:vpc/vpc-1")),
            "no value: the element does not match"
        );
        assert_eq!(
            substituted("a${*}b${$}", &Request::of("x")).as_deref(),
            Some("a*b$")
        );
    }

    #[test]
    fn a_missing_object_is_the_services_to_answer_for_a_caller_allowed_its_kind() {
        let p = policy(json!([
            {"Effect": "Allow", "Action": "ec2:DeleteVpc", "Resource": "arn:aws:ec2:*:*:vpc/*",
             "Condition": {"StringLike": {"aws:ResourceTag/owner": "?*"}}},
            {"Effect": "Deny", "Action": "ec2:DeleteVpc", "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/keep": "yes"}}},
        ]));
        let gone = |action: &str| {
            Request::of(action)
                .on("arn:aws:ec2:r:1:vpc/vpc-gone")
                .of_missing_object()
        };
        assert!(
            p.allows(&gone("ec2:DeleteVpc")),
            "the service says not found"
        );
        assert!(
            !p.allows(&gone("ec2:DeleteSubnet")),
            "no permission at all is refused"
        );
        assert!(!p.allows(&Request::of("ec2:DeleteVpc").on("arn:aws:ec2:r:1:vpc/vpc-untagged")));
    }

    #[test]
    fn elements_the_testbed_cannot_evaluate_are_refused_at_load() {
        for s in [
            json!({"Effect": "Maybe", "Action": "*", "Resource": "*"}),
            json!({"Effect": "Allow", "Action": "*", "NotAction": "iam:*", "Resource": "*"}),
            json!({"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"}),
            json!({"Effect": "Allow", "Action": "*", "Resource": "*",
                   "Condition": {"IpAddress": {"aws:SourceIp": "1.2.3.4/32"}}}),
            json!({"Effect": "Allow", "Action": "*", "Resource": "*",
                   "Condition": {"NullIfExists": {"aws:TagKeys": "true"}}}),
        ] {
            assert!(Policy::parse(&json!({ "Statement": [s] })).is_err(), "{s}");
        }
    }
}
