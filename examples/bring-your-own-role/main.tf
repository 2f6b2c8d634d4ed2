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

# The hybrid nodes role is managed elsewhere: no role, trust anchor or profile is created, but
# the HYBRID_LINUX access entry for it is.
resource "eks_hybrid_cluster" "this" {
  name                = "hybrid-own-role"
  authentication_mode = "API"

  remote_network_config {
    remote_node_networks { cidrs = ["10.80.146.0/24"] }

    iam {
      role_arn = "arn:aws:iam::123456789012:role/my-hybrid-nodes"
    }
  }
}
