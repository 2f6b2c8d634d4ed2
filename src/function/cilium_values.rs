//! `provider::eks::cilium_values(pod_cidrs, mask_size)`: the Helm values AWS documents for
//! Cilium on hybrid nodes (EKS user guide, "Configure a CNI for hybrid nodes", the
//! `cilium-values.yaml` of "Install Cilium on hybrid nodes"; awsdocs/amazon-eks-user-guide
//! `latest/ug/nodes/hybrid-nodes-cni.adoc`): Cilium and its operator only on nodes labelled
//! `eks.amazonaws.com/compute-type: hybrid`, cluster-pool IPAM over the cluster's remote pod
//! networks, service topology on, the operator's unmanaged-pod restarts and Envoy off.

use ipnet::Ipv4Net;
use tfplugin6::function::{Function, FunctionError, Signature};
use tfplugin6::value::Number;
use tfplugin6::{Type, Value};

pub struct CiliumValues;

impl Function for CiliumValues {
    fn name(&self) -> &'static str {
        "cilium_values"
    }

    fn signature(&self) -> Signature {
        Signature::new(
            "The Helm values AWS documents for Cilium on hybrid nodes.",
            "Renders the `cilium-values.yaml` of the EKS user guide's \"Configure a CNI for hybrid nodes\": node affinity to `eks.amazonaws.com/compute-type: hybrid` for the agent and the operator, cluster-pool IPAM with `clusterPoolIPv4PodCIDRList` set to the cluster's remote pod networks and `clusterPoolIPv4MaskSize` to `mask_size`, `loadBalancer.serviceTopology`, `operator.unmanagedPodWatcher.restart: false` and Envoy off. AWS advises against changing the pod CIDRs or the mask size once Cilium runs.",
            Type::String,
        )
        .parameter(
            "pod_cidrs",
            Type::list_of_strings(),
            "The cluster's remote pod networks (`remote_network_config[0].remote_pod_networks[0].cidrs`).",
        )
        .parameter(
            "mask_size",
            Type::Number,
            "The prefix length of each node's pod CIDR block, for example `25` for 128 pods per node.",
        )
        .variadic(
            "options",
            Type::String,
            "`\"hybrid_nodes_gateway\"` adds what the EKS Hybrid Nodes gateway needs of Cilium (the user guide's \"Configure CNI for the Hybrid Nodes gateway\"): `vtep.enabled: true` and `l7Proxy: false`. That needs EKS Cilium 1.17.13-1, 1.18.8-1, 1.19.2-1 or later.",
        )
    }

    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
        let cidrs = pod_cidrs(arguments.first())?;
        let mask = mask_size(arguments.get(1), &cidrs)?;
        let gateway = gateway_option(arguments.get(2..).unwrap_or_default())?;
        Ok(Value::string(render(&cidrs, mask, gateway)))
    }
}

const GATEWAY_OPTION: &str = "hybrid_nodes_gateway";

/// The options, one argument each (or one list of them, as some CLIs pass variadic values).
fn gateway_option(options: &[Value]) -> Result<bool, FunctionError> {
    let mut gateway = false;
    for (i, option) in options.iter().enumerate() {
        let values = match option {
            Value::List(items) => items.iter().collect(),
            one => vec![one],
        };
        for v in values {
            match v.as_str() {
                Some(GATEWAY_OPTION) => gateway = true,
                other => {
                    return Err(FunctionError::at(
                        2 + i,
                        format!("{other:?} is not an option of cilium_values; the one option is {GATEWAY_OPTION:?}"),
                    ))
                }
            }
        }
    }
    Ok(gateway)
}

fn pod_cidrs(v: Option<&Value>) -> Result<Vec<Ipv4Net>, FunctionError> {
    let Some(Value::List(items)) = v else {
        return Err(FunctionError::at(0, "pod_cidrs must be a list of CIDRs"));
    };
    if items.is_empty() {
        return Err(FunctionError::at(
            0,
            "pod_cidrs is empty: give the cluster's remote pod networks",
        ));
    }
    items
        .iter()
        .map(|item| {
            let text = item.as_str().unwrap_or_default();
            match text.parse::<Ipv4Net>() {
                Ok(net) if net.trunc() == net => Ok(net),
                Ok(net) => Err(FunctionError::at(
                    0,
                    format!("{text} has host bits set: did you mean {}?", net.trunc()),
                )),
                Err(_) => Err(FunctionError::at(
                    0,
                    format!("{text:?} is not an IPv4 CIDR"),
                )),
            }
        })
        .collect()
}

/// Cilium's cluster pool hands each node a block of this prefix length out of each pool
/// CIDR, so it cannot be shorter than a pool's own prefix (Cilium docs, "Cluster Scope IPAM").
fn mask_size(v: Option<&Value>, cidrs: &[Ipv4Net]) -> Result<u8, FunctionError> {
    let mask = match v {
        Some(Value::Number(Number::Int(n))) => u8::try_from(*n).ok().filter(|m| *m <= 32),
        Some(Value::Number(Number::Float(f))) if f.fract() == 0.0 && (0.0..=32.0).contains(f) => {
            Some(*f as u8)
        }
        _ => None,
    }
    .ok_or_else(|| FunctionError::at(1, "mask_size must be a whole number from 0 to 32"))?;
    if let Some(wider) = cidrs.iter().find(|c| c.prefix_len() > mask) {
        return Err(FunctionError::at(
            1,
            format!(
                "a /{mask} block per node does not fit in the pod CIDR {wider}: use {} or more",
                wider.prefix_len()
            ),
        ));
    }
    Ok(mask)
}

