"""Adapter between plain riskgrid data and QuantLib objects.

Everything that turns a string, a ``datetime.date`` or a convention into a QuantLib object lives
here, so that no other module spells QuantLib enums. QuantLib objects never leave the process
that built them (they do not pickle).

The QuantLib evaluation date, the index fixings and the par-coupon switch are process-global in
QuantLib; :func:`ql_session` sets all three explicitly for every pricing call, so nothing
depends on what an earlier call left behind.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache

import QuantLib as ql

from pricing.conventions import IndexConvention, calendars, index_convention

__all__ = [
    "bdc",
    "calendar",
    "currency",
    "day_counter",
    "frequency",
    "ibor_index",
    "overnight_index",
    "period",
    "py_date",
    "ql_date",
    "ql_session",
]

_TENOR = re.compile(r"^(\d+)([DWMY])$")
_UNITS = {"D": ql.Days, "W": ql.Weeks, "M": ql.Months, "Y": ql.Years}


def ql_date(d: dt.date) -> ql.Date:
    """A QuantLib date from a ``datetime.date``."""
    return ql.Date(d.day, d.month, d.year)


def py_date(d: ql.Date) -> dt.date:
    """A ``datetime.date`` from a QuantLib date."""
    return dt.date(d.year(), d.month(), d.dayOfMonth())


def period(tenor: str) -> ql.Period:
    """A QuantLib period from a tenor string such as ``"3M"``, ``"10Y"`` or ``"1W"``."""
    m = _TENOR.match(tenor.strip().upper())
    if not m:
        raise ValueError(f"malformed tenor {tenor!r} (expected e.g. 1W, 3M, 10Y)")
    return ql.Period(int(m.group(1)), _UNITS[m.group(2)])


def frequency(tenor: str) -> int:
    """A QuantLib frequency from a coupon tenor (``"1Y"`` -> Annual, ``"6M"`` -> Semiannual)."""
    return int(period(tenor).frequency())


@cache
def calendar(name: str) -> ql.Calendar:
    """The QuantLib calendar of a calendar name from ``conventions/calendars.yaml``."""
    try:
        spec = calendars()[name]
    except KeyError:
        raise KeyError(f"unknown calendar {name!r}") from None
    cls = getattr(ql, spec["market"])
    variant = spec.get("variant")
    return cls(getattr(cls, variant)) if variant else cls()


_DAY_COUNTS = {
    "ACT/360": lambda: ql.Actual360(),
    "ACT/365F": lambda: ql.Actual365Fixed(),
    "30/360": lambda: ql.Thirty360(ql.Thirty360.BondBasis),
    "30E/360": lambda: ql.Thirty360(ql.Thirty360.European),
    "ACT/ACT": lambda: ql.ActualActual(ql.ActualActual.ISDA),
}


def day_counter(name: str) -> ql.DayCounter:
    """The QuantLib day counter for a day-count name (``ACT/360``, ``30/360``...)."""
    try:
        return _DAY_COUNTS[name]()
    except KeyError:
        raise KeyError(f"unknown day count {name!r}") from None


_BDC = {
    "FOLLOWING": ql.Following,
    "MODIFIED_FOLLOWING": ql.ModifiedFollowing,
    "PRECEDING": ql.Preceding,
    "UNADJUSTED": ql.Unadjusted,
}


def bdc(name: str) -> int:
    """The QuantLib business-day convention for a convention name."""
    try:
        return _BDC[name]
    except KeyError:
        raise KeyError(f"unknown business-day convention {name!r}") from None


def currency(code: str) -> ql.Currency:
    """The QuantLib currency for an ISO code (a generic one when QuantLib has none)."""
    cls = getattr(ql, f"{code}Currency", None)
    return cls() if cls is not None else ql.Currency()


def overnight_index(
    conv: IndexConvention, curve: ql.YieldTermStructureHandle | None = None
) -> ql.OvernightIndex:
    """A QuantLib overnight index built from conventions, projecting on ``curve``."""
    return ql.OvernightIndex(
        conv.name,
        conv.fixing_days,
        currency(conv.currency),
        calendar(conv.calendar),
        day_counter(conv.day_count),
        curve if curve is not None else ql.YieldTermStructureHandle(),
    )


def ibor_index(
    conv: IndexConvention, curve: ql.YieldTermStructureHandle | None = None
) -> ql.IborIndex:
    """A QuantLib IBOR-style index built from conventions, projecting on ``curve``."""
    if conv.tenor is None:
        raise ValueError(f"index {conv.name} has no tenor: it is not an IBOR index")
    return ql.IborIndex(
        conv.name,
        period(conv.tenor),
        conv.fixing_days,
        currency(conv.currency),
        calendar(conv.calendar),
        bdc(conv.convention),
        conv.end_of_month,
        day_counter(conv.day_count),
        curve if curve is not None else ql.YieldTermStructureHandle(),
    )


def make_index(
    name: str, curve: ql.YieldTermStructureHandle | None = None
) -> ql.IborIndex | ql.OvernightIndex:
    """The QuantLib index named ``name`` (overnight or IBOR), projecting on ``curve``."""
    conv = index_convention(name)
    return overnight_index(conv, curve) if conv.is_overnight else ibor_index(conv, curve)


_loaded_fixings: dict[str, object] = {"key": None, "sizes": None}


def _history_sizes(names: list[str]) -> tuple[tuple[str, int], ...]:
    return tuple((n, len(make_index(n).timeSeries())) for n in names)


def _load_fixings(asof: dt.date, fixings: Mapping[str, Mapping[dt.date, float]]) -> None:
    """Replace QuantLib's fixing histories by ``fixings`` up to ``asof``.

    Reloading identical histories would notify every curve observing those indices and force
    a re-bootstrap of all of them on every call; so when the same fixings (by value) were
    loaded last and QuantLib still holds histories of the same names and sizes, nothing is done.
    """
    # what QuantLib will hold: the fixings up to the as-of date (so the base date and the
    # next day's roll-down share one load when no fixing falls on the roll date)
    names = sorted(fixings)
    wanted = {n: sorted((d, float(v)) for d, v in fixings[n].items() if d <= asof) for n in names}
    key = tuple((n, tuple(wanted[n])) for n in names)
    if _loaded_fixings["key"] == key and _loaded_fixings["sizes"] == _history_sizes(names):
        return
    ql.IndexManager.instance().clearHistories()
    for name in names:
        idx = make_index(name)
        past = [(ql_date(d), v) for d, v in wanted[name] if idx.isValidFixingDate(ql_date(d))]
        if past:
            idx.addFixings([d for d, _ in past], [v for _, v in past], True)
    _loaded_fixings["key"] = key
    _loaded_fixings["sizes"] = _history_sizes(names)


@contextmanager
def ql_session(
    asof: dt.date, fixings: Mapping[str, Mapping[dt.date, float]] | None = None
) -> Iterator[None]:
    """Set QuantLib's process-global state for one pricing call.

    Sets the evaluation date to ``asof``, indexed (not par) IBOR coupons, and makes the index
    fixing histories exactly ``fixings`` (index name -> date -> fixing). Fixings up to and
    including ``asof`` are used (a missing fixing on ``asof`` is forecast from the curve); dates
    that are not fixing dates of the index's calendar are skipped.

    QuantLib state is per process; with one thread per worker (see PITFALLS) this makes every
    call independent of the calls before it. Values already in place are not set again:
    re-setting the same evaluation date or fixings would only make QuantLib recalculate every
    live curve (PITFALLS 5).
    """
    settings = ql.Settings.instance()
    if settings.evaluationDate != ql_date(asof):
        settings.evaluationDate = ql_date(asof)
    settings.includeReferenceDateEvents = False
    settings.enforcesTodaysHistoricFixings = False
    ql.IborCoupon.createIndexedCoupons()
    _load_fixings(asof, fixings or {})
    yield
