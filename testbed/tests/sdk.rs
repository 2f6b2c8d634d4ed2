//! The testbed as aws-sdk-rust sees it: every EKS and Roles Anywhere operation it owns, AWS's
//! validations and error codes, forwarding to moto, and each kind of injected fault.

mod common;

use std::time::{Duration, Instant};

use common::{ca_pem, sdk, Testbed};

use aws_sdk_eks::types::{
    AuthenticationMode, CreateAccessConfigRequest, KubernetesNetworkConfigRequest,
    RemoteNetworkConfigRequest, RemoteNodeNetwork, RemotePodNetwork, VpcConfigRequest,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

fn start() -> Testbed {
    common::start(&[
        "--exact",
        "--eks-create-ms",
        "200",
        "--eks-delete-ms",
        "200",
        "--eks-update-ms",
        "200",
    ])
}

struct Network {
    vpc: String,
    subnets: Vec<String>,
    role_arn: String,
}

async fn network(sdk: &aws_config::SdkConfig) -> Network {
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let iam = aws_sdk_iam::Client::new(sdk);
    let vpc = ec2
        .create_vpc()
        .cidr_block("192.168.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let mut subnets = vec![];
    for (cidr, az) in [
        ("192.168.0.0/24", "us-west-2a"),
        ("192.168.1.0/24", "us-west-2b"),
    ] {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .availability_zone(az)
            .send()
            .await
            .unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = iam
        .create_role()
        .role_name("cluster")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("cluster")
        .policy_arn("arn:aws:iam::aws:policy/AmazonEKSClusterPolicy")
        .send()
        .await
        .unwrap();
    Network {
        vpc,
        subnets,
        role_arn: role.role().unwrap().arn().to_string(),
    }
}

fn create_request(
    eks: &aws_sdk_eks::Client,
    net: &Network,
    name: &str,
    node_cidr: &str,
) -> aws_sdk_eks::operation::create_cluster::builders::CreateClusterFluentBuilder {
    eks.create_cluster()
        .name(name)
        .role_arn(&net.role_arn)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .set_subnet_ids(Some(net.subnets.clone()))
                .build(),
        )
        .access_config(
            CreateAccessConfigRequest::builder()
                .authentication_mode(AuthenticationMode::Api)
                .build(),
        )
        .remote_network_config(
            RemoteNetworkConfigRequest::builder()
                .remote_node_networks(RemoteNodeNetwork::builder().cidrs(node_cidr).build())
                .remote_pod_networks(RemotePodNetwork::builder().cidrs("10.86.30.0/23").build())
                .build(),
        )
}

async fn wait_status(eks: &aws_sdk_eks::Client, name: &str, want: Option<&str>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = eks.describe_cluster().name(name).send().await;
        let status = r
            .as_ref()
            .ok()
            .and_then(|o| o.cluster())
            .and_then(|c| c.status())
            .map(|s| s.as_str().to_string());
        if status.as_deref() == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "cluster {name} never reached {want:?}, is {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn eks_clusters_behave_and_validate_like_aws() {
    let tb = start();
    let sdk = sdk(&tb).await;
    let net = network(&sdk).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    let ec2 = aws_sdk_ec2::Client::new(&sdk);

    let created = create_request(&eks, &net, "c1", "10.80.146.0/24")
        .send()
        .await
        .unwrap();
    let c = created.cluster().unwrap();
    assert_eq!(c.status().unwrap().as_str(), "CREATING");
    wait_status(&eks, "c1", Some("ACTIVE")).await;
    let c = eks
        .describe_cluster()
        .name("c1")
        .send()
        .await
        .unwrap()
        .cluster()
        .unwrap()
        .clone();
    let vpc_cfg = c.resources_vpc_config().unwrap();
    assert_eq!(vpc_cfg.vpc_id(), Some(net.vpc.as_str()));
    let sg = vpc_cfg.cluster_security_group_id().unwrap().to_string();
    assert_eq!(
        ec2.describe_security_groups()
            .group_ids(&sg)
            .send()
            .await
            .unwrap()
            .security_groups()
            .len(),
        1,
        "cluster SG is real"
    );
    assert_eq!(
        c.kubernetes_network_config().unwrap().service_ipv4_cidr(),
        Some("10.100.0.0/16")
    );
    assert_eq!(
        c.access_config()
            .unwrap()
            .authentication_mode()
            .unwrap()
            .as_str(),
        "API"
    );
    assert_eq!(
        c.remote_network_config().unwrap().remote_node_networks()[0].cidrs(),
        ["10.80.146.0/24"]
    );
    assert!(
        c.arn().unwrap().ends_with(":cluster/c1")
            && c.endpoint().is_some()
            && c.certificate_authority().is_some()
    );
    assert_eq!(eks.list_clusters().send().await.unwrap().clusters(), ["c1"]);

    let dup = create_request(&eks, &net, "c1", "10.80.146.0/24")
        .send()
        .await
        .unwrap_err();
    assert_eq!(dup.code(), Some("ResourceInUseException"));
    for (cidr, message) in [
        ("192.168.5.0/24", "overlaps with VPC CIDR 192.168.0.0/16"),
        ("8.8.8.0/24", "RFC-1918"),
        ("10.100.1.0/24", "overlaps with service CIDR"),
        ("10.86.31.0/24", "overlaps with remote node network"),
    ] {
        let e = create_request(&eks, &net, "bad", cidr)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("InvalidParameterException"), "{cidr}");
        assert!(
            e.message().unwrap().contains(message),
            "{cidr}: {:?}",
            e.message()
        );
    }
    let e = create_request(&eks, &net, "bad", "10.1.0.0/24")
        .access_config(
            CreateAccessConfigRequest::builder()
                .authentication_mode(AuthenticationMode::ConfigMap)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(e
        .message()
        .unwrap()
        .contains("AccessConfig AuthMode must be API_AND_CONFIG_MAP or API"));
    let one_az = Network {
        vpc: net.vpc.clone(),
        subnets: vec![net.subnets[0].clone()],
        role_arn: net.role_arn.clone(),
    };
    let e = create_request(&eks, &one_az, "bad", "10.1.0.0/24")
        .send()
        .await
        .unwrap_err();
    assert!(e.message().unwrap().contains("at least two different AZs"));
    let ghost = Network {
        vpc: net.vpc.clone(),
        subnets: vec!["subnet-0123456789abcdef0".into(), net.subnets[1].clone()],
        role_arn: net.role_arn.clone(),
    };
    let e = create_request(&eks, &ghost, "bad", "10.1.0.0/24")
        .send()
        .await
        .unwrap_err();
    assert!(e.message().unwrap().contains("subnet-0123456789abcdef0"));
    let no_role = Network {
        role_arn: "arn:aws:iam::123456789012:role/nope".into(),
        ..Network {
            vpc: net.vpc.clone(),
            subnets: net.subnets.clone(),
            role_arn: String::new(),
        }
    };
    let e = create_request(&eks, &no_role, "bad", "10.1.0.0/24")
        .send()
        .await
        .unwrap_err();
    assert!(e.message().unwrap().contains("does not exist"));
    let e = create_request(&eks, &net, "bad", "10.1.0.0/24")
        .kubernetes_network_config(
            KubernetesNetworkConfigRequest::builder()
                .service_ipv4_cidr("10.1.0.0/16")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(e.message().unwrap().contains("service CIDR"));

    // Updates: one minor version at a time, one update at a time.
    let up = eks
        .update_cluster_version()
        .name("c1")
        .version("1.34")
        .send()
        .await
        .unwrap();
    let id = up.update().unwrap().id().unwrap().to_string();
    let busy = eks
        .update_cluster_config()
        .name("c1")
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .endpoint_private_access(true)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(busy.code(), Some("ResourceInUseException"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while eks
        .describe_update()
        .name("c1")
        .update_id(&id)
        .send()
        .await
        .unwrap()
        .update()
        .unwrap()
        .status()
        .unwrap()
        .as_str()
        != "Successful"
    {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_status(&eks, "c1", Some("ACTIVE")).await;
    let skip = eks
        .update_cluster_version()
        .name("c1")
        .version("1.36")
        .send()
        .await
        .unwrap_err();
    assert_eq!(skip.code(), Some("InvalidParameterException"));
    eks.update_cluster_config()
        .name("c1")
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .endpoint_private_access(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let same = async {
        wait_status(&eks, "c1", Some("ACTIVE")).await;
        eks.update_cluster_config()
            .name("c1")
            .resources_vpc_config(
                VpcConfigRequest::builder()
                    .endpoint_private_access(true)
                    .build(),
            )
            .send()
            .await
    }
    .await
    .unwrap_err();
    assert!(same.message().unwrap().contains("No changes detected"));

    // Tags.
    let arn = c.arn().unwrap();
    eks.tag_resource()
        .resource_arn(arn)
        .tags("team", "edge")
        .tags("env", "t")
        .send()
        .await
        .unwrap();
    eks.untag_resource()
        .resource_arn(arn)
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let tags = eks
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().unwrap().get("team").map(String::as_str),
        Some("edge")
    );
    assert!(!tags.tags().unwrap().contains_key("env"));
    assert!(eks
        .describe_addon_versions()
        .send()
        .await
        .unwrap()
        .addons()
        .is_empty());

    // Access entries.
    let nodes_trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let iam = aws_sdk_iam::Client::new(&sdk);
    let nodes = iam
        .create_role()
        .role_name("nodes")
        .assume_role_policy_document(nodes_trust)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string();
    let e = eks
        .create_access_entry()
        .cluster_name("c1")
        .principal_arn(&nodes)
        .r#type("HYBRID_LINUX")
        .kubernetes_groups("admins")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterException"));
    let e = eks
        .create_access_entry()
        .cluster_name("c1")
        .principal_arn("arn:aws:iam::123456789012:role/ghost")
        .r#type("HYBRID_LINUX")
        .send()
        .await
        .unwrap_err();
    assert!(e.message().unwrap().contains("invalid principal"));
    let entry = eks
        .create_access_entry()
        .cluster_name("c1")
        .principal_arn(&nodes)
        .r#type("HYBRID_LINUX")
        .send()
        .await
        .unwrap();
    let entry = entry.access_entry().unwrap();
    assert_eq!(entry.kubernetes_groups(), ["system:nodes"]);
    assert_eq!(entry.username(), Some("system:node:{{SessionName}}"));
    let dup = eks
        .create_access_entry()
        .cluster_name("c1")
        .principal_arn(&nodes)
        .r#type("HYBRID_LINUX")
        .send()
        .await
        .unwrap_err();
    assert_eq!(dup.code(), Some("ResourceInUseException"));
    assert_eq!(
        eks.list_access_entries()
            .cluster_name("c1")
            .send()
            .await
            .unwrap()
            .access_entries(),
        std::slice::from_ref(&nodes)
    );
    assert_eq!(
        eks.describe_access_entry()
            .cluster_name("c1")
            .principal_arn(&nodes)
            .send()
            .await
            .unwrap()
            .access_entry()
            .unwrap()
            .r#type(),
        Some("HYBRID_LINUX")
    );
    let standard = net.role_arn.clone();
    eks.create_access_entry()
        .cluster_name("c1")
        .principal_arn(&standard)
        .send()
        .await
        .unwrap();
    let updated = eks
        .update_access_entry()
        .cluster_name("c1")
        .principal_arn(&standard)
        .kubernetes_groups("ops")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.access_entry().unwrap().kubernetes_groups(), ["ops"]);
    eks.delete_access_entry()
        .cluster_name("c1")
        .principal_arn(&nodes)
        .send()
        .await
        .unwrap();
    let gone = eks
        .describe_access_entry()
        .cluster_name("c1")
        .principal_arn(&nodes)
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Some("ResourceNotFoundException"));

    // Deletion takes the cluster security group with it.
    wait_status(&eks, "c1", Some("ACTIVE")).await;
    assert_eq!(
        eks.delete_cluster()
            .name("c1")
            .send()
            .await
            .unwrap()
            .cluster()
            .unwrap()
            .status()
            .unwrap()
            .as_str(),
        "DELETING"
    );
    wait_status(&eks, "c1", None).await;
    // A name that had a cluster answers EKS's other "not found".
    let e = eks.describe_cluster().name("c1").send().await.unwrap_err();
    assert_eq!(e.code(), Some("ClientException"));
    assert!(e
        .message()
        .unwrap()
        .contains("No cluster found for name: c1"));
    let sgs = ec2.describe_security_groups().send().await.unwrap();
    assert!(
        sgs.security_groups()
            .iter()
            .all(|g| g.group_id() != Some(sg.as_str())),
        "cluster SG deleted with the cluster"
    );
}

#[tokio::test]
async fn roles_anywhere_trust_anchors_and_profiles() {
    use aws_sdk_rolesanywhere::types::{Source, SourceData, TrustAnchorType};
    let tb = start();
    let sdk = sdk(&tb).await;
    let ra = aws_sdk_rolesanywhere::Client::new(&sdk);
    let source = |pem: String| {
        Source::builder()
            .source_type(TrustAnchorType::CertificateBundle)
            .source_data(SourceData::X509CertificateData(pem))
            .build()
    };

    for (pem, why) in [
        (ca_pem(false), "not a CA"),
        ("junk".to_string(), "no certificate"),
        ("x".repeat(204_801), "longer than the model's 204,800"),
    ] {
        let e = ra
            .create_trust_anchor()
            .name("a")
            .source(source(pem))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("ValidationException"), "{why}");
    }
    let e = ra
        .create_trust_anchor()
        .name("bad/name")
        .source(source(ca_pem(true)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));
    let anchor = ra
        .create_trust_anchor()
        .name("hybrid-CA")
        .source(source(ca_pem(true)))
        .enabled(true)
        .send()
        .await
        .unwrap();
    let anchor = anchor.trust_anchor().unwrap();
    let id = anchor.trust_anchor_id().unwrap().to_string();
    assert!(uuid_like(&id));
    assert_eq!(
        anchor.trust_anchor_arn(),
        Some(format!("arn:aws:rolesanywhere:us-west-2:123456789012:trust-anchor/{id}").as_str())
    );
    assert_eq!(anchor.enabled(), Some(true));
    assert!(anchor.created_at().is_some());
    ra.disable_trust_anchor()
        .trust_anchor_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ra.get_trust_anchor()
            .trust_anchor_id(&id)
            .send()
            .await
            .unwrap()
            .trust_anchor()
            .unwrap()
            .enabled(),
        Some(false)
    );
    ra.enable_trust_anchor()
        .trust_anchor_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ra.list_trust_anchors()
            .send()
            .await
            .unwrap()
            .trust_anchors()
            .len(),
        1
    );

    let role = "arn:aws:iam::123456789012:role/nodes";
    let e = ra
        .create_profile()
        .name("p")
        .role_arns(role)
        .duration_seconds(100)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));
    let e = ra
        .create_profile()
        .name("p")
        .role_arns("arn:aws:iam::123456789012:user/bob")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));
    let p = ra
        .create_profile()
        .name("hybrid")
        .role_arns(role)
        .accept_role_session_name(true)
        .enabled(true)
        .send()
        .await
        .unwrap();
    let p = p.profile().unwrap();
    let pid = p.profile_id().unwrap().to_string();
    assert_eq!(p.duration_seconds(), Some(3600));
    assert_eq!(p.accept_role_session_name(), Some(true));
    ra.disable_profile().profile_id(&pid).send().await.unwrap();
    assert_eq!(
        ra.get_profile()
            .profile_id(&pid)
            .send()
            .await
            .unwrap()
            .profile()
            .unwrap()
            .enabled(),
        Some(false)
    );
    ra.enable_profile().profile_id(&pid).send().await.unwrap();
    let longer = ra
        .update_profile()
        .profile_id(&pid)
        .duration_seconds(7200)
        .send()
        .await
        .unwrap();
    assert_eq!(longer.profile().unwrap().duration_seconds(), Some(7200));
    let e = ra
        .update_profile()
        .profile_id(&pid)
        .duration_seconds(50000)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));
    assert_eq!(ra.list_profiles().send().await.unwrap().profiles().len(), 1);

    let parn = p.profile_arn().unwrap().to_string();
    ra.tag_resource()
        .resource_arn(&parn)
        .tags(
            aws_sdk_rolesanywhere::types::Tag::builder()
                .key("team")
                .value("edge")
                .build()
                .unwrap(),
        )
        .tags(
            aws_sdk_rolesanywhere::types::Tag::builder()
                .key("env")
                .value("t")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    ra.untag_resource()
        .resource_arn(&parn)
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let tags = ra
        .list_tags_for_resource()
        .resource_arn(&parn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags()
            .iter()
            .map(|t| (t.key(), t.value()))
            .collect::<Vec<_>>(),
        [("team", "edge")]
    );

    ra.delete_profile().profile_id(&pid).send().await.unwrap();
    ra.delete_trust_anchor()
        .trust_anchor_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ra.get_profile()
            .profile_id(&pid)
            .send()
            .await
            .unwrap_err()
            .code(),
        Some("ResourceNotFoundException")
    );
    assert_eq!(
        ra.get_trust_anchor()
            .trust_anchor_id(&id)
            .send()
            .await
            .unwrap_err()
            .code(),
        Some("ResourceNotFoundException")
    );
}

