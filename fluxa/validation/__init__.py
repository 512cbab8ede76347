"""Input validation shared by every door: bounded JSON, strict fields, error flattening."""

from fluxa.validation.errors import flatten_errors
from fluxa.validation.json_limits import (
    MESSAGE_LIMITS,
    PAYLOAD_LIMITS,
    REQUEST_LIMITS,
    JsonLimitExceededError,
    JsonLimits,
    check_structure,
    loads_bounded,
)

__all__ = [
    "MESSAGE_LIMITS",
    "PAYLOAD_LIMITS",
    "REQUEST_LIMITS",
    "JsonLimitExceededError",
    "JsonLimits",
    "check_structure",
    "flatten_errors",
    "loads_bounded",
]
