"""Payload hashes over RFC 8785 (JCS), and the pre-RFC 8785 form still recognised."""

import json

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from fluxa.canonical import rfc8785_json, sorted_json
from fluxa.events.hashing import (
    NotCanonicalizableError,
    canonical_matching,
    canonical_of,
    is_sha256_hex,
    legacy_payload_sha256,
    payload_sha256,
    sha256_hex,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@pytest.mark.parametrize(
    ("payload", "jcs"),
    [
        ({"b": 1, "a": {"d": [1, 2], "c": "é"}}, '{"a":{"c":"é","d":[1,2]},"b":1}'),
        ({"x": 1.0, "y": -0.0, "z": 1e16}, '{"x":1,"y":0,"z":10000000000000000}'),
        ({"big": 1e21, "tiny": 1e-7, "min": 5e-324}, '{"big":1e+21,"min":5e-324,"tiny":1e-7}'),
        ({"\ue000": 1, "\U0001f600": 2}, '{"\U0001f600":2,"\ue000":1}'),  # UTF-16 order
        ({"s": '\u2028\u0007"\\/'}, '{"s":"\u2028\\u0007\\"\\\\/"}'),
    ],
    ids=["sorted", "integral-floats", "exponents", "utf16-key-order", "escapes"],
)
def test_the_canonical_form_is_rfc_8785(payload, jcs):
    assert canonical_of(payload) == jcs.encode()


def test_a_known_digest():
    # sha256 of b'{"a":1}'
    assert (
        payload_sha256({"a": 1})
        == "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
    )


@pytest.mark.parametrize(
    "payload", [{"x": float("nan")}, {"x": 2**53}, {"x": -(2**60)}, {"\ud800": 1}]
)
def test_what_rfc_8785_cannot_write_is_refused(payload):
    with pytest.raises(NotCanonicalizableError):
        canonical_of(payload)


def test_a_pre_rfc_8785_hash_is_recognised_with_its_own_bytes():
    payload = {"price": 1.0, "n": 2**60}  # 1.0 stays 1.0 there, and big integers had a form
    legacy = legacy_payload_sha256(payload)
    assert legacy == sha256_hex(b'{"n":1152921504606846976,"price":1.0}')
    assert canonical_matching(payload, legacy.upper()) == sorted_json(payload)
    assert canonical_matching(payload, "0" * 64) is None


def test_an_rfc_8785_hash_finds_the_rfc_8785_bytes():
    payload = {"price": 1.0}
    assert canonical_matching(payload, payload_sha256(payload)) == b'{"price":1}'


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_key_order_never_changes_the_hash(payload):
    reordered = dict(reversed(list(payload.items())))
    assert payload_sha256(payload) == payload_sha256(reordered)


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_the_canonical_bytes_read_back_as_the_payload(payload):
    canonical = canonical_of(payload)
    digest = payload_sha256(payload)
    assert is_sha256_hex(digest) and digest == sha256_hex(canonical)
    read_back = json.loads(canonical, parse_int=float)  # RFC 8785's numbers are doubles
    assert read_back == payload
    assert canonical_of(read_back) == canonical  # a fixed point


any_key = st.text(st.characters(codec="utf-8"), max_size=6)  # non-BMP keys too
jcs_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1.0, -0.0, 1e16, 1e21, 1e-7, 0.0001, 123.456, 2.0**53])
    | st.text(st.characters(codec="utf-8")),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_key, children, max_size=4)
    ),
    max_leaves=25,
)


@given(jcs_values)
def test_the_fast_path_writes_what_the_rfc_8785_library_writes(value):
    """Where sorted JSON already is the RFC 8785 form, the C encoder writes it; whichever
    way a value goes, the bytes are the library's (the Node test checks them too)."""
    assert rfc8785_json(value) == rfc8785.dumps(value)
