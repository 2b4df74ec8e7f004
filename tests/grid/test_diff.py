"""riskgrid diff: moved trades, status changes, one-sided trades, book totals, exit codes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from grid.cli import main
from grid.diff import diff_runs, moved
from risk import open_cube, write_cube

GOLDEN = Path(__file__).parents[1] / "golden" / "demo" / "cube.nc"


@pytest.fixture(scope="module")
def base() -> xr.Dataset:
    return open_cube(GOLDEN)


def test_moved_tolerance_rules() -> None:
    a = np.array([100.0, 100.0, np.nan, np.nan, 1e9])
    b = np.array([100.0 + 5e-7, 100.01, np.nan, 1.0, 1e9 + 50.0])
    assert moved(a, b, tol=1e-6, rel_tol=0.0).tolist() == [False, True, False, True, True]
    assert moved(a, b, tol=1e-6, rel_tol=1e-7).tolist() == [False, True, False, True, False]


def test_identical_runs(base: xr.Dataset) -> None:
    assert diff_runs(base, base.copy(deep=True)).identical


def test_every_kind_of_change_is_reported(base: xr.Dataset) -> None:
    books = base.book.values.astype(str)
    t_moved = str(base.trade.values[10])
    book = books[10]
    others = np.flatnonzero(books != book)  # the other changes sit in other books
    t_failed, dropped = str(base.trade.values[others[0]]), str(base.trade.values[others[-1]])
    b = base.copy(deep=True)
    b["pv"].loc[{"trade": t_moved}] = b["pv"].sel(trade=t_moved) + 1.0
    b["pv_reporting"].loc[{"trade": t_moved}] = b["pv_reporting"].sel(trade=t_moved) + 2.0
    b["error"].loc[{"trade": t_failed}] = "market: missing quote FX.EURUSD"
    b["pv"].loc[{"trade": t_failed}] = np.nan
    b["pv_reporting"].loc[{"trade": t_failed}] = np.nan
    b = b.drop_sel(trade=dropped)
    d = diff_runs(base, b, tol=1e-6)
    assert not d.identical
    assert [r["trade"] for r in d.moved] == [t_moved]
    assert d.moved[0]["pv_diff"] == pytest.approx(1.0, abs=1e-6)
    assert d.moved[0]["pv_reporting_diff"] == pytest.approx(2.0, abs=1e-6)
    assert [t for t, _, _ in d.status_changed] == [t_failed]
    assert d.only_a == [dropped]
    assert d.only_b == []
    book_diff = {r["book"]: r["diff"] for r in d.books}
    assert book_diff[book] == pytest.approx(2.0, abs=1e-6)


def test_cli_exit_codes_and_csv(
    base: xr.Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = base.copy(deep=True)
    t = str(b.trade.values[5])
    b["pv"].loc[{"trade": t}] = b["pv"].sel(trade=t) * 1.01 + 1.0
    write_cube(b, tmp_path / "b.nc")
    out = tmp_path / "moved.csv"
    assert main(["diff", str(GOLDEN), str(tmp_path / "b.nc"), "--out", str(out)]) == 1
    text = capsys.readouterr().out
    assert t in text
    assert "runs differ" in text
    assert t in out.read_text()
    assert main(["diff", str(GOLDEN), str(tmp_path / "b.nc"), "--tol", "1e12"]) == 0
    assert main(["diff", str(GOLDEN), str(tmp_path / "missing.nc")]) == 2
    assert "cannot read run" in capsys.readouterr().err
