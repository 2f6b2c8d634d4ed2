//! IPv4 CIDR rules EKS applies to remote networks and service CIDRs.

use ipnet::Ipv4Net;

const PRIVATE_RANGES: [&str; 3] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
/// Carrier-grade NAT space, which EKS accepts for remote node and pod networks since its
/// service change of May 2026 (the Terraform AWS provider followed in PR #47988).
const CGNAT: &str = "100.64.0.0/10";

#[derive(Debug, PartialEq)]
pub enum CidrError {
    Syntax,
    HostBits(Ipv4Net),
}

/// Parses `a.b.c.d/n`, refusing host bits set (`10.0.0.1/24`), as AWS does.
pub fn parse_network(s: &str) -> Result<Ipv4Net, CidrError> {
    let net: Ipv4Net = s.parse().map_err(|_| CidrError::Syntax)?;
    if net.trunc() != net {
        return Err(CidrError::HostBits(net.trunc()));
    }
    Ok(net)
}

pub fn is_rfc1918(net: &Ipv4Net) -> bool {
    PRIVATE_RANGES
        .iter()
        .map(|r| r.parse::<Ipv4Net>().expect("constant range"))
        .any(|range| range.contains(net))
}

/// Where EKS accepts remote node and pod networks: RFC 1918 or CGNAT.
pub fn is_remote_network_range(net: &Ipv4Net) -> bool {
    is_rfc1918(net) || CGNAT.parse::<Ipv4Net>().expect("constant").contains(net)
}

pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The blocks EKS assigns service addresses from when none is given (EKS API reference,
/// `KubernetesNetworkConfigRequest.serviceIpv4Cidr`).
pub const EKS_DEFAULT_SERVICE_CIDRS: [&str; 2] = ["10.100.0.0/16", "172.20.0.0/16"];

/// EKS's default service CIDR: 172.20.0.0/16 when the VPC uses 10.0.0.0/8, else
/// 10.100.0.0/16 (EKS API reference, KubernetesNetworkConfigRequest.serviceIpv4Cidr).
pub fn default_service_cidr<'a>(mut vpc_cidrs: impl Iterator<Item = &'a Ipv4Net>) -> &'static str {
    let ten: Ipv4Net = "10.0.0.0/8".parse().expect("constant");
    if vpc_cidrs.any(|v| overlaps(v, &ten)) {
        "172.20.0.0/16"
    } else {
        "10.100.0.0/16"
    }
}

/// Splits a VPC CIDR into `count` equal subnets of prefix `vpc + bits`, as eksctl lays out
/// public then private subnets per AZ.
pub fn subnets(vpc: &Ipv4Net, count: usize) -> Vec<Ipv4Net> {
    let bits = (usize::BITS - (count.max(2) - 1).leading_zeros()) as u8;
    let prefix = (vpc.prefix_len() + bits.max(3)).min(28);
    vpc.subnets(prefix)
        .map(|it| it.take(count).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_are_refused() {
        assert_eq!(
            parse_network("10.80.146.1/24"),
            Err(CidrError::HostBits("10.80.146.0/24".parse().unwrap()))
        );
        assert_eq!(parse_network("10.80.146.0/33"), Err(CidrError::Syntax));
        assert_eq!(parse_network("nonsense"), Err(CidrError::Syntax));
        assert!(parse_network("10.80.146.0/24").is_ok());
    }

    #[test]
    fn rfc1918_membership() {
        for ok in ["10.0.0.0/8", "172.31.0.0/16", "192.168.5.0/24"] {
            assert!(is_rfc1918(&ok.parse().unwrap()), "{ok}");
        }
        for bad in ["8.8.8.0/24", "100.64.0.0/10", "172.32.0.0/16", "0.0.0.0/0"] {
            assert!(!is_rfc1918(&bad.parse().unwrap()), "{bad}");
        }
    }

    #[test]
    fn remote_networks_may_be_cgnat() {
        for ok in ["100.64.0.0/10", "100.100.1.0/24", "10.0.0.0/8"] {
            assert!(is_remote_network_range(&ok.parse().unwrap()), "{ok}");
        }
        for bad in ["100.128.0.0/16", "100.63.0.0/16", "8.8.8.0/24"] {
            assert!(!is_remote_network_range(&bad.parse().unwrap()), "{bad}");
        }
    }

    #[test]
    fn overlap_is_symmetric() {
        let a: Ipv4Net = "10.0.0.0/16".parse().unwrap();
        let b: Ipv4Net = "10.0.128.0/24".parse().unwrap();
        let c: Ipv4Net = "10.1.0.0/16".parse().unwrap();
        assert!(overlaps(&a, &b) && overlaps(&b, &a));
        assert!(!overlaps(&a, &c));
    }

    #[test]
    fn service_cidr_default_follows_eks() {
        let ten: Ipv4Net = "10.0.0.0/16".parse().unwrap();
        let other: Ipv4Net = "192.168.0.0/16".parse().unwrap();
        assert_eq!(default_service_cidr([ten].iter()), "172.20.0.0/16");
        assert_eq!(default_service_cidr([other].iter()), "10.100.0.0/16");
        assert_eq!(default_service_cidr([other, ten].iter()), "172.20.0.0/16");
    }

    #[test]
    fn subnets_are_disjoint_and_inside_the_vpc() {
        let vpc: Ipv4Net = "192.168.0.0/16".parse().unwrap();
        let nets = subnets(&vpc, 4);
        assert_eq!(nets.len(), 4);
        assert_eq!(nets[0].to_string(), "192.168.0.0/19");
        for (i, a) in nets.iter().enumerate() {
            assert!(vpc.contains(a));
            for b in &nets[i + 1..] {
                assert!(!overlaps(a, b));
            }
        }
    }
}
