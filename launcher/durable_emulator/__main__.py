"""`python -m launcher.durable_emulator --state-dir DIR`: moto's server, restored from DIR."""

from __future__ import annotations

import argparse
from pathlib import Path

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.s3.models import s3_backends
from moto.sqs.models import sqs_backends
from werkzeug.serving import run_simple

from launcher.durable_emulator import hooks
from launcher.durable_emulator.journal import MessageJournal, decode_attributes
from launcher.durable_emulator.objects import ObjectDirectory

ACCOUNT_ID = "123456789012"  # moto's


def restore_objects(objects: ObjectDirectory) -> int:
    """Put every stored object back, creating its bucket; return how many."""
    backend = s3_backends[ACCOUNT_ID]["aws"]
    count = 0
    for stored in objects.objects():
        if stored.bucket not in backend.buckets:
            backend.create_bucket(stored.bucket, stored.region)
        key = backend.put_object(stored.bucket, stored.key, stored.body)
        key.set_metadata(stored.metadata)
        count += 1
    return count


def restore_messages(journal: MessageJournal) -> int:
    """Send every live message again (new ids), creating its queue, and make the journal
    hold exactly those; return how many. Queue attributes come back with `fluxa setup`."""
    sent = []
    for record in journal.live.values():
        backend = sqs_backends[ACCOUNT_ID][record["region"]]
        if record["queue"] not in backend.queues:
            backend.create_queue(record["queue"])
        message = backend.send_message(
            record["queue"],
            record["body"],
            message_attributes=decode_attributes(record["attributes"]),
            delay_seconds=hooks.restore_time(record["visible_at"]),
            deduplication_id=record["deduplication_id"],
            group_id=record["group_id"],
        )
        sent.append(hooks.send_record(backend, record["queue"], message))
    journal.rewrite(sent)
    return len(sent)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m launcher.durable_emulator")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    args.state_dir.mkdir(parents=True, exist_ok=True)
    journal = MessageJournal.load(args.state_dir / "queues.journal")
    objects = ObjectDirectory(args.state_dir / "objects")
    print(f"restored {restore_objects(objects)} objects", flush=True)
    print(f"restored {restore_messages(journal)} messages", flush=True)
    hooks.install()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, hooks.PersistingApp(app, journal, objects), threaded=True)


if __name__ == "__main__":
    main()
