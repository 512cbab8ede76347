"""FLUXA_DATABASE_READER_URL: the event queries read the reader, everything else the writer.

The reader here is the suite's database behind a TCP proxy of its own, so cutting the
proxy shows which requests depend on it: the event queries answer 503 and /readyz names
the reader, while ingest, trades and stats go on against the writer.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from api.app import create_app
from launcher.waiting import wait_until
from tests.integration.helpers import wait_for_rows
from tests.support.builders import event_body
from tests.support.tcp_proxy import TcpProxy
from tests.support.trades import trade_body

pytestmark = pytest.mark.integration


def test_event_queries_read_the_reader_and_the_rest_reads_the_writer(
    settings, test_database, machine_token, auth, engine, worker
):
    proxy = TcpProxy(test_database.proxy.upstream)
    reader = test_database.proxied_url.replace(f":{test_database.proxy.port}/", f":{proxy.port}/")
    client = create_app(dataclasses.replace(settings, database_reader_url=reader)).test_client()
    machine = {"Authorization": f"Bearer {machine_token}"}
    user = auth(f"reader-{uuid.uuid4().hex[:8]}")
    try:
        event_id = client.post("/v1/events", json=event_body(), headers=machine).get_json()[
            "event_id"
        ]
        wait_for_rows(engine, [event_id])
        assert client.get(f"/v1/events/{event_id}", headers=machine).status_code == 200
        assert client.get("/readyz").get_json()["checks"]["database_reader"] == "ok"

        proxy.refuse()
        assert client.get(f"/v1/events/{event_id}", headers=machine).status_code == 503
        assert client.get("/v1/events", headers=machine).status_code == 503
        ready = client.get("/readyz").get_json()
        assert ready["status"] == "degraded" and ready["checks"]["database"] == "ok"
        assert ready["checks"]["database_reader"] != "ok"
        assert client.post("/v1/events", json=event_body(), headers=machine).status_code == 202
        trade = client.post("/v1/trades", json=trade_body(), headers=user)
        assert trade.status_code == 201
        assert client.get(f"/v1/trades/{trade.get_json()['id']}", headers=user).status_code == 200
        assert client.get("/v1/stats", headers=user).status_code in (200, 404)

        proxy.restore()
        wait_until(
            lambda: client.get(f"/v1/events/{event_id}", headers=machine).status_code == 200,
            timeout=30,
            what="the reader back",
        )
    finally:
        proxy.close()
