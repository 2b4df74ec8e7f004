"""The Greek plan and the central-difference reduction (risk/greeks.py), without pricing.

Second sources: the scenario count and the quotes each scenario moves derived here from
``risk_factors`` and the quote grammar; bump sizes recomputed from their definitions (absolute
+1 bp, relative +1 %, a DF quote's zero rate, forward points through the implied discount
factor); central differences written out by hand on small PV matrices.
"""

from __future__ import annotations

import datetime as dt
import math
import pickle

import numpy as np
import pytest

import risk.greeks as greeks_mod
from pricing.market import MarketSnapshot, tenor_date
from pricing.quotes import parse_quote_id
from risk.factors import risk_factors
from risk.greeks import BumpSizes, GreekPlan, compute_greeks, greek_plan, reduce, roll_date
from tests.factories import flat_snapshot

# -- the plan ------------------------------------------------------------------------------------


def _expected_scenarios(snapshot: MarketSnapshot, buckets: bool) -> int:
    """1 base + an up/down pair per factor and per bucket that is not the whole factor."""
    n = 1
    for f in risk_factors(snapshot):
        n += 2
        if buckets:
            n += 2 * sum(qs != f.quotes for _, qs in f.buckets)
    return n


@pytest.fixture(scope="module")
def demo_plan(demo_snapshot: MarketSnapshot) -> GreekPlan:
    return greek_plan(demo_snapshot)


def test_demo_plan_size(demo_snapshot: MarketSnapshot, demo_plan: GreekPlan) -> None:
    """Base + 2 x (40 factors + 247 buckets; JPY-TONA's single FLAT bucket reuses the parallel
    pair): 575 scenarios; parallel only: 81."""
    assert demo_plan.n_scenarios == _expected_scenarios(demo_snapshot, True) == 575
    flat = greek_plan(demo_snapshot, buckets=False)
    assert flat.n_scenarios == _expected_scenarios(demo_snapshot, False) == 81
    assert all(r.bucket == "" for r in flat.rows)
    assert demo_plan.scenarios.names[0] == "base"
    assert demo_plan.asof == demo_snapshot.asof
    assert demo_plan.roll_date == dt.date(2025, 12, 1)  # Friday 28 Nov 2025 -> Monday


def test_every_row_moves_exactly_its_quotes_by_the_bump(
    demo_snapshot: MarketSnapshot, demo_plan: GreekPlan
) -> None:
    """For every row, the up and down scenarios move exactly the quotes of its factor (parallel)
    or bucket, by the bump of its class, and nothing else."""
    values = demo_plan.scenarios.quote_values(demo_snapshot)
    base = demo_snapshot.quotes
    factors = {f.key: f for f in risk_factors(demo_snapshot)}
    asof = demo_snapshot.asof
    checked = 0
    for row in demo_plan.rows:
        f = factors[(row.factor_class, row.factor)]
        quotes = f.quotes if row.bucket == "" else dict(f.buckets)[row.bucket]
        for col, sign in ((row.up, 1.0), (row.down, -1.0)):
            moved = {q for q, v in values.items() if v[col] != base[q]}
            assert moved == set(quotes), (row, col)
            for q in quotes:
                k, b, v = parse_quote_id(q), base[q], values[q][col]
                if k.cls == "FX" and k.kind == "FWD":
                    # implied base-ccy DF_quote (S + p) / S moves by exp(-+1bp T), exactly
                    s = base[f"FX.{k.name}"]
                    t = (tenor_date(asof, k.tenor) - asof).days / 365
                    assert (s + v) / (s + b) == pytest.approx(math.exp(-sign * 1e-4 * t), rel=4e-16)
                elif k.cls == "IR" and k.kind == "DF":  # the zero rate moves by 1 bp
                    t = (tenor_date(asof, k.tenor) - asof).days / 365
                    assert v == b * math.exp(-sign * 1e-4 * t)
                elif k.cls in ("FX", "EQ") and k.kind == "SPOT":
                    assert v == b * (1 + sign * 0.01)
                elif k.cls == "VOL":  # the demo's vols: equity and FX Black, rates normal
                    step = 0.01 if k.sub in ("EQ", "FX") else 1e-4
                    assert v == b + sign * step
                else:  # par rates, zero rates, dividend yields, z-spreads: 1 bp
                    assert v == b + sign * 1e-4
                checked += 1
    assert checked > 2 * len(demo_snapshot.quotes)


