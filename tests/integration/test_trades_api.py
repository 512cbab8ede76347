"""Trades over HTTP: CRUD, integrity, optimistic concurrency, user isolation, images."""

from __future__ import annotations

import base64
import json
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fluxa.trades.models import trades
from tests.support.trades import closed_body, post_upload, trade_body

pytestmark = pytest.mark.integration


def new_user() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


def create(client, auth, user, body=None):
    response = client.post("/v1/trades", json=body or trade_body(), headers=auth(user))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response


def count_trades(engine, user) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(trades).where(trades.c.user_id == user)
        ).scalar_one()


def test_create_read_update_delete(client, auth):
    user = new_user()
    created = create(client, auth, user)
    trade = created.get_json()
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"].endswith(trade["id"])
    assert (trade["quantity"], trade["entry_price"], trade["fees"]) == ("10", "100", "1.25")
    assert trade["status"] == "open" and trade["version"] == 1

    got = client.get(f"/v1/trades/{trade['id']}", headers=auth(user))
    assert got.get_json() == trade

    patch = {
        "partial_closes": [{"quantity": 4, "price": "110", "closed_at": "2026-03-02T15:00:00Z"}],
        "exit_price": 95.5,
        "exited_at": "2026-03-02T16:00:00Z",
    }
    updated = client.patch(
        f"/v1/trades/{trade['id']}", json=patch, headers={**auth(user), "If-Match": '"1"'}
    )
    assert updated.status_code == 200, updated.get_data(as_text=True)
    body = updated.get_json()
    assert body["status"] == "closed" and body["version"] == 2
    # 4 × 10 + 6 × (−4.5) − 1.25 fees
    assert body["realized_pnl"] == "11.75"
    assert updated.headers["ETag"] == '"2"'

    assert client.delete(f"/v1/trades/{trade['id']}", headers=auth(user)).status_code == 204
    assert client.get(f"/v1/trades/{trade['id']}", headers=auth(user)).status_code == 404


