"""The trade base class and the typed-field parsing shared by every product.

A trade is a frozen dataclass of plain values (str, float, int, bool, date and ``Literal``
choices). :func:`parse_trade` turns a loosely-typed record (from JSON, YAML or CSV) into a trade,
collecting *every* bad field as a :class:`~pricing.errors.TradeError` instead of stopping at the
first; :meth:`Trade.check` adds the semantic checks (positive notional, dates in order, known
currency/index/underlying, maturity after the as-of date).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import re
import types
from collections.abc import Mapping
from functools import cache
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Literal,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from pricing import conventions
from pricing.errors import TradeError

__all__ = ["Side", "Trade", "parse_date", "parse_tenor"]

Side = Literal["BUY", "SELL"]

_TENOR = re.compile(r"^(\d+)([DWMY])$")
_MISSING_VALUES = (None, "")

T = TypeVar("T", bound="Trade")


def parse_date(value: Any) -> dt.date:
    """A date from a ``datetime.date`` or an ISO ``YYYY-MM-DD`` string.

    >>> parse_date("2025-11-28")
    datetime.date(2025, 11, 28)
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"malformed date {value!r} (expected YYYY-MM-DD)")


def parse_tenor(value: Any) -> str:
    """A normalised tenor string (``"10y"`` -> ``"10Y"``); ``ValueError`` if malformed.

    >>> parse_tenor(" 6m ")
    '6M'
    """
    text = str(value).strip().upper()
    m = _TENOR.match(text)
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"malformed tenor {value!r} (expected e.g. 3M, 1Y, 10Y)")
    return text


def _coerce(value: Any, typ: Any) -> Any:
    """Convert ``value`` to the annotated field type ``typ`` or raise ``ValueError``."""
    origin = get_origin(typ)
    if origin is Literal:
        choices = get_args(typ)
        text = str(value).strip().upper()
        if text not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
        return text
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(typ) if a is not type(None)]
        return _coerce(value, inner[0])
    if typ is dt.date:
        return parse_date(value)
    if typ is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "1"):
            return True
        if text in ("false", "no", "0"):
            return False
        raise ValueError(f"{value!r} is not a boolean")
    if typ is float:
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a number")
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a number") from None
        if not math.isfinite(x):
            raise ValueError(f"{value!r} is not a finite number")
        return x
    if typ is int:
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not an integer")
        try:
            f = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not an integer") from None
        if not f.is_integer():
            raise ValueError(f"{value!r} is not an integer")
        return int(f)
    if typ is str:
        if isinstance(value, (dict, list)):
            raise ValueError(f"{value!r} is not a string")
        text = str(value).strip()
        if not text:
            raise ValueError("must not be empty")
        return text
    raise TypeError(f"unsupported field type {typ!r}")  # a programming error, not user input


@dataclasses.dataclass(frozen=True, kw_only=True)
class Trade:
    """Base of every product: identity and book, no economics.

    Subclasses add their economic terms as fields and set ``product`` (the product code used in
    files, results and cubes).
    """

    product: ClassVar[str] = ""
    #: Fields that must be > 0; checked even when other fields fail to parse.
    positive_fields: ClassVar[tuple[str, ...]] = ()

    trade_id: str
    book: str
    counterparty: str

    if TYPE_CHECKING:  # every product defines it, as a field or a property

        @property
        def currency(self) -> str:
            """The currency the trade's PV is expressed in."""

    # -- identity ---------------------------------------------------------------------------------

    def to_record(self) -> dict[str, Any]:
        """Plain-dict form (dates as ISO strings), the inverse of :func:`parse_trade`."""
        rec: dict[str, Any] = {"product": self.product}
        for name in _field_names(type(self)):
            v = getattr(self, name)
            rec[name] = v.isoformat() if isinstance(v, dt.date) else v
        return rec

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_content_hash", None)  # a cache: recomputed where needed, never shipped
        return state

    def content_hash(self) -> str:
        """SHA-256 of the trade's canonical record: changes whenever any term changes.

        Computed once per trade object (trades are immutable).
        """
        h: str | None = self.__dict__.get("_content_hash")
        if h is None:
            text = json.dumps(self.to_record(), sort_keys=True, separators=(",", ":"))
            h = hashlib.sha256(text.encode()).hexdigest()
            object.__setattr__(self, "_content_hash", h)
        return h

    # -- validation -------------------------------------------------------------------------------
    def check(self, asof: dt.date | None = None) -> list[TradeError]:
        """Semantic checks beyond field types; every problem found, not only the first.

        Parameters
        ----------
        asof
            Valuation date; when given, trades that matured or expired before it are errors.
        """
        return self._positive(*self.positive_fields)

    def _err(self, field: str, reason: str) -> TradeError:
        return TradeError(self.trade_id, field, reason)

    def _positive(self, *names: str) -> list[TradeError]:
        return [
            self._err(n, f"must be positive, got {getattr(self, n)!r}")
            for n in names
            if not getattr(self, n) > 0
        ]

    def _known_currency(self, name: str = "currency") -> list[TradeError]:
        code = getattr(self, name)
        if code not in conventions.currencies():
            known = ", ".join(sorted(conventions.currencies()))
            return [self._err(name, f"unknown currency {code!r} (known: {known})")]
        return []

    def _after(self, later: str, earlier: str) -> list[TradeError]:
        a, b = getattr(self, later), getattr(self, earlier)
        if not a > b:
            return [self._err(later, f"{a.isoformat()} is not after {earlier} {b.isoformat()}")]
        return []

    def _not_before_asof(self, name: str, asof: dt.date | None) -> list[TradeError]:
        d = getattr(self, name)
        if asof is not None and d <= asof:
            return [
                self._err(name, f"{d.isoformat()} is not after the as-of date {asof.isoformat()}")
            ]
        return []


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _field_types(cls: type[Trade]) -> dict[str, Any]:
    return _field_types_cached(cls.product)


@cache
def _field_types_cached(product: str) -> dict[str, Any]:
    from pricing.trades.registry import PRODUCTS

    cls = PRODUCTS[product]
    hints = get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def build_trade(
    cls: type[T], record: Mapping[str, Any], trade_id: str, ignore: frozenset[str] = frozenset()
) -> tuple[T | None, list[TradeError]]:
    """Build a ``cls`` trade from ``record``, collecting one error per bad field.

    Empty values (``None`` or ``""``) count as absent, so a CSV row may leave blank the columns
    of other products. Non-empty keys that are not fields of ``cls`` (nor in ``ignore``) are
    errors: a misspelt field must not silently take its default.
    """
    errors: list[TradeError] = []
    values: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    types_ = _field_types(cls)
    for name, f in fields.items():
        raw = record.get(name)
        if raw in _MISSING_VALUES:
            has_default = (
                f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            )
            if not has_default:
                errors.append(TradeError(trade_id, name, "missing required field"))
            continue
        try:
            values[name] = _coerce(raw, types_[name])
        except ValueError as exc:
            errors.append(TradeError(trade_id, name, str(exc)))
    for key, raw in record.items():
        if key not in fields and key not in ignore and raw not in _MISSING_VALUES:
            errors.append(
                TradeError(trade_id, str(key), f"unknown field for product {cls.product}")
            )
    for name in cls.positive_fields:
        if name in values and not values[name] > 0:
            errors.append(TradeError(trade_id, name, f"must be positive, got {values[name]!r}"))
    if errors:
        return None, errors
    return cls(**values), []
