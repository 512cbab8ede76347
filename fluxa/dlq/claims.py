"""The claim-checked payloads a dead letter names, kept alive while it may be replayed.

`claims/` expires by a lifecycle rule counted from an object's last write. Its term
outlives a message's longest stay (input queue, then DLQ); a replay starts that stay
again, so it restarts the clock of every claim the letter names (`S3ObjectStore.refresh`).
"""

from __future__ import annotations

from fluxa.dlq.letters import DeadLetter
from fluxa.errors import NotFoundError
from fluxa.infra.storage import S3ObjectStore


def claim_keys(letter: DeadLetter) -> list[str]:
    """Keys of the claim-checked payloads of the letter's events (none for other tasks)."""
    events = letter.task.kwargs.get("events") if letter.task else None
    if not isinstance(events, list):
        return []
    keys = []
    for event in events:
        ref = event.get("payload_ref") if isinstance(event, dict) else None
        key = ref.get("key") if isinstance(ref, dict) else None
        if isinstance(key, str) and key not in keys:
            keys.append(key)
    return keys


def refresh_claims(store: S3ObjectStore, letter: DeadLetter) -> list[str]:
    """Restart the lifecycle clock of every claim the letter names; the keys that are gone."""
    missing = []
    for key in claim_keys(letter):
        try:
            store.refresh(key)
        except NotFoundError:
            missing.append(key)
    return missing
