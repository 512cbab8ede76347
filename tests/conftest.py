"""Shared test configuration: emulator credentials for every boto3 client in the run."""

import os

# The SQS/S3 emulator accepts any credentials; boto3 only needs some.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
