"""The bundled demo market: plausible levels around 28 November 2025.

Levels are rounded approximations of where markets stood (Fed funds 3.75-4.00% after the October
2025 cut, ECB deposit rate 2.00%, EURUSD ~1.16, SPX ~6,850); they are for demonstration and tests,
not for trading. The snapshot is built deterministically in code so that every number here is
reviewable; ``riskgrid demo`` writes it out as YAML.

It shows every input type: bootstrapped OIS curves (USD SOFR, EUR ESTR), IBOR-style projection
curves from deposits/FRAs/swaps (EURIBOR 6M and 3M, USD Term SOFR 3M), direct inputs (GBP SONIA as
zero rates, CHF SARON as discount factors, JPY TONA as a flat rate), FX spots with EURUSD forward
points, equity spots, dividend yields and vol surfaces, FX ATM vols, swaption and cap normal vols,
and a bond issuer z-spread.
"""

from __future__ import annotations

import datetime as dt
import math

from pricing import quantlib_ as qa
from pricing.conventions import index_convention
from pricing.market import MarketSnapshot

__all__ = ["DEMO_ASOF", "demo_market"]

DEMO_ASOF = dt.date(2025, 11, 28)

_OIS_TENORS = (
    "1W",
    "1M",
    "3M",
    "6M",
    "9M",
    "1Y",
    "18M",
    "2Y",
    "3Y",
    "4Y",
    "5Y",
    "7Y",
    "10Y",
    "12Y",
    "15Y",
    "20Y",
    "25Y",
    "30Y",
)
# Par OIS rates (decimal) for USD SOFR and EUR ESTR.
_SOFR = (
    0.0392,
    0.0388,
    0.0380,
    0.0368,
    0.0358,
    0.0350,
    0.0340,
    0.0335,
    0.0333,
    0.0335,
    0.0340,
    0.0352,
    0.0370,
    0.0379,
    0.0390,
    0.0398,
    0.0396,
    0.0390,
)
_ESTR = (
    0.0193,
    0.0193,
    0.0192,
    0.0192,
    0.0194,
    0.0196,
    0.0200,
    0.0204,
    0.0212,
    0.0220,
    0.0229,
    0.0245,
    0.0266,
    0.0277,
    0.0289,
    0.0295,
    0.0293,
    0.0288,
)
_SWAP_TENORS = ("2Y", "3Y", "4Y", "5Y", "7Y", "10Y", "12Y", "15Y", "20Y", "25Y", "30Y")
_EUR6M_SWAPS = (
    0.0224,
    0.0231,
    0.0239,
    0.0248,
    0.0264,
    0.0285,
    0.0296,
    0.0307,
    0.0312,
    0.0309,
    0.0303,
)
_EUR3M_SWAPS = tuple(r - 0.0010 for r in _EUR6M_SWAPS)
_TSOFR_SWAPS = (
    0.0340,
    0.0338,
    0.0340,
    0.0345,
    0.0357,
    0.0375,
    0.0384,
    0.0395,
    0.0403,
    0.0401,
    0.0395,
)

_EQ = {  # spot, dividend yield, ATM vol term (1M..5Y), skew (vol pts per 10% moneyness at 1M)
    "SPX": (6850.0, 0.0130, (0.135, 0.150, 0.160, 0.170, 0.185, 0.200), 0.030),
    "NDX": (25400.0, 0.0070, (0.175, 0.190, 0.200, 0.210, 0.220, 0.230), 0.030),
    "AAPL": (278.0, 0.0040, (0.230, 0.240, 0.245, 0.250, 0.255, 0.260), 0.020),
    "SX5E": (5670.0, 0.0300, (0.145, 0.155, 0.165, 0.175, 0.185, 0.195), 0.028),
    "SAP": (210.0, 0.0120, (0.260, 0.265, 0.270, 0.275, 0.280, 0.285), 0.018),
}
_EQ_EXPIRIES = ("1M", "3M", "6M", "1Y", "2Y", "5Y")
_EQ_STRIKES = (60, 80, 90, 100, 110, 120, 150)

_FX_SPOT = {"EURUSD": 1.1600, "GBPUSD": 1.3220, "USDJPY": 156.20, "USDCHF": 0.8040}
_FX_VOL = {  # ATM vols 1M, 3M, 6M, 1Y, 2Y, 5Y
    "EURUSD": (0.068, 0.070, 0.072, 0.075, 0.078, 0.082),
    "GBPUSD": (0.075, 0.077, 0.079, 0.081, 0.084, 0.088),
    "USDJPY": (0.098, 0.100, 0.102, 0.104, 0.106, 0.110),
    "USDCHF": (0.072, 0.074, 0.076, 0.078, 0.080, 0.084),
}
_FX_VOL_EXPIRIES = ("1M", "3M", "6M", "1Y", "2Y", "5Y")
_EURUSD_POINTS = {
    "1M": 0.0016,
    "3M": 0.0048,
    "6M": 0.0093,
    "1Y": 0.0178,
    "2Y": 0.0335,
    "5Y": 0.0690,
}

