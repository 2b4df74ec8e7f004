"""Real Dask clusters and ``riskgrid batch`` runs as subprocesses, for the grid tests.

Every process is started with ``start_new_session=True``, so it leads its own process group,
and is registered with a :class:`Processes` registry; the registry's owner (a fixture) calls
:meth:`Processes.kill_all` at teardown, which SIGKILLs every group, reaps the processes and
reports any process still alive in one of those groups (an orphan). Output goes to log files
(never pipes that could fill up), whose tails are quoted when something goes wrong.

Clusters are ``dask scheduler`` and ``dask worker --nthreads 1 --no-nanny`` (no nanny, so a
SIGKILL really removes a worker instead of the nanny restarting it), on 127.0.0.1 only, on
ports chosen here, without dashboards.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed import Client
from distributed.security import Security

BIN = Path(sys.executable).parent
DASK = BIN / "dask"
RISKGRID = BIN / "riskgrid"
HOST = "127.0.0.1"
START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_for(
    condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05
) -> Any:
    """Poll ``condition`` until it returns a truthy value; ``TimeoutError`` naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _process_groups() -> dict[int, list[int]]:
    """Process group id -> pids of live processes (Linux ``/proc``)."""
    groups: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if fields[0] not in "ZX":  # fields: state, ppid, pgrp, ...; zombies and dead ones aside
            groups.setdefault(int(fields[2]), []).append(int(stat.parent.name))
    return groups


class Processes:
    """The subprocesses of one test (or one session fixture), each in its own process group."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(
        self, name: str, argv: Sequence[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` in a new session; stdout and stderr go to ``<logdir>/<name>.log``."""
        if name in self.procs:
            raise ValueError(f"process name {name} used twice")
        with self.log_path(name).open("wb") as log:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        self.procs[name] = proc
        return proc

    def log_path(self, name: str) -> Path:
        """Where a process's output goes."""
        return self.logdir / f"{name}.log"

    def log(self, name: str, tail: int = 3000) -> str:
        """The last ``tail`` characters a process printed."""
        path = self.log_path(name)
        text = path.read_text(errors="replace") if path.exists() else ""
        return text[-tail:]

    def kill(self, name: str) -> int:
        """SIGKILL a process's group and reap the process; returns its exit status."""
        proc = self.procs[name]
        # Once reaped, its pid may only be reused when no process is left in its group.
        if proc.returncode is None or proc.pid in _process_groups():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait(timeout=30)

    def wait(self, name: str, timeout: float) -> int:
        """Wait for a process to exit; on timeout kill it and raise with its log."""
        try:
            return self.procs[name].wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(name)
            raise TimeoutError(
                f"{name} still running after {timeout:.0f} s; log:\n{self.log(name)}"
            ) from None

    def kill_all(self) -> list[str]:
        """Kill every process group; returns a description of any process that survived."""
        for name in self.procs:
            self.kill(name)
        deadline = time.monotonic() + 10  # grandchildren die asynchronously
        while True:
            alive = _process_groups()
            leftovers = [
                f"{name} (group {proc.pid}: pids {alive.get(proc.pid)})"
                for name, proc in self.procs.items()
                if proc.returncode is None or proc.pid in alive
            ]
            if not leftovers or time.monotonic() > deadline:
                return leftovers
            time.sleep(0.05)


@dataclass(frozen=True)
class TlsFiles:
    """A certificate, its key and the CA that must have signed the other side's certificate."""

    ca_file: Path
    cert: Path
    key: Path

    def flags(self) -> list[str]:
        """``--tls-ca-file/--tls-cert/--tls-key`` (same spelling for dask and riskgrid)."""
        return [
            "--tls-ca-file",
            str(self.ca_file),
            "--tls-cert",
            str(self.cert),
            "--tls-key",
            str(self.key),
        ]

    def security(self) -> Security:
        """A client ``Security`` with these files."""
        return Security(
            tls_ca_file=str(self.ca_file),
            tls_client_cert=str(self.cert),
            tls_client_key=str(self.key),
            require_encryption=True,
        )


