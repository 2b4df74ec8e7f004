"""The ``riskgrid`` command line.

Commands::

    riskgrid demo  --out DIR [--trades N] [--seed S]
    riskgrid price --portfolio FILE --market FILE [--out FILE.csv|FILE.json] [--reporting-ccy USD]
    riskgrid batch --portfolio FILE --market FILE --out DIR [--scheduler ADDR] [--resume] ...
    riskgrid diff  RUN_A RUN_B [--tol X] [--rel-tol Y] [--out FILE.csv]

``demo`` writes a seeded demo portfolio (``portfolio.json``), a file of deliberately bad trades
(``bad_trades.yaml``) and the demo market (``market.yaml``) to ``DIR``. ``price`` values a
portfolio file in this process with the QuantLib reference pricers, prints every trade error and
a per-book summary, and writes one row per record (valued, failed to price, or failed to load) to
``--out``. ``batch`` is the overnight job on a Dask cluster (:mod:`grid.batch`); ``diff``
compares two runs (:mod:`grid.diff`).

Exit codes:

    0  every trade valued
    1  some trades failed to load or to price; the others were valued and written
    2  bad command line, or an input file that cannot be read (one line on stderr says which
       file and why)
    3  the cluster was lost or chunks failed after retries (batch; --resume finishes the run)
    4  unexpected internal error, a bug (``--traceback`` prints where)

>>> build_parser().prog
'riskgrid'
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import yaml

from grid import batch, diff, report
from pricing import conventions
from pricing.demo import demo_bad_trades, demo_market, demo_portfolio
from pricing.demo.portfolio import BOOKS, FIRM
from pricing.errors import InputFileError
from pricing.market import MarketSnapshot, load_snapshot
from pricing.pricer import PricingResults, price
from pricing.trades import LoadResult, Portfolio, load_portfolio, write_portfolio

__all__ = [
    "EXIT_CLUSTER_LOST",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_TRADES_FAILED",
    "EXIT_USAGE",
    "main",
]

EXIT_OK, EXIT_TRADES_FAILED, EXIT_USAGE, EXIT_CLUSTER_LOST, EXIT_INTERNAL = 0, 1, 2, 3, 4

EPILOG = """\
exit codes:
  0  every trade valued
  1  some trades failed to load or to price; the others were valued and written
  2  bad command line, or an input file that cannot be read
  3  the cluster was lost or chunks failed after retries (batch; --resume finishes it)
  4  unexpected internal error (a bug; --traceback prints where)
