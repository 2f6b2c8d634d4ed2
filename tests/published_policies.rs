//! What the holder of a published policy (`docs/iam/terraform-{ssm,ira}.json`) can do beyond
//! running the provider: each way to widen its own rights is tried through the AWS SDK,
//! against the testbed evaluating the policy as IAM does (resources, tags, permissions
//! boundaries, explicit denies), and each must be denied. The unbounded policies
//! (`*-unbounded.json`) are shown to be admin-equivalent, as the README says.

mod common;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use common::{Testbed, BOUNDARY_ARN};

const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const OWNERSHIP: &str = "terraform-provider-eks/cluster";
/// The caller the testbed serves, as a role trusting it would name it.
const HOLDER: &str = "arn:aws:iam::123456789012:user/testbed";

async fn sdk(tb: &Testbed) -> aws_config::SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .endpoint_url(&tb.url)
        .region(aws_config::Region::new("us-west-2"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await
}

fn trusting_the_holder() -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{HOLDER}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

/// A denial as each protocol words it.
fn denied<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    what: &str,
    r: Result<T, E>,
) {
    match r {
        Ok(v) => panic!("{what} was allowed: {v:?}"),
        Err(e) => assert!(
            matches!(
                e.code(),
                Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation")
            ),
            "{what}: {e:?}"
        ),
    }
}

/// What someone else owns in the account: a VPC with a subnet, a cluster, a role for
/// anything, a Roles Anywhere trust anchor; made as an administrator would (unrestricted).
struct Theirs {
    vpc: String,
    subnet: String,
    cluster: String,
    role: String,
    anchor: Option<String>,
}

