"""Adapters: the ports implemented on AWS services, each over an injected boto3 client."""
