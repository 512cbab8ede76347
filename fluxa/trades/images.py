"""Trade images in S3: presigned uploads, existence checks, and orphan clean-up."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fluxa.storage import S3ObjectStore, translated

CONTENT_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
MAX_IMAGE_BYTES = 10 * 1024 * 1024
UPLOAD_URL_SECONDS = 900


@dataclass(frozen=True)
class ImageUpload:
    key: str
    upload_url: str
    headers: dict[str, str]
    expires_in: int


def key_prefix(user_id: str, trade_id: str) -> str:
    """Every image of a trade lives under this prefix (so keys prove their owner)."""
    return f"users/{quote(user_id, safe='')}/trades/{trade_id}/"


class S3ImageStore:
    """The image bucket; `client` signs URLs that the user's browser or app will call."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket
        self.objects = S3ObjectStore(client, bucket)

    def presign_upload(
        self, user_id: str, trade_id: str, content_type: str, size: int
    ) -> ImageUpload:
        key = f"{key_prefix(user_id, trade_id)}{uuid.uuid4().hex}.{CONTENT_TYPES[content_type]}"
        with translated("presign", key):
            url = self._client.generate_presigned_url(
                "put_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ContentType": content_type,
                    "ContentLength": size,
                },
                ExpiresIn=UPLOAD_URL_SECONDS,
            )
        return ImageUpload(
            key=key,
            upload_url=url,
            headers={"Content-Type": content_type, "Content-Length": str(size)},
            expires_in=UPLOAD_URL_SECONDS,
        )

    def exists(self, key: str) -> bool:
        return self.objects.exists(key)

    def pages_older_than(self, cutoff: dt.datetime, page_size: int = 1000) -> Iterator[list[str]]:
        """Keys of image objects last written before `cutoff`, a page at a time."""
        paginator = self._client.get_paginator("list_objects_v2")
        with translated("list", "users/"):
            for page in paginator.paginate(
                Bucket=self.bucket, Prefix="users/", PaginationConfig={"PageSize": page_size}
            ):
                keys = [o["Key"] for o in page.get("Contents", []) if o["LastModified"] < cutoff]
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
    now: dt.datetime | None = None,
) -> tuple[int, int]:
    """Delete image objects no trade lists that are older than `grace`; (deleted, kept)."""
    cutoff = (now or dt.datetime.now(dt.UTC)) - grace
    deleted = kept = 0
    for keys in store.pages_older_than(cutoff):
        still_used = referenced(keys)
        orphans = [k for k in keys if k not in still_used]
        store.delete(orphans)
        deleted += len(orphans)
        kept += len(still_used)
    return deleted, kept
