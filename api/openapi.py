"""How the generated OpenAPI document describes what marshmallow alone cannot."""

from __future__ import annotations

from typing import Any

from flask_smorest import Api
from marshmallow import fields

DECIMAL_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


def decimal_string_or_number(self: Any, field: fields.Field, ret: dict[str, Any], **_: Any):
    """Decimals are accepted as strings or numbers (and returned as strings)."""
    if not isinstance(field, fields.Decimal):
        return {}
    ret.pop("type", None)
    ret.pop("format", None)
    if "default" in ret:
        ret["default"] = str(ret["default"])
    return {"oneOf": [{"type": "string", "pattern": DECIMAL_PATTERN}, {"type": "number"}]}


def extend_spec(api: Api) -> None:
    """Install Fluxa's additions to the schema-to-OpenAPI conversion."""
    api.ma_plugin.converter.add_attribute_function(decimal_string_or_number)
