import pytest

from fluxa.canonical import sha256_hex, sorted_json
from fluxa.errors import ErrorCode, HashMismatchError, SchemaValidationError
from fluxa.events.checks import check_event, partition
from fluxa.events.hashing import legacy_payload_sha256
from tests.support.builders import event_message


def test_a_valid_inline_event_passes():
    event = event_message()
    checked = check_event(event)
    assert checked.event_id == event["event_id"]
    assert checked.canonical is not None


def test_a_message_enqueued_before_rfc_8785_keeps_its_hash_and_its_bytes():
    """A message the previous release enqueued carries the sorted-JSON hash: it is
    processed with those bytes, so the row's hash stays the hash of what is archived."""
    event = event_message(payload={"price": 1.0})
    event["payload_sha256"] = legacy_payload_sha256(event["payload"])
    checked = check_event(event)
    assert checked.canonical == sorted_json(event["payload"]) == b'{"price":1.0}'
    assert sha256_hex(checked.canonical) == event["payload_sha256"]


def test_a_tampered_payload_is_a_hash_mismatch():
    event = event_message()
    event["payload"]["marker"] = "changed"
    with pytest.raises(HashMismatchError):
        check_event(event)


@pytest.mark.parametrize(
    "broken",
    [
        {"type": None},
        {"occurred_at": "not a time"},
        {"payload": None},  # neither payload nor payload_ref
        {"extra": 1},
        {"payload_ref": {"key": "k", "size": 1}},  # both payload and payload_ref
    ],
)
def test_schema_violations(broken):
    event = {**event_message(), **broken}
    with pytest.raises(SchemaValidationError):
        check_event(event)


def test_not_an_object():
    with pytest.raises(SchemaValidationError):
        check_event(["a"])


def test_partition_keeps_the_first_of_each_id_and_reports_the_bad():
    a = event_message(event_id="a")
    again = event_message(event_id="a")
    bad = event_message(sha256="1" * 64)
    checked, rejected = partition([a, bad, again])
    assert [c.message["payload"] for c in checked] == [a["payload"]]
    assert [(r.event_id, r.error.code) for r in rejected] == [
        (bad["event_id"], ErrorCode.HASH_MISMATCH)
    ]
