import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluxa.errors import SchemaValidationError
from fluxa.events.archive import build_archive, claim_key
from fluxa.pagination import decode_cursor, encode_cursor

DAY = dt.date(2026, 3, 4)


@given(st.lists(st.binary(min_size=1, max_size=50).filter(lambda b: b"\n" not in b), max_size=20))
def test_every_payload_is_readable_by_its_byte_range(payloads):
    archive = build_archive([(f"e{i}", p) for i, p in enumerate(payloads)], DAY)
    for entry, payload in zip(archive.entries, payloads, strict=True):
        assert archive.body[entry.offset : entry.offset + entry.size] == payload


def test_archive_key_depends_only_on_content():
    one = build_archive([("a", b"{}"), ("b", b"[]")], DAY)
    same = build_archive([("a", b"{}"), ("b", b"[]")], DAY)
    other = build_archive([("a", b"{}")], DAY)
    assert one.key == same.key != other.key
    assert one.key.startswith("archive/2026/03/04/")


def test_claim_key_is_addressed_by_hash():
    assert claim_key("ab" + "0" * 62) == "claims/ab/ab" + "0" * 62 + ".json"


def test_cursor_round_trip():
    moment = dt.datetime(2026, 1, 1, 12, 30, tzinfo=dt.UTC)
    assert decode_cursor(encode_cursor(moment, "evt-1")) == (moment, "evt-1")


@pytest.mark.parametrize("junk", ["", "@@@", "bm90IGpzb24", "WyIyMDI2LTAxLTAxIiwgMV0"])
def test_bad_cursors_name_the_cursor_field(junk):
    with pytest.raises(SchemaValidationError) as error:
        decode_cursor(junk)
    assert "cursor" in error.value.details
