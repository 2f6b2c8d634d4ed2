//! `action "eks_hybrid_nodes_deregister"`: deregisters the SSM managed instances that hybrid
//! nodes became when they registered through a cluster's activations, the resource's own
//! `ssm_activation` and `eks_hybrid_activation`s alike (each node carries the activation's
//! `EKSClusterARN` tag, "tags assigned to the activation are applied to the managed node",
//! SSM API reference, CreateActivation). A node reimaged or retired stays registered until
//! deregistered, counting against the account's 1,000 standard-tier managed instances and
//! billed in the advanced tier. Either the nodes SSM has not heard from for `offline_for`, or
//! `all_nodes`. One progress line per node says what happened to it.

use std::time::{Duration, SystemTime};

use tfplugin6::action::{ActionPlan, Progress};
use tfplugin6::resource::{ClientCapabilities, Deferral};
use tfplugin6::schema::{Attribute, Block, Schema, Type};
use tfplugin6::validators::string_rule;
use tfplugin6::{async_trait, Action, AttrPath, Diagnostics, Value};
use tokio_util::sync::CancellationToken;

use crate::aws::ssm::{self, ManagedNode};
use crate::aws::sts;
use crate::aws::{AwsClients, AwsResult};
use crate::cluster::policies::CLUSTER_ARN_TAG;
use crate::cluster::spec::parse_duration;
use crate::provider::ProviderData;
use crate::provider::{report::report, rules};

pub const TYPE_NAME: &str = "eks_hybrid_nodes_deregister";
const CLUSTER_NAME: &str = "cluster_name";
const OFFLINE_FOR: &str = "offline_for";
const ALL_NODES: &str = "all_nodes";

pub struct NodesDeregister {
    data: ProviderData,
}

impl NodesDeregister {
    pub fn new(data: ProviderData) -> NodesDeregister {
        NodesDeregister { data }
    }
}

/// Which nodes go.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Which {
    /// Those not `Online` whose agent last reached SSM longer ago than this.
    OfflineFor(Duration),
    All,
}

fn offline_for_rule() -> tfplugin6::validators::StringRule {
    string_rule("A Go duration such as `72h`.", |s, path, d| {
        if parse_duration(s).is_none_or(|t| t.is_zero()) {
            d.error_at(
                path.clone(),
                "Invalid offline_for",
                format!("{s:?} is not a duration such as \"30m\" or \"72h\"."),
            );
        }
    })
}

fn which(config: &Value) -> Option<Which> {
    match (config.get(ALL_NODES), config.get(OFFLINE_FOR).as_str()) {
        (Value::Bool(true), _) => Some(Which::All),
        (_, Some(s)) => parse_duration(s).map(Which::OfflineFor),
        _ => None,
    }
}

