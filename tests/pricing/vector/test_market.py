"""ScenarioMarket against QuantLib, scenario by scenario: curves, FX, equity data, shapes, errors.

The reference for scenario ``i`` is ``QlMarket(scenarios.snapshot(i, base))``, the market the
QuantLib pricers use. Tolerances come from QuantLib's bootstrap: it stops when each pillar's
discount factor is within 1e-12 (absolute) of the root, which the vectorised bootstrap solves to
rounding (``test_curves.py`` shows ~1e-14 against QuantLib run at accuracy 1e-15). So
bootstrapped discount factors agree to 1e-12 absolute everywhere, and to 1e-12 relative up to
the last pillar (beyond it the extrapolated slope carries QuantLib's pillar error further:
measured up to 3e-12 relative at 40Y). Direct curves, FX and vols are the same formulas:
rounding only.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pytest
import QuantLib as ql

from pricing.conventions import currency_convention, index_convention
from pricing.curves import QlMarket
from pricing.demo import demo_market
from pricing.errors import MarketDataError
from pricing.market import MarketSnapshot, tenor_date
from pricing.quantlib_ import ql_session
from pricing.scenarios import ScenarioSet
from pricing.vector import LogLinearCurve, ScenarioMarket
from tests.factories import ASOF, flat_snapshot
from tests.pricing.vector.reference import (
    QL_BOOTSTRAP_ACCURACY,
    demo_scenario_sets,
    discounts,
    ql_markets,
    row,
)

BOOTSTRAPPED = ("USD-SOFR", "EUR-ESTR", "EUR-EURIBOR-6M", "EUR-EURIBOR-3M", "USD-TSOFR-3M")
DIRECT = ("GBP", "CHF", "JPY")  # ZERO, DF, FLAT quotes
CURVES = BOOTSTRAPPED + DIRECT
SETS = ("all quotes", "bucket bumps", "ESTR only", "FX spots", "forward points", "direct curves")
PAIRS = ("EURUSD", "USDEUR", "EURJPY", "GBPCHF", "JPYUSD", "USDUSD")
# dates: as-of, days before the first pillars (SOFR's first is 13 days out), random up to 40Y,
# and beyond the last pillar (30Y + a few days)
_rng = np.random.default_rng(4)
DAYS = np.unique(np.r_[0, 1, 2, 3, 7, 12, _rng.integers(0, 40 * 365, 300), 10990, 14600])


def _ql_name(name: str) -> str:
    return currency_convention(name).discount_index if len(name) == 3 else name


@functools.cache
def _battery(set_name: str) -> tuple[ScenarioMarket, dict[str, Any]]:
    """The vectorised market of one scenario set and QuantLib's numbers for every scenario."""
    base = demo_market()
    scen = demo_scenario_sets(base)[set_name]
    t = DAYS / 365.0
    ref: dict[str, list[Any]] = {}
    for _, qm in ql_markets(scen, base):
        for c in CURVES:
            ref.setdefault(c, []).append(discounts(qm.curve(_ql_name(c)), t))
        ref.setdefault("fxbase", []).append(discounts(qm.fx_curves("EURUSD")[0], t))
        ref.setdefault("spots", []).append([qm.fx_spot(p) for p in PAIRS])
    return ScenarioMarket(base, scen), {k: np.array(v) for k, v in ref.items()}


@pytest.mark.parametrize("set_name", SETS)
@pytest.mark.parametrize("curve", CURVES)
def test_discount_factors_agree_with_quantlib(set_name: str, curve: str) -> None:
    m, ref = _battery(set_name)
    t = m.times(DAYS)
    ours = m.df(curve, t)
    assert ours.shape in ((m.n, len(t)), (1, len(t)))
    expected = ref[curve]
    got = np.broadcast_to(ours, expected.shape)
    if curve in DIRECT:  # the same interpolation formulas: rounding only
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)
        return
    np.testing.assert_allclose(got, expected, rtol=0, atol=QL_BOOTSTRAP_ACCURACY)
    c = m.curve(curve)
    assert isinstance(c, LogLinearCurve)
    inside = t <= c.times[-1]
    np.testing.assert_allclose(got[:, inside], expected[:, inside], rtol=1e-12, atol=0)


