"""The WSGI app, configured from the environment: what `api.asgi` serves (and tests call)."""

from api.app import create_app
from config import load_settings
from config.logging import configure_logging
from fluxa.logcontext import ContextFilter

settings = load_settings()
configure_logging(settings.log_level, "ingest", filters=[ContextFilter()])
app = create_app(settings)
