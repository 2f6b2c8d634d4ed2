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

variable "private_ca_arn" {
  type        = string
  description = "The AWS Private CA that issues the hybrid nodes' certificates; it must be ACTIVE (its CA certificate installed)."
}

# IAM Roles Anywhere trusts the Private CA itself (trust anchor source AWS_ACM_PCA): nodes
# present certificates it issues, each with the node's name as CN, and a renewed CA
# certificate needs no change here. Plan checks that the CA exists and is ACTIVE.
resource "eks_hybrid_cluster" "this" {
  name = "hybrid-pca"

  vpc {
    cidr = "10.20.0.0/16"
  }

  remote_network_config {
    vpc_gateway_id = "tgw-0123456789abcdef0"
    remote_node_networks { cidrs = ["192.168.100.0/24"] }
    remote_pod_networks { cidrs = ["192.168.64.0/20"] }

    iam {
      provider    = "IRA"
      acm_pca_arn = var.private_ca_arn
    }
  }
}

output "trust_anchor_arn" {
  value = eks_hybrid_cluster.this.remote_nodes_trust_anchor_arn
}

output "profile_arn" {
  value = eks_hybrid_cluster.this.remote_nodes_anywhere_profile_arn
}
