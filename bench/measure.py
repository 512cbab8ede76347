"""Rounds, medians, percentiles and the Fluxa/baseline table."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))  # 1-based
    return ordered[min(max(rank, 1), len(ordered)) - 1]


@dataclass
class Comparison:
    """One benchmark: Fluxa's and the baseline's figure per round, and the target ratio."""

    name: str
    unit: str
    higher_is_better: bool
    target: str
    fluxa: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """Fluxa's median over the baseline's (of the figure as measured)."""
        if not self.fluxa or not self.baseline or not statistics.median(self.baseline):
            return None
        return statistics.median(self.fluxa) / statistics.median(self.baseline)

    def row(self) -> list[str]:
        med = lambda xs: _figure(statistics.median(xs)) if xs else "–"  # noqa: E731
        ratio = f"{self.ratio:.2f}" if self.ratio is not None else "–"
        return [self.name, self.unit, med(self.fluxa), med(self.baseline), ratio, self.target]


def _figure(value: float) -> str:
    """Three significant digits or so, whatever the magnitude."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def table(results: list[Comparison]) -> str:
    """A Markdown table of the results."""
    head = ["benchmark", "unit", "Fluxa (median)", "baseline (median)", "ratio", "target"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(r.row()) + " |" for r in results]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the figures ran on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }


def write_json(results: list[Comparison], path: Path, settings: dict[str, Any]) -> None:
    data = {
        "machine": machine(),
        "settings": settings,
        "results": [{**asdict(r), "ratio": r.ratio} for r in results],
    }
    path.write_text(json.dumps(data, indent=2, default=str))
