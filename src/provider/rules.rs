//! The single-attribute rules the model declares on its attributes, each as AWS (or eksctl,
//! where it has a rule) states it. They run at `terraform validate` and again at plan, on
//! known values only, and make no AWS call.

use ipnet::Ipv4Net;
use tfplugin6::validators::{self, list_rule, string_rule, ListRule, StringRule};
use tfplugin6::{AttrPath, Diagnostics};

use crate::cluster::cidr::{self, CidrError};
use crate::cluster::spec::{parse_duration, MAX_TIMEOUT};

/// EKS API reference, CreateCluster `name`: `^[0-9A-Za-z][A-Za-z0-9\-_]*$`, 1 to 100.
pub fn cluster_name() -> StringRule {
    string_rule(
        "1 to 100 letters, digits, hyphens and underscores, starting with a letter or digit, and not starting with `sg-` (it names the control plane security group).",
        |name, path, d| {
            let valid_chars = name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            let starts_ok = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric());
            if name.is_empty() || name.len() > 100 || !valid_chars || !starts_ok {
                d.error_at(
                    path.clone(),
                    "Invalid cluster name",
                    format!(
                        "{name:?} is not a valid EKS cluster name: 1 to 100 characters, letters, \
                         digits, hyphens and underscores, starting with a letter or digit."
                    ),
                );
            } else if name.starts_with("sg-") {
                // EC2 API reference, CreateSecurityGroup: a group name "Cannot start with sg-".
                d.error_at(
                    path.clone(),
                    "Cluster name makes an invalid security group name",
                    format!(
                        "The control plane security group is named {:?}, and EC2 refuses \
                         security group names that start with \"sg-\". Choose a cluster name \
                         that does not start with \"sg-\".",
                        crate::cluster::names::control_plane_sg(name)
                    ),
                );
            }
        },
    )
}

pub fn kubernetes_version() -> StringRule {
    string_rule("A minor version such as `1.33`.", |version, path, d| {
        let parts: Vec<&str> = version.split('.').collect();
        let ok = parts.len() == 2
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            d.error_at(
                path.clone(),
                "Invalid Kubernetes version",
                format!("{version:?} is not a Kubernetes minor version such as \"1.33\"."),
            );
        }
    })
}

/// eksctl: hybrid nodes need access entries, so `CONFIG_MAP` alone is refused.
pub fn authentication_mode() -> StringRule {
    string_rule(
        "`API` or `API_AND_CONFIG_MAP`; hybrid nodes need access entries, so `CONFIG_MAP` is refused.",
        |mode, path, d| match mode {
            "API" | "API_AND_CONFIG_MAP" => {}
            "CONFIG_MAP" => d.error_at(
                path.clone(),
                "Unsupported authentication mode",
                "remoteNetworkConfig requires authenticationMode to be either \"API_AND_CONFIG_MAP\" or \"API\"",
            ),
            other => d.error_at(
                path.clone(),
                "Invalid authentication mode",
                format!("{other:?} is not one of \"API\", \"API_AND_CONFIG_MAP\"."),
            ),
        },
    )
}

pub fn role_arn() -> StringRule {
    string_rule(
        "An IAM role ARN, `arn:aws:iam::<account>:role/<name>`.",
        |arn, path, d| {
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            let ok = parts.len() == 6
                && parts[0] == "arn"
                && parts[1].starts_with("aws")
                && parts[2] == "iam"
                && parts[3].is_empty()
                && parts[4].len() == 12
                && parts[4].chars().all(|c| c.is_ascii_digit())
                && parts[5]
                    .strip_prefix("role/")
                    .is_some_and(|r| !r.is_empty());
            if !ok {
                d.error_at(
                    path.clone(),
                    "Invalid IAM role ARN",
                    format!(
                        "{arn:?} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)."
                    ),
                );
            }
        },
    )
}

