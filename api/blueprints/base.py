"""flask-smorest Blueprint with 400 argument errors and documented problem responses."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

import flask_smorest
from marshmallow import RAISE, fields
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import UnsupportedMediaType

from api.schemas.problem import ProblemSchema
from fluxa.errors import SchemaValidationError

F = TypeVar("F", bound=Callable[..., Any])
PROBLEM_JSON = "application/problem+json"
#: What the server answers before the app sees a request (api/http_protocol.py,
#: api/request_gate.py): a head or body too slow (408), a body too large (413), a request
#: target over 4094 bytes (414), a head too large (431); and the per-client limits (429).
SERVER_LIMIT_STATUSES = (408, 413, 414, 429, 431)


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400
    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}
    # Unknown query parameters are errors too (webargs excludes them by default).
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
        "json": RAISE,
        "multipart": RAISE,
    }

    def load_querystring(self, req: Any, schema: Any) -> Any:
        # webargs takes the first of repeated values; a parameter documented once is sent once.
        repeated = sorted(
            name
            for name, values in req.args.lists()
            if len(values) > 1 and not isinstance(schema.fields.get(name), fields.List)
        )
        if repeated:
            raise SchemaValidationError(
                "query parameters given more than once",
                details={name: ["Given more than once; send it once."] for name in repeated},
            )
        return super().load_querystring(req, schema)

    def load_multipart(self, req: Any, schema: Any) -> Any:
        """A multipart/form-data body's fields and files as one (flask-smorest documents
        one request body an operation; its `files` location would leave the fields out)."""
        if req.mimetype != "multipart/form-data":
            raise UnsupportedMediaType("Send multipart/form-data.")
        return MultiDictProxy(CombinedMultiDict([req.form, req.files]), schema)

    def _raw_load_json(self, req: Any) -> Any:
        # Through the app's bounded JSON provider (api/json_body.py), not webargs' own.
        if not is_json_request(req):
            return core.missing
        return req.get_json(cache=True)


class Blueprint(flask_smorest.Blueprint):
    """Use this instead of `flask_smorest.Blueprint` in every API module."""

    ARGUMENTS_PARSER = _Parser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        """As flask-smorest's; a schema class is instantiated here, once, where webargs
        would instantiate it again on every request."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)

    def problems(self, *statuses: int) -> Callable[[F], F]:
        """Document that the view may answer each of `statuses` with a problem document
        (and, as every operation may, the server's `SERVER_LIMIT_STATUSES`)."""

        def decorator(func: F) -> F:
            for status in sorted({*statuses, *SERVER_LIMIT_STATUSES}):
                func = self.alt_response(
                    status,
                    schema=ProblemSchema,
                    description=HTTPStatus(status).phrase,
                    content_type=PROBLEM_JSON,
                )(func)
            return func

        return decorator
