"""The runbook's first action for each error code."""

from __future__ import annotations

from fluxa.errors import ErrorCode

ACTIONS = {
    ErrorCode.HASH_MISMATCH: "Investigate the producer (payload altered); never retry.",
    ErrorCode.SCHEMA_VALIDATION: "Fix the producer's payload; do not retry as is.",
    ErrorCode.DB_CONNECTION_ERROR: "Safe to retry once PostgreSQL is healthy: fluxa dlq replay.",
    ErrorCode.STORAGE_UNAVAILABLE: "Safe to retry once S3 is reachable: fluxa dlq replay.",
    ErrorCode.UNHANDLED: "Read error_message and the logs (fluxa trace); replay after a fix.",
    ErrorCode.MAX_RECEIVE_EXCEEDED: "Crashed workers repeatedly: check worker logs, then replay.",
    ErrorCode.MALFORMED_MESSAGE: (
        "Not a task message a worker can run (hostile or foreign body): find the sender"
        " (SenderId), never replay; delete once understood."
    ),
    ErrorCode.PAYLOAD_MISSING: (
        "The payload object is gone (claim check expired or deleted): ask the producer to"
        " resend; replay cannot succeed."
    ),
}


def action_for(code: str) -> str:
    """What an operator should do first about a message dead-lettered with `code`."""
    try:
        return ACTIONS[ErrorCode(code)]
    except (ValueError, KeyError):
        return "Unknown code: inspect the message and the logs before doing anything."
