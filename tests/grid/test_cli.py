"""The ``riskgrid`` command line: ``demo`` and ``price``, exit codes, error reporting.

Most tests call ``main([...])`` in-process; one runs the installed ``riskgrid`` script in a real
subprocess. The full 3,000-trade demo portfolio is priced once for the module.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from grid import cli, report
from pricing.demo import DEMO_ASOF, demo_market, demo_portfolio
from pricing.errors import TradeError
from pricing.market import load_snapshot
from pricing.pricer import RESULT_COLUMNS, PricingResults, TradeResult
from pricing.trades import Portfolio, load_portfolio

BAD_IDS = [
    "BAD-UNKNOWN-PRODUCT",
    "BAD-MISSING-FIELD",
    "BAD-NEGATIVE-NOTIONAL",
    "BAD-MATURED",
    "BAD-MALFORMED-DATE",
    "BAD-UNKNOWN-CURRENCY",
    "BAD-UNKNOWN-INDEX",
    "BAD-UNKNOWN-UNDERLYING",
    "BAD-BARRIER-BREACHED",
]
GOOD_IDS = ["OK-IRS-1", "OK-OIS-1", "OK-FXF-1", "OK-EQO-1", "OK-BOND-1"]
EURUSD = 1.16  # demo market spot, pricing/demo/market.py
# Units of USD per unit of each currency at the demo market's quoted spots.
USD_PER = {"USD": 1.0, "EUR": EURUSD, "JPY": 1 / 156.20, "CHF": 1 / 0.8040}


def run(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` with stdout and stderr captured (usable in module-scoped fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``riskgrid demo --out DIR`` (default 3,000 trades), and what it printed."""
    d = tmp_path_factory.mktemp("demo")
    code, out, err = run(["demo", "--out", str(d)])
    assert (code, err) == (0, "")
    return d, out


@pytest.fixture(scope="module")
def priced_demo(demo_dir: tuple[Path, str]) -> tuple[int, str, Path]:
    """``riskgrid price`` of the whole demo portfolio, once: (exit code, stdout, results.csv)."""
    d, _ = demo_dir
    out_file = d / "results.csv"
    code, out, err = run(
        [
            "price",
            "--portfolio",
            str(d / "portfolio.json"),
            "--market",
            str(d / "market.yaml"),
            "--out",
            str(out_file),
        ]
    )
    assert err == ""
    return code, out, out_file


# -- demo ------------------------------------------------------------------------------------------
def test_demo_writes_three_files(demo_dir: tuple[Path, str]) -> None:
    d, out = demo_dir
    for name in ("portfolio.json", "bad_trades.yaml", "market.yaml"):
        assert (d / name).is_file()
        assert str(d / name) in out  # each path is printed
    loaded = load_portfolio(d / "portfolio.json")
    assert loaded.errors == ()
    assert loaded.portfolio.content_hash() == demo_portfolio().content_hash()
    assert load_snapshot(d / "market.yaml") == demo_market()
    bad = load_portfolio(d / "bad_trades.yaml", asof=DEMO_ASOF)
    assert {t.trade_id for t in bad.portfolio} == {*GOOD_IDS, "BAD-BARRIER-BREACHED"}
    assert bad.portfolio.firm == "Demo Bank"


def test_demo_size_and_seed(tmp_path: Path) -> None:
    code, _, _ = run(["demo", "--out", str(tmp_path), "--trades", "40", "--seed", "7"])
    assert code == 0
    loaded = load_portfolio(tmp_path / "portfolio.json").portfolio
    assert loaded.content_hash() == demo_portfolio(40, seed=7).content_hash()


