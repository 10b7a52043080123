"""Terraform and deployment: the Lambda zip (build_lambda), Terraform from Python (tf), real-AWS
plan/apply/destroy (deploy) and the infra/ linters (lint_infra)."""
