"""Leases on held messages (broker/message_leases.py): the renewals sent, and failures."""

from __future__ import annotations

from broker.message_leases import Held, LeaseKeeper, Renewal, failures, renewal_interval, renewals
from launcher.waiting import wait_until

INPUT = "https://sqs/input"
STATS = "https://sqs/stats"


def held(url: str, n: int, queue: str = "q") -> list[Held]:
    return [Held(queue, url, f"{url}#{i}") for i in range(n)]


def test_one_request_per_queue_and_ten_messages():
    requests = renewals(held(INPUT, 23) + held(STATS, 2, "s"), 60)
    assert [(r.queue_url, len(r.entries)) for r in requests] == [
        (INPUT, 10), (INPUT, 10), (INPUT, 3), (STATS, 2),
    ]  # fmt: skip
    assert {e["VisibilityTimeout"] for r in requests for e in r.entries} == {60}
    handles = [e["ReceiptHandle"] for r in requests for e in r.entries]
    assert handles == [h.receipt_handle for h in held(INPUT, 23) + held(STATS, 2, "s")]
    for request in requests:  # ids are unique within a request, as SQS requires
        assert [e["Id"] for e in request.entries] == [str(i) for i in range(len(request.entries))]


def test_nothing_held_nothing_sent():
    assert renewals([], 60) == []


def test_a_lease_is_renewed_three_times_before_it_ends():
    assert renewal_interval(60) == 15
    assert 60 / renewal_interval(60) - 1 == 3


def test_a_message_deleted_meanwhile_is_no_failure():
    response = {
        "Failed": [
            {"Id": "0", "Code": "ReceiptHandleIsInvalid", "SenderFault": True},
            {"Id": "1", "Code": "AWS.SimpleQueueService.MessageNotInflight"},
            {"Id": "2", "Code": "InternalError"},
        ]
    }
    assert [f["Id"] for f in failures(response)] == ["2"]


def test_renew_counts_what_was_renewed_and_survives_a_refusal(caplog):
    sent: list[Renewal] = []

    def send(request: Renewal) -> dict:
        sent.append(request)
        if request.queue_url == STATS:
            raise ConnectionError("refused")
        return {"Successful": [{"Id": "0"}], "Failed": [{"Id": "1", "Code": "InternalError"}]}

    keeper = LeaseKeeper(60, lambda: held(INPUT, 2) + held(STATS, 1, "s"), send)
    assert keeper.renew() == 1
    assert [r.queue_url for r in sent] == [INPUT, STATS]  # the refusal did not stop the rest
    messages = [r.getMessage() for r in caplog.records]
    assert "leases not renewed; tried again shortly" in messages
    assert "a lease was not renewed; the message may be delivered again" in messages


def test_the_keeper_renews_until_stopped():
    renewed: list[Renewal] = []
    keeper = LeaseKeeper(2, lambda: held(INPUT, 1), lambda r: renewed.append(r) or {})
    keeper.start()
    try:
        wait_until(lambda: len(renewed) >= 2, timeout=5, what="two renewals (every 0.5 s)")
    finally:
        keeper.stop()
    count = len(renewed)
    assert keeper.join(timeout=2)
    assert len(renewed) in (count, count + 1)
