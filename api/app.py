"""The Flask application factory."""

from __future__ import annotations

from flask import Flask, Response
from flask_smorest import Api

from api.auth import build_verifier
from api.blueprints import auth, events, ingest, ops, stats, trades
from api.problems import register_problem_handlers
from api.request_context import register_request_context
from api.services import build_services
from config import Settings, load_settings
from fluxa.messaging import TaskPublisher


def create_app(
    settings: Settings | None = None, *, publisher: TaskPublisher | None = None
) -> Flask:
    """Build the API for `settings` (read from the environment when omitted)."""
    settings = settings or load_settings()
    app = Flask("fluxa")
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE="Fluxa",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/v1",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
    )
    app.extensions["fluxa"] = build_services(settings, publisher, build_verifier(settings))
    register_request_context(app)
    api = Api(app)
    api.register_blueprint(ingest.blp)
    api.register_blueprint(events.blp)
    api.register_blueprint(trades.blp)
    api.register_blueprint(stats.blp)
    api.register_blueprint(auth.blp)
    app.register_blueprint(ops.blp)
    register_problem_handlers(app)  # after Api(), which installs JSON error handlers of its own

    @app.get("/v1/openapi.yaml")
    def openapi_yaml() -> Response:
        return Response(api.spec.to_yaml(), mimetype="application/yaml")

    return app
