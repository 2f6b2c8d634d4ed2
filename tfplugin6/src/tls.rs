//! AutoMTLS as go-plugin does it: a fresh self-signed server certificate per process, and a
//! client certificate that must be exactly the one Terraform handed us in PLUGIN_CLIENT_CERT.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

pub struct ServerIdentity {
    pub cert_der: Vec<u8>,
    pub config: Arc<rustls::ServerConfig>,
}

#[derive(Debug)]
pub struct TlsSetupError(pub String);

impl std::fmt::Display for TlsSetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TLS setup failed: {}", self.0)
    }
}

fn crypto() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the server side of AutoMTLS from Terraform's client certificate (PEM).
pub fn server_identity(client_cert_pem: &str) -> Result<ServerIdentity, TlsSetupError> {
    let client_cert = parse_single_pem_cert(client_cert_pem)?;
    let (cert_der, key_der) = self_signed_localhost_cert()?;
    let verifier = Arc::new(PinnedClientCert {
        expected: client_cert,
        crypto: crypto(),
    });
    let mut config = rustls::ServerConfig::builder_with_provider(crypto())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der)),
        )
        .map_err(|e| TlsSetupError(e.to_string()))?;
    // grpc-go clients insist on ALPN h2.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(ServerIdentity {
        cert_der,
        config: Arc::new(config),
    })
}

fn parse_single_pem_cert(pem: &str) -> Result<CertificateDer<'static>, TlsSetupError> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| {
        TlsSetupError(format!(
            "PLUGIN_CLIENT_CERT is not a PEM certificate: {e:?}"
        ))
    })
}

/// Mirrors go-plugin's generated certificate: SAN localhost, usable by both ends.
fn self_signed_localhost_cert() -> Result<(Vec<u8>, Vec<u8>), TlsSetupError> {
    let err = |e: rcgen::Error| TlsSetupError(e.to_string());
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(err)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).map_err(err)?;
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "HashiCorp");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyAgreement,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::seconds(30);
    // go-plugin's certificates last 262,980 hours (about 30 years, `mtls.go`): a provider
    // serving for days (`-debug`, a long apply) must not see its certificate expire.
    params.not_after = now + time::Duration::hours(CERT_VALID_HOURS);
    let cert = params.self_signed(&key).map_err(err)?;
    Ok((cert.der().to_vec(), key.serialize_der()))
}

/// go-plugin's validity for its AutoMTLS certificates (`mtls.go`, generateCert).
const CERT_VALID_HOURS: i64 = 262_980;

/// Accepts exactly one client certificate, byte for byte, and checks the peer holds its key.
/// Path validation is pointless for a pinned self-signed certificate (and webpki would reject
/// go-plugin's CA-flagged leaf).
#[derive(Debug)]
struct PinnedClientCert {
    expected: CertificateDer<'static>,
    crypto: Arc<CryptoProvider>,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if dss.scheme == SignatureScheme::ECDSA_NISTP521_SHA512 {
            return verify_p521(message, cert, dss);
        }
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.crypto.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if dss.scheme == SignatureScheme::ECDSA_NISTP521_SHA512 {
            return verify_p521(message, cert, dss);
        }
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.crypto.signature_verification_algorithms,
        )
    }

    /// Go advertises a client certificate only if the server accepts its key type, and
    /// go-plugin's certificates are ECDSA P-521, which ring cannot verify.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        let mut schemes = self
            .crypto
            .signature_verification_algorithms
            .supported_schemes();
        schemes.push(SignatureScheme::ECDSA_NISTP521_SHA512);
        schemes
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }
}

