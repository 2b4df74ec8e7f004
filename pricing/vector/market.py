"""The scenario market: a base snapshot plus a scenario axis, vectorised for the numpy kernels.

:class:`ScenarioMarket` answers what :class:`pricing.curves.QlMarket` answers -- discount
factors, FX spots and forwards, equity spots and dividends, vols -- for every scenario of a
:class:`~pricing.scenarios.ScenarioSet` at once. Scenario ``i`` reproduces
``QlMarket(scenarios.snapshot(i, base))`` (discount factors and vols to ~1e-12; QuantLib's own
bootstrap accuracy is 1e-12 on discount factors).

Shapes: every value comes as ``(S, k)`` (or ``(S,)`` for scalars per scenario), where ``S`` is
``n`` when the quantity moves in some scenario and 1 when it does not, so results broadcast.
Nothing that no scenario moves is rebuilt per scenario: a curve is bootstrapped per scenario only
when one of its quotes (or, for an IBOR curve, its OIS discount curve) moves.

Missing or bad data raises :class:`~pricing.errors.MarketDataError` with ``QlMarket``'s wording;
a failure that only some scenarios hit (a bootstrap without a solution, a non-positive spot)
names the first such scenario. Errors are remembered, like ``QlMarket``.

Bootstrapped curves take their instruments (dates, accruals, known fixings) from the QuantLib
rate helpers of the base snapshot, built once inside its ``ql_session`` and cached per as-of
date, curve quote set and fixings (:func:`clear_lowering_cache`).

Departures from the API in VECTOR.md (additions only, plus two behaviours to know):

* additions: :meth:`ScenarioMarket.quote` / :meth:`~ScenarioMarket.moves` (a quote over the
  scenarios), :meth:`~ScenarioMarket.fx_base_curve`; ``curve()`` accepts a currency code like
  ``df()``; ``df`` takes times of any shape (``(S, *t.shape)``); ``equity_vol`` takes strikes
  of shape ``(k,)`` or ``(S, k)``.
* a failure that only some scenarios hit raises for the whole market (naming the first such
  scenario), where QuantLib would fail only those scenarios' trades;
* ``swaption_vol`` / ``cap_vol`` return the vol shift as a float: a ``VOLSHIFT`` quote that
  moves across scenarios raises ``MarketDataError`` (the vol type cannot change, and no
  kernel expects a shift per scenario).

>>> from pricing.demo import demo_market
>>> from pricing.scenarios import ScenarioSet
>>> s = ScenarioSet.from_shifts(["base", "up"], [("IR.USD.SOFR.*", "ABSOLUTE", [0.0, 0.01])])
>>> m = ScenarioMarket(demo_market(), s)
>>> m.df("USD", np.array([365, 3650]) / 365.0).shape, m.df("EUR-ESTR", [1.0]).shape
((2, 2), (1, 1))
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Literal, TypeVar

import numpy as np
from numpy.typing import NDArray

from pricing import conventions
from pricing.curves import build_market
from pricing.errors import MarketDataError
from pricing.market import MarketSnapshot, tenor_date
from pricing.quantlib_ import ql_session
from pricing.quotes import QuoteKey, parse_quote_id
from pricing.scenarios import ScenarioSet
from pricing.vector import curves as vc
from pricing.vector import vols as vv

__all__ = ["ScenarioMarket", "clear_lowering_cache"]

F64 = NDArray[np.float64]
R = TypeVar("R")
RateVolKind = Literal["NORMAL", "LOGNORMAL"]

_PAR = ("DEP", "FRA", "OIS", "SWAP")
_YEAR = 365.0
_LOWERING_CACHE_SIZE = 64
_lowering_cache: OrderedDict[Hashable, vc.LoweredCurve] = OrderedDict()


def clear_lowering_cache() -> None:
    """Forget every lowered bootstrap (tests)."""
    _lowering_cache.clear()


class ScenarioMarket:
    """Market data of ``n`` scenarios at once (scenario 0 = ``base``).

    Parameters
    ----------
    base
        The base snapshot.
    scenarios
        The scenario set (default: the base scenario only).
    """

    def __init__(self, base: MarketSnapshot, scenarios: ScenarioSet | None = None) -> None:
        self.base = base
        self.scenarios = scenarios if scenarios is not None else ScenarioSet.base_only()
        self.asof: dt.date = base.asof
        self.n: int = self.scenarios.n
        values = self.scenarios.quote_values(base)
        # a quote "moves" only if some scenario changes it; the others stay scalar (S = 1)
        self._moving: dict[str, F64] = {
            q: v for q, v in values.items() if not np.all(v == base.quotes[q])
        }
        self._memo: dict[tuple[str, str], Any] = {}
        self._groups = _quote_groups(base)

    # -- basics -----------------------------------------------------------------------------------
    def _get(self, kind: str, name: str, build: Callable[[], R]) -> R:
        key = (kind, name)
        if key not in self._memo:
            try:
                self._memo[key] = build()
            except MarketDataError as exc:
                self._memo[key] = exc
        v = self._memo[key]
        if isinstance(v, MarketDataError):
            raise v
        return v

    def moves(self, quote_id: str) -> bool:
        """True when some scenario changes ``quote_id``."""
        return quote_id in self._moving

    def quote(self, quote_id: str) -> F64:
        """A quote in every scenario: ``(n,)`` if it moves, else ``(1,)``.

        ``MarketDataError("missing quote ...")`` if the base snapshot lacks it.
        """
        v = self._moving.get(quote_id)
        if v is not None:
            return v
        b = self.base.get(quote_id)
        if b is None:
            raise MarketDataError(f"missing quote {quote_id}")
        return np.array([b])

    def _quote_or(self, quote_id: str, default: float) -> F64:
        return self.quote(quote_id) if quote_id in self.base else np.array([default])

    def _where(self, bad: Any) -> str:
        """`` (scenario <name>)`` for the first True row, when rows are per scenario."""
        bad = np.atleast_1d(bad)
        if len(bad) <= 1:
            return ""
        return f" (scenario {self.scenarios.names[int(np.argmax(bad))]})"

    @staticmethod
    def times(days: Any) -> F64:
        """ACT/365F times of day offsets from the as-of date: ``days / 365``."""
        return np.asarray(days, dtype=np.float64) / _YEAR

    # -- curves -----------------------------------------------------------------------------------
    def df(self, index_or_ccy: str, t: Any) -> F64:
        """Discount factors ``(S, *t.shape)`` of an index's curve (``"EUR-EURIBOR-6M"``) or of a
        currency's OIS discount curve (``"USD"``) at ACT/365F times ``t``."""
        return self.curve(index_or_ccy).df(t)

    def curve(self, name: str) -> vc.VecCurve:
        """The curve of an index, or of a currency's discount index (3-letter code)."""
        if len(name) == 3 and name.isalpha():
            try:
                name = conventions.currency_convention(name).discount_index
            except KeyError as exc:
                raise MarketDataError(str(exc.args[0])) from None
        return self._get("curve", name, lambda: self._build_curve(name))

    def _build_curve(self, index: str) -> vc.VecCurve:
        try:
            conv = conventions.index_convention(index)
        except KeyError as exc:
            raise MarketDataError(str(exc.args[0])) from None
        quotes = self._groups.get(("IR", conv.curve, conv.currency), {})
        prefix = f"IR.{conv.currency}.{conv.curve}.*"
        if not quotes:
            raise MarketDataError(f"no quotes for curve {index} ({prefix})")
        kinds = {k.kind for k in quotes.values()}
        par = kinds & set(_PAR)
        if len(kinds) > 1 and (kinds - set(_PAR)):
            raise MarketDataError(
                f"curve {index}: quote types {sorted(kinds)} cannot be mixed "
                f"({prefix}); use par instruments or one direct type"
            )
        if par:
            return self._bootstrap(conv)
        moves = any(q in self._moving for q in quotes)
        if kinds == {"FLAT"}:
            (qid,) = quotes
            return vc.FlatCurve(self.quote(qid), moves)
        pillars = sorted((tenor_date(self.asof, k.tenor), q) for q, k in quotes.items())
        times = np.array([0.0] + [(d - self.asof).days / _YEAR for d, _ in pillars])
        vals = _stack([self.quote(q) for _, q in pillars])
        if kinds == {"ZERO"}:
            return vc.ZeroLinearCurve(times, np.c_[vals[:, :1], vals], moves)
        bad = (vals <= 0).any(axis=1)
        if bad.any():
            raise MarketDataError(
                f"curve {index}: discount factors must be positive{self._where(bad)}"
            )
        return vc.LogLinearCurve(times, np.c_[np.zeros(len(vals)), np.log(vals)], moves)

    def _lowered(self, conv: conventions.IndexConvention) -> vc.LoweredCurve:
        disc = None
        if not conv.is_overnight:
            disc = conventions.currency_convention(conv.currency).discount_index
        qids = tuple(sorted(self._groups.get(("IR", conv.curve, conv.currency), {})))
        key = (
            self.asof,
            conv.name,
            qids,
            tuple(sorted(self.base.fixings.get(conv.name, {}).items())),
        )
        hit = _lowering_cache.get(key)
        if hit is not None:
            _lowering_cache.move_to_end(key)
            return hit
        with ql_session(self.asof, self.base.fixings):
            qm = build_market(self.base)
            helpers = qm.helpers(conv.name)  # QlMarket's errors, QlMarket's words
            lowered = vc.lower_helpers(conv.name, helpers, self.asof, conv.day_count, disc)
        _lowering_cache[key] = lowered
        while len(_lowering_cache) > _LOWERING_CACHE_SIZE:
            _lowering_cache.popitem(last=False)
        return lowered

    def _bootstrap(self, conv: conventions.IndexConvention) -> vc.VecCurve:
        disc_curve = None
        if not conv.is_overnight:
            ois = conventions.currency_convention(conv.currency).discount_index
            if ois == conv.name:
                raise MarketDataError(f"curve {conv.name}: an IBOR index cannot discount itself")
            disc_curve = self.curve(ois)
        lowered = self._lowered(conv)
        quotes = [self.quote(q) for q in lowered.quote_ids]
        moves = any(q in self._moving for q in lowered.quote_ids) or bool(
            disc_curve is not None and disc_curve.moves
        )
        y = vc.bootstrap(lowered, quotes, disc_curve, self.scenarios.names)
        times = np.r_[0.0, lowered.pillar_times]
        return vc.LogLinearCurve(times, np.c_[np.zeros(len(y)), y], moves)

    def zspread(self, issuer: str) -> F64:
        """The issuer's continuous z-spread ``CREDIT.<issuer>.ZSPREAD`` ``(S,)``; 0 if ``""``."""
        if not issuer:
            return np.zeros(1)
        return self.quote(f"CREDIT.{issuer}.ZSPREAD")

    # -- FX ---------------------------------------------------------------------------------------
    def _usd_per(self, ccy: str) -> F64:
        if ccy == "USD":
            return np.ones(1)
        direct, inverse = f"FX.{ccy}USD", f"FX.USD{ccy}"
        if direct in self.base:
            return self.quote(direct)
        if inverse in self.base:
            return 1.0 / self.quote(inverse)
        raise MarketDataError(f"no FX spot for {ccy} (need FX.{ccy}USD or FX.USD{ccy})")

    def fx_spot(self, pair: str) -> F64:
        """Spot of ``pair`` ``(S,)``: direct quote, inverse, or cross via USD (as QlMarket)."""
        base, quote = pair[:3], pair[3:]
        if base == quote:
            return np.ones(1)
        direct, inverse = f"FX.{pair}", f"FX.{quote}{base}"
        if direct in self.base:
            return self.quote(direct)
        if inverse in self.base:
            return 1.0 / self.quote(inverse)
        return self._usd_per(base) / self._usd_per(quote)

    def fx_rate(self, from_ccy: str, to_ccy: str) -> F64:
        """Units of ``to_ccy`` per unit of ``from_ccy`` at spot ``(S,)``."""
        return self.fx_spot(from_ccy + to_ccy)

    def fx_base_df(self, pair: str, t: Any) -> F64:
        """Base-currency discount factors consistent with the FX forward points of ``pair``
        (``QlMarket.fx_curves(pair)[0]``) -> ``(S, *t.shape)``; the quote-currency curve is
        ``df(pair[3:], t)``."""
        return self.fx_base_curve(pair).df(t)

    def fx_base_curve(self, pair: str) -> vc.VecCurve:
        """The curve behind :meth:`fx_base_df`."""
        return self._get("fxcurves", pair, lambda: self._build_fx_base(pair))

    def _build_fx_base(self, pair: str) -> vc.VecCurve:
        base, quote = pair[:3], pair[3:]
        dom = self.curve(quote)
        points = self._groups.get(("FX", pair), {})
        fwd = sorted(
            (tenor_date(self.asof, k.tenor), q) for q, k in points.items() if k.kind == "FWD"
        )
        if not fwd:
            return self.curve(base)
        spot = self.fx_spot(pair)[:, None]
        times = np.array([(d - self.asof).days / _YEAR for d, _ in fwd])
        f = spot + _stack([self.quote(q) for _, q in fwd])
        bad = (f <= 0).any(axis=1)
        if bad.any():
            row = int(np.argmax(bad))
            value = f[row][f[row] <= 0][0]
            raise MarketDataError(
                f"FX.{pair}.FWD: forward {value} is not positive{self._where(bad)}"
            )
        dfs = dom.df(times) * f / spot  # QuantLib: dom.discount(d) * f / spot
        moves = dom.moves or any(self.moves(q) for _, q in fwd) or len(spot) > 1
        return vc.LogLinearCurve(np.r_[0.0, times], np.c_[np.zeros(len(dfs)), np.log(dfs)], moves)

    # -- equity -----------------------------------------------------------------------------------
    def equity_spot(self, underlying: str) -> F64:
        """Spot ``EQ.<UND>.SPOT`` ``(S,)``; must be positive in every scenario."""
        s = self.quote(f"EQ.{underlying}.SPOT")
        bad = s <= 0
        if bad.any():
            raise MarketDataError(
                f"EQ.{underlying}.SPOT must be positive, got {s[bad][0]}{self._where(bad)}"
            )
        return s

    def dividend_yield(self, underlying: str) -> F64:
        """Continuous dividend yield ``EQ.<UND>.DIV`` ``(S,)``; 0 when not quoted."""
        return self._quote_or(f"EQ.{underlying}.DIV", 0.0)

    def equity_vol(self, underlying: str, t: Any, strike: Any) -> F64:
        """Black vols ``(S, k)`` at expiry times ``t`` and absolute strikes ``strike`` (``k``,
        or broadcastable to ``(S, k)``); the surface's strikes are % of each scenario's spot."""
        surf = self._get("eqvol", underlying, lambda: self._build_equity_vol(underlying))
        return surf.vol(np.atleast_1d(np.asarray(t, dtype=np.float64)), strike)

    def _build_equity_vol(
        self, underlying: str
    ) -> vv.ConstantVol | vv.VarianceCurve | vv.VarianceSurface:
        flat, grid = self._flat_or_grid("EQ", underlying)
        if flat is not None:
            return vv.ConstantVol(self.quote(flat))
        spot = self.equity_spot(underlying)
        expiries, strikes, cells = _rect(
            "EQ",
            underlying,
            grid,
            row=lambda k: tenor_date(self.asof, k.tenor),
            col=lambda k: float(k.extra),
        )
        times = np.array([(d - self.asof).days / _YEAR for d in expiries])
        if len(strikes) == 1:
            vols = _stack([self.quote(cells[(d, strikes[0])]) for d in expiries])
            return vv.VarianceCurve.from_vols(times, vols)
        if len(expiries) < 2:
            raise MarketDataError(f"VOL.EQ.{underlying}: a strike grid needs two or more expiries")
        cols = [_stack([self.quote(cells[(d, k)]) for d in expiries]) for k in strikes]
        size = max(c.shape[0] for c in cols)
        vols = np.stack([np.broadcast_to(c, (size, len(expiries))) for c in cols], axis=1)
        abs_strikes = np.array([k / 100.0 for k in strikes])[None, :] * spot[:, None]
        return vv.VarianceSurface(times, abs_strikes, vols)

    # -- FX vols ----------------------------------------------------------------------------------
    def fx_vol(self, pair: str, t: Any) -> F64:
        """ATM Black vols ``(S, k)`` of ``pair`` (or of its inverse pair) at times ``t``."""
        curve = self._get("fxvol", pair, lambda: self._build_fx_vol(pair))
        return curve.vol(np.atleast_1d(np.asarray(t, dtype=np.float64)))

    def _build_fx_vol(self, pair: str) -> vv.ConstantVol | vv.VarianceCurve:
        use = pair
        inverse = pair[3:] + pair[:3]
        if not self._groups.get(("VOL", "FX", pair)) and self._groups.get(("VOL", "FX", inverse)):
            use = inverse
        flat, grid = self._flat_or_grid("FX", use)
        if flat is not None:
            return vv.ConstantVol(self.quote(flat))
        pts = sorted((tenor_date(self.asof, k.tenor), q) for q, k in grid)
        times = np.array([(d - self.asof).days / _YEAR for d, _ in pts])
        return vv.VarianceCurve.from_vols(times, _stack([self.quote(q) for _, q in pts]))

    # -- rate vols --------------------------------------------------------------------------------
    def swaption_vol(
        self, ccy: str, expiry_t: Any, swap_length_years: Any
    ) -> tuple[F64, RateVolKind, float]:
        """ATM swaption vols ``(S, k)`` at option times and swap lengths (years), with the vol
        type and shift (``VOLSHIFT.SWPT.<CCY>``).

        The matrix is QuantLib's ``SwaptionVolatilityMatrix`` on option dates
        ``asof + expiry`` and swap lengths ``months / 12``. QuantLib's Black/Bachelier swaption
        engines read it at the length ``vol.swapLength(start, end)`` of the underlying's floating
        schedule: ``round((end - start) / 365.25 * 12) / 12`` years (rounded months).
        """
        kind, shift = self._rate_vol_type("SWPT", ccy)
        vol = self._get("swptvol", ccy, lambda: self._build_swaption_vol(ccy))
        if isinstance(vol, vv.ConstantVol):
            return vol.vol(np.atleast_1d(np.asarray(expiry_t, dtype=np.float64))), kind, shift
        return vol.vol(expiry_t, swap_length_years), kind, shift

    def _build_swaption_vol(self, ccy: str) -> vv.ConstantVol | vv.SwaptionMatrix:
        self._rate_vol_type("SWPT", ccy)
        flat, grid = self._flat_or_grid("SWPT", ccy)
        if flat is not None:
            return vv.ConstantVol(self.quote(flat))
        expiries, tenors, cells = _rect(
            "SWPT", ccy, grid, row=lambda k: _months(k.tenor), col=lambda k: _months(k.extra)
        )
        if len(expiries) < 2 or len(tenors) < 2:
            raise MarketDataError(
                f"VOL.SWPT.{ccy}: the matrix needs at least 2 expiries and "
                "2 tenors (or use VOL.SWPT.<CCY>.FLAT)"
            )
        rows = [_stack([self.quote(cells[(e, t)]) for t in tenors]) for e in expiries]
        size = max(r.shape[0] for r in rows)
        vols = np.stack([np.broadcast_to(r, (size, len(tenors))) for r in rows], axis=1)
        times = np.array(
            [(tenor_date(self.asof, f"{e}M") - self.asof).days / _YEAR for e in expiries]
        )
        lengths = np.array([t / 12.0 for t in tenors])  # QuantLib swapLength(Period(t, Months))
        return vv.SwaptionMatrix(times, lengths, vols)

    def cap_vol(self, ccy: str, maturity_t: Any) -> tuple[F64, RateVolKind, float]:
        """Flat cap vols ``(S, k)`` at cap maturity times, with the vol type and shift."""
        kind, shift = self._rate_vol_type("CAP", ccy)
        vol = self._get("capvol", ccy, lambda: self._build_cap_vol(ccy))
        return vol.vol(maturity_t), kind, shift

    def _build_cap_vol(self, ccy: str) -> vv.CapVols:
        flat, grid = self._flat_or_grid("CAP", ccy)
        if flat is not None:
            return vv.CapVols(np.zeros(1), self.quote(flat)[:, None])
        pts = sorted(
            ((tenor_date(self.asof, k.tenor) - self.asof).days / _YEAR, q) for q, k in grid
        )
        return vv.CapVols(np.array([t for t, _ in pts]), _stack([self.quote(q) for _, q in pts]))

    def _rate_vol_type(self, family: str, ccy: str) -> tuple[RateVolKind, float]:
        qid = f"VOLSHIFT.{family}.{ccy}"
        if qid not in self.base:
            return "NORMAL", 0.0
        if self.moves(qid):
            raise MarketDataError(
                f"{qid} moves across scenarios: the vectorised market needs one vol shift"
            )
        return "LOGNORMAL", float(self.base[qid])

    def _flat_or_grid(self, family: str, name: str) -> tuple[str | None, list[tuple[str, Any]]]:
        quotes = self._groups.get(("VOL", family, name), {})
        if not quotes:
            raise MarketDataError(f"no vol quotes VOL.{family}.{name}.*")
        flat = [q for q, k in quotes.items() if k.kind == "FLAT"]
        grid = [(q, k) for q, k in quotes.items() if k.kind != "FLAT"]
        if flat and grid:
            raise MarketDataError(f"VOL.{family}.{name}: FLAT cannot be mixed with a grid")
        for q, k in quotes.items():
            v = self.quote(q)
            bad = v <= 0
            if bad.any():
                raise MarketDataError(
                    f"VOL.{family}.{name}: vols must be positive ({k.tenor} {v[bad][0]})"
                    f"{self._where(bad)}"
                )
        return (flat[0] if flat else None), grid


