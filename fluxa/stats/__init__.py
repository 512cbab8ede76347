"""Per-user trade statistics: the pure calculator, the outbox that marks them stale, rebuilds."""
