"""The seeded demo portfolio: deterministic, complete, valid, and economically near the market.

The economics are checked against a second source: the demo market itself, through the QuantLib
market objects the pricers use (par swap rates, FX forwards and vols, equity spots), not through
the generator's own quote interpolation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import statistics
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest

from pricing.curves import QlMarket, build_market
from pricing.demo import DEMO_ASOF, demo_bad_trades, demo_portfolio
from pricing.demo.portfolio import BOOKS, COUNTERPARTIES, PRODUCT_MIX, TRADE_ID_PREFIX
from pricing.market import MarketSnapshot, tenor_date
from pricing.products import pricer_for
from pricing.products.swaps import build_swap
from pricing.quantlib_ import ql_session
from pricing.quotes import parse_quote_id
from pricing.trades import (
    PRODUCTS,
    UNASSIGNED_DESK,
    EquityBarrierOption,
    EquityOption,
    FxForward,
    FxOption,
    InterestRateSwap,
    OvernightIndexSwap,
    Portfolio,
    Trade,
    load_portfolio,
    parse_portfolio,
    write_portfolio,
)

T = TypeVar("T", bound=Trade)
S = TypeVar("S", bound=InterestRateSwap | OvernightIndexSwap)

HIERARCHY = {
    "RATES": ["BONDS", "EUR-SWAPS", "FRAS", "RATES-OPTIONS", "USD-SWAPS"],
    "FX": ["FX-FORWARDS", "FX-OPTIONS"],
    "EQD": ["EQ-EXOTICS", "EQ-INDEX-EU", "EQ-INDEX-US", "EQ-SINGLE-STOCK"],
}


@pytest.fixture(scope="module")
def demo() -> Portfolio:
    """The default demo portfolio (3,000 trades, seed 0)."""
    return demo_portfolio()


@pytest.fixture(scope="module")
def market(demo_snapshot: MarketSnapshot) -> Iterator[QlMarket]:
    """The demo market as QuantLib objects (evaluation date set for the whole module)."""
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        yield build_market(demo_snapshot)


def of(p: Portfolio, cls: type[T]) -> list[T]:
    """The trades of exactly this class (not its subclasses)."""
    return [t for t in p if type(t) is cls]


# -- determinism and shape -----------------------------------------------------------------------
def test_same_seed_same_portfolio() -> None:
    a, b = demo_portfolio(500, seed=3), demo_portfolio(500, seed=3)
    assert a.trades == b.trades
    assert a.content_hash() == b.content_hash()


def test_other_seed_other_portfolio() -> None:
    a, b = demo_portfolio(500, seed=3), demo_portfolio(500, seed=4)
    assert a.content_hash() != b.content_hash()
    assert [t.trade_id for t in a] == [t.trade_id for t in b]  # same ids, other terms
    assert sum(x != y for x, y in zip(a.trades, b.trades, strict=True)) > 490


def test_size_and_ids(demo: Portfolio) -> None:
    assert len(demo) == 3000
    ids = [t.trade_id for t in demo]
    assert len(set(ids)) == len(ids)
    for t in demo:
        assert re.fullmatch(rf"{TRADE_ID_PREFIX[t.product]}-\d{{6}}", t.trade_id), t.trade_id


def test_every_product_present(demo: Portfolio) -> None:
    assert set(PRODUCT_MIX) == set(PRODUCTS)
    assert {t.product for t in demo} == set(PRODUCTS)
    # Even the smallest portfolio that can hold every product does.
    assert Counter(t.product for t in demo_portfolio(len(PRODUCTS), seed=9)) == dict.fromkeys(
        PRODUCTS, 1
    )


@pytest.mark.parametrize("n", [0, 1, 7, 12, 999])
def test_exact_count(n: int) -> None:
    assert len(demo_portfolio(n, seed=1)) == n


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        demo_portfolio(-1)


def test_every_book_has_a_desk(demo: Portfolio) -> None:
    assert dict(demo.books) == BOOKS
    assert all(demo.desk_of(t.book) != UNASSIGNED_DESK for t in demo)
    assert demo.hierarchy() == {"Demo Bank": {d: HIERARCHY[d] for d in sorted(HIERARCHY)}}


def test_product_mix_like_a_bank(demo: Portfolio) -> None:
    n = Counter(t.product for t in demo)
    for product, share in PRODUCT_MIX.items():
        assert n[product] == round(share * 3000)
    rates = [t for t in demo if demo.desk_of(t.book) == "RATES"]
    assert sum(t.product in ("IRS", "OIS") for t in rates) > len(rates) / 2  # swaps dominate
    assert n["FX_FORWARD"] > 2 * n["FX_OPTION"]  # forwards dominate FX
    assert n["EQ_OPTION"] > n["EQ_AMERICAN"] + n["EQ_BARRIER"]


def test_counterparties_and_sides_are_mixed(demo: Portfolio) -> None:
    assert {t.counterparty for t in demo} == set(COUNTERPARTIES)
    for product in PRODUCTS:
        trades = [t for t in demo if t.product == product]
        attr = "fixed_leg" if hasattr(trades[0], "fixed_leg") else "side"
        sides = Counter(getattr(t, attr) for t in trades)
        assert len(sides) == 2, (product, sides)
        assert min(sides.values()) >= 0.15 * len(trades), (product, sides)


# -- validity ------------------------------------------------------------------------------------
def test_default_portfolio_loads_without_errors(demo: Portfolio, tmp_path: Path) -> None:
    """Written and read back through the loader's full validation at the as-of date."""
    loaded = load_portfolio(write_portfolio(demo, tmp_path / "demo.json"), asof=DEMO_ASOF)
    assert loaded.errors == ()
    assert loaded.portfolio.content_hash() == demo.content_hash()


