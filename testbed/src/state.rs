//! The testbed's shared state: emulated objects, what it models of AWS's timing, fault rules,
//! latency, the caller's allowed actions and the call log.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use tokio::sync::Mutex;

use crate::ec2::{Ec2Model, Windows};
use crate::eks::Cluster;
use crate::iam::IamWatch;
use crate::policy::{Policy, Request};

/// moto's default account, so ARNs agree across the emulators.
pub const ACCOUNT: &str = "123456789012";

/// How AWS's timing and paging are modelled. Every window is on by default, short enough for
/// the test suite; `--exact` sets them to 0 (moto's instant, single-page answers) for
/// unit-speed runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Knobs {
    pub eks_create: Duration,
    pub eks_delete: Duration,
    pub eks_update: Duration,
    /// NAT gateways and transit gateway attachments: pending after create, deleting after
    /// delete.
    pub ec2_settle: Duration,
    /// New EC2 IDs are unknown to other calls for this long.
    pub ec2_consistency: Duration,
    /// New roles and policy changes are not yet visible to EKS and SSM.
    pub iam_propagation: Duration,
    /// A deleted NAT gateway's address stays in use this long after it is gone.
    pub eip_in_use: Duration,
    /// Items per page of every paged List/Describe (0: one page).
    pub page_size: usize,
}

/// Knob names, as `--name-with-dashes N` arguments, `TESTBED_NAME` variables and keys of
/// `POST /_testbed/timing`.
pub const KNOBS: [&str; 8] = [
    "eks_create_ms",
    "eks_delete_ms",
    "eks_update_ms",
    "ec2_settle_ms",
    "ec2_consistency_ms",
    "iam_propagation_ms",
    "eip_in_use_ms",
    "page_size",
];

impl Default for Knobs {
    fn default() -> Knobs {
        let ms = Duration::from_millis;
        Knobs {
            eks_create: ms(1000),
            eks_delete: ms(500),
            eks_update: ms(500),
            ec2_settle: ms(300),
            ec2_consistency: ms(300),
            iam_propagation: ms(600),
            eip_in_use: ms(300),
            page_size: 2,
        }
    }
}

impl Knobs {
    /// No eventual consistency, propagation or settling, and single pages.
    pub fn exact(self) -> Knobs {
        Knobs {
            ec2_settle: Duration::ZERO,
            ec2_consistency: Duration::ZERO,
            iam_propagation: Duration::ZERO,
            eip_in_use: Duration::ZERO,
            page_size: 0,
            ..self
        }
    }

    /// Sets the knob `name` (one of [`KNOBS`]); false for an unknown name.
    pub fn set(&mut self, name: &str, value: u64) -> bool {
        let ms = Duration::from_millis(value);
        match name {
            "eks_create_ms" => self.eks_create = ms,
            "eks_delete_ms" => self.eks_delete = ms,
            "eks_update_ms" => self.eks_update = ms,
            "ec2_settle_ms" => self.ec2_settle = ms,
            "ec2_consistency_ms" => self.ec2_consistency = ms,
            "iam_propagation_ms" => self.iam_propagation = ms,
            "eip_in_use_ms" => self.eip_in_use = ms,
            "page_size" => self.page_size = value as usize,
            _ => return false,
        }
        true
    }

    pub fn ec2_windows(&self) -> Windows {
        Windows {
            consistency: self.ec2_consistency,
            settle: self.ec2_settle,
            eip_in_use: self.eip_in_use,
            page_size: self.page_size,
        }
    }
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

/// What AWS would have spent: each operation that takes minutes on AWS is charged its
/// typical duration on a simulated clock, without sleeping (the knobs above keep the
/// testbed's own waits short). Figures and their sources are in `docs/testbed.md`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AwsCost {
    /// Sum of the simulated durations of the long operations accepted, in minutes.
    pub aws_minutes: f64,
    /// `CreateCluster` calls that made a cluster.
    pub clusters_created: u32,
    /// Minutes charged per `service:Operation`.
    pub by_operation: BTreeMap<String, f64>,
}

/// AWS's typical duration, in minutes, of an operation that takes minutes: `docs/testbed.md`
/// ("The simulated AWS clock") gives the source of each.
pub fn aws_minutes_of(action: &str) -> Option<f64> {
    Some(match action {
        "eks:CreateCluster" => 10.0,
        "eks:DeleteCluster" => 5.0,
        "eks:UpdateClusterVersion" => 10.0,
        "eks:UpdateClusterConfig" => 5.0,
        "ec2:CreateNatGateway" => 2.0,
        "ec2:DeleteNatGateway" => 1.0,
        "ec2:CreateTransitGatewayVpcAttachment" => 2.0,
        "ec2:DeleteTransitGatewayVpcAttachment" => 1.0,
        "ec2:AttachVpnGateway" => 1.0,
        "ec2:DetachVpnGateway" => 1.0,
        _ => return None,
    })
}

