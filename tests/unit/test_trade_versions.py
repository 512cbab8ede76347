"""`If-Match` read as RFC 9110 says: `*`, lists of entity tags, weak tags never matching."""

from __future__ import annotations

import pytest

from fluxa.trades.versions import VersionCondition, parse_if_match


@pytest.mark.parametrize(
    ("header", "admitted", "refused"),
    [
        ("*", [1, 2, 99], []),
        ('"3"', [3], [2, 4]),
        (' "3" , "5"', [3, 5], [4]),
        ('W/"3"', [], [3]),
        ('W/"3", "4"', [4], [3]),
        ("3", [3], [4]),
    ],
)
def test_if_match_admits_what_it_names(header, admitted, refused):
    condition = parse_if_match(header)
    assert all(condition.admits(v) for v in admitted)
    assert not any(condition.admits(v) for v in refused)


@pytest.mark.parametrize("header", ['"x"', "", '"3",', '"3" "4"', "**", '"3', "12345678901"])
def test_anything_else_is_refused(header):
    with pytest.raises(ValueError):
        parse_if_match(header)


def test_the_condition_says_what_it_wanted():
    assert VersionCondition.exactly(2).describe() == "2"
    assert parse_if_match('"4", "3"').describe() == "3 or 4"
    assert parse_if_match("*").describe() == "any version"
