"""A seeded, realistic demo portfolio for the demo market, and a few deliberately bad trades.

:func:`demo_portfolio` builds the trading book of a small bank, *Demo Bank*: three desks
(RATES, FX, EQD) with several books each, every product of :data:`pricing.trades.PRODUCTS`, and
a product mix weighted like a real bank's (swaps dominate rates, forwards dominate FX). The
economics sit near the demo market (:func:`pricing.demo.market.demo_market`): fixed rates within
~100 bp of the curve quotes, seasoned and new swaps, option strikes 70-130% of spot, FX strikes
near the forward, barriers at least 15% away from spot (so a 10% stress does not knock them),
round-ish notionals of 1-100mm and mixed sides. Only currencies, indices, pairs, underlyings and
issuers that the demo market quotes are used.

It is deterministic for a seed (numpy ``default_rng``, one independent stream per product) and
vectorised: every random draw is one numpy call over all trades of a product and dates are plain
``datetime.date``; 100,000 trades take about a second.

:func:`demo_bad_trades` returns raw records that each carry one defect, plus a few good trades,
to show what the error report looks like.

>>> p = demo_portfolio(200, seed=1)
>>> len(p), p.firm, p.desk_of("FX-OPTIONS")
(200, 'Demo Bank', 'FX')
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pricing import conventions
from pricing.demo.market import DEMO_ASOF, demo_market
from pricing.market import MarketSnapshot
from pricing.quotes import parse_quote_id
from pricing.trades import PRODUCTS, Portfolio, Trade

__all__ = [
    "BOOKS",
    "COUNTERPARTIES",
    "FIRM",
    "PRODUCT_MIX",
    "TRADE_ID_PREFIX",
    "demo_bad_trades",
    "demo_portfolio",
    "demo_trades",
]

FIRM = "Demo Bank"

#: Book -> desk.
BOOKS: dict[str, str] = {
    "USD-SWAPS": "RATES",
    "EUR-SWAPS": "RATES",
    "RATES-OPTIONS": "RATES",
    "BONDS": "RATES",
    "FRAS": "RATES",
    "FX-FORWARDS": "FX",
    "FX-OPTIONS": "FX",
    "EQ-INDEX-US": "EQD",
    "EQ-INDEX-EU": "EQD",
    "EQ-SINGLE-STOCK": "EQD",
    "EQ-EXOTICS": "EQD",
}

#: Share of each product in the portfolio (sums to 1).
PRODUCT_MIX: dict[str, float] = {
    "IRS": 0.26,
    "OIS": 0.18,
    "FRA": 0.05,
    "BOND": 0.06,
    "CAPFLOOR": 0.03,
    "SWAPTION": 0.04,
    "FX_FORWARD": 0.18,
    "FX_OPTION": 0.06,
    "EQ_OPTION": 0.08,
    "EQ_AMERICAN": 0.03,
    "EQ_BARRIER": 0.03,
}

#: Product code -> prefix of its trade ids (``IRS-000123``).
TRADE_ID_PREFIX: dict[str, str] = {
    "IRS": "IRS",
    "OIS": "OIS",
    "FRA": "FRA",
    "BOND": "BOND",
    "CAPFLOOR": "CAP",
    "SWAPTION": "SWPT",
    "FX_FORWARD": "FXF",
    "FX_OPTION": "FXO",
    "EQ_OPTION": "EQO",
    "EQ_AMERICAN": "EQA",
    "EQ_BARRIER": "EQB",
}

#: Fictional clients, most active first (drawn with Zipf-like weights).
COUNTERPARTIES: tuple[str, ...] = (
    "Aldermoor Capital LLP",
    "Bluewater Pension Trust",
    "Castlegate Insurance plc",
    "Driftwood Macro Fund",
    "Eastbrook Asset Management",
    "Fenwick Municipal Authority",
    "Granite Peak Partners",
    "Harrowgate Building Society",
    "Ironbridge Corporate Treasury",
    "Juniper Sovereign Fund",
    "Kestrel Global Macro",
    "Larkspur Family Office",
    "Meadowvale Mutual Life",
    "Northgate Commodities AG",
    "Oakhaven Credit Union",
    "Pinecrest Hedge Fund",
    "Queensway Holdings SA",
    "Riverside Regional Bank",
    "Silverline Airways Treasury",
    "Thornbury Utilities plc",
)

# Bond issuers: currency, coupon frequency, day count, share of bonds. Each has a
# CREDIT.<ISSUER>.ZSPREAD quote in the demo market.
_ISSUERS: dict[str, tuple[str, str, str, float]] = {
    "UST": ("USD", "6M", "ACT/ACT", 0.40),
    "DBR": ("EUR", "1Y", "ACT/ACT", 0.25),
    "ACME_CORP": ("USD", "6M", "30/360", 0.20),
    "GLOBEX": ("EUR", "1Y", "ACT/ACT", 0.15),
}
_EQ_BOOK = {
    "SPX": "EQ-INDEX-US",
    "NDX": "EQ-INDEX-US",
    "SX5E": "EQ-INDEX-EU",
    "AAPL": "EQ-SINGLE-STOCK",
    "SAP": "EQ-SINGLE-STOCK",
}
_FX_PAIRS = {"EURUSD": 0.40, "USDJPY": 0.25, "GBPUSD": 0.20, "USDCHF": 0.15}
_BP = 1e-4
_DAYS_PER_YEAR = 365.25

F64 = NDArray[np.float64]
Dates = NDArray[np.datetime64]


# -- market levels the economics are drawn around -------------------------------------------------
def _tenor_years(tenor: str) -> float:
    n, unit = int(tenor[:-1]), tenor[-1]
    return {"D": n / 365.0, "W": 7 * n / 365.0, "M": n / 12.0, "Y": float(n)}[unit]


class _Levels:
    """Rates, spots, forwards and vols read off a snapshot, as cheap numpy interpolations."""

    def __init__(self, snap: MarketSnapshot) -> None:
        self.snap = snap
        curves: dict[str, list[tuple[float, float]]] = {}
        for qid, key in snap.keys_parsed():
            if key.cls != "IR":
                continue
            v = snap[qid]
            pts = curves.setdefault(f"{key.name}.{key.sub}", [])
            if key.kind == "FLAT":
                pts += [(0.0, v), (50.0, v)]
            elif key.kind == "FRA":
                pts.append((int(key.tenor.split("X")[1]) / 12.0, v))
            elif key.kind == "DF":
                t = _tenor_years(key.tenor)
                pts.append((t, -math.log(v) / t))
            elif key.tenor not in ("ON", "TN"):
                pts.append((_tenor_years(key.tenor), v))
        self._curves = {
            k: (np.array([t for t, _ in sorted(p)]), np.array([r for _, r in sorted(p)]))
            for k, p in curves.items()
        }

    def index_rate(self, index: str, years: F64) -> F64:
        """Level of the index's curve quotes at ``years`` (linear, flat outside)."""
        conv = conventions.index_convention(index)
        t, r = self._curves[f"{conv.currency}.{conv.curve}"]
        return np.interp(years, t, r)

    def forward_rate(self, index: str, start: F64, end: F64) -> F64:
        """Approximate forward par rate over [start, end] from the par levels (start >= 0):
        ``(R(end) end - R(start) start) / (end - start)``."""
        start = np.maximum(start, 0.0)
        return (self.index_rate(index, end) * end - self.index_rate(index, start) * start) / (
            end - start
        )

    def discount_rate(self, ccy: str, years: F64) -> F64:
        """Level of the currency's OIS (discount) curve quotes at ``years``."""
        return self.index_rate(conventions.currency_convention(ccy).discount_index, years)

    def fx_forward(self, pair: str, years: F64) -> F64:
        """Approximate outright: spot times the OIS rate differential (no basis)."""
        r_base = self.discount_rate(pair[:3], years)
        r_quote = self.discount_rate(pair[3:], years)
        return self.snap[f"FX.{pair}"] * np.exp((r_quote - r_base) * years)

    def fx_atm_vol(self, pair: str, years: F64) -> F64:
        """ATM vol of the pair interpolated in expiry."""
        pts = sorted(
            (_tenor_years(parse_quote_id(q).tenor), v)
            for q, v in self.snap.select(f"VOL.FX.{pair}.*.ATM").items()
        )
        return np.interp(years, [t for t, _ in pts], [v for _, v in pts])


