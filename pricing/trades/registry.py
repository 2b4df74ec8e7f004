"""Product codes -> trade classes, and record -> trade parsing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pricing.errors import TradeError
from pricing.trades.base import Trade, build_trade
from pricing.trades.equity import EquityAmericanOption, EquityBarrierOption, EquityOption
from pricing.trades.fx import FxForward, FxOption
from pricing.trades.rates import (
    CapFloor,
    FixedRateBond,
    ForwardRateAgreement,
    InterestRateSwap,
    OvernightIndexSwap,
    Swaption,
)

__all__ = ["PRODUCTS", "parse_trade"]

#: Every product code and its trade class, in a stable order.
PRODUCTS: dict[str, type[Trade]] = {
    cls.product: cls
    for cls in (
        InterestRateSwap,
        OvernightIndexSwap,
        ForwardRateAgreement,
        FixedRateBond,
        CapFloor,
        Swaption,
        FxForward,
        FxOption,
        EquityOption,
        EquityAmericanOption,
        EquityBarrierOption,
    )
}

#: Record keys that are not trade fields but are understood by the loaders.
EXTRA_KEYS = frozenset({"product", "desk"})


def parse_trade(
    record: Mapping[str, Any],
    asof: dt.date | None = None,
    label: str | None = None,
    product: str | None = None,
) -> tuple[Trade | None, list[TradeError]]:
    """Parse and validate one trade record.

    Parameters
    ----------
    record
        Field name -> value, as read from JSON, YAML or CSV (strings are converted).
    asof
        Valuation date; trades that mature on or before it are errors.
    label
        Id to use in errors when the record has no usable ``trade_id`` (e.g. ``"<row 7>"``).
    product
        Product code when it is not in the record (one CSV file per product).

    Returns
    -------
    (trade, errors)
        ``trade`` is None when any error was found; ``errors`` lists them all.

    >>> t, errs = parse_trade({"product": "FX_FORWARD", "trade_id": "F1", "book": "FX",
    ...     "counterparty": "ACME", "pair": "EURUSD", "notional": "-5", "strike": 1.1,
    ...     "delivery_date": "2026-13-01"})
    >>> for e in errs: print(e)
    trade F1: delivery_date: malformed date '2026-13-01' (expected YYYY-MM-DD)
    trade F1: notional: must be positive, got -5.0
    """
    raw_id = record.get("trade_id")
    trade_id = str(raw_id).strip() if raw_id not in (None, "") else (label or "<no id>")
    code = str(product or record.get("product") or "").strip().upper()
    if not code:
        return None, [TradeError(trade_id, "product", "missing required field")]
    cls = PRODUCTS.get(code)
    if cls is None:
        known = ", ".join(PRODUCTS)
        return None, [TradeError(trade_id, "product", f"unknown product {code!r} (known: {known})")]
    trade, errors = build_trade(cls, record, trade_id, ignore=EXTRA_KEYS)
    if trade is None:
        return None, errors
    errors = trade.check(asof)
    return (None, errors) if errors else (trade, [])
