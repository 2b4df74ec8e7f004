"""Vols over scenarios against QuantLib's vol structures (built by QlMarket per scenario), and
against the interpolation rules written out here: quotes at the grid nodes, total variance
linear in time, constant strike extrapolation, flat vol after the last expiry, sticky moneyness.
The formulas are QuantLib's own, so agreement is to rounding (vols ~0.1, 1e-15).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import quantlib_ as qa
from pricing.curves import QlMarket
from pricing.demo import demo_market
from pricing.errors import MarketDataError
from pricing.market import MarketSnapshot, tenor_date
from pricing.products.swaption import build_swaption
from pricing.quantlib_ import ql_session
from pricing.scenarios import ScenarioSet
from pricing.trades import Swaption
from pricing.vector import ScenarioMarket
from tests.factories import ASOF, flat_snapshot
from tests.pricing.vector.reference import demo_scenario_sets, ql_markets

TOL = 1e-15


@functools.cache
def _market(set_name: str) -> tuple[ScenarioMarket, list[QlMarket]]:
    """The vectorised market and one (already built) QlMarket per scenario."""
    base = demo_market()
    if set_name == "spot only":
        scen = ScenarioSet.from_shifts(
            ["base", "down", "up", "crash"], [("EQ.*.SPOT", "RELATIVE", [0.0, -0.1, 0.15, -0.4])]
        )
    else:
        scen = demo_scenario_sets(base)[set_name]
    qms = []
    for _, qm in ql_markets(scen, base):
        for und in ("SPX", "SAP"):
            qm.equity_vol(und)
        for p in ("EURUSD", "JPYUSD"):
            qm.fx_vol(p)
        for c in ("USD", "EUR"):
            qm.swaption_vol(c)
            qm.cap_vol(c)
        qms.append(qm)
    return ScenarioMarket(base, scen), qms


EXPIRY_T = st.floats(min_value=0.0, max_value=12.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    t=st.lists(EXPIRY_T, min_size=1, max_size=8),
    moneyness=st.lists(st.floats(min_value=0.2, max_value=3.0), min_size=8, max_size=8),
    set_name=st.sampled_from(["all quotes", "spot only"]),
)
def test_equity_surface_agrees_with_quantlib(
    t: list[float], moneyness: list[float], set_name: str
) -> None:
    # strikes from 20% to 300% of the base spot (the grid is 60-150%), expiries up to 12Y (the
    # grid ends at 5Y); the scenario spots move, so the surface's strikes move with them
    m, qms = _market(set_name)
    spot = m.base["EQ.SPX.SPOT"]
    strikes = np.array(moneyness[: len(t)]) * spot
    ours = m.equity_vol("SPX", np.array(t), strikes)
    assert ours.shape == (m.n, len(t))
    for i, qm in enumerate(qms):
        h = qm.equity_vol("SPX")
        ref = [h.blackVol(x, k) for x, k in zip(t, strikes, strict=True)]
        np.testing.assert_allclose(ours[i], ref, rtol=0, atol=TOL)


def test_equity_surface_rules_written_out(demo_snapshot: MarketSnapshot) -> None:
    m = ScenarioMarket(demo_snapshot)
    s = demo_snapshot["EQ.SPX.SPOT"]
    q = demo_snapshot.select("VOL.EQ.SPX.*")
    t1, t2 = ((tenor_date(ASOF, e) - ASOF).days / 365.0 for e in ("1Y", "2Y"))
    v1, v2 = q["VOL.EQ.SPX.1Y.90"], q["VOL.EQ.SPX.2Y.90"]

    def vol(t: float, k: float) -> float:
        return float(m.equity_vol("SPX", [t], [k])[0, 0])

    assert vol(t1, 0.9 * s) == pytest.approx(v1, abs=TOL)  # a node is its quote
    tm = 0.5 * (t1 + t2)  # total variance linear in time between expiries
    assert vol(tm, 0.9 * s) ** 2 * tm == pytest.approx(0.5 * (v1**2 * t1 + v2**2 * t2), abs=TOL)
    assert vol(t1, 0.2 * s) == pytest.approx(q["VOL.EQ.SPX.1Y.60"], abs=TOL)  # constant below
    assert vol(t1, 5.0 * s) == pytest.approx(q["VOL.EQ.SPX.1Y.150"], abs=TOL)  # and above
    t5 = (tenor_date(ASOF, "5Y") - ASOF).days / 365.0
    assert vol(9.0, s) == pytest.approx(q["VOL.EQ.SPX.5Y.100"], abs=TOL)  # flat after 5Y
    assert vol(t5, s) == pytest.approx(q["VOL.EQ.SPX.5Y.100"], abs=TOL)
    # bilinear in strike at fixed expiry: halfway between the 100% and 110% variances
    v100, v110 = q["VOL.EQ.SPX.1Y.100"], q["VOL.EQ.SPX.1Y.110"]
    assert vol(t1, 1.05 * s) ** 2 == pytest.approx(0.5 * (v100**2 + v110**2), abs=TOL)


def test_sticky_moneyness_keeps_the_smile_on_the_scenario_spot() -> None:
    # after a spot move, the vol at k% of the NEW spot is the k% quote
    m, _ = _market("spot only")
    spots = m.equity_spot("SPX")
    t1 = (tenor_date(ASOF, "1Y") - ASOF).days / 365.0
    for k in (60, 80, 100, 120, 150):
        got = m.equity_vol("SPX", [t1], (k / 100.0 * spots)[:, None])[:, 0]
        np.testing.assert_allclose(got, m.base[f"VOL.EQ.SPX.1Y.{k}"], rtol=0, atol=TOL)


def test_equity_vol_curve_and_flat() -> None:
    q = {f"VOL.EQ.ABC.{e}.100": v for e, v in (("6M", 0.3), ("1Y", 0.25), ("3Y", 0.2))}
    snap = flat_snapshot(equities={"FLT": (10.0, 0.0, 0.33)}, extra={"EQ.ABC.SPOT": 50.0, **q})
    scen = ScenarioSet.from_shifts(["b", "x"], [("VOL.*", "MULTIPLY", [1.0, 1.3])])
    m = ScenarioMarket(snap, scen)
    t = np.array([0.0, 0.1, 0.5, 1.0, 2.0, 3.0, 7.0])
    k = np.full(len(t), 70.0)  # no smile: the strike does not matter
    for i, qm in ql_markets(scen, snap):
        for und in ("ABC", "FLT"):
            h = qm.equity_vol(und)
            ref = [h.blackVol(x, 70.0) for x in t]
            np.testing.assert_allclose(m.equity_vol(und, t, k)[i], ref, rtol=0, atol=TOL)
    assert m.equity_vol("FLT", t, k).tolist() == [[0.33] * 7, [0.33 * 1.3] * 7]


@pytest.mark.parametrize("set_name", ["all quotes", "spot only"])
def test_fx_vols_agree_with_quantlib(set_name: str) -> None:
    m, qms = _market(set_name)
    t = np.r_[0.0, 1e-4, np.linspace(0.01, 12.0, 300)]
    for pair in ("EURUSD", "JPYUSD"):  # JPYUSD is not quoted: USDJPY's vols
        ours = m.fx_vol(pair, t)
        for i, qm in enumerate(qms):
            ref = [qm.fx_vol(pair).blackVol(x, 1.0) for x in t]
            np.testing.assert_allclose(ours[min(i, len(ours) - 1)], ref, rtol=0, atol=TOL)
    q = m.base.select("VOL.FX.EURUSD.*")
    t5 = (tenor_date(ASOF, "5Y") - ASOF).days / 365.0
    assert m.fx_vol("EURUSD", [t5, 10.0])[0].tolist() == pytest.approx(
        [q["VOL.FX.EURUSD.5Y.ATM"]] * 2
    )


@settings(max_examples=60, deadline=None)
@given(
    t=st.lists(EXPIRY_T, min_size=1, max_size=8),
    length=st.lists(st.floats(min_value=0.05, max_value=45.0), min_size=8, max_size=8),
)
def test_swaption_matrix_agrees_with_quantlib_off_the_grid(
    t: list[float], length: list[float]
) -> None:
    m, qms = _market("all quotes")
    lengths = np.array(length[: len(t)])
    for ccy in ("USD", "EUR"):
        ours, kind, shift = m.swaption_vol(ccy, np.array(t), lengths)
        assert (kind, shift) == ("NORMAL", 0.0)
        for i, qm in enumerate(qms):
            h = qm.swaption_vol(ccy).handle
            ref = [h.volatility(x, sl, 0.03) for x, sl in zip(t, lengths, strict=True)]
            np.testing.assert_allclose(ours[i], ref, rtol=0, atol=TOL)


def test_swaption_matrix_nodes_are_option_dates_and_tenor_months(
    demo_snapshot: MarketSnapshot,
) -> None:
    # a node read by option date and swap tenor (QuantLib's swapLength(Period) = months / 12)
    m = ScenarioMarket(demo_snapshot)
    for e, tenor in (("1M", "1Y"), ("2Y", "5Y"), ("10Y", "30Y")):
        d = tenor_date(ASOF, e)
        t = (d - ASOF).days / 365.0
        length = qa.period(tenor).length() * 1.0
        vol = m.swaption_vol("USD", [t], [length])[0][0, 0]
        assert vol == demo_snapshot[f"VOL.SWPT.USD.{e}{tenor}"]
        with ql_session(ASOF, demo_snapshot.fixings):
            h = QlMarket(demo_snapshot).swaption_vol("USD").handle
            assert vol == h.volatility(qa.ql_date(d), qa.period(tenor), 0.03)


@pytest.mark.parametrize("index", ["EUR-EURIBOR-6M", "USD-SOFR", "USD-TSOFR-3M"])
def test_swaption_engines_read_the_matrix_at_the_rounded_month_length(
    demo_snapshot: MarketSnapshot, index: str
) -> None:
    # QuantLib's Bachelier/Black swaption engines take the swap length from the underlying's
    # floating schedule: round((end - start) / 365.25 * 12) / 12 years. Checked on the engine's
    # own results (swapLength, stdDev = vol sqrt(T)) for random expiries and tenors.
    rng = np.random.default_rng(11)
    m = ScenarioMarket(demo_snapshot)
    ccy = index[:3]
    with ql_session(ASOF, demo_snapshot.fixings):
        qm = QlMarket(demo_snapshot)
        for _ in range(25):
            expiry = ASOF + dt.timedelta(days=int(rng.integers(5, 12 * 365)))
            tenor = f"{int(rng.integers(1, 361))}M"
            trade = Swaption(
                trade_id="S", book="B", counterparty="C", currency=ccy, index=index,
                notional=1e6, expiry_date=expiry, swap_tenor=tenor, strike=0.03,
                option_type="PAYER",
            )  # fmt: skip
            option = build_swaption(trade, qm)
            option.NPV()
            dates = option.underlying().floatingSchedule().dates()
            length = math.floor((dates[-1] - dates[0]) / 365.25 * 12.0 + 0.5) / 12.0
            assert option.swapLength() == length
            t = (expiry - ASOF).days / 365.0
            vol = m.swaption_vol(ccy, [t], [length])[0][0, 0]
            assert option.stdDev() == pytest.approx(vol * math.sqrt(t), abs=1e-16)


def test_cap_vols_agree_with_quantlib(demo_snapshot: MarketSnapshot) -> None:
    m, qms = _market("all quotes")
    t = np.r_[0.0, np.linspace(0.01, 30.0, 300)]
    for ccy in ("USD", "EUR"):
        ours, kind, shift = m.cap_vol(ccy, t)
        assert (kind, shift) == ("NORMAL", 0.0)
        for i, qm in enumerate(qms):
            ref = [qm.cap_vol(ccy).flat_vol(x) for x in t]
            np.testing.assert_allclose(ours[i], ref, rtol=0, atol=TOL)


def test_flat_rate_vols_and_shifted_lognormal_type() -> None:
    snap = flat_snapshot(swaption_vol={"USD": 0.2}, cap_vol={"USD": 0.25}, vol_shift=0.01)
    m = ScenarioMarket(snap)
    vol, kind, shift = m.swaption_vol("USD", [1.0, 5.0], [2.0, 10.0])
    assert (vol.tolist(), kind, shift) == ([[0.2, 0.2]], "LOGNORMAL", 0.01)
    vol, kind, shift = m.cap_vol("USD", [0.5, 30.0])
    assert (vol.tolist(), kind, shift) == ([[0.25, 0.25]], "LOGNORMAL", 0.01)
    with ql_session(ASOF):
        qm = QlMarket(snap)
        assert qm.swaption_vol("USD").handle.volatility(1.0, 2.0, 0.03) == 0.2
        assert (qm.swaption_vol("USD").kind, qm.swaption_vol("USD").shift) == ("LOGNORMAL", 0.01)


# -- errors: QlMarket's words ---------------------------------------------------------------------
def _grid(und: str, expiries: tuple[str, ...], strikes: tuple[int, ...]) -> dict[str, float]:
    return {f"VOL.EQ.{und}.{e}.{k}": 0.2 for e in expiries for k in strikes}


_SWPT = {f"VOL.SWPT.USD.{e}{t}": 0.01 for e in ("1Y", "2Y") for t in ("5Y", "10Y")}
_CASES: dict[str, tuple[dict[str, float], Any, Any]] = {
    "no eq vols": ({}, lambda m: m.equity_vol("SPX", [1.0], [1.0]), lambda q: q.equity_vol("SPX")),
    "flat and grid": (
        {"VOL.EQ.SPX.FLAT": 0.2, "VOL.EQ.SPX.1Y.100": 0.2},
        lambda m: m.equity_vol("SPX", [1.0], [1.0]),
        lambda q: q.equity_vol("SPX"),
    ),
    "grid not full": (
        {**_grid("SPX", ("1Y", "2Y"), (90, 100)), "VOL.EQ.SPX.3Y.90": 0.2},
        lambda m: m.equity_vol("SPX", [1.0], [1.0]),
        lambda q: q.equity_vol("SPX"),
    ),
    "one expiry": (
        _grid("SPX", ("1Y",), (90, 100)),
        lambda m: m.equity_vol("SPX", [1.0], [1.0]),
        lambda q: q.equity_vol("SPX"),
    ),
    "negative vol": (
        {**_grid("SPX", ("1Y", "2Y"), (90, 100)), "VOL.EQ.SPX.2Y.90": -0.1},
        lambda m: m.equity_vol("SPX", [1.0], [1.0]),
        lambda q: q.equity_vol("SPX"),
    ),
    "no fx vols": ({}, lambda m: m.fx_vol("EURGBP", [1.0]), lambda q: q.fx_vol("EURGBP")),
    "small matrix": (
        {"VOL.SWPT.USD.1Y5Y": 0.01, "VOL.SWPT.USD.2Y5Y": 0.01},
        lambda m: m.swaption_vol("USD", [1.0], [5.0]),
        lambda q: q.swaption_vol("USD"),
    ),
    "matrix not full": (
        {k: v for k, v in _SWPT.items() if not k.endswith("2Y10Y")},
        lambda m: m.swaption_vol("USD", [1.0], [5.0]),
        lambda q: q.swaption_vol("USD"),
    ),
    "no cap vols": ({}, lambda m: m.cap_vol("EUR", [1.0]), lambda q: q.cap_vol("EUR")),
}


@pytest.mark.parametrize("case", list(_CASES))
def test_vol_errors_have_quantlib_markets_wording(case: str) -> None:
    extra, ours, theirs = _CASES[case]
    snap = flat_snapshot(extra={"EQ.SPX.SPOT": 100.0, **extra})
    with ql_session(ASOF):
        qm = QlMarket(snap)
        with pytest.raises(MarketDataError) as expected:
            theirs(qm)
    with pytest.raises(MarketDataError) as got:
        ours(ScenarioMarket(snap))
    assert str(got.value) == str(expected.value)


def test_a_vol_shift_that_moves_is_refused() -> None:
    snap = flat_snapshot(swaption_vol={"USD": 0.2}, vol_shift=0.01)
    scen = ScenarioSet.from_shifts(["b", "x"], [("VOLSHIFT.*", "ABSOLUTE", [0.0, 0.01])])
    with pytest.raises(MarketDataError, match=r"VOLSHIFT\.SWPT\.USD moves across scenarios"):
        ScenarioMarket(snap, scen).swaption_vol("USD", [1.0], [1.0])


def test_vol_quote_at_zero_in_a_scenario_names_it() -> None:
    snap = flat_snapshot(fx={"EURUSD": (1.1, 0.1)})
    scen = ScenarioSet.from_shifts(["b", "zero"], [("VOL.FX.*", "MULTIPLY", [1.0, 0.0])])
    with pytest.raises(MarketDataError) as got:
        ScenarioMarket(snap, scen).fx_vol("EURUSD", [1.0])
    with ql_session(ASOF), pytest.raises(MarketDataError) as expected:
        QlMarket(scen.snapshot(1, snap)).fx_vol("EURUSD")
    assert str(got.value) == f"{expected.value} (scenario zero)"
