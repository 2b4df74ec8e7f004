"""Portfolio loaders: JSON, YAML, CSV (one file or one per product), round trips, bad files.

The expected trades are written out by hand in each test (the file text and the dataclass it
must give), so a loader that misreads a field, a date or the hierarchy is caught.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from pricing.demo import demo_portfolio
from pricing.errors import InputFileError, TradeError
from pricing.trades import (
    PRODUCTS,
    EquityBarrierOption,
    FxForward,
    InterestRateSwap,
    Portfolio,
    load_portfolio,
    write_portfolio,
)
from tests.factories import ASOF

IRS = InterestRateSwap(
    trade_id="IRS-1",
    book="USD-SWAPS",
    counterparty="ACME",
    currency="USD",
    index="USD-TSOFR-3M",
    notional=25e6,
    start_date=dt.date(2025, 12, 2),
    maturity_date=dt.date(2035, 12, 2),
    fixed_rate=0.0375,
    fixed_leg="PAY",
)
FXF = FxForward(
    trade_id="FXF-1",
    book="FX-FORWARDS",
    counterparty="Globex",
    pair="EURUSD",
    notional=10e6,
    strike=1.175,
    delivery_date=dt.date(2026, 5, 29),
    side="SELL",
)
EQB = EquityBarrierOption(
    trade_id="EQB-1",
    book="EQ-EXOTICS",
    counterparty="ACME",
    underlying="SPX",
    quantity=1500.0,
    strike=7000.0,
    expiry_date=dt.date(2026, 6, 19),
    option_type="CALL",
    barrier_type="DOWN_OUT",
    barrier=5500.0,
    rebate=10.0,
)
BOOKS = {"USD-SWAPS": "RATES", "FX-FORWARDS": "FX", "EQ-EXOTICS": "EQD"}
HIERARCHY = {"Demo Bank": {"EQD": ["EQ-EXOTICS"], "FX": ["FX-FORWARDS"], "RATES": ["USD-SWAPS"]}}

JSON_DOC = """{
 "firm": "Demo Bank",
 "books": [{"book": "USD-SWAPS", "desk": "RATES"}, {"book": "FX-FORWARDS", "desk": "FX"},
           {"book": "EQ-EXOTICS", "desk": "EQD"}],
 "trades": [
  {"product": "IRS", "trade_id": "IRS-1", "book": "USD-SWAPS", "counterparty": "ACME",
   "currency": "USD", "index": "USD-TSOFR-3M", "notional": 25000000, "start_date": "2025-12-02",
   "maturity_date": "2035-12-02", "fixed_rate": 0.0375, "fixed_leg": "PAY"},
  {"product": "FX_FORWARD", "trade_id": "FXF-1", "book": "FX-FORWARDS", "counterparty": "Globex",
   "pair": "EURUSD", "notional": 1e7, "strike": 1.175, "delivery_date": "2026-05-29",
   "side": "SELL"},
  {"product": "EQ_BARRIER", "trade_id": "EQB-1", "book": "EQ-EXOTICS", "counterparty": "ACME",
   "underlying": "SPX", "quantity": 1500, "strike": 7000, "expiry_date": "2026-06-19",
   "option_type": "CALL", "barrier_type": "DOWN_OUT", "barrier": 5500, "rebate": 10}
 ]
}
"""

# YAML as a person writes it: bare dates (YAML reads them as dates), lower-case choices,
# a {book: desk} mapping for the hierarchy.
YAML_DOC = """\
firm: Demo Bank
books: {USD-SWAPS: RATES, FX-FORWARDS: FX, EQ-EXOTICS: EQD}
trades:
  - {product: IRS, trade_id: IRS-1, book: USD-SWAPS, counterparty: ACME, currency: USD,
     index: USD-TSOFR-3M, notional: 25.0e+6, start_date: 2025-12-02, maturity_date: 2035-12-02,
     fixed_rate: 0.0375, fixed_leg: pay}
  - product: FX_FORWARD
    trade_id: FXF-1
    book: FX-FORWARDS
    counterparty: Globex
    pair: EURUSD
    notional: 10000000
    strike: 1.175
    delivery_date: 2026-05-29
    side: sell
  - {product: eq_barrier, trade_id: EQB-1, book: EQ-EXOTICS, counterparty: ACME,
     underlying: SPX, quantity: 1500, strike: 7000, expiry_date: 2026-06-19,
     option_type: CALL, barrier_type: DOWN_OUT, barrier: 5500, rebate: 10}