def test_stale_version_is_412_and_missing_version_is_428(client, auth):
    user = new_user()
    trade_id = create(client, auth, user).get_json()["id"]
    first = client.patch(
        f"/v1/trades/{trade_id}", json={"notes": "a", "version": 1}, headers=auth(user)
    )
    assert first.status_code == 200
    stale = client.patch(
        f"/v1/trades/{trade_id}", json={"notes": "b"}, headers={**auth(user), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.get_json()["code"] == "PreconditionFailed"
    missing = client.patch(f"/v1/trades/{trade_id}", json={"notes": "c"}, headers=auth(user))
    assert missing.status_code == 428
    assert client.get(f"/v1/trades/{trade_id}", headers=auth(user)).get_json()["notes"] == "a"


@pytest.mark.parametrize(
    ("if_match", "status"),
    [("*", 200), ('"7", "2"', 200), ('"1", "3"', 412), ('W/"2"', 412), ("2", 200), ('"x"', 400)],
)
def test_if_match_takes_star_and_lists_of_etags(client, auth, if_match, status):
    user = new_user()
    trade_id = create(client, auth, user).get_json()["id"]
    assert (
        client.patch(
            f"/v1/trades/{trade_id}", json={"notes": "a", "version": 1}, headers=auth(user)
        ).status_code
        == 200
    )  # now at version 2
    answer = client.patch(
        f"/v1/trades/{trade_id}", json={"notes": "b"}, headers={**auth(user), "If-Match": if_match}
    )
    assert answer.status_code == status, answer.get_data(as_text=True)
    notes = client.get(f"/v1/trades/{trade_id}", headers=auth(user)).get_json()["notes"]
    assert notes == ("b" if status == 200 else "a")
    if status == 400:
        assert "If-Match" in answer.get_json()["errors"]


def test_a_replayed_creation_of_a_deleted_trade_is_410_not_a_dangling_location(client, auth):
    user = new_user()
    headers = {**auth(user), "Idempotency-Key": uuid.uuid4().hex}
    first = client.post("/v1/trades", json=trade_body(), headers=headers)
    again = client.post("/v1/trades", json=trade_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Location"] == first.headers["Location"]
    trade_id = first.get_json()["id"]
    assert client.delete(f"/v1/trades/{trade_id}", headers=auth(user)).status_code == 204
    gone = client.post("/v1/trades", json=trade_body(), headers=headers)
    assert gone.status_code == 410, gone.get_data(as_text=True)
    assert gone.content_type == "application/problem+json"
    assert gone.get_json()["code"] == "NotFound" and trade_id in gone.get_json()["detail"]
    assert "Location" not in gone.headers


def test_the_schema_says_tags_are_unique(client):
    spec = client.get("/v1/openapi.json").get_json()
    create_body = spec["paths"]["/v1/trades"]["post"]["requestBody"]["content"]
    ref = create_body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert spec["components"]["schemas"][ref]["properties"]["tags"]["uniqueItems"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (trade_body(quantity="-1"), "quantity"),
        (trade_body(entry_price="-5"), "entry_price"),
        (
            trade_body(
                partial_closes=[
                    {"quantity": "11", "price": "1", "closed_at": "2026-03-03T00:00:00Z"}
                ]
            ),
            "partial_closes",
        ),
        (
            trade_body(
                partial_closes=[
                    {"quantity": "1", "price": "1", "closed_at": "2026-03-01T00:00:00Z"}
                ]
            ),
            "partial_closes.0.closed_at",
        ),
        (trade_body(exit_price="101"), "exited_at"),
        (trade_body(side="sideways"), "side"),
        (trade_body(quantity="NaN"), "quantity"),
        (trade_body(user_id="someone-else"), "user_id"),
        (trade_body(version=7), "version"),
        (trade_body(status="closed"), "status"),
        (trade_body(net_pnl="1000"), "net_pnl"),
        (trade_body(multiplier="0"), "multiplier"),
        (trade_body(multiplier="2000000"), "multiplier"),
        (trade_body(currency="usd"), "currency"),
        (trade_body(account=" spaced"), "account"),
    ],
)
def test_bad_trades_are_400_naming_the_field_and_nothing_is_stored(
    client, auth, engine, body, field
):
    user = new_user()
    response = client.post("/v1/trades", json=body, headers=auth(user))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert field in response.get_json()["errors"]
    assert count_trades(engine, user) == 0


def test_list_filters_and_pages(client, auth):
    user = new_user()
    ids = []
    for i in range(7):
        body = trade_body(
            symbol="MSFT" if i % 2 else "AAPL",
            entered_at=f"2026-04-0{i + 1}T10:00:00Z",
            tags=["even"] if i % 2 == 0 else ["odd"],
        )
        if i < 2:
            body.update(exit_price="101", exited_at=f"2026-04-0{i + 1}T12:00:00Z")
        ids.append(create(client, auth, user, body).get_json()["id"])

    def page_all(query):
        seen, cursor = [], None
        while True:
            q = query + (f"&cursor={cursor}" if cursor else "")
            page = client.get(f"/v1/trades?{q}", headers=auth(user)).get_json()
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                return seen

    assert page_all("limit=2") == ids[::-1]
    assert page_all("symbol=msft&limit=2") == [ids[5], ids[3], ids[1]]
    assert page_all("status=closed") == [ids[1], ids[0]]
    assert page_all("tag=even&limit=3") == [ids[6], ids[4], ids[2], ids[0]]
    assert page_all("since=2026-04-03T00:00:00Z&until=2026-04-05T00:00:00Z") == [ids[3], ids[2]]


def test_users_never_see_each_others_trades(client, auth):
    alice, bob = new_user(), new_user()
    trade_id = create(client, auth, alice, closed_body("120")).get_json()["id"]
    bob_headers = auth(bob)
    assert client.get(f"/v1/trades/{trade_id}", headers=bob_headers).status_code == 404
    patch = client.patch(
        f"/v1/trades/{trade_id}", json={"notes": "mine", "version": 1}, headers=bob_headers
    )
    assert patch.status_code == 404
    assert client.delete(f"/v1/trades/{trade_id}", headers=bob_headers).status_code == 404
    images = client.post(
        f"/v1/trades/{trade_id}/images",
        json={"content_type": "image/png", "size": 10},
        headers=bob_headers,
    )
    assert images.status_code == 404
    assert client.get("/v1/trades", headers=bob_headers).get_json()["items"] == []
    not_found = client.get(f"/v1/trades/{trade_id}", headers=bob_headers).get_json()
    assert "120" not in str(not_found) and "AAPL" not in str(not_found)
    assert client.get(f"/v1/trades/{trade_id}", headers=auth(alice)).status_code == 200


def test_requests_without_a_valid_token_are_401(anonymous_client, auth):
    client = anonymous_client
    response = client.get("/v1/trades")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    tampered = auth(new_user())["Authorization"][:-4] + "AAAA"
    assert client.get("/v1/trades", headers={"Authorization": tampered}).status_code == 401


def test_image_upload_through_a_presigned_url(client, auth, s3, settings):
    user = new_user()
    trade_id = create(client, auth, user).get_json()["id"]
    data = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    upload = client.post(
        f"/v1/trades/{trade_id}/images",
        json={"content_type": "image/png", "size": len(data)},
        headers=auth(user),
    )
    assert upload.status_code == 201
    grant = upload.get_json()
    put = post_upload(grant, data)
    assert put.status_code in (200, 204), put.text
    stored = s3.get_object(Bucket=settings.image_bucket, Key=grant["key"])["Body"].read()
    assert stored == data

    attached = client.patch(
        f"/v1/trades/{trade_id}", json={"images": [grant["key"]], "version": 1}, headers=auth(user)
    )
    assert attached.status_code == 200 and attached.get_json()["images"] == [grant["key"]]

    foreign = f"users/{new_user()}/trades/{trade_id}/x.4.png"
    refused = client.patch(
        f"/v1/trades/{trade_id}",
        json={"images": [grant["key"], foreign], "version": 2},
        headers=auth(user),
    )
    assert refused.status_code == 400 and "images" in refused.get_json()["errors"]
    too_big = client.post(
        f"/v1/trades/{trade_id}/images",
        json={"content_type": "image/png", "size": 50 * 1024 * 1024},
        headers=auth(user),
    )
    assert too_big.status_code == 400 and "size" in too_big.get_json()["errors"]
    wrong_type = client.post(
        f"/v1/trades/{trade_id}/images",
        json={"content_type": "text/html", "size": 10},
        headers=auth(user),
    )
    assert wrong_type.status_code == 400 and "content_type" in wrong_type.get_json()["errors"]


def grant_for(client, auth, user, trade_id, size: int, content_type: str = "image/png") -> dict:
    response = client.post(
        f"/v1/trades/{trade_id}/images",
        json={"content_type": content_type, "size": size},
        headers=auth(user),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def attach(client, auth, user, trade_id, key: str):
    return client.patch(
        f"/v1/trades/{trade_id}", json={"images": [key], "version": 1}, headers=auth(user)
    )


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"\x89PNG" + b"0" * (11 * 1024 * 1024), "image/png", "granted for at most 68"),
        (b"<html>", "text/html", "text/html"),
    ],
)
def test_attach_refuses_an_object_unlike_its_grant(
    client, auth, s3, settings, body, content_type, reason
):
    """The emulator does not enforce POST policies (S3 does): attach checks again."""
    user = new_user()
    trade_id = create(client, auth, user).get_json()["id"]
    grant = grant_for(client, auth, user, trade_id, size=68)
    s3.put_object(
        Bucket=settings.image_bucket, Key=grant["key"], Body=body, ContentType=content_type
    )
    refused = attach(client, auth, user, trade_id, grant["key"])
    assert refused.status_code == 400, refused.get_data(as_text=True)
    assert reason in " ".join(refused.get_json()["errors"]["images"])


