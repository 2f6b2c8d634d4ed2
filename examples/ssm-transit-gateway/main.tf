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
  default_tags {
    tags = { managed-by = "terraform" }
  }
}

variable "vpc_gateway_id" {
  type        = string
  description = "Transit gateway (tgw-…) that connects the VPC to the on-premises network."
  default     = "tgw-0123456789abcdef0"
}

resource "eks_hybrid_cluster" "this" {
  name               = "hybrid-demo"
  kubernetes_version = "1.33"
  tags               = { team = "platform" }

  remote_network_config {
    vpc_gateway_id = var.vpc_gateway_id
    remote_node_networks { cidrs = ["10.80.146.0/24"] }
    remote_pod_networks { cidrs = ["10.86.30.0/23"] }
  }
}

output "remote_nodes_role_arn" {
  value = eks_hybrid_cluster.this.remote_nodes_role_arn
}
