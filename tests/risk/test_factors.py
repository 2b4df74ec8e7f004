"""Risk factors enumerated from a snapshot (risk/factors.py).

Second sources: the demo market's quote ids grouped here independently (by their id prefix), the
index names of ``pricing/conventions/indices.yaml`` typed out, the demo market's tenor lists
typed out in maturity order, and the quote-id grammar of ``pricing/quotes.py``.
"""

from __future__ import annotations

import datetime as dt

import pytest

from pricing.market import MarketSnapshot
from risk.factors import FACTOR_CLASSES, risk_factors
from tests.factories import ASOF, flat_snapshot

DEMO_OIS_TENORS = [
    *("1W", "1M", "3M", "6M", "9M", "1Y", "18M", "2Y", "3Y", "4Y", "5Y"),
    *("7Y", "10Y", "12Y", "15Y", "20Y", "25Y", "30Y"),
]


def test_every_demo_quote_is_in_exactly_one_factor_and_one_bucket(
    demo_snapshot: MarketSnapshot,
) -> None:
    """The factors partition the quotes (VOLSHIFT aside: a model parameter, not a risk), and
    each bucketed factor's buckets partition its quotes."""
    factors = risk_factors(demo_snapshot)
    seen: list[str] = []
    for f in factors:
        assert f.factor_class in FACTOR_CLASSES
        assert list(f.quotes) == sorted(f.quotes)
        seen.extend(f.quotes)
        if f.buckets:
            in_buckets = [q for _, qs in f.buckets for q in qs]
            assert sorted(in_buckets) == list(f.quotes), f.key
        else:
            assert f.factor_class in ("FX", "EQ", "DIV", "CREDIT")
            assert len(f.quotes) == 1
    assert len(seen) == len(set(seen))
    expected = {q for q in demo_snapshot.quotes if not q.startswith("VOLSHIFT.")}
    assert set(seen) == expected
    assert len({f.key for f in factors}) == len(factors)


def test_demo_factor_names_classes_and_currencies(demo_snapshot: MarketSnapshot) -> None:
    """Names come from the conventions (IR curves by index name) and the quote ids; factors
    are listed by class, then name."""
    factors = risk_factors(demo_snapshot)
    got = [(f.factor_class, f.name, f.currency, f.vol_type) for f in factors]
    expected = [
        ("IR", "CHF-SARON", "CHF", ""),
        ("IR", "EUR-ESTR", "EUR", ""),
        ("IR", "EUR-EURIBOR-3M", "EUR", ""),
        ("IR", "EUR-EURIBOR-6M", "EUR", ""),
        ("IR", "EURUSD-FWD", "EUR", ""),  # EURUSD forward points: the implied EUR curve
        ("IR", "GBP-SONIA", "GBP", ""),
        ("IR", "JPY-TONA", "JPY", ""),
        ("IR", "USD-SOFR", "USD", ""),
        ("IR", "USD-TSOFR-3M", "USD", ""),
        ("FX", "EURUSD", "USD", ""),
        ("FX", "GBPUSD", "USD", ""),
        ("FX", "USDCHF", "CHF", ""),
        ("FX", "USDJPY", "JPY", ""),
        *[("EQ", u, c, "") for u, c in _UNDERLYINGS],
        *[("DIV", u, c, "") for u, c in _UNDERLYINGS],
        ("VOL", "CAP.EUR", "EUR", "NORMAL"),  # the demo has no VOLSHIFT: normal (bp) vols
        ("VOL", "CAP.USD", "USD", "NORMAL"),
        *[("VOL", f"EQ.{u}", c, "BLACK") for u, c in _UNDERLYINGS],
        ("VOL", "FX.EURUSD", "USD", "BLACK"),
        ("VOL", "FX.GBPUSD", "USD", "BLACK"),
        ("VOL", "FX.USDCHF", "CHF", "BLACK"),
        ("VOL", "FX.USDJPY", "JPY", "BLACK"),
        ("VOL", "SWPT.EUR", "EUR", "NORMAL"),
        ("VOL", "SWPT.USD", "USD", "NORMAL"),
        *[("CREDIT", i, "", "") for i in ("ACME_CORP", "DBR", "GLOBEX", "UST")],
    ]
    assert got == expected