def test_attach_refuses_an_own_key_never_uploaded(client, auth):
    user = new_user()
    trade_id = create(client, auth, user).get_json()["id"]
    grant = grant_for(client, auth, user, trade_id, size=10)
    refused = attach(client, auth, user, trade_id, grant["key"])
    assert refused.status_code == 400 and "Not uploaded" in str(refused.get_json()["errors"])


def test_the_grant_is_a_sigv4_post_policy_naming_type_and_size(client, auth):
    user = new_user()
    trade_id = create(client, auth, user).get_json()["id"]
    grant = grant_for(client, auth, user, trade_id, size=68)
    assert grant["method"] == "POST" and grant["max_bytes"] == 68
    assert grant["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    policy = json.loads(base64.b64decode(grant["fields"]["policy"]))
    assert ["content-length-range", 1, 68] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]


def test_accounts_keep_trades_apart_and_the_multiplier_scales_the_pnl(client, auth):
    """Two accounts of one trader; an ES future (50 USD a point) in one of them."""
    headers = auth(new_user())
    future = trade_body(symbol="ES", quantity="2", entry_price="5000", fees="4.50",
                        account="U-FUT", multiplier="50", currency="USD",
                        exit_price="5010.25", exited_at="2026-03-02T15:00:00Z")  # fmt: skip
    created = client.post("/v1/trades", json=future, headers=headers).get_json()
    assert (created["account"], created["multiplier"], created["currency"]) == (
        "U-FUT",
        "50",
        "USD",
    )
    assert created["realized_pnl"] == "1020.5"  # 10.25 × 2 × 50 − 4.50
    client.post("/v1/trades", json=trade_body(account="U-CASH"), headers=headers)
    client.post("/v1/trades", json=trade_body(), headers=headers)  # no account
    by_account = client.get("/v1/trades?account=U-FUT", headers=headers).get_json()["items"]
    assert [t["id"] for t in by_account] == [created["id"]]
    everything = client.get("/v1/trades", headers=headers).get_json()["items"]
    assert sorted(t["account"] for t in everything) == ["", "U-CASH", "U-FUT"]


