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
}
