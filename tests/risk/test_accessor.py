"""The ``.risk`` accessor: aggregation invariants (trades -> books -> desks -> firm), counts,
selection, drill-down and tables.

Expected numbers are recomputed here from the raw inputs with ``math.fsum`` (correctly rounded
sums). On the dyadic data of :mod:`tests.risk.cube_data` every float64 sum is exact whatever the
order, so the invariants hold with ``==``; on general floats the bound is Higham's for recursive
summation, |error| <= (n - 1) * eps * sum |x_i| (Accuracy and Stability of Numerical
Algorithms, 2nd ed., 2002, eq. 4.4).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import risk
from risk.cube import LEVELS, TRADE_COORDS
from tests.risk.cube_data import BOOKS, DYADIC, RawCube, random_raw

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(scope="module")
def raw() -> RawCube:
    return random_raw()


@pytest.fixture(scope="module")
def cube(raw: RawCube) -> xr.Dataset:
    return raw.build()


def expected_sums(raw: RawCube, level: str) -> dict[str, float]:
    """fsum of pv_reporting over the valued trades of each group, from the raw inputs."""
    labels = ["FIRM"] * raw.n if level == "firm" else raw.attributes[level]
    groups: dict[str, list[float]] = {}
    for label, value, ok in zip(labels, raw.pv_reporting, raw.valued, strict=True):
        groups.setdefault(label, [])
        if ok:
            groups[label].append(float(value))
    return {k: math.fsum(v) for k, v in groups.items()}


def as_dict(agg: xr.Dataset, level: str, var: str = "pv_reporting") -> dict[str, float]:
    return dict(zip(agg[level].values, agg[var].values.tolist(), strict=True))


def test_data_is_dyadic_and_has_failures(raw: RawCube) -> None:
    # Preconditions of the exact invariants below.
    ok = raw.pv_reporting[raw.valued]
    assert np.all(ok / DYADIC == np.round(ok / DYADIC))
    assert np.all(np.abs(ok) < 2.0**30)
    assert 0 < (~raw.valued).sum() < raw.n
    assert np.isnan(raw.pv_reporting[~raw.valued]).all()


@pytest.mark.parametrize("level", LEVELS)
def test_group_sums_equal_sums_of_their_trades(raw: RawCube, cube: xr.Dataset, level: str) -> None:
    agg = cube.risk.by(level)
    assert agg["pv_reporting"].dims == (level,)
    assert as_dict(agg, level) == expected_sums(raw, level)
    assert list(agg[level].values) == sorted(agg[level].values)


def test_books_sum_to_desks_and_desks_to_the_firm(cube: xr.Dataset) -> None:
    books, desks, firm = cube.risk.by("book"), cube.risk.by("desk"), cube.risk.by("firm")
    for desk in desks["desk"].values:
        of_desk = books["pv_reporting"].values[books["desk"].values == desk]
        assert math.fsum(of_desk) == desks["pv_reporting"].sel(desk=desk).item()
    assert math.fsum(desks["pv_reporting"].values) == firm["pv_reporting"].item()
    for var in ("n_trades", "n_failed"):
        assert books[var].sum().item() == desks[var].sum().item() == firm[var].item()


def test_every_level_sums_to_the_firm(cube: xr.Dataset) -> None:
    firm = cube.risk.by("firm")["pv_reporting"].item()
    for level in TRADE_COORDS:
        assert math.fsum(cube.risk.by(level)["pv_reporting"].values) == firm, level


def test_general_floats_within_the_summation_bound() -> None:
    raw = random_raw(seed=7, n=300, dyadic=False)
    agg = raw.build().risk.by("book")
    got = as_dict(agg, "book")
    expected = expected_sums(raw, "book")
    assert got.keys() == expected.keys()
    for book, value in got.items():
        terms = raw.pv_reporting[raw.valued & (raw.column("book") == book)]
        bound = (len(terms) - 1) * np.finfo(float).eps * np.abs(terms).sum()
        assert abs(value - expected[book]) <= bound, book


@pytest.mark.parametrize("level", LEVELS)
def test_group_counts(raw: RawCube, cube: xr.Dataset, level: str) -> None:
    agg = cube.risk.by(level)
    labels = ["FIRM"] * raw.n if level == "firm" else raw.attributes[level]
    trades = Counter(labels)
    failed = Counter(lab for lab, ok in zip(labels, raw.valued, strict=True) if not ok)
    assert as_dict(agg, level, "n_trades") == dict(trades)
    assert as_dict(agg, level, "n_failed") == {k: failed.get(k, 0) for k in trades}
    assert agg["n_trades"].dtype == agg["n_failed"].dtype == np.int64


def test_books_carry_their_desk(cube: xr.Dataset) -> None:
    agg = cube.risk.by("book")
    assert dict(zip(agg["book"].values, agg["desk"].values, strict=True)) == {
        b: BOOKS[b] for b in agg["book"].values
    }


def test_failed_trades_never_turn_a_sum_to_nan() -> None:
    raw = random_raw(seed=3, n=40, failed_fraction=0.0)
    failing = [i for i, b in enumerate(raw.attributes["book"]) if b == "FX-OPT"]
    for i in failing:  # every FX-OPT trade fails
        raw.error[i] = "pricing: boom"
        raw.pv[i] = raw.pv_reporting[i] = np.nan
    agg = raw.build().risk.by("book")
    assert agg["pv_reporting"].sel(book="FX-OPT").item() == 0.0
    assert agg["n_failed"].sel(book="FX-OPT").item() == len(failing) > 0
    assert np.isfinite(agg["pv_reporting"].values).all()
    # a failed trade with a (stale) finite PV is still left out
    raw2 = random_raw(seed=3, n=40, failed_fraction=0.0)
    raw2.error[0] = "pricing: boom"
    book0 = raw2.attributes["book"][0]
    expected = expected_sums(raw2, "book")[book0]
    assert raw2.build().risk.by("book")["pv_reporting"].sel(book=book0).item() == expected


def test_nan_on_a_valued_trade_shows(cube: xr.Dataset) -> None:
    # Not skipped silently: the group is NaN (and validate_cube names the trade).
    i = int(np.flatnonzero(cube["error"].values == "")[0])
    pv = cube["pv_reporting"].values.copy()
    pv[i] = np.nan
    agg = cube.assign(pv_reporting=("trade", pv)).risk.by("book")
    book = cube["book"].values[i]
    assert np.isnan(agg["pv_reporting"].sel(book=book).item())
    assert np.isfinite(agg["pv_reporting"].drop_sel(book=book).values).all()


def test_scenario_vectors_sum_over_trades_and_keep_scenario(raw: RawCube) -> None:
    # A later (trade, scenario) P&L variable in the reporting currency aggregates like pv.
    rng = np.random.default_rng(11)
    pnl = rng.integers(-(2**30), 2**30, (raw.n, 5)).astype(float) * DYADIC
    cube = raw.build().assign(pnl_reporting=(("trade", "scenario"), pnl))
    agg = cube.risk.by("desk")
    assert agg["pnl_reporting"].dims == ("desk", "scenario")
    assert "pv" not in agg  # trade currency: not additive
    assert "model_greeks" not in agg
    desks = raw.column("desk")
    for desk in agg["desk"].values:
        rows = pnl[raw.valued & (desks == desk)]
        for s in range(5):
            assert agg["pnl_reporting"].sel(desk=desk).values[s] == math.fsum(rows[:, s])
    firm = cube.risk.by("firm")["pnl_reporting"]
    assert firm.dims == ("firm", "scenario")
    for s in range(5):
        assert firm.values[0, s] == math.fsum(agg["pnl_reporting"].values[:, s])


def test_firm_label_and_attrs(cube: xr.Dataset) -> None:
    assert list(cube.risk.by("firm")["firm"].values) == ["FIRM"]
    named = cube.assign_attrs(firm="Demo Bank").risk.by("firm")
    assert list(named["firm"].values) == ["Demo Bank"]
    assert cube.risk.by("book").attrs == cube.attrs


def test_unknown_level(cube: xr.Dataset) -> None:
    with pytest.raises(ValueError, match="unknown level 'trader'; levels are firm, book"):
        cube.risk.by("trader")


def test_summary_by_book(raw: RawCube, cube: xr.Dataset) -> None:
    df = cube.risk.summary()
    assert list(df.columns) == ["desk", "book", "trades", "valued", "failed", "pv_reporting"]
    keys = list(zip(df["desk"], df["book"], strict=True))
    assert keys == sorted((BOOKS[b], b) for b in set(raw.attributes["book"]))
    sums = expected_sums(raw, "book")
    counts = Counter(raw.attributes["book"])
    for row in df.itertuples():
        assert row.trades == counts[row.book]
        assert row.valued + row.failed == row.trades
        assert row.valued == sum(
            ok for b, ok in zip(raw.attributes["book"], raw.valued, strict=True) if b == row.book
        )
        assert row.pv_reporting == sums[row.book]


def test_summary_by_other_levels(raw: RawCube, cube: xr.Dataset) -> None:
    df = cube.risk.summary("currency")
    assert list(df.columns) == ["currency", "trades", "valued", "failed", "pv_reporting"]
    assert dict(zip(df["currency"], df["pv_reporting"], strict=True)) == expected_sums(
        raw, "currency"
    )


@pytest.mark.parametrize(
    "filters",
    [
        {"book": "FX-OPT"},
        {"book": ["FX-OPT", "EQ-€XOTIC ✓"]},
        {"desk": "RATES", "product": ["IRS", "OIS"]},
        {"currency": "JPY", "counterparty": "Bank Ü"},
        {"desk": "FX", "product": "IRS", "currency": ["USD", "EUR"]},
    ],
)
def test_select(raw: RawCube, cube: xr.Dataset, filters: dict[str, str | list[str]]) -> None:
    sub = cube.risk.select(**filters)
    keep = np.ones(raw.n, dtype=bool)
    for name, want in filters.items():
        wanted = {want} if isinstance(want, str) else set(want)
        keep &= np.array([v in wanted for v in raw.attributes[name]])
    assert keep.any()
    assert list(sub["trade"].values) == [
        t for t, k in zip(raw.attributes["trade_id"], keep, strict=True) if k
    ]
    assert sub["pv"].values.tobytes() == raw.pv[keep].tobytes()
    assert sub.attrs == cube.attrs
    risk.validate_cube(sub)


def test_select_nothing_matches(cube: xr.Dataset) -> None:
    empty = cube.risk.select(book="NO-SUCH-BOOK")
    assert empty.sizes["trade"] == 0
    # an empty cube aggregates to no groups, and to zero at the firm
    assert empty.risk.by("book").sizes["book"] == 0
    firm = empty.risk.by("firm")
    assert (firm["pv_reporting"].item(), firm["n_trades"].item()) == (0.0, 0)
    assert empty.risk.summary().empty
    assert list(empty.risk.summary().columns) == list(cube.risk.summary().columns)


def test_book(raw: RawCube, cube: xr.Dataset) -> None:
    sub = cube.risk.book("SWPT")
    assert set(sub["book"].values) == {"SWPT"}
    assert sub.sizes["trade"] == raw.attributes["book"].count("SWPT")
    assert sub.risk.by("firm")["pv_reporting"].item() == expected_sums(raw, "book")["SWPT"]
    with pytest.raises(KeyError, match="unknown book\\(s\\) NOPE, ZILCH; cube has EQ-VOL"):
        cube.risk.book(["SWPT", "NOPE", "ZILCH"])


def test_drill(raw: RawCube, cube: xr.Dataset) -> None:
    desks = cube.risk.drill()
    assert list(desks.columns) == ["desk", "trades", "valued", "failed", "pv_reporting"]
    assert list(desks["desk"]) == ["EQUITY", "FX", "RATES"]
    books = cube.risk.drill(desk="FX")
    assert list(books["book"]) == ["FX-FWD", "FX-OPT"]
    assert set(books["desk"]) == {"FX"}
    assert math.fsum(books["pv_reporting"]) == desks.set_index("desk").loc["FX", "pv_reporting"]
    trades = cube.risk.drill(desk="FX", book="FX-OPT")
    assert list(trades.index) == [
        t
        for t, b in zip(raw.attributes["trade_id"], raw.attributes["book"], strict=True)
        if b == "FX-OPT"
    ]
    assert trades.equals(cube.risk.drill(book="FX-OPT"))
    with pytest.raises(KeyError, match="unknown desk CREDIT; cube has EQUITY, FX, RATES"):
        cube.risk.drill(desk="CREDIT")
    with pytest.raises(KeyError, match="book FX-OPT is not on desk RATES"):
        cube.risk.drill(desk="RATES", book="FX-OPT")
    with pytest.raises(KeyError, match="unknown book\\(s\\) NOPE"):
        cube.risk.drill(book="NOPE")


def test_errors(raw: RawCube, cube: xr.Dataset) -> None:
    df = cube.risk.errors()
    assert list(df.columns) == ["book", "product", "error"]
    assert df.index.name == "trade"
    expected = {
        t: (b, p, e)
        for t, b, p, e in zip(
            raw.attributes["trade_id"],
            raw.attributes["book"],
            raw.attributes["product"],
            raw.error,
            strict=True,
        )
        if e
    }
    assert {t: tuple(r) for t, r in df.iterrows()} == expected


def test_to_dataframe(raw: RawCube, cube: xr.Dataset) -> None:
    df = cube.risk.to_dataframe()
    assert list(df.index) == raw.attributes["trade_id"]
    assert list(df.columns) == [
        *TRADE_COORDS,
        "pv",
        "pv_reporting",
        "error",
        *(f"greek_{g}" for g in risk.GREEKS),
    ]
    for name in TRADE_COORDS:
        assert list(df[name]) == raw.attributes[name]
    assert list(df["error"]) == raw.error
    np.testing.assert_array_equal(df["pv"].to_numpy(), raw.pv)
    np.testing.assert_array_equal(df["greek_vega"].to_numpy(), raw.model_greeks[:, 2])
    assert isinstance(df, pd.DataFrame)
