"""Scenario sets: named market moves as arrays over scenarios (scenario 0 is the base).

A :class:`ScenarioSet` is a list of shifts, each a quote-id glob, a shift type and one value per
scenario. Scenario ``i`` is the base snapshot with every shift applied, in order, at its ``i``-th
value — exactly :meth:`pricing.market.MarketSnapshot.apply` — so the QuantLib reference can value
any single scenario as a plain snapshot (:meth:`ScenarioSet.snapshot`), while the numpy kernels
take every scenario at once from :meth:`ScenarioSet.quote_values`. Quotes that no shift touches
stay scalar: nothing is rebuilt per scenario for them.

>>> import datetime as dt
>>> from pricing.market import MarketSnapshot
>>> base = MarketSnapshot(dt.date(2025, 11, 28), {"EQ.SPX.SPOT": 100.0, "FX.EURUSD": 1.16})
>>> s = ScenarioSet.from_shifts(["base", "down", "up"],
...                             [("EQ.SPX.SPOT", "RELATIVE", [0.0, -0.1, 0.1])])
>>> s.quote_values(base)["EQ.SPX.SPOT"].tolist()
[100.0, 90.0, 110.00000000000001]
>>> s.snapshot(1, base)["EQ.SPX.SPOT"]
90.0
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from pricing.errors import InputFileError, read_text
from pricing.market import MarketSnapshot, ShiftType, Shock, tenor_date
from pricing.quotes import parse_quote_id
from pricing.yaml_ import YAMLError, load_yaml

__all__ = ["NEUTRAL", "ScenarioSet", "ScenarioShift", "load_scenarios"]

#: The shift value that leaves a quote unchanged, per shift type.
NEUTRAL = {"ABSOLUTE": 0.0, "RELATIVE": 0.0, "MULTIPLY": 1.0}


@dataclasses.dataclass(frozen=True)
class ScenarioShift:
    """Quotes matching ``pattern`` move by ``values[i]`` in scenario ``i`` (see ``Shock``)."""

    pattern: str
    shift: ShiftType
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        vals = tuple(float(v) for v in self.values)
        object.__setattr__(self, "values", vals)
        for v in set(vals):  # validate each distinct value with Shock's rules
            Shock(self.pattern, self.shift, v)

    def shock(self, i: int) -> Shock:
        """This shift's move in scenario ``i``."""
        return Shock(self.pattern, self.shift, self.values[i])


@dataclasses.dataclass(frozen=True)
class ScenarioSet:
    """``n`` named scenarios defined by shifts; scenario 0 must be the base (all neutral)."""

    names: tuple[str, ...]
    shifts: tuple[ScenarioShift, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "shifts", tuple(self.shifts))
        if not self.names:
            raise ValueError("a scenario set needs at least the base scenario")
        if len(set(self.names)) != len(self.names):
            raise ValueError("scenario names must be unique")
        for s in self.shifts:
            if len(s.values) != len(self.names):
                raise ValueError(
                    f"shift {s.pattern!r}: {len(s.values)} values for {len(self.names)} scenarios"
                )
            if s.values[0] != NEUTRAL[s.shift]:
                raise ValueError(
                    f"shift {s.pattern!r}: scenario 0 is the base and must not move "
                    f"(value {s.values[0]}, neutral {NEUTRAL[s.shift]})"
                )

    @classmethod
    def base_only(cls) -> ScenarioSet:
        """The set holding only the base scenario."""
        return cls(("base",))

    @classmethod
    def from_shifts(
        cls, names: Sequence[str], shifts: Iterable[tuple[str, ShiftType, Sequence[float]]]
    ) -> ScenarioSet:
        """Build from ``(pattern, shift, values)`` triples."""
        return cls(tuple(names), tuple(ScenarioShift(p, s, tuple(v)) for p, s, v in shifts))

    @property
    def n(self) -> int:
        """Number of scenarios (the base included)."""
        return len(self.names)

    def content_hash(self) -> str:
        """SHA-256 of names and shifts (computed once: a Greek plan's set has ~10^5 values)."""
        cached: str | None = self.__dict__.get("_content_hash")
        if cached is not None:
            return cached
        doc = {
            "names": self.names,
            "shifts": [[s.pattern, s.shift, [repr(v) for v in s.values]] for s in self.shifts],
        }
        h = hashlib.sha256(json.dumps(doc).encode()).hexdigest()
        object.__setattr__(self, "_content_hash", h)
        return h

    def snapshot(self, i: int, base: MarketSnapshot) -> MarketSnapshot:
        """Scenario ``i`` as a plain snapshot (for the QuantLib reference)."""
        if i == 0:
            return base
        return base.apply(
            [s.shock(i) for s in self.shifts], name=f"{base.name}:{self.names[i]}", strict=False
        )

    def quote_values(self, base: MarketSnapshot) -> dict[str, NDArray[np.float64]]:
        """Every quote some shift matches -> its value in each scenario (shape ``(n,)``).

        The same floating-point operations as :meth:`MarketSnapshot.apply`, applied over all
        scenarios at once. Raises ``ValueError`` if a shift matches no quote of ``base``.
        """
        out: dict[str, NDArray[np.float64]] = {}
        for s in self.shifts:
            hit = [k for k in base.quotes if fnmatch.fnmatchcase(k, s.pattern)]
            if not hit:
                raise ValueError(f"scenario shift {s.pattern!r} matches no quote in the snapshot")
            v = np.asarray(s.values, dtype=np.float64)
            for k in hit:
                q = out.get(k)
                if q is None:
                    q = np.full(self.n, base.quotes[k], dtype=np.float64)
                out[k] = _shifted(base, k, q, s.shift, v)
        return out


def load_scenarios(path: str | Path) -> ScenarioSet:
    """Read a scenario set from YAML or JSON.

    Format: ``{"names": ["base", "usd+25", ...], "shifts": [{"pattern": "IR.USD.*",
    "shift": "ABSOLUTE", "values": [0.0, 0.0025, ...]}, ...]}``; scenario 0 is the base.
    Raises :class:`~pricing.errors.InputFileError` naming the file and what is wrong.
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"{p}: no such file")
    text = read_text(p)
    try:
        doc = json.loads(text) if p.suffix.lower() == ".json" else load_yaml(text)
    except (json.JSONDecodeError, YAMLError) as exc:
        raise InputFileError(f"{p}: not valid {p.suffix[1:].upper() or 'YAML'}: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("names"), list):
        raise InputFileError(f"{p}: expected a mapping with 'names' and 'shifts'")
    try:
        return ScenarioSet.from_shifts(
            [str(n) for n in doc["names"]],
            [
                (str(s["pattern"]), str(s["shift"]).upper(), list(s["values"]))  # type: ignore[misc]
                for s in doc.get("shifts") or []
            ],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputFileError(f"{p}: {exc}") from None


def _shifted(
    base: MarketSnapshot, quote_id: str, q: NDArray[np.float64], shift: str, v: NDArray[np.float64]
) -> NDArray[np.float64]:
    if shift == "RELATIVE":
        return q * (1.0 + v)
    if shift == "MULTIPLY":
        return q * v
    key = parse_quote_id(quote_id)
    if key.cls == "IR" and key.kind == "DF":
        t = (tenor_date(base.asof, key.tenor) - base.asof).days / 365.0
        return q * np.array([math.exp(-x * t) for x in v])
    return q + v