def test_stats_of_one_account_and_by_day_in_the_traders_time_zone(client, auth):
    """Computed now from the trades: one account's figures, and a trade closed at 02:00
    UTC counted on the day before in New York."""
    headers = auth(new_user())
    future = trade_body(symbol="ES", quantity="2", entry_price="5000", fees="4.50",
                        account="U-FUT", multiplier="50", entered_at="2026-03-02T23:00:00Z",
                        exit_price="5010.25", exited_at="2026-03-03T02:00:00Z")  # fmt: skip
    cash = trade_body(account="U-CASH", exit_price="90", exited_at="2026-03-02T16:00:00Z")
    for body in (future, cash):
        assert client.post("/v1/trades", json=body, headers=headers).status_code == 201

    one = client.get("/v1/stats?account=U-FUT", headers=headers).get_json()
    # Independently: 10.25 points × 2 contracts × 50 − 4.50 of fees.
    assert (one["closed_trades"], one["net_pnl"], one["stale"]) == (1, "1020.5", False)
    assert one["by_day"] == [{"date": "2026-03-03", "net_pnl": "1020.5"}]
    local = client.get("/v1/stats?account=U-FUT&timezone=America/New_York", headers=headers)
    assert local.get_json()["by_day"] == [{"date": "2026-03-02", "net_pnl": "1020.5"}]
    both = client.get("/v1/stats?timezone=UTC", headers=headers).get_json()
    # (90 − 100) × 10 − 1.25 for the cash trade.
    assert (both["closed_trades"], both["net_pnl"]) == (
        2,
        str(Decimal("1020.5") - Decimal("101.25")),
    )


@pytest.mark.parametrize(
    ("query", "field"), [("timezone=Mars/Olympus", "timezone"), ("timezone=../etc", "timezone"),
                         ("account=%20x", "account")]
)  # fmt: skip
def test_a_bad_stats_query_is_400_naming_it(client, auth, query, field):
    response = client.get(f"/v1/stats?{query}", headers=auth(new_user()))
    assert response.status_code == 400 and field in response.get_json()["errors"]


def test_a_trade_says_its_risk_and_the_stats_count_in_r(client, auth):
    headers = auth(new_user())
    won = trade_body(initial_risk="50", exit_price="110", exited_at="2026-03-02T16:00:00Z")
    lost = trade_body(stop_price="98", exit_price="99", exited_at="2026-03-02T16:00:00Z")
    created = client.post("/v1/trades", json=won, headers=headers).get_json()
    assert (created["initial_risk"], created["stop_price"]) == ("50", None)
    client.post("/v1/trades", json=lost, headers=headers)
    stats = client.get("/v1/stats?timezone=UTC", headers=headers).get_json()
    # (110 − 100) × 10 − 1.25 = 98.75 over 50; (99 − 100) × 10 − 1.25 = −11.25 over 2 × 10.
    assert (stats["r_trades"], stats["average_win_r"], stats["average_loss_r"]) == (
        2, "1.975", "-0.5625"
    )  # fmt: skip
    assert stats["average_r"] == str((Decimal("1.975") - Decimal("0.5625")) / 2)
    bad = client.post("/v1/trades", json=trade_body(initial_risk="0"), headers=headers)
    assert bad.status_code == 400 and "initial_risk" in bad.get_json()["errors"]