_UNDERLYINGS = [("AAPL", "USD"), ("NDX", "USD"), ("SAP", "EUR"), ("SPX", "USD"), ("SX5E", "EUR")]


def test_demo_buckets_in_maturity_order(demo_snapshot: MarketSnapshot) -> None:
    by_key = {f.key: f for f in risk_factors(demo_snapshot)}

    def labels(cls: str, name: str) -> list[str]:
        return [b for b, _ in by_key[(cls, name)].buckets]

    assert labels("IR", "USD-SOFR") == DEMO_OIS_TENORS
    assert labels("IR", "EUR-ESTR") == DEMO_OIS_TENORS
    # deposit, FRAs by their end month (18X21 before 2Y), then swaps
    assert labels("IR", "USD-TSOFR-3M") == [
        *("3M", "3X6", "6X9", "9X12", "12X15", "15X18", "18X21"),
        *("2Y", "3Y", "4Y", "5Y", "7Y", "10Y", "12Y", "15Y", "20Y", "25Y", "30Y"),
    ]
    assert labels("IR", "EUR-EURIBOR-6M")[:7] == ["6M", "1X7", "3X9", "6X12", "9X15", "12X18", "2Y"]
    assert labels("IR", "GBP-SONIA") == ["1M", "6M", "1Y", "2Y", "5Y", "10Y", "30Y"]  # ZERO
    assert labels("IR", "CHF-SARON") == ["1Y", "2Y", "5Y", "10Y", "30Y"]  # DF
    assert labels("IR", "JPY-TONA") == ["FLAT"]
    assert labels("IR", "EURUSD-FWD") == ["1M", "3M", "6M", "1Y", "2Y", "5Y"]
    assert labels("VOL", "FX.USDJPY") == ["1M", "3M", "6M", "1Y", "2Y", "5Y"]
    assert labels("VOL", "CAP.USD") == ["1Y", "2Y", "3Y", "5Y", "7Y", "10Y", "15Y", "20Y"]
    expiries, tenors = ("1M", "3M", "6M", "1Y", "2Y", "5Y", "10Y"), ("1Y", "2Y", "5Y", "10Y", "30Y")
    assert labels("VOL", "SWPT.EUR") == [f"{e}x{t}" for e in expiries for t in tenors]
    # an equity expiry bucket holds every strike of that expiry
    spx = by_key[("VOL", "EQ.SPX")]
    assert [b for b, _ in spx.buckets] == ["1M", "3M", "6M", "1Y", "2Y", "5Y"]
    for expiry, quotes in spx.buckets:
        assert quotes == tuple(sorted(q for q in spx.quotes if q.split(".")[3] == expiry))
        assert len(quotes) == 7  # 42 SPX vol quotes = 6 expiries x 7 strikes


def test_bucket_quotes_follow_the_quote_grammar(demo_snapshot: MarketSnapshot) -> None:
    """A bucket's quotes are exactly the ids carrying its label (typed out for a few)."""
    by_key = {f.key: f for f in risk_factors(demo_snapshot)}
    sofr = dict(by_key[("IR", "USD-SOFR")].buckets)
    assert sofr["5Y"] == ("IR.USD.SOFR.OIS.5Y",)
    tsofr = dict(by_key[("IR", "USD-TSOFR-3M")].buckets)
    assert tsofr["6X9"] == ("IR.USD.TSOFR3M.FRA.6X9",)
    assert tsofr["3M"] == ("IR.USD.TSOFR3M.DEP.3M",)
    assert dict(by_key[("VOL", "SWPT.USD")].buckets)["5Yx10Y"] == ("VOL.SWPT.USD.5Y10Y",)
    assert dict(by_key[("IR", "EURUSD-FWD")].buckets)["1Y"] == ("FX.EURUSD.FWD.1Y",)
    assert by_key[("FX", "EURUSD")].quotes == ("FX.EURUSD",)
    assert by_key[("DIV", "SPX")].quotes == ("EQ.SPX.DIV",)
    assert by_key[("CREDIT", "UST")].quotes == ("CREDIT.UST.ZSPREAD",)