/// A managed policy, as IAM's `PermissionsBoundary` takes it (IAM API reference, CreateRole
/// `PermissionsBoundary`: the ARN of a managed policy, 20 to 2048 characters;
/// `arn:<partition>:iam::<account or "aws">:policy/<path><name>`, the path `/` or `/…/` of
/// `!`–`~`, the name 1 to 128 of `[\w+=,.@-]`).
pub fn policy_arn() -> StringRule {
    string_rule(
        "A managed policy ARN, `arn:aws:iam::<account>:policy/<name>`.",
        |arn, path, d| {
            if !is_policy_arn(arn) {
                d.error_at(
                    path.clone(),
                    "Invalid IAM policy ARN",
                    format!(
                        "{arn:?} is not a managed policy ARN (arn:aws:iam::<12-digit account>:policy/<path><name>)."
                    ),
                );
            }
        },
    )
}

fn is_policy_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [a, partition, "iam", "", account, resource] = parts[..] else {
        return false;
    };
    let Some(path_and_name) = resource.strip_prefix("policy/") else {
        return false;
    };
    let (path, name) = path_and_name
        .rsplit_once('/')
        .unwrap_or(("", path_and_name));
    let name_char = |b: u8| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b);
    a == "arn"
        && (partition == "aws" || partition.starts_with("aws-"))
        && (account == "aws"
            || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())))
        && (20..=2048).contains(&arn.len())
        && path.bytes().all(|b| (b'!'..=b'~').contains(&b))
        && (1..=128).contains(&name.len())
        && name.bytes().all(name_char)
}

/// An AWS Private CA, as the ACM PCA API takes it (botocore's `acm-pca` model, shape `Arn`:
/// at most 200 characters of `arn:…:acm-pca:<region>:<account>:…`; DescribeCertificateAuthority:
/// "must be of the form arn:aws:acm-pca:region:account:certificate-authority/…"). A template
/// ARN (`arn:aws:acm-pca:::template/…`) has the service but is no CA.
pub fn acm_pca_arn() -> StringRule {
    string_rule(
        "An AWS Private CA ARN, `arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>`.",
        |arn, path, d| {
            if !is_private_ca_arn(arn) {
                d.error_at(
                    path.clone(),
                    "Invalid AWS Private CA ARN",
                    format!(
                        "{arn:?} is not an AWS Private CA ARN (arn:aws:acm-pca:<region>:<12-digit account>:certificate-authority/<id>, at most 200 characters)."
                    ),
                );
            }
        },
    )
}

fn is_private_ca_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let id_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    arn.len() <= 200
        && parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "acm-pca"
        && !parts[3].is_empty()
        && parts[3]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5]
            .strip_prefix("certificate-authority/")
            .is_some_and(|id| !id.is_empty() && id.chars().all(id_char))
}

/// EC2 IDs: the prefix, then 8 or 17 lowercase hexadecimal digits.
pub fn is_aws_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            (hex.len() == 8 || hex.len() == 17)
                && hex
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        })
}

pub fn vpc_id() -> StringRule {
    string_rule("A VPC ID (`vpc-…`).", |id, path, d| {
        if !is_aws_id(id, "vpc") {
            d.error_at(
                path.clone(),
                "Invalid VPC ID",
                format!("{id:?} is not a VPC ID (vpc- followed by 8 or 17 hexadecimal digits)."),
            );
        }
    })
}

pub fn subnet_id() -> StringRule {
    string_rule("a subnet ID (`subnet-…`).", |id, path, d| {
        if !is_aws_id(id, "subnet") {
            d.error_at(
                path.clone(),
                "Invalid ID",
                format!("{id:?} is not a subnet- ID."),
            );
        }
    })
}

pub fn security_group_id() -> StringRule {
    string_rule("a security group ID (`sg-…`).", |id, path, d| {
        if !is_aws_id(id, "sg") {
            d.error_at(
                path.clone(),
                "Invalid ID",
                format!("{id:?} is not a sg- ID."),
            );
        }
    })
}