def test_100k_trades_generate_valid() -> None:
    big = demo_portfolio(100_000, seed=11)
    assert len(big) == 100_000
    assert len({t.trade_id for t in big}) == 100_000
    assert {t.product for t in big} == set(PRODUCTS)
    assert [e for t in big for e in t.check(DEMO_ASOF)] == []
    # Plain Python values only (no numpy scalars): what the loader would have built.
    plain = (str, float, int, dt.date)
    assert all(type(getattr(t, f.name)) in plain for t in big for f in dataclasses.fields(t))


def test_market_has_everything_the_trades_need(demo: Portfolio, market: QlMarket) -> None:
    """Every currency, index, pair, underlying, vol and issuer used is in the demo market."""
    needs = {req for t in demo for req in pricer_for(t.product).requirements(t)}
    for req in sorted(needs):
        market.require(req)  # raises MarketDataError naming what is missing
    kinds = {k for k, _ in needs}
    assert kinds >= {
        "discount",
        "curve",
        "fxcurves",
        "fxvol",
        "equity",
        "eqvol",
        "swptvol",
        "capvol",
        "credit",
    }


# -- economics near the market ---------------------------------------------------------------------
def test_dates(demo: Portfolio) -> None:
    swaps = [*of(demo, InterestRateSwap), *of(demo, OvernightIndexSwap)]
    start = [t.start_date for t in swaps]
    assert min(start) >= DEMO_ASOF - dt.timedelta(days=5 * 366)  # seasoned up to ~5y
    assert sum(d < DEMO_ASOF for d in start) > 0.4 * len(swaps)  # many seasoned...
    assert sum(d > DEMO_ASOF for d in start) > 0.3 * len(swaps)  # ...and many new
    tenor = [(t.maturity_date - t.start_date).days / 365.25 for t in swaps]
    assert min(tenor) > 0.99
    assert max(tenor) < 30.01


def test_notionals_round_and_sized(demo: Portfolio) -> None:
    for t in demo:
        if isinstance(t, EquityOption):
            continue  # sized by quantity, see test_equity_strikes_and_sizes
        x = getattr(t, "notional")  # noqa: B009 - every other product has a notional
        assert 1e6 <= x <= 2e8, t
        step = 10 ** math.floor(math.log10(x)) / 2  # 3.5mm, 45mm, 100mm...
        assert x / step == round(x / step), t


def from_date(t: S, start: dt.date) -> S:
    """The same swap, starting at ``start``."""
    return dataclasses.replace(t, start_date=start)


def test_swap_rates_near_par(demo: Portfolio, market: QlMarket) -> None:
    """Fixed rates within ~100 bp of the QuantLib par rate of a swap over the remaining life
    (from the spot date for a seasoned swap, from its start for a forward-starting one)."""
    spot = dt.date(2025, 12, 2)  # 28 Nov 2025 + 2 business days
    gaps = []
    swaps: list[InterestRateSwap | OvernightIndexSwap] = [
        *of(demo, InterestRateSwap),
        *of(demo, OvernightIndexSwap),
    ]
    for t in swaps:
        remaining = from_date(t, max(t.start_date, spot))
        gaps.append(t.fixed_rate - build_swap(remaining, market).fairRate())
    # The generator draws N(0, 40 bp) clipped at 100 bp around its own approximation of the
    # par (or forward par) rate from the quotes; that approximation is within a few bp of the
    # bootstrapped curves, hence 105 bp.
    assert max(abs(g) for g in gaps) < 0.0105
    assert abs(statistics.fmean(gaps)) < 0.0005  # centred on the market (sd/sqrt(n) ~ 1 bp)
    assert 0.0030 < statistics.stdev(gaps) < 0.0050


