"""The rules of CloudWatch's Embedded Metric Format specification, as a checker: a line
CloudWatch would reject (or silently not turn into metrics) gets a list of problems."""

from __future__ import annotations

from numbers import Real
from typing import Any

UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second", "None",
}  # fmt: skip


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def emf_problems(line: dict[str, Any]) -> list[str]:
    """What makes `line` not a valid EMF document (empty: valid)."""
    meta = line.get("_aws")
    if not isinstance(meta, dict):
        return ["no _aws object"]
    problems = []
    if not isinstance(meta.get("Timestamp"), int) or meta["Timestamp"] < 0:
        problems.append("_aws.Timestamp must be a non-negative integer (milliseconds)")
    directives = meta.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return [*problems, "_aws.CloudWatchMetrics must be a non-empty array"]
    for directive in directives:
        problems += _directive_problems(line, directive)
    return problems


def _directive_problems(line: dict[str, Any], directive: dict[str, Any]) -> list[str]:
    problems = []
    namespace = directive.get("Namespace")
    if not isinstance(namespace, str) or not namespace.strip() or len(namespace) > 1024:
        problems.append("Namespace must be a non-blank string of at most 1024 characters")
    for names in directive.get("Dimensions", []):
        if not isinstance(names, list) or len(names) > 30:
            problems.append("a dimension set must be an array of at most 30 names")
            continue
        for name in names:
            if not isinstance(line.get(name), str):
                problems.append(f"dimension {name!r} has no string member")
    metrics = directive.get("Metrics")
    if not isinstance(metrics, list) or not 0 < len(metrics) <= 100:
        return [*problems, "Metrics must hold 1 to 100 definitions"]
    for metric in metrics:
        name = metric.get("Name")
        if not isinstance(name, str) or not 0 < len(name) <= 1024:
            problems.append(f"metric name {name!r} is not a 1–1024 character string")
            continue
        if "Unit" in metric and metric["Unit"] not in UNITS:
            problems.append(f"metric {name}: unknown unit {metric['Unit']!r}")
        value = line.get(name)
        values = value if isinstance(value, list) else [value]
        if not values or len(values) > 100 or not all(_is_number(v) for v in values):
            problems.append(f"metric {name}: its member must be a number or 1–100 numbers")
    return problems
