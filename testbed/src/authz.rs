//! What each call asks IAM to authorize: its own action on the resource it names, the roles it
//! passes to a service, and the service-linked role a service creates on the caller's behalf
//! the first time it is used in an account.
//!
//! Sources: IAM user guide, "Granting a user permissions to pass a role to an AWS service"
//! (`iam:PassRole` on the role's ARN, with `iam:PassedToService`); the Service Authorization
//! Reference for IAM (role actions take the role's ARN, path included, as their resource;
//! `iam:CreateServiceLinkedRole` carries `iam:AWSServiceName`); "Using service-linked roles for
//! Amazon EKS" (`AWSServiceRoleForAmazonEKS`, made at the first CreateCluster); "Use
//! service-linked roles for transit gateways" in the VPC Transit Gateways guide
//! (`AWSServiceRoleForVPCTransitGateway`, made at the first transit gateway VPC attachment).

use crate::moto::Moto;
use crate::policy::Request;
use crate::state::{partition_of, ACCOUNT};
use serde_json::Value as Json;

/// A service-linked role a call makes when the account has none yet.
pub struct LinkedRole {
    pub service: &'static str,
    pub name: &'static str,
}

/// The service-linked role `operation` needs, if it is one that makes it.
pub fn linked_role_of(service: &str, operation: &str) -> Option<LinkedRole> {
    match (service, operation) {
        ("eks", "CreateCluster") => Some(LinkedRole {
            service: "eks.amazonaws.com",
            name: "AWSServiceRoleForAmazonEKS",
        }),
        ("ec2", "CreateTransitGatewayVpcAttachment") => Some(LinkedRole {
            service: "transitgateway.amazonaws.com",
            name: "AWSServiceRoleForVPCTransitGateway",
        }),
        _ => None,
    }
}

impl LinkedRole {
    pub fn request(&self, region: &str) -> Request {
        let arn = format!(
            "arn:{}:iam::{ACCOUNT}:role/aws-service-role/{}/{}",
            partition_of(region),
            self.service,
            self.name
        );
        Request::of("iam:CreateServiceLinkedRole")
            .on(arn)
            .with("iam:AWSServiceName", self.service)
    }
}

/// The call's own action, with the resource it acts on where a published policy scopes it:
/// the role for IAM's role actions, the managed instance for SSM's deregistration (Service
/// Authorization Reference for SSM: `managed-instance/<id>`).
pub async fn own_request(
    moto: &Moto,
    region: &str,
    action: &str,
    params: &[(String, String)],
    body: &[u8],
) -> Request {
    let req = Request::of(action);
    if action == "ssm:DeregisterManagedInstance" {
        let input: Json = serde_json::from_slice(body).unwrap_or(Json::Null);
        let id = input["InstanceId"].as_str().unwrap_or_default();
        let arn = format!(
            "arn:{}:ssm:{region}:{ACCOUNT}:managed-instance/{id}",
            partition_of(region)
        );
        return req.on(arn);
    }
    if action.starts_with("acm-pca:") {
        let input: Json = serde_json::from_slice(body).unwrap_or(Json::Null);
        if let Some(arn) = input["CertificateAuthorityArn"].as_str() {
            return req.on(arn.to_string());
        }
    }
    let get = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    let Some(name) = get("RoleName").filter(|_| action.starts_with("iam:")) else {
        return req;
    };
    let root = format!("arn:{}:iam::{ACCOUNT}:role", partition_of(region));
    let arn = if action == "iam:CreateRole" {
        let path = get("Path").map_or("/", |p| p.as_str());
        format!("{root}{path}{name}")
    } else {
        match moto.role_arn(region, name).await {
            Ok(Some(arn)) => arn,
            _ => format!("{root}/{name}"),
        }
    };
    req.on(arn)
}

/// The `iam:PassRole` requests of a call that hands roles to a service.
pub fn pass_role_requests(
    service: &str,
    operation: &str,
    region: &str,
    body: &[u8],
) -> Vec<Request> {
    let input: Json = serde_json::from_slice(body).unwrap_or(Json::Null);
    let (to, roles) = match (service, operation) {
        ("eks", "CreateCluster") => ("eks.amazonaws.com", vec![input["roleArn"].clone()]),
        ("ssm", "CreateActivation") => {
            // SSM takes the role's name with its path and forms the ARN from it.
            let arn = input["IamRole"]
                .as_str()
                .map(|r| format!("arn:{}:iam::{ACCOUNT}:role/{r}", partition_of(region)));
            (
                "ssm.amazonaws.com",
                vec![arn.map_or(Json::Null, Json::from)],
            )
        }
        ("rolesanywhere", "CreateProfile" | "UpdateProfile") => (
            "rolesanywhere.amazonaws.com",
            input["roleArns"].as_array().cloned().unwrap_or_default(),
        ),
        _ => return Vec::new(),
    };
    roles
        .iter()
        .filter_map(Json::as_str)
        .map(|arn| {
            Request::of("iam:PassRole")
                .on(arn)
                .with("iam:PassedToService", to)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passed(service: &str, operation: &str, region: &str, body: &str) -> Vec<(String, String)> {
        pass_role_requests(service, operation, region, body.as_bytes())
            .into_iter()
            .map(|r| (r.resource.unwrap(), r.context[0].1.clone()))
            .collect()
    }

    #[test]
    fn calls_that_hand_a_role_to_a_service_pass_it() {
        assert_eq!(
            passed(
                "eks",
                "CreateCluster",
                "us-west-2",
                r#"{"roleArn": "arn:aws:iam::1:role/c"}"#
            ),
            [("arn:aws:iam::1:role/c".into(), "eks.amazonaws.com".into())]
        );
        assert_eq!(
            passed(
                "ssm",
                "CreateActivation",
                "us-gov-west-1",
                r#"{"IamRole": "edge/n"}"#
            ),
            [(
                format!("arn:aws-us-gov:iam::{ACCOUNT}:role/edge/n"),
                "ssm.amazonaws.com".into()
            )]
        );
        let two = r#"{"roleArns": ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"]}"#;
        assert_eq!(
            passed("rolesanywhere", "CreateProfile", "us-west-2", two).len(),
            2
        );
        assert!(passed("eks", "DescribeCluster", "us-west-2", "{}").is_empty());
    }

    #[test]
    fn first_uses_make_their_service_linked_role() {
        let tgw = linked_role_of("ec2", "CreateTransitGatewayVpcAttachment").unwrap();
        let req = tgw.request("cn-north-1");
        assert_eq!(req.action, "iam:CreateServiceLinkedRole");
        assert_eq!(
            req.resource.as_deref(),
            Some("arn:aws-cn:iam::123456789012:role/aws-service-role/transitgateway.amazonaws.com/AWSServiceRoleForVPCTransitGateway")
        );
        assert!(linked_role_of("eks", "CreateCluster").is_some());
        assert!(linked_role_of("ec2", "CreateVpc").is_none());
    }
}
