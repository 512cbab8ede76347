"""How the generated OpenAPI document describes what marshmallow alone cannot."""

from __future__ import annotations

from typing import Any

import yaml
from flask_smorest import Api
from marshmallow import fields

from api.blueprints.base import PROBLEM_JSON
from fluxa.validation.fields import AMOUNT_LIMIT, AMOUNT_PATTERN


def decimal_string_or_number(self: Any, field: fields.Field, ret: dict[str, Any], **_: Any):
    """Decimals are accepted as strings or numbers (and returned as strings)."""
    if not isinstance(field, fields.Decimal):
        return {}
    ret.pop("type", None)
    ret.pop("format", None)
    if "default" in ret:
        ret["default"] = str(ret["default"])
    bound = float(AMOUNT_LIMIT)
    return {
        "oneOf": [
            {"type": "string", "pattern": AMOUNT_PATTERN},
            {
                "type": "number",
                "minimum": -bound,
                "maximum": bound,
                "exclusiveMinimum": True,
                "exclusiveMaximum": True,
            },
        ]
    }


def extend_spec(api: Api) -> None:
    """Install Fluxa's additions to the schema-to-OpenAPI conversion."""
    api.ma_plugin.converter.add_attribute_function(decimal_string_or_number)


def document_problems(api: Api) -> None:
    """flask-smorest's shared error responses (`DEFAULT_ERROR`, `BAD_REQUEST`, …) are
    problem documents here, as every error is (api/problems.py). Call after the
    blueprints are registered, since they add some of these responses."""
    for response in api.spec.components.responses.values():
        response["content"] = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


#: The conventional order of an OpenAPI document's top-level keys.
TOP_LEVEL_ORDER = ("openapi", "info", "servers", "security", "tags", "paths", "components")


def openapi_yaml_text(spec: dict[str, Any]) -> str:
    """The document as YAML in the conventional order (`openapi:` first), not sorted."""
    ordered = {key: spec[key] for key in TOP_LEVEL_ORDER if key in spec} | spec
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True)
