"""``riskgrid batch``: the overnight job — value every book on the cluster, write cube + manifest.

    riskgrid batch --portfolio FILE --market FILE --out DIR [--scheduler ADDR] [--resume]
                   [--workers N] [--chunk-size N] [--reporting-ccy CCY]
                   [--tls-ca-file F --tls-cert F --tls-key F]

Writes ``DIR/cube.zarr`` (trade-level risk cube, written through chunk by chunk),
``DIR/chunks/`` (done markers), ``DIR/run.json`` and ``DIR/manifest.json``; prints the per-book
summary and every trade error. Exit codes as for every riskgrid command (see ``--help``):
0 all valued, 1 some trades failed, 2 usage / input / run-directory mismatch, 3 cluster lost or
chunks failed (``--resume`` finishes the run), 4 internal error. A manifest is written in every
case where the run started.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import dask.config

from grid import config
from grid.cluster import ClusterConfigError, connect, security_from_config
from grid.manifest import manifest_skeleton, utc_now
from grid.report import format_table
from grid.run import RunDirError, run_valuation
from grid.store import RunDir
from pricing.errors import InputFileError
from pricing.scenarios import load_scenarios

__all__ = ["add_parser", "cmd_batch"]


def add_parser(sub: Any, parents: list[argparse.ArgumentParser], epilog: str) -> None:
    """Register the ``batch`` subcommand."""
    b = sub.add_parser(
        "batch",
        parents=parents,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="value every book on a Dask cluster; write cube, manifest; resumable",
        description="The overnight batch: values a portfolio on a Dask cluster (embedded "
        "LocalCluster by default), writes DIR/cube.zarr chunk by chunk, "
        "DIR/manifest.json, and resumes an interrupted run with --resume.",
    )
    b.add_argument("--portfolio", required=True, metavar="FILE", help="portfolio file")
    b.add_argument("--market", required=True, metavar="FILE", help="market snapshot file")
    b.add_argument("--out", required=True, metavar="DIR", help="run directory")
    b.add_argument(
        "--scheduler",
        metavar="ADDR",
        help="scheduler address (tcp://host:8786, tls://...); default: embedded cluster",
    )
    b.add_argument("--workers", type=int, metavar="N", help="embedded cluster size")
    mode = b.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="finish the run already in --out")
    mode.add_argument(
        "--replace", action="store_true", help="delete a previous run in --out and start afresh"
    )
    b.add_argument("--chunk-size", type=int, metavar="N", help="trades per task")
    b.add_argument("--reporting-ccy", metavar="CCY", help="reporting currency (default USD)")
    b.add_argument(
        "--engine",
        choices=("vectorised", "quantlib"),
        help="numpy kernels with QuantLib fallback, or the QuantLib reference "
        "(default: riskgrid.engine)",
    )
    b.add_argument(
        "--scenarios",
        metavar="FILE",
        help="scenario set (YAML/JSON): value every trade in every scenario",
    )
    b.add_argument(
        "--greeks",
        action="store_true",
        help="also compute every sensitivity (IR/FX/EQ/DIV/VOL/CREDIT bumps and theta; "
        "bump sizes riskgrid.greeks.*) into the cube",
    )
    b.add_argument("--tls-ca-file", metavar="FILE", help="CA certificate (TLS clusters)")
    b.add_argument("--tls-cert", metavar="FILE", help="client certificate (TLS clusters)")
    b.add_argument("--tls-key", metavar="FILE", help="client private key (TLS clusters)")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.set_defaults(run=cmd_batch)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for flag, key in (
        ("scheduler", "scheduler-address"),
        ("workers", "n-workers"),
        ("chunk_size", "chunk-size"),
        ("reporting_ccy", "reporting-currency"),
        ("engine", "engine"),
        ("tls_ca_file", "tls.ca-file"),
        ("tls_cert", "tls.cert"),
        ("tls_key", "tls.key"),
    ):
        value = getattr(args, flag)
        if value is not None:
            out[f"riskgrid.{key}"] = value
    if args.no_progress:
        out["riskgrid.progress"] = False
    if args.greeks:
        out["riskgrid.greeks.enabled"] = True
    return out


def cmd_batch(args: argparse.Namespace) -> int:
    """Run the batch; returns the exit code."""
    from grid.cli import EXIT_CLUSTER_LOST, EXIT_USAGE, UsageError, read_inputs

    t0 = time.perf_counter()
    with dask.config.set(_overrides(args)):
        snapshot, loaded = read_inputs(args.portfolio, args.market)
        scenarios = None
        if args.scenarios:
            try:
                scenarios = load_scenarios(args.scenarios)
                scenarios.quote_values(snapshot)  # every shift must hit a quote
            except (InputFileError, ValueError) as exc:
                raise UsageError(f"cannot use scenario file {args.scenarios}: {exc}") from None
        rd = RunDir(args.out)
        if args.replace:
            rd.clear()
        try:
            security = security_from_config()
        except ClusterConfigError as exc:
            raise UsageError(str(exc)) from None
        scheduler = config.get("scheduler-address")
        try:
            with connect(scheduler, security=security) as client:
                outcome = run_valuation(
                    client,
                    loaded.portfolio,
                    snapshot,
                    rd.root,
                    resume=args.resume,
                    load_errors=loaded.errors,
                    scenarios=scenarios,
                )
        except RunDirError as exc:
            raise UsageError(str(exc)) from None
        except ClusterConfigError as exc:
            raise UsageError(str(exc)) from None
        except (OSError, TimeoutError) as exc:
            hint = _tls_hint(scheduler, exc)
            why = f"{exc}{hint}"
            # A refused TLS handshake is a credentials problem, not a lost cluster: resuming
            # will not help until the certificates are fixed (exit 2, status "refused").
            refused = bool(hint)
            _lost_manifest(rd, scheduler, f"{type(exc).__name__}: {why}", refused)
            print(
                f"riskgrid: cannot reach the cluster at {scheduler or 'embedded cluster'}: "
                f"{why}; manifest: {rd.manifest}"
            )
            return EXIT_USAGE if refused else EXIT_CLUSTER_LOST
    m = outcome.manifest
    c = m["counts"]
    if m["errors"]:
        print(f"{len(m['errors'])} trade error(s):")
        for e in m["errors"]:
            print(f"  trade {e['trade_id']}: {e['field']}: {e['reason']}")
        print()
    if outcome.cube is not None:
        print(_summary(outcome.cube))
        if m.get("greeks"):
            print("\n" + _greeks_table(outcome.cube, m["greeks"]))
    print(f"\nrun {m['run_id']}: {m['status']} (exit {m['exit_code']})")
    print(
        f"  {c['valued']:,} valued, {c['pricing_failed']:,} failed to price, "
        f"{c['load_failed']:,} failed to load, {c['not_run']:,} not run"
    )
    print(
        f"  chunks: {c['chunks_done']}/{m['plan']['n_chunks']} done "
        f"({c['chunks_reused']} reused from the interrupted run, {c['chunks_computed']} "
        f"computed, {c['chunks_failed']} failed)"
    )
    print(
        f"  {len(m['cluster']['workers'])} workers at {m['cluster']['scheduler']}; "
        f"{time.perf_counter() - t0:.1f} s"
    )
    if m["cluster"]["error"]:
        print(f"  cluster: {m['cluster']['error']}")
    print(f"  cube: {rd.cube}\n  manifest: {rd.manifest}")
    if m["exit_code"] == EXIT_CLUSTER_LOST:
        print(f"  finish it with: riskgrid batch ... --out {rd.root} --resume")
    return int(m["exit_code"])


def _summary(cube: Any) -> str:
    df = cube.risk.summary("book")
    ccy = cube.attrs.get("reporting_currency", "")
    rows = [("DESK", "BOOK", "TRADES", "VALUED", "FAILED", f"PV ({ccy})")]
    for r in df.itertuples(index=False):
        rows.append(
            (
                str(r.desk),
                str(r.book),
                f"{r.trades:,}",
                f"{r.valued:,}",
                f"{r.failed:,}",
                f"{r.pv_reporting:,.2f}",
            )
        )
    total = df.sum(numeric_only=True)
    rows.append(
        (
            "FIRM",
            "",
            f"{int(total['trades']):,}",
            f"{int(total['valued']):,}",
            f"{int(total['failed']):,}",
            f"{total['pv_reporting']:,.2f}",
        )
    )
    return format_table(rows, right=(2, 3, 4, 5))


def _greeks_table(cube: Any, summary: dict[str, Any]) -> str:
    """Firm-level parallel Greeks per factor (reporting currency): the overnight headline."""
    ccy = cube.attrs.get("reporting_currency", "")
    rows = [("CLASS", "FACTOR", "MEASURE", f"FIRM ({ccy})")]
    for cls, measure in (
        ("IR", "delta"),
        ("IR", "gamma"),
        ("FX", "delta"),
        ("EQ", "delta"),
        ("EQ", "gamma"),
        ("DIV", "delta"),
        ("VOL", "vega"),
        ("CREDIT", "delta"),
        ("THETA", "theta"),
    ):
        try:
            lad = cube.risk.ladder(cls, measure, by="firm", bucketed=False).sum("firm")
        except (KeyError, ValueError):
            continue
        if lad.ndim == 0:
            rows.append((cls, "", measure, f"{float(lad):,.2f}"))
            continue
        for name, v in zip(lad[lad.dims[0]].values, lad.values, strict=True):
            if v != 0:
                rows.append((cls, str(name), measure, f"{float(v):,.2f}"))
    head = (
        f"Greeks: {summary['scenarios']} scenarios (base and bumps), "
        f"{summary['revaluations']:,} revaluations, {summary['entries']:,} sensitivities "
        f"(per +1bp IR/DIV/CREDIT and normal vols, +1% FX/EQ, +1 vol pt Black vols; "
        f"ladders: cube.risk.ladder)"
    )
    return head + "\n" + format_table(rows, right=(3,))


def _tls_hint(scheduler: str | None, exc: BaseException) -> str:
    """What an SSL error on a TLS scheduler most likely means (the client's side of a refused
    handshake reads as an unknown-CA alert or just an EOF, depending on timing)."""
    if scheduler and scheduler.startswith("tls://") and "SSL" in str(exc):
        return (
            " (TLS handshake refused: is --tls-cert signed by the cluster's CA, and "
            "--tls-ca-file the CA that signed the scheduler's certificate?)"
        )
    return ""


def _lost_manifest(rd: RunDir, scheduler: str | None, error: str, refused: bool = False) -> None:
    """Write a manifest saying the cluster could not be reached or refused our credentials
    (the run never started)."""
    rd.root.mkdir(parents=True, exist_ok=True)
    record = RunDir.read_json(rd.run_record) if rd.run_record.exists() else {}
    RunDir.write_json(
        rd.manifest,
        manifest_skeleton(
            run_id=record.get("run_id"),
            status="refused" if refused else "cluster-lost",
            exit_code=2 if refused else 3,
            asof=record.get("asof"),
            created=record.get("created"),
            finished=utc_now(),
            cluster={
                "scheduler": scheduler,
                "workers": [],
                "error": error,
            },
            counts={},
            errors=[],
        ),
    )
