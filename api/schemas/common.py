"""Schemas shared by several endpoints."""

from __future__ import annotations

from marshmallow import Schema


class NoQuerySchema(Schema):
    """An endpoint without query parameters: any parameter is a 400, as on the others."""