/// eksctl's `remoteNetworkConfig.vpcGatewayID` rule.
pub fn gateway_id() -> StringRule {
    string_rule(
        "A transit gateway (`tgw-…`) or virtual private gateway (`vgw-…`) ID.",
        |gw, path, d| {
            if !(is_aws_id(gw, "tgw") || is_aws_id(gw, "vgw")) {
                d.error_at(
                    path.clone(),
                    "Invalid VPC gateway ID",
                    format!("invalid value {gw:?} provided for remoteNetworkConfig.vpcGatewayID; only transit gateway (tgw-*) or virtual private gateway (vgw-*) IDs are supported"),
                );
            }
        },
    )
}

/// EKS needs subnets in at least two zones; eksctl lays out 2 or 3.
pub fn availability_zones() -> ListRule {
    list_rule("2 or 3 distinct zones.", |zones, path, d| {
        if !(2..=3).contains(&zones.len()) {
            d.error_at(
                path.clone(),
                "Wrong number of availability zones",
                format!(
                    "EKS needs subnets in at least 2 availability zones; give 2 or 3, not {}.",
                    zones.len()
                ),
            );
        }
        for (i, az) in zones.iter().enumerate() {
            if zones[..i].contains(az) {
                d.error_at(
                    path.index(i),
                    "Duplicate availability zone",
                    format!("{:?} is listed twice.", az.as_str().unwrap_or_default()),
                );
            }
        }
    })
}

/// EKS API reference, CreateCluster: subnets in at least two zones.
pub fn subnet_ids() -> ListRule {
    list_rule(
        "At least 2, in at least two availability zones.",
        |ids, path, d| {
            if ids.len() < 2 {
                d.error_at(
                path.clone(),
                "Too few subnets",
                "EKS needs subnets in at least two availability zones: give at least 2 subnet IDs.",
            );
            }
        },
    )
}

/// At least one CIDR in a remote network.
pub fn remote_cidrs() -> ListRule {
    list_rule("At least one.", |cidrs, path, d| {
        if cidrs.is_empty() {
            d.error_at(
                path.clone(),
                "Empty remote network",
                "Give at least one CIDR.",
            );
        }
    })
}

pub fn nat_gateway() -> validators::OneOf {
    validators::one_of(
        "Invalid NAT gateway mode",
        &["Single", "HighlyAvailable", "Disable"],
    )
}

/// eksctl's `remoteNetworkConfig.iam.provider` rule, in any case.
pub fn credentials_provider() -> StringRule {
    string_rule(
        "`SSM` or `IRA` (IAM Roles Anywhere), in any case.",
        |p, path, d| {
            if crate::cluster::spec::parse_provider(p).is_none() {
                d.error_at(
                path.clone(),
                "Invalid credentials provider",
                format!("invalid value {p:?} provided for remoteNetworkConfig.iam.provider; only \"ssm\" and \"ira\" are supported"),
            );
            }
        },
    )
}

pub fn ca_bundle() -> StringRule {
    string_rule(
        "PEM CA certificates only (no private key), at most 204,800 characters.",
        |pem, path, d| {
            if let Err(problem) = crate::cluster::certs::check_ca_bundle(pem) {
                d.error_at(path.clone(), "Invalid CA bundle", problem);
            }
        },
    )
}

/// Reports a CIDR that does not parse or has host bits set, as AWS refuses both.
pub fn check_cidr(s: &str, path: &AttrPath, what: &str, d: &mut Diagnostics) -> Option<Ipv4Net> {
    match cidr::parse_network(s) {
        Ok(net) => Some(net),
        Err(CidrError::Syntax) => {
            d.error_at(
                path.clone(),
                format!("Invalid {what}"),
                format!("{s:?} is not an IPv4 CIDR such as 10.80.146.0/24."),
            );
            None
        }
        Err(CidrError::HostBits(net)) => {
            d.error_at(
                path.clone(),
                format!("Invalid {what}"),
                format!("{s} has host bits set; did you mean {net}?"),
            );
            None
        }
    }
}