"""

T = TypeVar("T")


class UsageError(Exception):
    """A user error (bad option, unreadable file): exit 2 with this one-line message."""


def _read(what: str, path: str, loader: Callable[[str], T]) -> T:
    """``loader(path)``, turning every way a file can be unreadable into a UsageError."""
    try:
        return loader(path)
    except InputFileError as exc:
        raise UsageError(f"cannot read {what} file: {exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"cannot read {what} file {path}: not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None


def read_inputs(portfolio: str, market: str) -> tuple[MarketSnapshot, LoadResult]:
    """Load the market snapshot, then the portfolio validated at its as-of date.

    Raises
    ------
    UsageError
        Either file cannot be read; the message names the file and why.
    """
    snapshot = _read("market", market, load_snapshot)
    loaded = _read("portfolio", portfolio, lambda p: load_portfolio(p, asof=snapshot.asof))
    return snapshot, loaded


def _cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    portfolio = demo_portfolio(args.trades, args.seed)
    bad = {**Portfolio((), BOOKS, FIRM).to_document(), "trades": demo_bad_trades()}
    try:
        out.mkdir(parents=True, exist_ok=True)
        paths = [
            write_portfolio(portfolio, out / "portfolio.json"),
            out / "bad_trades.yaml",
            demo_market().save(out / "market.yaml"),
        ]
        paths[1].write_text(
            "# Demo trades with one deliberate defect each (ids BAD-*), plus good "
            "ones (OK-*).\n" + yaml.safe_dump(bad, sort_keys=False),
            encoding="utf-8",
        )
    except OSError as exc:
        raise UsageError(f"cannot write demo files to {out}: {exc.strerror or exc}") from None
    print(f"{paths[0]}  ({len(portfolio):,} trades, seed {args.seed})")
    print(f"{paths[1]}  ({len(bad['trades'])} records, most with one deliberate defect)")
    print(f"{paths[2]}  (demo market as of {demo_market().asof})")
    print(
        f"\nnext: riskgrid price --portfolio {paths[0]} --market {paths[2]} "
        f"--out {out / 'results.csv'}"
    )
    return EXIT_OK


def _cmd_price(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".csv", ".json"):
        raise UsageError(f"--out {out}: results are written as .csv or .json")
    ccy = args.reporting_ccy.strip().upper()
    if ccy not in conventions.currencies():
        raise UsageError(
            f"--reporting-ccy {args.reporting_ccy}: unknown currency "
            f"(known: {', '.join(sorted(conventions.currencies()))})"
        )
    t0 = time.perf_counter()
    snapshot, loaded = read_inputs(args.portfolio, args.market)
    t1 = time.perf_counter()
    results = price(loaded.portfolio, snapshot, ccy)
    t2 = time.perf_counter()
    not_loaded = report.load_failures(loaded.errors)
    errors = [*loaded.errors, *results.errors]
    print(
        f"portfolio {args.portfolio}: {len(loaded.portfolio) + len(not_loaded):,} records, "
        f"{len(not_loaded):,} failed to load"
    )
    print(f"market    {args.market}: {snapshot.name or 'snapshot'} as of {snapshot.asof}\n")
    if errors:
        print(f"{len(errors)} trade error(s):")
        print("\n".join(f"  {e}" for e in errors) + "\n")
    print(report.summary_table(results, loaded.portfolio, len(not_loaded)))
    if out is not None:
        everything = PricingResults((*results.results, *not_loaded), ccy, results.snapshot_hash)
        try:
            everything.write(out)
        except OSError as exc:
            raise UsageError(f"cannot write results to {out}: {exc.strerror or exc}") from None
        print(f"\nresults written to {out}")
    failed = results.n_failed + len(not_loaded)
    print(
        f"\n{len(results) - results.n_failed:,} valued, {failed:,} failed in "
        f"{t2 - t0:.2f} s (load {t1 - t0:.2f} s, pricing {t2 - t1:.2f} s)"
    )
    return EXIT_TRADES_FAILED if failed else EXIT_OK


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {n}")
        return n

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``riskgrid`` (each subcommand sets ``run``)."""
    fmt = argparse.RawDescriptionHelpFormatter
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--traceback", action="store_true", help="print the full traceback of an internal error"
    )
    parser = argparse.ArgumentParser(
        prog="riskgrid",
        description="Pricing and risk compute grid.",
        epilog=EPILOG,
        formatter_class=fmt,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        parents=[common],
        epilog=EPILOG,
        formatter_class=fmt,
        help="write a demo portfolio, bad trades and the demo market",
        description="Write DIR/portfolio.json (seeded demo portfolio), "
        "DIR/bad_trades.yaml and DIR/market.yaml.",
    )
    demo.add_argument("--out", required=True, metavar="DIR", help="directory to write to")
    demo.add_argument(
        "--trades",
        type=_count(1),
        default=3000,
        metavar="N",
        help="number of trades (default 3000)",
    )
    demo.add_argument(
        "--seed",
        type=_count(0),
        default=0,
        metavar="S",
        help="random seed (default 0); the same seed gives the same portfolio",
    )
    demo.set_defaults(run=_cmd_demo)

    pr = sub.add_parser(
        "price",
        parents=[common],
        epilog=EPILOG,
        formatter_class=fmt,
        help="value a portfolio against a market snapshot (in this process)",
        description="Value every trade of a portfolio file (JSON, YAML, CSV or "
        "a directory of per-product CSV files) against a market "
        "snapshot file (YAML, JSON or CSV).",
    )
    pr.add_argument("--portfolio", required=True, metavar="FILE", help="portfolio file")
    pr.add_argument("--market", required=True, metavar="FILE", help="market snapshot file")
    pr.add_argument("--out", metavar="FILE", help="per-trade results, .csv or .json")
    pr.add_argument(
        "--reporting-ccy",
        default="USD",
        metavar="CCY",
        help="currency of the summary and of pv_reporting (default USD)",
    )
    pr.set_defaults(run=_cmd_price)

    batch.add_parser(sub, [common], EPILOG)
    diff.add_parser(sub, [common], EPILOG)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``riskgrid`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        code: int = args.run(args)
    except UsageError as exc:
        print(f"riskgrid: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("riskgrid: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: never a bare traceback
        if args.traceback:
            traceback.print_exc()
        hint = "" if args.traceback else "; re-run with --traceback to see where"
        print(
            f"riskgrid: internal error: {type(exc).__name__}: {exc} "
            f"(a bug in riskgrid, please report it{hint})",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return code


if __name__ == "__main__":
    raise SystemExit(main())