class DaskCluster:
    """``dask scheduler`` + ``dask worker`` subprocesses on 127.0.0.1, registered in ``procs``.

    Parameters
    ----------
    procs
        Registry the processes are started in (and killed by, at teardown).
    workdir
        Scheduler file and worker local directories.
    prefix
        Prefix of the process names in ``procs`` (two clusters in one test).
    tls_scheduler, tls_worker
        TLS files of the scheduler and of the workers; None for plain TCP.
    tls_client
        TLS files of the test's own client (:meth:`client`).
    """

    def __init__(
        self,
        procs: Processes,
        workdir: Path,
        prefix: str = "",
        tls_scheduler: TlsFiles | None = None,
        tls_worker: TlsFiles | None = None,
        tls_client: TlsFiles | None = None,
    ) -> None:
        self.procs = procs
        self.workdir = workdir
        self.prefix = prefix
        self.tls_scheduler, self.tls_worker, self.tls_client = tls_scheduler, tls_worker, tls_client
        self.address = ""
        self.workers: list[str] = []
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def protocol(self) -> str:
        """``tcp`` or ``tls``."""
        return "tls" if self.tls_scheduler else "tcp"

    def _name(self, what: str) -> str:
        return f"{self.prefix}{what}"

    def start_scheduler(self) -> str:
        """Start the scheduler and wait until it listens; returns its address."""
        name = self._name("scheduler")
        sched_file = self.workdir / f"{name}.json"
        port = free_port()
        argv = [str(DASK), "scheduler", "--host", HOST, "--port", str(port), "--no-dashboard"]
        # Without a dashboard, schedulers and workers still serve /health etc. over HTTP on
        # --dashboard-address, by default on all interfaces: keep that on loopback too.
        argv += ["--dashboard-address", f"{HOST}:{free_port()}"]
        argv += ["--scheduler-file", str(sched_file), "--protocol", self.protocol]
        if self.tls_scheduler:
            argv += self.tls_scheduler.flags()
        proc = self.procs.start(name, argv)

        def ready() -> str:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited {proc.returncode}:\n{self.procs.log(name)}")
            if not sched_file.exists():
                return ""
            with contextlib.suppress(ValueError):  # half-written file
                return str(json.loads(sched_file.read_text())["address"])
            return ""

        self.address = wait_for(ready, START_TIMEOUT, f"{name} to listen")
        assert self.address == f"{self.protocol}://{HOST}:{port}", self.address
        return self.address

    def start_workers(self, *names: str) -> None:
        """Start ``dask worker --nthreads 1 --no-nanny`` processes; wait until all registered."""
        for w in names:
            argv = [str(DASK), "worker", self.address, "--nthreads", "1", "--no-nanny"]
            argv += ["--no-dashboard", "--dashboard-address", f"{HOST}:{free_port()}"]
            argv += ["--host", HOST, "--worker-port", str(free_port())]
            argv += ["--name", w, "--local-directory", str(self.workdir / w)]
            argv += ["--protocol", self.protocol]
            if self.tls_worker:
                argv += self.tls_worker.flags()
            self.procs.start(self._name(w), argv)
            self.workers.append(w)
        with self.client() as c:

            def registered() -> bool:
                for w in names:
                    proc = self.procs.procs[self._name(w)]
                    if proc.poll() is not None:
                        log = self.procs.log(self._name(w))
                        raise RuntimeError(f"worker {w} exited {proc.returncode}:\n{log}")
                info = c.scheduler_info(n_workers=-1)["workers"].values()
                return set(names) <= {str(i.get("name")) for i in info}

            wait_for(registered, START_TIMEOUT, f"workers {', '.join(names)} to register", 0.1)

    def kill_worker(self, name: str) -> None:
        """SIGKILL one worker process."""
        self.procs.kill(self._name(name))

    def kill_scheduler(self) -> None:
        """SIGKILL the scheduler process."""
        self.procs.kill(self._name("scheduler"))

    def kill(self) -> None:
        """SIGKILL scheduler and workers."""
        for w in self.workers:
            self.kill_worker(w)
        self.kill_scheduler()

    @contextlib.contextmanager
    def client(self) -> Iterator[Client]:
        """A client of this cluster from the test process (TLS with ``tls_client``)."""
        sec = self.tls_client.security() if self.tls_client else None
        c = Client(self.address, security=sec, timeout="20s", set_as_default=False)
        try:
            yield c
        finally:
            c.close()

    def running_tasks(self, c: Client) -> int:
        """Tasks the scheduler knows of plus tasks occupying a worker thread (also cancelled
        ones still running: a task whose client went away runs to its end)."""
        on_workers = c.run(lambda dask_worker: len(dask_worker.state.all_running_tasks))
        n_sched: int = c.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
        return n_sched + sum(on_workers.values())

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until no task is known to the scheduler or running on a worker."""
        with self.client() as c:
            wait_for(lambda: self.running_tasks(c) == 0, timeout, "the cluster to go idle", 0.1)


def batch_argv(portfolio: Path, market: Path, out: Path, scheduler: str, *extra: str) -> list[str]:
    """``riskgrid batch`` against an external scheduler, without progress bar, on the QuantLib
    reference engine (these tests compare the grid bit for bit with in-process ``price()``; the
    vectorised engine's partition invariance is tested in test_run_cluster and
    test_batch_scenarios)."""
    return [
        str(RISKGRID),
        "batch",
        "--engine",
        "quantlib",
        "--portfolio",
        str(portfolio),
        "--market",
        str(market),
        "--out",
        str(out),
        "--scheduler",
        scheduler,
        "--no-progress",
        *extra,
    ]


def markers(out: Path) -> list[Path]:
    """The done markers present in a run directory (temp files excluded)."""
    return sorted((out / "chunks").glob("chunk-*.json"))


@dataclass(frozen=True)
class BatchRun:
    """A finished ``riskgrid batch``: exit code, what it printed (stdout and stderr), run dir."""

    code: int
    output: str
    out: Path

    @property
    def manifest(self) -> dict[str, Any]:
        """``manifest.json`` of the run."""
        doc: dict[str, Any] = json.loads((self.out / "manifest.json").read_text())
        return doc


def run_batch(
    procs: Processes,
    name: str,
    argv: Sequence[str],
    out: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> BatchRun:
    """Run ``riskgrid batch`` to its end (registered in ``procs``, killed on timeout)."""
    procs.start(name, argv, env)
    code = procs.wait(name, timeout)
    return BatchRun(code, procs.log(name, tail=1_000_000), out)


def listening_hosts(pid: int) -> set[str]:
    """IP addresses a process listens on (TCP)."""
    import psutil  # type: ignore[import-untyped]  # a dependency of distributed

    conns = psutil.Process(pid).net_connections(kind="inet")
    return {c.laddr.ip for c in conns if c.status == psutil.CONN_LISTEN}