/// A VPC the provider lays out subnets in: /16 to /24.
pub fn vpc_cidr_of(s: &str, path: &AttrPath, d: &mut Diagnostics) -> Option<Ipv4Net> {
    let net = check_cidr(s, path, "VPC CIDR", d)?;
    if !(16..=24).contains(&net.prefix_len()) {
        d.error_at(
            path.clone(),
            "VPC CIDR size out of range",
            format!(
                "{s} has prefix /{}; a VPC the provider lays out subnets in must be /16 to /24.",
                net.prefix_len()
            ),
        );
        return None;
    }
    Some(net)
}

pub fn vpc_cidr() -> StringRule {
    string_rule("An IPv4 CIDR from /16 to /24.", |s, path, d| {
        vpc_cidr_of(s, path, d);
    })
}

/// EKS API reference, KubernetesNetworkConfigRequest.serviceIpv4Cidr.
pub fn service_cidr_of(s: &str, path: &AttrPath, d: &mut Diagnostics) -> Option<Ipv4Net> {
    let net = check_cidr(s, path, "service CIDR", d)?;
    if !(12..=24).contains(&net.prefix_len()) || !cidr::is_rfc1918(&net) {
        d.error_at(
            path.clone(),
            "Invalid service CIDR",
            format!("{s} must be within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, with a prefix from /12 to /24."),
        );
        return None;
    }
    Some(net)
}

pub fn service_cidr() -> StringRule {
    string_rule(
        "Within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, /12 to /24.",
        |s, path, d| {
            service_cidr_of(s, path, d);
        },
    )
}

/// EKS's remote network rules: /8 or smaller, RFC 1918 or CGNAT.
pub fn remote_cidr_of(
    s: &str,
    path: &AttrPath,
    kind: &str,
    d: &mut Diagnostics,
) -> Option<Ipv4Net> {
    let net = check_cidr(s, path, &format!("{kind} CIDR"), d)?;
    if net.prefix_len() < 8 {
        d.error_at(
            path.clone(),
            format!("{kind} CIDR too large"),
            format!("{s} is larger than /8, the largest {kind} network EKS accepts."),
        );
        return None;
    }
    if !cidr::is_remote_network_range(&net) {
        d.error_at(
            path.clone(),
            format!("{kind} CIDR not private"),
            format!("{s} is not within RFC 1918 (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) or CGNAT (100.64.0.0/10); EKS accepts only private remote networks."),
        );
        return None;
    }
    Some(net)
}

/// Which remote network list a `cidrs` path is in, from the path itself.
fn remote_kind(path: &AttrPath) -> &'static str {
    let pods = path
        .0
        .iter()
        .any(|s| matches!(s, tfplugin6::diag::Step::Attr(a) if a == "remote_pod_networks"));
    if pods {
        "remote pod"
    } else {
        "remote node"
    }
}

pub fn remote_cidr() -> StringRule {
    string_rule(
        "within RFC 1918 or CGNAT (100.64.0.0/10), /8 to /32.",
        |s, path, d| {
            remote_cidr_of(s, path, remote_kind(path), d);
        },
    )
}

/// SSM refuses expirations in the past or more than 30 days ahead (CreateActivation
/// `ExpirationDate`). Only the form is checked here: the configuration is validated on every
/// run, destroy included (hashicorp/terraform#33908), and a date that has since passed must not
/// stop a plan or a destroy. The clock is checked at plan, when an activation is about to be
/// created (`activation_expiration_now`).
pub const MAX_ACTIVATION_DAYS: i64 = 30;

pub fn activation_expiration() -> StringRule {
    string_rule(
        "RFC 3339 (`2026-12-31T00:00:00Z`, or with an offset such as `+02:00`); in the future and at most 30 days ahead when an activation is created.",
        |t, path, d| {
            if crate::aws::ssm::parse_rfc3339(t).is_none() {
                d.error_at(
                    path.clone(),
                    "Invalid activation expiration",
                    format!("{t:?} is not an RFC 3339 time such as \"2026-12-31T00:00:00Z\" or \"2026-12-31T02:00:00+02:00\"."),
                );
            }
        },
    )
}

