//! The IAM Roles Anywhere trust anchor's certificate bundle: what AWS accepts, checked before
//! any call. Error texts never echo the bundle itself.

use x509_parser::pem::Pem;

/// AWS's limit on `x509CertificateData`: botocore's `rolesanywhere` model
/// (SourceDataX509CertificateDataString, max 204,800). Older API reference pages said 8,000.
pub const MAX_BUNDLE_CHARS: usize = 204_800;

pub fn check_ca_bundle(pem: &str) -> Result<(), String> {
    if pem.len() > MAX_BUNDLE_CHARS {
        return Err(format!(
            "The bundle is {} characters; IAM Roles Anywhere accepts at most {MAX_BUNDLE_CHARS}.",
            pem.len()
        ));
    }
    let mut count = 0;
    for (i, block) in Pem::iter_from_buffer(pem.as_bytes()).enumerate() {
        let block = block.map_err(|e| format!("PEM block {} cannot be read: {e}.", i + 1))?;
        if block.label.contains("PRIVATE KEY") {
            return Err(format!(
                "PEM block {} is a private key. The trust anchor needs only the CA certificate: \
                 never put private keys in Terraform configuration.",
                i + 1
            ));
        }
        if block.label != "CERTIFICATE" {
            return Err(format!(
                "PEM block {} is a {:?}, not a CERTIFICATE.",
                i + 1,
                block.label
            ));
        }
        let cert = block
            .parse_x509()
            .map_err(|e| format!("Certificate {} is not valid X.509: {e}.", i + 1))?;
        if let Some(why) = refused_by_roles_anywhere(&cert) {
            return Err(format!("Certificate {} ({}) {why}", i + 1, cert.subject()));
        }
        if !cert.is_ca() {
            return Err(format!(
                "Certificate {} ({}) is not a CA certificate (basicConstraints CA:TRUE is missing); \
                 a trust anchor must be the CA that issues the nodes' certificates.",
                i + 1,
                cert.subject()
            ));
        }
        count += 1;
    }
    if count == 0 {
        return Err("No PEM certificate found (expected -----BEGIN CERTIFICATE-----).".into());
    }
    Ok(())
}

/// Whether two bundles hold the same certificates, whatever their PEM layout (line breaks,
/// spacing, order): AWS may hand back the data re-encoded. Unreadable PEM compares as text.
pub fn same_certificates(a: &str, b: &str) -> bool {
    fn der_of(pem: &str) -> Option<std::collections::BTreeSet<Vec<u8>>> {
        Pem::iter_from_buffer(pem.as_bytes())
            .map(|block| block.ok().map(|b| b.contents))
            .collect()
    }
    match (der_of(a), der_of(b)) {
        (Some(x), Some(y)) if !x.is_empty() => x == y,
        _ => a.trim() == b.trim(),
    }
}

/// Signature algorithms IAM Roles Anywhere rejects: MD5 and SHA-1 ("Signature validation"
/// in its user guide's trust model: SHA256 or stronger). OIDs from RFC 3279 and RFC 5758.
const WEAK_SIGNATURES: [(&str, &str); 5] = [
    ("1.2.840.113549.1.1.4", "MD5 with RSA"),
    ("1.2.840.113549.1.1.5", "SHA-1 with RSA"),
    ("1.2.840.10045.4.1", "ECDSA with SHA-1"),
    ("1.2.840.10040.4.3", "DSA with SHA-1"),
    ("1.3.14.3.2.29", "SHA-1 with RSA"),
];