@pytest.mark.parametrize("args", [["--trades", "0"], ["--trades", "many"], ["--seed", "-1"]])
def test_demo_bad_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert cli.main(["demo", "--out", str(tmp_path), *args]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert args[0] in err
    assert "Traceback" not in err


def test_demo_unwritable_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert cli.main(["demo", "--out", str(blocker / "sub")]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"riskgrid: error: cannot write demo files to {blocker / 'sub'}")
    assert "Traceback" not in err


# -- price: the demo portfolio ------------------------------------------------------------------
def test_price_demo_every_trade_valued(priced_demo: tuple[int, str, Path]) -> None:
    code, out, _ = priced_demo
    assert code == cli.EXIT_OK
    assert "trade error" not in out
    assert "3,000 valued, 0 failed in" in out
    firm_row = next(line for line in out.splitlines() if "(firm total)" in line).split()
    assert firm_row[:6] == ["Demo", "Bank", "(firm", "total)", "3,000", "3,000"]
    assert firm_row[6] == "0"


def test_price_demo_results_file(priced_demo: tuple[int, str, Path]) -> None:
    _, out, path = priced_demo
    columns, rows = read_csv(path)
    assert columns[: len(RESULT_COLUMNS)] == list(RESULT_COLUMNS)
    assert all(c.startswith("greek_") for c in columns[len(RESULT_COLUMNS) :])
    portfolio = demo_portfolio()
    assert [r["trade_id"] for r in rows] == [t.trade_id for t in portfolio]
    for r, t in zip(rows, portfolio, strict=True):
        assert (r["book"], r["product"], r["currency"], r["error"]) == (
            t.book,
            t.product,
            t.currency,
            "",
        )
        pv = float(r["pv"])
        assert math.isfinite(pv)
        # Reporting currency USD at the demo spots (FX trades' PVs are in the quote currency).
        expected = pv * USD_PER[t.currency]
        assert float(r["pv_reporting"]) == pytest.approx(expected, rel=1e-12, abs=1e-9)
    # The printed firm total is the sum of the file's reporting-currency PVs (to the cent).
    total = sum(float(r["pv_reporting"]) for r in rows)
    printed = next(line for line in out.splitlines() if "(firm total)" in line).split()[-1]
    assert float(printed.replace(",", "")) == pytest.approx(total, abs=0.006)


def test_price_demo_desk_totals_add_up(priced_demo: tuple[int, str, Path]) -> None:
    _, out, path = priced_demo
    _, rows = read_csv(path)
    portfolio = demo_portfolio()
    for desk in ("RATES", "FX", "EQD"):
        line = next(x for x in out.splitlines() if x.startswith(desk) and "(desk total)" in x)
        n, pv = line.split()[3], line.split()[-1]
        mine = [r for r in rows if portfolio.desk_of(r["book"]) == desk]
        assert int(n.replace(",", "")) == len(mine)
        assert float(pv.replace(",", "")) == pytest.approx(
            sum(float(r["pv_reporting"]) for r in mine), abs=0.006
        )


# -- price: bad trades -----------------------------------------------------------------------------
def price_bad(demo_dir: tuple[Path, str], out_file: Path, *extra: str) -> tuple[int, str, str]:
    d, _ = demo_dir
    return run(
        [
            "price",
            "--portfolio",
            str(d / "bad_trades.yaml"),
            "--market",
            str(d / "market.yaml"),
            "--out",
            str(out_file),
            *extra,
        ]
    )


def test_price_bad_trades(demo_dir: tuple[Path, str], tmp_path: Path) -> None:
    code, out, err = price_bad(demo_dir, tmp_path / "bad.csv")
    assert code == cli.EXIT_TRADES_FAILED
    assert err == ""
    for tid in BAD_IDS:
        assert f"trade {tid}: " in out
    assert "trade OK-FXF-1: trade_id: duplicate trade id" in out
    assert "trade BAD-BARRIER-BREACHED: pricing: " in out  # fails at pricing, not at load
    assert "5 valued, 10 failed in" in out
    _, rows = read_csv(tmp_path / "bad.csv")
    assert len(rows) == 15  # one row per record, whether valued, failed or not loaded
    failed = {r["trade_id"]: r for r in rows if r["error"]}
    assert sorted(failed) == sorted([*BAD_IDS, "OK-FXF-1"])
    for tid in BAD_IDS:
        assert math.isnan(float(failed[tid]["pv"]))
    assert failed["BAD-UNKNOWN-INDEX"]["error"].startswith("index: unknown index 'USD-LIBOR-3M'")
    assert failed["BAD-BARRIER-BREACHED"]["product"] == "EQ_BARRIER"
    assert failed["BAD-BARRIER-BREACHED"]["error"].startswith("pricing: ")
    valued = [r for r in rows if not r["error"]]
    assert sorted(r["trade_id"] for r in valued) == sorted(GOOD_IDS)
    assert all(math.isfinite(float(r["pv"])) for r in valued)


def test_price_bad_trades_json_and_reporting_ccy(
    demo_dir: tuple[Path, str], tmp_path: Path
) -> None:
    code, out, _ = price_bad(demo_dir, tmp_path / "bad.json", "--reporting-ccy", "eur")
    assert code == cli.EXIT_TRADES_FAILED
    assert "PV (EUR)" in out
    doc = json.loads((tmp_path / "bad.json").read_text())
    assert doc["reporting_currency"] == "EUR"
    by_id: dict[str, list[dict[str, Any]]] = {}
    for r in doc["results"]:
        by_id.setdefault(r["trade_id"], []).append(r)
    assert by_id["BAD-MATURED"][0]["pv"] is None  # NaN is written as null
    (irs,) = by_id["OK-IRS-1"]
    (ois,) = by_id["OK-OIS-1"]
    assert irs["pv_reporting"] == pytest.approx(irs["pv"] / EURUSD, rel=1e-12, abs=1e-9)
    assert ois["pv_reporting"] == pytest.approx(ois["pv"], rel=1e-15)  # EUR trade, EUR report


def test_price_without_out_writes_nothing(demo_dir: tuple[Path, str]) -> None:
    d, _ = demo_dir
    before = set(d.iterdir())
    code, out, _ = run(
        ["price", "--portfolio", str(d / "bad_trades.yaml"), "--market", str(d / "market.yaml")]
    )
    assert code == cli.EXIT_TRADES_FAILED
    assert "results written" not in out
    assert set(d.iterdir()) == before


# -- price: user errors (exit 2) and internal errors (exit 4) ------------------------------------
def test_missing_market_file(
    demo_dir: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d, _ = demo_dir
    missing = tmp_path / "nowhere" / "market.yaml"
    code = cli.main(["price", "--portfolio", str(d / "bad_trades.yaml"), "--market", str(missing)])
    captured = capsys.readouterr()
    assert code == cli.EXIT_USAGE
    assert captured.err == f"riskgrid: error: cannot read market file: {missing}: no such file\n"
    assert "Traceback" not in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("missing.json", None, "no such file"),
        ("broken.json", "{", "not valid JSON"),
        ("binary.json", b"\xff\xfe\x00", "not UTF-8 text"),
        ("book.txt", "x", "unsupported portfolio format"),
    ],
)
def test_unreadable_portfolio(
    demo_dir: tuple[Path, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str | bytes | None,
    why: str,
) -> None:
    d, _ = demo_dir
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    code = cli.main(["price", "--portfolio", str(path), "--market", str(d / "market.yaml")])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert err.startswith("riskgrid: error: cannot read portfolio file")
    assert str(path) in err
    assert why in err
    assert err.count("\n") == 1  # one line
    assert "Traceback" not in err


def test_non_utf8_market_file(
    demo_dir: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d, _ = demo_dir
    market = tmp_path / "market.yaml"
    market.write_bytes(b"\xff\xfe\x00 binary")
    code = cli.main(["price", "--portfolio", str(d / "bad_trades.yaml"), "--market", str(market)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert err.startswith("riskgrid: error: cannot read market file")
    assert f"{market}: not UTF-8 text" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "results.xlsx"], "--out results.xlsx: results are written as .csv or .json"),
        (["--reporting-ccy", "XYZ"], "--reporting-ccy XYZ: unknown currency"),
    ],
)
def test_bad_price_options(
    demo_dir: tuple[Path, str], capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    d, _ = demo_dir
    code = cli.main(
        [
            "price",
            "--portfolio",
            str(d / "bad_trades.yaml"),
            "--market",
            str(d / "market.yaml"),
            *args,
        ]
    )
    assert code == cli.EXIT_USAGE
    assert message in capsys.readouterr().err


def test_missing_required_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["price", "--portfolio", "p.json"]) == cli.EXIT_USAGE
    assert "--market" in capsys.readouterr().err
    assert cli.main([]) == cli.EXIT_USAGE
    assert cli.main(["frobnicate"]) == cli.EXIT_USAGE