/// What SSM would refuse of `t` for an activation created now, if anything.
pub fn activation_expiration_now(t: &str) -> Option<String> {
    let now = (crate::aws::wait::now_unix_ms() / 1000) as i64;
    match crate::aws::ssm::parse_rfc3339(t)? {
        at if at <= now => Some(format!(
            "{t} is in the past: set a later expiration for the new activation."
        )),
        at if at > now + MAX_ACTIVATION_DAYS * 86_400 => Some(format!(
            "{t} is more than {MAX_ACTIVATION_DAYS} days ahead, the longest SSM allows."
        )),
        _ => None,
    }
}

/// SSM API reference, CreateActivation `RegistrationLimit`: 1 to 1000.
pub fn registration_limit() -> validators::IntBetween {
    validators::int_between("Invalid registration limit", 1, 1000).saying(|n| match n {
        Some(n) => format!("{n} is outside what SSM accepts: 1 to 1000 nodes."),
        None => "Give a whole number of nodes, 1 to 1000.".into(),
    })
}

pub fn duration() -> StringRule {
    string_rule(
        "A Go duration such as `40m` or `1h30m`, at most `168h`.",
        |s, path, d| match parse_duration(s) {
            Some(t) if !t.is_zero() && t <= MAX_TIMEOUT => {}
            Some(t) if !t.is_zero() => d.error_at(
                path.clone(),
                "Invalid timeout",
                format!("{s:?} is longer than the provider waits: at most \"168h\" (a week)."),
            ),
            _ => d.error_at(
                path.clone(),
                "Invalid timeout",
                format!("{s:?} is not a duration such as \"40m\" or \"1h30m\"."),
            ),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::{is_policy_arn, is_private_ca_arn};

    #[test]
    fn a_boundary_is_a_managed_policy_arn() {
        for ok in [
            "arn:aws:iam::123456789012:policy/terraform-provider-eks/EKSHybridRoleBoundary",
            "arn:aws-us-gov:iam::123456789012:policy/b",
            "arn:aws:iam::aws:policy/PowerUserAccess",
        ] {
            assert!(is_policy_arn(ok), "{ok}");
        }
        for bad in [
            "arn:aws:iam::123456789012:role/b",
            "arn:aws:iam::1234:policy/b",
            "arn:aws:iam::123456789012:policy/",
            "arn:aws:iam::123456789012:policy/a b",
            "arn:aws:iam:us-east-1:123456789012:policy/b",
            "EKSHybridRoleBoundary",
        ] {
            assert!(!is_policy_arn(bad), "{bad}");
        }
    }

    #[test]
    fn a_private_ca_arn_is_what_acm_pca_takes() {
        let ca = "arn:aws:acm-pca:us-west-2:123456789012:certificate-authority/12345678-1234-1234-1234-123456789012";
        assert!(is_private_ca_arn(ca));
        assert!(is_private_ca_arn(
            &ca.replace("arn:aws:", "arn:aws-us-gov:")
        ));
        for bad in [
            "arn:aws:acm-pca:::template/RootCACertificate/V1",
            "arn:aws:acm:us-west-2:123456789012:certificate/1234",
            "arn:aws:acm-pca:us-west-2:1234:certificate-authority/x",
            "arn:aws:acm-pca:us-west-2:123456789012:certificate-authority/",
            "arn:aws:acm-pca:us-west-2:123456789012:certificate-authority/a/certificate/b",
            "12345678-1234-1234-1234-123456789012",
        ] {
            assert!(!is_private_ca_arn(bad), "{bad}");
        }
        let long = format!("{}{}", &ca[..ca.len() - 36], "a".repeat(200));
        assert!(!is_private_ca_arn(&long));
    }
}
