"""S3 object access with botocore errors mapped to Fluxa error codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from fluxa.errors import NotFoundError, StorageUnavailableError

_MISSING_CODES = {"NoSuchKey", "404", "NotFound", "NoSuchBucket"}


@contextmanager
def translated(action: str, key: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _MISSING_CODES:
            raise NotFoundError(f"object {key!r} not found") from exc
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status >= 500 or code in {"SlowDown", "RequestTimeout", "Throttling"}:
            raise StorageUnavailableError(f"S3 {action} failed: {code}") from exc
        raise
    except BotoCoreError as exc:
        raise StorageUnavailableError(f"S3 {action} failed: {type(exc).__name__}") from exc


class S3ObjectStore:
    """Objects in one bucket (event payloads, images); the boto3 client is injected."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def put(self, key: str, body: bytes, *, content_type: str = "application/json") -> None:
        """Store `body` at `key` (an overwrite with equal bytes is harmless)."""
        with translated("put", key):
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType=content_type
            )

    def get(self, key: str, *, offset: int = 0, length: int | None = None) -> bytes:
        """Read `length` bytes at `offset` of `key` (the whole object when `length` is None)."""
        extra = {}
        if length is not None:
            extra["Range"] = f"bytes={offset}-{offset + length - 1}" if length else "bytes=0-0"
        with translated("get", key):
            data = self._client.get_object(Bucket=self.bucket, Key=key, **extra)["Body"].read()
        return data if length != 0 else b""

    def copy(self, source_key: str, key: str) -> None:
        """Copy `source_key` to `key` inside the bucket (server-side; no bytes travel)."""
        with translated("copy", source_key):
            self._client.copy_object(
                Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": source_key}
            )

    def refresh(self, key: str) -> None:
        """Write `key` anew with the same bytes, so a lifecycle rule counts its age from now.

        S3 refuses a copy onto itself that changes nothing; replacing the metadata (with
        the same metadata) is the documented way to restart an object's clock.
        """
        with translated("refresh", key):
            head = self._client.head_object(Bucket=self.bucket, Key=key)
            self._client.copy_object(
                Bucket=self.bucket,
                Key=key,
                CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="REPLACE",
                Metadata=head.get("Metadata", {}),
                ContentType=head.get("ContentType", "application/json"),
            )

    def exists(self, key: str) -> bool:
        """Whether an object is stored at `key`."""
        try:
            with translated("head", key):
                self._client.head_object(Bucket=self.bucket, Key=key)
        except NotFoundError:
            return False
        return True