/// What IAM Roles Anywhere checks of a trust anchor's certificate beyond the CA flag (its
/// user guide, "Signature validation"): an X.509 v3 certificate, signed with SHA-256 or
/// stronger; and, as RFC 5280 4.2.1.3 requires of any CA, a key usage extension (when there
/// is one) that allows signing certificates.
fn refused_by_roles_anywhere(
    cert: &x509_parser::certificate::X509Certificate<'_>,
) -> Option<String> {
    if cert.version() != x509_parser::x509::X509Version::V3 {
        return Some("is not an X.509 v3 certificate; IAM Roles Anywhere accepts only v3.".into());
    }
    let oid = cert.signature_algorithm.algorithm.to_id_string();
    if let Some((_, name)) = WEAK_SIGNATURES.iter().find(|(o, _)| *o == oid) {
        return Some(format!("is signed with {name}; IAM Roles Anywhere rejects MD5 and SHA-1 signatures (SHA-256 or stronger)."));
    }
    if let Ok(Some(usage)) = cert.key_usage() {
        if !usage.value.key_cert_sign() {
            return Some("has a key usage without Certificate Sign, so it cannot issue the nodes' certificates (RFC 5280, 4.2.1.3).".into());
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Hybrid CA");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    fn leaf_pem() -> String {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params = rcgen::CertificateParams::new(vec!["node".to_string()]).unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn bundles_compare_by_their_certificates_not_their_layout() {
        let (a, b) = (ca_pem(), ca_pem());
        let both = format!("{a}{b}");
        let reordered = format!("{b}\n\n{}", a.replace('\n', "\r\n"));
        assert!(same_certificates(&both, &reordered));
        assert!(same_certificates(&a, &format!("{a}\n")));
        assert!(!same_certificates(&a, &b));
        assert!(!same_certificates(&a, &both));
    }

    #[test]
    fn accepts_ca_certificates() {
        assert_eq!(check_ca_bundle(&ca_pem()), Ok(()));
        assert_eq!(
            check_ca_bundle(&format!("{}{}", ca_pem(), ca_pem())),
            Ok(())
        );
    }

    #[test]
    fn refuses_leaf_garbage_keys_and_oversize() {
        assert!(check_ca_bundle(&leaf_pem())
            .unwrap_err()
            .contains("not a CA"));
        assert!(check_ca_bundle("hello")
            .unwrap_err()
            .contains("No PEM certificate"));
        let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let e = check_ca_bundle(key).unwrap_err();
        assert!(e.contains("private key") && !e.contains("AAAA"));
        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(check_ca_bundle(garbage)
            .unwrap_err()
            .contains("not valid X.509"));
        assert!(check_ca_bundle(&"x".repeat(204_801))
            .unwrap_err()
            .contains("at most 204800"));
        let bundle: String = (0..20).map(|_| ca_pem()).collect();
        assert!(bundle.len() > 8000 && check_ca_bundle(&bundle).is_ok());
    }

    /// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha1 -addext
    /// basicConstraints=critical,CA:TRUE`: a CA signed with ECDSA and SHA-1 (OpenSSL 3.0).
    const SHA1_CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBeDCCASCgAwIBAgIUOScQnm6xZOjms8J/MIU0O/Tvs5wwCQYHKoZIzj0EATAT\nMREwDwYDVQQDDAhTSEEtMSBDQTAeFw0yNjEyMDQwNzE3MDVaFw0zNjEyMDEwNzE3\nMDVaMBMxETAPBgNVBAMMCFNIQS0xIENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcD\nQgAE0mjtoG6oCdtOFqTcq/NeHzbU0M/lc7S2LtUb3rKSOp8C3jXxpNtMztjlycnE\nzE4SLJVTt0+PDhfSqN5TXia72KNTMFEwHQYDVR0OBBYEFHxmYqo2cwZp2Tnz0FMP\nkO91GnuqMB8GA1UdIwQYMBaAFHxmYqo2cwZp2Tnz0FMPkO91GnuqMA8GA1UdEwEB\n/wQFMAMBAf8wCQYHKoZIzj0EAQNHADBEAiAkUjuBr4OxeLUion9UPJLBi+mkLNuK\nsWIKchQ8aRK3VwIgEmYnafRYU7mLk+ie7iqF2U6JiB7p1dwkzbXlvyLYB7Q=\n-----END CERTIFICATE-----\n";

    /// `openssl x509 -req -signkey` without extensions: an X.509 v1 certificate.
    const V1_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----\nMIIBGzCBwQIUNuPyOoxs9KJHLybIXbVdGrgzviMwCgYIKoZIzj0EAwIwEDEOMAwG\nA1UEAwwFdjEgQ0EwHhcNMjYxMjA0MDcxNzA1WhcNMzYxMjAxMDcxNzA1WjAQMQ4w\nDAYDVQQDDAV2MSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNJo7aBuqAnb\nThak3KvzXh821NDP5XO0ti7VG96ykjqfAt418aTbTM7Y5cnJxMxOEiyVU7dPjw4X\n0qjeU14mu9gwCgYIKoZIzj0EAwIDSQAwRgIhAKpOW3E/WvEXQmd+mNfz/Qyt7OVl\n0IZgKeVZ8txziL6tAiEA+FO6I4qZrQYEDu5C+cObpW+Bi8TDJR9vL/RaCjj0eAE=\n-----END CERTIFICATE-----\n";

    fn ca_with(usages: Vec<rcgen::KeyUsagePurpose>) -> String {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = usages;
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn refuses_what_roles_anywhere_refuses_beyond_the_ca_flag() {
        use rcgen::KeyUsagePurpose::*;
        assert!(check_ca_bundle(&ca_with(vec![KeyCertSign, CrlSign])).is_ok());
        let e = check_ca_bundle(&ca_with(vec![DigitalSignature])).unwrap_err();
        assert!(e.contains("without Certificate Sign"), "{e}");
        let e = check_ca_bundle(SHA1_CA).unwrap_err();
        assert!(e.contains("signed with ECDSA with SHA-1"), "{e}");
        let e = check_ca_bundle(V1_CERTIFICATE).unwrap_err();
        assert!(e.contains("not an X.509 v3 certificate"), "{e}");
    }
}
