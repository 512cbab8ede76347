"""Builders for trade request bodies."""

from __future__ import annotations

from typing import Any

import requests


def trade_body(**overrides: Any) -> dict[str, Any]:
    """A valid create-trade body: 10 AAPL long at 100, open."""
    body: dict[str, Any] = {
        "symbol": "AAPL",
        "side": "long",
        "quantity": "10",
        "entry_price": "100",
        "entered_at": "2026-03-02T14:30:00Z",
        "fees": "1.25",
        "tags": ["swing"],
        "notes": "breakout",
    }
    body.update(overrides)
    return body


def closed_body(exit_price: str, **overrides: Any) -> dict[str, Any]:
    """A closed trade: 10 long at 100 exited at `exit_price`."""
    return trade_body(exit_price=exit_price, exited_at="2026-03-02T16:00:00Z", **overrides)


def post_upload(grant: dict[str, Any], data: bytes) -> requests.Response:
    """Upload `data` through a presigned POST grant, as a browser form would."""
    return requests.post(
        grant["upload_url"],
        data=grant["fields"],
        files={"file": ("image", data, grant["fields"]["Content-Type"])},
        timeout=10,
    )


def uploaded_image(client: Any, auth: Any, user: str, trade_id: str) -> str:
    """The key of a 4-byte PNG uploaded for `trade_id` through the API's grant."""
    grant = client.post(
        f"/v1/trades/{trade_id}/images",
        json={"content_type": "image/png", "size": 4},
        headers=auth(user),
    ).get_json()
    assert post_upload(grant, b"\x89PNG").status_code in (200, 204)
    return grant["key"]
