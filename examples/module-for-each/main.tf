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

locals {
  sites = {
    factory-a = { node_cidr = "10.81.0.0/24", pod_cidr = "10.91.0.0/20" }
    factory-b = { node_cidr = "10.82.0.0/24", pod_cidr = "10.92.0.0/20" }
    store-7   = { node_cidr = "10.83.0.0/24", pod_cidr = null }
  }
}

module "site" {
  source   = "../modules/hybrid-cluster"
  for_each = local.sites

  name      = "hybrid-${each.key}"
  node_cidr = each.value.node_cidr
  pod_cidr  = each.value.pod_cidr
  tags      = { site = each.key }
}

output "roles" {
  value = { for k, m in module.site : k => m.remote_nodes_role_arn }
}