/// The guide's `cilium-values.yaml`, with its two replaceable values marked.
const DOCUMENTED: &str = "affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
      - matchExpressions:
        - key: eks.amazonaws.com/compute-type
          operator: In
          values:
          - hybrid
ipam:
  mode: cluster-pool
  operator:
    clusterPoolIPv4MaskSize: MASK_SIZE
    clusterPoolIPv4PodCIDRList:
POD_CIDRS
loadBalancer:
  serviceTopology: true
operator:
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - key: eks.amazonaws.com/compute-type
            operator: In
            values:
              - hybrid
  unmanagedPodWatcher:
    restart: false
envoy:
  enabled: false
";

/// The Hybrid Nodes gateway's required settings (EKS user guide, "Configure CNI for the Hybrid
/// Nodes gateway", `latest/ug/nodes/hybrid-nodes-gateway-cni.adoc`, "Required settings").
const GATEWAY: &str = "vtep:
  enabled: true
l7Proxy: false
";

pub fn render(cidrs: &[Ipv4Net], mask: u8, gateway: bool) -> String {
    let pool: Vec<String> = cidrs.iter().map(|c| format!("    - {c}")).collect();
    let values = DOCUMENTED
        .replace("MASK_SIZE", &mask.to_string())
        .replace("POD_CIDRS", &pool.join("\n"));
    if gateway {
        values + GATEWAY
    } else {
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(cidrs: &[&str], mask: i64) -> Result<String, FunctionError> {
        call_with(cidrs, mask, &[])
    }

    fn call_with(cidrs: &[&str], mask: i64, options: &[Value]) -> Result<String, FunctionError> {
        let list = Value::List(cidrs.iter().map(|c| Value::string(*c)).collect());
        let mut arguments = vec![list, Value::Number(Number::Int(mask))];
        arguments.extend(options.iter().cloned());
        CiliumValues
            .call(&arguments)
            .map(|v| v.as_str().unwrap().to_string())
    }

    #[test]
    fn the_hybrid_nodes_gateway_option_adds_vtep_and_turns_the_l7_proxy_off() {
        let plain = call(&["10.86.30.0/23"], 25).unwrap();
        assert!(
            !plain.contains("vtep") && !plain.contains("l7Proxy"),
            "{plain}"
        );
        let option = Value::string("hybrid_nodes_gateway");
        for options in [vec![option.clone()], vec![Value::List(vec![option])]] {
            let with = call_with(&["10.86.30.0/23"], 25, &options).unwrap();
            assert_eq!(
                with,
                format!("{plain}vtep:\n  enabled: true\nl7Proxy: false\n")
            );
        }
        let e = call_with(&["10.86.30.0/23"], 25, &[Value::string("gateway")]).unwrap_err();
        assert_eq!(e.argument, Some(2));
        assert!(e.text.contains("\"hybrid_nodes_gateway\""), "{}", e.text);
    }

    #[test]
    fn the_documented_values_for_the_clusters_pod_networks() {
        let one = call(&["10.86.30.0/23"], 25).unwrap();
        assert!(
            one.contains("    clusterPoolIPv4MaskSize: 25\n    clusterPoolIPv4PodCIDRList:\n    - 10.86.30.0/23\nloadBalancer:"),
            "{one}"
        );
        let two = call(&["10.86.30.0/23", "172.16.0.0/16"], 26).unwrap();
        assert!(
            two.contains("clusterPoolIPv4MaskSize: 26\n    clusterPoolIPv4PodCIDRList:\n    - 10.86.30.0/23\n    - 172.16.0.0/16\n"),
            "{two}"
        );
        for key in [
            "eks.amazonaws.com/compute-type",
            "serviceTopology: true",
            "restart: false",
            "envoy:\n  enabled: false",
        ] {
            assert!(two.contains(key), "{key}");
        }
        assert!(!two.contains("MASK_SIZE") && !two.contains("POD_CIDRS"));
    }

    #[test]
    fn what_cilium_could_not_use_is_named_at_its_argument() {
        for (cidrs, mask, argument, text) in [
            (vec![], 25, 0, "pod_cidrs is empty"),
            (vec!["10.86.30.1/23"], 25, 0, "did you mean 10.86.30.0/23"),
            (vec!["pods"], 25, 0, "is not an IPv4 CIDR"),
            (vec!["10.86.30.0/23"], 33, 1, "from 0 to 32"),
            (
                vec!["10.86.30.0/23"],
                22,
                1,
                "does not fit in the pod CIDR 10.86.30.0/23",
            ),
        ] {
            let e = call(&cidrs, mask).unwrap_err();
            assert_eq!(e.argument, Some(argument), "{cidrs:?} {mask}");
            assert!(e.text.contains(text), "{}", e.text);
        }
    }
}
