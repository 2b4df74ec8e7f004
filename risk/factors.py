"""Risk factors: what a Greek is taken with respect to, enumerated from a snapshot's quotes.

A :class:`RiskFactor` is a named group of quotes that move together for a parallel bump, split
into buckets (maturities, expiries) for bucketed Greeks. Factors are read off the snapshot, never
hard-coded, so a new curve or surface in the market data is a new factor with no code change.

========  ==========================  ======================================  ===================
class     factor name                 quotes                                  buckets
========  ==========================  ======================================  ===================
IR        index, ``USD-SOFR``         ``IR.<CCY>.<CURVE>.*``                  tenor label of each
                                                                              quote (``3M``,
                                                                              ``6X12``, ``5Y``);
                                                                              ``FLAT``
IR        ``<PAIR>-FWD``, e.g.        ``FX.<PAIR>.FWD.<TENOR>`` (forward      tenor
          ``EURUSD-FWD``              points: the base currency's implied
                                      curve against the quote currency)
FX        pair as quoted, ``EURUSD``  ``FX.<PAIR>`` (spot)                    --
EQ        underlying, ``SPX``         ``EQ.<UND>.SPOT``                       --
DIV       underlying, ``SPX``         ``EQ.<UND>.DIV``                        --
VOL       ``EQ.SPX``, ``FX.EURUSD``,  ``VOL.<FAM>.<NAME>.*``                  expiry (EQ: every
          ``SWPT.USD``, ``CAP.EUR``                                           strike of it; FX),
                                                                              ``<exp>x<tenor>``
                                                                              (SWPT), maturity
                                                                              (CAP); ``FLAT``
CREDIT    issuer, ``ACME_CORP``       ``CREDIT.<ISSUER>.ZSPREAD``             --
========  ==========================  ======================================  ===================

Rules:

* An IR curve is named by its index (``conventions/indices.yaml``); a curve whose
  ``(currency, curve name)`` no index convention knows is skipped: no trade can read it.
* Quotes of one curve (or surface) sharing a bucket label form one bucket and move together
  (e.g. an equity expiry's strikes; a deposit and a swap quoted at the same tenor).
* FX forward points define the pair's base-currency curve implied from the quote currency's
  (``QlMarket.fx_curves``): they are an IR factor ``<PAIR>-FWD`` whose currency is the base
  currency (:mod:`risk.greeks` bumps them by an exact shift of that implied zero rate). Points
  of a pair without a spot quote are skipped (nothing can use them).
* ``VOLSHIFT`` quotes are model parameters (the vol type), not risk factors.
* Buckets are in maturity order (:func:`risk.cube.bucket_key`, the cube's ladder order).
* A vol factor's ``vol_type`` is ``"BLACK"`` for equity and FX vols, and for swaption / cap vols
  of a currency with a ``VOLSHIFT.<SWPT|CAP>.<CCY>`` quote; ``"NORMAL"`` otherwise.
* ``currency`` is the factor's currency: the curve's (the base currency for ``<PAIR>-FWD``), the
  pair's quote (domestic) currency, the
  underlying's trading currency (``EQ``, ``DIV``, equity vols), the swaption / cap currency; ``""``
  for credit.

>>> import datetime as dt
>>> from pricing.market import MarketSnapshot
>>> snap = MarketSnapshot(dt.date(2025, 11, 28), {"IR.USD.SOFR.OIS.1Y": 0.035,
...     "IR.USD.SOFR.OIS.3M": 0.038, "FX.EURUSD": 1.16, "EQ.SPX.SPOT": 6850.0})
>>> [(f.factor_class, f.name, [b for b, _ in f.buckets]) for f in risk_factors(snap)]
[('IR', 'USD-SOFR', ['3M', '1Y']), ('FX', 'EURUSD', []), ('EQ', 'SPX', [])]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Literal

from pricing import conventions
from pricing.market import MarketSnapshot
from pricing.quotes import QuoteKey
from risk.cube import bucket_key

__all__ = ["FACTOR_CLASSES", "RiskFactor", "risk_factors"]

#: Factor classes, in the order factors are listed.
FACTOR_CLASSES = ("IR", "FX", "EQ", "DIV", "VOL", "CREDIT")

VolType = Literal["BLACK", "NORMAL", ""]


@dataclasses.dataclass(frozen=True)
class RiskFactor:
    """A group of quotes that a parallel bump moves together, split into buckets.

    Parameters
    ----------
    factor_class
        One of :data:`FACTOR_CLASSES`.
    name
        The factor's name within its class (``USD-SOFR``, ``EURUSD``, ``EQ.SPX``...).
    quotes
        Every quote id of the factor, sorted.
    buckets
        ``(label, quote ids)`` in maturity order; empty for factors without buckets (FX spot,
        equity spot, dividend yield, credit spread). The buckets partition ``quotes``.
    currency
        The factor's currency (see the module docstring).
    vol_type
        ``"BLACK"`` or ``"NORMAL"`` for vol factors, ``""`` otherwise.
    """

    factor_class: str
    name: str
    quotes: tuple[str, ...]
    buckets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    currency: str = ""
    vol_type: VolType = ""

    @property
    def key(self) -> tuple[str, str]:
        """``(factor_class, name)``: unique within a snapshot."""
        return (self.factor_class, self.name)


def risk_factors(
    snapshot: MarketSnapshot, classes: Collection[str] | None = None
) -> tuple[RiskFactor, ...]:
    """Every risk factor of ``snapshot``, by class (:data:`FACTOR_CLASSES` order) then name.

    Parameters
    ----------
    snapshot
        The market; every quote except ``VOLSHIFT`` and IR curves no index knows belongs to
        exactly one factor.
    classes
        Only these factor classes (default: all).
    """
    if classes is not None:
        unknown = set(classes) - set(FACTOR_CLASSES)
        if unknown:
            raise ValueError(
                f"unknown factor classes {sorted(unknown)} (known: {', '.join(FACTOR_CLASSES)})"
            )
    groups: dict[tuple[str, str], list[tuple[str, QuoteKey]]] = {}
    for qid, k in snapshot.keys_parsed():
        key = _factor_of(k)
        if key is not None:
            groups.setdefault(key, []).append((qid, k))
    out = []
    for (cls, name), quotes in groups.items():
        if classes is not None and cls not in classes:
            continue
        factor = _make(snapshot, cls, name, quotes)
        if factor is not None:
            out.append(factor)
    order = {c: i for i, c in enumerate(FACTOR_CLASSES)}
    return tuple(sorted(out, key=lambda f: (order[f.factor_class], f.name)))


def _factor_of(k: QuoteKey) -> tuple[str, str] | None:
    """(class, provisional name) of a quote; IR curves are renamed to their index later."""
    if k.cls == "IR":
        return ("IR", f"{k.name}.{k.sub}")  # renamed to the curve's index name
    if k.cls == "FX":
        return ("FX", k.name) if k.kind == "SPOT" else ("IR", f"{k.name}-FWD")
    if k.cls == "EQ":
        return ("EQ" if k.kind == "SPOT" else "DIV", k.name)
    if k.cls == "VOL":
        return ("VOL", f"{k.sub}.{k.name}")
    if k.cls == "CREDIT":
        return ("CREDIT", k.name)
    return None  # VOLSHIFT: a model parameter


def _bucket_label(k: QuoteKey) -> str:
    if k.kind == "FLAT":
        return "FLAT"
    if k.cls == "VOL" and k.sub == "SWPT":
        return f"{k.tenor}x{k.extra}"
    return k.tenor  # IR tenors and FRA AxB, FX forward tenors, vol expiries / cap maturities


def _make(
    snapshot: MarketSnapshot, cls: str, name: str, quotes: list[tuple[str, QuoteKey]]
) -> RiskFactor | None:
    ids = tuple(sorted(q for q, _ in quotes))
    first = quotes[0][1]
    vol_type: VolType = ""
    bucketed = cls in ("IR", "VOL")
    if cls == "IR" and first.cls == "FX":
        if f"FX.{first.name}" not in snapshot:
            return None  # forward points without a spot: nothing can use them
        currency = first.name[:3]
    elif cls == "IR":
        try:
            conv = conventions.curve_index(first.name, first.sub)
        except KeyError:
            return None  # no index reads this curve
        name, currency = conv.name, conv.currency
    elif cls == "FX":
        currency = name[3:]
    elif cls in ("EQ", "DIV"):
        currency = _underlying_currency(name)
    elif cls == "VOL":
        if first.sub == "EQ":
            currency, vol_type = _underlying_currency(first.name), "BLACK"
        elif first.sub == "FX":
            currency, vol_type = first.name[3:], "BLACK"
        else:
            currency = first.name
            shifted = f"VOLSHIFT.{first.sub}.{first.name}" in snapshot
            vol_type = "BLACK" if shifted else "NORMAL"
    else:
        currency = ""
    buckets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    if bucketed:
        by_label: dict[str, list[str]] = {}
        for qid, k in quotes:
            by_label.setdefault(_bucket_label(k), []).append(qid)
        buckets = tuple(
            (label, tuple(sorted(by_label[label]))) for label in sorted(by_label, key=bucket_key)
        )
    return RiskFactor(cls, name, ids, buckets, currency, vol_type)


def _underlying_currency(und: str) -> str:
    try:
        return conventions.underlying_convention(und).currency
    except KeyError:
        return "USD"  # what the equity trades assume for an unknown underlying
