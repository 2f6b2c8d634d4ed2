//! What the node functions write into a node's files, checked against the pattern of the AWS
//! field it ends up in, and quoted for the format it is written in. A value that AWS would
//! refuse, or that could break out of its line (a newline, a quote), fails at its argument.

use aws_smithy_types::base64;
use tfplugin6::function::FunctionError;

/// SSM API reference, `ActivationId`: `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`.
pub fn is_activation_id(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| {
            g.len() == n
                && g.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// SSM API reference, `ActivationCode`: 20 to 250 characters. SSM issues them; none has a
/// space or a control character, which could only break the line it is written on.
pub fn is_activation_code(s: &str) -> bool {
    (20..=250).contains(&s.chars().count())
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// STS API reference, `RoleSessionName`: 2 to 64 of `[\w+=,.@-]`. Roles Anywhere's session
/// name is the node's name, the CN of its certificate.
pub fn is_role_session_name(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// `aws`, `aws-cn`, `aws-us-gov`, `aws-iso-b`…: the partitions' names.
fn is_partition(s: &str) -> bool {
    s == "aws"
        || s.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        })
}

/// A region's name: `us-west-2`, `us-gov-west-1`, `cn-north-1`.
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1]
            .parse::<u8>()
            .is_ok_and(|n| n > 0 && parts[parts.len() - 1].len() <= 2)
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// IAM API reference: a role's path is `/` or `/…/` of `!`–`~` (at most 512), its name 1 to 64
/// of `[\w+=,.@-]`.
pub fn is_role_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [arn, partition, "iam", "", account, resource] = parts[..] else {
        return false;
    };
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        return false;
    };
    let (path, name) = path_and_name
        .rsplit_once('/')
        .unwrap_or(("", path_and_name));
    arn == "arn"
        && is_partition(partition)
        && is_account(account)
        && path.len() < 512
        && path.bytes().all(|b| (b'!'..=b'~').contains(&b))
        && (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// Roles Anywhere's ARNs: `arn:<partition>:rolesanywhere:<region>:<account>:<kind>/<uuid>`.
pub fn is_roles_anywhere_arn(s: &str, kind: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [arn, partition, "rolesanywhere", region, account, resource] = parts[..] else {
        return false;
    };
    arn == "arn"
        && is_partition(partition)
        && is_region(region)
        && is_account(account)
        && resource
            .strip_prefix(kind)
            .and_then(|r| r.strip_prefix('/'))
            .is_some_and(is_uuid)
}

/// Roles Anywhere's `Uuid`: 36 characters, `[a-f0-9]{8}-([a-z0-9]{4}-){3}[a-z0-9]{12}`.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| {
            g.len() == n
                && g.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        })
}

/// EKS API reference, `ClusterName`: 1 to 100 of `[0-9A-Za-z][A-Za-z0-9\-_]*`.
pub fn is_cluster_name(s: &str) -> bool {
    (1..=100).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The cluster's endpoint as EKS gives it: an `https://` URL, one token.
pub fn is_api_server(s: &str) -> bool {
    s.strip_prefix("https://").is_some_and(|host| {
        !host.is_empty()
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "\"'\\`$".contains(c))
    })
}

/// The cluster's certificate as EKS gives it: base64.
pub fn is_base64(s: &str) -> bool {
    !s.is_empty() && base64::decode(s).is_ok()
}

/// An absolute file path on the node, one line.
pub fn is_node_path(s: &str) -> bool {
    s.starts_with('/') && !s.chars().any(char::is_control)
}

/// A PEM text: a `-----BEGIN` block, nothing a line of its own could not hold.
pub fn is_pem(s: &str) -> bool {
    s.contains("-----BEGIN ")
        && s.contains("-----END ")
        && !s
            .chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\r') || c == '\'')
}

