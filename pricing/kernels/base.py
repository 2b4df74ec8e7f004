"""Shared pieces of the numpy kernels: the lowering context and the fallback signal.

"Lowering" turns one trade, once per as-of date, into small numpy arrays (cashflow dates and
amounts, fixing and payment dates, strikes, expiries...) taken from the QuantLib instrument the
reference pricer builds, so the two engines cannot drift apart. The lowered arrays never depend
on a quote: they are reused for every scenario and cached by trade content hash + as-of + the
fixings of the trade's index.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from pricing.curves import QlMarket

__all__ = ["KernelUnsupported", "LoweringContext", "days"]


class KernelUnsupported(Exception):  # noqa: N818 - a signal, not an error: the trade falls back
    """A kernel cannot reproduce this trade exactly; the engine prices it with QuantLib.

    The message says why; it is counted in the run manifest.
    """


@dataclasses.dataclass(frozen=True)
class LoweringContext:
    """What lowering may use: the as-of date, past fixings, and a QuantLib market of the base
    snapshot (inside a ``ql_session``) for building instruments and schedules only."""

    asof: dt.date
    fixings: Mapping[str, Mapping[dt.date, float]]
    ql_market: QlMarket


def days(asof: dt.date, d: dt.date) -> int:
    """Day offset of ``d`` from ``asof`` (lowered arrays hold int day offsets, never dates)."""
    return (d - asof).days
