"""The import formats by name, each with its reader and the time zone its naive times
are in when an import names none."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from fluxa.imports.fluxa_csv import read_fluxa_csv
from fluxa.imports.ibkr_flex import DEFAULT_ZONE as IBKR_ZONE
from fluxa.imports.ibkr_flex import read_ibkr_flex
from fluxa.imports.rows import ReadFills
from fluxa.imports.tradovate import read_tradovate_fills


class ImportFormat(StrEnum):
    FLUXA_CSV = "fluxa-csv"
    IBKR_FLEX = "ibkr-flex"
    TRADOVATE_FILLS = "tradovate-fills"


Reader = Callable[..., ReadFills]


@dataclass(frozen=True)
class FormatSpec:
    read: Reader
    default_zone: str
    content_type: str
    extension: str


FORMATS: dict[ImportFormat, FormatSpec] = {
    ImportFormat.FLUXA_CSV: FormatSpec(read_fluxa_csv, "UTC", "text/csv", "csv"),
    ImportFormat.IBKR_FLEX: FormatSpec(read_ibkr_flex, IBKR_ZONE, "application/xml", "xml"),
    ImportFormat.TRADOVATE_FILLS: FormatSpec(read_tradovate_fills, "UTC", "text/csv", "csv"),
}


def read_fills(name: str, data: bytes, *, account: str, timezone: str | None) -> ReadFills:
    """The fills of `data` read as format `name`; naive times in `timezone`, else in the
    format's default zone. Raises `ImportFormatError` for a file not of that format."""
    spec = FORMATS[ImportFormat(name)]
    zone: dt.tzinfo = ZoneInfo(timezone or spec.default_zone)
    return spec.read(data, account=account, zone=zone)
