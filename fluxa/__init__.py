"""Fluxa's domain: events, idempotency, dead-letter envelopes, storage and data access.

Nothing here imports Flask or Celery; `api` and `workers` build on these modules.
"""