_SWPT_EXPIRIES = ("1M", "3M", "6M", "1Y", "2Y", "5Y", "10Y")
_SWPT_TENORS = ("1Y", "2Y", "5Y", "10Y", "30Y")
_CAP_MATURITIES = ("1Y", "2Y", "3Y", "5Y", "7Y", "10Y", "15Y", "20Y")


def _swaption_grid(ccy: str, level: float) -> dict[str, float]:
    out = {}
    for i, e in enumerate(_SWPT_EXPIRIES):
        for j, t in enumerate(_SWPT_TENORS):
            hump = 0.0008 * math.exp(-((i - 3) ** 2) / 6.0)
            out[f"VOL.SWPT.{ccy}.{e}{t}"] = round(level + hump - 0.0002 * j + 0.00005 * i, 6)
    return out


def _fixings(index: str, start: dt.date, end: dt.date, level: object) -> dict[dt.date, float]:
    cal = qa.calendar(index_convention(index).calendar)
    out = {}
    d = start
    while d <= end:
        if cal.isBusinessDay(qa.ql_date(d)):
            out[d] = round(level(d), 6)  # type: ignore[operator]
        d += dt.timedelta(days=1)
    return out


def _step(*changes: tuple[str, float]) -> object:
    points = [(dt.date.fromisoformat(d), r) for d, r in changes]

    def level(d: dt.date) -> float:
        rate = points[0][1]
        for when, r in points:
            if d >= when:
                rate = r
        return rate

    return level


