"""`cli.progress.Progress` off a terminal: a line at the start, per tenth, and at the end."""

from __future__ import annotations

from cli.progress import Progress


def test_plain_progress_prints_a_line_per_tenth(capsys):
    with Progress("items", 100) as progress:
        for done in range(0, 101, 5):
            progress.update(done)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["items: 0 of 100"] + [f"items: {n} of 100" for n in range(10, 101, 10)]


def test_a_run_that_stops_short_still_says_where_it_stopped(capsys):
    with Progress("items", 50) as progress:
        progress.update(3)
    assert capsys.readouterr().err.splitlines() == ["items: 0 of 50", "items: 3 of 50"]


def test_nothing_to_do_is_one_line(capsys):
    with Progress("items", 0):
        pass
    assert capsys.readouterr().err.splitlines() == ["items: 0 of 0"]
