"""The standalone restarts PostgreSQL and the emulator when they die (launcher/dependencies.py)."""

from __future__ import annotations

from launcher.dependencies import DependencyKeeper


class Flaky:
    """A dependency that is dead until restarted, and fails its first `refusals` starts."""

    name = "db"

    def __init__(self, refusals: int = 0) -> None:
        self.up, self.refusals, self.starts = True, refusals, 0

    def alive(self) -> bool:
        return self.up

    def restart(self) -> None:
        self.starts += 1
        if self.starts <= self.refusals:
            raise RuntimeError("shared memory still in use")
        self.up = True


def test_a_live_dependency_is_left_alone():
    db = Flaky()
    assert DependencyKeeper([db]).tend(0.0) == [] and db.starts == 0


def test_a_dead_dependency_is_restarted_after_its_backoff():
    db = Flaky()
    keeper = DependencyKeeper([db])
    db.up = False
    assert keeper.tend(100.0) == ["db died; restarting in 1 s"]
    assert keeper.tend(100.5) == [] and db.starts == 0  # backing off
    assert keeper.tend(101.0) == ["db restarted"]
    assert db.up and keeper.tend(101.5) == []


def test_a_failed_start_backs_off_longer_and_is_tried_again():
    db = Flaky(refusals=2)
    keeper = DependencyKeeper([db])
    db.up = False
    keeper.tend(100.0)
    assert keeper.tend(101.0) == [
        "db did not start (RuntimeError: shared memory still in use); again in 2 s"
    ]
    assert keeper.tend(102.0) == []
    assert keeper.tend(103.0) == [
        "db did not start (RuntimeError: shared memory still in use); again in 4 s"
    ]
    assert keeper.tend(107.0) == ["db restarted"] and db.up and db.starts == 3
