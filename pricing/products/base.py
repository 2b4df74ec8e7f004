"""What a reference pricer returns, and the helpers every product module shares.

A product module exposes, for the trade classes it handles (``TRADE_TYPES``):

* ``requirements(trade) -> list[tuple[str, str]]`` — the market data the trade needs, as
  ``(kind, name)`` pairs understood by :meth:`pricing.curves.QlMarket.require`, listed before
  anything is priced so a missing quote is reported once per trade, up front;
* ``reference_pv(trade, market) -> Valuation`` — the QuantLib valuation, PV in
  ``trade.currency``, plus the model Greeks QuantLib offers for options.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping

import QuantLib as ql

from pricing import quantlib_ as qa

__all__ = ["Valuation", "model_greeks", "schedule", "side_sign"]


@dataclasses.dataclass(frozen=True)
class Valuation:
    """PV of one trade in its currency and, for options, model Greeks (already scaled by
    quantity/notional and side, in the trade currency).

    Greek names: ``delta``, ``gamma`` (per unit of underlying), ``vega`` (per 1.00 of vol,
    i.e. per 100 vol points), ``theta`` (per year), ``rho`` (per 1.00 of rate),
    ``dividend_rho``; rate options report ``vega`` only where QuantLib gives it.
    """

    pv: float
    greeks: Mapping[str, float] = dataclasses.field(default_factory=dict)


def side_sign(side: str) -> float:
    """+1 for ``BUY``/``PAY``-less long positions, -1 for ``SELL``."""
    return -1.0 if side == "SELL" else 1.0


def model_greeks(
    instrument: ql.Instrument,
    scale: float,
    names: tuple[str, ...] = ("delta", "gamma", "vega", "theta", "rho", "dividendRho"),
) -> dict[str, float]:
    """Greeks the instrument's engine provides, times ``scale``; absent ones are skipped."""
    out = {}
    for name in names:
        fn: Callable[[], float] | None = getattr(instrument, name, None)
        if fn is None:
            continue
        try:
            value = fn()
        except RuntimeError:  # "<greek> not provided" by this engine
            continue
        key = "dividend_rho" if name == "dividendRho" else name
        out[key] = scale * value
    return out


def schedule(
    start: dt.date,
    end: dt.date,
    tenor: str,
    calendar: str,
    convention: str,
    end_of_month: bool = False,
) -> ql.Schedule:
    """A backward-generated coupon schedule (the market default for swaps and bonds)."""
    bd = qa.bdc(convention)
    return ql.Schedule(
        qa.ql_date(start),
        qa.ql_date(end),
        qa.period(tenor),
        qa.calendar(calendar),
        bd,
        bd,
        ql.DateGeneration.Backward,
        end_of_month,
    )
