"""Submit a valuation run to the cluster, follow it, survive failures, write cube and manifest.

The flow of :func:`run_valuation`:

1. plan (pure: :mod:`grid.plan`); with a run directory, check it against ``run.json`` on
   ``resume`` or create it (cube template, run record) on a fresh run;
2. scatter the ordered trades and the snapshot once, broadcast to every worker (PITFALLS 8-9);
3. submit one task per unfinished chunk, with retries; tasks write their cube region and done
   marker themselves;
4. wait for results, drawing progress; a task lost with its worker is recomputed by Dask, a
   chunk whose inputs were lost is re-scattered and resubmitted; if the scheduler stays
   unreachable for ``riskgrid.cluster-lost-timeout`` the run stops with ``ClusterLostError``;
5. assemble the cube (from the Zarr store, or from returned arrays in memory) and the manifest.

A run is identified by its inputs: a ``--resume`` recomputes only the chunks without a done
marker, and since tasks are deterministic the final cube is identical to an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from distributed import Client, Future, wait
from distributed.client import FutureCancelledError

from grid import config
from grid.cluster import worker_summary
from grid.manifest import library_versions, manifest_skeleton, new_run_id, utc_now
from grid.plan import Chunk, Plan, plan
from grid.progress import Progress
from grid.store import RunDir
from grid.tasks import ChunkRequest, ChunkResult, value_chunk
from pricing.errors import TradeError
from pricing.kernels.engine import ENGINES
from pricing.market import MarketSnapshot
from pricing.scenarios import ScenarioSet
from pricing.trades import Portfolio
from risk.cube import GREEKS
from risk.greeks import BumpSizes, GreekPlan, greek_plan

__all__ = ["ClusterLostError", "RunDirError", "RunOutcome", "run_valuation"]


class ClusterLostError(RuntimeError):
    """The scheduler stayed unreachable longer than ``riskgrid.cluster-lost-timeout``."""


class RunDirError(ValueError):
    """The run directory does not fit the request (exists already, or differs on resume)."""


@dataclasses.dataclass
class RunOutcome:
    """Result of a run: the cube (None if the run did not finish), manifest and exit code."""

    cube: xr.Dataset | None
    manifest: dict[str, Any]
    exit_code: int


@dataclasses.dataclass
class _State:
    """Mutable bookkeeping of the run loop."""

    results: dict[int, ChunkResult] = dataclasses.field(default_factory=dict)
    failed: dict[int, str] = dataclasses.field(default_factory=dict)
    resubmitted: int = 0
    computed: int = 0


@dataclasses.dataclass(frozen=True)
class _Spec:
    """What is computed: currency, engine and scenario set (all part of a run's identity)."""

    reporting_currency: str
    engine: str
    scenarios: ScenarioSet | None
    greeks: GreekPlan | None = None
    theta: bool = True

    @property
    def scenario_names(self) -> list[str] | None:
        return list(self.scenarios.names) if self.scenarios and self.scenarios.n > 1 else None


def _run_record(
    run_id: str, p: Plan, portfolio: Portfolio, snapshot: MarketSnapshot, spec: _Spec
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "created": utc_now(),
        "asof": snapshot.asof.isoformat(),
        "reporting_currency": spec.reporting_currency,
        "engine": spec.engine,
        "scenario_hash": spec.scenarios.content_hash() if spec.scenarios else "",
        "n_scenarios": spec.scenarios.n if spec.scenarios else 1,
        "greeks_hash": (f"{spec.greeks.content_hash()}:theta={spec.theta}" if spec.greeks else ""),
        "portfolio_hash": portfolio.content_hash(),
        "snapshot_hash": snapshot.content_hash,
        # the effective settings, whether they came from config, flags or arguments
        "config_hash": config.config_hash(
            config.riskgrid_config()
            | {"reporting-currency": spec.reporting_currency, "engine": spec.engine}
        ),
        "plan_fingerprint": p.fingerprint(),
        "chunk_size": p.chunk_size,
        "n_trades": len(p.trades),
        "n_chunks": len(p.chunks),
    }


_MUST_MATCH = (
    "portfolio_hash",
    "snapshot_hash",
    "config_hash",
    "reporting_currency",
    "engine",
    "scenario_hash",
    "greeks_hash",
    "plan_fingerprint",
)


def _prepare_dir(
    rd: RunDir,
    resume: bool,
    portfolio: Portfolio,
    snapshot: MarketSnapshot,
    spec: _Spec,
    chunk_size: int | None,
    n_workers: int,
    load: float = 1.0,
) -> tuple[Plan, dict[str, Any], bool]:
    """Plan and create/check the run directory; returns (plan, run record, is_resume)."""
    if rd.run_record.exists():
        if not resume:
            raise RunDirError(
                f"{rd.root} already holds a run; pass --resume to finish it or choose another --out"
            )
        old = RunDir.read_json(rd.run_record)
        p = plan(portfolio, chunk_size=int(old["chunk_size"]))
        new = _run_record(old["run_id"], p, portfolio, snapshot, spec)
        diff = [k for k in _MUST_MATCH if old.get(k) != new.get(k)]
        if diff:
            raise RunDirError(
                f"cannot resume run {old['run_id']} in {rd.root}: "
                f"{', '.join(diff)} differ from the run being resumed"
            )
        return p, old, True
    if resume and rd.root.exists() and any(rd.root.iterdir()):
        raise RunDirError(f"{rd.root} holds no run record (run.json): nothing to resume")
    p = _plan(portfolio, chunk_size, n_workers, load)
    record = _run_record(new_run_id(snapshot.asof), p, portfolio, snapshot, spec)
    from risk.cube import cube_template
    from risk.cube_io import create_store

    rd.root.mkdir(parents=True, exist_ok=True)
    attrs = Portfolio(p.trades, portfolio.books, portfolio.firm).trade_attributes()
    template = cube_template(attrs, scenarios=spec.scenario_names, **_cube_attrs(record))
    create_store(template, rd.cube, trades_per_chunk=p.chunk_size, overwrite=True)
    RunDir.write_json(rd.run_record, record)  # last: a run exists once its template does
    return p, record, False


def _plan(portfolio: Portfolio, chunk_size: int | None, n_workers: int, load: float = 1.0) -> Plan:
    """``load`` is :func:`_load_factor`; 0 means a vectorised run over many scenarios, whose
    tasks pay a fixed cost per scenario (discount factors on every distinct date in every
    scenario, whatever the number of trades): one task per worker (up to ``max-chunk-size``
    trades) then beats the usual four (10,000 trades x 575 Greek scenarios on 2 workers:
    2.0 s of compute in 2 chunks, 3.4 s in 8)."""
    return plan(
        portfolio,
        chunk_size=chunk_size or config.get("chunk-size"),
        target_task_seconds=(float(config.get("target-task-seconds")) / load if load else math.inf),
        n_workers=n_workers,
        min_size=int(config.get("min-chunk-size")),
        max_size=int(config.get("max-chunk-size")),
        tasks_per_worker=4 if load else 1,
    )


def _greeks_on(greeks: bool | None) -> bool:
    return bool(config.get("greeks.enabled")) if greeks is None else greeks


def _greek_plan(snapshot: MarketSnapshot, reporting_currency: str) -> GreekPlan:
    """The run's bump scenarios, with the ``riskgrid.greeks.*`` sizes (made once, scattered)."""
    g = config.get("greeks")
    sizes = BumpSizes(
        ir_bp=float(g["ir-bp"]),
        fx_rel=float(g["fx-rel"]),
        eq_rel=float(g["eq-rel"]),
        div_bp=float(g["div-bp"]),
        vol_black=float(g["vol-black"]),
        vol_normal=float(g["vol-normal"]),
        credit_bp=float(g["credit-bp"]),
    )
    return greek_plan(snapshot, sizes, bool(g["buckets"]), calendar_currency=reporting_currency)


def _load_factor(spec: _Spec) -> float:
    """How much more work per trade than one QuantLib valuation (sizes the chunks): every
    scenario is a full revaluation on the QuantLib engine; on the vectorised engine the cost
    per extra scenario is ~1/1000 of it but fixed per task, so a vectorised scenario run is
    marked 0 (one task per worker, see :func:`_plan`)."""
    n = spec.scenarios.n if spec.scenarios else 1
    if spec.greeks is not None:
        n += spec.greeks.n_scenarios + (1 if spec.theta else 0)
    if spec.engine != "quantlib":
        return 1.0 if n <= 1 else 0.0
    return float(n)


def _cube_attrs(record: dict[str, Any]) -> dict[str, str]:
    return {
        "run_id": record["run_id"],
        "asof": record["asof"],
        "reporting_currency": record["reporting_currency"],
        "engine": str(record["engine"]),
        "portfolio_hash": record["portfolio_hash"],
        "snapshot_hash": record["snapshot_hash"],
        "config_hash": record["config_hash"],
        "code_version": library_versions()["riskgrid"],
    }


def _is_lost_input(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}"
    return isinstance(exc, FutureCancelledError) or "lost dependencies" in text


def _follow(
    client: Client,
    submit: Callable[[Chunk], Future],
    futures: dict[Future, Chunk],
    state: _State,
    progress: Progress,
    lost_timeout: float,
    rescatter: Callable[[], None],
    done_before: int,
) -> None:
    """Wait for every future; handle results, failures, lost inputs and a lost scheduler.

    Raises
    ------
    ClusterLostError
        The client has not been connected to the scheduler for ``lost_timeout`` seconds.
    """
    pending = set(futures)
    unreachable_since: float | None = None
    max_resubmits = 3 * len(futures) + 3
    while pending:
        try:
            with client.as_current():
                wait(list(pending), timeout=0.5, return_when="FIRST_COMPLETED")
        except (TimeoutError, OSError, CancelledError):
            # Nothing finished yet, comm trouble, or cancelled futures (``wait`` raises
            # FuturesCancelledError for those, e.g. all of them when the scheduler connection
            # drops): the client status and the futures' own statuses below say which.
            pass
        if client.status != "running":
            unreachable_since = unreachable_since or time.monotonic()
            if time.monotonic() - unreachable_since > lost_timeout:
                address = client.scheduler.address if client.scheduler else "?"
                raise ClusterLostError(
                    f"scheduler {address} unreachable for more than "
                    f"{lost_timeout:.0f} s (client status {client.status})"
                )
            time.sleep(0.1)  # ``wait`` returns at once on cancelled futures: do not spin
            continue
        unreachable_since = None
        done = {f for f in pending if f.status != "pending"}
        pending -= done
        resubmit: list[Chunk] = []
        for f in done:
            try:
                if f.status == "finished":
                    result = f.result()
                else:
                    err: BaseException = (
                        f.exception()
                        if f.status == "error"
                        else FutureCancelledError(f.key, reason=f"future {f.status}")
                    )
            except OSError:  # the scheduler went away while fetching: look again next round
                pending.add(f)
                continue
            chunk = futures.pop(f)
            if f.status == "finished":
                state.results[chunk.chunk_id] = result
                state.computed += 1
            elif _is_lost_input(err) and state.resubmitted < max_resubmits:
                resubmit.append(chunk)
            else:
                state.failed[chunk.chunk_id] = f"{type(err).__name__}: {err}"
        if resubmit:
            rescatter()
            for chunk in resubmit:
                state.resubmitted += 1
                nf = submit(chunk)
                futures[nf] = chunk
                pending.add(nf)
        progress.update(done_before + len(state.results) + len(state.failed))


def run_valuation(
    client: Client,
    portfolio: Portfolio,
    snapshot: MarketSnapshot,
    out_dir: str | Path | None = None,
    *,
    resume: bool = False,
    reporting_currency: str | None = None,
    chunk_size: int | None = None,
    load_errors: Sequence[TradeError] = (),
    show_progress: bool | None = None,
    engine: str | None = None,
    scenarios: ScenarioSet | None = None,
    greeks: bool | None = None,
) -> RunOutcome:
    """Value ``portfolio`` under ``snapshot`` on the cluster behind ``client``.

    Parameters
    ----------
    client
        A connected client (see :func:`grid.cluster.connect`).
    portfolio, snapshot
        What to value, and on which market.
    out_dir
        Run directory (cube written through to Zarr, done markers, manifest). None keeps
        everything in memory (interactive use) and writes nothing.
    resume
        Finish the run already in ``out_dir``: only chunks without a done marker are computed.
    reporting_currency
        Currency of ``pv_reporting`` (default ``riskgrid.reporting-currency``).
    chunk_size
        Trades per task (default from config, else sized by the planner).
    load_errors
        Errors of records that never became trades; they go into the manifest and exit code.
    show_progress
        Progress bar on stderr (default ``riskgrid.progress``).
    engine
        ``"vectorised"`` (numpy kernels, QuantLib fallback counted in the manifest) or
        ``"quantlib"`` (reference); default ``riskgrid.engine``.
    scenarios
        A scenario set: the cube then holds every trade's PV in every scenario
        (``scenario_pv``); default: the base snapshot only.
    greeks
        Also compute every sensitivity (bump scenarios of :func:`risk.greeks.greek_plan` with
        the ``riskgrid.greeks.*`` bump sizes, and theta); the cube then holds them in long form
        (``cube.risk.ladder``, ``cube.risk.sensitivities``). Default ``riskgrid.greeks.enabled``.

    Returns
    -------
    RunOutcome
        The cube (None when the run did not finish), the manifest and the exit code
        (0 all valued, 1 some trades failed, 3 incomplete).
    """
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    reporting = reporting_currency or str(config.get("reporting-currency"))
    spec = _Spec(
        reporting,
        engine or str(config.get("engine")),
        scenarios,
        _greek_plan(snapshot, reporting) if _greeks_on(greeks) else None,
        bool(config.get("greeks.theta")),
    )
    if spec.engine not in ENGINES:
        raise ValueError(f"unknown engine {spec.engine!r} (known: {', '.join(ENGINES)})")
    workers = worker_summary(client)
    rd = RunDir(out_dir) if out_dir is not None else None
    load = _load_factor(spec)
    if rd is not None:
        p, record, resumed = _prepare_dir(
            rd, resume, portfolio, snapshot, spec, chunk_size, len(workers), load
        )
        done_before = rd.done_chunks()
    else:
        p = _plan(portfolio, chunk_size, len(workers), load)
        record = _run_record(new_run_id(snapshot.asof), p, portfolio, snapshot, spec)
        resumed, done_before = False, {}
    timings["plan"] = time.perf_counter() - t_start
    todo = [c for c in p.chunks if c.chunk_id not in done_before]

    t0 = time.perf_counter()
    inputs: dict[str, Future] = {}

    def rescatter() -> None:
        # The plan goes as one object: scattering the bare tuple of trades made dask serialise
        # each trade separately (15.6 s instead of ~0.5 s for 100,000 trades).
        (inputs["plan"], inputs["snapshot"], inputs["scenarios"], inputs["greeks"]) = (
            client.scatter(
                [p, snapshot, scenarios or ScenarioSet.base_only(), spec.greeks],
                broadcast=True,
                hash=False,
            )
        )

    rescatter()
    timings["scatter"] = time.perf_counter() - t0
    retries = int(config.get("retries"))
    request = ChunkRequest(
        spec.reporting_currency,
        spec.engine,
        str(rd.root) if rd is not None else None,
        dict(portfolio.books),
        _cube_attrs(record),
        spec.theta,
    )
    attempt = new_run_id(snapshot.asof).rsplit("-", 1)[1]

    addresses = [w["address"] for w in workers]

    def submit(chunk: Chunk) -> Future:
        # Loose affinity: chunk i prefers worker i mod n, so a run of the same book on the same
        # cluster finds its trades already lowered in that worker's cache (a worker lowers
        # only its own chunks); any worker may still take it (stealing, lost workers).
        preferred = [addresses[chunk.chunk_id % len(addresses)]] if addresses else None
        return client.submit(
            value_chunk,
            chunk,
            inputs["plan"],
            inputs["snapshot"],
            inputs["scenarios"],
            request,
            inputs["greeks"],
            workers=preferred,
            allow_other_workers=True,
            retries=retries,
            pure=False,
            key=f"riskgrid-{record['run_id']}-{attempt}-chunk-{chunk.chunk_id}",
        )

    t0 = time.perf_counter()
    state = _State()
    progress = Progress(
        len(p.chunks),
        enabled=bool(config.get("progress") if show_progress is None else show_progress),
    )
    futures = {submit(c): c for c in todo}
    progress.show_widget(list(futures))
    progress.update(len(done_before))
    status, exit_code, cluster_error = "complete", 0, ""
    try:
        _follow(
            client,
            submit,
            futures,
            state,
            progress,
            config.seconds(config.get("cluster-lost-timeout")),
            rescatter,
            len(done_before),
        )
    except ClusterLostError as exc:
        status, exit_code, cluster_error = "cluster-lost", 3, str(exc)
    timings["compute"] = time.perf_counter() - t0

    markers = {**done_before, **{k: r.marker() for k, r in state.results.items()}}
    if rd is not None:  # markers on disk also count chunks whose result never reached us
        markers = {**markers, **rd.done_chunks()}
    trade_errors = [e.to_dict() for e in load_errors]
    for cid in sorted(markers):
        trade_errors.extend(markers[cid]["errors"])
    n_pricing_failed = sum(m["n_failed"] for m in markers.values())
    fallbacks = [f for cid in sorted(markers) for f in markers[cid].get("fallbacks", [])]
    greeks_summary = _greeks_summary(spec, markers)
    if exit_code == 0 and state.failed:
        status, exit_code = "incomplete", 3
    elif exit_code == 0 and trade_errors:
        status, exit_code = "complete-with-errors", 1

    t0 = time.perf_counter()
    cube = None
    if exit_code in (0, 1):
        cube = _assemble(rd, p, portfolio, state, record, spec)
    timings["assemble"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    chunk_seconds = [m["seconds"] for m in markers.values()]
    manifest = manifest_skeleton(
        run_id=record["run_id"],
        status=status,
        exit_code=exit_code,
        asof=record["asof"],
        created=record["created"],
        finished=utc_now(),
        inputs={
            k: record[k]
            for k in (
                "portfolio_hash",
                "snapshot_hash",
                "config_hash",
                "reporting_currency",
                "engine",
                "scenario_hash",
                "n_scenarios",
            )
        }
        | {"snapshot_name": snapshot.name, "config": config.riskgrid_config()},
        versions=library_versions(),
        cluster={
            "scheduler": client.scheduler.address if client.scheduler else None,
            "workers": workers,
            "error": cluster_error,
        },
        plan={
            "chunk_size": p.chunk_size,
            "n_chunks": len(p.chunks),
            "fingerprint": p.fingerprint(),
        },
        counts={
            "records": len(p.trades) + len(load_errors),
            "trades": len(p.trades),
            "load_failed": len(load_errors),
            "valued": sum(m["n_trades"] - m["n_failed"] for m in markers.values()),
            "pricing_failed": n_pricing_failed,
            "not_run": sum(c.size for c in p.chunks if c.chunk_id not in markers),
            "chunks_done": len(markers),
            "chunks_reused": len(done_before),
            "chunks_computed": state.computed,
            "chunks_failed": len(state.failed),
            "chunks_resubmitted": state.resubmitted,
            "fell_back_to_quantlib": len(fallbacks),
        },
        fallbacks=_fallback_summary(fallbacks),
        greeks=greeks_summary,
        timings=timings
        | {
            "chunk_seconds_sum": float(sum(chunk_seconds)),
            "chunk_seconds_max": float(max(chunk_seconds, default=0.0)),
        },
        chunks_failed=[{"chunk_id": k, "error": v} for k, v in sorted(state.failed.items())],
        errors=trade_errors,
        resumed=resumed,
    )
    if rd is not None:
        RunDir.write_json(rd.manifest, manifest)
    return RunOutcome(cube, manifest, exit_code)


def _greeks_summary(spec: _Spec, markers: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
    """Greek counts over the finished chunks (None when the run has no Greeks)."""
    if spec.greeks is None:
        return None
    done = [m["greeks"] for m in markers.values() if m.get("greeks")]
    return {
        "scenarios": spec.greeks.n_scenarios,  # the base and every bump
        "theta": spec.theta,
        "plan_hash": spec.greeks.content_hash(),
        "sizes": dict(config.get("greeks")),
        "revaluations": sum(g["revaluations"] for g in done),
        "entries": sum(g["entries"] for g in done),
        "theta_errors": [e for g in done for e in g["theta_errors"]],
    }


def _fallback_summary(fallbacks: list[dict[str, str]]) -> dict[str, Any]:
    """Trades the vectorised engine handed to QuantLib: counts by reason, and each trade."""
    by_reason: dict[str, int] = {}
    for f in fallbacks:
        by_reason[f["reason"]] = by_reason.get(f["reason"], 0) + 1
    return {"count": len(fallbacks), "by_reason": by_reason, "trades": fallbacks}


def _assemble(
    rd: RunDir | None,
    p: Plan,
    portfolio: Portfolio,
    state: _State,
    record: dict[str, Any],
    spec: _Spec,
) -> xr.Dataset:
    from risk.cube import build_cube
    from risk.cube_io import open_cube

    if rd is not None:
        if spec.greeks is not None:
            from risk.cube_io import append_sensitivities

            append_sensitivities(
                rd.cube, [rd.sensitivities(c.chunk_id) for c in p.chunks], replace=True
            )
        return open_cube(rd.cube)
    n = len(p.trades)
    sens: list[Any] = []
    pv, pv_rep = np.full(n, np.nan), np.full(n, np.nan)
    greeks = np.full((n, len(GREEKS)), np.nan)
    error = np.empty(n, dtype=object)
    names = spec.scenario_names
    spv = np.full((n, len(names)), np.nan) if names else None
    spv_rep = np.full((n, len(names)), np.nan) if names else None
    for chunk in p.chunks:
        arrays = state.results[chunk.chunk_id].arrays
        assert arrays is not None  # noqa: S101 - in-memory runs always return arrays
        sl = slice(chunk.start, chunk.stop)
        pv[sl], pv_rep[sl] = arrays["pv"], arrays["pv_reporting"]
        greeks[sl], error[sl] = arrays["model_greeks"], arrays["error"]
        if spv is not None and spv_rep is not None:
            spv[sl], spv_rep[sl] = arrays["scenario_pv"], arrays["scenario_pv_reporting"]
        if "sensitivities" in arrays:
            sens.append(arrays["sensitivities"])
    attrs = Portfolio(p.trades, portfolio.books, portfolio.firm).trade_attributes()
    return build_cube(
        attrs,
        pv,
        pv_rep,
        greeks,
        list(error),
        scenarios=names,
        scenario_pv=spv,
        scenario_pv_reporting=spv_rep,
        sensitivities=_concat_sensitivities(sens) if spec.greeks is not None else None,
        **_cube_attrs(record),
    )


def _concat_sensitivities(parts: Sequence[Any]) -> dict[str, Any]:
    """The long forms of the chunks as one set of columns."""
    cols = ("trade", "factor_class", "factor", "bucket", "measure", "value", "value_local")
    return {
        c: np.concatenate([np.asarray(getattr(s, c)) for s in parts])
        if parts
        else np.array([], dtype=float if c.startswith("value") else object)
        for c in cols
    }
