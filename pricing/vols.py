"""Volatility structures built from snapshot quotes (used through :class:`pricing.curves.QlMarket`).

* Equity: ``VOL.EQ.<UND>.<EXPIRY>.<K%>`` on a full expiry x strike grid -> QuantLib
  ``BlackVarianceSurface`` (bilinear in total variance over time and strike, flat vol outside the
  strike range and after the last expiry). Strikes are percentages of today's spot, so the
  surface moves with the spot in a scenario (sticky moneyness). One strike per expiry gives a
  ``BlackVarianceCurve``; ``VOL.EQ.<UND>.FLAT`` a ``BlackConstantVol``.
* FX: ``VOL.FX.<PAIR>.<EXPIRY>.ATM`` -> ``BlackVarianceCurve`` (no smile); ``.FLAT`` -> constant.
  A pair without quotes uses its inverse pair's vols.
* Swaptions: ``VOL.SWPT.<CCY>.<EXPIRY><TENOR>`` on a full grid -> ``SwaptionVolatilityMatrix``
  (bilinear, flat extrapolation); ``.FLAT`` -> ``ConstantSwaptionVolatility``.
* Caps/floors: ``VOL.CAP.<CCY>.<MATURITY>`` are flat (cap) vols by cap maturity; a cap is priced
  with every caplet at the flat vol interpolated linearly in time at the cap's maturity (flat
  outside the quoted range), the market's own quoting convention.

Rate vols are normal (Bachelier, in rate units: 0.0085 = 85 bp) unless ``VOLSHIFT.<SWPT|CAP>.<CCY>``
is quoted, in which case they are shifted-lognormal (Black) with that shift (0 = plain Black).
Expiries sit at ``asof + tenor`` (unadjusted); vol time is ACT/365F.
"""

from __future__ import annotations

import bisect
import dataclasses
from typing import TYPE_CHECKING, Any, Literal

import QuantLib as ql

from pricing import quantlib_ as qa
from pricing.errors import MarketDataError
from pricing.market import tenor_date

if TYPE_CHECKING:
    from pricing.curves import QlMarket

__all__ = ["RateVol", "cap_vol", "equity_vol", "fx_vol", "swaption_vol"]

_DC = "ACT/365F"


@dataclasses.dataclass(frozen=True)
class RateVol:
    """A rate-vol structure and its type.

    ``kind`` is ``"NORMAL"`` (Bachelier) or ``"LOGNORMAL"`` (shifted Black with ``shift``).
    ``handle`` is a QuantLib ``SwaptionVolatilityStructureHandle`` for swaptions; ``pillars``
    holds ``(time, vol)`` pairs of flat cap vols.
    """

    kind: Literal["NORMAL", "LOGNORMAL"]
    shift: float
    handle: Any = None
    pillars: tuple[tuple[float, float], ...] = ()

    def flat_vol(self, t: float) -> float:
        """Cap flat vol at maturity time ``t``: linear in time, flat outside the pillars."""
        times = [p[0] for p in self.pillars]
        if t <= times[0]:
            return self.pillars[0][1]
        if t >= times[-1]:
            return self.pillars[-1][1]
        i = bisect.bisect_right(times, t)
        (t0, v0), (t1, v1) = self.pillars[i - 1], self.pillars[i]
        return v0 + (v1 - v0) * (t - t0) / (t1 - t0)


def _flat_or_grid(market: QlMarket, family: str, name: str) -> tuple[float | None, list[Any]]:
    quotes = market.vol_quotes(family, name)
    if not quotes:
        raise MarketDataError(f"no vol quotes VOL.{family}.{name}.*")
    flat = [v for k, v in quotes.values() if k.kind == "FLAT"]
    grid = [(k, v) for k, v in quotes.values() if k.kind != "FLAT"]
    if flat and grid:
        raise MarketDataError(f"VOL.{family}.{name}: FLAT cannot be mixed with a grid")
    for k, v in quotes.values():
        if v <= 0:
            raise MarketDataError(f"VOL.{family}.{name}: vols must be positive ({k.tenor} {v})")
    return (flat[0] if flat else None), grid


def _rect(
    family: str, name: str, grid: list[Any], row: Any, col: Any
) -> tuple[list[Any], list[Any], dict[Any, float]]:
    rows = sorted({row(k) for k, _ in grid})
    cols = sorted({col(k) for k, _ in grid})
    cells = {(row(k), col(k)): v for k, v in grid}
    if len(cells) != len(rows) * len(cols):
        raise MarketDataError(
            f"VOL.{family}.{name}: the grid is not full "
            f"({len(cells)} of {len(rows)} x {len(cols)} points quoted)"
        )
    return rows, cols, cells


