"""deploy/prometheus: the runbook's alerts under promtool (Debian's `prometheus` package,
installed by `make test`), with fluxa.ops.alarm_rules' thresholds; the Grafana dashboard
reads only series that exist."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from fluxa.ops import alarm_rules, metric_names

ROOT = Path(__file__).parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
PROMTOOL = shutil.which("promtool")

needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="make test installs prometheus")


@needs_promtool
def test_promtool_accepts_the_rules():
    result = subprocess.run([PROMTOOL, "check", "rules", RULES], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


@needs_promtool
def test_each_alert_fires_on_what_should_fire_it_and_only_that():
    tests = ROOT / "deploy" / "prometheus" / "alerts.test.yml"
    result = subprocess.run([PROMTOOL, "test", "rules", tests], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert b"SUCCESS" in result.stdout


def test_the_alerts_are_the_runbooks_with_the_shared_thresholds():
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    thresholds = {
        r["alert"]: re.search(r">\s*([\d.]+)\s*$", r["expr"].strip()).group(1) for r in rules
    }
    assert thresholds == {
        "ProcessorErrorRate": str(alarm_rules.ERROR_RATE_PERCENT),
        "DLQDepth": str(alarm_rules.DLQ_DEPTH),
        "APIGateway5xx": str(alarm_rules.ERROR_RATE_PERCENT),
        "DBHighCPU": str(alarm_rules.DB_HIGH_CPU_PERCENT),
        "ApiThrottling": str(alarm_rules.THROTTLED_PERCENT),
        "EventPartitions": str(alarm_rules.EVENT_PARTITIONS_LATE),
    }
    assert all("docs/runbook.md §" in r["annotations"]["runbook"] for r in rules)


def test_the_dashboard_reads_fluxas_series_and_the_named_exporters():
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "fluxa.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    ours = {
        metric_names.EVENTS, metric_names.TASKS, metric_names.QUEUE_MESSAGES,
        metric_names.HTTP_REQUESTS, metric_names.TASK_DURATION + "_bucket",
        metric_names.HTTP_REQUEST_DURATION + "_bucket",
    }  # fmt: skip
    exporters = {"node_cpu_seconds_total", "pg_stat_database_numbackends"}
    used = {name for e in exprs for name in re.findall(r"\b([a-z_]+)\{", e)}
    used |= {name for e in exprs for name in re.findall(r"\(([a-z_]+_total)\[", e)}
    assert used <= ours | exporters, used - ours - exporters
    assert len(dashboard["panels"]) == 6
