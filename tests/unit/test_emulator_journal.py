"""The durable emulator's queue journal and object directory, on a temporary directory."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from launcher.durable_emulator import journal as journal_module
from launcher.durable_emulator.journal import MessageJournal, decode_attributes, encode_attributes
from launcher.durable_emulator.objects import ObjectDirectory, StoredObject


def sent(id_: str, queue: str = "q", body: str = "b") -> dict:
    return {
        "op": "send", "id": id_, "queue": queue, "body": body, "region": "us-east-1",
        "attributes": {}, "visible_at": 0, "group_id": None, "deduplication_id": None,
    }  # fmt: skip


def test_replay_keeps_exactly_the_messages_not_deleted(tmp_path):
    path = tmp_path / "j"
    journal = MessageJournal(path)
    journal.commit([sent("a"), sent("b"), sent("c", queue="other")])
    journal.commit([{"op": "delete", "id": "b"}])
    journal.commit([sent("d")])
    journal.commit([{"op": "purge", "queue": "other"}])
    assert list(MessageJournal.load(path).live) == ["a", "d"]


def test_a_delete_committed_before_its_send_still_deletes(tmp_path):
    path = tmp_path / "j"
    MessageJournal(path).commit([{"op": "delete", "id": "x"}, sent("x"), sent("y")])
    assert list(MessageJournal.load(path).live) == ["y"]


def test_a_torn_last_line_is_ignored(tmp_path):
    path = tmp_path / "j"
    MessageJournal(path).commit([sent("a")])
    with open(path, "ab") as out:
        out.write(json.dumps(sent("b")).encode()[:25])  # the crash came mid-write
    assert list(MessageJournal.load(path).live) == ["a"]


def test_the_journal_compacts_itself_to_its_live_messages(tmp_path, monkeypatch):
    monkeypatch.setattr(journal_module, "COMPACT_SLACK_BYTES", 2000)
    path = tmp_path / "j"
    journal = MessageJournal(path)
    for i in range(100):
        journal.commit([sent(f"m{i}", body="x" * 50)])
        if i % 10:
            journal.commit([{"op": "delete", "id": f"m{i}"}])
    assert path.stat().st_size < 6000  # far less than 190 lines of ~200 bytes
    assert list(MessageJournal.load(path).live) == [f"m{i}" for i in range(0, 100, 10)]


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=10),
        st.one_of(
            st.builds(lambda v: {"DataType": "String", "StringValue": v}, st.text()),
            st.builds(lambda v: {"DataType": "Binary", "BinaryValue": v}, st.binary()),
        ),
        max_size=5,
    )
)
def test_message_attributes_survive_the_journal(attributes):
    encoded = json.loads(json.dumps(encode_attributes(attributes)))
    assert decode_attributes(encoded) == attributes


def test_objects_round_trip_and_deletes_remove_them(tmp_path):
    directory = ObjectDirectory(tmp_path)
    long_key = "archive/" + "k" * 400 + "/\u00e9.json"  # longer than a file name may be
    directory.save(StoredObject("b1", "us-east-1", long_key, b"body", {"content-type": "x/y"}))
    directory.save(StoredObject("b1", "us-east-1", "gone", b"", {}))
    directory.delete("b1", "gone")
    assert list(directory.objects()) == [
        StoredObject("b1", "us-east-1", long_key, b"body", {"content-type": "x/y"})
    ]


def test_an_object_whose_body_is_incomplete_is_not_restored(tmp_path):
    directory = ObjectDirectory(tmp_path)
    directory.save(StoredObject("b1", "us-east-1", "k", b"four", {}))
    next((tmp_path / "b1").glob("*.body")).write_bytes(b"fo")
    assert list(directory.objects()) == []


def test_a_delete_before_its_send_survives_a_compaction_and_a_restart(tmp_path, monkeypatch):
    """Two emulator threads can commit a message's delete before its send; a compaction
    between the two must keep the delete, or a restart delivers the message again."""
    monkeypatch.setattr(journal_module, "COMPACT_SLACK_BYTES", 2000)
    path = tmp_path / "j"
    journal = MessageJournal(path)
    journal.commit([{"op": "delete", "id": "early"}])
    journal.commit([sent(f"m{i}", body="x" * 100) for i in range(40)])  # compacts
    assert journal._rewritten, "the journal was expected to compact here"
    journal.commit([sent("early")])
    assert "early" not in journal.live
    assert "early" not in MessageJournal.load(path).live
