"""Read and write portfolios as JSON, YAML or CSV.

File formats (see the README, "Data formats"):

* **JSON / YAML** — a document ``{"firm": ..., "books": [{"book": ..., "desk": ...}],
  "trades": [record, ...]}``, or a bare list of trade records. A record is a mapping of field
  name to value with a ``product`` key (``IRS``, ``FX_OPTION``...).
* **CSV, one file** — one row per trade with a ``product`` column; columns of other products
  are left blank.
* **CSV, one file per product** — a directory holding ``<PRODUCT>.csv`` files (e.g.
  ``IRS.csv``, ``EQ_BARRIER.csv``) with no ``product`` column needed, plus an optional
  ``books.csv`` (columns ``book,desk``; an optional ``firm`` column).

In every format a record may carry a ``desk`` column/key, which places its book in the hierarchy.

Loading never stops at the first bad trade: :func:`load_portfolio` returns the good trades and
every error (trade id, field, reason). Only an unreadable file raises
:class:`~pricing.errors.InputFileError`. Files are parsed as data only (``yaml.safe_load``,
``json``, ``csv``): nothing in them is ever executed or unpickled.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from pricing.errors import InputFileError, TradeError, read_text
from pricing.trades.base import Trade
from pricing.trades.portfolio import Portfolio
from pricing.trades.registry import PRODUCTS, parse_trade
from pricing.yaml_ import YAMLError, load_yaml

__all__ = ["LoadResult", "load_portfolio", "parse_portfolio", "write_portfolio"]

DEFAULT_FIRM = "FIRM"


@dataclasses.dataclass(frozen=True)
class LoadResult:
    """What loading a portfolio gave: the valid trades and every error found."""

    portfolio: Portfolio
    errors: tuple[TradeError, ...]

    @property
    def ok(self) -> bool:
        """True when every record was a valid trade."""
        return not self.errors


def _books_from(value: Any, source: str) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if isinstance(value, Mapping):  # {book: desk}
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        out = {}
        for i, row in enumerate(value):
            if not isinstance(row, Mapping) or "book" not in row or "desk" not in row:
                raise InputFileError(f"{source}: books[{i}] must have 'book' and 'desk'")
            out[str(row["book"])] = str(row["desk"])
        return out
    raise InputFileError(f"{source}: 'books' must be a mapping or a list of {{book, desk}}")


def parse_portfolio(
    records: Iterable[tuple[str, Mapping[str, Any]]],
    books: Mapping[str, str] | None = None,
    firm: str = DEFAULT_FIRM,
    asof: dt.date | None = None,
    product: str | None = None,
) -> LoadResult:
    """Validate ``(label, record)`` pairs into a portfolio plus errors.

    Duplicate trade ids are errors on every occurrence after the first, which is kept.
    A record's ``desk`` that contradicts the declared hierarchy is an error on that record.
    """
    trades: list[Trade] = []
    errors: list[TradeError] = []
    seen: set[str] = set()
    hierarchy = dict(books or {})
    for label, rec in records:
        if not isinstance(rec, Mapping):
            errors.append(
                TradeError(label, "record", f"must be a mapping, got {type(rec).__name__}")
            )
            continue
        trade, errs = parse_trade(rec, asof=asof, label=label, product=product)
        desk = rec.get("desk")
        if trade is not None and desk not in (None, ""):
            desk = str(desk).strip()
            known = hierarchy.get(trade.book)
            if known is not None and known != desk:
                errs = [
                    TradeError(
                        trade.trade_id,
                        "desk",
                        f"book {trade.book} belongs to desk {known}, not {desk}",
                    )
                ]
                trade = None
            else:
                hierarchy[trade.book] = desk
        if trade is not None and trade.trade_id in seen:
            errs = [TradeError(trade.trade_id, "trade_id", "duplicate trade id")]
            trade = None
        errors.extend(errs)
        if trade is not None:
            seen.add(trade.trade_id)
            trades.append(trade)
    return LoadResult(Portfolio(tuple(trades), hierarchy, firm), tuple(errors))


def _read_document(path: Path) -> Any:
    text = read_text(path)
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return load_yaml(text)
    except (json.JSONDecodeError, YAMLError) as exc:
        raise InputFileError(f"{path}: not valid {path.suffix[1:].upper()}: {exc}") from None


def _read_csv(path: Path) -> list[dict[str, str]]:
    with io.StringIO(read_text(path), newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None:
            return []
        rows = []
        for row in reader:
            if None in row:  # more cells than header columns
                raise InputFileError(f"{path}: line {reader.line_num} has more cells than columns")
            rows.append({k.strip(): (v or "").strip() for k, v in row.items() if k})
        return rows


def load_portfolio(path: str | Path, asof: dt.date | None = None) -> LoadResult:
    """Load a portfolio file (or CSV directory), returning good trades and all errors.

    Parameters
    ----------
    path
        ``.json``, ``.yaml``/``.yml``, ``.csv``, or a directory of per-product CSV files.
    asof
        When given, trades maturing on or before it are reported as errors.

    Raises
    ------
    InputFileError
        The file does not exist or cannot be parsed at all.
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{p}: no such file or directory")
    if p.is_dir():
        return _load_csv_dir(p, asof)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        rows = _read_csv(p)
        return parse_portfolio(
            ((f"<{p.name} row {i + 2}>", r) for i, r in enumerate(rows)), asof=asof
        )
    if suffix not in (".json", ".yaml", ".yml"):
        raise InputFileError(
            f"{p}: unsupported portfolio format {suffix!r} "
            "(use .json, .yaml, .yml, .csv or a directory of CSV files)"
        )
    doc = _read_document(p)
    if isinstance(doc, list):
        doc = {"trades": doc}
    if not isinstance(doc, Mapping) or not isinstance(doc.get("trades"), list):
        raise InputFileError(f"{p}: expected a list of trades or a mapping with a 'trades' list")
    books = _books_from(doc.get("books"), str(p))
    firm = str(doc.get("firm") or DEFAULT_FIRM)
    records = ((f"<{p.name} trade {i + 1}>", r) for i, r in enumerate(doc["trades"]))
    return parse_portfolio(records, books, firm, asof)


