"""Which versions of a trade a change may apply to, as `If-Match` says (RFC 9110 §13.1.1)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAG = re.compile(r'\s*(W/)?("?)([0-9]{1,10})\2\s*')


@dataclass(frozen=True)
class VersionCondition:
    """`versions` the trade must be at, or None for any current version (`If-Match: *`)."""

    versions: frozenset[int] | None

    @classmethod
    def exactly(cls, version: int) -> VersionCondition:
        return cls(frozenset({version}))

    def admits(self, version: int) -> bool:
        return self.versions is None or version in self.versions

    def describe(self) -> str:
        if self.versions is None:
            return "any version"
        return " or ".join(str(v) for v in sorted(self.versions)) or "no version"


def parse_if_match(header: str) -> VersionCondition:
    """The condition of an `If-Match` value: `*`, or a list of entity tags such as
    `"3", "4"`. A weak tag (`W/"3"`) never matches (If-Match compares strongly); a bare
    number is read as its quoted tag. Raises ValueError for anything else."""
    if header.strip() == "*":
        return VersionCondition(None)
    versions: set[int] = set()
    for part in header.split(","):
        tag = _TAG.fullmatch(part)
        if tag is None:
            raise ValueError(f"not an entity tag: {part.strip()!r}")
        if tag.group(1) is None:
            versions.add(int(tag.group(3)))
    return VersionCondition(frozenset(versions))