def test_rows_and_scales(demo_plan: GreekPlan, demo_snapshot: MarketSnapshot) -> None:
    """Measures per class, and the scale turning differences into per-unit Greeks: with bumps
    of one unit, delta = (PV+ - PV-) / 2 and gamma = PV+ - 2 PV0 + PV-; delta_units divides
    by 2 h times the price of one unit (1 for an FX base currency, the spot for a share)."""
    measures: dict[str, set[tuple[str, bool]]] = {}
    for r in demo_plan.rows:
        measures.setdefault(r.factor_class, set()).add((r.measure, r.bucket == ""))
        if r.measure in ("delta", "vega"):
            assert r.scale == 0.5
        elif r.measure == "gamma":
            assert r.scale == 1.0
        elif r.factor_class == "FX":
            assert (r.scale, r.currency) == (50.0, r.factor[:3])  # base currency units
        else:
            spot = demo_snapshot[f"EQ.{r.factor}.SPOT"]
            assert r.scale == 1 / (2 * 0.01 * spot)
    assert measures == {
        "IR": {("delta", True), ("gamma", True), ("delta", False)},
        "FX": {("delta", True), ("delta_units", True), ("gamma", True)},
        "EQ": {("delta", True), ("delta_units", True), ("gamma", True)},
        "DIV": {("delta", True)},
        "VOL": {("vega", True), ("vega", False)},
        "CREDIT": {("delta", True)},
    }
    # JPY-TONA is one FLAT quote: its bucket row reads the parallel scenarios
    tona = [r for r in demo_plan.rows if r.factor == "JPY-TONA" and r.measure == "delta"]
    assert [r.bucket for r in tona] == ["", "FLAT"]
    assert (tona[0].up, tona[0].down) == (tona[1].up, tona[1].down)


def test_bump_sizes_change_the_step_not_the_unit(demo_snapshot: MarketSnapshot) -> None:
    """Greeks stay per 1 bp / 1 % / 1 vol point whatever the bump: a 2 bp IR bump halves the
    delta scale and quarters the gamma scale; a 0.5 % spot bump doubles the delta scale."""
    sizes = BumpSizes(ir_bp=2.0, fx_rel=0.005, vol_normal=0.0002, vol_black=0.02)
    plan = greek_plan(demo_snapshot, sizes, factors={("IR", "USD-SOFR"), ("FX", "EURUSD")})
    scale = {(r.factor, r.bucket, r.measure): r.scale for r in plan.rows}
    assert scale[("USD-SOFR", "", "delta")] == 0.25
    assert scale[("USD-SOFR", "5Y", "delta")] == 0.25
    assert scale[("USD-SOFR", "", "gamma")] == 0.25
    assert scale[("EURUSD", "", "delta")] == 1.0
    assert scale[("EURUSD", "", "gamma")] == 4.0
    assert scale[("EURUSD", "", "delta_units")] == 100.0
    values = plan.scenarios.quote_values(demo_snapshot)
    up = next(r.up for r in plan.rows if r.factor == "USD-SOFR" and r.bucket == "5Y")
    assert values["IR.USD.SOFR.OIS.5Y"][up] == demo_snapshot["IR.USD.SOFR.OIS.5Y"] + 2e-4
    with pytest.raises(ValueError, match="positive"):
        BumpSizes(ir_bp=0.0)
    with pytest.raises(ValueError, match="below 100"):
        BumpSizes(eq_rel=1.0)


def test_factors_filter(demo_snapshot: MarketSnapshot) -> None:
    plan = greek_plan(demo_snapshot, factors={("CREDIT", "UST")})
    assert plan.scenarios.names == ("base", "CREDIT UST parallel +", "CREDIT UST parallel -")
    assert [s.pattern for s in plan.scenarios.shifts] == ["CREDIT.UST.ZSPREAD"]
    with pytest.raises(ValueError, match="no such risk factors"):
        greek_plan(demo_snapshot, factors={("IR", "USD-LIBOR")})


