import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluxa.events.hashing import (
    NotCanonicalizable,
    canonical_json,
    is_sha256_hex,
    payload_sha256,
    sha256_hex,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


def test_canonical_json_sorts_keys_and_drops_white_space():
    assert (
        canonical_json({"b": 1, "a": {"d": [1, 2], "c": "é"}})
        == '{"a":{"c":"é","d":[1,2]},"b":1}'.encode()
    )


def test_known_digest():
    # sha256 of b'{"a":1}'
    assert (
        payload_sha256({"a": 1})
        == "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
    )


def test_nan_has_no_canonical_form():
    with pytest.raises(NotCanonicalizable):
        canonical_json({"x": float("nan")})


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_key_order_never_changes_the_hash(payload):
    reordered = dict(reversed(list(payload.items())))
    assert payload_sha256(payload) == payload_sha256(reordered)


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_digest_is_hex_sha256_of_the_canonical_bytes(payload):
    digest = payload_sha256(payload)
    assert is_sha256_hex(digest) and digest == sha256_hex(canonical_json(payload))
