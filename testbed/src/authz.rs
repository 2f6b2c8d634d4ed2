//! What each call asks IAM to authorize, as the Service Authorization Reference lists it: the
//! call's action on each resource it names (with that resource's tags as
//! `aws:ResourceTag/<key>`), on the resource it creates (with the request's tags as
//! `aws:RequestTag/<key>` and `aws:TagKeys`), the service's own condition keys, the
//! permission to tag at creation, the roles it passes to a service, and the service-linked
//! role a service creates on the caller's behalf the first time it is used in an account.
//!
//! Sources, each the "Actions, resources, and condition keys" page of the Service
//! Authorization Reference (SAR) for its service: the "Resource types" column of the Actions
//! table gives the resources of each action (required ones with `*`), the "Condition keys" and
//! "Dependent actions" columns the keys and the tagging permission a create needs, and the
//! Resource types table the ARN of each resource and the keys it carries
//! (`aws:ResourceTag/${TagKey}` for every resource below). [`EC2`] is the EC2 page's rows for
//! the actions the provider calls. Beside the SAR:
//! - IAM user guide, "Granting a user permissions to pass a role to an AWS service":
//!   `iam:PassRole` on the role's ARN, with `iam:PassedToService`;
//! - IAM user guide, "Permissions required to tag IAM entities": a CreateRole with tags needs
//!   `iam:TagRole` too; IAM user guide, "Permissions boundaries for IAM entities" and the IAM
//!   page of the SAR: `iam:PermissionsBoundary` is the boundary in the request (CreateRole,
//!   PutRolePermissionsBoundary) or the one the role has (PutRolePolicy, AttachRolePolicy,
//!   DetachRolePolicy, DeleteRolePolicy, UpdateAssumeRolePolicy, DeleteRole,
//!   DeleteRolePermissionsBoundary), `iam:PolicyARN` the managed policy attached or detached;
//! - EC2 user guide, "Grant permission to tag Amazon EC2 resources during creation", and the
//!   SAR's "Dependent actions" column: a create with tag specifications needs `ec2:CreateTags`
//!   on the new resource, with `ec2:CreateAction` naming the create;
//! - EKS CreateCluster and CreateAccessEntry, SSM CreateActivation and Roles Anywhere
//!   CreateTrustAnchor and CreateProfile list no dependent tagging action in the SAR (their
//!   tags are judged on the create itself, through `aws:RequestTag`), so none is asked;
//! - "Using service-linked roles for Amazon EKS" (`AWSServiceRoleForAmazonEKS`, made at the
//!   first CreateCluster) and "Use service-linked roles for transit gateways" in the VPC
//!   Transit Gateways guide (`AWSServiceRoleForVPCTransitGateway`, at the first attachment).
//!
//! A call naming an object that does not exist is judged without its tags: a caller allowed
//! the action on objects of its kind gets the service's "not found", one with no permission
//! for the action is refused (`Request::of_missing_object`). AWS does not document which comes
//! first; this is the order under which the provider's "not found is gone" handling and an
//! unauthorized caller's refusal both hold.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::moto::Moto;
use crate::policy::Request;
use crate::state::{partition_of, Shared, State, ACCOUNT};
use crate::xml;

/// A call, as the testbed has parsed it.
pub struct Call<'a> {
    pub service: &'a str,
    pub operation: &'a str,
    pub region: &'a str,
    /// Query-protocol parameters (EC2, IAM, STS).
    pub params: &'a [(String, String)],
    /// The JSON input of the JSON and REST protocols (EKS, Roles Anywhere, SSM, ACM PCA), as
    /// botocore's model assembles it from the URI labels, query and body.
    pub input: &'a Json,
}

impl Call<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The values of a query list parameter (`SubnetIds.1`, `SubnetIds.2`, …).
    fn param_list(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}.");
        self.params
            .iter()
            .filter(|(k, _)| {
                k.strip_prefix(&prefix)
                    .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
            })
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn text(&self, member: &str) -> &str {
        self.input[member].as_str().unwrap_or_default()
    }

    fn partition(&self) -> &'static str {
        partition_of(self.region)
    }

    fn action(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }
}

/// Tags as (key, value).
type Tags = Vec<(String, String)>;

