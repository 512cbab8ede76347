"""A producer in another language computes the same payload hash: Fluxa's RFC 8785 bytes
against those of `canonicalize`, the npm package of the RFC's reference implementation,
under Node (tests/support/jcs_node; `make test` installs it).

Both sides read the same JSON text, as a producer and Fluxa do, over the hostile shapes of
the payload limits: deep, wide, huge and tiny numbers, negative zero, non-BMP text and keys
(ordered by UTF-16 code units), U+2028, control characters.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fluxa.canonical import NotCanonicalizableError
from fluxa.events.hashing import canonical_of
from fluxa.validation.json_limits import PAYLOAD_LIMITS

JCS_NODE = Path(__file__).parents[1] / "support" / "jcs_node"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None or not (JCS_NODE / "node_modules" / "canonicalize").exists(),
    reason="make test installs tests/support/jcs_node",
)

SAFE_INTEGER = 2**53 - 1
# Every code point but lone surrogates (no UTF-8 form: refused by both, tested apart).
text = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["\u2028", "\u2029", "\x00\x1f\x7f", "😀", "\ue000", "é\u0301", '"\\/']
)
numbers = (
    st.integers(min_value=-SAFE_INTEGER, max_value=SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)  # subnormals, ±1.7e308, -0.0
    | st.sampled_from([1e21, 1e-7, 1e16, 0.1 + 0.2, 5e-324, -0.0, 2.0**53, 1e20, 123e-20])
)
scalars = st.none() | st.booleans() | numbers | text
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5),
    max_leaves=30,
)
deep = st.integers(min_value=1, max_value=PAYLOAD_LIMITS.max_depth - 1).map(
    lambda depth: _nested(depth)
)
wide = st.dictionaries(text, scalars, min_size=30, max_size=120)
payloads = st.dictionaries(text, values | deep | wide, min_size=1, max_size=6)


def _nested(depth: int) -> dict:
    value: dict = {"leaf": -0.0}
    for level in range(depth):
        value = {f"l{level}": [value, level + 0.5]}
    return value


def node_canonical(texts: list[str]) -> list[bytes | str]:
    """The npm package's RFC 8785 form of each JSON text (bytes), or why it has none."""
    result = subprocess.run(
        [NODE, JCS_NODE / "canonicalize.mjs"],
        input="".join(t + "\n" for t in texts),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert len(lines) == len(texts), result.stderr
    return [line[1:] if line.startswith("!") else base64.b64decode(line) for line in lines]


def fluxa_canonical(text_: str) -> bytes | None:
    try:
        return canonical_of(json.loads(text_))
    except NotCanonicalizableError:
        return None


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(payloads, min_size=1, max_size=8))  # one Node process per list
def test_fluxa_writes_the_bytes_node_s_jcs_writes(generated):
    texts = [json.dumps(payload) for payload in generated]  # ASCII: one line each
    for text_, theirs in zip(texts, node_canonical(texts), strict=True):
        assert isinstance(theirs, bytes), f"node refused {text_}: {theirs}"
        assert fluxa_canonical(text_) == theirs, text_


@pytest.mark.parametrize(
    "text_",
    ['{"x": 1e400}', '{"x": "\\ud800"}', '{"\\udfff": 1}'],
    ids=["infinity", "lone-surrogate-value", "lone-surrogate-key"],
)
def test_what_jcs_cannot_write_both_refuse(text_):
    (theirs,) = node_canonical([text_])
    assert isinstance(theirs, str)  # node's reason
    assert fluxa_canonical(text_) is None


def test_integers_beyond_2_53_are_refused_where_node_would_round_them():
    """I-JSON: such integers are not interoperable. Node reads 9007199254740993 as a double
    (…992) and hashes that; Fluxa refuses it (400) rather than store a number it changed."""
    (theirs,) = node_canonical(['{"n": 9007199254740993}'])
    assert theirs == b'{"n":9007199254740992}'
    assert fluxa_canonical('{"n": 9007199254740993}') is None