def test_plan_is_plain_data_and_hashed(demo_snapshot: MarketSnapshot, demo_plan: GreekPlan) -> None:
    again = greek_plan(demo_snapshot)
    assert again.content_hash() == demo_plan.content_hash()
    restored = pickle.loads(pickle.dumps(demo_plan))  # noqa: S301 (our own bytes)
    assert restored.content_hash() == demo_plan.content_hash()
    assert restored.rows == demo_plan.rows
    assert greek_plan(demo_snapshot, BumpSizes(ir_bp=2.0)).content_hash() != again.content_hash()
    assert greek_plan(demo_snapshot, buckets=False).content_hash() != again.content_hash()


def test_roll_date_is_the_next_business_day() -> None:
    """The reporting currency's calendar: weekends and holidays skipped (Christmas and, for
    TARGET, Boxing Day)."""
    assert roll_date(dt.date(2025, 11, 28), "USD") == dt.date(2025, 12, 1)  # Fri -> Mon
    assert roll_date(dt.date(2025, 12, 2), "USD") == dt.date(2025, 12, 3)
    assert roll_date(dt.date(2025, 12, 24), "USD") == dt.date(2025, 12, 26)
    assert roll_date(dt.date(2025, 12, 24), "EUR") == dt.date(2025, 12, 29)


def test_compute_greeks_refuses_a_plan_of_another_snapshot(demo_snapshot: MarketSnapshot) -> None:
    plan = greek_plan(flat_snapshot(rates={"USD": 0.04}))
    with pytest.raises(ValueError, match="another snapshot"):
        compute_greeks([], demo_snapshot, plan=plan)


# -- the reduction on hand-made PVs -------------------------------------------------------------


@pytest.fixture(scope="module")
def small_plan(demo_snapshot: MarketSnapshot) -> GreekPlan:
    """Scenarios: 0 base, 1/2 EQ SPX +/-, 3/4 CREDIT UST +/- (classes in FACTOR_CLASSES order;
    rows: equity delta, delta_units, gamma; credit delta)."""
    plan = greek_plan(demo_snapshot, factors={("CREDIT", "UST"), ("EQ", "SPX")})
    assert [(r.factor, r.measure, r.up, r.down) for r in plan.rows] == [
        ("SPX", "delta", 1, 2),
        ("SPX", "delta_units", 1, 2),
        ("SPX", "gamma", 1, 2),
        ("UST", "delta", 3, 4),
    ]
    return plan


def test_reduce_by_hand(small_plan: GreekPlan, demo_snapshot: MarketSnapshot) -> None:
    spot = demo_snapshot["EQ.SPX.SPOT"]
    pv = np.array(
        [
            [100.0, 130.0, 74.0, 100.0, 100.0],  # equity only
            [50.0, 50.0, 50.0, 47.0, 53.0],  # credit only
            [7.0, 7.0, 7.0, 7.0, 7.0],  # neither: no entries
            [np.nan] * 5,  # failed: no entries
        ]
    )
    lf = reduce(small_plan, pv, unit_value={"USD": 1.0})
    got = list(zip(lf.trade_index.tolist(), lf.measure.tolist(), lf.value.tolist(), strict=True))
    assert got == [
        (0, "delta", (130.0 - 74.0) / 2),
        (0, "delta_units", (130.0 - 74.0) / (2 * 0.01 * spot)),
        (0, "gamma", 130.0 - 2 * 100.0 + 74.0),
        (1, "delta", (47.0 - 53.0) / 2),
    ]
    assert lf.trade_index.dtype == np.int32
    assert lf.value.dtype == np.float64
    assert lf.factor_class.tolist() == ["EQ", "EQ", "EQ", "CREDIT"]
    assert lf.factor.tolist() == ["SPX", "SPX", "SPX", "UST"]
    assert lf.bucket.tolist() == ["", "", "", ""]
    assert all(type(x) is str for col in (lf.factor, lf.measure) for x in col)
    assert lf.value_local is None
    # without unit values there is no delta_units (never a PV difference passed off as units)
    assert "delta_units" not in reduce(small_plan, pv).measure.tolist()


