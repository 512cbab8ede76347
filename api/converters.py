"""URL converters: path parameters that match what the OpenAPI document says."""

from __future__ import annotations

from werkzeug.routing import BaseConverter

from fluxa.events.schemas import EVENT_ID_PATTERN


class EventIdConverter(BaseConverter):
    """An event id in a path. `batch` is not one, so `/v1/events/batch` names only the
    batch endpoint (a GET there is a 405, as the document says, not an event lookup)."""

    regex = EVENT_ID_PATTERN.removeprefix("^").removesuffix("$")


def event_id_parameter(_converter: EventIdConverter) -> dict[str, str]:
    """The OpenAPI schema of an event id path parameter."""
    return {"type": "string", "pattern": EVENT_ID_PATTERN}


class TradeIdConverter(BaseConverter):
    """A trade id in a path: any segment but `export`, so `/v1/trades/export` names only
    the export (a PATCH there is a 405 whose `Allow` says GET, not a trade lookup)."""

    regex = r"(?!export$)[^/]+"


def trade_id_parameter(_converter: TradeIdConverter) -> dict[str, object]:
    """The OpenAPI schema of a trade id path parameter."""
    return {"type": "string", "not": {"enum": ["export"]}}
