"""Market conventions as data.

The YAML files beside this module hold currency, index, calendar and equity-underlying
conventions. They are read once into frozen dataclasses; nothing here imports QuantLib, so
trades can be validated against conventions in any process.

>>> from pricing.conventions import index_convention
>>> index_convention("EUR-EURIBOR-6M").tenor
'6M'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "BUSINESS_DAY_CONVENTIONS",
    "DAY_COUNTS",
    "CurrencyConvention",
    "IndexConvention",
    "SwapConvention",
    "UnderlyingConvention",
    "calendars",
    "currencies",
    "currency_convention",
    "curve_index",
    "index_convention",
    "indices",
    "underlying_convention",
    "underlyings",
]

#: Day-count names accepted in conventions and on trades.
DAY_COUNTS = ("ACT/360", "ACT/365F", "30/360", "30E/360", "ACT/ACT")
#: Business-day convention names accepted in conventions.
BUSINESS_DAY_CONVENTIONS = ("FOLLOWING", "MODIFIED_FOLLOWING", "PRECEDING", "UNADJUSTED")


@dataclass(frozen=True)
class CurrencyConvention:
    """Conventions of one currency."""

    code: str
    calendar: str
    discount_index: str
    spot_days: int


@dataclass(frozen=True)
class SwapConvention:
    """The standard fixed-vs-float swap on an index (curve bootstrap and trades alike)."""

    fixed_frequency: str
    fixed_day_count: str
    float_frequency: str
    settlement_days: int
    payment_lag: int
    convention: str


@dataclass(frozen=True)
class IndexConvention:
    """Conventions of one interest-rate index."""

    name: str
    kind: str  # "overnight" or "ibor"
    currency: str
    curve: str
    calendar: str
    fixing_days: int
    day_count: str
    swap: SwapConvention
    tenor: str | None = None
    convention: str = "MODIFIED_FOLLOWING"
    end_of_month: bool = False

    @property
    def is_overnight(self) -> bool:
        """True for an overnight (RFR) index."""
        return self.kind == "overnight"


@dataclass(frozen=True)
class UnderlyingConvention:
    """An equity underlying: its currency and exchange calendar."""

    name: str
    currency: str
    calendar: str
    description: str = ""


def _load(name: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"conventions file {name} must hold a mapping")
    return data


@cache
def calendars() -> dict[str, dict[str, str]]:
    """Calendar name -> QuantLib market (and variant), from ``calendars.yaml``."""
    return {k: dict(v) for k, v in _load("calendars.yaml").items()}


@cache
def currencies() -> dict[str, CurrencyConvention]:
    """All currency conventions, keyed by ISO code."""
    out = {}
    for code, v in _load("currencies.yaml").items():
        out[code] = CurrencyConvention(
            code=code,
            calendar=v["calendar"],
            discount_index=v["discount_index"],
            spot_days=int(v["spot_days"]),
        )
    return out


@cache
def indices() -> dict[str, IndexConvention]:
    """All index conventions, keyed by index name (e.g. ``"USD-SOFR"``)."""
    out = {}
    for name, v in _load("indices.yaml").items():
        sw = v["swap"]
        out[name] = IndexConvention(
            name=name,
            kind=v["kind"],
            currency=v["currency"],
            curve=v["curve"],
            calendar=v["calendar"],
            fixing_days=int(v["fixing_days"]),
            day_count=v["day_count"],
            tenor=v.get("tenor"),
            convention=v.get("convention", "MODIFIED_FOLLOWING"),
            end_of_month=bool(v.get("end_of_month", False)),
            swap=SwapConvention(
                fixed_frequency=str(sw["fixed_frequency"]),
                fixed_day_count=str(sw["fixed_day_count"]),
                float_frequency=str(sw["float_frequency"]),
                settlement_days=int(sw["settlement_days"]),
                payment_lag=int(sw.get("payment_lag", 0)),
                convention=str(sw.get("convention", "MODIFIED_FOLLOWING")),
            ),
        )
    return out


@cache
def underlyings() -> dict[str, UnderlyingConvention]:
    """All equity underlyings, keyed by ticker."""
    return {
        k: UnderlyingConvention(
            name=k, currency=v["currency"], calendar=v["calendar"], description=v.get("name", "")
        )
        for k, v in _load("underlyings.yaml").items()
    }


def currency_convention(code: str) -> CurrencyConvention:
    """Conventions of currency ``code``; ``KeyError`` naming the code if unknown."""
    try:
        return currencies()[code]
    except KeyError:
        raise KeyError(f"unknown currency {code!r}") from None


def index_convention(name: str) -> IndexConvention:
    """Conventions of index ``name``; ``KeyError`` naming the index if unknown."""
    try:
        return indices()[name]
    except KeyError:
        raise KeyError(f"unknown index {name!r}") from None


def underlying_convention(name: str) -> UnderlyingConvention:
    """Conventions of equity underlying ``name``; ``KeyError`` if unknown."""
    try:
        return underlyings()[name]
    except KeyError:
        raise KeyError(f"unknown equity underlying {name!r}") from None


def curve_index(currency: str, curve: str) -> IndexConvention:
    """The index whose quote-id curve name is ``curve`` in ``currency``."""
    for conv in indices().values():
        if conv.currency == currency and conv.curve == curve:
            return conv
    raise KeyError(f"no index with curve name {curve!r} in {currency}")
