"""In-process valuation of trades against a market snapshot with the QuantLib reference pricers.

:func:`price` is the one entry point: it sets QuantLib's global state for the snapshot, lists
every trade's market requirements up front, values each trade, and converts PVs to the
reporting currency. Failures are values (:class:`~pricing.errors.TradeError` on the result,
PV NaN); the call itself never fails because one trade did.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pricing.curves import QlMarket, build_market
from pricing.errors import MarketDataError, TradeError
from pricing.market import MarketSnapshot
from pricing.products import pricer_for
from pricing.quantlib_ import ql_session
from pricing.trades import Portfolio, Trade

__all__ = [
    "RESULT_COLUMNS",
    "PricingResults",
    "TradeResult",
    "check_trade",
    "merge_errors",
    "price",
]

NAN = float("nan")
RESULT_COLUMNS = ("trade_id", "book", "product", "currency", "pv", "pv_reporting", "error")


@dataclasses.dataclass(frozen=True)
class TradeResult:
    """Valuation of one trade (``error`` set and PVs NaN when it could not be valued)."""

    trade_id: str
    book: str
    product: str
    currency: str
    pv: float
    pv_reporting: float
    greeks: Mapping[str, float] = dataclasses.field(default_factory=dict)
    error: TradeError | None = None

    @property
    def ok(self) -> bool:
        """True when the trade was valued."""
        return self.error is None

    def to_record(self) -> dict[str, Any]:
        """Flat record: the result columns plus ``greek_<name>`` for each Greek."""
        rec: dict[str, Any] = {
            "trade_id": self.trade_id,
            "book": self.book,
            "product": self.product,
            "currency": self.currency,
            "pv": self.pv,
            "pv_reporting": self.pv_reporting,
            "error": "" if self.error is None else f"{self.error.field}: {self.error.reason}",
        }
        rec.update({f"greek_{k}": v for k, v in self.greeks.items()})
        return rec


@dataclasses.dataclass(frozen=True)
class PricingResults:
    """Results of one :func:`price` call, in trade order."""

    results: tuple[TradeResult, ...]
    reporting_currency: str
    snapshot_hash: str

    def __len__(self) -> int:
        return len(self.results)

    @property
    def errors(self) -> list[TradeError]:
        """Every trade that could not be valued."""
        return [r.error for r in self.results if r.error is not None]

    @property
    def n_failed(self) -> int:
        """How many trades failed."""
        return sum(1 for r in self.results if r.error is not None)

    def by_id(self) -> dict[str, TradeResult]:
        """Results keyed by trade id."""
        return {r.trade_id: r for r in self.results}

    def book_summary(self, portfolio: Portfolio | None = None) -> list[dict[str, Any]]:
        """Per book: desk, trade count, valued, failed, PV in reporting currency (valued trades)."""
        rows: dict[str, dict[str, Any]] = {}
        for r in self.results:
            row = rows.setdefault(
                r.book,
                {
                    "desk": portfolio.desk_of(r.book) if portfolio is not None else "",
                    "book": r.book,
                    "trades": 0,
                    "valued": 0,
                    "failed": 0,
                    "pv_reporting": 0.0,
                },
            )
            row["trades"] += 1
            if r.ok:
                row["valued"] += 1
                row["pv_reporting"] += r.pv_reporting
            else:
                row["failed"] += 1
        return sorted(rows.values(), key=lambda x: (x["desk"], x["book"]))

    def write(self, path: str | Path) -> Path:
        """Per-trade results to CSV or JSON (by suffix)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        records = [r.to_record() for r in self.results]
        if p.suffix.lower() == ".json":
            p.write_text(
                json.dumps(
                    {
                        "reporting_currency": self.reporting_currency,
                        "snapshot_hash": self.snapshot_hash,
                        "results": [
                            {
                                k: (None if isinstance(v, float) and math.isnan(v) else v)
                                for k, v in rec.items()
                            }
                            for rec in records
                        ],
                    },
                    indent=1,
                ),
                encoding="utf-8",
            )
        elif p.suffix.lower() == ".csv":
            greek_cols = sorted({k for rec in records for k in rec if k.startswith("greek_")})
            with p.open("w", newline="", encoding="utf-8") as fh:
                w = csv.DictWriter(fh, fieldnames=[*RESULT_COLUMNS, *greek_cols])
                w.writeheader()
                for rec in records:
                    w.writerow({k: repr(v) if isinstance(v, float) else v for k, v in rec.items()})
        else:
            raise ValueError(f"{p}: results can be written as .csv or .json")
        return p