/// Checks an ECDSA P-521/SHA-512 handshake signature against the certificate's public key.
fn verify_p521(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    use p521::ecdsa::signature::Verifier;
    let bad = || rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature);
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).map_err(|_| bad())?;
    let key =
        p521::ecdsa::VerifyingKey::from_sec1_bytes(&parsed.public_key().subject_public_key.data)
            .map_err(|_| bad())?;
    let signature = p521::ecdsa::Signature::from_der(dss.signature()).map_err(|_| bad())?;
    key.verify(message, &signature).map_err(|_| bad())?;
    Ok(HandshakeSignatureValid::assertion())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn the_server_certificate_lasts_as_long_as_go_plugins() {
        let (der, _) = self_signed_localhost_cert().unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let validity = cert.validity();
        let lasts = validity.not_after.timestamp() - validity.not_before.timestamp();
        let years = lasts as f64 / (365.25 * 24.0 * 3600.0);
        assert!(years > 29.9, "valid for {years:.2} years");
    }

    /// Trusts exactly the server certificate the plugin printed, as go-plugin's client does.
    #[derive(Debug)]
    struct PinnedServer(Vec<u8>, Arc<CryptoProvider>);

    impl ServerCertVerifier for PinnedServer {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            if end_entity.as_ref() == self.0.as_slice() {
                Ok(ServerCertVerified::assertion())
            } else {
                Err(rustls::Error::General(
                    "unexpected server certificate".into(),
                ))
            }
        }
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(m, c, d, &self.1.signature_verification_algorithms)
        }
        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(m, c, d, &self.1.signature_verification_algorithms)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.1.signature_verification_algorithms.supported_schemes()
        }
    }

    fn client_identity() -> (String, CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (
            cert.pem(),
            cert.der().clone(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    }

    /// Runs one TLS handshake plus a byte of application data against a server that requires
    /// `expected_client_pem`; returns whether the exchange succeeded and the negotiated ALPN.
    async fn exchange(
        expected_client_pem: &str,
        client: Option<(CertificateDer<'static>, PrivateKeyDer<'static>)>,
    ) -> (bool, Option<Vec<u8>>) {
        let identity = server_identity(expected_client_pem).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(identity.config.clone());
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = acceptor.accept(tcp).await.ok()?;
            let mut b = [0u8; 1];
            tls.read_exact(&mut b).await.ok()?;
            tls.write_all(&b).await.ok()?;
            Some(())
        });
        let builder = rustls::ClientConfig::builder_with_provider(crypto())
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedServer(
                identity.cert_der.clone(),
                crypto(),
            )));
        let mut config = match client {
            Some((cert, key)) => builder.with_client_auth_cert(vec![cert], key).unwrap(),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"h2".to_vec()];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let result = async {
            let mut tls = connector
                .connect(ServerName::try_from("localhost").unwrap(), tcp)
                .await
                .ok()?;
            let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
            tls.write_all(b"x").await.ok()?;
            let mut b = [0u8; 1];
            tls.read_exact(&mut b).await.ok()?;
            Some(alpn)
        }
        .await;
        let served = server.await.unwrap();
        match result {
            Some(alpn) if served.is_some() => (true, alpn),
            _ => (false, None),
        }
    }

    #[tokio::test]
    async fn terraforms_certificate_is_accepted_with_h2() {
        let (pem, cert, key) = client_identity();
        let (ok, alpn) = exchange(&pem, Some((cert, key))).await;
        assert!(ok);
        assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
    }

    #[tokio::test]
    async fn client_without_certificate_is_refused() {
        let (pem, _, _) = client_identity();
        assert!(!exchange(&pem, None).await.0);
    }

    #[tokio::test]
    async fn client_with_another_certificate_is_refused() {
        let (pem, _, _) = client_identity();
        let (_, other_cert, other_key) = client_identity();
        assert!(!exchange(&pem, Some((other_cert, other_key))).await.0);
    }

    #[test]
    fn server_certificate_names_localhost_and_p521_is_offered() {
        let (pem, _, _) = client_identity();
        let identity = server_identity(&pem).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&identity.cert_der).unwrap();
        let san = cert.subject_alternative_name().unwrap().unwrap();
        assert!(format!("{:?}", san.value).contains("localhost"));
        let verifier = PinnedClientCert {
            expected: CertificateDer::from(vec![]),
            crypto: crypto(),
        };
        assert!(verifier
            .supported_verify_schemes()
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }

    #[test]
    fn garbage_client_certificate_is_a_setup_error() {
        assert!(server_identity("not a pem").is_err());
    }
}
