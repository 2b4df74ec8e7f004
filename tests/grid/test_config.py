"""riskgrid configuration through dask.config: YAML defaults, environment, ``dask.config.set``,
and which settings the config hash (a resumed run must match it) depends on.

Environment overrides are tested in a fresh interpreter with the variables set before anything
is imported, as ``DASK_RISKGRID__... riskgrid batch`` does; ``DASK_CONFIG`` points at an empty
directory and no other ``DASK_*`` variable is passed, so the user's own dask config files and
environment cannot leak in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dask.config
import pytest
import yaml

import grid
from grid import config
from grid.cluster import ClusterConfigError, security_from_config

DEFAULTS_FILE = Path(grid.__file__).parent / "riskgrid.yaml"
#: Settings that do not change a valued number (results are partition invariant; scheduling,
#: retries and transport do not enter the numbers).
NOT_RESULTS = {
    "scheduler-address": "tcp://10.0.0.5:8786",
    "n-workers": 7,
    "memory-limit": "4 GiB",
    "chunk-size": 123,
    "target-task-seconds": 9.0,
    "max-chunk-size": 99999,
    "min-chunk-size": 1,
    "retries": 9,
    "cluster-lost-timeout": "1 second",
    "progress": False,
    "tls.ca-file": "/ca.pem",
}


def yaml_defaults() -> dict[str, Any]:
    """The ``riskgrid`` mapping of grid/riskgrid.yaml, read here independently."""
    doc: dict[str, Any] = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return doc["riskgrid"]


def fresh(code: str, env: dict[str, str], tmp_path: Path) -> Any:
    """Run ``code`` (which prints one JSON document) in a fresh interpreter with ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    empty = tmp_path / "no-dask-config"
    empty.mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DASK_CONFIG": str(empty), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


SHOW = (
    "import json; from grid import config; "
    "print(json.dumps({'cfg': config.riskgrid_config(), 'hash': config.config_hash(), "
    "'chunk': config.get('chunk-size'), 'tls': config.get('tls'), "
    "'lost': config.seconds(config.get('cluster-lost-timeout'))}))"
)


def test_yaml_defaults_are_registered_with_dask(tmp_path: Path) -> None:
    defaults = yaml_defaults()
    assert fresh(SHOW, {}, tmp_path)["cfg"] == defaults
    # registered as defaults (not merely set): they survive dask.config.refresh()
    assert dask.config.merge(*dask.config.defaults)["riskgrid"] == defaults
    assert config.get("engine") == defaults["engine"] == "vectorised"
    assert config.seconds(defaults["cluster-lost-timeout"]) == 30.0


def test_environment_overrides(tmp_path: Path) -> None:
    env = {
        "DASK_RISKGRID__CHUNK_SIZE": "500",
        "DASK_RISKGRID__CLUSTER_LOST_TIMEOUT": "2 seconds",
        "DASK_RISKGRID__REPORTING_CURRENCY": "EUR",
        "DASK_RISKGRID__TLS__CA_FILE": "/etc/riskgrid/ca.pem",
    }
    shown = fresh(SHOW, env, tmp_path)
    assert shown["chunk"] == 500  # parsed as a number, as dask does
    assert shown["lost"] == 2.0
    assert shown["tls"] == {"ca-file": "/etc/riskgrid/ca.pem", "cert": None, "key": None}
    expected = yaml_defaults() | {
        "chunk-size": 500,
        "cluster-lost-timeout": "2 seconds",
        "reporting-currency": "EUR",
        "tls": {"ca-file": "/etc/riskgrid/ca.pem", "cert": None, "key": None},
    }
    assert shown["cfg"] == expected  # one spelling of every key: kebab-case, as in the YAML
    # the same currency set with dask.config.set hashes alike, another currency does not
    by_set = fresh(
        "import json, dask.config; from grid import config\n"
        "hashes = {}\n"
        "for ccy in ('EUR', 'GBP'):\n"
        "    with dask.config.set({'riskgrid.reporting-currency': ccy}):\n"
        "        hashes[ccy] = config.config_hash()\n"
        "print(json.dumps(hashes))",
        {},
        tmp_path,
    )
    assert shown["hash"] == by_set["EUR"] != by_set["GBP"]


def test_tls_files_from_the_environment_are_used(tmp_path: Path) -> None:
    files = {}
    for name in ("ca.pem", "client.pem", "client.key"):
        files[name] = tmp_path / name
        files[name].write_text("placeholder\n")  # Security only keeps the paths
    env = {
        "DASK_RISKGRID__TLS__CA_FILE": str(files["ca.pem"]),
        "DASK_RISKGRID__TLS__CERT": str(files["client.pem"]),
        "DASK_RISKGRID__TLS__KEY": str(files["client.key"]),
    }
    code = (
        "import json; from grid.cluster import security_from_config\n"
        "s = security_from_config()\n"
        "print(json.dumps([s.tls_ca_file, s.tls_client_cert, s.tls_client_key, "
        "s.require_encryption]))"
    )
    assert fresh(code, env, tmp_path) == [*(str(files[n]) for n in files), True]


def test_dask_config_set_overrides_and_restores() -> None:
    default_retries = yaml_defaults()["retries"]
    assert config.get("retries") == default_retries
    with dask.config.set({"riskgrid.retries": 5, "riskgrid.tls.ca-file": "/x/ca.pem"}):
        assert config.get("retries") == 5
        assert config.get("tls")["ca-file"] == "/x/ca.pem"
        assert config.riskgrid_config()["retries"] == 5
        with pytest.raises(
            ClusterConfigError, match="TLS needs ca-file, cert and key; missing: cert, key"
        ):
            security_from_config()
    assert config.get("retries") == default_retries
    assert security_from_config() is None


def test_config_hash_ignores_chunking_and_scheduling_not_results() -> None:
    base = config.config_hash()
    assert len(base) == 64
    with dask.config.set({f"riskgrid.{k}": v for k, v in NOT_RESULTS.items()}):
        assert config.riskgrid_config()["chunk-size"] == 123  # the settings did change
        assert config.config_hash() == base
    for key, value in (("reporting-currency", "EUR"), ("engine", "numpy")):
        with dask.config.set({f"riskgrid.{key}": value}):
            assert config.config_hash() != base, key
    # an explicit configuration is hashed the same way
    cfg = config.riskgrid_config()
    assert config.config_hash(cfg) == base
    assert config.config_hash(cfg | {"retries": 0, "chunk-size": 1}) == base
    assert config.config_hash(cfg | {"reporting-currency": "JPY"}) != base


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30 seconds", 30.0), ("2 minutes", 120.0), ("500ms", 0.5), (5, 5.0), ("1 hour", 3600.0)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert config.seconds(text) == seconds
