"""Greeks as bump scenarios: a plan of +h/-h scenarios per risk factor, reduced by central
differences.

Everything is a revaluation under a scenario set (DESIGN.md). :func:`greek_plan` turns the risk
factors of a snapshot (:mod:`risk.factors`) into ONE :class:`~pricing.scenarios.ScenarioSet`
(scenario 0 = base, then an up and a down scenario per factor and per bucket) and the rows
saying which scenarios make which Greek; the engine values every trade under every scenario in
one call (:func:`pricing.kernels.engine.value`, either engine); :func:`reduce` turns
``PV[trade, scenario]`` into a sparse long form; :func:`compute_greeks` does all of it in
process, theta included.

Measures
--------
``h`` is the bump, ``u`` the unit a measure is quoted per: 1 bp for IR, DIV, CREDIT and normal
vols, 1 % for FX and equity spots, 1 vol point (0.01) for Black vols. With the default
:class:`BumpSizes` ``h = u``.

* IR ``delta``: par quotes +-1 bp absolute (ZERO / FLAT quotes: the rate; DF quotes: their zero
  rate; forward points: the implied zero rate, see below); ``(PV+ - PV-) / 2 * u/h`` per +1 bp,
  bucketed (the quotes of one bucket) and parallel (every quote of the curve, bucket ``""``).
  IR ``gamma``: ``(PV+ - 2 PV0 + PV-) * (u/h)^2`` of the parallel bump, per (1 bp)^2.
* FX / EQ ``delta``: spot +-1 % relative, per +1 %; ``gamma`` per (1 %)^2, same scenarios;
  ``delta_units``: the same delta as a position, ``delta / (1 % * X)`` where ``X`` is the value,
  in the PV's currency, of one unit of the pair's base currency (FX) or of one share (EQ): an
  amount of the pair's base currency, or a number of shares.
* DIV ``delta``: dividend yield +-1 bp absolute. CREDIT ``delta``: z-spread +-1 bp absolute.
* VOL ``vega``: Black vols +-1 vol point, normal vols +-1 bp, absolute; bucketed and parallel.
* THETA ``theta``: PV on the roll date minus PV (factor and bucket ``""``).

Central differences cancel the even-order terms: a delta carries the truncation error
``h^2/6 * d3PV/dx3`` (times ``u/h`` per unit), a gamma ``h^4/12 * d4PV/dx4``, and bucketed deltas
summed over the buckets differ from the parallel delta only by third-order cross terms
(PITFALLS 21). Bump sizes must stay well above the bootstrap accuracy (PITFALLS 22).

Details that matter:

* ``value`` is in the currency of the PVs given to :func:`reduce` (the reporting currency for
  ``pv_reporting``), ``value_local`` in the trade's currency; ``delta_units`` is an amount of a
  currency or of shares in both, each consistent with the delta beside it. It is the position
  seen from the reporting (resp. trade) currency: a USD trade has no USDJPY position for a USD
  reporter; a USDJPY option (PV in JPY) has, locally, the Garman-Kohlhagen spot delta times its
  USD notional, and, for a USD reporter, that minus its PV in USD (the premium-adjusted delta);
  an EUR swap reported in USD has an EURUSD position equal to its PV in EUR.
* Rho is not a separate measure: it is the parallel IR delta of the trade's discount (OIS)
  curve (``USD-SOFR`` for a USD option), per +1 bp of its par quotes.
* Theta is the 1-day roll-down: the base snapshot with the as-of moved to the next business
  day of the reporting currency's calendar (:func:`roll_date`; one date for the whole run, so a
  book's theta is a sum over one day), quotes unchanged (a flat curve stays flat, a par quote
  keeps its level from the new spot date), valued by the same engine. Cash flows paid between
  the two dates drop out of the rolled PV and are not added back; a trade that cannot be valued
  on the rolled date gets no theta and is listed in ``Sensitivities.theta_errors``.
* Forward points ``FX.<PAIR>.FWD.<T>`` are the IR factor ``<PAIR>-FWD``: the pillar's points
  ``p`` move to ``(S + p) exp(-+h T) - S``, so the base currency's implied discount factor
  ``DF_quote (S + p) / S`` moves by exactly ``exp(-+h T)`` (``T`` ACT/365F to the pillar); the
  parallel bump is an exact parallel shift of the implied zero curve.
* Sparse: an entry is stored only when its value (reporting or local) is a non-zero finite
  number (PITFALLS 17). A trade that does not depend on a factor should get bit-identical PVs
  in its scenarios, hence no entry: the QuantLib engine does; the vectorised bootstrap does not
  yet (its BLAS products round differently per scenario column, leaving ~1e-9 entries; see the
  strict xfail in tests/risk/test_greeks_demo.py). A difference no larger than 16 ulps of the
  PVs it is taken of (``16 eps (|PV+| + |PV-|)``, ``16 eps (|PV+| + 2 |PV0| + |PV-|)`` for a
  gamma) is rounding, not risk, and counts as zero: the FX gamma of a EUR swap reported in USD is
  ``PV_EUR S (1.01 - 2 + 0.99)``, a few ulps, not 0. Failed trades have no entries (their
  errors are returned).

Departures from GREEKS.md (additions only): ``greek_plan`` takes keyword-only ``factors=``
(only these ``(class, name)`` factors) and ``calendar_currency=`` (the roll date's calendar;
``compute_greeks`` passes the reporting currency); ``reduce`` takes keyword-only
``pv_local``/``theta_local`` (``value_local``, same sparsity pattern) and
``unit_value``/``unit_value_local`` (for ``delta_units``; without them no ``delta_units``);
``compute_greeks`` takes keyword-only ``plan=`` (made once, e.g. scattered to grid workers),
``theta=`` and ``cache=``; forward points, absent from the design's table, are IR factors.

>>> from pricing.trades import EquityOption
>>> snap = MarketSnapshot(dt.date(2025, 11, 28), {"IR.USD.SOFR.FLAT": 0.04,
...     "EQ.AAPL.SPOT": 100.0, "VOL.EQ.AAPL.FLAT": 0.2})
>>> opt = EquityOption(trade_id="C1", book="B", counterparty="X", underlying="AAPL",
...     quantity=1.0, strike=100.0, expiry_date=dt.date(2026, 11, 28), option_type="CALL")
>>> s = compute_greeks([opt], snap)
>>> round(s.value_of("C1", "EQ", "AAPL", "", "delta_units"), 3)  # N(d1), d1 = 0.3
0.618
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from pricing import conventions
from pricing import quantlib_ as qa
from pricing.errors import MarketDataError, TradeError
from pricing.kernels.engine import Engine, LoweringCache, value
from pricing.market import MarketSnapshot, ShiftType, tenor_date
from pricing.quotes import parse_quote_id
from pricing.scenarios import ScenarioSet, ScenarioShift
from pricing.trades import Trade
from pricing.vector.market import ScenarioMarket
from risk.factors import RiskFactor, risk_factors

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BumpSizes",
    "GreekPlan",
    "GreekRow",
    "LongForm",
    "Sensitivities",
    "compute_greeks",
    "greek_plan",
    "reduce",
    "roll_date",
]

F64 = NDArray[np.float64]
_BP = 1e-4
_PCT = 0.01
#: A difference within this many ulps of the PVs it is taken of is rounding, stored as zero
#: (e.g. the FX gamma of a EUR swap reported in USD: PV_EUR * S * (1.01 - 2 + 0.99)).
_NOISE = 16 * np.finfo(np.float64).eps
#: Trades per block in :func:`reduce` (bounds the dense (trades x rows) temporaries).
_BLOCK = 2048


@dataclasses.dataclass(frozen=True)
class BumpSizes:
    """Bump size per factor class (each in the unit its measure is quoted per).

    ``ir_bp``, ``div_bp``, ``credit_bp`` in basis points (absolute); ``fx_rel``, ``eq_rel``
    relative (0.01 = 1 %); ``vol_black`` absolute in vol (0.01 = 1 vol point), ``vol_normal``
    absolute in rate (0.0001 = 1 bp). Measures are always per 1 bp / 1 % / 1 vol point whatever
    the bump; the bump only sets the finite-difference step.
    """

    ir_bp: float = 1.0
    fx_rel: float = 0.01
    eq_rel: float = 0.01
    div_bp: float = 1.0
    vol_black: float = 0.01
    vol_normal: float = 0.0001
    credit_bp: float = 1.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ValueError(f"bump size {f.name} must be a positive number, got {v!r}")
        if self.fx_rel >= 1 or self.eq_rel >= 1:
            raise ValueError("relative bumps must be below 100 %")


@dataclasses.dataclass(frozen=True)
class GreekRow:
    """One (factor, bucket, measure) of a plan: which scenarios make it, and the scale.

    ``measure`` decides the formula: ``gamma`` is ``(PV[up] - 2 PV[0] + PV[down]) * scale``,
    ``delta_units`` is ``(PV[up] - PV[down]) * scale`` divided by the value of one unit of
    ``currency`` (:func:`reduce`), every other measure ``(PV[up] - PV[down]) * scale``.
    """

    factor_class: str
    factor: str
    bucket: str
    measure: str
    up: int
    down: int
    scale: float
    currency: str = ""


@dataclasses.dataclass(frozen=True)
class GreekPlan:
    """A snapshot's bump scenarios and the rows reducing them (plain data, picklable).

    ``scenarios`` holds the base and every up/down scenario; ``rows`` one entry per (factor,
    bucket, measure); ``roll_date`` is theta's as-of; ``snapshot_hash`` the base snapshot's
    content hash (the bumps of forward points depend on its quotes).
    """

    scenarios: ScenarioSet
    rows: tuple[GreekRow, ...]
    asof: dt.date
    roll_date: dt.date
    snapshot_hash: str
    sizes: BumpSizes
    buckets: bool

    def content_hash(self) -> str:
        """SHA-256 of the scenarios, rows, dates and sizes."""
        doc = {
            "scenarios": self.scenarios.content_hash(),
            "rows": [[*dataclasses.astuple(r)[:6], repr(r.scale), r.currency] for r in self.rows],
            "asof": self.asof.isoformat(),
            "roll_date": self.roll_date.isoformat(),
            "snapshot": self.snapshot_hash,
            "sizes": [repr(v) for v in dataclasses.astuple(self.sizes)],
            "buckets": self.buckets,
        }
        return hashlib.sha256(json.dumps(doc).encode()).hexdigest()

    @property
    def n_scenarios(self) -> int:
        """Scenarios of the plan, the base included."""
        return self.scenarios.n


@dataclasses.dataclass(frozen=True, eq=False)
class LongForm:
    """Sparse sensitivities: parallel arrays, one entry per (trade, factor, bucket, measure).

    ``trade_index`` (int32) points into the trades given to :func:`reduce`; ``factor_class``,
    ``factor``, ``bucket`` (``""`` = parallel), ``measure`` are object arrays of ``str``;
    ``value`` float64 in the currency of the PVs reduced, ``value_local`` float64 in the trade's
    currency (``None`` when no local PVs were given). Entries are ordered by trade, then plan row.
    """

    trade_index: NDArray[np.int32]
    factor_class: NDArray[np.object_]
    factor: NDArray[np.object_]
    bucket: NDArray[np.object_]
    measure: NDArray[np.object_]
    value: F64
    value_local: F64 | None = None

    def __len__(self) -> int:
        return len(self.value)


@dataclasses.dataclass(frozen=True, eq=False)
class Sensitivities:
    """What :func:`compute_greeks` returns: the long form plus how it was made.

    The attributes ``trade`` (trade id per entry), ``factor_class``, ``factor``, ``bucket``,
    ``measure``, ``value``, ``value_local`` are the long-form columns (what
    ``risk.cube.build_cube(..., sensitivities=...)`` reads).
    """

    trade_ids: tuple[str, ...]
    long: LongForm
    reporting_currency: str
    engine: str
    n_scenarios: int
    revaluations: int
    roll_date: dt.date | None
    errors: tuple[TradeError | None, ...]
    fallbacks: Mapping[str, str]
    theta_errors: Mapping[str, str]
    plan_hash: str
    seconds: float

    @property
    def trade(self) -> NDArray[np.object_]:
        """Trade id of every entry."""
        return np.asarray(self.trade_ids, dtype=object)[self.long.trade_index]

    @property
    def factor_class(self) -> NDArray[np.object_]:
        """Factor class of every entry."""
        return self.long.factor_class

    @property
    def factor(self) -> NDArray[np.object_]:
        """Factor name of every entry."""
        return self.long.factor

    @property
    def bucket(self) -> NDArray[np.object_]:
        """Bucket of every entry (``""`` = parallel)."""
        return self.long.bucket

    @property
    def measure(self) -> NDArray[np.object_]:
        """Measure of every entry."""
        return self.long.measure

    @property
    def value(self) -> F64:
        """Value of every entry in the reporting currency."""
        return self.long.value

    @property
    def value_local(self) -> F64:
        """Value of every entry in the trade's currency."""
        if self.long.value_local is None:  # compute_greeks always fills it
            raise AttributeError("these sensitivities have no local values")
        return self.long.value_local

    def value_of(
        self,
        trade_id: str,
        factor_class: str,
        factor: str,
        bucket: str,
        measure: str,
        local: bool = False,
    ) -> float:
        """One entry's value (0.0 when absent: the trade does not depend on the factor)."""
        i = self.trade_ids.index(trade_id)
        hit = (
            (self.long.trade_index == i)
            & (self.long.factor_class == factor_class)
            & (self.long.factor == factor)
            & (self.long.bucket == bucket)
            & (self.long.measure == measure)
        )
        if not hit.any():
            return 0.0
        col = self.value_local if local else self.value
        return float(col[np.flatnonzero(hit)[0]])

    def to_frame(self) -> pd.DataFrame:
        """The long form as a pandas DataFrame (one row per entry)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "trade_id": self.trade,
                "factor_class": self.factor_class,
                "factor": self.factor,
                "bucket": self.bucket,
                "measure": self.measure,
                "value": self.value,
                "value_local": self.value_local,
            }
        )


# -- the plan -------------------------------------------------------------------------------------


def roll_date(asof: dt.date, currency: str = "USD") -> dt.date:
    """``asof`` plus one business day of ``currency``'s calendar (theta's as-of).

    >>> roll_date(dt.date(2025, 11, 28))  # a Friday
    datetime.date(2025, 12, 1)
    """
    cal = qa.calendar(conventions.currency_convention(currency).calendar)
    return qa.py_date(cal.advance(qa.ql_date(asof), qa.period("1D")))


def _unit_and_bump(f: RiskFactor, sizes: BumpSizes) -> tuple[float, float, ShiftType]:
    """(unit the measure is quoted per, bump, shift type) of a factor."""
    if f.factor_class == "IR":
        return _BP, sizes.ir_bp * _BP, "ABSOLUTE"
    if f.factor_class == "FX":
        return _PCT, sizes.fx_rel, "RELATIVE"
    if f.factor_class == "EQ":
        return _PCT, sizes.eq_rel, "RELATIVE"
    if f.factor_class == "DIV":
        return _BP, sizes.div_bp * _BP, "ABSOLUTE"
    if f.factor_class == "CREDIT":
        return _BP, sizes.credit_bp * _BP, "ABSOLUTE"
    if f.vol_type == "BLACK":
        return _PCT, sizes.vol_black, "ABSOLUTE"
    return _BP, sizes.vol_normal, "ABSOLUTE"


def _quote_moves(snapshot: MarketSnapshot, qid: str, h: float) -> tuple[float, float]:
    """The (up, down) shift values of one quote for a bump ``h``."""
    k = parse_quote_id(qid)
    if k.cls == "FX" and k.kind == "FWD":
        # the implied base-ccy DF at the pillar, DF_quote (S + p) / S, moves by exp(-+h T)
        s = snapshot[f"FX.{k.name}"]
        f = s + snapshot[qid]
        t = (tenor_date(snapshot.asof, k.tenor) - snapshot.asof).days / 365.0
        return f * math.expm1(-h * t), f * math.expm1(h * t)
    return h, -h


def greek_plan(
    snapshot: MarketSnapshot,
    sizes: BumpSizes = BumpSizes(),
    buckets: bool = True,
    *,
    factors: Collection[tuple[str, str]] | None = None,
    calendar_currency: str = "USD",
) -> GreekPlan:
    """The bump scenarios and reduction rows of every risk factor of ``snapshot``.

    Parameters
    ----------
    snapshot
        The base market; factors are enumerated from its quotes (:func:`risk.factors.risk_factors`).
    sizes
        Bump sizes per factor class.
    buckets
        Also bucketed deltas / vegas (one up/down pair per bucket); False: parallel only.
    factors
        Only these ``(class, name)`` factors, e.g. ``{("IR", "USD-SOFR"), ("EQ", "SPX")}``
        (``ValueError`` naming any the snapshot does not have).
    calendar_currency
        Theta's roll date is the next business day of this currency's calendar.

    >>> from pricing.demo import demo_market
    >>> p = greek_plan(demo_market(), factors={("IR", "USD-SOFR")})
    >>> p.n_scenarios, [r.measure for r in p.rows][:3], p.rows[2].bucket
    (39, ['delta', 'gamma', 'delta'], '1W')
    """
    all_factors = risk_factors(snapshot)
    chosen = list(all_factors)
    if factors is not None:
        wanted = set(factors)
        missing = wanted - {f.key for f in all_factors}
        if missing:
            raise ValueError(f"no such risk factors in the snapshot: {sorted(missing)}")
        chosen = [f for f in all_factors if f.key in wanted]
    names = ["base"]
    rows: list[GreekRow] = []
    moves: dict[str, list[tuple[int, float]]] = {}  # quote -> (scenario, shift value)
    shift_type: dict[str, ShiftType] = {}

    def pair(label: str, quotes: Sequence[str], h: float) -> tuple[int, int]:
        up, down = len(names), len(names) + 1
        names.extend([f"{label} +", f"{label} -"])
        for q in quotes:
            u, d = _quote_moves(snapshot, q, h)
            moves.setdefault(q, []).extend([(up, u), (down, d)])
        return up, down

    for f in chosen:
        unit, h, shift = _unit_and_bump(f, sizes)
        for q in f.quotes:
            shift_type[q] = shift
        label = f"{f.factor_class} {f.name}"
        up, down = pair(f"{label} parallel", f.quotes, h)
        first, second = unit / (2 * h), (unit / h) ** 2
        cls, name = f.factor_class, f.name
        if cls == "VOL":
            rows.append(GreekRow(cls, name, "", "vega", up, down, first))
        else:
            rows.append(GreekRow(cls, name, "", "delta", up, down, first))
        if cls in ("FX", "EQ"):
            # per unit of the pair's base currency / per share (times its price in
            # the pair's base currency: 1 for FX, the spot for EQ)
            per = 1.0 if cls == "FX" else snapshot[f.quotes[0]]
            ccy = name[:3] if cls == "FX" else f.currency
            rows.append(GreekRow(cls, name, "", "delta_units", up, down, 1 / (2 * h * per), ccy))
        if cls in ("IR", "FX", "EQ"):
            rows.append(GreekRow(cls, name, "", "gamma", up, down, second))
        if not buckets:
            continue
        measure = "vega" if cls == "VOL" else "delta"
        for bucket, quotes in f.buckets:
            if quotes == f.quotes:  # one bucket holding the whole factor: same scenarios
                b_up, b_down = up, down
            else:
                b_up, b_down = pair(f"{label} {bucket}", quotes, h)
            rows.append(GreekRow(cls, name, bucket, measure, b_up, b_down, first))
    n = len(names)
    shifts = []
    for q, mv in moves.items():
        vals = np.zeros(n)
        for i, v in mv:
            vals[i] = v
        shifts.append(ScenarioShift(q, shift_type[q], tuple(vals.tolist())))
    return GreekPlan(
        ScenarioSet(tuple(names), tuple(shifts)),
        tuple(rows),
        snapshot.asof,
        roll_date(snapshot.asof, calendar_currency),
        snapshot.content_hash,
        sizes,
        buckets,
    )


# -- the reduction --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Columns:
    """A plan's rows as arrays, by formula."""

    first: NDArray[np.intp]
    second: NDArray[np.intp]
    units: NDArray[np.intp]
    up: NDArray[np.intp]
    down: NDArray[np.intp]
    scale: F64

    @classmethod
    def of(cls, rows: Sequence[GreekRow]) -> _Columns:
        kinds = [r.measure for r in rows]
        return cls(
            np.array([i for i, m in enumerate(kinds) if m != "gamma"], dtype=int),
            np.array([i for i, m in enumerate(kinds) if m == "gamma"], dtype=int),
            np.array([i for i, m in enumerate(kinds) if m == "delta_units"], dtype=int),
            np.array([r.up for r in rows], dtype=int),
            np.array([r.down for r in rows], dtype=int),
            np.array([r.scale for r in rows], dtype=np.float64),
        )


