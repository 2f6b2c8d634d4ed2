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

variable "ca_bundle_pem" {
  type        = string
  description = "PEM of the CA that issues the hybrid nodes' certificates (never a private key)."
}

resource "eks_hybrid_cluster" "this" {
  name = "hybrid-ira"

  vpc {
    cidr = "10.20.0.0/16"
  }

  remote_network_config {
    vpc_gateway_id = "vgw-0123456789abcdef0"
    remote_node_networks { cidrs = ["192.168.100.0/24"] }
    remote_pod_networks { cidrs = ["192.168.64.0/20"] }

    iam {
      provider       = "IRA"
      ca_bundle_cert = var.ca_bundle_pem
    }
  }
}

output "trust_anchor_arn" {
  value = eks_hybrid_cluster.this.remote_nodes_trust_anchor_arn
}

output "profile_arn" {
  value = eks_hybrid_cluster.this.remote_nodes_anywhere_profile_arn
}

output "role_arn" {
  value = eks_hybrid_cluster.this.remote_nodes_role_arn
}
