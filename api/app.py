"""The Flask application factory."""

from __future__ import annotations

from flask import Flask, Response, send_from_directory
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path

from api.auth import build_verifier
from api.blueprints import auth, events, imports, ingest, ops, stats, trades
from api.converters import (
    EventIdConverter,
    TradeIdConverter,
    event_id_parameter,
    trade_id_parameter,
)
from api.json_body import BoundedJSONProvider, BoundedRequest
from api.metrics import rate_limit_store_failure_counter, register_metrics
from api.openapi import document_problems, extend_spec, openapi_yaml_text
from api.problems import register_problem_handlers
from api.rate_limits import add_rate_limit_headers
from api.request_context import register_request_context
from api.services import build_services
from config import Settings
from fluxa.messages.tasks import TaskPublisher
from fluxa.validation import REQUEST_LIMITS

SWAGGER_ASSETS_URL = "/v1/docs/assets"
API_DESCRIPTION = (
    "Fluxa: an event pipeline and trading journal. Machine clients send events"
    " (`/v1/events`), which are processed asynchronously: a `202` means accepted and"
    " durably queued, and the event appears in `GET /v1/events` once a worker has"
    " persisted it. End users keep trades (`/v1/trades`) and read statistics"
    " (`/v1/stats`) rebuilt in the background (`stale: true` until the rebuild after a"
    " change). Every error is an RFC 9457 `application/problem+json` document with a"
    " machine-readable `code` and, for bad input, `errors` naming each field at fault."
    f" JSON request bodies nest at most {REQUEST_LIMITS.max_depth} levels; event limits are"
    " in each schema."
)


def create_app(settings: Settings, *, publisher: TaskPublisher | None = None) -> Flask:
    """Build the API for `settings` (entry points read them: `api.wsgi`)."""
    app = Flask("fluxa")
    app.request_class = BoundedRequest
    app.url_map.converters["event_id"] = EventIdConverter
    app.url_map.converters["trade_id"] = TradeIdConverter
    app.json = BoundedJSONProvider(app)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE="Fluxa",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=f"{SWAGGER_ASSETS_URL}/",
        OPENAPI_SWAGGER_UI_CONFIG={"persistAuthorization": True},
        API_SPEC_OPTIONS={
            "info": {"description": API_DESCRIPTION},
            "security": [{"bearerAuth": []}],
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
        },
        JSON_SORT_KEYS=False,
        # OPTIONS is not part of the API (no CORS on it): 405 with the documented Allow.
        PROVIDE_AUTOMATIC_OPTIONS=False,
    )
    app.extensions["fluxa"] = build_services(
        settings, publisher, build_verifier(settings), rate_limit_store_failure_counter(settings)
    )
    register_request_context(app)
    register_metrics(app, settings)
    app.after_request(add_rate_limit_headers)
    api = Api(app)
    api.register_converter(EventIdConverter, event_id_parameter)
    api.register_converter(TradeIdConverter, trade_id_parameter)
    extend_spec(api)
    api.register_blueprint(ingest.blp)
    api.register_blueprint(events.blp)
    api.register_blueprint(trades.blp)
    api.register_blueprint(stats.blp)
    api.register_blueprint(imports.blp)
    api.register_blueprint(auth.blp)
    app.register_blueprint(ops.blp)
    document_problems(api)
    register_problem_handlers(app)  # after Api(), which installs JSON error handlers of its own

    @app.get("/v1/openapi.yaml")
    def openapi_yaml() -> Response:
        return Response(openapi_yaml_text(api.spec.to_dict()), mimetype="application/yaml")

    @app.get(f"{SWAGGER_ASSETS_URL}/<path:filename>")
    def swagger_assets(filename: str) -> Response:
        # Swagger UI's files come from the installed swagger-ui-bundle: nothing is fetched.
        return send_from_directory(swagger_ui_path, filename, max_age=3600)

    return app
