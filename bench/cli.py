"""`python -m bench`: run the benchmarks, print the table, write the JSON."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from bench import freshness, ids, imports, ingest, memory, processing, query, scale, stats
from bench.infra import Infra
from bench.measure import Comparison, table, write_json

SUITES = ("ingest", "processing", "stats", "freshness", "query", "memory", "ids", "scale",
          "imports")  # fmt: skip


@click.command()
@click.option("--only", multiple=True, type=click.Choice(SUITES), help="run only these")
@click.option("--rounds", default=3, show_default=True, help="alternating rounds per benchmark")
@click.option("--events", default=5000, show_default=True, help="events per processing round")
@click.option("--count-events", default=1000, show_default=True, help="events of the count run")
@click.option("--concurrency", default=2, show_default=True, help="worker processes (both sides)")
@click.option("--clients", default=4, show_default=True, help="concurrent HTTP clients")
@click.option("--requests", "batch_requests", default=25, show_default=True,
              help="batch requests per client and round")  # fmt: skip
@click.option("--memory-events", default=100_000, show_default=True,
              help="events of the memory run")  # fmt: skip
@click.option("--one-user-trades", default=10_000, show_default=True)
@click.option("--all-trades", default=100_000, show_default=True, help="full profile: 1000000")
@click.option("--all-users", default=1_000, show_default=True, help="full profile: 10000")
@click.option("--query-rows", default=200_000, show_default=True, help="full profile: 1000000")
@click.option("--id-prefill", default=1_000_000, show_default=True,
              help="rows in events before the id inserts")  # fmt: skip
@click.option("--id-inserts", default=50_000, show_default=True, help="rows inserted per round")
@click.option("--scale-rows", default=10_000_000, show_default=True,
              help="events stored before the scale suite measures")  # fmt: skip
@click.option("--scale-days", default=30, show_default=True,
              help="days (partitions) the scale suite's rows span")  # fmt: skip
@click.option("--database-url", envvar="FLUXA_BENCH_DATABASE_URL",
              help="a PostgreSQL server to use (default: an embedded one)")  # fmt: skip
@click.option("--out", type=click.Path(path_type=Path), default=Path("bench/results.json"))
def main(**options: object) -> None:
    """Fluxa against its raw baselines, alternating, several rounds; medians and ratios."""
    only = options.pop("only") or SUITES
    results: list[Comparison] = []
    with tempfile.TemporaryDirectory(prefix="fluxa-bench-") as root:
        infra = Infra(Path(root), options["database_url"])
        try:
            for suite in only:
                click.echo(f"bench: {suite} …", err=True)
                results += _run(suite, infra, options)
                click.echo(table(results), err=True)
        finally:
            infra.close()
    click.echo(table(results))
    for result in results:
        if result.extra:
            click.echo(f"{result.name}: {json.dumps(result.extra, default=str)}")
    write_json(results, options["out"], {k: v for k, v in options.items() if k != "database_url"})


def _run(suite: str, infra: Infra, o: dict) -> list[Comparison]:
    if suite == "ingest":
        singles = o["batch_requests"] * 2
        return ingest.run(infra, ingest.IngestOptions(
            o["rounds"], o["clients"], o["batch_requests"], singles, 2))  # fmt: skip
    if suite == "processing":
        return processing.run(infra, processing.ProcessingOptions(
            o["rounds"], o["events"], o["concurrency"], o["count_events"]))  # fmt: skip
    if suite == "stats":
        return stats.run(infra, stats.StatsOptions(
            o["rounds"], o["one_user_trades"], o["all_trades"], o["all_users"]))  # fmt: skip
    if suite == "freshness":
        return freshness.run(infra, freshness.FreshnessOptions(o["rounds"]))
    if suite == "ids":
        return ids.run(infra, ids.IdOptions(o["rounds"], o["id_prefill"], o["id_inserts"]))
    if suite == "imports":
        return imports.run(infra, imports.ImportOptions(o["rounds"], o["concurrency"]))
    if suite == "scale":
        sizes = (o["scale_rows"], o["scale_days"], o["events"], o["concurrency"])
        return scale.run(infra, scale.ScaleOptions(o["rounds"], *sizes))
    if suite == "memory":
        return memory.run(infra, memory.MemoryOptions(o["memory_events"], o["concurrency"], 2))
    return query.run(infra, query.QueryOptions(o["query_rows"]))
