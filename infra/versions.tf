terraform {
  # 1.9: validations that look at other variables; 1.7: mock_provider in infra/tests.
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Exact pin: the committed .terraform.lock.hcl and the offline provider mirror hold
      # exactly this version.
      version = "5.100.0"
    }
  }
}

provider "aws" {
  region = var.region
  # Nothing emulator-specific here: the emulator run points the provider at the moto server
  # through AWS_ENDPOINT_URL (see roomchat_tools/local/emulator.py).
}
