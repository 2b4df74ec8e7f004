"""riskgrid configuration through ``dask.config`` (key ``riskgrid``).

Defaults live in ``grid/riskgrid.yaml`` and are registered with :func:`dask.config.update_defaults`,
so the usual dask mechanisms override them: ``DASK_RISKGRID__CHUNK_SIZE=500`` in the environment,
YAML files in ``~/.config/dask/``, ``dask.config.set({"riskgrid.retries": 5})`` in code, and the
CLI flags (which call ``dask.config.set``).

>>> get("retries") >= 0
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dask.config
import yaml

__all__ = ["config_hash", "get", "riskgrid_config", "seconds"]


def _register() -> None:
    text = (Path(__file__).parent / "riskgrid.yaml").read_text(encoding="utf-8")
    defaults = yaml.safe_load(text)
    dask.config.update_defaults(defaults)


_register()


def _kebab(value: Any) -> Any:
    """A config value with the keys of every mapping in it spelt kebab-case.

    ``DASK_RISKGRID__TLS__CA_FILE`` in the environment when dask is imported (the usual case,
    ``riskgrid batch``) is stored under ``ca_file`` before our defaults are registered, and
    ``dask.config.update`` then keeps that spelling: ``dask.config.get`` of a leaf accepts
    either, but a mapping such as ``riskgrid.tls`` comes back with ``ca_file`` and no ``ca-file``.
    """
    if isinstance(value, Mapping):
        return {str(k).replace("_", "-"): _kebab(v) for k, v in value.items()}
    return value


def get(key: str, default: Any = None) -> Any:
    """``dask.config.get("riskgrid.<key>")``; mappings come back with kebab-case keys."""
    return _kebab(dask.config.get(f"riskgrid.{key}", default=default))


def riskgrid_config() -> dict[str, Any]:
    """The whole effective ``riskgrid`` configuration (a copy, kebab-case keys)."""
    return json.loads(json.dumps(_kebab(dask.config.get("riskgrid")), default=str))


def seconds(value: str | float | int) -> float:
    """A duration from config (``"30 seconds"``, ``"2 minutes"``, ``5``) in seconds."""
    from dask.utils import parse_timedelta

    return float(parse_timedelta(value, default="seconds"))


_RESULT_KEYS = ("reporting-currency", "engine")


def config_hash(cfg: dict[str, Any] | None = None) -> str:
    """Hash of the configuration entries that can change results (not chunking or retries:
    results are partition invariant)."""
    cfg = riskgrid_config() if cfg is None else cfg
    material = {k: cfg.get(k) for k in _RESULT_KEYS}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