@pytest.mark.parametrize("set_name", SETS)
def test_fx_spots_and_implied_base_curve_agree_with_quantlib(set_name: str) -> None:
    m, ref = _battery(set_name)
    spots = np.stack([np.broadcast_to(m.fx_spot(p), (m.n,)) for p in PAIRS], axis=1)
    np.testing.assert_array_equal(spots, ref["spots"])  # same float operations
    got = np.broadcast_to(m.fx_base_df("EURUSD", m.times(DAYS)), ref["fxbase"].shape)
    # DF_EUR = DF_USD(T) * (S + pts) / S: inherits the SOFR curve's agreement
    np.testing.assert_allclose(got, ref["fxbase"], rtol=0, atol=2 * QL_BOOTSTRAP_ACCURACY)


@pytest.mark.parametrize("set_name", SETS)
def test_fx_forwards_reprice_quoted_outrights_in_every_scenario(set_name: str) -> None:
    # F(T) = S DF_EUR(T) / DF_USD(T) must equal S + points at every quoted tenor: the implied
    # curve is built for that, per scenario. 1e-14: a log/exp round trip and two divisions.
    m, _ = _battery(set_name)
    base = m.base
    spot = m.fx_spot("EURUSD")
    for tenor in ("1M", "3M", "6M", "1Y", "2Y", "5Y"):
        t = np.array([(tenor_date(base.asof, tenor) - base.asof).days / 365.0])
        fwd = spot[:, None] * m.fx_base_df("EURUSD", t) / m.df("USD", t)
        outright = spot + m.quote(f"FX.EURUSD.FWD.{tenor}")
        np.testing.assert_allclose(fwd[:, 0], np.broadcast_to(outright, fwd[:, 0].shape), 1e-14)


def _par_rates(m: ScenarioMarket, index: str) -> tuple[list[str], np.ndarray]:
    """Par rates of the curve's own instruments, from the vectorised curves: the lowered
    residual sum (a + r b) X prod DF^P is linear in the quote r."""
    conv = index_convention(index)
    lowered = m._lowered(conv)
    own = m.curve(index)
    disc = m.curve(lowered.discount_index) if lowered.discount_index else None
    rates = []
    for h in lowered.helpers:
        dfs = own.df(h.days / 365.0)  # (S, D)
        exo = np.ones((1, len(h.a)))
        if disc is not None:
            has = h.exo_days >= 0
            exo = np.ones((disc.n, len(h.a)))
            exo[:, has] = disc.df(h.exo_days[has] / 365.0)
        terms = exo * np.exp(np.log(dfs) @ h.powers.T)  # (S, M)
        rates.append(-(terms @ h.a) / (terms @ h.b))
    size = max(len(r) for r in rates)
    return list(lowered.quote_ids), np.stack([np.broadcast_to(r, (size,)) for r in rates])


@pytest.mark.parametrize("set_name", ["all quotes", "bucket bumps", "ESTR only"])
@pytest.mark.parametrize("index", BOOTSTRAPPED)
def test_bootstrapped_curves_reprice_every_quote_in_every_scenario(
    set_name: str, index: str
) -> None:
    # The issue demands 1e-10; the bootstrap solves each pillar to rounding, so the par rates
    # of its own instruments come back to ~1e-15 (worst: 1e-14 on the 1W OIS, whose
    # annuity of 0.02 divides the legs' rounding).
    m, _ = _battery(set_name)
    qids, rates = _par_rates(m, index)
    quotes = np.stack([np.broadcast_to(m.quote(q), (rates.shape[1],)) for q in qids])
    np.testing.assert_allclose(rates, quotes, rtol=0, atol=5e-14)


# -- shapes: nothing is per scenario unless it moves ----------------------------------------------
_MOVES = {
    "all quotes": set(CURVES) | {"fx"},
    "bucket bumps": {"EUR-ESTR", "EUR-EURIBOR-6M", "EUR-EURIBOR-3M"},
    "ESTR only": {"EUR-ESTR", "EUR-EURIBOR-6M", "EUR-EURIBOR-3M"},
    "FX spots": {"fx"},  # DF_EUR = DF_USD (S + pts) / S moves with the spot
    "forward points": {"fx"},
    "direct curves": {"GBP", "CHF", "JPY"},
}


@pytest.mark.parametrize("set_name", SETS)
def test_only_moving_inputs_are_per_scenario(set_name: str) -> None:
    m, _ = _battery(set_name)
    t = np.array([0.5, 7.0])
    for c in CURVES:
        moving = c in _MOVES[set_name]
        assert m.curve(c).moves is moving, c
        assert m.df(c, t).shape == ((m.n if moving else 1), 2), c
    fx_moves = "fx" in _MOVES[set_name]
    assert m.fx_base_curve("EURUSD").moves is fx_moves
    assert m.fx_base_df("EURUSD", t).shape == ((m.n if fx_moves else 1), 2)
    assert m.equity_spot("SPX").shape == ((m.n,) if set_name == "all quotes" else (1,))


