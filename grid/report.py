"""Plain-text reports of a valuation run: the per-book summary table and the error list.

Kept apart from :mod:`grid.cli` so the command stays short and the formatting is testable alone.

>>> print(format_table([("DESK", "PV"), ("FX", "1.00")], right=(1,)))
DESK    PV
FX    1.00
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from pricing.errors import TradeError
from pricing.pricer import PricingResults, TradeResult, merge_errors
from pricing.trades import Portfolio

__all__ = ["NOT_LOADED", "format_table", "load_failures", "summary_table"]

#: Book label of the records that failed to load (their book is not known).
NOT_LOADED = "(not loaded)"
_NAN = float("nan")


def load_failures(errors: Iterable[TradeError]) -> list[TradeResult]:
    """One failed result per record that did not load, its errors joined.

    Errors of one record come one after the other and share its trade id; several bad fields
    become one result with the fields joined by ``,`` and the reasons by ``;`` (as
    :func:`pricing.pricer.value_trade` does for a trade failing several checks).

    >>> r = load_failures([TradeError("T1", "notional", "must be positive"),
    ...                    TradeError("T1", "pair", "malformed")])
    >>> r[0].error
    TradeError(trade_id='T1', field='notional,pair', reason='must be positive; malformed')
    """
    groups: list[list[TradeError]] = []
    for e in errors:
        if groups and groups[-1][0].trade_id == e.trade_id:
            groups[-1].append(e)
        else:
            groups.append([e])
    out = []
    for g in groups:
        err = merge_errors(g)
        out.append(TradeResult(err.trade_id, "", "", "", _NAN, _NAN, error=err))
    return out


def format_table(rows: Sequence[Sequence[str]], right: Iterable[int] = ()) -> str:
    """Fixed-width text table; the first row is the header; columns in ``right`` right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    right = set(right)
    lines = []
    for r in rows:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _money(x: float) -> str:
    if math.isnan(x):
        return ""
    text = f"{x:,.2f}"
    return "0.00" if text == "-0.00" else text


def _row(desk: str, book: str, s: dict[str, Any]) -> list[str]:
    return [
        desk,
        book,
        f"{s['trades']:,}",
        f"{s['valued']:,}",
        f"{s['failed']:,}",
        _money(s["pv_reporting"]),
    ]


def summary_table(results: PricingResults, portfolio: Portfolio, not_loaded: int = 0) -> str:
    """Per-book table (desk, book, trades, valued, failed, PV) with desk and firm totals.

    PVs are in the reporting currency and add up the valued trades only. ``not_loaded`` records
    (failed to load, book unknown) get a row of their own and count in the firm total.
    """

    def zero() -> dict[str, Any]:
        return {"trades": 0, "valued": 0, "failed": 0, "pv_reporting": 0.0}

    def add(total: dict[str, Any], s: dict[str, Any]) -> None:
        for k in total:
            total[k] += s[k]

    rows = [["DESK", "BOOK", "TRADES", "VALUED", "FAILED", f"PV ({results.reporting_currency})"]]
    firm = zero()
    by_desk: dict[str, list[dict[str, Any]]] = {}
    for s in results.book_summary(portfolio):
        by_desk.setdefault(s["desk"], []).append(s)
    for desk, books in by_desk.items():
        total = zero()
        for s in books:
            rows.append(_row(desk, s["book"], s))
            add(total, s)
        rows.append(_row(desk, "(desk total)", total))
        add(firm, total)
    if not_loaded:
        s = {"trades": not_loaded, "valued": 0, "failed": not_loaded, "pv_reporting": _NAN}
        rows.append(_row("-", NOT_LOADED, s))
        firm["trades"] += not_loaded
        firm["failed"] += not_loaded
    rows.append(_row(portfolio.firm, "(firm total)", firm))
    return format_table(rows, right=(2, 3, 4, 5))