"""

# One CSV, a product column, the columns of other products left blank, desk as a column.
CSV_DOC = """\
product,trade_id,book,desk,counterparty,currency,index,pair,underlying,notional,quantity,\
start_date,maturity_date,delivery_date,expiry_date,fixed_rate,fixed_leg,strike,side,\
option_type,barrier_type,barrier,rebate
IRS,IRS-1,USD-SWAPS,RATES,ACME,USD,USD-TSOFR-3M,,,25000000,,2025-12-02,2035-12-02,,,0.0375,PAY,,,\
,,,
FX_FORWARD,FXF-1,FX-FORWARDS,FX,Globex,,,EURUSD,,10000000,,,,2026-05-29,,,,1.175,SELL,,,,
EQ_BARRIER,EQB-1,EQ-EXOTICS,EQD,ACME,,,,SPX,,1500,,,,2026-06-19,,,7000,,CALL,DOWN_OUT,5500,10
"""


def _expected() -> tuple[InterestRateSwap, FxForward, EquityBarrierOption]:
    return IRS, FXF, EQB


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text", "firm"),
    [
        ("book.json", JSON_DOC, "Demo Bank"),
        ("book.yaml", YAML_DOC, "Demo Bank"),
        ("book.yml", YAML_DOC, "Demo Bank"),
        ("book.csv", CSV_DOC, "FIRM"),  # a single CSV has no firm: the default
    ],
)
def test_load_each_format(tmp_path: Path, name: str, text: str, firm: str) -> None:
    result = load_portfolio(_write(tmp_path / name, text), asof=ASOF)
    assert result.errors == ()
    assert result.ok
    assert result.portfolio.trades == _expected()
    assert dict(result.portfolio.books) == BOOKS
    assert result.portfolio.firm == firm


def test_hierarchy_firm_desk_book(tmp_path: Path) -> None:
    p = load_portfolio(_write(tmp_path / "book.json", JSON_DOC)).portfolio
    assert p.hierarchy() == HIERARCHY
    assert [p.desk_of(t.book) for t in p] == ["RATES", "FX", "EQD"]
    assert p.trade_attributes()["desk"] == ["RATES", "FX", "EQD"]


def test_bare_list_of_records(tmp_path: Path) -> None:
    doc = json.loads(JSON_DOC)["trades"]
    p = load_portfolio(_write(tmp_path / "list.json", json.dumps(doc))).portfolio
    assert p.trades == _expected()
    assert p.firm == "FIRM"
    assert {p.desk_of(t.book) for t in p} == {"UNASSIGNED"}  # no hierarchy given


def test_directory_of_product_csv_files(tmp_path: Path) -> None:
    _write(
        tmp_path / "books.csv",
        "book,desk,firm\nUSD-SWAPS,RATES,Demo Bank\n"
        "FX-FORWARDS,FX,Demo Bank\nEQ-EXOTICS,EQD,Demo Bank\n",
    )
    _write(
        tmp_path / "IRS.csv",
        "trade_id,book,counterparty,currency,index,notional,start_date,"
        "maturity_date,fixed_rate,fixed_leg\nIRS-1,USD-SWAPS,ACME,USD,USD-TSOFR-3M,25000000,"
        "2025-12-02,2035-12-02,0.0375,PAY\n",
    )
    _write(
        tmp_path / "fx_forward.csv",
        "trade_id,book,counterparty,pair,notional,strike,"
        "delivery_date,side\nFXF-1,FX-FORWARDS,Globex,EURUSD,1e7,1.175,2026-05-29,SELL\n",
    )
    _write(
        tmp_path / "EQ_BARRIER.csv",
        "trade_id,book,counterparty,underlying,quantity,strike,"
        "expiry_date,option_type,barrier_type,barrier,rebate\nEQB-1,EQ-EXOTICS,ACME,SPX,1500,"
        "7000,2026-06-19,CALL,DOWN_OUT,5500,10\n",
    )
    result = load_portfolio(tmp_path, asof=ASOF)
    assert result.errors == ()
    # files are read in name order: EQ_BARRIER.csv, IRS.csv, fx_forward.csv
    assert result.portfolio.trades == (EQB, IRS, FXF)
    assert result.portfolio.firm == "Demo Bank"
    assert result.portfolio.hierarchy() == HIERARCHY


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".csv"])
def test_round_trip_every_product(tmp_path: Path, suffix: str) -> None:
    original = demo_portfolio(220, seed=5)
    assert {t.product for t in original} == set(PRODUCTS)
    path = write_portfolio(original, tmp_path / f"portfolio{suffix}")
    loaded = load_portfolio(path, asof=ASOF)
    assert loaded.errors == ()
    assert loaded.portfolio.trades == original.trades
    assert dict(loaded.portfolio.books) == dict(original.books)
    if suffix != ".csv":  # a single CSV does not carry the firm name
        assert loaded.portfolio.content_hash() == original.content_hash()
    else:
        assert loaded.portfolio.firm == "FIRM"
        assert (
            Portfolio(loaded.portfolio.trades, loaded.portfolio.books, original.firm).content_hash()
            == original.content_hash()
        )


def test_round_trip_keeps_floats_exactly(tmp_path: Path) -> None:
    t = dataclasses.replace(IRS, fixed_rate=0.1 + 0.2, notional=1e7 / 3)
    for suffix in (".json", ".yaml", ".csv"):
        path = write_portfolio(Portfolio((t,)), tmp_path / f"p{suffix}")
        (loaded,) = load_portfolio(path).portfolio.trades
        assert loaded == t  # 0.30000000000000004 survives; no rounding on the way


def test_bad_records_give_good_trades_and_every_error(tmp_path: Path) -> None:
    doc = json.loads(JSON_DOC)
    doc["trades"][1]["notional"] = -1e6  # FXF-1: one bad field
    doc["trades"].insert(
        0,
        {
            **doc["trades"][0],
            "trade_id": "IRS-BAD",
            "notional": "lots",
            "maturity_date": "2035-13-01",
        },
    )  # two bad fields
    doc["trades"].append("not a record")  # not even a mapping
    doc["trades"].append({**doc["trades"][1], "trade_id": "", "notional": 5})  # no id
    result = load_portfolio(_write(tmp_path / "bad.json", json.dumps(doc)), asof=ASOF)
    assert result.portfolio.trades == (IRS, EQB)
    assert not result.ok
    errors = [(e.trade_id, e.field) for e in result.errors]
    assert errors == [
        ("IRS-BAD", "notional"),
        ("IRS-BAD", "maturity_date"),
        ("FXF-1", "notional"),
        ("<bad.json trade 5>", "record"),
        ("<bad.json trade 6>", "trade_id"),
    ]
    assert "is not a number" in result.errors[0].reason
    assert "malformed date" in result.errors[1].reason
    assert "must be positive" in result.errors[2].reason


def test_bad_csv_rows_are_labelled_by_row(tmp_path: Path) -> None:
    text = CSV_DOC.replace("IRS-1,", ",", 1).replace("10000000,,,,2026-05-29", "-1,,,,2026-05-29")
    result = load_portfolio(_write(tmp_path / "book.csv", text), asof=ASOF)
    assert result.portfolio.trades == (EQB,)
    assert [str(e).split(":")[0] for e in result.errors] == [
        "trade <book.csv row 2>",
        "trade FXF-1",
    ]


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("missing.json", None, "no such file"),
        ("broken.json", '{"trades": [', "not valid JSON"),
        ("broken.yaml", "trades: [a, b\n", "not valid YAML"),
        ("scalar.yaml", "just text\n", "expected a list of trades or a mapping"),
        ("notrades.json", '{"firm": "X"}', "expected a list of trades or a mapping"),
        ("books.json", '{"books": 5, "trades": []}', "'books' must be"),
        (
            "bookrow.yaml",
            "books: [{book: B}]\ntrades: []\n",
            "books[0] must have 'book' and 'desk'",
        ),
        ("extra.csv", "product,trade_id\nIRS,T1,surplus\n", "more cells than columns"),
        ("book.txt", "hello", "unsupported portfolio format"),
    ],
)
def test_unreadable_file_raises_with_path(
    tmp_path: Path, name: str, content: str | None, why: str
) -> None:
    path = tmp_path / name
    if content is not None:
        _write(path, content)
    with pytest.raises(InputFileError) as info:
        load_portfolio(path)
    assert str(path) in str(info.value)
    assert why in str(info.value)


def test_csv_directory_with_unknown_file_name(tmp_path: Path) -> None:
    _write(tmp_path / "swaps.csv", "trade_id\nT1\n")
    with pytest.raises(InputFileError, match=r"swaps\.csv") as info:
        load_portfolio(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_csv_directory_with_incomplete_books_file(tmp_path: Path) -> None:
    _write(tmp_path / "books.csv", "book,desk\nUSD-SWAPS,\n")
    with pytest.raises(InputFileError, match="needs 'book' and 'desk'") as info:
        load_portfolio(tmp_path)
    assert str(tmp_path / "books.csv") in str(info.value)


@pytest.mark.parametrize("name", ["binary.json", "binary.yaml", "binary.csv"])
def test_non_utf8_file_raises_input_file_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\xff\xfe\x00\x01 not text")
    with pytest.raises(InputFileError) as info:
        load_portfolio(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object:pricing.trades.FxForward {{trade_id: X}}",
    ],
)
def test_yaml_is_data_only(tmp_path: Path, tag: str) -> None:
    """A Python tag is refused by ``yaml.safe_load``, never constructed or executed."""
    marker = tmp_path / "executed"
    text = f"trades:\n  - {tag.format(marker=marker)}\n"
    with pytest.raises(InputFileError, match="not valid YAML") as info:
        load_portfolio(_write(tmp_path / "evil.yaml", text))
    assert str(tmp_path / "evil.yaml") in str(info.value)
    assert not marker.exists()


def test_errors_render_as_trade_field_reason() -> None:
    e = TradeError("T1", "notional", "must be positive, got -5.0")
    assert str(e) == "trade T1: notional: must be positive, got -5.0"
    assert e.to_dict() == {
        "trade_id": "T1",
        "field": "notional",
        "reason": "must be positive, got -5.0",
    }