_groups_cache: OrderedDict[str, dict[tuple[str, ...], dict[str, QuoteKey]]] = OrderedDict()


def _quote_groups(base: MarketSnapshot) -> dict[tuple[str, ...], dict[str, QuoteKey]]:
    """Quote ids grouped as in ``QlMarket`` (by curve, vol family and name), cached per
    snapshot content (parsing every id is the larger part of a small market's set-up)."""
    key = base.content_hash
    hit = _groups_cache.get(key)
    if hit is None:
        hit = {}
        for qid in base.quotes:
            k = parse_quote_id(qid)
            group = (k.cls, k.sub, k.name) if k.cls in ("IR", "VOL") else (k.cls, k.name)
            hit.setdefault(group, {})[qid] = k
        _groups_cache[key] = hit
        while len(_groups_cache) > 8:
            _groups_cache.popitem(last=False)
    return hit


def _stack(cols: list[F64]) -> F64:
    """Per-quote arrays ``(S or 1,)`` -> ``(S, len(cols))``."""
    size = max(len(c) for c in cols)
    return np.stack([np.broadcast_to(c, (size,)) for c in cols], axis=1)


def _months(tenor: str) -> int:
    """Months of a tenor, as ``pricing.vols.swaption_vol`` counts them."""
    n, unit = int(tenor[:-1]), tenor[-1]
    return n * (12 if unit == "Y" else 1)


def _rect(
    family: str,
    name: str,
    grid: list[tuple[str, Any]],
    row: Callable[[Any], Any],
    col: Callable[[Any], Any],
) -> tuple[list[Any], list[Any], dict[Any, str]]:
    rows = sorted({row(k) for _, k in grid})
    cols = sorted({col(k) for _, k in grid})
    cells = {(row(k), col(k)): q for q, k in grid}
    if len(cells) != len(rows) * len(cols):
        raise MarketDataError(
            f"VOL.{family}.{name}: the grid is not full "
            f"({len(cells)} of {len(rows)} x {len(cols)} points quoted)"
        )
    return rows, cols, cells
