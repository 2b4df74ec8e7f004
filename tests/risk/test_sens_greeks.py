"""The cube side meets :mod:`risk.greeks`: a real ``compute_greeks`` long form (40 demo trades on
the demo market) goes into the cube as it is, passes validation, and the ladders are the sums of
``compute_greeks``' own entries.

The numbers here are general floats, so the ladder sums are checked against ``math.fsum`` of the
entries within Higham's bound for recursive summation, |error| <= (n - 1) eps sum |x_i|
(Accuracy and Stability of Numerical Algorithms, 2nd ed., 2002, eq. 4.4). That the Greeks
themselves are right is proven in the Greek tests; this file pins the plumbing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import xarray as xr

from pricing.demo import demo_market, demo_portfolio
from pricing.kernels.engine import value
from risk import SENS_MEASURES, build_cube, validate_cube
from risk.cube import example_attrs
from risk.greeks import Sensitivities, compute_greeks

pytestmark = pytest.mark.filterwarnings("error:::risk.*")


@pytest.fixture(scope="module")
def run() -> tuple[xr.Dataset, Sensitivities, dict[str, str]]:
    portfolio = demo_portfolio(40, seed=3)
    market = demo_market()
    sens = compute_greeks(portfolio.trades, market, reporting_currency="USD")
    val = value(portfolio.trades, market, reporting_currency="USD")
    errors = ["" if e is None else f"{e.field}: {e.reason}" for e in val.errors]
    cube = build_cube(
        portfolio.trade_attributes(),
        val.pv[:, 0],
        val.pv_reporting[:, 0],
        val.model_greeks,
        errors,
        sensitivities=sens,
        **example_attrs(asof=market.asof.isoformat()),
    )
    book_of = {t.trade_id: t.book for t in portfolio.trades}
    return cube, sens, book_of


def _rows(columns: list[Any]) -> list[tuple[Any, ...]]:
    return sorted(zip(*(np.asarray(c).tolist() for c in columns), strict=True))


def test_every_entry_is_in_the_cube_once_bit_for_bit(
    run: tuple[xr.Dataset, Sensitivities, dict[str, str]],
) -> None:
    cube, sens, _ = run
    validate_cube(cube)
    assert len(sens.value) > 100  # the demo book has risk in every class
    assert set(sens.factor_class) == set(SENS_MEASURES)
    ours = _rows(
        [
            cube[f"sens_{c}"].values
            for c in ("trade", "class", "factor", "bucket", "measure", "value", "value_local")
        ]
    )
    theirs = _rows(
        [
            sens.trade,
            sens.factor_class,
            sens.factor,
            sens.bucket,
            sens.measure,
            sens.value,
            sens.value_local,
        ]
    )
    assert ours == theirs


@pytest.mark.parametrize(("cls", "measure"), [("IR", "delta"), ("VOL", "vega"), ("FX", "delta")])
def test_book_ladders_are_sums_of_the_greeks(
    run: tuple[xr.Dataset, Sensitivities, dict[str, str]], cls: str, measure: str
) -> None:
    cube, sens, book_of = run
    ladder = cube.risk.ladder(cls, measure)
    terms: dict[tuple[str, ...], list[float]] = {}
    for t, c, f, b, m, v in zip(
        sens.trade,
        sens.factor_class,
        sens.factor,
        sens.bucket,
        sens.measure,
        sens.value,
        strict=True,
    ):
        if c == cls and m == measure and (b != "" or cls not in ("IR", "VOL")):
            key = (book_of[t], f, b) if cls in ("IR", "VOL") else (book_of[t], f)
            terms.setdefault(key, []).append(float(v))
    assert terms
    for key, xs in terms.items():
        got = ladder.sel(dict(zip(ladder.dims, key, strict=True))).item()
        bound = (len(xs) - 1) * np.finfo(float).eps * math.fsum(abs(x) for x in xs)
        assert abs(got - math.fsum(xs)) <= bound, key
    # cells without entries are exactly zero
    for idx in zip(*np.nonzero(ladder.values), strict=True):
        key = tuple(str(ladder[d].values[i]) for d, i in zip(ladder.dims, idx, strict=True))
        assert key in terms, key