def _by_key(keys: NDArray[Any], fn: Callable[[str, NDArray[np.bool_]], F64]) -> F64:
    """``fn(key, mask)`` for each distinct key, assembled into one array."""
    out = np.empty(len(keys))
    for k in np.unique(keys):
        m = keys == k
        out[m] = fn(str(k), m)
    return out


# -- vectorised date arithmetic on datetime64[D] ---------------------------------------------------
def _add_months(d: Dates, months: NDArray[np.int64]) -> Dates:
    """``d`` plus whole months, the day clipped to the end of the target month."""
    month = d.astype("datetime64[M]")
    day = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months.astype("timedelta64[M]")
    last = (target + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    out: Dates = np.minimum(target.astype("datetime64[D]") + day.astype("timedelta64[D]"), last)
    return out


def _weekday(d: Dates) -> Dates:
    """Roll weekend dates forward to Monday (holidays are left to the pricers' calendars)."""
    out: Dates = np.busday_offset(d, 0, roll="forward")
    return out


def _third_friday(d: Dates, months: NDArray[np.int64]) -> Dates:
    """Third Friday of the month ``months`` after ``d``'s month (listed-option expiries)."""
    first = (d.astype("datetime64[M]") + months.astype("timedelta64[M]")).astype("datetime64[D]")
    weekday = (first.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    out: Dates = first + ((4 - weekday) % 7 + 14).astype("timedelta64[D]")
    return out


def _years(d: Dates, asof: np.datetime64) -> F64:
    return (d - asof).astype(np.int64) / _DAYS_PER_YEAR


def _to_dates(d: Dates) -> list[dt.date]:
    dates: list[dt.date] = d.astype("datetime64[D]").tolist()
    return dates


# -- common draws ----------------------------------------------------------------------------------
class _Draw:
    """Random draws for ``n`` trades of one product from its own generator."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.rng, self.n = rng, n

    def choice(self, weights: Mapping[Any, float]) -> NDArray[Any]:
        keys = list(weights)
        p = np.array([weights[k] for k in keys], dtype=float)
        idx = self.rng.choice(len(keys), size=self.n, p=p / p.sum())
        return np.array(keys, dtype=object)[idx]

    def uniform(self, low: float | F64, high: float | F64) -> F64:
        return self.rng.uniform(low, high, self.n)

    def normal(self, sd: float, clip: float) -> F64:
        """Normal noise with standard deviation ``sd``, clipped to +/- ``clip``."""
        return np.clip(self.rng.normal(0.0, sd, self.n), -clip, clip)

    def notional(self, low: float = 1e6, high: float = 1e8) -> F64:
        """Log-uniform amounts, rounded to half a unit of their leading digit (3.5mm, 45mm)."""
        x = np.exp(self.uniform(math.log(low), math.log(high)))
        step = 10.0 ** np.floor(np.log10(x)) / 2
        return np.clip(np.round(x / step) * step, low, high)

    def side(self, buy: float = 0.5, labels: tuple[str, str] = ("BUY", "SELL")) -> NDArray[Any]:
        return self.choice({labels[0]: buy, labels[1]: 1 - buy})

    def counterparty(self) -> NDArray[Any]:
        return self.choice({c: 1 / (i + 1) ** 0.8 for i, c in enumerate(COUNTERPARTIES)})


def _round_to(x: F64, step: float | F64) -> F64:
    return np.round(x / step) * step


def _rate(x: F64, step: float | F64, floor: float | None = None) -> list[float]:
    """Rates rounded to ``step`` (to the 1e-10 so that 0.0345 prints as 0.0345)."""
    r = _round_to(x, step)
    if floor is not None:
        r = np.maximum(r, floor)
    out: list[float] = np.round(r, 10).tolist()
    return out


def _strike_step(spot: float) -> float:
    """Listed-style strike spacing: 5 for SPX (6,850), 50 for NDX, 0.5 for AAPL (278)."""
    return 0.5 * 10.0 ** (math.floor(math.log10(spot)) - 2)


# -- per-product generators: (draw, levels, asof) -> columns ------------------------------------
Columns = dict[str, Sequence[Any]]


def _swap_dates(d: _Draw, asof: np.datetime64, tenors: Mapping[int, float]) -> tuple[Dates, Dates]:
    """Seasoned (started up to 5y ago), spot-starting and forward-starting swaps."""
    years = d.choice(tenors).astype(np.int64)
    kind = d.choice({"SEASONED": 0.55, "SPOT": 0.35, "FORWARD": 0.10})
    spot = np.busday_offset(asof, 2, roll="forward")
    age_days = d.uniform(0.0, np.minimum(5.0, years - 0.25)) * _DAYS_PER_YEAR
    seasoned = _weekday(asof - age_days.astype("timedelta64[D]"))
    forward = _add_months(
        np.full(d.n, spot), d.choice({3: 2, 6: 2, 12: 3, 24: 2, 60: 1}).astype(np.int64)
    )
    start = np.where(kind == "SEASONED", seasoned, np.where(kind == "SPOT", spot, forward))
    return start, _add_months(start, 12 * years)


def _irs_or_ois(
    d: _Draw,
    lv: _Levels,
    asof: np.datetime64,
    indices: Mapping[str, float],
    tenors: Mapping[int, float],
) -> Columns:
    index = d.choice(indices)
    ccy = np.array([conventions.index_convention(i).currency for i in index], dtype=object)
    start, maturity = _swap_dates(d, asof, tenors)
    t0, t1 = _years(start, asof), _years(maturity, asof)
    level = _by_key(index, lambda i, m: lv.forward_rate(i, t0[m], t1[m]))
    return {
        "book": np.where(ccy == "USD", "USD-SWAPS", "EUR-SWAPS").tolist(),
        "currency": ccy.tolist(),
        "index": index.tolist(),
        "notional": d.notional().tolist(),
        "start_date": _to_dates(start),
        "maturity_date": _to_dates(maturity),
        "fixed_rate": _rate(level + d.normal(40 * _BP, 100 * _BP), 0.1 * _BP),
        "fixed_leg": d.side(0.5, ("PAY", "RECEIVE")).tolist(),
    }


def _irs(d: _Draw, lv: _Levels, asof: np.datetime64) -> Columns:
    return _irs_or_ois(
        d,
        lv,
        asof,
        {"USD-TSOFR-3M": 0.40, "EUR-EURIBOR-6M": 0.45, "EUR-EURIBOR-3M": 0.15},
        {1: 4, 2: 10, 3: 8, 4: 5, 5: 12, 7: 8, 10: 16, 12: 4, 15: 8, 20: 8, 25: 3, 30: 6},
    )


def _ois(d: _Draw, lv: _Levels, asof: np.datetime64) -> Columns:
    return _irs_or_ois(
        d,
        lv,
        asof,
        {"USD-SOFR": 0.55, "EUR-ESTR": 0.45},
        {1: 14, 2: 14, 3: 10, 5: 12, 7: 7, 10: 12, 15: 5, 20: 5, 30: 5},
    )


def _fra(d: _Draw, lv: _Levels, asof: np.datetime64) -> Columns:
    index = d.choice({"EUR-EURIBOR-6M": 0.45, "EUR-EURIBOR-3M": 0.35, "USD-TSOFR-3M": 0.20})
    tenor_m = np.array(
        [int(str(conventions.index_convention(i).tenor)[:-1]) for i in index], dtype=np.int64
    )
    start_m = d.choice({1: 2, 2: 2, 3: 3, 6: 3, 9: 2, 12: 2, 18: 1}).astype(np.int64)
    start = _weekday(_add_months(np.full(d.n, asof), start_m))
    end = _weekday(_add_months(start, tenor_m))
    level = _by_key(index, lambda i, m: lv.index_rate(i, _years(end[m], asof)))
    return {
        "book": ["FRAS"] * d.n,
        "currency": [conventions.index_convention(i).currency for i in index],
        "index": index.tolist(),
        "notional": d.notional(5e6, 2e8).tolist(),
        "start_date": _to_dates(start),
        "end_date": _to_dates(end),
        "fixed_rate": _rate(level + d.normal(15 * _BP, 50 * _BP), 0.1 * _BP),
        "fixed_leg": d.side(0.5, ("PAY", "RECEIVE")).tolist(),
    }


def _bond(d: _Draw, lv: _Levels, asof: np.datetime64) -> Columns:
    issuer = d.choice({k: v[3] for k, v in _ISSUERS.items()})
    years = d.choice({2: 10, 3: 10, 5: 20, 7: 12, 10: 25, 20: 8, 30: 15}).astype(np.int64)
    age_days = d.uniform(0.0, np.minimum(10.0, years - 0.1)) * _DAYS_PER_YEAR
    issue = _weekday(asof - age_days.astype("timedelta64[D]"))
    maturity = _add_months(issue, 12 * years)
    ccy = np.array([_ISSUERS[i][0] for i in issuer], dtype=object)
    spread = np.array([lv.snap[f"CREDIT.{i}.ZSPREAD"] for i in issuer])
    level = _by_key(ccy, lambda c, m: lv.discount_rate(c, _years(maturity[m], asof))) + spread
    return {
        "book": ["BONDS"] * d.n,
        "currency": ccy.tolist(),
        "notional": d.notional().tolist(),
        "issue_date": _to_dates(issue),
        "maturity_date": _to_dates(maturity),
        "coupon": _rate(level + d.normal(75 * _BP, 150 * _BP), 0.00125, floor=0.0),
        "coupon_frequency": [_ISSUERS[i][1] for i in issuer],
        "day_count": [_ISSUERS[i][2] for i in issuer],
        "side": d.side(0.75).tolist(),
        "issuer": issuer.tolist(),
    }


def _capfloor(d: _Draw, lv: _Levels, asof: np.datetime64) -> Columns:
    index = d.choice({"USD-TSOFR-3M": 0.40, "EUR-EURIBOR-6M": 0.40, "EUR-EURIBOR-3M": 0.20})
    years = d.choice({1: 2, 2: 3, 3: 3, 5: 4, 7: 2, 10: 3}).astype(np.int64)
    seasoned = d.uniform(0, 1) < 0.25
    age_days = d.uniform(0.0, np.minimum(2.0, years - 0.5)) * _DAYS_PER_YEAR
    spot = np.busday_offset(asof, 2, roll="forward")
    start = np.where(seasoned, _weekday(asof - age_days.astype("timedelta64[D]")), spot)
    maturity = _add_months(start, 12 * years)
    level = _by_key(index, lambda i, m: lv.index_rate(i, _years(maturity[m], asof)))
    return {
        "book": ["RATES-OPTIONS"] * d.n,
        "currency": [conventions.index_convention(i).currency for i in index],
        "index": index.tolist(),
        "notional": d.notional().tolist(),
        "start_date": _to_dates(start),
        "maturity_date": _to_dates(maturity),
        "strike": _rate(level + d.normal(50 * _BP, 100 * _BP), 5 * _BP, floor=25 * _BP),
        "option_type": d.choice({"CAP": 0.6, "FLOOR": 0.4}).tolist(),
        "side": d.side().tolist(),
    }


def _swaption(d: _Draw, lv: _Levels, asof: np.datetime64) -> Columns:
    ccy = d.choice({"USD": 0.55, "EUR": 0.45})
    index = np.where(ccy == "USD", "USD-SOFR", "EUR-EURIBOR-6M").astype(object)
    expiry_m = d.choice({1: 1, 3: 2, 6: 2, 12: 3, 24: 2, 36: 1, 60: 2, 120: 1}).astype(np.int64)
    tenor_y = d.choice({1: 2, 2: 2, 5: 3, 10: 4, 20: 1, 30: 2}).astype(np.int64)
    tenor_y = np.where(expiry_m / 12 + tenor_y > 30, 20, tenor_y)  # stay within the 30y curves
    expiry = _weekday(_add_months(np.full(d.n, asof), expiry_m))
    t0 = _years(expiry, asof)
    level = _by_key(index, lambda i, m: lv.forward_rate(i, t0[m], t0[m] + tenor_y[m]))
    return {
        "book": ["RATES-OPTIONS"] * d.n,
        "currency": ccy.tolist(),
        "index": index.tolist(),
        "notional": d.notional().tolist(),
        "expiry_date": _to_dates(expiry),
        "swap_tenor": [f"{t}Y" for t in tenor_y.tolist()],
        "strike": _rate(level + d.normal(40 * _BP, 100 * _BP), 1 * _BP, floor=50 * _BP),
        "option_type": d.choice({"PAYER": 0.5, "RECEIVER": 0.5}).tolist(),
        "side": d.side().tolist(),
    }


def _fx_strike(pair: NDArray[Any], x: F64) -> list[float]:
    pip = np.where([p.endswith("JPY") for p in pair], 0.01, 0.0001)
    return _rate(x, pip)


def _fx_forward(d: _Draw, lv: _Levels, asof: np.datetime64) -> Columns:
    pair = d.choice(_FX_PAIRS)
    days = d.choice({7: 5, 30: 20, 61: 15, 91: 20, 182: 15, 273: 8, 365: 12, 730: 5}).astype(float)
    days = np.ceil(days * d.uniform(0.2, 1.0)) + 2  # seasoned forwards deliver on any date
    delivery = _weekday(asof + days.astype("timedelta64[D]"))
    t = _years(delivery, asof)
    fwd = _by_key(pair, lambda p, m: lv.fx_forward(p, t[m]))
    return {
        "book": ["FX-FORWARDS"] * d.n,
        "pair": pair.tolist(),
        "notional": d.notional().tolist(),
        "strike": _fx_strike(pair, fwd * np.exp(d.normal(0.015, 0.04))),
        "delivery_date": _to_dates(delivery),
        "side": d.side().tolist(),
    }


def _fx_option(d: _Draw, lv: _Levels, asof: np.datetime64) -> Columns:
    pair = d.choice(_FX_PAIRS)
    expiry_m = d.choice({1: 15, 2: 10, 3: 20, 6: 20, 9: 8, 12: 15, 18: 5, 24: 7}).astype(np.int64)
    expiry = _weekday(_add_months(np.full(d.n, asof), expiry_m))
    t = _years(expiry, asof)
    fwd = _by_key(pair, lambda p, m: lv.fx_forward(p, t[m]))
    vol = _by_key(pair, lambda p, m: lv.fx_atm_vol(p, t[m]))
    strike = fwd * np.exp(vol * np.sqrt(t) * d.normal(0.7, 1.8))  # ~ 5-95 delta
    return {
        "book": ["FX-OPTIONS"] * d.n,
        "pair": pair.tolist(),
        "notional": d.notional().tolist(),
        "strike": _fx_strike(pair, strike),
        "expiry_date": _to_dates(expiry),
        "option_type": d.choice({"CALL": 0.5, "PUT": 0.5}).tolist(),
        "side": d.side(0.55).tolist(),
    }


def _equity_common(
    d: _Draw,
    lv: _Levels,
    asof: np.datetime64,
    underlyings: Mapping[str, float],
    expiries: Mapping[int, float],
    moneyness: tuple[float, float],
) -> tuple[Columns, F64, F64]:
    """Columns shared by the equity options, plus spot and strike arrays."""
    und = d.choice(underlyings)
    spot = np.array([lv.snap[f"EQ.{u}.SPOT"] for u in und])
    step = np.array([_strike_step(s) for s in spot])
    lo, hi = moneyness
    strike = _round_to(spot * d.rng.triangular(lo, 1.0, hi, d.n), step)
    strike = np.clip(strike, np.ceil(lo * spot / step) * step, np.floor(hi * spot / step) * step)
    expiry = _third_friday(np.full(d.n, asof), d.choice(expiries).astype(np.int64))
    qty = d.notional() / spot
    qty = _round_to(qty, 10.0 ** (np.floor(np.log10(qty)) - 1))  # two significant figures
    cols: Columns = {
        "underlying": und.tolist(),
        "quantity": np.round(qty, 6).tolist(),
        "strike": np.round(strike, 6).tolist(),
        "expiry_date": _to_dates(expiry),
        "option_type": d.choice({"CALL": 0.5, "PUT": 0.5}).tolist(),
        "side": d.side().tolist(),
    }
    return cols, spot, strike


def _eq_option(d: _Draw, lv: _Levels, asof: np.datetime64) -> Columns:
    cols, _, _ = _equity_common(
        d,
        lv,
        asof,
        {"SPX": 0.30, "NDX": 0.15, "SX5E": 0.25, "AAPL": 0.15, "SAP": 0.15},
        {1: 12, 2: 10, 3: 15, 6: 15, 9: 8, 12: 15, 18: 6, 24: 8, 36: 6, 60: 5},
        (0.70, 1.30),
    )
    return {"book": [_EQ_BOOK[u] for u in cols["underlying"]], **cols}


def _eq_american(d: _Draw, lv: _Levels, asof: np.datetime64) -> Columns:
    cols, _, _ = _equity_common(
        d,
        lv,
        asof,
        {"AAPL": 0.55, "SAP": 0.45},
        {1: 15, 2: 10, 3: 20, 6: 20, 9: 10, 12: 15, 18: 5, 24: 5},
        (0.70, 1.30),
    )
    return {"book": ["EQ-SINGLE-STOCK"] * d.n, **cols}


def _eq_barrier(d: _Draw, lv: _Levels, asof: np.datetime64) -> Columns:
    cols, spot, strike = _equity_common(
        d,
        lv,
        asof,
        {"SPX": 0.35, "SX5E": 0.30, "NDX": 0.15, "AAPL": 0.10, "SAP": 0.10},
        {3: 15, 6: 20, 9: 10, 12: 25, 18: 10, 24: 12, 36: 8},
        (0.80, 1.20),
    )
    kind = d.choice({"DOWN_OUT": 0.35, "DOWN_IN": 0.30, "UP_OUT": 0.20, "UP_IN": 0.15})
    down = np.array([k.startswith("DOWN") for k in kind])
    step = np.array([_strike_step(s) for s in spot])
    # At least 15% from spot, so a 10% stress does not knock a barrier; up barriers also above K.
    barrier = np.where(
        down,
        np.floor(spot * d.uniform(0.55, 0.85) / step) * step,
        np.ceil(np.maximum(spot, strike) * d.uniform(1.15, 1.40) / step) * step,
    )
    rebate = np.where(d.uniform(0, 1) < 0.15, _round_to(0.02 * spot, step), 0.0)
    return {
        "book": ["EQ-EXOTICS"] * d.n,
        **cols,
        "barrier_type": kind.tolist(),
        "barrier": np.round(barrier, 6).tolist(),
        "rebate": np.round(rebate, 6).tolist(),
    }


_GENERATORS: dict[str, Callable[[_Draw, _Levels, np.datetime64], Columns]] = {
    "IRS": _irs,
    "OIS": _ois,
    "FRA": _fra,
    "BOND": _bond,
    "CAPFLOOR": _capfloor,
    "SWAPTION": _swaption,
    "FX_FORWARD": _fx_forward,
    "FX_OPTION": _fx_option,
    "EQ_OPTION": _eq_option,
    "EQ_AMERICAN": _eq_american,
    "EQ_BARRIER": _eq_barrier,
}


def _allocate(n: int) -> dict[str, int]:
    """Trades per product: ``PRODUCT_MIX`` shares by largest remainder, every product at least
    once when ``n`` allows it."""
    products = list(PRODUCT_MIX)
    share = np.array([PRODUCT_MIX[p] for p in products]) * n
    counts = np.floor(share).astype(int)
    if n >= len(products):
        counts = np.maximum(counts, 1)
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    i = 0
    while counts.sum() < n:
        counts[order[i % len(order)]] += 1
        i += 1
    while counts.sum() > n:  # the minimum of one took trades from the largest products
        counts[int(np.argmax(counts))] -= 1
    return {p: int(c) for p, c in zip(products, counts, strict=True)}


def _product_trades(
    product: str, n: int, rng: np.random.Generator, levels: _Levels, asof: dt.date, width: int
) -> list[Trade]:
    draw = _Draw(rng, n)
    cols = _GENERATORS[product](draw, levels, np.datetime64(asof, "D"))
    cols["counterparty"] = draw.counterparty().tolist()
    prefix = TRADE_ID_PREFIX[product]
    cols["trade_id"] = [f"{prefix}-{i:0{width}d}" for i in range(1, n + 1)]
    cls, names = PRODUCTS[product], list(cols)
    return [cls(**dict(zip(names, row, strict=True))) for row in zip(*cols.values(), strict=True)]


def demo_trades(product: str, n: int, seed: int = 0, asof: dt.date = DEMO_ASOF) -> list[Trade]:
    """``n`` demo trades of one product (the same generator as :func:`demo_portfolio`).

    >>> [t.product for t in demo_trades("FX_OPTION", 2)]
    ['FX_OPTION', 'FX_OPTION']
    """
    if product not in _GENERATORS:
        raise KeyError(f"unknown product {product!r}")
    return _product_trades(
        product,
        n,
        np.random.default_rng(seed),
        _Levels(demo_market(asof)),
        asof,
        max(6, len(str(n))),
    )


def demo_portfolio(n_trades: int = 3000, seed: int = 0, asof: dt.date = DEMO_ASOF) -> Portfolio:
    """A seeded demo portfolio of ``n_trades`` trades, valid and priceable in the demo market.

    Parameters
    ----------
    n_trades
        Number of trades; split over products by :data:`PRODUCT_MIX` (every product present
        when ``n_trades >= 11``).
    seed
        Seed of numpy's ``default_rng``: the same seed gives the same portfolio.
    asof
        As-of date the trades are drawn around (seasoning, expiries); the market levels are
        those of :func:`~pricing.demo.market.demo_market`.

    Returns
    -------
    Portfolio
        Firm ``Demo Bank``, desks RATES, FX and EQD with the books of :data:`BOOKS`; trade ids
        ``<PREFIX>-<number>`` (``IRS-000001``), grouped by product.

    >>> demo_portfolio(20, seed=7).trades[0].trade_id
    'IRS-000001'
    """
    if n_trades < 0:
        raise ValueError(f"n_trades must not be negative, got {n_trades}")
    levels = _Levels(demo_market(asof))
    streams = np.random.SeedSequence(seed).spawn(len(PRODUCT_MIX))
    width = max(6, len(str(n_trades)))
    trades: list[Trade] = []
    for (product, n), stream in zip(_allocate(n_trades).items(), streams, strict=True):
        if n > 0:
            trades.extend(
                _product_trades(product, n, np.random.default_rng(stream), levels, asof, width)
            )
    return Portfolio(tuple(trades), BOOKS, FIRM)


# -- bad trades -----------------------------------------------------------------------------------
def demo_bad_trades() -> list[dict[str, Any]]:
    """Raw trade records with one deliberate defect each, plus a few good trades.

    Dates are relative to the demo as-of date (28 Nov 2025). Ids say what is wrong
    (``BAD-NEGATIVE-NOTIONAL``); the good trades are ``OK-*``. All defects but one are found by
    the loader; ``BAD-BARRIER-BREACHED`` (a down-and-out barrier above today's SPX spot of 6,850)
    loads fine and fails at pricing. ``OK-FXF-1`` appears twice: the second is a duplicate id.

    >>> [r["trade_id"] for r in demo_bad_trades()][:2]
    ['OK-IRS-1', 'OK-OIS-1']
    """
    irs = {
        "product": "IRS",
        "book": "USD-SWAPS",
        "counterparty": COUNTERPARTIES[0],
        "currency": "USD",
        "index": "USD-TSOFR-3M",
        "notional": 25_000_000,
        "start_date": "2025-12-02",
        "maturity_date": "2035-12-02",
        "fixed_rate": 0.0375,
        "fixed_leg": "PAY",
    }
    fxf = {
        "product": "FX_FORWARD",
        "book": "FX-FORWARDS",
        "counterparty": COUNTERPARTIES[1],
        "pair": "EURUSD",
        "notional": 10_000_000,
        "strike": 1.1750,
        "delivery_date": "2026-05-29",
        "side": "BUY",
    }
    eqo = {
        "product": "EQ_OPTION",
        "book": "EQ-INDEX-US",
        "counterparty": COUNTERPARTIES[2],
        "underlying": "SPX",
        "quantity": 1500,
        "strike": 7000,
        "expiry_date": "2026-06-19",
        "option_type": "CALL",
        "side": "BUY",
    }
    bond = {
        "product": "BOND",
        "book": "BONDS",
        "counterparty": COUNTERPARTIES[4],
        "currency": "USD",
        "notional": 10_000_000,
        "issue_date": "2025-02-15",
        "maturity_date": "2035-02-15",
        "coupon": 0.04625,
        "coupon_frequency": "6M",
        "day_count": "ACT/ACT",
        "issuer": "UST",
    }
    good: list[dict[str, Any]] = [
        {**irs, "trade_id": "OK-IRS-1"},
        {
            "product": "OIS",
            "trade_id": "OK-OIS-1",
            "book": "EUR-SWAPS",
            "counterparty": COUNTERPARTIES[3],
            "currency": "EUR",
            "index": "EUR-ESTR",
            "notional": 50_000_000,
            "start_date": "2024-06-14",
            "maturity_date": "2029-06-14",
            "fixed_rate": 0.0245,
            "fixed_leg": "RECEIVE",
        },
        {**fxf, "trade_id": "OK-FXF-1"},
        {**eqo, "trade_id": "OK-EQO-1"},
        {**bond, "trade_id": "OK-BOND-1"},
    ]
    bad: list[dict[str, Any]] = [
        {**irs, "trade_id": "BAD-UNKNOWN-PRODUCT", "product": "CDS"},
        {k: v for k, v in irs.items() if k != "fixed_rate"} | {"trade_id": "BAD-MISSING-FIELD"},
        {**fxf, "trade_id": "BAD-NEGATIVE-NOTIONAL", "notional": -10_000_000},
        {
            **irs,
            "trade_id": "BAD-MATURED",
            "start_date": "2020-03-16",
            "maturity_date": "2025-03-16",
        },
        {**fxf, "trade_id": "BAD-MALFORMED-DATE", "delivery_date": "2026-02-30"},
        {**bond, "trade_id": "BAD-UNKNOWN-CURRENCY", "currency": "XYZ"},
        {**irs, "trade_id": "BAD-UNKNOWN-INDEX", "index": "USD-LIBOR-3M"},
        {**eqo, "trade_id": "BAD-UNKNOWN-UNDERLYING", "underlying": "TSLA"},
        {**fxf, "trade_id": "OK-FXF-1", "notional": 5_000_000},  # duplicate id
        {
            **eqo,
            "product": "EQ_BARRIER",
            "trade_id": "BAD-BARRIER-BREACHED",
            "book": "EQ-EXOTICS",
            "barrier_type": "DOWN_OUT",
            "barrier": 7200,
        },
    ]
    return [
        {"trade_id": r["trade_id"], **{k: v for k, v in r.items() if k != "trade_id"}}
        for r in good + bad
    ]  # id first: easier to read in the YAML file