def test_reduce_theta_local_and_units(small_plan: GreekPlan, demo_snapshot: MarketSnapshot) -> None:
    """value and value_local share one sparsity pattern: an entry stays if either is non-zero;
    delta_units divides by the unit's value in each currency (per trade for local)."""
    spot = demo_snapshot["EQ.SPX.SPOT"]
    pv = np.array([[10.0, 12.0, 8.0, 10.0, 10.0], [5.0, 5.0, 5.0, 5.0, 5.0]])
    local = pv / np.array([[2.0], [4.0]])  # trade currencies worth 2 and 4 reporting units
    lf = reduce(
        small_plan,
        pv,
        theta=np.array([-0.5, 0.0]),
        pv_local=local,
        theta_local=np.array([-0.25, 0.0]),
        unit_value={"USD": 2.0},
        unit_value_local={"USD": np.array([1.0, 0.5])},
    )
    rows = list(zip(lf.trade_index.tolist(), lf.measure.tolist(), strict=True))
    assert rows == [(0, "delta"), (0, "delta_units"), (0, "theta")]  # gamma 12 - 20 + 8 = 0
    assert lf.factor_class.tolist()[-1] == "THETA"
    assert (lf.factor[-1], lf.bucket[-1]) == ("", "")
    np.testing.assert_array_equal(lf.value, [2.0, 4.0 / (2 * 0.01 * spot) / 2.0, -0.5])
    np.testing.assert_array_equal(lf.value_local, [1.0, 2.0 / (2 * 0.01 * spot) / 1.0, -0.25])


def test_reduce_drops_rounding_but_keeps_small_risk(small_plan: GreekPlan) -> None:
    """A PV converted at a bumped FX rate, PV_loc * S * (1 +- 1%), has a second difference of a
    few ulps, not exactly 0 (rounding of the products): it is not a gamma and is not stored.
    A genuine 1e-9 move on a PV of 1 (7 orders above rounding) is kept."""
    s, loc = 1.16, 1e6  # EURUSD, a EUR PV
    pv = np.array(
        [
            [loc * s, loc * (s * 1.01), loc * (s * 0.99), loc * s, loc * s],
            [1.0, 1.0 + 1e-9, 1.0 - 1e-9, 1.0, 1.0],
        ]
    )
    assert pv[0, 1] - 2 * pv[0, 0] + pv[0, 2] != 0.0  # the rounding this test is about
    lf = reduce(small_plan, pv)
    got = list(zip(lf.trade_index.tolist(), lf.measure.tolist(), strict=True))
    assert (0, "gamma") not in got
    assert (0, "delta") in got
    assert (1, "delta") in got
    assert lf.value[got.index((1, "delta"))] == pytest.approx(1e-9, rel=1e-6)


def test_reduce_is_blockwise_invariant(
    small_plan: GreekPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trades are reduced in blocks; the block size changes nothing."""
    rng = np.random.default_rng(5)
    pv = rng.normal(size=(23, small_plan.n_scenarios))
    pv[rng.random(23) < 0.3] = np.nan
    theta = rng.normal(size=23)
    whole = reduce(small_plan, pv, theta=theta, pv_local=pv * 2, theta_local=theta * 2)
    monkeypatch.setattr(greeks_mod, "_BLOCK", 4)
    blocks = reduce(small_plan, pv, theta=theta, pv_local=pv * 2, theta_local=theta * 2)
    assert len(whole) > 20
    for name in ("trade_index", "factor_class", "factor", "bucket", "measure", "value"):
        np.testing.assert_array_equal(getattr(blocks, name), getattr(whole, name))
    np.testing.assert_array_equal(blocks.value_local, whole.value_local)


def test_reduce_checks_shapes(small_plan: GreekPlan) -> None:
    pv = np.zeros((2, small_plan.n_scenarios))
    with pytest.raises(ValueError, match="expected"):
        reduce(small_plan, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="theta"):
        reduce(small_plan, pv, theta=np.zeros(3))
    with pytest.raises(ValueError, match="needs pv_local"):
        reduce(small_plan, pv, theta=np.zeros(2), theta_local=np.zeros(2))
    empty = reduce(small_plan, np.zeros((0, small_plan.n_scenarios)))
    assert len(empty) == 0
    assert empty.measure.dtype == object