/// A Private CA source: the CA must exist and be ACTIVE, that is have its CA certificate
/// installed; the source's data must be of its type (`SourceData` is a union).
#[tokio::test]
async fn roles_anywhere_trusts_a_private_ca_once_it_is_active() {
    use aws_sdk_acmpca::primitives::Blob;
    use aws_sdk_acmpca::types::{
        Asn1Subject, CertificateAuthorityConfiguration, CertificateAuthorityStatus,
        CertificateAuthorityType, KeyAlgorithm, SigningAlgorithm, Validity, ValidityPeriodType,
    };
    use aws_sdk_rolesanywhere::types::{Source, SourceData, TrustAnchorType};
    let tb = start();
    let sdk = sdk(&tb).await;
    let ra = aws_sdk_rolesanywhere::Client::new(&sdk);
    let pca = aws_sdk_acmpca::Client::new(&sdk);
    let ca = pca
        .create_certificate_authority()
        .certificate_authority_type(CertificateAuthorityType::Root)
        .certificate_authority_configuration(
            CertificateAuthorityConfiguration::builder()
                .key_algorithm(KeyAlgorithm::Rsa2048)
                .signing_algorithm(SigningAlgorithm::Sha256Withrsa)
                .subject(Asn1Subject::builder().common_name("Nodes CA").build())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .certificate_authority_arn()
        .unwrap()
        .to_string();
    let pca_source = |arn: &str| {
        Source::builder()
            .source_type(TrustAnchorType::AwsAcmPca)
            .source_data(SourceData::AcmPcaArn(arn.to_string()))
            .build()
    };
    let missing = format!(
        "{}00000000-0000-0000-0000-000000000000",
        &ca[..ca.len() - 36]
    );
    let mismatched = Source::builder()
        .source_type(TrustAnchorType::AwsAcmPca)
        .source_data(SourceData::X509CertificateData(ca_pem(true)))
        .build();
    for (source, why) in [
        (pca_source(&ca), "PENDING_CERTIFICATE"),
        (pca_source(&missing), "Could not find"),
        (mismatched, "must be acmPcaArn"),
    ] {
        let e = ra
            .create_trust_anchor()
            .name("a")
            .source(source)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("ValidationException"), "{why}");
        assert!(e.message().unwrap_or_default().contains(why), "{e:?}");
    }

    let csr = pca
        .get_certificate_authority_csr()
        .certificate_authority_arn(&ca)
        .send()
        .await
        .unwrap();
    let issued = pca
        .issue_certificate()
        .certificate_authority_arn(&ca)
        .csr(Blob::new(csr.csr().unwrap().as_bytes()))
        .signing_algorithm(SigningAlgorithm::Sha256Withrsa)
        .template_arn("arn:aws:acm-pca:::template/RootCACertificate/V1")
        .validity(
            Validity::builder()
                .r#type(ValidityPeriodType::Years)
                .value(1)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let certificate = pca
        .get_certificate()
        .certificate_authority_arn(&ca)
        .certificate_arn(issued.certificate_arn().unwrap())
        .send()
        .await
        .unwrap();
    pca.import_certificate_authority_certificate()
        .certificate_authority_arn(&ca)
        .certificate(Blob::new(certificate.certificate().unwrap().as_bytes()))
        .send()
        .await
        .unwrap();
    let described = pca
        .describe_certificate_authority()
        .certificate_authority_arn(&ca)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.certificate_authority().unwrap().status(),
        Some(&CertificateAuthorityStatus::Active)
    );
    let anchor = ra
        .create_trust_anchor()
        .name("hybrid-pca")
        .source(pca_source(&ca))
        .enabled(true)
        .send()
        .await
        .unwrap();
    let id = anchor.trust_anchor().unwrap().trust_anchor_id().unwrap();
    let got = ra
        .get_trust_anchor()
        .trust_anchor_id(id)
        .send()
        .await
        .unwrap();
    let source = got.trust_anchor().unwrap().source().unwrap();
    assert_eq!(source.source_type(), Some(&TrustAnchorType::AwsAcmPca));
    assert_eq!(source.source_data().unwrap().as_acm_pca_arn().unwrap(), &ca);
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn faults_latency_and_call_log() {
    let tb = start();
    let sdk = sdk(&tb).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let sts = aws_sdk_sts::Client::new(&sdk);

    // Nth call of one operation, REST-JSON and query protocols.
    tb.control(
        "POST",
        "faults",
        r#"{"operation":"eks:ListClusters","nth":2,"code":"ThrottlingException","status":400}"#,
    );
    eks.list_clusters().send().await.unwrap();
    assert_eq!(
        eks.list_clusters().send().await.unwrap_err().code(),
        Some("ThrottlingException")
    );
    eks.list_clusters().send().await.unwrap();
    tb.control(
        "POST",
        "faults",
        r#"{"operation":"ec2:CreateVpc","nth":1,"code":"InternalFailure","status":500}"#,
    );
    assert_eq!(
        ec2.create_vpc()
            .cidr_block("10.0.0.0/16")
            .send()
            .await
            .unwrap_err()
            .code(),
        Some("InternalFailure")
    );
    ec2.create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .unwrap();
    // A dropped connection.
    tb.control(
        "POST",
        "faults",
        r#"{"operation":"sts:GetCallerIdentity","nth":1,"drop":true}"#,
    );
    let e = sts.get_caller_identity().send().await.unwrap_err();
    assert!(
        matches!(
            e,
            aws_sdk_sts::error::SdkError::DispatchFailure(_)
                | aws_sdk_sts::error::SdkError::ResponseError(_)
        ),
        "{e:?}"
    );
    assert_eq!(
        sts.get_caller_identity().send().await.unwrap().account(),
        Some("123456789012")
    );
    // A fraction of calls.
    tb.control("DELETE", "faults", "");
    tb.control(
        "POST",
        "faults",
        r#"{"operation":"*","fraction":0.5,"code":"ThrottlingException","status":400}"#,
    );
    let mut failed = 0;
    for _ in 0..60 {
        if eks.list_clusters().send().await.is_err() {
            failed += 1;
        }
    }
    assert!(
        (15..=45).contains(&failed),
        "{failed} of 60 failed with fraction 0.5"
    );
    tb.control("DELETE", "faults", "");
    // Latency.
    tb.control("POST", "latency", r#"{"ms":150}"#);
    let t = Instant::now();
    eks.list_clusters().send().await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(150));
    tb.control("POST", "latency", r#"{"ms":0}"#);
    // The call log names service, operation and status.
    let calls = tb.control("GET", "calls", "")["calls"]
        .as_array()
        .unwrap()
        .clone();
    let find = |svc: &str, op: &str, status: u64| {
        calls
            .iter()
            .any(|c| c["service"] == svc && c["operation"] == op && c["status"] == status)
    };
    assert!(find("eks", "ListClusters", 400) && find("eks", "ListClusters", 200));
    assert!(find("ec2", "CreateVpc", 500) && find("ec2", "CreateVpc", 200));
    assert!(find("sts", "GetCallerIdentity", 200));
    assert!(calls
        .iter()
        .all(|c| c["end_ms"].as_u64() >= c["start_ms"].as_u64()));
    // Reset empties everything, moto included.
    tb.control("POST", "reset", "");
    assert!(tb.control("GET", "calls", "")["calls"]
        .as_array()
        .unwrap()
        .is_empty());
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    assert!(
        vpcs.vpcs().iter().all(|v| v.is_default() == Some(true)),
        "moto reset too"
    );
}