#[async_trait]
impl Action for NodesDeregister {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("Deregisters from SSM the hybrid nodes registered through a cluster's SSM activations (the managed instances tagged `EKSClusterARN` with the cluster's ARN): those SSM has not heard from for `offline_for`, or `all_nodes`. Streams one line per node. Terraform 1.14+ (`terraform apply -invoke=action.eks_hybrid_nodes_deregister.<name>`, or a resource's `lifecycle.action_trigger`); OpenTofu has no actions.")
                .attribute(
                    Attribute::string("The EKS cluster whose nodes go. The cluster need not exist any more: its ARN is built from the caller's account, partition and region.")
                        .named(CLUSTER_NAME)
                        .required()
                        .validator(rules::cluster_name()),
                )
                .attribute(
                    Attribute::string("Deregister the nodes whose SSM agent is not `Online` and last reached SSM longer ago than this Go duration (`72h`). Online nodes are kept.")
                        .named(OFFLINE_FOR)
                        .optional()
                        .validator(offline_for_rule()),
                )
                .attribute(
                    Attribute::of(Type::Bool, "Deregister every node, online or not (a cluster being retired). Exactly one of this and `offline_for`.")
                        .named(ALL_NODES)
                        .optional(),
                ),
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::default();
        let all = config.get(ALL_NODES);
        let offline = config.get(OFFLINE_FOR);
        if all.is_unknown() || offline.is_unknown() {
            return d;
        }
        match (all, offline.is_null()) {
            (Value::Bool(true), false) => d.error_at(
                AttrPath::root(OFFLINE_FOR),
                "Two selections",
                "all_nodes = true deregisters every node: remove offline_for, or set all_nodes = false.",
            ),
            (Value::Bool(true), true) => {}
            (_, true) => d.error_at(
                AttrPath::root(OFFLINE_FOR),
                "Which nodes?",
                "Give offline_for (nodes SSM has not heard from for that long, such as \"72h\") or all_nodes = true.",
            ),
            _ => {}
        }
        d
    }

    /// The protocol's answer has only diagnostics: the nodes that would go, as of this plan,
    /// are a warning, so the run shows them before it is approved.
    async fn plan(&self, config: &Value, client: ClientCapabilities) -> ActionPlan {
        let Some(aws) = self.data.aws_if_known().await else {
            return ActionPlan {
                diagnostics: Diagnostics::default(),
                deferred: client.defer_if(true, Deferral::ProviderConfigUnknown),
            };
        };
        let mut diagnostics = Diagnostics::default();
        if let (Some(cluster), Some(which)) = (config.get(CLUSTER_NAME).as_str(), which(config)) {
            preview(&aws, cluster, which, &mut diagnostics).await;
        }
        ActionPlan {
            diagnostics,
            deferred: None,
        }
    }

    async fn invoke(
        &self,
        config: Value,
        progress: &Progress,
        cancel: CancellationToken,
    ) -> Diagnostics {
        let aws = match self.data.aws().await {
            Ok(a) => a,
            Err(d) => return d,
        };
        let name = config.get(CLUSTER_NAME).as_str().unwrap_or_default();
        let Some(which) = which(&config) else {
            return self.validate(&config);
        };
        deregister(&aws, name, which, progress, cancel).await
    }
}

/// The cluster's ARN (from STS's account and partition and the provider's region, so it
/// needs no cluster) and the nodes registered through its activations, by ID.
async fn nodes_of(aws: &AwsClients, cluster: &str) -> AwsResult<(String, Vec<ManagedNode>)> {
    let id = sts::caller(aws).await?;
    let arn = format!(
        "arn:{}:eks:{}:{}:cluster/{cluster}",
        id.partition, aws.region, id.account
    );
    let mut nodes = ssm::managed_nodes_tagged(&aws.ssm, CLUSTER_ARN_TAG, &arn).await?;
    nodes.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((arn, nodes))
}

/// At plan: which nodes an invocation now would deregister. Nodes may come and go before the
/// action runs, and a cluster made in the same apply has none yet; so it is said, not promised.
async fn preview(aws: &AwsClients, cluster: &str, which: Which, d: &mut Diagnostics) {
    let (arn, nodes) = match nodes_of(aws, cluster).await {
        Ok(found) => found,
        Err(e) => {
            d.warning(
                format!("AWS error while {}", e.step()),
                format!(
                    "{} The action's plan cannot say which nodes it would deregister.",
                    e.detail()
                ),
            );
            return;
        }
    };
    if nodes.is_empty() {
        return;
    }
    let now = SystemTime::now();
    let going: Vec<String> = nodes
        .iter()
        .filter(|n| keep_reason(n, which, now).is_none())
        .map(|n| format!("- {}: {}, {}", label(n), n.ping_status, last_seen(n, now)))
        .collect();
    let summary = format!(
        "{TYPE_NAME} would deregister {} of the {} hybrid node(s) of {cluster} as of this plan",
        going.len(),
        nodes.len()
    );
    let detail = if going.is_empty() {
        format!("Every node registered through the SSM activations of {arn} is kept.")
    } else {
        format!(
            "Registered through the SSM activations of {arn}:\n{}",
            going.join("\n")
        )
    };
    d.warning(summary, detail);
}

