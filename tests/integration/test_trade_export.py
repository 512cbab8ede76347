"""`GET /v1/trades/export` and `fluxa trades export`: every trade of a user, streamed.

In process for what is exported; through the real server (uvicorn and the bridge) for
how: a chunked response read slowly, and one whose database is down before it starts.
"""

from __future__ import annotations

import csv
import io
import random
import socket
import tracemalloc
import uuid
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import requests

from bench.data import copy_trades, trades_for
from fluxa.infra.db import libpq_url, make_engine
from fluxa.trades.export import CSV_COLUMNS, csv_chunks
from fluxa.trades.service import every_trade
from tests.integration.helpers import fluxa
from tests.support.live_api import api_server
from tests.support.trades import closed_body, trade_body

pytestmark = pytest.mark.integration


def journal(client, auth, user: str) -> list[dict]:
    """Three trades of `user`: a long with a partial close, closed; an open short; a
    closed long. Their API documents, newest entry first."""
    headers = auth(user)
    bodies = [
        closed_body("95", partial_closes=[
            {"quantity": "4", "price": "110", "closed_at": "2026-03-02T15:00:00Z", "fees": "0.5"}
        ]),
        trade_body(side="short", symbol="MSFT", entered_at="2026-03-03T14:30:00Z"),
        trade_body(entered_at="2026-03-01T14:30:00Z", exit_price="101",
                   exited_at="2026-03-01T15:00:00Z"),
    ]  # fmt: skip
    for body in bodies:
        assert client.post("/v1/trades", json=body, headers=headers).status_code == 201
    return client.get("/v1/trades", headers=headers).get_json()["items"]


def cash_flow(rows: list[dict[str, str]]) -> Decimal:
    total = Decimal(0)
    for row in rows:
        amount = Decimal(row["quantity"]) * Decimal(row["price"])
        total += (amount if row["side"] == "sell" else -amount) - Decimal(row["fees"])
    return total


def test_the_csv_export_is_the_fills_of_every_trade_and_no_one_elses(client, auth):
    user, other = (f"exporter-{uuid.uuid4().hex[:8]}" for _ in range(2))
    trades = journal(client, auth, user)
    journal(client, auth, other)
    response = client.get("/v1/trades/export", headers=auth(user))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert {row["execution_id"].split(":")[0] for row in rows} == {t["id"] for t in trades}
    closed = {t["id"] for t in trades if t["status"] == "closed"}
    realized = sum(Decimal(t["realized_pnl"]) for t in trades if t["id"] in closed)
    assert cash_flow([r for r in rows if r["execution_id"].split(":")[0] in closed]) == realized


def test_the_json_export_is_every_trade_as_the_api_shows_it(client, auth):
    user = f"exporter-{uuid.uuid4().hex[:8]}"
    trades = journal(client, auth, user)
    response = client.get("/v1/trades/export?format=json", headers=auth(user))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == trades[::-1]  # oldest entry first
    empty = client.get("/v1/trades/export?format=json", headers=auth(f"nobody-{uuid.uuid4().hex}"))
    assert empty.get_json() == []


def test_an_unknown_format_is_a_problem_naming_it(client, auth):
    response = client.get("/v1/trades/export?format=xlsx", headers=auth("someone"))
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "format" in response.get_data(as_text=True)


def test_the_operator_export_is_the_users(client, auth, environ):
    user = f"exporter-{uuid.uuid4().hex[:8]}"
    journal(client, auth, user)
    api = client.get("/v1/trades/export", headers=auth(user)).get_data(as_text=True)
    assert fluxa(environ, "trades", "export", "--user", user) == api
    as_json = client.get("/v1/trades/export?format=json", headers=auth(user)).get_data(as_text=True)
    assert fluxa(environ, "trades", "export", "--user", user, "--format", "json") == as_json


def test_an_export_of_100000_trades_holds_a_page_at_a_time(settings):
    """Constant memory: the export's peak allocation with 100,000 trades stays that of a
    few pages, far below what the trades themselves take (tracemalloc, in process)."""
    user = f"bulk-{uuid.uuid4().hex[:8]}"
    copy_trades(libpq_url(settings.database_url), trades_for(user, 100_000, random.Random(7)))
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        tracemalloc.start()
        size = sum(len(chunk) for chunk in csv_chunks(every_trade(engine, user)))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        engine.dispose()
    assert size > 100_000 * 60  # every trade's fills went out
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MiB for {size / 2**20:.1f} MiB exported"


@pytest.fixture(scope="module")
def live_url(environ, test_database, tmp_path_factory):
    """The real server, on the database through the suite's proxy (a test cuts it)."""
    env = {**environ, "FLUXA_DATABASE_URL": test_database.proxied_url}
    with api_server(env, tmp_path_factory.mktemp("export") / "api.log") as url:
        yield url


def test_the_server_streams_an_export_to_a_slow_reader(live_url, auth, settings):
    """Over the real server: chunked transfer, read a little at a time, whole at the end."""
    user = f"slow-{uuid.uuid4().hex[:8]}"
    copy_trades(libpq_url(settings.database_url), trades_for(user, 3000, random.Random(3)))
    url = urlsplit(live_url)
    token = auth(user)["Authorization"]
    request = (f"GET /v1/trades/export HTTP/1.1\r\nHost: {url.netloc}\r\n"
               f"Authorization: {token}\r\nConnection: close\r\n\r\n").encode()  # fmt: skip
    received = b""
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(request)
        while chunk := sock.recv(1024):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"transfer-encoding: chunked" in head.lower()
    assert body.endswith(b"0\r\n\r\n")  # the last chunk: nothing was cut
    whole = requests.get(f"{live_url}/v1/trades/export", headers={"Authorization": token},
                         timeout=60)  # fmt: skip
    assert whole.status_code == 200
    rows = list(csv.DictReader(io.StringIO(whole.text)))
    assert len({row["execution_id"].split(":")[0] for row in rows}) == 3000


def test_an_export_whose_database_is_down_is_a_503_not_a_cut_stream(live_url, auth, test_database):
    test_database.proxy.refuse()
    try:
        response = requests.get(f"{live_url}/v1/trades/export", headers=auth("cut-off"), timeout=60)
    finally:
        test_database.proxy.restore()
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_the_export_path_is_no_trade_id(client, auth):
    """`export` never reaches the trade routes: a PATCH there is a 405 that allows GET."""
    response = client.patch("/v1/trades/export", json={"notes": "x"}, headers=auth("someone"))
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD"}
