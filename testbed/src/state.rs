//! The testbed's shared state: emulated objects, fault rules, latency and the call log.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use tokio::sync::Mutex;

use crate::eks::Cluster;

/// moto's default account, so ARNs agree across the emulators.
pub const ACCOUNT: &str = "123456789012";

#[derive(Clone, Debug)]
pub struct Timing {
    pub eks_create: Duration,
    pub eks_delete: Duration,
    pub eks_update: Duration,
    /// How long NAT gateways and transit gateway attachments take to become available or
    /// deleted (0: at once, as moto does).
    pub ec2_settle: Duration,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Fault {
    /// `service:Operation`, e.g. `eks:CreateCluster`, `ec2:CreateVpc`; `*` matches any.
    pub operation: String,
    /// Fail only the Nth matching call (1-based).
    #[serde(default)]
    pub nth: Option<u64>,
    /// Fail this fraction of matching calls (0..1), when `nth` is not set.
    #[serde(default)]
    pub fraction: Option<f64>,
    #[serde(default = "default_code")]
    pub code: String,
    #[serde(default = "default_status")]
    pub status: u16,
    /// Drop the connection instead of answering.
    #[serde(default)]
    pub drop: bool,
    #[serde(default, skip_deserializing)]
    pub seen: u64,
}

fn default_code() -> String {
    "InternalFailure".into()
}

fn default_status() -> u16 {
    500
}

#[derive(Clone, Debug, Serialize)]
pub struct Call {
    pub service: String,
    pub operation: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub status: u16,
}

pub struct State {
    pub clusters: BTreeMap<String, Cluster>,
    pub trust_anchors: BTreeMap<String, Json>,
    pub profiles: BTreeMap<String, Json>,
    pub activations: BTreeMap<String, Json>,
    pub faults: Vec<Fault>,
    pub latency: Duration,
    pub calls: Vec<Call>,
    pub timing: Timing,
    pub settling: crate::settle::Settling,
    pub epoch: Instant,
}

pub type Shared = Arc<Mutex<State>>;

impl State {
    pub fn new(timing: Timing) -> State {
        State {
            clusters: BTreeMap::new(),
            trust_anchors: BTreeMap::new(),
            profiles: BTreeMap::new(),
            activations: BTreeMap::new(),
            faults: Vec::new(),
            latency: Duration::ZERO,
            calls: Vec::new(),
            timing,
            settling: Default::default(),
            epoch: Instant::now(),
        }
    }

    /// The fault to inject for this call, if a rule fires.
    pub fn fault_for(&mut self, service: &str, operation: &str) -> Option<Fault> {
        let key = format!("{service}:{operation}");
        for f in &mut self.faults {
            if f.operation != "*" && f.operation != key {
                continue;
            }
            f.seen += 1;
            let fire = match (f.nth, f.fraction) {
                (Some(n), _) => f.seen == n,
                (None, Some(p)) => rand::random::<f64>() < p,
                (None, None) => true,
            };
            if fire {
                return Some(f.clone());
            }
        }
        None
    }

    pub fn ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing() -> Timing {
        Timing {
            eks_create: Duration::ZERO,
            eks_delete: Duration::ZERO,
            eks_update: Duration::ZERO,
            ec2_settle: Duration::ZERO,
        }
    }

    #[test]
    fn nth_rule_fires_once() {
        let mut s = State::new(timing());
        s.faults.push(Fault {
            operation: "ec2:CreateVpc".into(),
            nth: Some(2),
            fraction: None,
            code: "X".into(),
            status: 500,
            drop: false,
            seen: 0,
        });
        assert!(s.fault_for("ec2", "CreateVpc").is_none());
        assert!(s.fault_for("ec2", "DeleteVpc").is_none());
        assert_eq!(
            s.fault_for("ec2", "CreateVpc").map(|f| f.code),
            Some("X".into())
        );
        assert!(s.fault_for("ec2", "CreateVpc").is_none());
    }

    #[test]
    fn fraction_rule_fires_about_that_often() {
        let mut s = State::new(timing());
        s.faults.push(Fault {
            operation: "*".into(),
            nth: None,
            fraction: Some(0.3),
            code: "ThrottlingException".into(),
            status: 400,
            drop: false,
            seen: 0,
        });
        let fired = (0..2000)
            .filter(|_| s.fault_for("eks", "DescribeCluster").is_some())
            .count();
        assert!((450..750).contains(&fired), "{fired}");
    }
}