def test_base_only_market_is_one_scenario(demo_snapshot: MarketSnapshot) -> None:
    m = ScenarioMarket(demo_snapshot)
    assert m.n == 1
    assert m.df("EUR-EURIBOR-6M", np.arange(3.0)).shape == (1, 3)
    assert not m.curve("USD").moves
    assert m.times(np.array([365, 730])).tolist() == [1.0, 2.0]


def test_a_shift_by_zero_everywhere_does_not_move_anything(demo_snapshot: MarketSnapshot) -> None:
    scen = ScenarioSet.from_shifts(["a", "b"], [("IR.USD.*", "ABSOLUTE", [0.0, 0.0])])
    m = ScenarioMarket(demo_snapshot, scen)
    assert m.df("USD", [1.0]).shape == (1, 1)
    assert not m.moves("IR.USD.SOFR.OIS.1Y")


# -- flat markets: closed forms -------------------------------------------------------------------
def test_flat_market_is_exp_minus_rt_in_every_scenario() -> None:
    snap = flat_snapshot(
        rates={"USD": 0.04, "EUR": 0.02},
        ibor={"EUR-EURIBOR-6M": 0.025},
        fx={"EURUSD": (1.1, 0.08)},
        equities={"SPX": (5000.0, 0.01, 0.2)},
    )
    scen = ScenarioSet.from_shifts(
        ["base", "up", "down"],
        [("IR.*", "ABSOLUTE", [0.0, 0.01, -0.03]), ("FX.EURUSD", "RELATIVE", [0.0, 0.1, -0.1])],
    )
    m = ScenarioMarket(snap, scen)
    t = np.linspace(0.0, 40.0, 81)
    shift = np.array([0.0, 0.01, -0.03])[:, None]
    # FlatForward: 1 / exp(r t) -- the closed form, to rounding
    for name, r in (("USD", 0.04), ("EUR", 0.02), ("EUR-EURIBOR-6M", 0.025)):
        np.testing.assert_allclose(m.df(name, t), np.exp(-(r + shift) * t), rtol=1e-14)
    with ql_session(snap.asof):
        for i, qm in ql_markets(scen, snap):
            for name in ("USD", "EUR-EURIBOR-6M"):
                ref = discounts(qm.curve(_ql_name(name)), t)
                np.testing.assert_allclose(m.df(name, t)[i], ref, rtol=1e-15)
            assert m.fx_spot("EURUSD")[i] == qm.fx_spot("EURUSD")
            assert m.fx_spot("USDEUR")[i] == qm.fx_spot("USDEUR")
            np.testing.assert_allclose(
                m.fx_base_df("EURUSD", t)[i], discounts(qm.fx_curves("EURUSD")[0], t), 1e-15
            )


def test_equity_data_and_credit_spreads(demo_snapshot: MarketSnapshot) -> None:
    scen = demo_scenario_sets(demo_snapshot)["all quotes"]
    m = ScenarioMarket(demo_snapshot, scen)
    for i, qm in ql_markets(scen, demo_snapshot):
        assert row(m.equity_spot("SAP"), i) == qm.equity_spot("SAP")
        q = qm.dividend_curve("SAP").zeroRate(1.0, ql.Continuous).rate()
        assert row(m.dividend_yield("SAP"), i) == pytest.approx(q, rel=1e-15)
        assert row(m.zspread("ACME_CORP"), i) == qm.credit_spread("ACME_CORP")
    assert m.zspread("").tolist() == [0.0]
    assert ScenarioMarket(flat_snapshot(equities={"X": (1.0, 0.0, 0.2)})).dividend_yield(
        "Y"
    ).tolist() == [0.0]


def test_fx_rate_is_the_spot_of_the_pair(demo_snapshot: MarketSnapshot) -> None:
    m = ScenarioMarket(demo_snapshot)
    assert m.fx_rate("EUR", "USD").tolist() == [1.16]
    assert m.fx_rate("USD", "USD").tolist() == [1.0]
    assert m.fx_rate("JPY", "EUR").tolist() == [1.0 / 156.2 / 1.16]  # cross via USD


# -- errors: QlMarket's words ---------------------------------------------------------------------
def _err(f: Any) -> str:
    with pytest.raises(MarketDataError) as info:
        f()
    return str(info.value)


