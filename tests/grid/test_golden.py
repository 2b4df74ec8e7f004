"""Regression: the demo books valued today equal the golden run stored in the repository.

When a change moves numbers on purpose, regenerate (``python -m tests.golden.regenerate``) in
the same commit and say why in the commit message.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grid.cli import main
from grid.diff import diff_runs, load_run

GOLDEN = Path(__file__).parents[1] / "golden" / "demo"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_demo_books_match_golden_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.golden.regenerate import N_TRADES, SEED

    demo = tmp_path / "demo"
    assert main(["demo", "--out", str(demo), "--trades", str(N_TRADES), "--seed", str(SEED)]) == 0
    assert (
        main(
            [
                "batch",
                "--portfolio",
                str(demo / "portfolio.json"),
                "--market",
                str(demo / "market.yaml"),
                "--out",
                str(tmp_path / "run"),
                "--workers",
                "2",
                "--no-progress",
            ]
        )
        == 0
    )
    golden, golden_manifest = load_run(GOLDEN / "cube.nc")
    run, manifest = load_run(tmp_path / "run")
    # same inputs: otherwise the comparison would not be of like with like
    for key in ("portfolio_hash", "snapshot_hash", "config_hash"):
        assert run.attrs[key] == golden.attrs[key], key
    d = diff_runs(golden, run, tol=1e-6, manifests=(golden_manifest, manifest))
    assert d.identical, (d.moved[:5], d.status_changed[:5], d.only_a[:5], d.only_b[:5])
    capsys.readouterr()
    assert main(["diff", str(GOLDEN / "cube.nc"), str(tmp_path / "run")]) == 0
    assert "no differences beyond the tolerance" in capsys.readouterr().out