UnitValues = Mapping[str, "float | F64"]


def _dense(
    cols: _Columns,
    rows: Sequence[GreekRow],
    pv: F64,
    unit_value: UnitValues | None,
    block: slice,
) -> F64:
    """``(k, len(rows))`` values of every row for a block of trades (NaN where unknown)."""
    out = np.empty((pv.shape[0], len(rows)))
    noise = np.empty_like(out)
    f, g = cols.first, cols.second
    up, down, base = pv[:, cols.up[f]], pv[:, cols.down[f]], pv[:, [0]]
    out[:, f] = (up - down) * cols.scale[f]
    noise[:, f] = (np.abs(up) + np.abs(down)) * (_NOISE * np.abs(cols.scale[f]))
    up, down = pv[:, cols.up[g]], pv[:, cols.down[g]]
    out[:, g] = (up - 2.0 * base + down) * cols.scale[g]
    noise[:, g] = (np.abs(up) + 2.0 * np.abs(base) + np.abs(down)) * (_NOISE * cols.scale[g])
    out[np.abs(out) <= noise] = 0.0  # rounding of the inputs, not a sensitivity
    for i in cols.units:
        unit = None if unit_value is None else unit_value.get(rows[i].currency)
        if unit is None:
            out[:, i] = np.nan
        else:
            u = np.asarray(unit, dtype=np.float64)
            out[:, i] /= u[block] if u.ndim else u
    return out


