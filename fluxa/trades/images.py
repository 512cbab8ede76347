"""Trade images in S3: presigned uploads, existence checks, and orphan clean-up."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fluxa.errors import NotFoundError
from fluxa.infra.storage import S3ObjectStore, translated

CONTENT_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
MAX_IMAGE_BYTES = 10 * 1024 * 1024
UPLOAD_URL_SECONDS = 900


@dataclass(frozen=True)
class ImageUpload:
    """A presigned POST: send `fields` and then the file as multipart/form-data to `url`."""

    key: str
    url: str
    fields: dict[str, str]
    max_bytes: int
    expires_in: int


def user_prefix(user_id: str) -> str:
    """Every image of a user lives under this prefix (erasure deletes by it)."""
    return f"users/{quote(user_id, safe='')}/"


def key_prefix(user_id: str, trade_id: str) -> str:
    """Every image of a trade lives under this prefix (so keys prove their owner)."""
    return f"{user_prefix(user_id)}trades/{trade_id}/"


def is_image_key(key: str) -> bool:
    """Whether `key` is where a trade's image is kept (`users/<user>/trades/...`)."""
    parts = key.split("/")
    return len(parts) > 3 and parts[0] == "users" and parts[2] == "trades"


def image_key(user_id: str, trade_id: str, content_type: str, size: int) -> str:
    """A fresh key that records the declared size and type: `<prefix><hex>.<size>.<ext>`."""
    return f"{key_prefix(user_id, trade_id)}{uuid.uuid4().hex}.{size}.{CONTENT_TYPES[content_type]}"


def declared_upload(key: str) -> tuple[int, str] | None:
    """The (size, content type) a key was granted for, or None for a key of another form."""
    parts = key.rsplit("/", 1)[-1].split(".")
    types = {ext: ct for ct, ext in CONTENT_TYPES.items()}
    if len(parts) != 3 or not parts[1].isdigit() or parts[2] not in types:
        return None
    return int(parts[1]), types[parts[2]]


def upload_problem(key: str, stored: tuple[int, str] | None) -> str | None:
    """Why the object stored at `key` (its size and type, None if absent) may not be
    attached, or None when it may: it must exist, have the granted type and at most
    the granted size."""
    declared = declared_upload(key)
    if declared is None:
        return f"Not an image key granted by POST /v1/trades/{{id}}/images: {key}"
    if stored is None:
        return f"Not uploaded (yet): {key}"
    size, content_type = stored
    if content_type != declared[1]:
        return f"Stored as {content_type!r}, granted for {declared[1]!r}: {key}"
    if not 0 < size <= min(declared[0], MAX_IMAGE_BYTES):
        return f"Stored {size} bytes, granted for at most {declared[0]}: {key}"
    return None


class S3ImageStore:
    """The image bucket; `client` signs URLs that the user's browser or app will call."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket
        self.objects = S3ObjectStore(client, bucket)

    def presign_upload(
        self, user_id: str, trade_id: str, content_type: str, size: int
    ) -> ImageUpload:
        """A presigned POST (SigV4) whose policy S3 enforces: this key, this content
        type, 1 to `size` bytes, within `UPLOAD_URL_SECONDS`."""
        key = image_key(user_id, trade_id, content_type, size)
        with translated("presign", key):
            post = self._client.generate_presigned_post(
                Bucket=self.bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, size]],
                ExpiresIn=UPLOAD_URL_SECONDS,
            )
        return ImageUpload(
            key=key,
            url=post["url"],
            fields=post["fields"],
            max_bytes=size,
            expires_in=UPLOAD_URL_SECONDS,
        )

    def stored(self, key: str) -> tuple[int, str] | None:
        """The size and content type of the object at `key`, or None when there is none."""
        try:
            with translated("head", key):
                head = self._client.head_object(Bucket=self.bucket, Key=key)
        except NotFoundError:
            return None
        return int(head["ContentLength"]), head.get("ContentType", "")

    def pages_older_than(
        self, cutoff: dt.datetime, kind: Callable[[str], bool], page_size: int = 1000
    ) -> Iterator[list[str]]:
        """Keys under `users/` of one `kind` (trade images, imported files) last written
        before `cutoff`, a page at a time."""
        return self._pages(
            "users/", lambda o: o["LastModified"] < cutoff and kind(o["Key"]), page_size
        )

    def pages_under(self, prefix: str, page_size: int = 1000) -> Iterator[list[str]]:
        """Keys of the image objects under `prefix`, a page at a time."""
        return self._pages(prefix, lambda _: True, page_size)

    def _pages(
        self, prefix: str, wanted: Callable[[dict[str, Any]], bool], page_size: int
    ) -> Iterator[list[str]]:
        paginator = self._client.get_paginator("list_objects_v2")
        with translated("list", prefix):
            for page in paginator.paginate(
                Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
            ):
                keys = [o["Key"] for o in page.get("Contents", []) if wanted(o)]
                if keys:
                    yield keys

    def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        with translated("delete", keys[0]):
            self._client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}
            )


def delete_orphans(
    store: S3ImageStore,
    referenced: Callable[[list[str]], set[str]],
    *,
    grace: dt.timedelta,
    kind: Callable[[str], bool] = is_image_key,
    now: dt.datetime | None = None,
) -> tuple[int, int]:
    """Delete the user objects of one `kind` (trade images by default) older than `grace`
    that nothing `referenced` names; (deleted, kept)."""
    cutoff = (now or dt.datetime.now(dt.UTC)) - grace
    deleted = kept = 0
    for keys in store.pages_older_than(cutoff, kind):
        still_used = referenced(keys)
        orphans = [k for k in keys if k not in still_used]
        store.delete(orphans)
        deleted += len(orphans)
        kept += len(still_used)
    return deleted, kept