_ERROR_CASES: dict[str, tuple[dict[str, float | None], Any, Any]] = {
    "unknown index": ({}, lambda m: m.df("XXX-LIBOR-3M", [1.0]), lambda q: q.curve("XXX-LIBOR-3M")),
    "unknown currency": ({}, lambda m: m.df("XYZ", [1.0]), lambda q: q.discount("XYZ")),
    "no quotes": ({}, lambda m: m.df("GBP", [1.0]), lambda q: q.discount("GBP")),
    "mixed types": (
        {"IR.USD.SOFR.OIS.1Y": 0.03, "IR.USD.SOFR.ZERO.2Y": 0.03},
        lambda m: m.df("USD", [1.0]),
        lambda q: q.discount("USD"),
    ),
    "FRA on an OIS curve": (
        {"IR.USD.SOFR.OIS.1Y": 0.03, "IR.USD.SOFR.FRA.1X4": 0.03},
        lambda m: m.df("USD-SOFR", [1.0]),
        lambda q: q.curve("USD-SOFR"),
    ),
    "IBOR without OIS": (
        {"IR.USD.TSOFR3M.SWAP.2Y": 0.03, "IR.USD.SOFR.FLAT": None},
        lambda m: m.df("USD-TSOFR-3M", [1.0]),
        lambda q: q.curve("USD-TSOFR-3M"),
    ),
    "negative DF": (
        {"IR.CHF.SARON.DF.1Y": -0.5},
        lambda m: m.df("CHF", [1.0]),
        lambda q: q.discount("CHF"),
    ),
    "no FX spot": ({}, lambda m: m.fx_spot("EURCHF"), lambda q: q.fx_spot("EURCHF")),
    "bad forward": (
        {"FX.EURUSD.FWD.1Y": -2.0},
        lambda m: m.fx_base_df("EURUSD", [1.0]),
        lambda q: q.fx_curves("EURUSD"),
    ),
    "no spot": ({}, lambda m: m.equity_spot("XXX"), lambda q: q.equity_spot("XXX")),
    "bad spot": (
        {"EQ.XXX.SPOT": -1.0},
        lambda m: m.equity_spot("XXX"),
        lambda q: q.equity_spot("XXX"),
    ),
    "no credit": ({}, lambda m: m.zspread("FOO"), lambda q: q.credit_spread("FOO")),
}


@pytest.mark.parametrize("case", list(_ERROR_CASES))
def test_errors_have_quantlib_markets_wording(case: str) -> None:
    extra, ours, theirs = _ERROR_CASES[case]
    base = flat_snapshot(rates={"USD": 0.04, "EUR": 0.02}, fx={"EURUSD": (1.1, 0.1)})
    quotes = {k: v for k, v in {**base.quotes, **extra}.items() if v is not None}  # None: drop
    snap = MarketSnapshot(base.asof, quotes)
    m = ScenarioMarket(snap)
    with ql_session(snap.asof):
        expected = _err(lambda: theirs(QlMarket(snap)))
    assert _err(lambda: ours(m)) == expected
    assert _err(lambda: ours(m)) == expected  # remembered, like QlMarket


def test_a_failure_in_one_scenario_names_it() -> None:
    snap = flat_snapshot(equities={"SPX": (100.0, 0.0, 0.2)})
    scen = ScenarioSet.from_shifts(
        ["base", "calm", "crash"], [("EQ.SPX.SPOT", "ABSOLUTE", [0.0, 5.0, -150.0])]
    )
    msg = _err(lambda: ScenarioMarket(snap, scen).equity_spot("SPX"))
    with ql_session(snap.asof):
        expected = _err(lambda: QlMarket(scen.snapshot(2, snap)).equity_spot("SPX"))
    assert msg == f"{expected} (scenario crash)"


def test_index_and_currency_names_both_reach_the_ois_curve(demo_snapshot: MarketSnapshot) -> None:
    m = ScenarioMarket(demo_snapshot)
    assert m.curve("EUR") is m.curve("EUR-ESTR")
    t = np.array([0.3, 3.0])
    assert np.array_equal(m.df("USD", t), m.df("USD-SOFR", t))
    assert math.isclose(float(m.df("USD", np.array(0.0))[0]), 1.0)


def test_asof_days_are_act365(demo_snapshot: MarketSnapshot) -> None:
    d = tenor_date(ASOF, "10Y")
    assert ScenarioMarket.times(np.array([(d - ASOF).days]))[0] == (d - ASOF).days / 365.0
