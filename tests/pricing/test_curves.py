"""Curves reprice their input instruments, direct inputs are honoured, bad curve data is named.

Repricing is checked twice: through QuantLib's rate helpers (implied quote of every bootstrap
instrument) and through independently built trades (our own IRS/OIS pricer at the quoted par
rate must have PV 0 and fair rate = quote). Tolerance 1e-10 in rate, as the issue demands;
QuantLib's bootstrap accuracy is 1e-12.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
import QuantLib as ql

from pricing import quantlib_ as qa
from pricing.conventions import index_convention
from pricing.curves import QlMarket, build_market, clear_market_cache
from pricing.errors import MarketDataError
from pricing.market import MarketSnapshot, Shock, tenor_date
from pricing.products.swaps import build_swap
from pricing.quantlib_ import ql_session
from pricing.trades import InterestRateSwap, OvernightIndexSwap
from tests.factories import ASOF

BOOTSTRAPPED = ("USD-SOFR", "EUR-ESTR", "EUR-EURIBOR-6M", "EUR-EURIBOR-3M", "USD-TSOFR-3M")


@pytest.fixture
def market(demo_snapshot: MarketSnapshot) -> QlMarket:
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        yield build_market(demo_snapshot)


@pytest.mark.parametrize("index", BOOTSTRAPPED)
def test_bootstrap_helpers_reprice_quotes(
    market: QlMarket, demo_snapshot: MarketSnapshot, index: str
) -> None:
    helpers = market.helpers(index)
    conv = index_convention(index)
    quoted = demo_snapshot.select(f"IR.{conv.currency}.{conv.curve}.*")
    assert {qid for qid, _ in helpers} == set(quoted)  # every quote is an instrument
    for qid, h in helpers:
        assert abs(h.impliedQuote() - quoted[qid]) < 1e-10, qid


def _spot_start(index: str) -> dt.date:
    conv = index_convention(index)
    cal = qa.calendar(conv.calendar)
    return qa.py_date(cal.advance(qa.ql_date(ASOF), conv.swap.settlement_days, ql.Days))


@pytest.mark.parametrize("index", BOOTSTRAPPED)
def test_own_swaps_at_quoted_par_rates_have_zero_pv(
    market: QlMarket, demo_snapshot: MarketSnapshot, index: str
) -> None:
    conv = index_convention(index)
    kind = "OIS" if conv.is_overnight else "SWAP"
    quotes = demo_snapshot.select(f"IR.{conv.currency}.{conv.curve}.{kind}.*")
    assert quotes
    start = _spot_start(index)
    cls = OvernightIndexSwap if conv.is_overnight else InterestRateSwap
    for qid, rate in quotes.items():
        tenor = qid.rsplit(".", 1)[1]
        # The helper's swap ends at spot + tenor, unadjusted end date then adjusted by the schedule.
        trade = cls(
            trade_id=qid,
            book="B",
            counterparty="C",
            currency=conv.currency,
            index=index,
            notional=1e8,
            start_date=start,
            maturity_date=tenor_date(start, tenor),
            fixed_rate=rate,
            fixed_leg="PAY",
        )
        swap = build_swap(trade, market)
        assert abs(swap.fairRate() - rate) < 1e-10, qid
        assert abs(swap.NPV()) < 1e-10 * trade.notional * 100, qid  # 1e-10 in rate x ~annuity


@pytest.mark.parametrize("index", ("EUR-EURIBOR-6M", "EUR-EURIBOR-3M", "USD-TSOFR-3M"))
def test_deposit_and_fra_quotes_are_index_forwards(
    market: QlMarket, demo_snapshot: MarketSnapshot, index: str
) -> None:
    conv = index_convention(index)
    curve = market.curve(index)
    cal = qa.calendar(conv.calendar)
    dc = qa.day_counter(conv.day_count)
    spot = cal.advance(qa.ql_date(ASOF), conv.fixing_days, ql.Days)
    bd = qa.bdc(conv.convention)
    for qid, rate in demo_snapshot.select(f"IR.{conv.currency}.{conv.curve}.FRA.*").items():
        a, b = (int(x) for x in qid.rsplit(".", 1)[1].split("X"))
        start = cal.advance(spot, a, ql.Months, bd, conv.end_of_month)
        end = cal.advance(spot, b, ql.Months, bd, conv.end_of_month)
        tau = dc.yearFraction(start, end)
        fwd = (curve.discount(start) / curve.discount(end) - 1.0) / tau
        assert abs(fwd - rate) < 1e-10, qid
    for qid, rate in demo_snapshot.select(f"IR.{conv.currency}.{conv.curve}.DEP.*").items():
        end = cal.advance(spot, qa.period(qid.rsplit(".", 1)[1]), bd, conv.end_of_month)
        tau = dc.yearFraction(spot, end)
        fwd = (curve.discount(spot) / curve.discount(end) - 1.0) / tau
        assert abs(fwd - rate) < 1e-10, qid


def test_direct_inputs_are_honoured(market: QlMarket, demo_snapshot: MarketSnapshot) -> None:
    dc = ql.Actual365Fixed()
    for qid, z in demo_snapshot.select("IR.GBP.SONIA.ZERO.*").items():
        d = qa.ql_date(tenor_date(ASOF, qid.rsplit(".", 1)[1]))
        assert abs(market.curve("GBP-SONIA").zeroRate(d, dc, ql.Continuous).rate() - z) < 1e-12
    for qid, df in demo_snapshot.select("IR.CHF.SARON.DF.*").items():
        d = qa.ql_date(tenor_date(ASOF, qid.rsplit(".", 1)[1]))
        assert abs(market.curve("CHF-SARON").discount(d) - df) < 1e-14
    flat = demo_snapshot["IR.JPY.TONA.FLAT"]
    for years in (0.5, 3.0, 40.0):  # extrapolates
        assert market.discount("JPY").discount(years) == pytest.approx(
            math.exp(-flat * years), abs=1e-14
        )


def test_shocked_snapshot_rebuilds_and_reprices(demo_snapshot: MarketSnapshot) -> None:
    shocked = demo_snapshot.apply([Shock("IR.USD.*", "ABSOLUTE", 0.0025)])
    assert shocked.content_hash != demo_snapshot.content_hash
    with ql_session(shocked.asof, shocked.fixings):
        m = build_market(shocked)
        for qid, h in m.helpers("USD-TSOFR-3M"):
            assert abs(h.impliedQuote() - shocked[qid]) < 1e-10
        base = build_market(demo_snapshot).discount("USD").discount(10.0)
        assert m.discount("USD").discount(10.0) < base


def _snap(quotes: dict[str, float]) -> MarketSnapshot:
    return MarketSnapshot(ASOF, quotes)


def test_missing_curve_is_named() -> None:
    clear_market_cache()
    with ql_session(ASOF):
        m = build_market(_snap({"FX.EURUSD": 1.1}))
        with pytest.raises(
            MarketDataError, match=r"no quotes for curve USD-SOFR \(IR\.USD\.SOFR\.\*\)"
        ):
            m.discount("USD")
        # the failure is remembered, not rebuilt
        with pytest.raises(MarketDataError, match="USD-SOFR"):
            m.curve("USD-SOFR")


def test_mixed_quote_types_are_refused() -> None:
    with ql_session(ASOF):
        m = build_market(_snap({"IR.USD.SOFR.OIS.1Y": 0.04, "IR.USD.SOFR.ZERO.2Y": 0.04}))
        with pytest.raises(MarketDataError, match="cannot be mixed"):
            m.discount("USD")


def test_duplicate_pillars_are_refused() -> None:
    with ql_session(ASOF):
        m = build_market(_snap({"IR.USD.SOFR.OIS.12M": 0.04, "IR.USD.SOFR.OIS.1Y": 0.041}))
        with pytest.raises(MarketDataError, match="share a pillar date"):
            m.discount("USD")


def test_ibor_curve_needs_the_ois_curve() -> None:
    with ql_session(ASOF):
        m = build_market(_snap({"IR.EUR.EURIBOR6M.SWAP.5Y": 0.025}))
        with pytest.raises(MarketDataError, match="EUR-ESTR"):
            m.curve("EUR-EURIBOR-6M")


def test_evaluation_date_is_set_per_call(demo_snapshot: MarketSnapshot) -> None:
    """Whatever a previous task left in QuantLib's globals, a session sets the snapshot's date."""
    ql.Settings.instance().evaluationDate = ql.Date(1, 1, 2020)
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        assert ql.Settings.instance().evaluationDate == qa.ql_date(demo_snapshot.asof)
        assert not ql.IborCoupon.usingAtParCoupons()
        sofr = qa.make_index("USD-SOFR")
        last = max(d for d in demo_snapshot.fixings["USD-SOFR"])
        assert sofr.fixing(qa.ql_date(last)) == demo_snapshot.fixings["USD-SOFR"][last]


def test_market_cache_is_bounded(demo_snapshot: MarketSnapshot) -> None:
    clear_market_cache()
    from pricing import curves

    with ql_session(ASOF):
        for i in range(10):
            build_market(_snap({"IR.USD.SOFR.FLAT": 0.01 + i / 1000}))
        assert len(curves._cache) <= 4
