"""The benchmark report's arithmetic (the figures themselves are never asserted)."""

from bench.measure import Comparison, percentile, table


def test_percentile_by_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([], 50) == 0.0


def test_ratio_is_of_the_medians_and_the_table_shows_it():
    row = Comparison("x", "events/s", True, "≥ 0.50", fluxa=[10, 30, 20], baseline=[40, 40, 50])
    assert row.ratio == 0.5
    assert "| x | events/s | 20 | 40 | 0.50 | ≥ 0.50 |" in table([row])
    assert Comparison("y", "s", False, "–").ratio is None
