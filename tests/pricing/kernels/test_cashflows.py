"""The discounted-cashflow engine: hand-computed PVs on flat curves, grouping by curves,
scenario broadcasting, chunk boundaries (against a plain per-term loop), empty trades."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pricing.kernels import cashflows
from pricing.kernels.cashflows import Flows, FlowsBuilder, stack_flows
from tests.pricing.kernels.flat_market import FlatMarket


def _df(market: FlatMarket) -> cashflows.DfFn:
    return lambda key, d: market.df(key, market.times(d))


def test_known_and_projected_terms_by_hand() -> None:
    """PV = a exp(-r_d p/365) + w exp(-r_p (s - e)/365) exp(-r_d q/365), r_d = 3%, r_p = 4%."""
    m = FlatMarket({"USD-SOFR": 0.03, "USD-TSOFR-3M": 0.04})
    b = FlowsBuilder("USD-SOFR", "USD-TSOFR-3M")
    b.known(200, 1_000.0)
    b.projected(100, 191, 193, 5e6)
    pv = stack_flows([b.build()]).pv(_df(m), 1)
    want = 1_000.0 * math.exp(-0.03 * 200 / 365) + 5e6 * math.exp(
        -0.04 * (100 - 191) / 365
    ) * math.exp(-0.03 * 193 / 365)
    assert pv.shape == (1, 1)
    assert pv[0, 0] == pytest.approx(want, rel=1e-15)


def test_groups_keep_trade_order_and_read_each_curve_once_per_day() -> None:
    """Trades on two discount/projection pairs interleaved: each column is its own trade; each
    curve is asked once, for its distinct days only (PITFALLS 24)."""
    m = FlatMarket({"USD-SOFR": 0.03, "EUR-ESTR": 0.02, "EUR-EURIBOR-6M": 0.025})
    flows = []
    for i in range(6):
        b = FlowsBuilder("USD-SOFR" if i % 2 else "EUR-ESTR", "" if i % 2 else "EUR-EURIBOR-6M")
        b.known(365, float(i + 1))
        if i % 2 == 0:
            b.projected(0, 182, 365, 1.0)
        flows.append(b.build())
    pv = stack_flows(flows).pv(_df(m), 1)
    for i in range(6):
        if i % 2:
            assert pv[0, i] == pytest.approx((i + 1) * math.exp(-0.03), rel=1e-15)
        else:
            want = (i + 1 + math.exp(0.025 * 182 / 365)) * math.exp(-0.02)
            assert pv[0, i] == pytest.approx(want, rel=1e-15)
    assert sorted(m.calls) == [("EUR-ESTR", 1), ("EUR-EURIBOR-6M", 2), ("USD-SOFR", 1)]


def test_one_curve_for_discount_and_projection_is_read_once() -> None:
    """An OIS on the currency's own index: one merged day axis, one curve call."""
    m = FlatMarket({"USD-SOFR": 0.03})
    b = FlowsBuilder("USD-SOFR", "USD-SOFR")
    b.known(365, -1e6)
    b.projected(0, 365, 367, 1e6)
    pv = stack_flows([b.build()]).pv(_df(m), 1)
    assert pv[0, 0] == pytest.approx(-1e6 * math.exp(-0.03) + 1e6 * math.exp(0.03 * -2 / 365))
    assert m.calls == [("USD-SOFR", 3)]


def test_scenarios_broadcast() -> None:
    """Discount curve moving in 3 scenarios, projection curve static: PVs (3, k) by hand."""
    rd = np.array([0.03, 0.031, 0.029])
    m = FlatMarket({"USD-SOFR": rd, "USD-TSOFR-3M": 0.04}, n=3)
    b = FlowsBuilder("USD-SOFR", "USD-TSOFR-3M")
    b.known(30, 2.0)
    b.projected(30, 121, 121, 3.0)
    pv = stack_flows([b.build()]).pv(_df(m), 3)
    want = 2.0 * np.exp(-rd * 30 / 365) + 3.0 * math.exp(0.04 * 91 / 365) * np.exp(-rd * 121 / 365)
    assert pv.shape == (3, 1)
    assert np.allclose(pv[:, 0], want, rtol=1e-15, atol=0)


def test_chunks_equal_a_plain_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """800 trades with 0 to 40 terms each, chunks forced small: the same PVs as summing every
    term in a Python loop (relative 1e-13: summation order)."""
    monkeypatch.setattr(cashflows, "_CHUNK_ELEMENTS", 500)
    rng = np.random.default_rng(3)
    r_d = rng.uniform(0.0, 0.05, 4)
    m = FlatMarket({"USD-SOFR": r_d, "USD-TSOFR-3M": rng.uniform(0.0, 0.05, 4)}, n=4)
    flows: list[Flows] = []
    for _ in range(800):
        b = FlowsBuilder("USD-SOFR", "USD-TSOFR-3M")
        for _ in range(int(rng.integers(0, 20))):
            b.known(int(rng.integers(1, 10_000)), float(rng.normal()))
        for _ in range(int(rng.integers(0, 20))):
            s = int(rng.integers(0, 10_000))
            b.projected(s, s + int(rng.integers(1, 200)), s + int(rng.integers(1, 200)), 1.0)
        flows.append(b.build())
    pv = stack_flows(flows).pv(_df(m), 4)

    def df(curve: str, day: int) -> np.ndarray:
        return m.df(curve, m.times([day]))[:, 0]

    for j, f in enumerate(flows):
        want = np.zeros(4)
        for p, a in zip(f.pay, f.amount, strict=True):
            want += a * df("USD-SOFR", p)
        for s, e, p, w in zip(f.start, f.end, f.term_pay, f.weight, strict=True):
            want += w * df("USD-TSOFR-3M", s) / df("USD-TSOFR-3M", e) * df("USD-SOFR", p)
        assert np.allclose(pv[:, j], want, rtol=1e-13, atol=1e-13), j


def test_nothing_left_to_pay() -> None:
    """A trade with no terms (matured or expired) is worth 0 in every scenario."""
    m = FlatMarket({"USD-SOFR": [0.01, 0.02]}, n=2)
    pv = stack_flows([FlowsBuilder("USD-SOFR").build()]).pv(_df(m), 2)
    assert pv.shape == (2, 1)
    assert (pv == 0.0).all()