def equity_vol(market: QlMarket, underlying: str) -> ql.BlackVolTermStructureHandle:
    """Black vol surface of an equity underlying."""
    flat, grid = _flat_or_grid(market, "EQ", underlying)
    dc = qa.day_counter(_DC)
    cal = ql.NullCalendar()
    if flat is not None:
        return ql.BlackVolTermStructureHandle(ql.BlackConstantVol(market.ql_asof, cal, flat, dc))
    spot = market.equity_spot(underlying)
    expiries, strikes, cells = _rect(
        "EQ",
        underlying,
        grid,
        row=lambda k: tenor_date(market.asof, k.tenor),
        col=lambda k: float(k.extra),
    )
    dates = [qa.ql_date(d) for d in expiries]
    if len(strikes) == 1:
        vs = [cells[(d, strikes[0])] for d in expiries]
        ts = ql.BlackVarianceCurve(market.ql_asof, dates, vs, dc, False)
    else:
        if len(expiries) < 2:
            raise MarketDataError(f"VOL.EQ.{underlying}: a strike grid needs two or more expiries")
        m = ql.Matrix(len(strikes), len(expiries))
        for i, k in enumerate(strikes):
            for j, d in enumerate(expiries):
                m[i][j] = cells[(d, k)]
        ts = ql.BlackVarianceSurface(
            market.ql_asof,
            cal,
            dates,
            [k / 100.0 * spot for k in strikes],
            m,
            dc,
            ql.BlackVarianceSurface.ConstantExtrapolation,
            ql.BlackVarianceSurface.ConstantExtrapolation,
        )
    ts.enableExtrapolation()
    return ql.BlackVolTermStructureHandle(ts)


def fx_vol(market: QlMarket, pair: str) -> ql.BlackVolTermStructureHandle:
    """ATM Black vol term structure of an FX pair (or of its inverse)."""
    use = pair
    if not market.vol_quotes("FX", pair) and market.vol_quotes("FX", pair[3:] + pair[:3]):
        use = pair[3:] + pair[:3]
    flat, grid = _flat_or_grid(market, "FX", use)
    dc = qa.day_counter(_DC)
    if flat is not None:
        ts = ql.BlackConstantVol(market.ql_asof, ql.NullCalendar(), flat, dc)
    else:
        pts = sorted((tenor_date(market.asof, k.tenor), v) for k, v in grid)
        ts = ql.BlackVarianceCurve(
            market.ql_asof, [qa.ql_date(d) for d, _ in pts], [v for _, v in pts], dc, False
        )
    ts.enableExtrapolation()
    return ql.BlackVolTermStructureHandle(ts)


def _rate_vol_type(
    market: QlMarket, family: str, currency: str
) -> tuple[Literal["NORMAL", "LOGNORMAL"], float]:
    shift = market.snapshot.get(f"VOLSHIFT.{family}.{currency}")
    return ("NORMAL", 0.0) if shift is None else ("LOGNORMAL", float(shift))


def swaption_vol(market: QlMarket, currency: str) -> RateVol:
    """ATM swaption vol matrix (expiry x underlying tenor) of ``currency``."""
    kind, shift = _rate_vol_type(market, "SWPT", currency)
    qtype = ql.Normal if kind == "NORMAL" else ql.ShiftedLognormal
    flat, grid = _flat_or_grid(market, "SWPT", currency)
    dc = qa.day_counter(_DC)
    cal = ql.NullCalendar()
    if flat is not None:
        ts = ql.ConstantSwaptionVolatility(
            market.ql_asof, cal, ql.Unadjusted, flat, dc, qtype, shift
        )
    else:

        def months(t: str) -> int:
            p = qa.period(t)
            return p.length() * (12 if p.units() == ql.Years else 1)

        expiries, tenors, cells = _rect(
            "SWPT", currency, grid, row=lambda k: months(k.tenor), col=lambda k: months(k.extra)
        )
        if len(expiries) < 2 or len(tenors) < 2:
            raise MarketDataError(
                f"VOL.SWPT.{currency}: the matrix needs at least 2 expiries and "
                "2 tenors (or use VOL.SWPT.<CCY>.FLAT)"
            )
        m = ql.Matrix(len(expiries), len(tenors))
        sh = ql.Matrix(len(expiries), len(tenors), shift)
        for i, e in enumerate(expiries):
            for j, t in enumerate(tenors):
                m[i][j] = cells[(e, t)]
        dates = [qa.ql_date(tenor_date(market.asof, f"{e}M")) for e in expiries]
        ts = ql.SwaptionVolatilityMatrix(
            market.ql_asof,
            cal,
            ql.Unadjusted,
            dates,
            [ql.Period(t, ql.Months) for t in tenors],
            m,
            dc,
            True,
            qtype,
            sh,
        )
    ts.enableExtrapolation()
    return RateVol(kind, shift, handle=ql.SwaptionVolatilityStructureHandle(ts))


def cap_vol(market: QlMarket, currency: str) -> RateVol:
    """Flat cap vols by cap maturity of ``currency``."""
    kind, shift = _rate_vol_type(market, "CAP", currency)
    flat, grid = _flat_or_grid(market, "CAP", currency)
    if flat is not None:
        return RateVol(kind, shift, pillars=((0.0, flat),))
    pts = sorted((market.year_fraction(tenor_date(market.asof, k.tenor)), v) for k, v in grid)
    return RateVol(kind, shift, pillars=tuple(pts))