def test_internal_error_exit_4(
    demo_dir: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(cli, "price", broken)
    d, _ = demo_dir
    argv = ["price", "--portfolio", str(d / "bad_trades.yaml"), "--market", str(d / "market.yaml")]
    assert cli.main(argv) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "riskgrid: internal error: ZeroDivisionError: boom" in err
    assert "--traceback" in err  # the hint
    assert "Traceback (most recent call last)" not in err
    assert cli.main([*argv, "--traceback"]) == cli.EXIT_INTERNAL
    assert "Traceback (most recent call last)" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--help"], ["price", "--help"], ["demo", "--help"]])
def test_help(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: riskgrid")
    for code in range(5):  # every exit code is documented
        assert f"\n  {code}  " in out


def test_exit_codes_documented_in_module_docstring() -> None:
    doc = cli.__doc__ or ""
    for line in [
        "0  every trade valued",
        "1  some trades failed",
        "2  bad command line",
        "3  the cluster was lost or chunks failed",
        "4  unexpected internal error",
    ]:
        assert line in doc


# -- the installed script ------------------------------------------------------------------------
def test_installed_script_subprocess(demo_dir: tuple[Path, str], tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "riskgrid"
    d, _ = demo_dir
    proc = subprocess.run(
        [
            str(script),
            "price",
            "--portfolio",
            str(d / "bad_trades.yaml"),
            "--market",
            str(d / "market.yaml"),
            "--out",
            str(tmp_path / "bad.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == cli.EXIT_TRADES_FAILED, proc.stderr
    assert proc.stderr == ""
    for tid in BAD_IDS:
        assert f"trade {tid}: " in proc.stdout
    assert (tmp_path / "bad.csv").is_file()


# -- report helpers ------------------------------------------------------------------------------
def test_load_failures_group_errors_by_record() -> None:
    errors = [
        TradeError("A", "notional", "bad"),
        TradeError("A", "pair", "worse"),
        TradeError("B", "product", "unknown"),
        TradeError("A", "trade_id", "duplicate"),
    ]
    rows = report.load_failures(errors)
    assert [(r.trade_id, r.error) for r in rows] == [
        ("A", TradeError("A", "notional,pair", "bad; worse")),
        ("B", errors[2]),
        ("A", errors[3]),  # a later record with the same id is a row of its own
    ]
    assert all(math.isnan(r.pv) and math.isnan(r.pv_reporting) for r in rows)


def test_summary_table_totals() -> None:
    def res(tid: str, book: str, pv: float) -> TradeResult:
        err = TradeError(tid, "pricing", "x") if math.isnan(pv) else None
        return TradeResult(tid, book, "IRS", "USD", pv, pv, error=err)

    results = PricingResults(
        (res("1", "B1", 1.5), res("2", "B2", -4.0), res("3", "B1", math.nan), res("4", "B3", 10.0)),
        "USD",
        "h",
    )
    p = Portfolio((), {"B1": "D1", "B2": "D1", "B3": "D2"}, firm="F")
    lines = report.summary_table(results, p, not_loaded=2).splitlines()
    assert [line.split() for line in lines] == [
        ["DESK", "BOOK", "TRADES", "VALUED", "FAILED", "PV", "(USD)"],
        ["D1", "B1", "2", "1", "1", "1.50"],
        ["D1", "B2", "1", "1", "0", "-4.00"],
        ["D1", "(desk", "total)", "3", "2", "1", "-2.50"],
        ["D2", "B3", "1", "1", "0", "10.00"],
        ["D2", "(desk", "total)", "1", "1", "0", "10.00"],
        ["-", "(not", "loaded)", "2", "0", "2"],
        ["F", "(firm", "total)", "6", "3", "3", "7.50"],
    ]