def test_flat_market_and_vol_type() -> None:
    """Direct FLAT inputs are one bucket "FLAT"; swaption and cap vols are Black exactly when
    a VOLSHIFT quote of their currency is present (pricing/quotes.py)."""
    normal = flat_snapshot(rates={"USD": 0.04}, swaption_vol={"USD": 0.009}, cap_vol={"USD": 0.01})
    black = flat_snapshot(
        rates={"USD": 0.04}, swaption_vol={"USD": 0.3}, cap_vol={"USD": 0.3}, vol_shift=0.02
    )
    for snap, kind in ((normal, "NORMAL"), (black, "BLACK")):
        by_key = {f.key: f for f in risk_factors(snap)}
        assert by_key[("IR", "USD-SOFR")].buckets == (("FLAT", ("IR.USD.SOFR.FLAT",)),)
        assert by_key[("VOL", "SWPT.USD")].vol_type == kind
        assert by_key[("VOL", "CAP.USD")].vol_type == kind
        assert by_key[("VOL", "SWPT.USD")].buckets == (("FLAT", ("VOL.SWPT.USD.FLAT",)),)
    assert not any(q.startswith("VOLSHIFT") for f in risk_factors(black) for q in f.quotes)


def test_quotes_nothing_can_read_are_not_factors() -> None:
    """A curve no index convention names, and forward points of a pair without a spot, cannot
    move any trade's value: they are left out (keeps the scenario set lean)."""
    snap = MarketSnapshot(
        ASOF,
        {
            "IR.USD.NOSUCH.OIS.1Y": 0.03,  # no index has curve name NOSUCH
            "IR.USD.SOFR.OIS.1Y": 0.035,
            "FX.GBPUSD.FWD.1Y": 0.001,  # no FX.GBPUSD spot
            "FX.EURUSD": 1.16,
            "FX.EURUSD.FWD.1Y": 0.02,
        },
    )
    assert [f.key for f in risk_factors(snap)] == [
        ("IR", "EURUSD-FWD"),
        ("IR", "USD-SOFR"),
        ("FX", "EURUSD"),
    ]


def test_same_label_quotes_share_a_bucket() -> None:
    """Two quotes of one curve at the same tenor (a deposit and a swap at 1Y) form one bucket,
    so the buckets still partition the curve."""
    snap = MarketSnapshot(
        ASOF,
        {
            "IR.EUR.EURIBOR6M.DEP.1Y": 0.021,
            "IR.EUR.EURIBOR6M.SWAP.1Y": 0.022,
            "IR.EUR.EURIBOR6M.SWAP.2Y": 0.023,
        },
    )
    (f,) = risk_factors(snap)
    assert f.buckets == (
        ("1Y", ("IR.EUR.EURIBOR6M.DEP.1Y", "IR.EUR.EURIBOR6M.SWAP.1Y")),
        ("2Y", ("IR.EUR.EURIBOR6M.SWAP.2Y",)),
    )


def test_classes_filter(demo_snapshot: MarketSnapshot) -> None:
    only = risk_factors(demo_snapshot, classes={"EQ", "CREDIT"})
    assert {f.factor_class for f in only} == {"EQ", "CREDIT"}
    assert len(only) == 5 + 4
    with pytest.raises(ValueError, match="unknown factor classes"):
        risk_factors(demo_snapshot, classes={"FXFWD"})


def test_factors_follow_the_snapshot_not_a_list() -> None:
    """A new curve in the data is a new factor, with no code change."""
    snap = flat_snapshot(
        dt.date(2025, 12, 2), rates={"USD": 0.04, "GBP": 0.045}, ibor={"USD-TSOFR-3M": 0.042}
    )
    assert [f.key for f in risk_factors(snap)] == [
        ("IR", "GBP-SONIA"),
        ("IR", "USD-SOFR"),
        ("IR", "USD-TSOFR-3M"),
    ]
