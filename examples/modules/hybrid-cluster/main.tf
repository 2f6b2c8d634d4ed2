terraform {
  required_providers {
    eks = {
      source  = "local/eks"
      version = "0.1.0"
    }
  }
}

variable "name" {
  type = string
}

variable "vpc_cidr" {
  type    = string
  default = "192.168.0.0/16"
}

variable "vpc_gateway_id" {
  type    = string
  default = null
}

variable "node_cidr" {
  type = string
}

variable "pod_cidr" {
  type    = string
  default = null
}

variable "tags" {
  type    = map(string)
  default = {}
}

resource "eks_hybrid_cluster" "this" {
  name = var.name
  tags = var.tags

  vpc {
    cidr = var.vpc_cidr
  }

  remote_network_config {
    vpc_gateway_id = var.vpc_gateway_id
    remote_node_networks { cidrs = [var.node_cidr] }

    dynamic "remote_pod_networks" {
      for_each = var.pod_cidr == null ? [] : [var.pod_cidr]
      content {
        cidrs = [remote_pod_networks.value]
      }
    }
  }
}

output "remote_nodes_role_arn" {
  value = eks_hybrid_cluster.this.remote_nodes_role_arn
}

output "endpoint" {
  value = eks_hybrid_cluster.this.endpoint
}