def reduce(
    plan: GreekPlan,
    pv: F64,
    *,
    theta: F64 | None = None,
    pv_local: F64 | None = None,
    theta_local: F64 | None = None,
    unit_value: UnitValues | None = None,
    unit_value_local: UnitValues | None = None,
) -> LongForm:
    """Central differences of ``pv[trade, scenario]`` into a sparse :class:`LongForm`.

    Parameters
    ----------
    plan
        The plan whose scenarios ``pv`` was valued under.
    pv
        ``(k, plan.n_scenarios)`` PVs (e.g. ``pv_reporting``); rows with NaN (failed trades)
        yield no entries.
    theta
        ``(k,)`` 1-day theta (PV on ``plan.roll_date`` minus base PV, same currency as ``pv``),
        NaN where unknown; None: no theta entries.
    pv_local, theta_local
        The same in each trade's currency, for ``value_local`` (same sparsity pattern as
        ``value``: an entry is kept when either is non-zero).
    unit_value, unit_value_local
        Currency ``c`` -> the value of one unit of ``c`` in ``pv``'s (``pv_local``'s) currency
        in the base scenario, a float or one per trade: turns ``delta_units`` rows into amounts
        of ``c`` (see the module docstring). None, or a currency missing: no ``delta_units``.

    >>> from pricing.demo import demo_market
    >>> plan = greek_plan(demo_market(), factors={("CREDIT", "UST")})
    >>> lf = reduce(plan, np.array([[10.0, 7.0, 13.0], [5.0, 5.0, 5.0]]))
    >>> lf.trade_index.tolist(), lf.measure.tolist(), lf.value.tolist()
    ([0], ['delta'], [-3.0])
    """
    pv = np.asarray(pv, dtype=np.float64)
    rows = plan.rows
    if pv.ndim != 2 or pv.shape[1] != plan.n_scenarios:
        raise ValueError(f"pv has shape {pv.shape}, expected (k, {plan.n_scenarios})")
    k = pv.shape[0]
    for name, arr, shape in (
        ("theta", theta, (k,)),
        ("pv_local", pv_local, pv.shape),
        ("theta_local", theta_local, (k,)),
    ):
        if arr is not None and np.shape(arr) != shape:
            raise ValueError(f"{name} has shape {np.shape(arr)}, expected {shape}")
    if theta_local is not None and pv_local is None:
        raise ValueError("theta_local needs pv_local")
    cols = _Columns.of(rows)
    labels = [(r.factor_class, r.factor, r.bucket, r.measure) for r in rows]
    if theta is not None:
        labels.append(("THETA", "", "", "theta"))
    lab = np.empty((len(labels), 4), dtype=object)
    for j, row in enumerate(labels):
        lab[j] = row
    ti_parts, ri_parts, val_parts, loc_parts = [], [], [], []
    for start in range(0, k, _BLOCK):
        sl = slice(start, min(k, start + _BLOCK))
        val = _dense(cols, rows, pv[sl], unit_value, sl)
        loc = None
        if pv_local is not None:
            loc_pv = np.asarray(pv_local[sl], dtype=np.float64)
            loc = _dense(cols, rows, loc_pv, unit_value_local, sl)
        if theta is not None:
            val = np.column_stack([val, np.asarray(theta[sl], dtype=np.float64)])
            if loc is not None:
                th = theta_local[sl] if theta_local is not None else np.full(len(val), np.nan)
                loc = np.column_stack([loc, np.asarray(th, dtype=np.float64)])
        keep = np.isfinite(val) & (val != 0)
        if loc is not None:
            keep = np.isfinite(val) & np.isfinite(loc) & ((val != 0) | (loc != 0))
        ti, ri = np.nonzero(keep)
        ti_parts.append(ti + start)
        ri_parts.append(ri)
        val_parts.append(val[ti, ri])
        if loc is not None:
            loc_parts.append(loc[ti, ri])
    ti = np.concatenate(ti_parts) if ti_parts else np.empty(0, dtype=np.intp)
    ri = np.concatenate(ri_parts) if ri_parts else np.empty(0, dtype=np.intp)
    sel = lab[ri]
    return LongForm(
        ti.astype(np.int32),
        sel[:, 0].copy(),
        sel[:, 1].copy(),
        sel[:, 2].copy(),
        sel[:, 3].copy(),
        np.concatenate(val_parts) if val_parts else np.empty(0),
        None if pv_local is None else (np.concatenate(loc_parts) if loc_parts else np.empty(0)),
    )