impl AwsCost {
    /// Charges an accepted long operation (a call that only reports "already deleting" is
    /// not charged again: the caller decides).
    pub fn charge(&mut self, action: &str) {
        if let Some(minutes) = aws_minutes_of(action) {
            self.aws_minutes += minutes;
            *self.by_operation.entry(action.to_string()).or_default() += minutes;
        }
        if action == "eks:CreateCluster" {
            self.clusters_created += 1;
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Call {
    pub service: String,
    pub operation: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub status: u16,
    /// The AWS error code of a failed call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

pub struct State {
    pub clusters: BTreeMap<String, Cluster>,
    /// Names of clusters that were deleted: EKS then answers `ClientException: No cluster
    /// found for name` rather than ResourceNotFoundException.
    pub deleted_clusters: HashSet<String>,
    pub trust_anchors: BTreeMap<String, Json>,
    pub profiles: BTreeMap<String, Json>,
    pub activations: BTreeMap<String, Json>,
    /// Each activation's code, which a registering node presents.
    pub activation_codes: HashMap<String, String>,
    /// Hybrid nodes registered through an activation: SSM managed instances (`mi-…`).
    pub managed_instances: BTreeMap<String, Json>,
    pub faults: Vec<Fault>,
    pub latency: Duration,
    pub calls: Vec<Call>,
    pub cost: AwsCost,
    pub knobs: Knobs,
    pub ec2: Ec2Model,
    pub iam: IamWatch,
    /// Availability zones per region as this account sees them: (name, zone ID).
    pub zones: HashMap<String, Vec<(String, String)>>,
    /// The caller's identity-based policy; None allows everything.
    pub policy: Option<Policy>,
    pub epoch: Instant,
}

pub type Shared = Arc<Mutex<State>>;

impl State {
    pub fn new(knobs: Knobs) -> State {
        State {
            clusters: BTreeMap::new(),
            deleted_clusters: HashSet::new(),
            trust_anchors: BTreeMap::new(),
            profiles: BTreeMap::new(),
            activations: BTreeMap::new(),
            activation_codes: HashMap::new(),
            managed_instances: BTreeMap::new(),
            faults: Vec::new(),
            latency: Duration::ZERO,
            calls: Vec::new(),
            cost: AwsCost::default(),
            knobs,
            ec2: Ec2Model::default(),
            iam: IamWatch::default(),
            zones: HashMap::new(),
            policy: None,
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

    /// Whether the caller's policy allows the request.
    pub fn allows(&self, req: &Request) -> bool {
        self.policy.as_ref().is_none_or(|p| p.allows(req))
    }

    /// Whether a Deny statement of the caller's policy matches the request.
    pub fn denies_explicitly(&self, req: &Request) -> bool {
        self.policy.as_ref().is_some_and(|p| p.denies(req))
    }

    pub fn ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

/// The partition a region belongs to, which every ARN in it names (IAM user guide, "Identify
/// AWS resources with ARNs": `aws`, `aws-cn` for China, `aws-us-gov` for GovCloud; botocore's
/// `endpoints.json` gives each partition's region prefixes, as moto's `get_partition` does).
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// IAM is global within a partition; clients sign for the region its endpoint names
/// (botocore's `endpoints.json`: `us-east-1`, `us-gov-west-1`, `cn-north-1`).
pub fn iam_signing_region(region: &str) -> &'static str {
    match partition_of(region) {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        _ => "us-east-1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_operations_are_charged_their_aws_minutes_and_clusters_counted() {
        let mut cost = AwsCost::default();
        for action in ["eks:CreateCluster", "eks:DeleteCluster", "ec2:CreateVpc"] {
            cost.charge(action);
        }
        assert_eq!(cost.aws_minutes, 15.0);
        assert_eq!(cost.clusters_created, 1);
        assert_eq!(cost.by_operation.get("ec2:CreateVpc"), None);
    }

    #[test]
    fn nth_rule_fires_once() {
        let mut s = State::new(Knobs::default());
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
        let mut s = State::new(Knobs::default());
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

    #[test]
    fn the_policy_decides_once_one_is_set() {
        let mut s = State::new(Knobs::default());
        assert!(s.allows(&Request::of("rolesanywhere:ListTrustAnchors")));
        s.policy = Some(Policy::allowing(&["eks:*".into()]));
        assert!(s.allows(&Request::of("eks:DescribeCluster")));
        assert!(!s.allows(&Request::of("rolesanywhere:ListTrustAnchors")));
    }

    #[test]
    fn regions_name_their_partition() {
        assert_eq!(partition_of("us-west-2"), "aws");
        assert_eq!(partition_of("cn-northwest-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn knobs_are_set_by_name_and_exact_turns_realism_off() {
        let mut k = Knobs::default();
        for name in KNOBS {
            assert!(k.set(name, 7), "{name}");
        }
        assert!(!k.set("nope", 1));
        assert_eq!(k.page_size, 7);
        let exact = Knobs::default().exact();
        assert_eq!(exact.ec2_consistency, Duration::ZERO);
        assert_eq!(exact.page_size, 0);
        assert_eq!(exact.eks_create, Knobs::default().eks_create);
    }
}
