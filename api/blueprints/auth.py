"""`POST /v1/auth/signout`: revoke every token issued to the caller until now."""

from __future__ import annotations

from flask import Response

from api.auth import authenticate, current_principal
from api.blueprints.base import Blueprint
from api.rate_limits import JOURNAL, limited_to
from api.services import current_services
from fluxa.auth.revocation import revoke_all

blp = Blueprint("auth", __name__, url_prefix="/v1/auth", description="Sessions.")
blp.before_request(authenticate)
blp.before_request(limited_to(JOURNAL))


@blp.route("/signout", methods=["POST"])
@blp.response(204)
@blp.problems(401, 503)
def signout() -> Response:
    """Global sign-out: every token issued to you before now stops working at once."""
    services = current_services()
    sub = current_principal().sub
    services.revocations.note(sub, revoke_all(services.engine, sub))
    return Response(status=204)
