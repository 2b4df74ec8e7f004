"""Market snapshots: an as-of date plus quotes keyed by quote id, immutable and content-hashed.

A :class:`MarketSnapshot` is plain data: it pickles, hashes and travels to workers; QuantLib
curves are built from it where they are used (:mod:`pricing.curves`). Quote ids follow the grammar
of :mod:`pricing.quotes`. Scenarios are made by :meth:`MarketSnapshot.apply`, which returns a new
snapshot and never changes the old one.

File formats (``load_snapshot`` / ``MarketSnapshot.save``):

* YAML / JSON: ``{"asof": "2025-11-28", "name": "...", "quotes": {id: value},
  "fixings": {index: {date: value}}}``.
* CSV: columns ``id,value``; one row ``ASOF,<date>``, optionally ``NAME,<text>``; fixings as rows
  ``FIXING.<INDEX>.<DATE>,<value>``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import fnmatch
import hashlib
import io
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

from pricing.errors import InputFileError, read_text
from pricing.quotes import QuoteKey, parse_quote_id
from pricing.trades.base import parse_date
from pricing.yaml_ import YAMLError, load_yaml

__all__ = ["FrozenMap", "MarketSnapshot", "Shock", "load_snapshot"]

ShiftType = Literal["ABSOLUTE", "RELATIVE", "MULTIPLY"]


class FrozenMap(Mapping[str, float]):
    """An immutable, picklable, sorted ``str -> float`` mapping."""

    __slots__ = ("_d",)

    def __init__(self, items: Mapping[str, float] | Iterable[tuple[str, float]] = ()) -> None:
        d = dict(items)
        self._d = {k: d[k] for k in sorted(d)}

    def __getitem__(self, key: str) -> float:
        return self._d[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __repr__(self) -> str:
        return f"FrozenMap({len(self._d)} items)"

    def __getstate__(self) -> dict[str, float]:
        return self._d

    def __setstate__(self, state: dict[str, float]) -> None:
        self._d = state


@dataclasses.dataclass(frozen=True)
class Shock:
    """One market move: quotes whose id matches ``pattern`` (a glob) move by ``value``.

    ``shift`` is ``"ABSOLUTE"`` (add ``value``; rates in decimals, so +25 bp is ``0.0025``),
    ``"RELATIVE"`` (multiply by ``1 + value``; SPX -10% is ``-0.10``) or ``"MULTIPLY"``
    (multiply by ``value``; vols x1.2 is ``1.2``). An absolute shift of a discount-factor quote
    ``IR.*.DF.<T>`` shifts its zero rate: ``DF * exp(-value * t)``.

    >>> Shock("IR.USD.*", "ABSOLUTE", 0.0025)
    Shock(pattern='IR.USD.*', shift='ABSOLUTE', value=0.0025)
    """

    pattern: str
    shift: ShiftType
    value: float

    def __post_init__(self) -> None:
        if self.shift not in ("ABSOLUTE", "RELATIVE", "MULTIPLY"):
            raise ValueError(
                f"shock {self.pattern!r}: unknown shift {self.shift!r} "
                "(ABSOLUTE, RELATIVE or MULTIPLY)"
            )
        if not math.isfinite(self.value):
            raise ValueError(f"shock {self.pattern!r}: value must be finite")
        if self.shift == "RELATIVE" and self.value <= -1:
            raise ValueError(f"shock {self.pattern!r}: a relative shift must be > -100%")
        if self.shift == "MULTIPLY" and self.value < 0:
            raise ValueError(f"shock {self.pattern!r}: a multiplier must not be negative")

    def matches(self, quote_id: str) -> bool:
        """True when this shock moves ``quote_id``."""
        return fnmatch.fnmatchcase(quote_id, self.pattern)


def _tenor_years(asof: dt.date, tenor: str) -> float:
    """ACT/365F years from ``asof`` to ``asof + tenor`` (unadjusted), as used for direct pillars."""
    return (tenor_date(asof, tenor) - asof).days / 365.0


def tenor_date(asof: dt.date, tenor: str) -> dt.date:
    """``asof`` plus a tenor (``"1W"``, ``"6M"``, ``"10Y"``), unadjusted, end-of-month clipped."""
    n, unit = int(tenor[:-1]), tenor[-1]
    if unit == "D":
        return asof + dt.timedelta(days=n)
    if unit == "W":
        return asof + dt.timedelta(weeks=n)
    months = n * (12 if unit == "Y" else 1)
    y, m = divmod(asof.month - 1 + months, 12)
    year, month = asof.year + y, m + 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(asof.day, last))


@dataclasses.dataclass(frozen=True, eq=False)
class MarketSnapshot:
    """Immutable market data at one as-of date.

    Parameters
    ----------
    asof
        The valuation date.
    quotes
        Quote id -> value; ids are checked against :mod:`pricing.quotes` on construction.
    fixings
        Index name -> {fixing date -> fixing}: past fixings of floating coupons in progress.
    name
        A label; not part of the content hash.

    >>> snap = MarketSnapshot(dt.date(2025, 11, 28), {"FX.EURUSD": 1.16, "EQ.SPX.SPOT": 6800.0})
    >>> snap.apply([Shock("EQ.SPX.SPOT", "RELATIVE", -0.10)])["EQ.SPX.SPOT"]
    6120.0
    """

    asof: dt.date
    quotes: Mapping[str, float]
    fixings: Mapping[str, Mapping[dt.date, float]] = dataclasses.field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        bad = []
        clean: dict[str, float] = {}
        for k, v in self.quotes.items():
            try:
                parse_quote_id(k)
                x = float(v)
            except (ValueError, TypeError) as exc:
                bad.append(
                    str(exc)
                    if isinstance(exc, ValueError) and "quote id" in str(exc)
                    else f"quote {k!r}: value {v!r} is not a number"
                )
                continue
            if not math.isfinite(x):
                bad.append(f"quote {k!r}: value {v!r} is not finite")
            clean[k] = x
        if bad:
            raise ValueError("invalid market snapshot:\n  " + "\n  ".join(bad))
        fix = {
            str(i): dict(sorted((parse_date(d), float(v)) for d, v in s.items()))
            for i, s in self.fixings.items()
        }
        object.__setattr__(self, "quotes", FrozenMap(clean))
        object.__setattr__(self, "fixings", {i: fix[i] for i in sorted(fix)})
        object.__setattr__(self, "_hash", None)

    # -- access -----------------------------------------------------------------------------------
    def __getitem__(self, quote_id: str) -> float:
        return self.quotes[quote_id]

    def __contains__(self, quote_id: object) -> bool:
        return quote_id in self.quotes

    def get(self, quote_id: str, default: float | None = None) -> float | None:
        """The quote's value, or ``default``."""
        return self.quotes.get(quote_id, default)

    def select(self, pattern: str) -> dict[str, float]:
        """Quotes whose id matches the glob ``pattern``."""
        return {k: v for k, v in self.quotes.items() if fnmatch.fnmatchcase(k, pattern)}

    def keys_parsed(self) -> Iterator[tuple[str, QuoteKey]]:
        """(quote id, parsed key) for every quote."""
        for k in self.quotes:
            yield k, parse_quote_id(k)

    @property
    def content_hash(self) -> str:
        """SHA-256 of as-of, quotes and fixings (not the name)."""
        h = self.__dict__.get("_hash")
        if h is None:
            doc = self.to_document()
            doc.pop("name", None)
            text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
            h = hashlib.sha256(text.encode()).hexdigest()
            object.__setattr__(self, "_hash", h)
        return h

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MarketSnapshot) and other.content_hash == self.content_hash

    def __hash__(self) -> int:
        return hash(self.content_hash)

    def __reduce__(self) -> tuple[Any, ...]:
        return (MarketSnapshot, (self.asof, dict(self.quotes), self.fixings, self.name))

    # -- scenarios --------------------------------------------------------------------------------
    def apply(
        self, shocks: Iterable[Shock], name: str | None = None, strict: bool = True
    ) -> MarketSnapshot:
        """A new snapshot with ``shocks`` applied in order (this one is unchanged).

        Parameters
        ----------
        shocks
            The moves; each applies to every quote its pattern matches.
        name
            Name of the new snapshot (default: this name).
        strict
            When True, a shock that matches no quote raises ``ValueError`` (a typo in a
            pattern must not pass silently as a zero move).
        """
        q = dict(self.quotes)
        for s in shocks:
            hit = [k for k in q if s.matches(k)]
            if strict and not hit:
                raise ValueError(f"shock pattern {s.pattern!r} matches no quote in the snapshot")
            for k in hit:
                q[k] = self._shifted(k, q[k], s)
        return MarketSnapshot(self.asof, q, self.fixings, self.name if name is None else name)

    def _shifted(self, quote_id: str, value: float, s: Shock) -> float:
        if s.shift == "RELATIVE":
            return value * (1.0 + s.value)
        if s.shift == "MULTIPLY":
            return value * s.value
        key = parse_quote_id(quote_id)
        if key.cls == "IR" and key.kind == "DF":
            return value * math.exp(-s.value * _tenor_years(self.asof, key.tenor))
        return value + s.value

    def with_quotes(self, updates: Mapping[str, float], name: str | None = None) -> MarketSnapshot:
        """A new snapshot with some quotes replaced or added."""
        return MarketSnapshot(
            self.asof, {**self.quotes, **updates}, self.fixings, self.name if name is None else name
        )

    def with_asof(self, asof: dt.date) -> MarketSnapshot:
        """The same quotes at another as-of date (used for theta / roll-down)."""
        return MarketSnapshot(asof, self.quotes, self.fixings, self.name)

    # -- files ------------------------------------------------------------------------------------
    def to_document(self) -> dict[str, Any]:
        """The YAML/JSON document form."""
        return {
            "asof": self.asof.isoformat(),
            "name": self.name,
            "quotes": dict(self.quotes),
            "fixings": {
                i: {d.isoformat(): v for d, v in s.items()} for i, s in self.fixings.items()
            },
        }

    def save(self, path: str | Path) -> Path:
        """Write as YAML, JSON or CSV (by suffix)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        suffix = p.suffix.lower()
        if suffix == ".json":
            p.write_text(json.dumps(self.to_document(), indent=1), encoding="utf-8")
        elif suffix in (".yaml", ".yml"):
            p.write_text(yaml.safe_dump(self.to_document(), sort_keys=False), encoding="utf-8")
        elif suffix == ".csv":
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(["id", "value"])
            w.writerow(["ASOF", self.asof.isoformat()])
            if self.name:
                w.writerow(["NAME", self.name])
            for k, v in self.quotes.items():
                w.writerow([k, repr(v)])
            for i, s in self.fixings.items():
                for d, v in s.items():
                    w.writerow([f"FIXING.{i}.{d.isoformat()}", repr(v)])
            p.write_text(buf.getvalue(), encoding="utf-8")
        else:
            raise InputFileError(f"{p}: unsupported snapshot format {suffix!r}")
        return p

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], source: str = "<document>") -> MarketSnapshot:
        """Build from the YAML/JSON document form; ``InputFileError`` naming what is wrong."""
        if not isinstance(doc, Mapping):
            raise InputFileError(f"{source}: a market snapshot must be a mapping")
        for key in ("asof", "quotes"):
            if key not in doc:
                raise InputFileError(f"{source}: missing {key!r}")
        quotes, fixings = doc["quotes"], doc.get("fixings") or {}
        if not isinstance(quotes, Mapping) or not isinstance(fixings, Mapping):
            raise InputFileError(f"{source}: 'quotes' and 'fixings' must be mappings")
        try:
            return cls(parse_date(doc["asof"]), quotes, fixings, str(doc.get("name") or ""))
        except (ValueError, TypeError, AttributeError) as exc:
            raise InputFileError(f"{source}: {exc}") from None


def load_snapshot(path: str | Path) -> MarketSnapshot:
    """Load a snapshot from YAML, JSON or CSV (see the module docstring for the formats)."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"{p}: no such file")
    suffix = p.suffix.lower()
    text = read_text(p)
    if suffix in (".yaml", ".yml", ".json"):
        try:
            doc = json.loads(text) if suffix == ".json" else load_yaml(text)
        except (json.JSONDecodeError, YAMLError) as exc:
            raise InputFileError(f"{p}: not valid {suffix[1:].upper()}: {exc}") from None
        return MarketSnapshot.from_document(doc, str(p))
    if suffix == ".csv":
        return _snapshot_from_csv(text, str(p))
    raise InputFileError(f"{p}: unsupported snapshot format {suffix!r} (.yaml, .json or .csv)")


def _snapshot_from_csv(text: str, source: str) -> MarketSnapshot:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["id", "value"]:
        raise InputFileError(f"{source}: first line must be the header 'id,value'")
    doc: dict[str, Any] = {"quotes": {}, "fixings": {}}
    for n, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) != 2:
            raise InputFileError(f"{source}: line {n} must have two cells (id,value)")
        key, value = row[0].strip(), row[1].strip()
        if key == "ASOF":
            doc["asof"] = value
        elif key == "NAME":
            doc["name"] = value
        elif key.startswith("FIXING."):
            index, _, date = key[len("FIXING.") :].rpartition(".")
            doc["fixings"].setdefault(index, {})[date] = value
        else:
            doc["quotes"][key] = value
    return MarketSnapshot.from_document(doc, source)
