"""Quote ids: the names of market data (and so of risk factors).

A quote id is a dot-separated name; its first part is the factor class. The grammar:

=============================================  ==================================================
``IR.<CCY>.<CURVE>.DEP.<TENOR>``               deposit / index fixing-tenor rate (e.g. 6M)
``IR.<CCY>.<CURVE>.FRA.<AxB>``                 FRA rate, A to B months (e.g. ``6X12``)
``IR.<CCY>.<CURVE>.OIS.<TENOR>``               OIS par rate (overnight-index curves)
``IR.<CCY>.<CURVE>.SWAP.<TENOR>``              par swap rate vs the IBOR index of the curve
``IR.<CCY>.<CURVE>.ZERO.<TENOR>``              zero rate, continuous, ACT/365F (direct input)
``IR.<CCY>.<CURVE>.DF.<TENOR>``                discount factor (direct input)
``IR.<CCY>.<CURVE>.FLAT``                      flat zero rate, continuous, ACT/365F (direct)
``FX.<PAIR>``                                  FX spot, quote ccy per base ccy (``FX.EURUSD``)
``FX.<PAIR>.FWD.<TENOR>``                      forward points, forward minus spot, in rate units
``EQ.<UND>.SPOT`` / ``EQ.<UND>.DIV``           equity spot / continuous dividend yield
``VOL.EQ.<UND>.<EXPIRY>.<STRIKE%>``            equity Black vol, strike in % of spot (``100``)
``VOL.FX.<PAIR>.<EXPIRY>.ATM``                 FX ATM Black vol
``VOL.SWPT.<CCY>.<EXPIRY><TENOR>``             ATM swaption vol (``VOL.SWPT.USD.5Y10Y``)
``VOL.CAP.<CCY>.<MATURITY>``                   ATM flat cap/floor vol by cap maturity
``VOL.<EQ|FX|SWPT|CAP>.<NAME>.FLAT``           one vol for the whole surface (direct input)
``VOLSHIFT.<SWPT|CAP>.<CCY>``                  if present: rate vols of CCY are shifted-lognormal
                                               with this shift; if absent they are normal (bp)
``CREDIT.<ISSUER>.ZSPREAD``                    bond z-spread over the OIS curve, continuous
=============================================  ==================================================

``<CURVE>`` is the curve name of an index in ``conventions/indices.yaml`` (``SOFR``, ``ESTR``,
``EURIBOR6M``, ``TSOFR3M``...). Rates and vols are decimals (``0.0425`` = 4.25%,
``0.0085`` = 85 bp normal vol, ``0.18`` = 18% Black vol).

>>> parse_quote_id("IR.USD.SOFR.OIS.5Y")
QuoteKey(cls='IR', name='USD', sub='SOFR', kind='OIS', tenor='5Y', extra='')
>>> parse_quote_id("VOL.SWPT.USD.5Y10Y")
QuoteKey(cls='VOL', name='USD', sub='SWPT', kind='ATM', tenor='5Y', extra='10Y')
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["FACTOR_CLASSES", "QuoteKey", "parse_quote_id"]

FACTOR_CLASSES = ("IR", "FX", "EQ", "VOL", "VOLSHIFT", "CREDIT")
IR_KINDS = ("DEP", "FRA", "OIS", "SWAP", "ZERO", "DF")

_TENOR = r"\d+[DWMY]"
_RE_TENOR = re.compile(rf"^{_TENOR}$")
_RE_FRA = re.compile(r"^(\d+)X(\d+)$")
_RE_SWPT = re.compile(rf"^({_TENOR})({_TENOR})$")
_RE_CCY = re.compile(r"^[A-Z]{3}$")
_RE_PAIR = re.compile(r"^[A-Z]{6}$")
_RE_NAME = re.compile(r"^[A-Z0-9_\-]+$")


class QuoteKey(NamedTuple):
    """A parsed quote id.

    ``cls`` is the factor class; ``name`` the currency, pair, underlying or issuer; ``sub`` the
    curve or vol family; ``kind`` the instrument or quote type; ``tenor`` and ``extra`` the
    tenor (or expiry) and second coordinate (FRA end, swaption tenor, vol strike).
    """

    cls: str
    name: str
    sub: str = ""
    kind: str = ""
    tenor: str = ""
    extra: str = ""


def _bad(qid: str, why: str) -> ValueError:
    return ValueError(f"malformed quote id {qid!r}: {why}")


def parse_quote_id(qid: str) -> QuoteKey:
    """Parse a quote id into a :class:`QuoteKey`; ``ValueError`` saying why if malformed."""
    parts = qid.split(".")
    cls = parts[0]
    if cls == "IR":
        if len(parts) == 4 and parts[3] == "FLAT":
            return QuoteKey("IR", parts[1], parts[2], "FLAT")
        if len(parts) != 5 or not _RE_CCY.match(parts[1]) or not _RE_NAME.match(parts[2]):
            raise _bad(qid, "expected IR.<CCY>.<CURVE>.<TYPE>.<TENOR> or IR.<CCY>.<CURVE>.FLAT")
        kind, tenor = parts[3], parts[4]
        if kind not in IR_KINDS:
            raise _bad(
                qid, f"unknown rate quote type {kind!r} (known: {', '.join(IR_KINDS)}, FLAT)"
            )
        if kind == "FRA":
            m = _RE_FRA.match(tenor)
            if not m or int(m.group(1)) >= int(m.group(2)):
                raise _bad(qid, "FRA tenor must be AxB months with A < B, e.g. 6X12")
        elif not _RE_TENOR.match(tenor) and not (kind == "DEP" and tenor in ("ON", "TN")):
            raise _bad(qid, f"malformed tenor {tenor!r}")
        return QuoteKey("IR", parts[1], parts[2], kind, tenor)
    if cls == "FX":
        if len(parts) >= 2 and not _RE_PAIR.match(parts[1]):
            raise _bad(qid, "expected a six-letter pair such as EURUSD")
        if len(parts) == 2:
            return QuoteKey("FX", parts[1], kind="SPOT")
        if len(parts) == 4 and parts[2] == "FWD" and _RE_TENOR.match(parts[3]):
            return QuoteKey("FX", parts[1], kind="FWD", tenor=parts[3])
        raise _bad(qid, "expected FX.<PAIR> or FX.<PAIR>.FWD.<TENOR>")
    if cls == "EQ":
        if len(parts) == 3 and parts[2] in ("SPOT", "DIV") and _RE_NAME.match(parts[1]):
            return QuoteKey("EQ", parts[1], kind=parts[2])
        raise _bad(qid, "expected EQ.<UNDERLYING>.SPOT or EQ.<UNDERLYING>.DIV")
    if cls == "VOL":
        return _parse_vol(qid, parts)
    if cls == "VOLSHIFT":
        if len(parts) == 3 and parts[1] in ("SWPT", "CAP") and _RE_CCY.match(parts[2]):
            return QuoteKey("VOLSHIFT", parts[2], parts[1], "SHIFT")
        raise _bad(qid, "expected VOLSHIFT.<SWPT|CAP>.<CCY>")
    if cls == "CREDIT":
        if len(parts) == 3 and parts[2] == "ZSPREAD" and _RE_NAME.match(parts[1]):
            return QuoteKey("CREDIT", parts[1], kind="ZSPREAD")
        raise _bad(qid, "expected CREDIT.<ISSUER>.ZSPREAD")
    raise _bad(qid, f"unknown factor class {cls!r} (known: {', '.join(FACTOR_CLASSES)})")


def _parse_vol(qid: str, parts: list[str]) -> QuoteKey:
    if len(parts) < 4:
        raise _bad(qid, "expected VOL.<EQ|FX|SWPT|CAP>.<NAME>....")
    fam, name = parts[1], parts[2]
    if parts[3:] == ["FLAT"]:
        if fam not in ("EQ", "FX", "SWPT", "CAP"):
            raise _bad(qid, f"unknown vol family {fam!r}")
        return QuoteKey("VOL", name, fam, "FLAT")
    if fam == "EQ" and len(parts) == 5 and _RE_TENOR.match(parts[3]):
        try:
            strike = float(parts[4])
        except ValueError:
            raise _bad(qid, "strike must be a percentage of spot, e.g. 100") from None
        if strike <= 0:
            raise _bad(qid, "strike must be positive")
        return QuoteKey("VOL", name, "EQ", "SURFACE", parts[3], parts[4])
    if fam == "FX" and len(parts) == 5 and _RE_TENOR.match(parts[3]) and parts[4] == "ATM":
        if not _RE_PAIR.match(name):
            raise _bad(qid, "expected a six-letter pair such as EURUSD")
        return QuoteKey("VOL", name, "FX", "ATM", parts[3])
    if fam == "SWPT" and len(parts) == 4 and _RE_CCY.match(name):
        m = _RE_SWPT.match(parts[3])
        if m:
            return QuoteKey("VOL", name, "SWPT", "ATM", m.group(1), m.group(2))
    if fam == "CAP" and len(parts) == 4 and _RE_CCY.match(name) and _RE_TENOR.match(parts[3]):
        return QuoteKey("VOL", name, "CAP", "ATM", parts[3])
    raise _bad(
        qid,
        "expected VOL.EQ.<UND>.<EXPIRY>.<STRIKE%>, VOL.FX.<PAIR>.<EXPIRY>.ATM, "
        "VOL.SWPT.<CCY>.<EXPIRY><TENOR>, VOL.CAP.<CCY>.<MATURITY> or VOL.*.<NAME>.FLAT",
    )
