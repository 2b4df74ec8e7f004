"""MarketSnapshot: immutability, content hash, shocks, file round trips, clear errors."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import pytest

from pricing.errors import InputFileError
from pricing.market import MarketSnapshot, Shock, load_snapshot
from pricing.quotes import parse_quote_id
from tests.factories import ASOF

QUOTES = {
    "IR.USD.SOFR.OIS.1Y": 0.035,
    "IR.USD.SOFR.OIS.10Y": 0.037,
    "IR.CHF.SARON.DF.10Y": 0.97,
    "FX.EURUSD": 1.16,
    "EQ.SPX.SPOT": 6850.0,
    "EQ.SPX.DIV": 0.013,
    "VOL.EQ.SPX.1Y.100": 0.17,
    "VOL.SWPT.USD.5Y10Y": 0.0095,
}


def snap() -> MarketSnapshot:
    return MarketSnapshot(ASOF, QUOTES, {"USD-SOFR": {"2025-11-26": 0.0391}}, name="t")


@pytest.mark.parametrize(
    "qid",
    [
        "IR.USD.SOFR.OIS.5Y",
        "IR.EUR.EURIBOR6M.FRA.6X12",
        "IR.EUR.EURIBOR6M.DEP.6M",
        "IR.JPY.TONA.FLAT",
        "IR.GBP.SONIA.ZERO.30Y",
        "FX.EURUSD",
        "FX.EURUSD.FWD.1Y",
        "EQ.SPX.SPOT",
        "EQ.SPX.DIV",
        "VOL.EQ.SPX.1Y.100",
        "VOL.FX.EURUSD.1M.ATM",
        "VOL.SWPT.USD.5Y10Y",
        "VOL.CAP.EUR.10Y",
        "VOL.EQ.SX5E.FLAT",
        "VOLSHIFT.SWPT.EUR",
        "CREDIT.ACME_CORP.ZSPREAD",
    ],
)
def test_valid_quote_ids_parse(qid: str) -> None:
    assert parse_quote_id(qid).cls == qid.split(".")[0]


@pytest.mark.parametrize(
    ("qid", "why"),
    [
        ("IR.USD.SOFR.OIS", "expected IR"),
        ("IR.USD.SOFR.BOND.5Y", "unknown rate quote type"),
        ("IR.EUR.EURIBOR6M.FRA.12X6", "A < B"),
        ("IR.USD.SOFR.OIS.5X", "malformed tenor"),
        ("FX.EURUS", "six-letter pair"),
        ("EQ.SPX.PRICE", "EQ.<UNDERLYING>.SPOT"),
        ("VOL.EQ.SPX.1Y.ATM", "percentage of spot"),
        ("VOL.SWPT.USD.5Y", "expected VOL"),
        ("RATES.USD", "unknown factor class"),
    ],
)
def test_malformed_quote_ids_say_why(qid: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_quote_id(qid)


def test_snapshot_refuses_bad_quotes_listing_all() -> None:
    with pytest.raises(ValueError, match=r"(?s)BAD\.ID.*FX\.EURUSD.*not a number"):
        MarketSnapshot(ASOF, {"BAD.ID": 1.0, "FX.EURUSD": "abc"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="not finite"):
        MarketSnapshot(ASOF, {"FX.EURUSD": math.inf})


def test_hash_depends_on_content_not_name_or_order() -> None:
    a = snap()
    b = MarketSnapshot(
        ASOF,
        dict(reversed(list(QUOTES.items()))),
        {"USD-SOFR": {"2025-11-26": 0.0391}},
        name="other",
    )
    assert a.content_hash == b.content_hash
    assert a == b
    c = a.with_quotes({"FX.EURUSD": 1.1601})
    assert c.content_hash != a.content_hash
    d = MarketSnapshot(ASOF, QUOTES, {"USD-SOFR": {"2025-11-26": 0.0392}})
    assert d.content_hash != a.content_hash  # fixings are content


def test_snapshot_is_immutable() -> None:
    s = snap()
    with pytest.raises(TypeError):
        s.quotes["FX.EURUSD"] = 2.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        s.asof = ASOF  # type: ignore[misc]


def test_apply_shocks_returns_new_snapshot() -> None:
    s = snap()
    t = s.apply(
        [
            Shock("IR.USD.*", "ABSOLUTE", 0.0025),
            Shock("EQ.SPX.SPOT", "RELATIVE", -0.10),
            Shock("VOL.*", "MULTIPLY", 1.2),
        ]
    )
    assert s["EQ.SPX.SPOT"] == 6850.0  # unchanged
    assert t["IR.USD.SOFR.OIS.1Y"] == pytest.approx(0.0375, abs=1e-15)
    assert t["EQ.SPX.SPOT"] == pytest.approx(6165.0, rel=1e-15)
    assert t["EQ.SPX.DIV"] == 0.013  # not matched by EQ.SPX.SPOT
    assert t["VOL.EQ.SPX.1Y.100"] == pytest.approx(0.204, rel=1e-15)
    assert t["VOL.SWPT.USD.5Y10Y"] == pytest.approx(0.0114, rel=1e-15)
    assert t["FX.EURUSD"] == 1.16
    # an absolute rate shift moves a discount-factor pillar by its zero rate: DF*exp(-s*t)
    u = s.apply([Shock("IR.CHF.*", "ABSOLUTE", 0.01)])
    t10 = (ASOF.replace(year=ASOF.year + 10) - ASOF).days / 365.0
    assert u["IR.CHF.SARON.DF.10Y"] == pytest.approx(0.97 * math.exp(-0.01 * t10), rel=1e-15)


def test_shock_matching_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="matches no quote"):
        snap().apply([Shock("IR.GBP.*", "ABSOLUTE", 0.0001)])
    assert snap().apply([Shock("IR.GBP.*", "ABSOLUTE", 1e-4)], strict=False) == snap()


@pytest.mark.parametrize(
    ("shift", "value"),
    [("ABSOLUTE", math.nan), ("RELATIVE", -1.0), ("MULTIPLY", -0.5), ("PARALLEL", 1.0)],
)
def test_bad_shocks_are_refused(shift: str, value: float) -> None:
    with pytest.raises(ValueError, match="shock"):
        Shock("IR.*", shift, value)  # type: ignore[arg-type]


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".csv"])
def test_file_round_trip(tmp_path: Path, suffix: str) -> None:
    s = snap()
    back = load_snapshot(s.save(tmp_path / f"m{suffix}"))
    assert back.content_hash == s.content_hash
    assert back.asof == s.asof
    assert back.name == s.name
    assert dict(back.quotes) == dict(s.quotes)


def test_pickle_round_trip() -> None:
    s = snap()
    assert pickle.loads(pickle.dumps(s))  # noqa: S301 - our own object.content_hash == s.content_hash


def test_demo_snapshot_round_trips(tmp_path: Path, demo_snapshot: MarketSnapshot) -> None:
    assert load_snapshot(demo_snapshot.save(tmp_path / "demo.yaml")) == demo_snapshot


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        ("m.yaml", "asof: 2025-11-28\nquotes: [1, 2]\n", "must be mappings"),
        ("m.yaml", "quotes: {FX.EURUSD: 1.1}\n", "missing 'asof'"),
        ("m.yaml", "asof: 2025-13-01\nquotes: {FX.EURUSD: 1.1}\n", "malformed date"),
        ("m.yaml", "asof: [\n", "not valid YAML"),
        ("m.json", "{", "not valid JSON"),
        ("m.csv", "x,y\n", "header 'id,value'"),
        ("m.txt", "", "unsupported snapshot format"),
        ("m.yaml", "!!python/object/apply:os.system ['echo hacked']\n", "not valid YAML"),
    ],
)
def test_bad_files_name_path_and_reason(tmp_path: Path, name: str, text: str, why: str) -> None:
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(InputFileError, match=why) as info:
        load_snapshot(p)
    assert str(p) in str(info.value)


def test_missing_file() -> None:
    with pytest.raises(InputFileError, match="no such file"):
        load_snapshot("/nonexistent/market.yaml")
