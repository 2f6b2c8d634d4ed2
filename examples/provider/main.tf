terraform {
  required_providers {
    eks = {
      source  = "local/eks"
      version = "0.1.0"
    }
  }
}

# Credentials come from the standard AWS chain. Every argument is optional.
provider "eks" {
  region  = "us-west-2"
  profile = "platform"

  assume_role {
    role_arn     = "arn:aws:iam::123456789012:role/terraform"
    session_name = "terraform-eks-hybrid"
  }

  default_tags {
    tags = {
      managed-by = "terraform"
    }
  }

  max_retries = 25
}