def _failed(trade: Trade, err: TradeError) -> TradeResult:
    return TradeResult(
        trade.trade_id, trade.book, trade.product, _safe_ccy(trade), NAN, NAN, error=err
    )


def _safe_ccy(trade: Trade) -> str:
    try:
        return trade.currency
    except Exception:
        return ""


def merge_errors(errors: Sequence[TradeError]) -> TradeError:
    """One error record for a trade with several problems (fields and reasons joined)."""
    if len(errors) == 1:
        return errors[0]
    return TradeError(
        errors[0].trade_id, ",".join(e.field for e in errors), "; ".join(e.reason for e in errors)
    )


def check_trade(trade: Trade, market: QlMarket) -> TradeError | None:
    """Everything that must hold before a trade is valued, whatever the engine: its terms at
    the as-of date, a pricer for its product, and every market requirement it lists."""
    errors = trade.check(market.asof)
    if errors:
        return merge_errors(errors)
    try:
        module = pricer_for(trade.product)
    except KeyError:
        return TradeError(trade.trade_id, "product", f"no pricer for product {trade.product}")
    try:
        for req in module.requirements(trade):
            market.require(req)
    except MarketDataError as exc:
        return TradeError(trade.trade_id, "market", str(exc))
    return None


def value_trade(trade: Trade, market: QlMarket, reporting_currency: str) -> TradeResult:
    """Value one trade on an already-built market (inside a ``ql_session``)."""
    error = check_trade(trade, market)
    if error is not None:
        return _failed(trade, error)
    module = pricer_for(trade.product)
    try:
        fx = market.fx_rate(trade.currency, reporting_currency)
    except MarketDataError as exc:
        return _failed(trade, TradeError(trade.trade_id, "market", str(exc)))
    try:
        val = module.reference_pv(trade, market)
        pv = float(val.pv)
        if not math.isfinite(pv):
            raise ValueError(f"pricer returned a non-finite PV ({pv})")
    except MarketDataError as exc:
        return _failed(trade, TradeError(trade.trade_id, "market", str(exc)))
    except (RuntimeError, ValueError, ArithmeticError) as exc:  # QuantLib raises RuntimeError
        return _failed(trade, TradeError(trade.trade_id, "pricing", str(exc).strip()))
    except Exception as exc:
        return _failed(
            trade,
            TradeError(trade.trade_id, "pricing", f"internal error {type(exc).__name__}: {exc}"),
        )
    return TradeResult(
        trade.trade_id, trade.book, trade.product, trade.currency, pv, pv * fx, dict(val.greeks)
    )


def price(
    trades: Iterable[Trade] | Portfolio,
    market: MarketSnapshot,
    reporting_currency: str = "USD",
) -> PricingResults:
    """Value trades with the QuantLib reference pricers.

    Parameters
    ----------
    trades
        Trades (or a Portfolio) to value.
    market
        The market snapshot; QuantLib's evaluation date and fixings are set from it.
    reporting_currency
        Currency of ``pv_reporting`` (spot conversion).

    Returns
    -------
    PricingResults
        One result per trade, in input order; failures carry an error and NaN PVs.
    """
    seq: Sequence[Trade] = tuple(trades)
    with ql_session(market.asof, market.fixings):
        qm = build_market(market)
        results = tuple(value_trade(t, qm, reporting_currency) for t in seq)
    return PricingResults(results, reporting_currency, market.content_hash)