def _load_csv_dir(d: Path, asof: dt.date | None) -> LoadResult:
    books: dict[str, str] = {}
    firm = DEFAULT_FIRM
    books_file = d / "books.csv"
    if books_file.exists():
        for i, row in enumerate(_read_csv(books_file)):
            if not row.get("book") or not row.get("desk"):
                raise InputFileError(f"{books_file}: row {i + 2} needs 'book' and 'desk'")
            books[row["book"]] = row["desk"]
            firm = row.get("firm") or firm
    files = sorted(f for f in d.glob("*.csv") if f.name != "books.csv")
    unknown = [f.name for f in files if f.stem.upper() not in PRODUCTS]
    if unknown:
        raise InputFileError(
            f"{d}: CSV files must be named <PRODUCT>.csv; unknown: "
            f"{', '.join(unknown)} (products: {', '.join(PRODUCTS)})"
        )
    results = []
    for f in files:
        rows = _read_csv(f)
        results.append(
            parse_portfolio(
                ((f"<{f.name} row {i + 2}>", r) for i, r in enumerate(rows)),
                books,
                firm,
                asof,
                product=f.stem.upper(),
            )
        )
    return _concat(results, books, firm)


def _concat(results: Sequence[LoadResult], books: Mapping[str, str], firm: str) -> LoadResult:
    trades: list[Trade] = []
    errors: list[TradeError] = []
    seen: set[str] = set()
    hierarchy = dict(books)
    for r in results:
        hierarchy.update(r.portfolio.books)
        errors.extend(r.errors)
        for t in r.portfolio.trades:
            if t.trade_id in seen:
                errors.append(TradeError(t.trade_id, "trade_id", "duplicate trade id"))
                continue
            seen.add(t.trade_id)
            trades.append(t)
    return LoadResult(Portfolio(tuple(trades), hierarchy, firm), tuple(errors))


def _csv_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if isinstance(v, float) else str(v)


def write_portfolio(portfolio: Portfolio, path: str | Path) -> Path:
    """Write ``portfolio`` as JSON, YAML or a single CSV (by the file suffix).

    Floats are written with ``repr`` so a round trip is exact.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    suffix = p.suffix.lower()
    if suffix == ".json":
        p.write_text(json.dumps(portfolio.to_document(), indent=1), encoding="utf-8")
    elif suffix in (".yaml", ".yml"):
        p.write_text(yaml.safe_dump(portfolio.to_document(), sort_keys=False), encoding="utf-8")
    elif suffix == ".csv":
        records = [{**t.to_record(), "desk": portfolio.desk_of(t.book)} for t in portfolio.trades]
        columns: dict[str, None] = {"product": None, "trade_id": None, "book": None, "desk": None}
        for r in records:
            columns.update(dict.fromkeys(r))
        with p.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(columns))
            w.writeheader()
            for r in records:
                w.writerow({k: _csv_value(v) for k, v in r.items()})
    else:
        raise InputFileError(f"{p}: unsupported portfolio format {suffix!r}")
    return p