async fn deregister(
    aws: &AwsClients,
    cluster: &str,
    which: Which,
    progress: &Progress,
    cancel: CancellationToken,
) -> Diagnostics {
    let mut d = Diagnostics::default();
    let (arn, nodes) = match nodes_of(aws, cluster).await {
        Ok(found) => found,
        Err(e) => {
            report(vec![e], &mut d);
            return d;
        }
    };
    progress
        .say(format!(
            "{} hybrid node(s) registered through the SSM activations of {arn}",
            nodes.len()
        ))
        .await;
    let now = SystemTime::now();
    let (mut gone, mut kept) = (0, 0);
    for (i, node) in nodes.iter().enumerate() {
        if cancel.is_cancelled() {
            d.error(
                "Stopped",
                format!("Terraform asked the provider to stop: {gone} node(s) deregistered, {kept} kept, {} not looked at.", nodes.len() - i),
            );
            return d;
        }
        let seen = last_seen(node, now);
        match keep_reason(node, which, now) {
            Some(why) => {
                kept += 1;
                progress.say(format!("{}: kept ({why})", label(node))).await;
            }
            None => match ssm::deregister_managed_instance(&aws.ssm, &node.id).await {
                Ok(()) => {
                    gone += 1;
                    progress
                        .say(format!(
                            "{}: deregistered ({}, {seen})",
                            label(node),
                            node.ping_status
                        ))
                        .await;
                }
                Err(e) => {
                    progress
                        .say(format!("{}: not deregistered: {}", label(node), e.detail()))
                        .await;
                    report(vec![e], &mut d);
                }
            },
        }
    }
    progress
        .say(format!("{gone} deregistered, {kept} kept"))
        .await;
    d
}

fn label(node: &ManagedNode) -> String {
    match &node.name {
        Some(n) if !n.is_empty() => format!("{} ({n})", node.id),
        _ => node.id.clone(),
    }
}

/// Why a node stays, or None when it goes.
fn keep_reason(node: &ManagedNode, which: Which, now: SystemTime) -> Option<String> {
    let Which::OfflineFor(limit) = which else {
        return None;
    };
    if node.ping_status == "Online" {
        return Some("Online".into());
    }
    let silent = node.last_ping.and_then(|t| now.duration_since(t).ok());
    match silent {
        Some(s) if s < limit => Some(format!(
            "{}, {}, under offline_for {}",
            node.ping_status,
            last_seen(node, now),
            human(limit)
        )),
        _ => None,
    }
}

fn last_seen(node: &ManagedNode, now: SystemTime) -> String {
    match node.last_ping.and_then(|t| now.duration_since(t).ok()) {
        Some(s) => format!("last seen {} ago", human(s)),
        None => "never seen".into(),
    }
}

/// `3d4h`, `5h12m`, `42m`, `17s`.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, mins) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h{m}m"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(status: &str, silent_secs: Option<u64>, now: SystemTime) -> ManagedNode {
        ManagedNode {
            id: "mi-0123456789abcdef0".into(),
            name: Some("edge-1".into()),
            ping_status: status.into(),
            last_ping: silent_secs.map(|s| now - Duration::from_secs(s)),
        }
    }

    #[test]
    fn offline_for_keeps_online_and_recently_seen_nodes() {
        let now = SystemTime::now();
        let limit = Which::OfflineFor(Duration::from_secs(72 * 3600));
        let day = 86_400;
        assert_eq!(
            keep_reason(&node("Online", Some(9 * day), now), limit, now).as_deref(),
            Some("Online")
        );
        assert_eq!(
            keep_reason(&node("ConnectionLost", Some(day), now), limit, now).as_deref(),
            Some("ConnectionLost, last seen 1d0h ago, under offline_for 3d0h")
        );
        assert_eq!(
            keep_reason(&node("ConnectionLost", Some(4 * day), now), limit, now),
            None
        );
        assert_eq!(keep_reason(&node("Inactive", None, now), limit, now), None);
        assert_eq!(
            keep_reason(&node("Online", Some(1), now), Which::All, now),
            None
        );
    }

    #[test]
    fn exactly_one_selection_is_given() {
        let a = NodesDeregister::new(ProviderData::default());
        let config = |all: Value, offline: Value| {
            let mut c = a.schema().block.null_object();
            c.set(CLUSTER_NAME, Value::string("c"));
            c.set(ALL_NODES, all);
            c.set(OFFLINE_FOR, offline);
            c
        };
        let errors = |c: &Value| a.validate(c).has_errors();
        assert!(errors(&config(Value::Null, Value::Null)));
        assert!(errors(&config(Value::Bool(true), Value::string("72h"))));
        assert!(errors(&config(Value::Bool(false), Value::Null)));
        assert!(!errors(&config(Value::Bool(true), Value::Null)));
        assert!(!errors(&config(Value::Null, Value::string("72h"))));
        assert!(
            !errors(&config(Value::Unknown, Value::Null)),
            "unknown may yet be true"
        );
    }
}
