//! Calls the testbed makes to moto for what EKS does in EC2 and checks in IAM.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// What authorization reads of a role.
pub struct Role {
    pub arn: String,
    pub tags: Vec<(String, String)>,
    pub boundary: Option<String>,
}

#[derive(Clone)]
pub struct Moto {
    pub url: String,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

use crate::xml::values as xml_values;

/// A SigV4 header naming `service` and `region` (moto reads them, not the signature).
pub(crate) fn authorization(service: &str, region: &str) -> String {
    format!("AWS4-HMAC-SHA256 Credential=test/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0")
}

impl Moto {
    pub fn new(url: &str) -> Moto {
        Moto {
            url: url.trim_end_matches('/').to_string(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    pub async fn forward(
        &self,
        req: hyper::Request<Bytes>,
    ) -> Result<hyper::Response<Bytes>, String> {
        let (mut parts, body) = req.into_parts();
        let pq = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        parts.uri = format!("{}{pq}", self.url)
            .parse()
            .map_err(|e| format!("{e}"))?;
        parts.headers.remove("host");
        let resp = self
            .client
            .request(hyper::Request::from_parts(parts, Full::new(body)))
            .await
            .map_err(|e| format!("moto unreachable: {e}"))?;
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok(hyper::Response::from_parts(parts, bytes))
    }

    /// A query-protocol call (EC2 or IAM) in `region`; returns (status, body).
    pub async fn query(
        &self,
        service: &str,
        region: &str,
        params: &[(&str, String)],
    ) -> Result<(u16, String), String> {
        let version = if service == "ec2" {
            "2016-11-15"
        } else {
            "2010-05-08"
        };
        let form = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("Version", version);
            for (k, v) in params {
                form.append_pair(k, v);
            }
            form.finish()
        };
        let req = hyper::Request::post(format!("{}/", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", authorization(service, region))
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| e.to_string())?;
        let (status, body) = self.send(req).await?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// One request to moto; its status and body.
    async fn send(&self, req: hyper::Request<Full<Bytes>>) -> Result<(u16, Bytes), String> {
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| format!("moto unreachable: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    }

    pub async fn reset(&self) -> Result<(), String> {
        let req = hyper::Request::post(format!("{}/moto-api/reset", self.url))
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        self.client.request(req).await.map_err(|e| e.to_string())?;
        Ok(())
    }

    /// (vpc_id, availability_zone) of each subnet, or the first subnet ID that does not exist.
    pub async fn subnets(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Result<Vec<(String, String)>, String>, String> {
        let mut out = Vec::new();
        for id in ids {
            let (status, body) = self
                .query(
                    "ec2",
                    region,
                    &[
                        ("Action", "DescribeSubnets".into()),
                        ("SubnetId.1", id.clone()),
                    ],
                )
                .await?;
            let vpc = xml_values(&body, "vpcId");
            let az = xml_values(&body, "availabilityZone");
            if status != 200 || vpc.is_empty() {
                return Ok(Err(id.clone()));
            }
            out.push((vpc[0].clone(), az.first().cloned().unwrap_or_default()));
        }
        Ok(Ok(out))
    }

    pub async fn vpc_cidrs(&self, region: &str, vpc_id: &str) -> Result<Vec<String>, String> {
        let (_, body) = self
            .query(
                "ec2",
                region,
                &[
                    ("Action", "DescribeVpcs".into()),
                    ("VpcId.1", vpc_id.into()),
                ],
            )
            .await?;
        let mut cidrs = xml_values(&body, "cidrBlock");
        cidrs.dedup();
        Ok(cidrs)
    }

    /// GetRole's answer, or None when the role does not exist.
    async fn get_role(&self, region: &str, name: &str) -> Result<Option<String>, String> {
        let (status, body) = self
            .query(
                "iam",
                region,
                &[("Action", "GetRole".into()), ("RoleName", name.into())],
            )
            .await?;
        Ok((status == 200).then_some(body))
    }

    /// The role's ARN, tags and permissions boundary, or None when the role does not exist.
    pub async fn role_details(&self, region: &str, name: &str) -> Result<Option<Role>, String> {
        let Some(body) = self.get_role(region, name).await? else {
            return Ok(None);
        };
        let tags = xml_values(&body, "Tags")
            .first()
            .map(|t| {
                xml_values(t, "member")
                    .iter()
                    .filter_map(|m| {
                        let key = xml_values(m, "Key").into_iter().next()?;
                        let value = xml_values(m, "Value")
                            .into_iter()
                            .next()
                            .unwrap_or_default();
                        Some((key, value))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(Role {
            arn: xml_values(&body, "Arn")
                .into_iter()
                .next()
                .unwrap_or_default(),
            tags,
            boundary: xml_values(&body, "PermissionsBoundaryArn")
                .into_iter()
                .next(),
        }))
    }

    /// One field of the role, or None when the role does not exist.
    async fn role_field(
        &self,
        region: &str,
        name: &str,
        field: &str,
    ) -> Result<Option<String>, String> {
        let body = self.get_role(region, name).await?;
        Ok(body.and_then(|b| xml_values(&b, field).into_iter().next()))
    }

    /// The role's trust policy document (URL-decoded), or None when the role does not exist.
    pub async fn role_trust(&self, region: &str, name: &str) -> Result<Option<String>, String> {
        let doc = self
            .role_field(region, name, "AssumeRolePolicyDocument")
            .await?;
        Ok(doc.map(|d| crate::http::url_decode(&d)))
    }

    /// The role's ARN (with its path), or None when the role does not exist.
    pub async fn role_arn(&self, region: &str, name: &str) -> Result<Option<String>, String> {
        self.role_field(region, name, "Arn").await
    }

    /// The role's unique ID (`AROA…`), or None when the role does not exist.
    pub async fn role_id(&self, region: &str, name: &str) -> Result<Option<String>, String> {
        self.role_field(region, name, "RoleId").await
    }

    /// ARNs of the managed policies attached to the role.
    pub async fn attached_policies(&self, region: &str, name: &str) -> Result<Vec<String>, String> {
        let (_, body) = self
            .query(
                "iam",
                region,
                &[
                    ("Action", "ListAttachedRolePolicies".into()),
                    ("RoleName", name.into()),
                ],
            )
            .await?;
        Ok(xml_values(&body, "PolicyArn"))
    }

    /// Names of the role's inline policies.
    pub async fn inline_policies(&self, region: &str, name: &str) -> Result<Vec<String>, String> {
        let (_, body) = self
            .query(
                "iam",
                region,
                &[
                    ("Action", "ListRolePolicies".into()),
                    ("RoleName", name.into()),
                ],
            )
            .await?;
        Ok(xml_values(&body, "member"))
    }

    pub async fn create_security_group(
        &self,
        region: &str,
        vpc_id: &str,
        name: &str,
        description: &str,
    ) -> Result<String, String> {
        let (status, body) = self
            .query(
                "ec2",
                region,
                &[
                    ("Action", "CreateSecurityGroup".into()),
                    ("GroupName", name.into()),
                    ("GroupDescription", description.into()),
                    ("VpcId", vpc_id.into()),
                ],
            )
            .await?;
        xml_values(&body, "groupId")
            .into_iter()
            .next()
            .ok_or(format!("CreateSecurityGroup failed ({status}): {body}"))
    }

    pub async fn delete_security_group(&self, region: &str, group_id: &str) -> Result<(), String> {
        self.query(
            "ec2",
            region,
            &[
                ("Action", "DeleteSecurityGroup".into()),
                ("GroupId", group_id.into()),
            ],
        )
        .await?;
        Ok(())
    }
}

impl Moto {
    /// The status of an AWS Private CA (`ACMPrivateCA.DescribeCertificateAuthority`, JSON 1.1),
    /// None when moto has no such CA. The CA's region is the ARN's.
    pub async fn private_ca_status(&self, arn: &str) -> Result<Option<String>, String> {
        let region = arn.split(':').nth(3).unwrap_or("us-east-1");
        let body = serde_json::json!({ "CertificateAuthorityArn": arn }).to_string();
        let req = hyper::Request::post(format!("{}/", self.url))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "ACMPrivateCA.DescribeCertificateAuthority")
            .header("authorization", authorization("acm-pca", region))
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let (status, bytes) = self.send(req).await?;
        let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        match status {
            200 => Ok(answer["CertificateAuthority"]["Status"]
                .as_str()
                .map(str::to_string)),
            400 if answer["__type"]
                .as_str()
                .is_some_and(|t| t.ends_with("ResourceNotFoundException")) =>
            {
                Ok(None)
            }
            _ => Err(format!(
                "moto answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            )),
        }
    }
}
