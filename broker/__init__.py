"""The Celery client edge: the app in client mode, SQS transport, publishing by task name.

The API, the CLI and the workers all send through this package; only `workers/` holds
task code. It may use `fluxa` and `config`, never `api` or `workers`.
"""
