"""The runbook's error-code vocabulary and the exceptions that carry it.

The same codes appear in API problem responses, in dead-letter envelopes, in the
DLQ tools and in log lines (`error_code`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Machine-readable error codes (architecture §4)."""

    SCHEMA_VALIDATION = "SchemaValidation"
    HASH_MISMATCH = "HashMismatch"
    DB_CONNECTION_ERROR = "DBConnectionError"
    STORAGE_UNAVAILABLE = "StorageUnavailable"
    BROKER_UNAVAILABLE = "BrokerUnavailable"
    UNHANDLED = "Unhandled"
    MAX_RECEIVE_EXCEEDED = "MaxReceiveExceeded"
    MALFORMED_MESSAGE = "MalformedMessage"
    PAYLOAD_MISSING = "PayloadMissing"
    NOT_FOUND = "NotFound"
    IDEMPOTENCY_IN_FLIGHT = "IdempotencyKeyInFlight"
    IDEMPOTENCY_MISMATCH = "IdempotencyKeyMismatch"
    PAYLOAD_TOO_LARGE = "PayloadTooLarge"
    UNSUPPORTED_MEDIA_TYPE = "UnsupportedMediaType"
    INVALID_TOKEN = "InvalidToken"
    FORBIDDEN = "Forbidden"
    PRECONDITION_FAILED = "PreconditionFailed"
    PRECONDITION_REQUIRED = "PreconditionRequired"
    RATE_LIMITED = "RateLimited"
    REQUEST_TIMEOUT = "RequestTimeout"
    IMPORT_FORMAT = "ImportFormat"


#: Codes whose dead-lettered messages may be replayed once the cause is fixed.
REPLAYABLE_CODES = frozenset(
    {
        ErrorCode.DB_CONNECTION_ERROR,
        ErrorCode.STORAGE_UNAVAILABLE,
        ErrorCode.UNHANDLED,
        ErrorCode.MAX_RECEIVE_EXCEEDED,
    }
)


class FluxaError(Exception):
    """Base of every error Fluxa raises on purpose."""

    code: ErrorCode = ErrorCode.UNHANDLED
    http_status: int = 500
    retryable: bool = False

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidInputError(FluxaError):
    """The input can never succeed as sent."""

    http_status = 400


class SchemaValidationError(InvalidInputError):
    """A request or message does not match its schema; `details` maps fields to messages."""

    code = ErrorCode.SCHEMA_VALIDATION


class HashMismatchError(InvalidInputError):
    """A payload does not match the SHA-256 it was sent with."""

    code = ErrorCode.HASH_MISMATCH


class MalformedMessageError(InvalidInputError):
    """An SQS message is not a task message a worker can run (see fluxa/messages)."""

    code = ErrorCode.MALFORMED_MESSAGE


class ImportFormatError(InvalidInputError):
    """An imported file is not of the format it was declared as (no row can be read)."""

    code = ErrorCode.IMPORT_FORMAT


class FileTooLargeError(InvalidInputError):
    """An uploaded file is larger than its limit."""

    code = ErrorCode.PAYLOAD_TOO_LARGE
    http_status = 413


class PayloadMissingError(FluxaError):
    """A payload's stored object (claim check or archive) is gone; replay cannot bring it."""

    code = ErrorCode.PAYLOAD_MISSING
    http_status = 404


class NotFoundError(FluxaError):
    """No such resource (for this caller)."""

    code = ErrorCode.NOT_FOUND
    http_status = 404


class GoneError(NotFoundError):
    """The resource existed and was deleted (e.g. the trade an idempotent request created)."""

    http_status = 410


class ConflictError(FluxaError):
    """The request conflicts with the state of the resource."""

    http_status = 409


class IdempotencyKeyInFlightError(ConflictError):
    """A request with the same idempotency key is still being processed."""

    code = ErrorCode.IDEMPOTENCY_IN_FLIGHT


class IdempotencyKeyMismatchError(FluxaError):
    """An idempotency key was reused with a different request body."""

    code = ErrorCode.IDEMPOTENCY_MISMATCH
    http_status = 422


class InvalidTokenError(FluxaError):
    """The bearer token is missing or fails a check; `message` says which."""

    code = ErrorCode.INVALID_TOKEN
    http_status = 401


class ForbiddenError(FluxaError):
    """The caller is authenticated but lacks the scope or group."""

    code = ErrorCode.FORBIDDEN
    http_status = 403


class PreconditionFailedError(FluxaError):
    """The resource changed since the version the client named."""

    code = ErrorCode.PRECONDITION_FAILED
    http_status = 412


class PreconditionRequiredError(FluxaError):
    """A write needs the version it applies to (If-Match or `version`)."""

    code = ErrorCode.PRECONDITION_REQUIRED
    http_status = 428


class TransientError(FluxaError):
    """A dependency failed in a way that may succeed on retry."""

    http_status = 503
    retryable = True


class DBConnectionError(TransientError):
    """PostgreSQL is unreachable or failed transiently."""

    code = ErrorCode.DB_CONNECTION_ERROR


class StorageUnavailableError(TransientError):
    """S3 is unreachable or failed transiently."""

    code = ErrorCode.STORAGE_UNAVAILABLE


class BrokerUnavailableError(TransientError):
    """The message broker did not accept a message."""

    code = ErrorCode.BROKER_UNAVAILABLE


class PartlyEnqueuedError(FluxaError):
    """Some of a request's task messages were sent, then a send failed.

    The events of the sent messages are accepted and will be processed; the others were
    not. A caller answers event by event, never "all failed" (a client's retry would
    store the sent ones twice).
    """

    code = ErrorCode.BROKER_UNAVAILABLE
    http_status = 503
    retryable = True

    def __init__(self, sent_event_ids: set[str], cause: FluxaError) -> None:
        super().__init__(f"{len(sent_event_ids)} event(s) enqueued before: {cause.message}")
        self.sent_event_ids = sent_event_ids
        self.cause = cause


def classify(exc: BaseException) -> tuple[ErrorCode, bool]:
    """Return the error code of `exc` and whether retrying it may help."""
    if isinstance(exc, FluxaError):
        return exc.code, exc.retryable
    return ErrorCode.UNHANDLED, True


class RateLimitedError(FluxaError):
    """The caller sent more requests in a scope than its limit allows; it may retry later."""

    code = ErrorCode.RATE_LIMITED
    http_status = 429
    retryable = True
