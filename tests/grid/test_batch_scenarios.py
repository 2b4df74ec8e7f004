"""riskgrid batch under a scenario set with the vectorised engine: the cube holds every trade's
PV in every scenario, equal to the engine run in process, with fallbacks counted."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from grid.cli import main
from pricing.demo import demo_market, demo_portfolio
from pricing.kernels.engine import value
from pricing.scenarios import load_scenarios
from risk import open_cube

SCENARIOS = """\
names: [base, usd+25bp, spx-10, vols x1.2]
shifts:
  - {pattern: 'IR.USD.*', shift: ABSOLUTE, values: [0, 0.0025, 0, 0]}
  - {pattern: EQ.SPX.SPOT, shift: RELATIVE, values: [0, 0, -0.10, 0]}
  - {pattern: 'VOL.*', shift: MULTIPLY, values: [1, 1, 1, 1.2]}
"""


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_batch_with_scenarios_equals_engine_in_process(tmp_path: Path) -> None:
    portfolio = demo_portfolio(400, seed=3)
    snap = demo_market()
    from pricing.trades import write_portfolio

    write_portfolio(portfolio, tmp_path / "p.json")
    snap.save(tmp_path / "m.yaml")
    (tmp_path / "s.yaml").write_text(SCENARIOS)
    rc = main(
        [
            "batch",
            "--portfolio",
            str(tmp_path / "p.json"),
            "--market",
            str(tmp_path / "m.yaml"),
            "--out",
            str(tmp_path / "run"),
            "--workers",
            "2",
            "--engine",
            "vectorised",
            "--scenarios",
            str(tmp_path / "s.yaml"),
            "--chunk-size",
            "48",
            "--no-progress",
        ]
    )
    assert rc == 0
    cube = open_cube(tmp_path / "run" / "cube.zarr")
    assert list(cube.scenario.values) == ["base", "usd+25bp", "spx-10", "vols x1.2"]
    assert cube.attrs["engine"] == "vectorised"
    expected = value(portfolio, snap, load_scenarios(tmp_path / "s.yaml"), engine="vectorised")
    order = {t: i for i, t in enumerate(expected.trade_ids)}
    rows = [order[t] for t in cube.trade.values]
    # bit-identical whatever the chunking: kernels are partition invariant
    assert np.array_equal(cube.scenario_pv.values, expected.pv[rows], equal_nan=True)
    assert np.array_equal(
        cube.scenario_pv_reporting.values, expected.pv_reporting[rows], equal_nan=True
    )
    assert np.array_equal(cube.pv.values, expected.pv[rows, 0], equal_nan=True)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["inputs"]["engine"] == "vectorised"
    assert manifest["inputs"]["n_scenarios"] == 4
    assert manifest["counts"]["fell_back_to_quantlib"] == len(expected.fallbacks)
    assert manifest["fallbacks"]["count"] == len(expected.fallbacks)
    assert {f["trade_id"] for f in manifest["fallbacks"]["trades"]} == set(expected.fallbacks)


def test_bad_scenario_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo_market().save(tmp_path / "m.yaml")
    from pricing.trades import write_portfolio

    write_portfolio(demo_portfolio(20), tmp_path / "p.json")
    (tmp_path / "s.yaml").write_text(
        "names: [base, x]\nshifts: [{pattern: 'IR.XXX.*', shift: ABSOLUTE, values: [0, 1]}]\n"
    )
    rc = main(
        [
            "batch",
            "--portfolio",
            str(tmp_path / "p.json"),
            "--market",
            str(tmp_path / "m.yaml"),
            "--out",
            str(tmp_path / "run"),
            "--scenarios",
            str(tmp_path / "s.yaml"),
        ]
    )
    assert rc == 2
    assert "matches no quote" in capsys.readouterr().err
