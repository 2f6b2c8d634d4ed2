//! Startup: process start to the go-plugin handshake line, median of 20, with AutoMTLS (a fresh
//! certificate every time), as Terraform launches the provider. Prints the figure.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{client_cert_pem, COOKIE};

fn launch(env: &[(&str, &str)]) -> (Duration, String, i32) {
    common::launch_plugin(Path::new(env!("CARGO_BIN_EXE_terraform-provider-eks")), env)
}

#[test]
fn handshake_line_median_of_20() {
    let pem = client_cert_pem();
    let mut times: Vec<Duration> = (0..20)
        .map(|_| {
            let (t, line, _) = launch(&[
                COOKIE,
                ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
                ("PLUGIN_MIN_PORT", "10000"),
                ("PLUGIN_MAX_PORT", "25000"),
                ("PLUGIN_CLIENT_CERT", &pem),
            ]);
            let fields: Vec<&str> = line.trim().split('|').collect();
            assert_eq!(fields.len(), 6, "{line}");
            assert_eq!(&fields[..3], ["1", "6", "tcp"]);
            let port: u16 = fields[3].rsplit(':').next().unwrap().parse().unwrap();
            assert!(
                fields[3].starts_with("127.0.0.1:") && (10000..=25000).contains(&port),
                "{line}"
            );
            assert!(
                !fields[5].is_empty() && !fields[5].ends_with('='),
                "unpadded base64 certificate: {line}"
            );
            t
        })
        .collect();
    times.sort();
    let median = times[10];
    println!("provider startup to handshake line: median {:.1} ms, min {:.1} ms, max {:.1} ms (20 runs, debug build)", median.as_secs_f64() * 1e3, times[0].as_secs_f64() * 1e3, times[19].as_secs_f64() * 1e3);
    assert!(
        median < Duration::from_millis(500),
        "startup too slow: {median:?}"
    );
}

#[test]
fn refuses_to_run_outside_terraform() {
    let (_, line, code) = launch(&[]);
    assert!(line.is_empty());
    assert_eq!(code, 1);
    let out = Command::new(env!("CARGO_BIN_EXE_terraform-provider-eks"))
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("This binary is a plugin"));
}

#[test]
fn refuses_a_protocol_it_does_not_speak() {
    let out = Command::new(env!("CARGO_BIN_EXE_terraform-provider-eks"))
        .env_clear()
        .env(COOKIE.0, COOKIE.1)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("protocol 6") && err.contains("[5]"), "{err}");
}