/// The check each named value gets, and what it must be.
pub fn check(argument: usize, key: &str, value: &str) -> Result<(), FunctionError> {
    let (ok, what) = match key {
        "activation_id" => (
            is_activation_id(value),
            "an SSM activation ID (8-4-4-4-12 lowercase hexadecimal digits)",
        ),
        "activation_code" => (
            is_activation_code(value),
            "an SSM activation code (20 to 250 characters, no spaces or control characters)",
        ),
        "node_name" | "role_session_name" => (
            is_role_session_name(value),
            "a role session name (2 to 64 letters, digits and _+=,.@-)",
        ),
        "role_arn" => (is_role_arn(value), "an IAM role ARN"),
        "trust_anchor_arn" => (
            is_roles_anywhere_arn(value, "trust-anchor"),
            "a Roles Anywhere trust anchor ARN",
        ),
        "profile_arn" => (
            is_roles_anywhere_arn(value, "profile"),
            "a Roles Anywhere profile ARN",
        ),
        "certificate_path" | "private_key_path" => {
            (is_node_path(value), "an absolute path on one line")
        }
        "certificate" | "private_key" => (
            is_pem(value),
            "the PEM text itself (-----BEGIN …), with no quote or control character",
        ),
        _ => return Ok(()),
    };
    if ok {
        return Ok(());
    }
    Err(FunctionError::at(
        argument,
        format!("node.{key} is not {what}: {}", shown(key, value)),
    ))
}

/// A value as an error may show it: never a secret, and at most a line.
fn shown(key: &str, value: &str) -> String {
    if matches!(key, "activation_code" | "private_key") {
        return "(value not shown)".into();
    }
    let short: String = value.chars().take(80).collect();
    format!("{short:?}")
}

/// A TOML basic string: `"`, `\` and every control character escaped (TOML 1.0, "String":
/// "Any Unicode character may be used except those that must be escaped: quotation mark,
/// backslash, and the control characters other than tab (U+0000 to U+0008, U+000A to U+001F,
/// U+007F)").
pub fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One shell word, as POSIX `sh` reads it: left as it is when it is only safe characters, or
/// single-quoted with each `'` written `'\''` (Python's `shlex.quote`).
pub fn shell_word(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_their_aws_patterns() {
        assert!(is_activation_id("8f3c2b1a-4d5e-4f60-8a7b-9c0d1e2f3a4b"));
        assert!(!is_activation_id("8F3C2B1A-4D5E-4F60-8A7B-9C0D1E2F3A4B"));
        assert!(!is_activation_id("a-1"));
        assert!(is_activation_code("Fjz3/sZfSvv78EXAMPLE"));
        assert!(!is_activation_code("Fjz3/sZfSvv78EXAMPLE\n--region=x"));
        assert!(!is_activation_code("short"));
        assert!(is_role_session_name("edge-1.site@a"));
        assert!(!is_role_session_name("edge 1"));
        assert!(!is_role_session_name("x\n--role-arn y"));
        assert!(is_role_arn("arn:aws:iam::123456789012:role/n"));
        assert!(is_role_arn(
            "arn:aws-us-gov:iam::123456789012:role/teams/edge/n"
        ));
        assert!(!is_role_arn("arn:aws:iam::123456789012:role/n --x"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:role/a\nb"));
        assert!(!is_role_arn("arn:aws:iam::12345:role/n"));
        let anchor = "arn:aws:rolesanywhere:us-west-2:123456789012:trust-anchor/0a1b2c3d-0000-4000-8000-00000000abcd";
        assert!(is_roles_anywhere_arn(anchor, "trust-anchor"));
        assert!(!is_roles_anywhere_arn(anchor, "profile"));
        assert!(!is_roles_anywhere_arn(
            &format!("{anchor} x"),
            "trust-anchor"
        ));
        assert!(is_region("us-gov-west-1") && is_region("eu-central-1"));
        assert!(!is_region("us-west") && !is_region("us-west-2\n"));
        assert!(
            is_cluster_name("hybrid-demo_1") && !is_cluster_name("-x") && !is_cluster_name("a b")
        );
        assert!(is_api_server("https://ABC.gr7.us-west-2.eks.amazonaws.com"));
        assert!(!is_api_server("https://x\"\nconfig = 1"));
    }

    #[test]
    fn toml_and_shell_quoting_keep_a_value_in_its_place() {
        assert_eq!(
            toml_string("a\"b\\c\nd\u{7f}"),
            "\"a\\\"b\\\\c\\nd\\u007F\""
        );
        assert_eq!(shell_word("abc-123/+="), "abc-123/+=");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn an_error_never_shows_a_secret() {
        let e = check(3, "activation_code", "secret\nsecret-secret-secret").unwrap_err();
        assert!(!e.text.contains("secret"), "{}", e.text);
        let e = check(3, "node_name", "bad host").unwrap_err();
        assert!(e.text.contains("\"bad host\""), "{}", e.text);
    }
}
