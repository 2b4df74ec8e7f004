"""Connecting to a Dask cluster: an embedded LocalCluster by default, or any scheduler address.

QuantLib keeps its evaluation date in a process-global singleton and is not thread-safe, so every
worker must run **one thread** (PITFALLS 3). The embedded cluster is built that way; an external
cluster whose workers have more threads is refused with a message saying how to start them.

The embedded cluster binds to 127.0.0.1 only. External clusters should use TLS with a private CA
(``riskgrid.tls.*`` config or ``--tls-*`` flags): a client without a certificate signed by that CA
is refused by the scheduler (PITFALLS 13).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from distributed import Client, LocalCluster
from distributed.security import Security

from grid import config

__all__ = ["ClusterConfigError", "connect", "security_from_config", "worker_summary"]


class ClusterConfigError(RuntimeError):
    """The cluster cannot be used as configured (threads per worker, TLS files...)."""


def security_from_config(tls: dict[str, Any] | None = None) -> Security | None:
    """A dask ``Security`` from ``riskgrid.tls`` (ca-file, cert, key), or None when unset."""
    tls = dict(config.get("tls") or {}) if tls is None else tls
    ca, cert, key = tls.get("ca-file"), tls.get("cert"), tls.get("key")
    if not (ca or cert or key):
        return None
    missing = [n for n, v in (("ca-file", ca), ("cert", cert), ("key", key)) if not v]
    if missing:
        raise ClusterConfigError(f"TLS needs ca-file, cert and key; missing: {', '.join(missing)}")
    for name, path in (("ca-file", ca), ("cert", cert), ("key", key)):
        if not os.path.isfile(str(path)):
            raise ClusterConfigError(f"TLS {name} {path}: no such file")
    return Security(
        tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key, require_encryption=True
    )


def worker_summary(client: Client) -> list[dict[str, Any]]:
    """Address, threads and memory limit of every worker."""
    info = client.scheduler_info(n_workers=-1)["workers"]
    return [
        {"address": a, "nthreads": w.get("nthreads"), "memory_limit": w.get("memory_limit")}
        for a, w in sorted(info.items())
    ]


def _check_threads(client: Client) -> None:
    multi = [w for w in worker_summary(client) if (w["nthreads"] or 1) > 1]
    if multi:
        names = ", ".join(f"{w['address']} ({w['nthreads']} threads)" for w in multi)
        raise ClusterConfigError(
            f"workers must run one thread each (QuantLib's evaluation date is per process); "
            f"offending workers: {names}. Start them with `dask worker --nthreads 1` "
            f"(dask-jobqueue: processes = cores)"
        )


def _check_protocol(address: str, sec: Security | None) -> None:
    """Refuse a scheme/TLS mismatch up front (distributed raises it as a TypeError or
    RuntimeError from ``Client()`` and then hangs 40 s closing the half-made client)."""
    if address.startswith("tls://") and sec is None:
        raise ClusterConfigError(
            f"scheduler {address} speaks TLS: give the CA, client certificate and key "
            "(--tls-ca-file, --tls-cert, --tls-key, or riskgrid.tls.*)"
        )
    if not address.startswith("tls://") and sec is not None and sec.require_encryption:
        raise ClusterConfigError(
            f"TLS is configured but the scheduler address {address} is not tls://: "
            "use the scheduler's tls:// address, or drop the TLS options"
        )


@contextmanager
def connect(
    scheduler: str | None = None,
    n_workers: int | None = None,
    security: Security | None = None,
    timeout: str | float = "20s",
) -> Iterator[Client]:
    """A connected ``Client``; the embedded cluster (if any) is closed on exit.

    Parameters
    ----------
    scheduler
        Scheduler address (``tcp://host:8786``, ``tls://host:8786``); default
        ``riskgrid.scheduler-address``; None starts an embedded LocalCluster on 127.0.0.1.
    n_workers
        Embedded cluster size (default ``riskgrid.n-workers``, else one per core).
    security
        TLS settings (default from ``riskgrid.tls``).
    timeout
        How long to wait for the scheduler.
    """
    address = scheduler or config.get("scheduler-address")
    sec = security if security is not None else security_from_config()
    if address:
        _check_protocol(str(address), sec)
        client = Client(address, security=sec, timeout=timeout, set_as_default=False)
        try:
            _check_threads(client)
            yield client
        finally:
            client.close()
        return
    n = n_workers or config.get("n-workers") or os.cpu_count() or 1
    mem = config.get("memory-limit") or "auto"
    cluster = LocalCluster(
        n_workers=int(n),
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        memory_limit=mem,
        silence_logs=logging.CRITICAL,
    )
    client = Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
