terraform {
  required_providers {
    eks = {
      source  = "local/eks"
      version = "0.1.0"
    }
  }
}

provider "eks" {
  region = "us-west-2"
}

# The VPC is yours: the provider never amends it, so routing the remote networks (TGW, VPN,
# Direct Connect) stays with you. Overlaps with the VPC's CIDRs are checked at plan.
resource "eks_hybrid_cluster" "this" {
  name = "hybrid-existing-vpc"

  vpc {
    id                 = "vpc-0123456789abcdef0"
    subnet_ids         = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }

  remote_network_config {
    remote_node_networks { cidrs = ["172.16.10.0/24"] }
    remote_pod_networks { cidrs = ["172.16.32.0/20"] }
  }
}
