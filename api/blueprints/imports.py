"""Imports of brokers' files: upload (a worker reads it), progress, history. A user sees
only theirs."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Response, jsonify, url_for

from api.auth import authenticate, current_principal
from api.blueprints.base import Blueprint
from api.idempotency import IdempotencyHeadersSchema, run_idempotent
from api.rate_limits import JOURNAL, limited_to
from api.request_context import takes_multipart
from api.schemas.imports import (
    ImportListQuerySchema,
    ImportPageSchema,
    ImportQueuedSchema,
    ImportRequestSchema,
    ImportSchema,
    dump_import,
)
from api.services import current_services
from fluxa import logcontext
from fluxa.errors import FileTooLargeError
from fluxa.idempotency import StoredResponse
from fluxa.imports.service import MAX_IMPORT_BYTES

blp = Blueprint(
    "imports", __name__, url_prefix="/v1/imports", description="Your brokers' files, imported."
)
blp.before_request(authenticate)
blp.before_request(limited_to(JOURNAL))
AUTH_ERRORS = (401,)


@blp.before_request
def _bind() -> None:
    logcontext.bind(service="imports")


@blp.route("", methods=["POST"])
@takes_multipart
@blp.arguments(IdempotencyHeadersSchema, location="headers")
@blp.arguments(ImportRequestSchema, location="multipart")
@blp.response(202, ImportQueuedSchema)
@blp.problems(*AUTH_ERRORS, 400, 409, 413, 415, 422, 503)
def create_import(headers: dict[str, Any], form: dict[str, Any]) -> Response:
    """create-import: keep the file and queue its import (`202`); follow it at `Location`.
    With `Idempotency-Key`, the same file sent again is one import."""
    user = current_principal().sub
    data = _read_at_most(form["file"], MAX_IMPORT_BYTES)
    zone = form.get("timezone")
    options = {"format": form["format"], "account": form.get("account", ""),
               "timezone": zone.key if zone else None}  # fmt: skip

    def submit() -> StoredResponse:
        record = current_services().imports.submit(user, data, **options)
        return StoredResponse(status=202, body={"import_id": record.id, "status": "queued"})

    same = {**options, "file_sha256": hashlib.sha256(data).hexdigest()}
    body, status, extra = run_idempotent(
        headers.get("idempotency_key"), f"imports:{user}", submit, body=same
    )
    response = jsonify(body)
    response.status_code = status
    location = url_for("imports.get_import", import_id=body["import_id"])
    response.headers.update({**extra, "Location": location})
    return response


def _read_at_most(upload: Any, limit: int) -> bytes:
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(
            f"the file exceeds {limit} bytes", details={"file": [f"At most {limit} bytes."]}
        )
    return data


@blp.route("", methods=["GET"])
@blp.arguments(ImportListQuerySchema, location="query")
@blp.response(200, ImportPageSchema)
@blp.problems(*AUTH_ERRORS, 400)
def list_imports(query: dict[str, Any]) -> Any:
    """list-imports: newest first, with keyset pagination."""
    page = current_services().imports.list(
        current_principal().sub, limit=query["limit"], cursor=query.get("cursor")
    )
    return {"items": [dump_import(r) for r in page.items], "next_cursor": page.next_cursor}


@blp.route("/<import_id>", methods=["GET"])
@blp.response(200, ImportSchema)
@blp.problems(*AUTH_ERRORS, 404)
def get_import(import_id: str) -> Any:
    """get-import: status, counts and the rows refused (line, field, reason)."""
    return dump_import(current_services().imports.get(current_principal().sub, import_id))
