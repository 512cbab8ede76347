"""fluxa.infra.queue_reader against a queue whose receives and counts are scripted."""

from __future__ import annotations

from fluxa.infra.queue_reader import PATIENCE, read_batches, start_read


class ScriptedQueue:
    """Answers receives from `batches` (then empty) and counts with `visible`."""

    def __init__(self, batches, visible):
        self.batches = list(batches)
        self.visible = visible
        self.receives = 0
        self.waits = []

    def receive_message(self, **kwargs):
        self.receives += 1
        self.waits.append(kwargs["WaitTimeSeconds"])
        return {"Messages": self.batches.pop(0)} if self.batches else {}

    def get_queue_attributes(self, **kwargs):
        return {"Attributes": {"ApproximateNumberOfMessages": str(self.visible()),
                               "ApproximateNumberOfMessagesNotVisible": "0"}}  # fmt: skip


def messages(n):
    return [{"MessageId": str(i), "ReceiptHandle": f"h{i}", "Body": "{}"} for i in range(n)]


def test_an_empty_receive_ends_the_read_only_when_the_counts_agree():
    answers = iter([3, 3, 0])  # at start; after the first (empty) receive; at the end
    queue = ScriptedQueue([[], messages(3)], visible=lambda: next(answers, 0))
    read = start_read(queue, "url")
    got = [m for batch in read_batches(queue, "url", read, hide_seconds=30) for m in batch]
    assert len(got) == 3 and read.drained and read.shortfall is None
    assert set(queue.waits) == {1}  # long polls only


def test_a_read_that_never_sees_what_sqs_counts_stops_and_says_so():
    queue = ScriptedQueue([], visible=lambda: 7)
    read = start_read(queue, "url")
    assert list(read_batches(queue, "url", read, hide_seconds=30)) == []
    assert read.drained is False and queue.receives == PATIENCE
    assert "7 visible" in read.shortfall and "incomplete" in read.shortfall
