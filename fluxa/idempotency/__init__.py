"""Idempotency keys for HTTP requests (the Powertools / Stripe model).

A request with an `Idempotency-Key` claims the key with a conditional insert. The
first response is stored and replayed for the same key and body; a different body
is refused (422); a request arriving while the first is in flight is refused (409);
an exception releases the key so the client can retry.
"""

from fluxa.idempotency.config import IdempotencyConfig
from fluxa.idempotency.postgres import PostgresIdempotencyStore
from fluxa.idempotency.records import IdempotencyRecord, RecordStatus, StoredResponse, fingerprint
from fluxa.idempotency.store import IdempotencyStore

__all__ = [
    "IdempotencyConfig",
    "IdempotencyRecord",
    "IdempotencyStore",
    "PostgresIdempotencyStore",
    "RecordStatus",
    "StoredResponse",
    "fingerprint",
]