# -- in process -----------------------------------------------------------------------------------


def _unit_values(
    plan: GreekPlan, base: MarketSnapshot, seq: Sequence[Trade], reporting_currency: str
) -> tuple[dict[str, F64], dict[str, F64]]:
    """Value of one unit of each ``delta_units`` currency in the reporting currency (shape
    ``()``) and in each trade's currency (shape ``(k,)``), at base spots."""
    market = ScenarioMarket(base)  # base spots only (not the engine's cached markets)
    currencies = sorted({r.currency for r in plan.rows if r.measure == "delta_units"})
    trade_ccy = [t.currency for t in seq]
    rep: dict[str, F64] = {}
    local: dict[str, F64] = {}
    for c in currencies:

        def rate(to: str, c: str = c) -> float:
            try:
                return float(np.asarray(market.fx_rate(c, to), dtype=np.float64).flat[0])
            except MarketDataError:
                return math.nan  # no rate: no delta_units in that currency

        rep[c] = np.asarray(rate(reporting_currency))
        rates = {to: rate(to) for to in sorted(set(trade_ccy))}
        local[c] = np.array([rates[to] for to in trade_ccy], dtype=np.float64)
    return rep, local


def compute_greeks(
    trades: Iterable[Trade],
    snapshot: MarketSnapshot,
    reporting_currency: str = "USD",
    engine: Engine = "vectorised",
    sizes: BumpSizes = BumpSizes(),
    buckets: bool = True,
    *,
    plan: GreekPlan | None = None,
    theta: bool = True,
    cache: LoweringCache | None = None,
) -> Sensitivities:
    """Every Greek of ``trades`` in process: one engine call for the bumps, one for theta.

    Parameters
    ----------
    trades, snapshot, reporting_currency, engine
        As :func:`pricing.kernels.engine.value`.
    sizes, buckets
        As :func:`greek_plan` (ignored when ``plan`` is given).
    plan
        A plan made beforehand by :func:`greek_plan` for ``snapshot``.
    theta
        Also value the trades on the roll date (one more engine call).
    cache
        Lowering cache (default: the engine's process-wide one).
    """
    t0 = time.perf_counter()
    seq = tuple(trades)
    if plan is None:
        plan = greek_plan(snapshot, sizes, buckets, calendar_currency=reporting_currency)
    elif plan.snapshot_hash != snapshot.content_hash:
        raise ValueError("the Greek plan was made for another snapshot")
    val = value(seq, snapshot, plan.scenarios, reporting_currency, engine, cache)
    th = th_local = None
    theta_errors: dict[str, str] = {}
    revaluations = len(seq) * plan.n_scenarios
    if theta:
        rolled = value(
            seq, snapshot.with_asof(plan.roll_date), None, reporting_currency, engine, cache
        )
        revaluations += len(seq)
        th = rolled.pv_reporting[:, 0] - val.pv_reporting[:, 0]
        th_local = rolled.pv[:, 0] - val.pv[:, 0]
        for e, e_rolled in zip(val.errors, rolled.errors, strict=True):
            if e is None and e_rolled is not None:
                theta_errors[e_rolled.trade_id] = f"{e_rolled.field}: {e_rolled.reason}"
    unit_rep, unit_local = _unit_values(plan, snapshot, seq, reporting_currency)
    long = reduce(
        plan,
        val.pv_reporting,
        theta=th,
        pv_local=val.pv,
        theta_local=th_local,
        unit_value=unit_rep,
        unit_value_local=unit_local,
    )
    return Sensitivities(
        tuple(t.trade_id for t in seq),
        long,
        reporting_currency,
        engine,
        plan.n_scenarios,
        revaluations,
        plan.roll_date if theta else None,
        val.errors,
        dict(val.fallbacks),
        theta_errors,
        plan.content_hash(),
        time.perf_counter() - t0,
    )
