"""Regenerate the golden run of the demo books: ``python -m tests.golden.regenerate``.

Runs ``riskgrid batch`` on the default demo portfolio (3,000 trades, seed 0) and demo market on
the embedded cluster, and stores its cube as NetCDF (``demo/cube.nc``) with its manifest. Only
regenerate when a change moves numbers on purpose, in the same commit as that change, and say
in the commit message why the numbers moved (``riskgrid diff`` the old and new golden first).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent / "demo"
N_TRADES, SEED = 3000, 0


def main() -> int:
    from grid.cli import main as riskgrid
    from risk import open_cube, write_cube

    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        rc = riskgrid(["demo", "--out", str(demo), "--trades", str(N_TRADES), "--seed", str(SEED)])
        if rc != 0:
            return rc
        rc = riskgrid(
            [
                "batch",
                "--portfolio",
                str(demo / "portfolio.json"),
                "--market",
                str(demo / "market.yaml"),
                "--out",
                str(demo / "run"),
                "--no-progress",
            ]
        )
        if rc != 0:
            return rc
        HERE.mkdir(exist_ok=True)
        write_cube(open_cube(demo / "run" / "cube.zarr"), HERE / "cube.nc", overwrite=True)
        manifest = json.loads((demo / "run" / "manifest.json").read_text())
        for volatile in ("cluster", "timings", "created", "finished"):
            manifest.pop(volatile, None)
        (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"golden run written to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
