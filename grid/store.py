"""The run directory: cube store, per-chunk done markers, run record and manifest.

Layout of ``OUT``::

    OUT/run.json                 what this run is (run id, input hashes, plan fingerprint)
    OUT/cube.zarr/               the trade-level cube, written through one region per chunk
    OUT/chunks/chunk-000042.json done marker of chunk 42: its errors, timings and worker
    OUT/sensitivities/chunk-000042.zarr  chunk 42's Greeks (long form), with --greeks
    OUT/manifest.json            the audit manifest (written at the end, or when the run fails)

A chunk is done exactly when its marker exists; markers are written after the chunk's region,
atomically (temp file + rename), so a crash leaves either a complete chunk or none.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["RunDir"]


class RunDir:
    """Paths and atomic JSON I/O of one run directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def cube(self) -> Path:
        """The trade-level cube (Zarr)."""
        return self.root / "cube.zarr"

    @property
    def chunks(self) -> Path:
        """Directory of done markers."""
        return self.root / "chunks"

    @property
    def run_record(self) -> Path:
        """``run.json``."""
        return self.root / "run.json"

    @property
    def manifest(self) -> Path:
        """``manifest.json``."""
        return self.root / "manifest.json"

    def clear(self) -> None:
        """Delete a previous run in this directory (only the files a run writes)."""
        shutil.rmtree(self.cube, ignore_errors=True)
        shutil.rmtree(self.chunks, ignore_errors=True)
        shutil.rmtree(self.root / "sensitivities", ignore_errors=True)
        for p in (self.run_record, self.manifest):
            p.unlink(missing_ok=True)

    def sensitivities(self, chunk_id: int) -> Path:
        """A chunk's sensitivity store (long form), written before its done marker."""
        return self.root / "sensitivities" / f"chunk-{chunk_id:06d}.zarr"

    def marker(self, chunk_id: int) -> Path:
        """Done marker of a chunk."""
        return self.chunks / f"chunk-{chunk_id:06d}.json"

    def done_chunks(self) -> dict[int, dict[str, Any]]:
        """Chunk id -> marker content for every finished chunk."""
        out = {}
        if self.chunks.is_dir():
            for p in sorted(self.chunks.glob("chunk-*.json")):
                out[int(p.stem.split("-")[1])] = json.loads(p.read_text(encoding="utf-8"))
        return out

    @staticmethod
    def write_json(path: Path, doc: Any) -> None:
        """Write JSON atomically (never a half-written file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=1, default=str)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @staticmethod
    def read_json(path: Path) -> Any:
        """Read a JSON file."""
        return json.loads(path.read_text(encoding="utf-8"))