/// The request keys of tags a call sets: `aws:RequestTag/<key>` and `aws:TagKeys`.
fn with_request_tags(mut req: Request, tags: &Tags) -> Request {
    if tags.is_empty() {
        return req;
    }
    for (k, v) in tags {
        req = req.with(format!("aws:RequestTag/{k}"), v.clone());
    }
    req.with_all("aws:TagKeys", tags.iter().map(|(k, _)| k.clone()).collect())
}

/// The keys of an existing resource's tags: `aws:ResourceTag/<key>`.
fn with_resource_tags(mut req: Request, tags: &Tags) -> Request {
    for (k, v) in tags {
        req = req.with(format!("aws:ResourceTag/{k}"), v.clone());
    }
    req
}

/// Everything `call` asks IAM to authorize, with the keys every request carries
/// (`aws:RequestedRegion`, `aws:PrincipalAccount`).
pub async fn requests(moto: &Moto, shared: &Shared, call: &Call<'_>) -> Vec<Request> {
    let own = match call.service {
        "ec2" => ec2_requests(moto, call).await,
        "iam" => iam_requests(moto, call).await,
        "eks" => eks_requests(&*shared.lock().await, call),
        "rolesanywhere" => roles_anywhere_requests(&*shared.lock().await, call),
        "ssm" => ssm_requests(&*shared.lock().await, call),
        "acm-pca" => {
            let req = Request::of(call.action());
            match call.input["CertificateAuthorityArn"].as_str() {
                Some(arn) => vec![req.on(arn)],
                None => vec![req],
            }
        }
        _ => vec![Request::of(call.action())],
    };
    own.into_iter()
        .chain(pass_role_requests(call))
        .map(|r| {
            r.with("aws:RequestedRegion", call.region)
                .with("aws:PrincipalAccount", ACCOUNT)
        })
        .collect()
}

