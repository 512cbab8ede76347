"""The Flask API: `create_app(settings)` builds it; blueprints are thin (load → fluxa → dump)."""

from api.app import create_app

__all__ = ["create_app"]