def demo_market(asof: dt.date = DEMO_ASOF) -> MarketSnapshot:
    """The demo market snapshot (deterministic; ``asof`` only moves the date, not the levels).

    >>> snap = demo_market()
    >>> snap.asof, snap["FX.EURUSD"], snap["IR.USD.SOFR.OIS.10Y"]
    (datetime.date(2025, 11, 28), 1.16, 0.037)
    """
    q: dict[str, float] = {}
    for t, r in zip(_OIS_TENORS, _SOFR, strict=True):
        q[f"IR.USD.SOFR.OIS.{t}"] = r
    for t, r in zip(_OIS_TENORS, _ESTR, strict=True):
        q[f"IR.EUR.ESTR.OIS.{t}"] = r
    # EURIBOR 6M: fixing, FRAs, swaps; EURIBOR 3M: fixing, FRAs, swaps; USD Term SOFR 3M likewise.
    q["IR.EUR.EURIBOR6M.DEP.6M"] = 0.0214
    for (a, b), r in zip(
        ((1, 7), (3, 9), (6, 12), (9, 15), (12, 18)),
        (0.0213, 0.0212, 0.0213, 0.0216, 0.0220),
        strict=True,
    ):
        q[f"IR.EUR.EURIBOR6M.FRA.{a}X{b}"] = r
    q["IR.EUR.EURIBOR3M.DEP.3M"] = 0.0206
    for (a, b), r in zip(
        ((3, 6), (6, 9), (9, 12), (12, 15), (15, 18), (18, 21)),
        (0.0204, 0.0203, 0.0204, 0.0207, 0.0210, 0.0213),
        strict=True,
    ):
        q[f"IR.EUR.EURIBOR3M.FRA.{a}X{b}"] = r
    q["IR.USD.TSOFR3M.DEP.3M"] = 0.0386
    for (a, b), r in zip(
        ((3, 6), (6, 9), (9, 12), (12, 15), (15, 18), (18, 21)),
        (0.0370, 0.0360, 0.0352, 0.0347, 0.0344, 0.0342),
        strict=True,
    ):
        q[f"IR.USD.TSOFR3M.FRA.{a}X{b}"] = r
    for t, r6, r3, ru in zip(_SWAP_TENORS, _EUR6M_SWAPS, _EUR3M_SWAPS, _TSOFR_SWAPS, strict=True):
        q[f"IR.EUR.EURIBOR6M.SWAP.{t}"] = round(r6, 6)
        q[f"IR.EUR.EURIBOR3M.SWAP.{t}"] = round(r3, 6)
        q[f"IR.USD.TSOFR3M.SWAP.{t}"] = ru
    # Direct inputs: GBP SONIA zero rates, CHF SARON discount factors, JPY TONA flat rate.
    for t, z in (
        ("1M", 0.0395),
        ("6M", 0.0380),
        ("1Y", 0.0368),
        ("2Y", 0.0360),
        ("5Y", 0.0372),
        ("10Y", 0.0410),
        ("30Y", 0.0450),
    ):
        q[f"IR.GBP.SONIA.ZERO.{t}"] = z
    for t, n_years, z in (
        ("1Y", 1, 0.0000),
        ("2Y", 2, 0.0002),
        ("5Y", 5, 0.0010),
        ("10Y", 10, 0.0030),
        ("30Y", 30, 0.0060),
    ):
        q[f"IR.CHF.SARON.DF.{t}"] = round(math.exp(-z * n_years), 8)
    q["IR.JPY.TONA.FLAT"] = 0.0048
    for pair, s in _FX_SPOT.items():
        q[f"FX.{pair}"] = s
        for e, v in zip(_FX_VOL_EXPIRIES, _FX_VOL[pair], strict=True):
            q[f"VOL.FX.{pair}.{e}.ATM"] = v
    for t, pts in _EURUSD_POINTS.items():
        q[f"FX.EURUSD.FWD.{t}"] = pts
    for und, (spot, div, atm, skew) in _EQ.items():
        q[f"EQ.{und}.SPOT"] = spot
        q[f"EQ.{und}.DIV"] = div
        for e, atm_vol, years in zip(
            _EQ_EXPIRIES, atm, (1 / 12, 0.25, 0.5, 1.0, 2.0, 5.0), strict=True
        ):
            for k in _EQ_STRIKES:
                m = (100 - k) / 10.0
                vol = atm_vol + skew * m / math.sqrt(12 * years) + 0.002 * m * m
                q[f"VOL.EQ.{und}.{e}.{k}"] = round(max(vol, 0.05), 6)
    q.update(_swaption_grid("USD", 0.0095))
    q.update(_swaption_grid("EUR", 0.0072))
    for i, t in enumerate(_CAP_MATURITIES):
        q[f"VOL.CAP.USD.{t}"] = round(0.0090 + 0.0004 * math.sin(i / 2), 6)
        q[f"VOL.CAP.EUR.{t}"] = round(0.0070 + 0.0004 * math.sin(i / 2), 6)
    q["CREDIT.UST.ZSPREAD"] = -0.0020
    q["CREDIT.DBR.ZSPREAD"] = 0.0005
    q["CREDIT.ACME_CORP.ZSPREAD"] = 0.0115
    q["CREDIT.GLOBEX.ZSPREAD"] = 0.0180

    start = asof - dt.timedelta(days=400)
    fixings = {
        "USD-SOFR": _fixings(
            "USD-SOFR",
            start,
            asof,
            _step(
                ("2024-01-01", 0.0460),
                ("2024-12-19", 0.0433),
                ("2025-09-18", 0.0415),
                ("2025-10-30", 0.0392),
            ),
        ),
        "EUR-ESTR": _fixings(
            "EUR-ESTR",
            start,
            asof,
            _step(
                ("2024-01-01", 0.0316),
                ("2024-12-18", 0.0291),
                ("2025-02-05", 0.0266),
                ("2025-03-12", 0.0241),
                ("2025-04-23", 0.0216),
                ("2025-06-11", 0.0192),
            ),
        ),
        "EUR-EURIBOR-6M": _fixings(
            "EUR-EURIBOR-6M",
            start,
            asof,
            _step(
                ("2024-01-01", 0.0270),
                ("2025-01-01", 0.0260),
                ("2025-03-01", 0.0240),
                ("2025-05-01", 0.0215),
                ("2025-07-01", 0.0207),
                ("2025-10-01", 0.0212),
            ),
        ),
        "EUR-EURIBOR-3M": _fixings(
            "EUR-EURIBOR-3M",
            start,
            asof,
            _step(
                ("2024-01-01", 0.0285),
                ("2025-01-01", 0.0270),
                ("2025-03-01", 0.0250),
                ("2025-05-01", 0.0210),
                ("2025-07-01", 0.0199),
                ("2025-10-01", 0.0204),
            ),
        ),
        "USD-TSOFR-3M": _fixings(
            "USD-TSOFR-3M",
            start,
            asof,
            _step(
                ("2024-01-01", 0.0440),
                ("2024-12-19", 0.0430),
                ("2025-09-18", 0.0405),
                ("2025-10-30", 0.0387),
            ),
        ),
    }
    return MarketSnapshot(asof, q, fixings, name="demo-2025-11-28")