/// How an EC2 action names a resource it acts on.
#[derive(Clone, Copy)]
enum Names {
    /// The resource the call creates (its ARN ends in `/*`).
    Created,
    /// A parameter holding its ID.
    Param(&'static str),
    /// A list parameter holding IDs.
    ParamList(&'static str),
    /// The route table and subnet of the association a parameter names.
    Association(&'static str),
    /// `ResourceId.N` of CreateTags and DeleteTags, each typed by its ID's prefix.
    TaggedIds,
}

/// The SAR's EC2 page: each action the provider calls and the resource types of its row, with
/// how the request names each. Actions not listed (every Describe) have no resource type: only
/// `Resource: "*"` matches them.
const EC2: &[(&str, &[(&str, Names)])] = &[
    ("AllocateAddress", &[("elastic-ip", Names::Created)]),
    (
        "AssociateRouteTable",
        &[
            ("route-table", Names::Param("RouteTableId")),
            ("subnet", Names::Param("SubnetId")),
            ("internet-gateway", Names::Param("GatewayId")),
        ],
    ),
    (
        "AttachInternetGateway",
        &[
            ("internet-gateway", Names::Param("InternetGatewayId")),
            ("vpc", Names::Param("VpcId")),
        ],
    ),
    (
        "AttachVpnGateway",
        &[
            ("vpc", Names::Param("VpcId")),
            ("vpn-gateway", Names::Param("VpnGatewayId")),
        ],
    ),
    (
        "AuthorizeSecurityGroupIngress",
        &[("security-group", Names::Param("GroupId"))],
    ),
    (
        "CreateInternetGateway",
        &[("internet-gateway", Names::Created)],
    ),
    (
        "CreateNatGateway",
        &[
            ("natgateway", Names::Created),
            ("subnet", Names::Param("SubnetId")),
            ("elastic-ip", Names::Param("AllocationId")),
        ],
    ),
    (
        "CreateRoute",
        &[("route-table", Names::Param("RouteTableId"))],
    ),
    (
        "CreateRouteTable",
        &[
            ("route-table", Names::Created),
            ("vpc", Names::Param("VpcId")),
        ],
    ),
    (
        "CreateSecurityGroup",
        &[
            ("security-group", Names::Created),
            ("vpc", Names::Param("VpcId")),
        ],
    ),
    (
        "CreateSubnet",
        &[("subnet", Names::Created), ("vpc", Names::Param("VpcId"))],
    ),
    ("CreateTags", &[("", Names::TaggedIds)]),
    (
        "CreateTransitGatewayVpcAttachment",
        &[
            ("transit-gateway-attachment", Names::Created),
            ("transit-gateway", Names::Param("TransitGatewayId")),
            ("vpc", Names::Param("VpcId")),
            ("subnet", Names::ParamList("SubnetIds")),
        ],
    ),
    ("CreateVpc", &[("vpc", Names::Created)]),
    (
        "DeleteInternetGateway",
        &[("internet-gateway", Names::Param("InternetGatewayId"))],
    ),
    (
        "DeleteNatGateway",
        &[("natgateway", Names::Param("NatGatewayId"))],
    ),
    (
        "DeleteNetworkInterface",
        &[("network-interface", Names::Param("NetworkInterfaceId"))],
    ),
    (
        "DeleteRoute",
        &[("route-table", Names::Param("RouteTableId"))],
    ),
    (
        "DeleteRouteTable",
        &[("route-table", Names::Param("RouteTableId"))],
    ),
    (
        "DeleteSecurityGroup",
        &[("security-group", Names::Param("GroupId"))],
    ),
    ("DeleteSubnet", &[("subnet", Names::Param("SubnetId"))]),
    ("DeleteTags", &[("", Names::TaggedIds)]),
    (
        "DeleteTransitGatewayVpcAttachment",
        &[(
            "transit-gateway-attachment",
            Names::Param("TransitGatewayAttachmentId"),
        )],
    ),
    ("DeleteVpc", &[("vpc", Names::Param("VpcId"))]),
    (
        "DetachInternetGateway",
        &[
            ("internet-gateway", Names::Param("InternetGatewayId")),
            ("vpc", Names::Param("VpcId")),
        ],
    ),
    (
        "DetachVpnGateway",
        &[
            ("vpc", Names::Param("VpcId")),
            ("vpn-gateway", Names::Param("VpnGatewayId")),
        ],
    ),
    (
        "DisassociateRouteTable",
        &[("", Names::Association("AssociationId"))],
    ),
    (
        "ModifySubnetAttribute",
        &[("subnet", Names::Param("SubnetId"))],
    ),
    ("ModifyVpcAttribute", &[("vpc", Names::Param("VpcId"))]),
    (
        "ReleaseAddress",
        &[("elastic-ip", Names::Param("AllocationId"))],
    ),
    (
        "ReplaceRoute",
        &[("route-table", Names::Param("RouteTableId"))],
    ),
    (
        "RevokeSecurityGroupIngress",
        &[("security-group", Names::Param("GroupId"))],
    ),
];

/// An EC2 resource type, the Describe call that finds one by ID and its ID parameter.
const EC2_LOOKUP: &[(&str, &str, &str, &str)] = &[
    ("vpc", "vpc-", "DescribeVpcs", "VpcId.1"),
    ("subnet", "subnet-", "DescribeSubnets", "SubnetId.1"),
    (
        "internet-gateway",
        "igw-",
        "DescribeInternetGateways",
        "InternetGatewayId.1",
    ),
    (
        "route-table",
        "rtb-",
        "DescribeRouteTables",
        "RouteTableId.1",
    ),
    (
        "natgateway",
        "nat-",
        "DescribeNatGateways",
        "NatGatewayId.1",
    ),
    (
        "elastic-ip",
        "eipalloc-",
        "DescribeAddresses",
        "AllocationId.1",
    ),
    (
        "security-group",
        "sg-",
        "DescribeSecurityGroups",
        "GroupId.1",
    ),
    (
        "transit-gateway-attachment",
        "tgw-attach-",
        "DescribeTransitGatewayVpcAttachments",
        "TransitGatewayAttachmentIds.1",
    ),
    (
        "transit-gateway",
        "tgw-",
        "DescribeTransitGateways",
        "TransitGatewayIds.1",
    ),
    (
        "vpn-gateway",
        "vgw-",
        "DescribeVpnGateways",
        "VpnGatewayId.1",
    ),
    (
        "network-interface",
        "eni-",
        "DescribeNetworkInterfaces",
        "NetworkInterfaceId.1",
    ),
];

/// The type of an EC2 ID, by its prefix (`tgw-attach-` before `tgw-`).
fn ec2_type_of(id: &str) -> Option<&'static str> {
    EC2_LOOKUP
        .iter()
        .filter(|(_, prefix, _, _)| id.starts_with(prefix))
        .max_by_key(|(_, prefix, _, _)| prefix.len())
        .map(|(t, _, _, _)| *t)
}

/// The tags of an EC2 object, or None when it does not exist.
async fn ec2_tags(moto: &Moto, region: &str, kind: &str, id: &str) -> Option<Tags> {
    let (_, _, action, param) = EC2_LOOKUP.iter().find(|(t, _, _, _)| *t == kind)?;
    let (status, body) = moto
        .query(
            "ec2",
            region,
            &[("Action", action.to_string()), (param, id.into())],
        )
        .await
        .ok()?;
    if status != 200 || !body.contains(id) {
        return None;
    }
    let tags = xml::values(&body, "tagSet")
        .first()
        .map(|set| {
            xml::values(set, "item")
                .iter()
                .filter_map(|item| {
                    Some((
                        xml::first(item, "key")?,
                        xml::first(item, "value").unwrap_or_default(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Some(tags)
}

/// The tags a create's tag specifications give the resource type `kind`. The query name is
/// `TagSpecification.N` for most creates and `TagSpecifications.N` for some (botocore's EC2
/// model, each member's `locationName`: CreateTransitGatewayVpcAttachment's is plural).
fn tag_specification(call: &Call<'_>, kind: &str) -> Tags {
    let mut tags = Vec::new();
    for list in ["TagSpecification", "TagSpecifications"] {
        for n in 1.. {
            let Some(resource_type) = call.param(&format!("{list}.{n}.ResourceType")) else {
                break;
            };
            if resource_type != kind {
                continue;
            }
            for m in 1.. {
                let Some(key) = call.param(&format!("{list}.{n}.Tag.{m}.Key")) else {
                    break;
                };
                let value = call
                    .param(&format!("{list}.{n}.Tag.{m}.Value"))
                    .unwrap_or_default();
                tags.push((key.to_string(), value.to_string()));
            }
        }
    }
    tags
}

/// CreateTags and DeleteTags: the tags set (`Tag.N`), or the keys removed.
fn tags_in_request(call: &Call<'_>) -> Tags {
    (1..)
        .map_while(|n| {
            let key = call.param(&format!("Tag.{n}.Key"))?;
            let value = call.param(&format!("Tag.{n}.Value")).unwrap_or_default();
            Some((key.to_string(), value.to_string()))
        })
        .collect()
}

async fn ec2_requests(moto: &Moto, call: &Call<'_>) -> Vec<Request> {
    let action = call.action();
    let Some((_, resources)) = EC2.iter().find(|(op, _)| *op == call.operation) else {
        return vec![Request::of(action)];
    };
    let arn = |kind: &str, id: &str| {
        format!(
            "arn:{}:ec2:{}:{ACCOUNT}:{kind}/{id}",
            call.partition(),
            call.region
        )
    };
    let mut named: Vec<(&str, String)> = Vec::new();
    let mut out = Vec::new();
    for (kind, names) in *resources {
        match names {
            Names::Created => {
                let tags = tag_specification(call, kind);
                out.push(with_request_tags(
                    Request::of(&action).on(arn(kind, "*")),
                    &tags,
                ));
                if !tags.is_empty() {
                    let tagging = Request::of("ec2:CreateTags")
                        .on(arn(kind, "*"))
                        .with("ec2:CreateAction", call.operation);
                    out.push(with_request_tags(tagging, &tags));
                }
            }
            Names::Param(p) => {
                if let Some(id) = call.param(p) {
                    named.push((kind, id.to_string()));
                }
            }
            Names::ParamList(p) => {
                named.extend(call.param_list(p).into_iter().map(|id| (*kind, id)))
            }
            Names::TaggedIds => {
                for id in call.param_list("ResourceId") {
                    if let Some(kind) = ec2_type_of(&id) {
                        named.push((kind, id));
                    }
                }
            }
            Names::Association(p) => {
                if let Some(id) = call.param(p) {
                    named.extend(association(moto, call.region, id).await);
                }
            }
        }
    }
    let request_tags = tags_in_request(call);
    for (kind, id) in named {
        let req = match ec2_tags(moto, call.region, kind, &id).await {
            Some(tags) => with_resource_tags(Request::of(&action).on(arn(kind, &id)), &tags),
            None => Request::of(&action).on(arn(kind, &id)).of_missing_object(),
        };
        out.push(with_request_tags(req, &request_tags));
    }
    out
}

/// The route table and subnet a route table association joins.
async fn association(moto: &Moto, region: &str, id: &str) -> Vec<(&'static str, String)> {
    let Ok((200, body)) = moto
        .query(
            "ec2",
            region,
            &[
                ("Action", "DescribeRouteTables".into()),
                (
                    "Filter.1.Name",
                    "association.route-table-association-id".into(),
                ),
                ("Filter.1.Value.1", id.into()),
            ],
        )
        .await
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(rtb) = xml::first(&body, "routeTableId") {
        out.push(("route-table", rtb));
    }
    for item in xml::values(&body, "item") {
        if xml::first(&item, "routeTableAssociationId").as_deref() == Some(id) {
            if let Some(subnet) = xml::first(&item, "subnetId") {
                out.push(("subnet", subnet));
            }
        }
    }
    out
}

/// IAM's query `Tags.member.N.Key` / `.Value`.
fn iam_tags(call: &Call<'_>) -> Tags {
    (1..)
        .map_while(|n| {
            let key = call.param(&format!("Tags.member.{n}.Key"))?;
            let value = call
                .param(&format!("Tags.member.{n}.Value"))
                .unwrap_or_default();
            Some((key.to_string(), value.to_string()))
        })
        .collect()
}

async fn iam_requests(moto: &Moto, call: &Call<'_>) -> Vec<Request> {
    let action = call.action();
    let req = Request::of(&action);
    let Some(name) = call.param("RoleName") else {
        return vec![req];
    };
    let root = format!("arn:{}:iam::{ACCOUNT}:role", call.partition());
    if call.operation == "CreateRole" {
        let path = call.param("Path").unwrap_or("/");
        let arn = format!("{root}{path}{name}");
        let tags = iam_tags(call);
        let mut create = with_request_tags(req.on(&arn), &tags);
        if let Some(boundary) = call.param("PermissionsBoundary") {
            create = create.with("iam:PermissionsBoundary", boundary);
        }
        let mut out = vec![create];
        if !tags.is_empty() {
            out.push(with_request_tags(
                Request::of("iam:TagRole").on(&arn),
                &tags,
            ));
        }
        return out;
    }
    let Ok(Some(role)) = moto.role_details(call.region, name).await else {
        return vec![req.on(format!("{root}/{name}")).of_missing_object()];
    };
    let mut req = with_resource_tags(req.on(&role.arn), &role.tags);
    // The boundary a call sets, or the one the role has.
    let boundary = match call.operation {
        "PutRolePermissionsBoundary" => call.param("PermissionsBoundary").map(str::to_string),
        _ => role.boundary.clone(),
    };
    if let Some(b) = boundary {
        req = req.with("iam:PermissionsBoundary", b);
    }
    if let Some(policy) = call.param("PolicyArn") {
        req = req.with("iam:PolicyARN", policy);
    }
    match call.operation {
        "TagRole" => req = with_request_tags(req, &iam_tags(call)),
        "UntagRole" => {
            req = req.with_all("aws:TagKeys", call.param_list("TagKeys.member"));
        }
        _ => {}
    }
    vec![req]
}

/// EKS's tags map (`{"k": "v"}`).
fn map_tags(v: &Json) -> Tags {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Roles Anywhere's and SSM's tag lists (`[{"key": …, "value": …}]`, `Key`/`Value` in SSM).
fn list_tags(v: &Json) -> Tags {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let key = t["key"].as_str().or(t["Key"].as_str())?;
            let value = t["value"]
                .as_str()
                .or(t["Value"].as_str())
                .unwrap_or_default();
            Some((key.to_string(), value.to_string()))
        })
        .collect()
}

fn eks_requests(st: &State, call: &Call<'_>) -> Vec<Request> {
    let action = call.action();
    let cluster_arn = |name: &str| {
        format!(
            "arn:{}:eks:{}:{ACCOUNT}:cluster/{name}",
            call.partition(),
            call.region
        )
    };
    let cluster_name = match call.operation {
        "CreateAccessEntry"
        | "DeleteAccessEntry"
        | "DescribeAccessEntry"
        | "ListAccessEntries"
        | "DescribeAddon" => call.text("clusterName"),
        _ => call.text("name"),
    };
    let cluster = st.clusters.get(cluster_name);
    let on_cluster = || {
        let req = Request::of(&action).on(cluster_arn(cluster_name));
        match cluster {
            Some(c) => with_resource_tags(req, &map_tags(&c.body["tags"])),
            None => req.of_missing_object(),
        }
    };
    match call.operation {
        "CreateCluster" => vec![with_request_tags(
            Request::of(&action),
            &map_tags(&call.input["tags"]),
        )],
        "CreateAccessEntry" => vec![with_request_tags(
            on_cluster(),
            &map_tags(&call.input["tags"]),
        )],
        "DeleteAccessEntry" | "DescribeAccessEntry" => {
            let entry = cluster.and_then(|c| c.access_entries.get(call.text("principalArn")));
            match entry {
                Some(e) => {
                    let arn = e["accessEntryArn"].as_str().unwrap_or_default();
                    vec![with_resource_tags(
                        Request::of(&action).on(arn),
                        &map_tags(&e["tags"]),
                    )]
                }
                None => {
                    let arn = format!(
                        "arn:{}:eks:{}:{ACCOUNT}:access-entry/{cluster_name}/*",
                        call.partition(),
                        call.region
                    );
                    vec![Request::of(&action).on(arn).of_missing_object()]
                }
            }
        }
        "TagResource" | "UntagResource" => {
            let arn = call.text("resourceArn");
            let Some(target) = eks_object(st, arn) else {
                return vec![Request::of(&action).on(arn).of_missing_object()];
            };
            let req = with_resource_tags(Request::of(&action).on(arn), &target);
            if call.operation == "TagResource" {
                vec![with_request_tags(req, &map_tags(&call.input["tags"]))]
            } else {
                let keys = call.input["tagKeys"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect();
                vec![req.with_all("aws:TagKeys", keys)]
            }
        }
        "ListClusters" | "DescribeClusterVersions" => vec![Request::of(&action)],
        _ => vec![on_cluster()],
    }
}

/// The tags of the EKS cluster or access entry with this ARN.
fn eks_object(st: &State, arn: &str) -> Option<Tags> {
    st.clusters.values().find_map(|c| {
        if c.body["arn"] == arn {
            return Some(map_tags(&c.body["tags"]));
        }
        c.access_entries
            .values()
            .find(|e| e["accessEntryArn"] == arn)
            .map(|e| map_tags(&e["tags"]))
    })
}

fn roles_anywhere_requests(st: &State, call: &Call<'_>) -> Vec<Request> {
    let action = call.action();
    let found =
        |objects: &BTreeMap<String, Json>, id: &str, kind: &str, arn_key: &str| match objects
            .get(id)
        {
            Some(o) => with_resource_tags(
                Request::of(&action).on(o[arn_key].as_str().unwrap_or_default()),
                &list_tags(&o["tags"]),
            ),
            None => {
                let arn = format!(
                    "arn:{}:rolesanywhere:{}:{ACCOUNT}:{kind}/{id}",
                    call.partition(),
                    call.region
                );
                Request::of(&action).on(arn).of_missing_object()
            }
        };
    match call.operation {
        "CreateTrustAnchor" | "CreateProfile" => vec![with_request_tags(
            Request::of(&action),
            &list_tags(&call.input["tags"]),
        )],
        "TagResource" | "UntagResource" | "ListTagsForResource" => {
            let arn = call.text("resourceArn");
            let object = st
                .trust_anchors
                .values()
                .chain(st.profiles.values())
                .find(|o| o["trustAnchorArn"] == arn || o["profileArn"] == arn);
            let Some(object) = object else {
                return vec![Request::of(&action).on(arn).of_missing_object()];
            };
            let req = with_resource_tags(Request::of(&action).on(arn), &list_tags(&object["tags"]));
            match call.operation {
                "TagResource" => vec![with_request_tags(req, &list_tags(&call.input["tags"]))],
                "UntagResource" => {
                    let keys = call.input["tagKeys"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect();
                    vec![req.with_all("aws:TagKeys", keys)]
                }
                _ => vec![req],
            }
        }
        _ => {
            let anchor = call.input["trustAnchorId"].as_str();
            let profile = call.input["profileId"].as_str();
            match (anchor, profile) {
                (Some(id), _) => vec![found(
                    &st.trust_anchors,
                    id,
                    "trust-anchor",
                    "trustAnchorArn",
                )],
                (_, Some(id)) => vec![found(&st.profiles, id, "profile", "profileArn")],
                _ => vec![Request::of(&action)],
            }
        }
    }
}

fn ssm_requests(st: &State, call: &Call<'_>) -> Vec<Request> {
    let action = call.action();
    match call.operation {
        "CreateActivation" => vec![with_request_tags(
            Request::of(&action),
            &list_tags(&call.input["Tags"]),
        )],
        "DeregisterManagedInstance" => {
            let id = call.text("InstanceId");
            let arn = format!(
                "arn:{}:ssm:{}:{ACCOUNT}:managed-instance/{id}",
                call.partition(),
                call.region
            );
            let req = Request::of(&action).on(arn);
            match st.managed_instances.get(id) {
                Some(node) => vec![with_resource_tags(req, &list_tags(&node["_tags"]))],
                None => vec![req.of_missing_object()],
            }
        }
        _ => vec![Request::of(action)],
    }
}

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

/// The `iam:PassRole` requests of a call that hands roles to a service.
pub fn pass_role_requests(call: &Call<'_>) -> Vec<Request> {
    let input = call.input;
    let (to, roles) = match (call.service, call.operation) {
        ("eks", "CreateCluster") => ("eks.amazonaws.com", vec![input["roleArn"].clone()]),
        ("ssm", "CreateActivation") => {
            // SSM takes the role's name with its path and forms the ARN from it.
            let arn = input["IamRole"]
                .as_str()
                .map(|r| format!("arn:{}:iam::{ACCOUNT}:role/{r}", partition_of(call.region)));
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

    fn call<'a>(
        service: &'a str,
        operation: &'a str,
        region: &'a str,
        input: &'a Json,
    ) -> Call<'a> {
        Call {
            service,
            operation,
            region,
            params: &[],
            input,
        }
    }

    fn passed(service: &str, operation: &str, region: &str, body: &str) -> Vec<(String, String)> {
        let input: Json = serde_json::from_str(body).unwrap();
        pass_role_requests(&call(service, operation, region, &input))
            .into_iter()
            .map(|r| {
                (
                    r.resource.clone().unwrap(),
                    r.values("iam:PassedToService").unwrap()[0].clone(),
                )
            })
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

    #[test]
    fn ids_are_typed_by_their_longest_prefix() {
        assert_eq!(
            ec2_type_of("tgw-attach-0123"),
            Some("transit-gateway-attachment")
        );
        assert_eq!(ec2_type_of("tgw-0123"), Some("transit-gateway"));
        assert_eq!(ec2_type_of("eipalloc-1"), Some("elastic-ip"));
        assert_eq!(ec2_type_of("i-1"), None);
    }

    #[test]
    fn creates_carry_their_request_tags_and_ask_to_tag() {
        let params: Vec<(String, String)> = [
            ("Action", "CreateVpc"),
            ("TagSpecification.1.ResourceType", "vpc"),
            (
                "TagSpecification.1.Tag.1.Key",
                "terraform-provider-eks/cluster",
            ),
            ("TagSpecification.1.Tag.1.Value", "demo"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let c = Call {
            service: "ec2",
            operation: "CreateVpc",
            region: "us-west-2",
            params: &params,
            input: &Json::Null,
        };
        let moto = Moto::new("http://127.0.0.1:1");
        let reqs = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(ec2_requests(&moto, &c));
        assert_eq!(reqs.len(), 2);
        assert_eq!(
            reqs[0].resource.as_deref(),
            Some("arn:aws:ec2:us-west-2:123456789012:vpc/*")
        );
        assert_eq!(
            reqs[0].values("aws:RequestTag/terraform-provider-eks/cluster"),
            Some(&["demo".to_string()][..])
        );
        assert_eq!(reqs[1].action, "ec2:CreateTags");
        assert_eq!(
            reqs[1].values("ec2:CreateAction"),
            Some(&["CreateVpc".to_string()][..])
        );
    }
}
