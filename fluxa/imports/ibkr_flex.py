"""Interactive Brokers' Flex Query export (XML), format `ibkr-flex`. Pure.

The reader takes the `Trade` elements of every statement and reads only the attributes a
fill needs, ignoring the rest, so statements keep importing when IBKR adds attributes
(the `ibflex` library refuses any it does not know). Rows of another level of detail
than `EXECUTION` (orders, closed lots) are summaries of executions and are skipped.
XML is parsed without entity expansion or external references (`defusedxml`).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from fluxa.errors import ImportFormatError
from fluxa.imports.fills import Action, Fill
from fluxa.imports.rows import (
    ReadFills,
    Rejected,
    account_of,
    amount_of,
    collect,
    currency_of,
    execution_id_of,
    in_zone,
    multiplier_of,
    symbol_of,
    utf8_text,
)

#: IBKR writes statement times in US Eastern time unless the query says otherwise.
DEFAULT_ZONE = "America/New_York"
_TRADE_TAG = re.compile(r"<Trade[\s/>]")
_MOMENT_FORMATS = ("%Y%m%d;%H%M%S", "%Y%m%d %H%M%S", "%Y-%m-%d;%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                   "%Y-%m-%dT%H:%M:%S", "%Y%m%d;%H:%M:%S", "%m/%d/%Y;%H:%M:%S")  # fmt: skip


def read_ibkr_flex(data: bytes, *, account: str = "", zone: dt.tzinfo = dt.UTC) -> ReadFills:
    """The fills of a Flex Query XML file; times without an offset are read in `zone`."""
    text = utf8_text(data)
    try:
        root = fromstring(text)
    except (ParseError, DefusedXmlException) as exc:
        raise ImportFormatError(f"not a Flex Query file: {exc}") from None
    if root.tag != "FlexQueryResponse":
        raise ImportFormatError(f"not a Flex Query file: the root element is <{root.tag}>")
    trades = list(root.iter("Trade"))
    executions = [
        (line, element)
        for line, element in zip(_trade_lines(text, len(trades)), trades, strict=True)
        if element.get("levelOfDetail", "EXECUTION").upper() == "EXECUTION"
    ]
    return collect(executions, lambda element, line: _fill(element, account, zone, line))


def _trade_lines(text: str, count: int) -> list[int]:
    """The line each `<Trade` element starts on (ElementTree keeps none). Markup cannot
    hide `<Trade` inside an attribute; if a comment or CDATA does, lines are unknown (0)."""
    starts = [text.count("\n", 0, match.start()) + 1 for match in _TRADE_TAG.finditer(text)]
    return starts if len(starts) == count else [0] * count


def _fill(element: Element, default_account: str, zone: dt.tzinfo, line: int) -> Fill:
    get = element.get
    return Fill(
        account=account_of(get("accountId", ""), default_account, "accountId"),
        symbol=symbol_of(get("symbol", "").replace(" ", ""), "symbol"),
        executed_at=_moment(element, zone),
        action=_action(get("buySell", "")),
        quantity=amount_of(get("quantity", "").lstrip("-"), "quantity", positive=True),
        price=amount_of(get("tradePrice", ""), "tradePrice"),
        fees=_commission(get("ibCommission", "")),
        execution_id=execution_id_of(get("ibExecID") or get("tradeID", ""), "ibExecID"),
        multiplier=multiplier_of(get("multiplier", ""), "multiplier"),
        currency=currency_of(get("currency", ""), "currency"),
        line=line,
    )


def _moment(element: Element, zone: dt.tzinfo) -> dt.datetime:
    value = element.get("dateTime") or ";".join(
        part for part in (element.get("tradeDate"), element.get("tradeTime")) if part
    )
    for form in _MOMENT_FORMATS:
        try:
            return in_zone(dt.datetime.strptime(value, form), zone)
        except ValueError:
            continue
    raise Rejected("dateTime", "Not a Flex date and time (such as 20260302;093512).")


def _action(value: str) -> Action:
    # "BUY (Ca.)" and the like are cancellations of an earlier execution: not a fill.
    try:
        return Action(value.lower())
    except ValueError:
        raise Rejected("buySell", "Must be BUY or SELL (cancellations are not imported).") from None


def _commission(raw: str) -> Decimal:
    """IBKR reports commissions as negative cash; a fill's fees are what was paid."""
    try:
        cash = Decimal(raw) if raw else Decimal(0)
    except InvalidOperation:
        raise Rejected("ibCommission", "Not a decimal number.") from None
    if not cash.is_finite():  # NaN would not even compare
        raise Rejected("ibCommission", "Not a decimal number.")
    return amount_of(str(max(-cash, Decimal(0))), "ibCommission")
