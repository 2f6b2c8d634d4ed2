//! go-plugin's launch contract: magic cookie, protocol negotiation, port range, and the
//! handshake line Terraform reads from stdout.

use std::net::{Ipv4Addr, SocketAddr};

/// Terraform sets this cookie when it launches a provider; anything else is a person running
/// the binary by hand.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
pub const CORE_PROTOCOL_VERSION: u32 = 1;
pub const APP_PROTOCOL_VERSION: u32 = 6;

pub const NOT_A_PLUGIN_MESSAGE: &str =
    "This binary is a plugin. These are not meant to be executed directly.\n\
Please execute the program that consumes these plugins, which will\n\
load any plugins automatically";

#[derive(Debug, PartialEq)]
pub enum LaunchError {
    NotLaunchedByTerraform,
    UnsupportedProtocol(String),
    BadPortRange(String),
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaunchError::NotLaunchedByTerraform => f.write_str(NOT_A_PLUGIN_MESSAGE),
            LaunchError::UnsupportedProtocol(offered) => write!(
                f,
                "This provider speaks plugin protocol {APP_PROTOCOL_VERSION} only, but Terraform offered \
                 [{offered}]. Use Terraform 1.0 or later, or OpenTofu."
            ),
            LaunchError::BadPortRange(detail) => write!(f, "invalid plugin port range: {detail}"),
        }
    }
}

/// What the environment Terraform prepared tells the plugin.
#[derive(Debug, PartialEq)]
pub struct LaunchEnv {
    pub port_range: Option<(u16, u16)>,
    /// Terraform's client certificate (PEM) for AutoMTLS; None means plaintext (debug only).
    pub client_cert_pem: Option<String>,
}

pub fn read_launch_env(get: impl Fn(&str) -> Option<String>) -> Result<LaunchEnv, LaunchError> {
    if get(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(LaunchError::NotLaunchedByTerraform);
    }
    if let Some(offered) = get("PLUGIN_PROTOCOL_VERSIONS") {
        let supported = offered
            .split(',')
            .any(|v| v.trim().parse::<u32>() == Ok(APP_PROTOCOL_VERSION));
        if !supported {
            return Err(LaunchError::UnsupportedProtocol(offered));
        }
    }
    let port_range = match (get("PLUGIN_MIN_PORT"), get("PLUGIN_MAX_PORT")) {
        (Some(min), Some(max)) => {
            let parse = |s: &str| {
                s.trim()
                    .parse::<u16>()
                    .map_err(|_| LaunchError::BadPortRange(format!("{s:?} is not a port")))
            };
            let (min, max) = (parse(&min)?, parse(&max)?);
            if min > max {
                return Err(LaunchError::BadPortRange(format!("{min} > {max}")));
            }
            Some((min, max))
        }
        _ => None,
    };
    let client_cert_pem = get("PLUGIN_CLIENT_CERT").filter(|c| !c.trim().is_empty());
    Ok(LaunchEnv {
        port_range,
        client_cert_pem,
    })
}

/// Binds 127.0.0.1 on the first free port of the range (any free port without a range).
pub async fn bind_loopback(range: Option<(u16, u16)>) -> std::io::Result<tokio::net::TcpListener> {
    let (min, max) = range.unwrap_or((0, 0));
    let mut last_err = None;
    for port in min..=max {
        match tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await {
            Ok(listener) => return Ok(listener),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("empty port range")))
}

/// `CORE|APP|tcp|ADDR|grpc|CERT`, CERT being base64 (standard alphabet, no padding) DER.
/// The `TF_REATTACH_PROVIDERS` JSON for a provider served at `addr` under `-debug` (go-plugin's
/// ReattachConfig, as terraform-plugin-go prints it).
/// go-plugin's `ReattachConfig` for a provider serving on the unix socket `socket`.
pub fn reattach_config(address: &str, pid: u32, socket: &std::path::Path) -> String {
    serde_json::json!({
        address: {
            "Protocol": "grpc",
            "ProtocolVersion": 6,
            "Pid": pid,
            "Test": true,
            "Addr": {"Network": "unix", "String": socket.display().to_string()},
        }
    })
    .to_string()
}

pub fn handshake_line(addr: SocketAddr, server_cert_der: Option<&[u8]>) -> String {
    use base64::Engine;
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|{addr}|grpc|{cert}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn missing_or_wrong_cookie_is_refused() {
        assert_eq!(
            read_launch_env(env(&[])),
            Err(LaunchError::NotLaunchedByTerraform)
        );
        assert_eq!(
            read_launch_env(env(&[(MAGIC_COOKIE_KEY, "nope")])),
            Err(LaunchError::NotLaunchedByTerraform)
        );
        assert!(LaunchError::NotLaunchedByTerraform
            .to_string()
            .starts_with("This binary is a plugin"));
    }

    #[test]
    fn protocol_must_include_six() {
        let e = read_launch_env(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "4,5"),
        ]));
        assert_eq!(e, Err(LaunchError::UnsupportedProtocol("4,5".into())));
        let ok = read_launch_env(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
            ("PLUGIN_MIN_PORT", "10000"),
            ("PLUGIN_MAX_PORT", "25000"),
        ]))
        .unwrap();
        assert_eq!(ok.port_range, Some((10000, 25000)));
        assert_eq!(ok.client_cert_pem, None);
    }

    #[test]
    fn inverted_port_range_is_an_error() {
        let e = read_launch_env(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_MIN_PORT", "9"),
            ("PLUGIN_MAX_PORT", "2"),
        ]));
        assert!(matches!(e, Err(LaunchError::BadPortRange(_))));
    }

    #[test]
    fn handshake_line_has_unpadded_base64_cert() {
        let addr: SocketAddr = "127.0.0.1:1234".parse().unwrap();
        assert_eq!(
            handshake_line(addr, Some(&[1, 2, 3, 4])),
            "1|6|tcp|127.0.0.1:1234|grpc|AQIDBA"
        );
        assert_eq!(handshake_line(addr, None), "1|6|tcp|127.0.0.1:1234|grpc|");
    }

    #[tokio::test]
    async fn binds_within_the_range_on_loopback() {
        let first = bind_loopback(Some((0, 0))).await.unwrap();
        let port = first.local_addr().unwrap().port();
        let second = bind_loopback(Some((port, port.saturating_add(20))))
            .await
            .unwrap();
        let addr = second.local_addr().unwrap();
        assert!(addr.ip().is_loopback());
        assert!(addr.port() > port && addr.port() <= port + 20);
    }

    #[test]
    fn the_reattach_config_is_go_plugins() {
        let socket = std::path::Path::new("/tmp/terraform-provider-debug-7-0/plugin.sock");
        let v: serde_json::Value = serde_json::from_str(&reattach_config(
            "registry.terraform.io/local/eks",
            7,
            socket,
        ))
        .unwrap();
        let p = &v["registry.terraform.io/local/eks"];
        assert_eq!(p["Protocol"], "grpc");
        assert_eq!(p["ProtocolVersion"], 6);
        assert_eq!(p["Pid"], 7);
        assert_eq!(p["Test"], true);
        assert_eq!(p["Addr"]["Network"], "unix");
        assert_eq!(
            p["Addr"]["String"],
            "/tmp/terraform-provider-debug-7-0/plugin.sock"
        );
    }
}
