"""Test factories: snapshots with flat textbook markets, and the demo snapshot.

Textbook checks (Hull, Haug) quote continuously compounded flat rates, flat vols and a
dividend yield; :func:`flat_snapshot` builds exactly that as a MarketSnapshot using the direct
inputs ``IR.<CCY>.<CURVE>.FLAT`` and ``VOL.*.FLAT`` (ACT/365F, continuous compounding).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from pricing.conventions import currency_convention, index_convention
from pricing.market import MarketSnapshot

ASOF = dt.date(2025, 11, 28)


def curve_name(currency: str) -> str:
    """The quote-id curve name of the currency's discount (OIS) index."""
    return index_convention(currency_convention(currency).discount_index).curve


def flat_snapshot(
    asof: dt.date = ASOF,
    rates: Mapping[str, float] | None = None,
    ibor: Mapping[str, float] | None = None,
    equities: Mapping[str, tuple[float, float, float]] | None = None,
    fx: Mapping[str, tuple[float, float]] | None = None,
    swaption_vol: Mapping[str, float] | None = None,
    cap_vol: Mapping[str, float] | None = None,
    vol_shift: float | None = None,
    extra: Mapping[str, float] | None = None,
) -> MarketSnapshot:
    """A snapshot of flat curves and flat vols.

    Parameters
    ----------
    rates
        Currency -> flat continuously compounded rate of its OIS (discount) curve.
    ibor
        IBOR index name -> flat continuously compounded rate of its projection curve.
    equities
        Underlying -> (spot, dividend yield, flat vol).
    fx
        Pair -> (spot, flat vol).
    swaption_vol, cap_vol
        Currency -> flat rate vol (normal unless ``vol_shift`` is given, then shifted Black).
    extra
        Further quotes, added as they are.
    """
    q: dict[str, float] = {}
    for ccy, r in (rates or {}).items():
        q[f"IR.{ccy}.{curve_name(ccy)}.FLAT"] = r
    for idx, r in (ibor or {}).items():
        conv = index_convention(idx)
        q[f"IR.{conv.currency}.{conv.curve}.FLAT"] = r
    for und, (spot, div, vol) in (equities or {}).items():
        q[f"EQ.{und}.SPOT"] = spot
        q[f"EQ.{und}.DIV"] = div
        q[f"VOL.EQ.{und}.FLAT"] = vol
    for pair, (spot, vol) in (fx or {}).items():
        q[f"FX.{pair}"] = spot
        q[f"VOL.FX.{pair}.FLAT"] = vol
    for ccy, v in (swaption_vol or {}).items():
        q[f"VOL.SWPT.{ccy}.FLAT"] = v
        if vol_shift is not None:
            q[f"VOLSHIFT.SWPT.{ccy}"] = vol_shift
    for ccy, v in (cap_vol or {}).items():
        q[f"VOL.CAP.{ccy}.FLAT"] = v
        if vol_shift is not None:
            q[f"VOLSHIFT.CAP.{ccy}"] = vol_shift
    q.update(extra or {})
    return MarketSnapshot(asof, q, name="flat-test")
