"""Where imported files are kept: `users/<user>/imports/<import id>.<ext>` in the image
bucket, under the user's prefix (which erasure empties)."""

from __future__ import annotations

from fluxa.trades.images import user_prefix


def import_key(user_id: str, import_id: str, extension: str) -> str:
    """Where an import's file is kept."""
    return f"{user_prefix(user_id)}imports/{import_id}.{extension}"


def is_import_key(key: str) -> bool:
    """Whether `key` has the form of an import's file."""
    parts = key.split("/")
    return len(parts) == 4 and parts[0] == "users" and parts[2] == "imports"


def import_id_of(key: str) -> str:
    """The import id an import file's key names."""
    return key.rsplit("/", 1)[-1].split(".", 1)[0]
