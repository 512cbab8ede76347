"""Who a verified token speaks for."""

from __future__ import annotations

from dataclasses import dataclass, field

ADMIN_GROUP = "admin"
SCOPE_EVENTS_WRITE = "fluxa/events.write"
SCOPE_EVENTS_READ = "fluxa/events.read"


@dataclass(frozen=True)
class Principal:
    """The caller: `sub` owns trades and stats; scopes and groups authorize."""

    sub: str
    token_use: str
    issued_at: int = 0
    scopes: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
