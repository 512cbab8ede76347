"""ASGI entry point: `uvicorn --http api.http_protocol:FluxaHttpProtocol api.asgi:app`
(`launcher.run.api_argv` builds the command line; `fluxa serve` runs it).

The Flask app (`api.wsgi`) runs on a pool of threads behind two layers that keep slow
or large requests off those threads: the HTTP protocol bounds request heads
(`api.http_protocol`), and the gate reads bodies whole first (`api.request_gate`).
"""

from api.memory import limit_arenas
from api.request_gate import GateLimits
from api.wsgi import app as wsgi_app
from api.wsgi import settings
from api.wsgi_bridge import served

limit_arenas()
app = served(
    wsgi_app,
    GateLimits(max_body_bytes=settings.max_body_bytes, body_seconds=settings.request_body_seconds),
)