async fn theirs(tb: &Testbed) -> Theirs {
    let x = tb.query("ec2", "Action=CreateVpc&CidrBlock=10.9.0.0/16");
    let vpc = common::xml_values(&x, "vpcId")[0].clone();
    let x = tb.query(
        "ec2",
        &format!(
            "Action=CreateSubnet&VpcId={vpc}&CidrBlock=10.9.1.0/24&AvailabilityZone=us-west-2a"
        ),
    );
    let subnet = common::xml_values(&x, "subnetId")[0].clone();
    let role = common::role(tb, "their-admin", "ec2.amazonaws.com");
    let cluster_role = common::role(tb, "their-cluster-role", "eks.amazonaws.com");
    tb.query(
        "iam",
        "Action=AttachRolePolicy&RoleName=their-cluster-role&PolicyArn=arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
    );
    let sdk = sdk(tb).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    let x = tb.query(
        "ec2",
        &format!(
            "Action=CreateSubnet&VpcId={vpc}&CidrBlock=10.9.2.0/24&AvailabilityZone=us-west-2b"
        ),
    );
    let subnet_b = common::xml_values(&x, "subnetId")[0].clone();
    // Made while the caller is not yet restricted, as its owner would.
    let made = loop {
        let r = eks
            .create_cluster()
            .name("theirs")
            .role_arn(&cluster_role)
            .resources_vpc_config(
                aws_sdk_eks::types::VpcConfigRequest::builder()
                    .subnet_ids(&subnet)
                    .subnet_ids(&subnet_b)
                    .build(),
            )
            .send()
            .await;
        match r {
            Ok(out) => break out.cluster().unwrap().arn().unwrap().to_string(),
            // The role is not visible to EKS for the propagation window.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    };
    let ra = aws_sdk_rolesanywhere::Client::new(&sdk);
    let anchor = ra
        .create_trust_anchor()
        .name("theirs")
        .source(
            aws_sdk_rolesanywhere::types::Source::builder()
                .source_type(aws_sdk_rolesanywhere::types::TrustAnchorType::CertificateBundle)
                .source_data(
                    aws_sdk_rolesanywhere::types::SourceData::X509CertificateData(common::ca_pem()),
                )
                .build(),
        )
        .enabled(true)
        .send()
        .await
        .ok()
        .and_then(|o| {
            o.trust_anchor()
                .and_then(|t| t.trust_anchor_id())
                .map(str::to_string)
        });
    Theirs {
        vpc,
        subnet,
        cluster: made,
        role,
        anchor,
    }
}

async fn escalation_is_denied_under(name: &str) {
    let tb = common::testbed();
    let theirs = theirs(&tb).await;
    common::restrict_to(&tb, name);
    let sdk = sdk(&tb).await;
    let (iam, ec2, eks) = (
        aws_sdk_iam::Client::new(&sdk),
        aws_sdk_ec2::Client::new(&sdk),
        aws_sdk_eks::Client::new(&sdk),
    );
    let role = "escalate-eks-cluster-role";
    let create = |boundary: Option<&str>| {
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(trusting_the_holder())
            .set_permissions_boundary(boundary.map(str::to_string))
            .send()
    };
    denied("a role of our name without a boundary", create(None).await);
    denied(
        "a role whose boundary is AdministratorAccess",
        create(Some(ADMIN)).await,
    );
    // With the boundary the holder may make one (that is what the provider does), but it can
    // do at most what the boundary allows, and the boundary stays.
    create(Some(BOUNDARY_ARN))
        .await
        .expect("a role with the boundary");
    denied(
        "AdministratorAccess attached to it",
        iam.attach_role_policy()
            .role_name(role)
            .policy_arn(ADMIN)
            .send()
            .await,
    );
    denied(
        "its boundary removed",
        iam.delete_role_permissions_boundary()
            .role_name(role)
            .send()
            .await,
    );
    denied(
        "its boundary replaced by AdministratorAccess",
        iam.put_role_permissions_boundary()
            .role_name(role)
            .permissions_boundary(ADMIN)
            .send()
            .await,
    );
    denied(
        "the boundary policy rewritten",
        iam.create_policy_version()
            .policy_arn(BOUNDARY_ARN)
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
            .set_as_default(true)
            .send()
            .await,
    );
    denied(
        "an inline policy on a role that is not ours",
        iam.put_role_policy()
            .role_name("their-admin")
            .policy_name("x")
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
            .send()
            .await,
    );
    denied(
        "their VPC deleted",
        ec2.delete_vpc().vpc_id(&theirs.vpc).send().await,
    );
    denied(
        "their subnet deleted",
        ec2.delete_subnet().subnet_id(&theirs.subnet).send().await,
    );
    denied(
        "their VPC tagged as ours, to delete it next",
        ec2.create_tags()
            .resources(&theirs.vpc)
            .tags(
                aws_sdk_ec2::types::Tag::builder()
                    .key(OWNERSHIP)
                    .value("x")
                    .build(),
            )
            .send()
            .await,
    );
    denied(
        "their cluster deleted",
        eks.delete_cluster().name("theirs").send().await,
    );
    denied(
        "their cluster tagged as ours",
        eks.tag_resource()
            .resource_arn(&theirs.cluster)
            .tags(OWNERSHIP, "theirs")
            .send()
            .await,
    );
    denied(
        "an unrelated role passed to EKS",
        eks.create_cluster()
            .name("escalate")
            .role_arn(&theirs.role)
            .tags(OWNERSHIP, "escalate")
            .resources_vpc_config(aws_sdk_eks::types::VpcConfigRequest::builder().build())
            .send()
            .await,
    );
    if name == "ira" {
        let ra = aws_sdk_rolesanywhere::Client::new(&sdk);
        denied(
            "their trust anchor deleted",
            ra.delete_trust_anchor()
                .trust_anchor_id(theirs.anchor.as_deref().expect("their anchor"))
                .send()
                .await,
        );
    } else {
        let ssm = aws_sdk_ssm::Client::new(&sdk);
        denied(
            "an activation for an unrelated role",
            ssm.create_activation().iam_role("their-admin").send().await,
        );
    }
    let denials = tb.denied_calls();
    assert!(denials.len() >= 12, "{denials:?}");
}

#[tokio::test]
async fn the_ssm_policy_cannot_make_its_holder_admin_or_touch_what_others_made() {
    escalation_is_denied_under("ssm").await;
}

#[tokio::test]
async fn the_ira_policy_cannot_make_its_holder_admin_or_touch_what_others_made() {
    escalation_is_denied_under("ira").await;
}

/// The README calls the unbounded policies admin-equivalent: their holder makes a role of the
/// provider's name that trusts it and attaches AdministratorAccess.
#[tokio::test]
async fn the_unbounded_policies_are_admin_equivalent() {
    for name in ["ssm-unbounded", "ira-unbounded"] {
        let tb = common::testbed();
        common::restrict_to(&tb, name);
        let iam = aws_sdk_iam::Client::new(&sdk(&tb).await);
        let role = "escalate-eks-cluster-role";
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(trusting_the_holder())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        iam.attach_role_policy()
            .role_name(role)
            .policy_arn(ADMIN)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert!(tb.denied_calls().is_empty(), "{name}");
    }
}
