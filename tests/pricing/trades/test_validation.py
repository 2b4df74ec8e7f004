"""Trade validation: every kind of bad field gives one error naming the trade, the field and why.

Each test starts from a valid record of the product (checked valid in ``test_base_records_are_
valid``), breaks one thing, and asserts the *only* error: its trade id, its field and a
substring of its reason. A record with several bad fields reports them all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pricing.errors import TradeError
from pricing.trades import PRODUCTS, parse_portfolio, parse_trade
from tests.factories import ASOF

_COMMON = {"book": "BOOK-1", "counterparty": "ACME"}
BASE: dict[str, dict[str, Any]] = {
    "IRS": {
        "currency": "EUR",
        "index": "EUR-EURIBOR-6M",
        "notional": 1e7,
        "start_date": "2025-12-02",
        "maturity_date": "2035-12-02",
        "fixed_rate": 0.025,
        "fixed_leg": "PAY",
    },
    "OIS": {
        "currency": "USD",
        "index": "USD-SOFR",
        "notional": 1e7,
        "start_date": "2025-12-02",
        "maturity_date": "2030-12-02",
        "fixed_rate": 0.034,
        "fixed_leg": "RECEIVE",
    },
    "FRA": {
        "currency": "EUR",
        "index": "EUR-EURIBOR-3M",
        "notional": 5e7,
        "start_date": "2026-03-02",
        "end_date": "2026-06-02",
        "fixed_rate": 0.021,
        "fixed_leg": "PAY",
    },
    "BOND": {
        "currency": "USD",
        "notional": 1e7,
        "issue_date": "2025-02-15",
        "maturity_date": "2035-02-15",
        "coupon": 0.04625,
        "coupon_frequency": "6M",
        "day_count": "ACT/ACT",
        "issuer": "UST",
    },
    "CAPFLOOR": {
        "currency": "USD",
        "index": "USD-TSOFR-3M",
        "notional": 1e7,
        "start_date": "2025-12-02",
        "maturity_date": "2030-12-02",
        "strike": 0.04,
        "option_type": "CAP",
    },
    "SWAPTION": {
        "currency": "EUR",
        "index": "EUR-EURIBOR-6M",
        "notional": 1e7,
        "expiry_date": "2026-11-30",
        "swap_tenor": "10Y",
        "strike": 0.029,
        "option_type": "PAYER",
    },
    "FX_FORWARD": {
        "pair": "EURUSD",
        "notional": 1e7,
        "strike": 1.17,
        "delivery_date": "2026-05-29",
    },
    "FX_OPTION": {
        "pair": "USDJPY",
        "notional": 1e7,
        "strike": 150.0,
        "expiry_date": "2026-05-28",
        "option_type": "PUT",
    },
    "EQ_OPTION": {
        "underlying": "SPX",
        "quantity": 100,
        "strike": 7000,
        "expiry_date": "2026-06-19",
        "option_type": "CALL",
    },
    "EQ_AMERICAN": {
        "underlying": "AAPL",
        "quantity": 1000,
        "strike": 250,
        "expiry_date": "2026-06-19",
        "option_type": "PUT",
    },
    "EQ_BARRIER": {
        "underlying": "SX5E",
        "quantity": 100,
        "strike": 5600,
        "expiry_date": "2026-06-19",
        "option_type": "CALL",
        "barrier_type": "DOWN_OUT",
        "barrier": 4500,
    },
}


def record(product: str, trade_id: str = "T1", /, **changes: Any) -> dict[str, Any]:
    """A valid record of ``product`` with ``changes`` applied (``None`` removes a key)."""
    rec = {"product": product, "trade_id": trade_id, **_COMMON, **BASE[product], **changes}
    return {k: v for k, v in rec.items() if v is not None}


def only_error(rec: dict[str, Any], asof: dt.date | None = ASOF) -> TradeError:
    trade, errors = parse_trade(rec, asof=asof)
    assert trade is None
    assert len(errors) == 1, errors
    return errors[0]


def assert_error(err: TradeError, trade_id: str, field: str, reason: str) -> None:
    assert (err.trade_id, err.field) == (trade_id, field)
    assert reason in err.reason, err.reason


def test_every_product_has_a_base_record() -> None:
    assert set(BASE) == set(PRODUCTS)


@pytest.mark.parametrize("product", list(BASE))
def test_base_records_are_valid(product: str) -> None:
    trade, errors = parse_trade(record(product), asof=ASOF)
    assert errors == []
    assert trade is not None
    assert (trade.product, trade.trade_id, trade.book) == (product, "T1", "BOOK-1")


def test_unknown_product() -> None:
    err = only_error(record("IRS", "X1", product="CDS"))
    assert_error(err, "X1", "product", "unknown product 'CDS'")
    assert "IRS" in err.reason  # the known products are listed


def test_missing_product() -> None:
    assert_error(
        only_error(record("IRS", "X2", product=None)), "X2", "product", "missing required field"
    )


@pytest.mark.parametrize(
    ("product", "field"),
    [
        ("IRS", "fixed_rate"),
        ("FX_FORWARD", "delivery_date"),
        ("EQ_BARRIER", "barrier"),
        ("BOND", "counterparty"),
    ],
)
def test_missing_field(product: str, field: str) -> None:
    assert_error(
        only_error(record(product, "X3", **{field: None})), "X3", field, "missing required field"
    )


def test_blank_value_counts_as_missing() -> None:  # a blank CSV cell
    assert_error(
        only_error(record("OIS", "X4", notional="")), "X4", "notional", "missing required field"
    )


@pytest.mark.parametrize(
    ("product", "field"),
    [
        ("IRS", "notional"),
        ("FX_OPTION", "notional"),
        ("EQ_OPTION", "quantity"),
        ("BOND", "notional"),
    ],
)
def test_negative_notional(product: str, field: str) -> None:
    assert_error(
        only_error(record(product, "X5", **{field: -1e6})),
        "X5",
        field,
        "must be positive, got -1000000.0",
    )


@pytest.mark.parametrize(
    ("product", "field"),
    [
        ("EQ_OPTION", "strike"),
        ("FX_FORWARD", "strike"),
        ("FX_OPTION", "strike"),
        ("EQ_BARRIER", "barrier"),
    ],
)
def test_zero_strike(product: str, field: str) -> None:
    assert_error(
        only_error(record(product, "X6", **{field: 0})), "X6", field, "must be positive, got 0.0"
    )


@pytest.mark.parametrize(
    ("product", "field", "date"),
    [
        ("IRS", "maturity_date", "2025-11-27"),
        ("IRS", "maturity_date", "2025-11-28"),  # maturing on the as-of date is not live either
        ("FRA", "start_date", "2025-11-28"),
        ("FX_FORWARD", "delivery_date", "2025-06-30"),
        ("SWAPTION", "expiry_date", "2025-01-02"),
        ("EQ_AMERICAN", "expiry_date", "2025-11-21"),
    ],
)
def test_maturity_before_asof(product: str, field: str, date: str) -> None:
    changes: dict[str, Any] = {field: date}
    if product in ("IRS", "FRA"):  # keep the dates in order: only the as-of check fails
        changes["start_date" if product == "IRS" else "end_date"] = (
            "2020-11-27" if product == "IRS" else "2026-06-02"
        )
    err = only_error(record(product, "X7", **changes))
    assert_error(err, "X7", field, f"{date} is not after the as-of date 2025-11-28")


def test_no_asof_no_expiry_check() -> None:
    trade, errors = parse_trade(record("FX_FORWARD", delivery_date="2020-01-02"), asof=None)
    assert errors == []
    assert trade is not None


def test_maturity_not_after_start() -> None:
    err = only_error(record("IRS", "X8", start_date="2030-01-02", maturity_date="2029-01-02"))
    assert_error(err, "X8", "maturity_date", "2029-01-02 is not after start_date 2030-01-02")


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "30/05/2026", "tomorrow", 20260529])
def test_malformed_date(value: Any) -> None:
    err = only_error(record("FX_FORWARD", "X9", delivery_date=value))
    assert_error(err, "X9", "delivery_date", f"malformed date {value!r} (expected YYYY-MM-DD)")


def test_unknown_currency() -> None:
    assert_error(
        only_error(record("BOND", "X10", currency="XYZ")),
        "X10",
        "currency",
        "unknown currency 'XYZ'",
    )


def test_unknown_index() -> None:
    assert_error(
        only_error(record("IRS", "X11", index="USD-LIBOR-3M")),
        "X11",
        "index",
        "unknown index 'USD-LIBOR-3M'",
    )


def test_index_currency_mismatch() -> None:
    err = only_error(record("IRS", "X12", currency="USD"))  # EURIBOR in a USD swap
    assert_error(
        err, "X12", "index", "index EUR-EURIBOR-6M is in EUR, not in the trade currency USD"
    )


def test_irs_needs_an_ibor_index() -> None:
    err = only_error(record("IRS", "X13", currency="USD", index="USD-SOFR"))
    assert_error(err, "X13", "index", "IRS needs an ibor index; USD-SOFR is overnight")


def test_ois_needs_an_overnight_index() -> None:
    err = only_error(record("OIS", "X14", currency="EUR", index="EUR-EURIBOR-6M"))
    assert_error(err, "X14", "index", "OIS needs an overnight index; EUR-EURIBOR-6M is ibor")


def test_unknown_underlying() -> None:
    assert_error(
        only_error(record("EQ_OPTION", "X15", underlying="TSLA")),
        "X15",
        "underlying",
        "unknown underlying 'TSLA'",
    )


@pytest.mark.parametrize(
    ("pair", "reason"),
    [
        ("EURUS", "malformed currency pair 'EURUS'"),
        ("eurusd", "malformed currency pair 'eurusd'"),
        ("EUR/USD", "malformed currency pair 'EUR/USD'"),
        ("EURXYZ", "unknown currency 'XYZ' in pair EURXYZ"),
        ("USDUSD", "pair USDUSD has the same currency twice"),
    ],
)
def test_malformed_pair(pair: str, reason: str) -> None:
    assert_error(only_error(record("FX_OPTION", "X16", pair=pair)), "X16", "pair", reason)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("fixed_leg", "BOTH", "'BOTH' is not one of PAY, RECEIVE"),
        ("notional", "lots", "'lots' is not a number"),
        ("notional", "inf", "'inf' is not a finite number"),
        ("fixed_rate", True, "True is not a number"),
    ],
)
def test_bad_field_value(field: str, value: Any, reason: str) -> None:
    assert_error(only_error(record("IRS", "X17", **{field: value})), "X17", field, reason)


def test_bad_bond_terms() -> None:
    trade, errors = parse_trade(
        record("BOND", "X18", coupon=-0.01, coupon_frequency="6X", day_count="ACT/366"), asof=ASOF
    )
    assert trade is None
    assert [(e.trade_id, e.field) for e in errors] == [
        ("X18", "coupon_frequency"),
        ("X18", "day_count"),
        ("X18", "coupon"),
    ]
    assert "malformed tenor '6X'" in errors[0].reason
    assert "unknown day count 'ACT/366'" in errors[1].reason
    assert "must not be negative" in errors[2].reason


def test_unknown_extra_field() -> None:
    err = only_error(record("IRS", "X19", notionl=5e6))  # a misspelt field must not pass
    assert_error(err, "X19", "notionl", "unknown field for product IRS")


def test_desk_is_an_understood_extra_key() -> None:
    trade, errors = parse_trade(record("IRS", desk="RATES"), asof=ASOF)
    assert errors == []
    assert trade is not None


def test_missing_trade_id_uses_the_label() -> None:
    trade, errors = parse_trade(record("IRS", trade_id=None), asof=ASOF, label="<row 7>")
    assert trade is None
    assert [(e.trade_id, e.field, e.reason) for e in errors] == [
        ("<row 7>", "trade_id", "missing required field")
    ]


def test_several_bad_fields_are_all_reported() -> None:
    rec = record(
        "FX_FORWARD",
        "X20",
        pair="EURXYZ",
        notional=-5,
        strike="abc",
        delivery_date="2026-02-30",
        side="LONG",
        colour="blue",
    )
    trade, errors = parse_trade(rec, asof=ASOF)
    assert trade is None
    fields = sorted(e.field for e in errors)
    # Type errors are found together; the pair (a semantic check) once the types parse.
    assert fields == ["colour", "delivery_date", "notional", "side", "strike"]
    assert all(e.trade_id == "X20" for e in errors)
    # Once every field parses, all semantic checks are reported together too.
    trade, errors = parse_trade(
        record("FX_FORWARD", "X21", pair="EURXYZ", delivery_date="2025-01-02"), asof=ASOF
    )
    assert [(e.field, e.reason.split(" ")[0]) for e in errors] == [
        ("pair", "unknown"),
        ("delivery_date", "2025-01-02"),
    ]


def test_duplicate_id() -> None:
    first, second = record("IRS", "DUP-1"), record("OIS", "DUP-1")
    result = parse_portfolio([("<r1>", first), ("<r2>", second)], asof=ASOF)
    assert [t.product for t in result.portfolio] == ["IRS"]  # the first is kept
    (err,) = result.errors
    assert_error(err, "DUP-1", "trade_id", "duplicate trade id")


def test_desk_conflict_with_declared_hierarchy() -> None:
    rec = record("IRS", "D1", book="USD-SWAPS", desk="FX")
    result = parse_portfolio([("<r1>", rec)], books={"USD-SWAPS": "RATES"}, asof=ASOF)
    assert len(result.portfolio) == 0
    (err,) = result.errors
    assert_error(err, "D1", "desk", "book USD-SWAPS belongs to desk RATES, not FX")


def test_desk_conflict_between_records() -> None:
    a = record("IRS", "D2", book="USD-SWAPS", desk="RATES")
    b = record("OIS", "D3", book="USD-SWAPS", desk="FX")
    result = parse_portfolio([("<r1>", a), ("<r2>", b)], asof=ASOF)
    assert [t.trade_id for t in result.portfolio] == ["D2"]
    assert result.portfolio.desk_of("USD-SWAPS") == "RATES"
    (err,) = result.errors
    assert_error(err, "D3", "desk", "book USD-SWAPS belongs to desk RATES, not FX")
