"""Hypothesis strategies for what a careless or hostile client sends."""

from __future__ import annotations

import base64
import json

from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)
event_like = st.fixed_dictionaries(
    {},
    optional={
        "type": json_values | st.just("trade.executed"),
        "source": json_values | st.just("fuzz"),
        "occurred_at": json_values | st.just("2026-01-01T00:00:00Z"),
        "payload": json_values | st.just({"a": 1}),
        "event_id": json_values,
        "payload_sha256": json_values,
    },
)
printable = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=300)
# What an HTTP client library lets through as a header value (no edge white space).
header_values = printable.map(str.strip)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def authorization_values(valid_token: str) -> st.SearchStrategy[str]:
    """Authorization headers: garbage, other schemes, `alg: none`, a valid token mutated."""
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{valid_token.split('.')[1]}."
    mutated = st.tuples(st.integers(0, len(valid_token) - 1), st.sampled_from("AZaz09-_.")).map(
        lambda ic: valid_token[: ic[0]] + ic[1] + valid_token[ic[0] + 1 :]
    )
    return st.one_of(
        header_values,
        st.builds(lambda t: f"Bearer {t}".strip(), printable),
        st.sampled_from(["Bearer", "Basic dXNlcjpwYXNz", f"bearer {valid_token}"]),
        st.just(f"Bearer {unsigned}"),
        st.builds(lambda t: f"Bearer {t}", mutated),
        st.just("Bearer " + "A" * 6000),
    )