def quoted_forward(market: QlMarket, snap: MarketSnapshot, pair: str, date: dt.date) -> float:
    """EURUSD: spot + forward points quoted in the snapshot, linear in time between pillars.
    Other pairs (no points quoted): the QuantLib forward from the two OIS curves."""
    if pair != "EURUSD":
        return market.fx_forward(pair, date)
    pts = sorted(
        (tenor_date(snap.asof, parse_quote_id(q).tenor), v)
        for q, v in snap.select("FX.EURUSD.FWD.*").items()
    )
    t = [(d - snap.asof).days for d, _ in pts]
    return snap["FX.EURUSD"] + float(
        np.interp((date - snap.asof).days, [0, *t], [0.0, *(v for _, v in pts)])
    )


def test_fx_strikes_near_the_forward(
    demo: Portfolio, market: QlMarket, demo_snapshot: MarketSnapshot
) -> None:
    for t in of(demo, FxForward):
        fwd = quoted_forward(market, demo_snapshot, t.pair, t.delivery_date)
        assert abs(math.log(t.strike / fwd)) < 0.045, (t, fwd)  # clipped at 4% + approx.
    for o in of(demo, FxOption):
        fwd = quoted_forward(market, demo_snapshot, o.pair, o.expiry_date)
        years = market.year_fraction(o.expiry_date)
        vol = market.fx_vol(o.pair).blackVol(years, fwd)
        # about 5-95 delta: |ln K/F| up to 1.8 standard deviations (plus the forward's approx.)
        assert abs(math.log(o.strike / fwd)) < 1.8 * vol * math.sqrt(years) + 0.005, o


def test_equity_strikes_and_sizes(demo: Portfolio, demo_snapshot: MarketSnapshot) -> None:
    for t in [t for t in demo if isinstance(t, EquityOption)]:  # with American and barrier
        spot = demo_snapshot[f"EQ.{t.underlying}.SPOT"]
        assert 0.70 <= t.strike / spot <= 1.30, t
        assert 0.9e6 <= t.quantity * spot <= 1.1e8, t  # ~1-100mm of underlying
        assert t.expiry_date.weekday() == 4  # a third Friday
        assert 15 <= t.expiry_date.day <= 21


def test_barriers_away_from_spot(demo: Portfolio, demo_snapshot: MarketSnapshot) -> None:
    """Not breached today, nor by a 10% move; up barriers above the strike."""
    barriers = of(demo, EquityBarrierOption)
    assert {t.barrier_type for t in barriers} == {"DOWN_OUT", "DOWN_IN", "UP_OUT", "UP_IN"}
    for t in barriers:
        spot = demo_snapshot[f"EQ.{t.underlying}.SPOT"]
        if t.barrier_type.startswith("DOWN"):
            assert t.barrier <= 0.85 * spot, t
        else:
            assert t.barrier >= 1.15 * max(spot, t.strike), t


# -- bad trades ----------------------------------------------------------------------------------
def test_bad_trades_each_have_their_defect() -> None:
    records = demo_bad_trades()
    result = parse_portfolio(((r["trade_id"], r) for r in records), BOOKS, asof=DEMO_ASOF)
    assert sorted(t.trade_id for t in result.portfolio) == [
        "BAD-BARRIER-BREACHED",
        "OK-BOND-1",
        "OK-EQO-1",
        "OK-FXF-1",
        "OK-IRS-1",
        "OK-OIS-1",
    ]
    assert [(e.trade_id, e.field) for e in result.errors] == [
        ("BAD-UNKNOWN-PRODUCT", "product"),
        ("BAD-MISSING-FIELD", "fixed_rate"),
        ("BAD-NEGATIVE-NOTIONAL", "notional"),
        ("BAD-MATURED", "maturity_date"),
        ("BAD-MALFORMED-DATE", "delivery_date"),
        ("BAD-UNKNOWN-CURRENCY", "currency"),
        ("BAD-UNKNOWN-INDEX", "index"),
        ("BAD-UNKNOWN-UNDERLYING", "underlying"),
        ("OK-FXF-1", "trade_id"),
    ]
    (breached,) = [r for r in records if r["trade_id"] == "BAD-BARRIER-BREACHED"]
    assert breached["barrier_type"] == "DOWN_OUT"
    assert breached["barrier"] > 6850.0  # the demo SPX spot: knocked out already
