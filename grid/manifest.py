"""The run manifest: what ran, on what, with which inputs, and what happened.

A manifest is written for every batch run, also when it fails (cluster lost, chunks failed),
so operations always find a document that says what happened.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import uuid
from typing import Any

__all__ = ["EXIT_CODES", "library_versions", "new_run_id"]

#: Exit codes of ``riskgrid batch`` / ``riskgrid price`` and the manifest ``status`` they go with.
EXIT_CODES = {
    0: "complete: every trade valued",
    1: "complete-with-errors: some trades failed (the others are valued and written)",
    2: "usage: bad command line, unreadable input file, a run directory that does not match, "
    "or a cluster refusing our TLS credentials",
    3: "incomplete: the cluster was lost or chunks failed after retries (resume with --resume)",
    4: "internal error",
}

_LIBRARIES = (
    "riskgrid",
    "numpy",
    "scipy",
    "pandas",
    "QuantLib",
    "dask",
    "distributed",
    "xarray",
    "zarr",
    "pyyaml",
)


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries that can change numbers or runs."""
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def new_run_id(asof: dt.date) -> str:
    """A readable unique run id: ``<asof>-<utc time>-<random>``."""
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{asof.isoformat()}-{now}-{uuid.uuid4().hex[:8]}"


def utc_now() -> str:
    """Current UTC time, ISO 8601."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def manifest_skeleton(**fields: Any) -> dict[str, Any]:
    """A manifest document with the standard key order."""
    keys = (
        "run_id",
        "status",
        "exit_code",
        "asof",
        "created",
        "finished",
        "inputs",
        "versions",
        "cluster",
        "plan",
        "counts",
        "timings",
        "chunks_failed",
        "fallbacks",
        "greeks",
        "errors",
    )
    doc: dict[str, Any] = {k: fields.get(k) for k in keys}
    doc.update({k: v for k, v in fields.items() if k not in doc})
    return doc
