//! aws-testbed: a local AWS for the provider's tests and demo. See `server.rs`.

#![forbid(unsafe_code)]

use aws_testbed::server::{self, Config};
use aws_testbed::state::{Knobs, KNOBS};

fn arg(name: &str, env: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var(env).ok())
}

/// Every knob as `--eks-create-ms N` or `TESTBED_EKS_CREATE_MS=N`; `--exact` first turns
/// eventual consistency, propagation, settling and paging off.
fn knobs() -> Knobs {
    let mut knobs = Knobs::default();
    if std::env::args().any(|a| a == "--exact") {
        knobs = knobs.exact();
    }
    for name in KNOBS {
        let flag = format!("--{}", name.replace('_', "-"));
        let env = format!("TESTBED_{}", name.to_uppercase());
        if let Some(v) = arg(&flag, &env).and_then(|v| v.parse().ok()) {
            knobs.set(name, v);
        }
    }
    knobs
}

#[tokio::main]
async fn main() {
    let config = Config {
        port: arg("--port", "TESTBED_PORT")
            .and_then(|p| p.parse().ok())
            .unwrap_or(0),
        knobs: knobs(),
        moto_url: arg("--moto-url", "TESTBED_MOTO_URL"),
        moto_server: std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".into()),
        botocore_data: arg("--botocore-data", "TESTBED_BOTOCORE_DATA").map(Into::into),
    };
    std::process::exit(server::run(config).await);
}
