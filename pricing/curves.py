"""QuantLib market objects built from a :class:`~pricing.market.MarketSnapshot`.

:class:`QlMarket` builds, lazily and once, every curve, vol structure and spot that pricers ask
for, and remembers failures as :class:`~pricing.errors.MarketDataError` so that a missing quote
is one clear error per affected trade. :func:`build_market` caches markets by snapshot content
hash in a small bounded cache (live QuantLib graphs slow down every evaluation-date change;
PITFALLS 5).

Curves, by the quote types present for ``IR.<CCY>.<CURVE>.*`` (types may not be mixed):

* par instruments ``DEP`` / ``FRA`` / ``OIS`` / ``SWAP`` -> bootstrapped
  ``PiecewiseLogLinearDiscount`` (ACT/365F). Overnight-index curves bootstrap on their own OIS
  quotes; IBOR projection curves use deposits, FRAs and swaps, discounted on the currency's
  OIS curve (multi-curve). Instrument conventions come from ``conventions/indices.yaml``.
* ``ZERO`` -> ``ZeroCurve`` linear in continuously compounded ACT/365F zero rates.
* ``DF`` -> ``DiscountCurve`` log-linear in discount factors.
* ``FLAT`` -> ``FlatForward`` at a continuously compounded ACT/365F rate.

Direct pillars sit at ``asof + tenor`` (unadjusted). All curves extrapolate.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import QuantLib as ql

from pricing import conventions, vols
from pricing import quantlib_ as qa
from pricing.errors import MarketDataError
from pricing.market import MarketSnapshot, tenor_date
from pricing.quotes import QuoteKey, parse_quote_id

__all__ = ["CURVE_DAY_COUNT", "QlMarket", "build_market", "clear_market_cache"]

#: Day count of curve time (zero rates, direct inputs, vol time).
CURVE_DAY_COUNT = "ACT/365F"
_CACHE_SIZE = 4
_cache: OrderedDict[str, QlMarket] = OrderedDict()

R = TypeVar("R")
_PAR = ("DEP", "FRA", "OIS", "SWAP")


def build_market(snapshot: MarketSnapshot) -> QlMarket:
    """The (cached) QuantLib market of ``snapshot``; keyed by content hash, at most 4 kept."""
    key = snapshot.content_hash
    m = _cache.get(key)
    if m is None:
        m = QlMarket(snapshot)
        _cache[key] = m
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(key)
    return m


def clear_market_cache() -> None:
    """Drop every cached market (tests, memory pressure)."""
    _cache.clear()


class QlMarket:
    """Lazily built QuantLib view of one snapshot.

    Every accessor raises :class:`MarketDataError` naming the missing or bad data. Must be used
    inside :func:`pricing.quantlib_.ql_session` for the snapshot's as-of date.
    """

    def __init__(self, snapshot: MarketSnapshot) -> None:
        self.snapshot = snapshot
        self.asof: dt.date = snapshot.asof
        self.ql_asof = qa.ql_date(snapshot.asof)
        self._memo: dict[tuple[str, str], Any] = {}
        self._groups: dict[tuple[str, ...], dict[str, tuple[QuoteKey, float]]] = {}
        for qid, value in snapshot.quotes.items():
            k = parse_quote_id(qid)
            group = (k.cls, k.sub, k.name) if k.cls in ("IR", "VOL") else (k.cls, k.name)
            self._groups.setdefault(group, {})[qid] = (k, value)

    # -- memoisation ------------------------------------------------------------------------------
    def _get(self, kind: str, name: str, build: Callable[[], R]) -> R:
        key = (kind, name)
        if key not in self._memo:
            try:
                self._memo[key] = build()
            except MarketDataError as exc:
                self._memo[key] = exc
            except (RuntimeError, ValueError, TypeError) as exc:  # QuantLib errors
                msg = str(exc).strip().splitlines()[0][:300]
                self._memo[key] = MarketDataError(f"cannot build {kind} {name}: {msg}")
        v = self._memo[key]
        if isinstance(v, MarketDataError):
            raise v
        return v

    def require(self, requirement: tuple[str, str]) -> None:
        """Build (or fail on) one requirement ``(kind, name)`` as listed by a pricer."""
        kind, name = requirement
        getattr(self, _REQUIREMENTS[kind])(name)

    def quote(self, qid: str) -> float:
        """A single quote's value; ``MarketDataError`` if absent."""
        v = self.snapshot.get(qid)
        if v is None:
            raise MarketDataError(f"missing quote {qid}")
        return v

    # -- curves -----------------------------------------------------------------------------------
    def discount(self, currency: str) -> ql.YieldTermStructureHandle:
        """The OIS discount curve of ``currency`` (its overnight index's curve)."""
        try:
            index = conventions.currency_convention(currency).discount_index
        except KeyError as exc:
            raise MarketDataError(str(exc.args[0])) from None
        return self.curve(index)

    def curve(self, index: str) -> ql.YieldTermStructureHandle:
        """The projection curve of ``index`` (for an overnight index also its discount curve)."""
        return self._get("curve", index, lambda: self._build_curve(index))

    def index(self, name: str) -> ql.IborIndex | ql.OvernightIndex:
        """The QuantLib index ``name`` forecasting on its projection curve."""
        return self._get("index", name, lambda: qa.make_index(name, self.curve(name)))

    def _curve_quotes(self, conv: conventions.IndexConvention) -> dict[str, tuple[QuoteKey, float]]:
        return self._groups.get(("IR", conv.curve, conv.currency), {})

    def _build_curve(self, index: str) -> ql.YieldTermStructureHandle:
        try:
            conv = conventions.index_convention(index)
        except KeyError as exc:
            raise MarketDataError(str(exc.args[0])) from None
        quotes = self._curve_quotes(conv)
        prefix = f"IR.{conv.currency}.{conv.curve}.*"
        if not quotes:
            raise MarketDataError(f"no quotes for curve {index} ({prefix})")
        kinds = {k.kind for k, _ in quotes.values()}
        par = kinds & set(_PAR)
        if len(kinds) > 1 and (kinds - set(_PAR)):
            raise MarketDataError(
                f"curve {index}: quote types {sorted(kinds)} cannot be mixed "
                f"({prefix}); use par instruments or one direct type"
            )
        dc = qa.day_counter(CURVE_DAY_COUNT)
        if par:
            ts = self._bootstrap(conv, quotes)
        elif kinds == {"FLAT"}:
            ((_, rate),) = quotes.values()
            ts = ql.FlatForward(self.ql_asof, rate, dc, ql.Continuous)
        else:
            pillars = sorted((tenor_date(self.asof, k.tenor), v) for k, v in quotes.values())
            dates = [qa.ql_date(d) for d, _ in pillars]
            values = [v for _, v in pillars]
            if kinds == {"ZERO"}:
                ts = ql.ZeroCurve(
                    [self.ql_asof, *dates],
                    [values[0], *values],
                    dc,
                    ql.NullCalendar(),
                    ql.Linear(),
                    ql.Continuous,
                )
            else:
                if any(v <= 0 for v in values):
                    raise MarketDataError(f"curve {index}: discount factors must be positive")
                ts = ql.DiscountCurve([self.ql_asof, *dates], [1.0, *values], dc)
        ts.enableExtrapolation()
        return ql.YieldTermStructureHandle(ts)

    def helpers(self, index: str) -> list[tuple[str, Any]]:
        """(quote id, QuantLib rate helper) of a bootstrapped curve, in pillar order."""
        self.curve(index)
        return list(self._memo[("helpers", index)])

    def _bootstrap(
        self, conv: conventions.IndexConvention, quotes: dict[str, tuple[QuoteKey, float]]
    ) -> ql.YieldTermStructure:
        cal = qa.calendar(conv.calendar)
        sw = conv.swap
        helpers: list[tuple[str, Any]] = []
        if conv.is_overnight:
            on_index = qa.overnight_index(conv)
        else:
            ibor = qa.ibor_index(conv)
            ois_index = conventions.currency_convention(conv.currency).discount_index
            if ois_index == conv.name:
                raise MarketDataError(f"curve {conv.name}: an IBOR index cannot discount itself")
            disc = self.curve(ois_index)
        for qid, (k, v) in quotes.items():
            q = ql.QuoteHandle(ql.SimpleQuote(v))
            if k.kind == "DEP":
                if k.tenor in ("ON", "TN"):
                    h = ql.DepositRateHelper(
                        q,
                        ql.Period(1, ql.Days),
                        0 if k.tenor == "ON" else 1,
                        cal,
                        ql.Following,
                        False,
                        qa.day_counter(conv.day_count),
                    )
                else:
                    h = ql.DepositRateHelper(
                        q,
                        qa.period(k.tenor),
                        conv.fixing_days,
                        cal,
                        qa.bdc(conv.convention),
                        conv.end_of_month,
                        qa.day_counter(conv.day_count),
                    )
            elif k.kind == "FRA":
                if conv.is_overnight:
                    raise MarketDataError(f"{qid}: FRA quotes need an IBOR curve")
                a, b = (int(x) for x in k.tenor.split("X"))
                h = ql.FraRateHelper(
                    q,
                    a,
                    b,
                    conv.fixing_days,
                    cal,
                    qa.bdc(conv.convention),
                    conv.end_of_month,
                    qa.day_counter(conv.day_count),
                )
            elif k.kind == "OIS":
                if not conv.is_overnight:
                    raise MarketDataError(f"{qid}: OIS quotes need an overnight-index curve")
                h = ql.OISRateHelper(
                    sw.settlement_days,
                    qa.period(k.tenor),
                    q,
                    on_index,
                    paymentLag=sw.payment_lag,
                    paymentConvention=qa.bdc(sw.convention),
                    paymentFrequency=qa.frequency(sw.float_frequency),
                    paymentCalendar=cal,
                    fixedPaymentFrequency=qa.frequency(sw.fixed_frequency),
                    convention=qa.bdc(sw.convention),
                    fixedDayCount=qa.day_counter(sw.fixed_day_count),
                )
            else:  # SWAP
                if conv.is_overnight:
                    raise MarketDataError(f"{qid}: SWAP quotes need an IBOR curve (use OIS)")
                h = ql.SwapRateHelper(
                    q,
                    qa.period(k.tenor),
                    cal,
                    qa.frequency(sw.fixed_frequency),
                    qa.bdc(sw.convention),
                    qa.day_counter(sw.fixed_day_count),
                    ibor,
                    ql.QuoteHandle(),
                    ql.Period(0, ql.Days),
                    disc,
                    sw.settlement_days,
                )
            helpers.append((qid, h))
        helpers.sort(key=lambda p: p[1].pillarDate().serialNumber())
        pillars = [h.pillarDate() for _, h in helpers]
        dupes = {pillars[i] for i in range(1, len(pillars)) if pillars[i] == pillars[i - 1]}
        if dupes:
            same = [qid for qid, h in helpers if h.pillarDate() in dupes]
            raise MarketDataError(
                f"curve {conv.name}: quotes {', '.join(same)} share a pillar date"
            )
        self._memo[("helpers", conv.name)] = helpers
        curve = ql.PiecewiseLogLinearDiscount(
            self.ql_asof, [h for _, h in helpers], qa.day_counter(CURVE_DAY_COUNT)
        )
        try:
            curve.discount(pillars[-1])  # bootstrap now, so failures are reported here
        except RuntimeError as exc:
            raise MarketDataError(f"curve {conv.name}: bootstrap failed: {exc}") from None
        return curve

    def credit_spread(self, issuer: str) -> float:
        """The issuer's z-spread quote ``CREDIT.<issuer>.ZSPREAD``."""
        return self.quote(f"CREDIT.{issuer}.ZSPREAD")

    def zspread_curve(self, currency: str, issuer: str) -> ql.YieldTermStructureHandle:
        """The currency's OIS curve plus the issuer's z-spread (none when ``issuer`` is empty)."""
        base = self.discount(currency)
        if not issuer:
            return base
        spread = self.credit_spread(issuer)
        return self._get(
            "zspread",
            f"{currency}.{issuer}",
            lambda: ql.YieldTermStructureHandle(
                ql.ZeroSpreadedTermStructure(
                    base,
                    ql.QuoteHandle(ql.SimpleQuote(spread)),
                    ql.Continuous,
                    ql.NoFrequency,
                    qa.day_counter(CURVE_DAY_COUNT),
                )
            ),
        )

    # -- FX ---------------------------------------------------------------------------------------
    def _usd_per(self, ccy: str) -> float:
        if ccy == "USD":
            return 1.0
        direct, inverse = self.snapshot.get(f"FX.{ccy}USD"), self.snapshot.get(f"FX.USD{ccy}")
        if direct is not None:
            return direct
        if inverse is not None:
            return 1.0 / inverse
        raise MarketDataError(f"no FX spot for {ccy} (need FX.{ccy}USD or FX.USD{ccy})")

    def fx_spot(self, pair: str) -> float:
        """Spot of ``pair`` (quote ccy per base ccy): direct quote, inverse, or cross via USD."""
        base, quote = pair[:3], pair[3:]
        if base == quote:
            return 1.0
        direct, inverse = self.snapshot.get(f"FX.{pair}"), self.snapshot.get(f"FX.{quote}{base}")
        if direct is not None:
            return direct
        if inverse is not None:
            return 1.0 / inverse
        return self._usd_per(base) / self._usd_per(quote)

    def fx_rate(self, from_ccy: str, to_ccy: str) -> float:
        """Units of ``to_ccy`` per unit of ``from_ccy`` at spot (for reporting-currency PVs)."""
        return self.fx_spot(from_ccy + to_ccy)

    def fx_curves(
        self, pair: str
    ) -> tuple[ql.YieldTermStructureHandle, ql.YieldTermStructureHandle]:
        """(base-currency, quote-currency) discount curves consistent with the FX forwards.

        With forward points ``FX.<PAIR>.FWD.<T>`` the base curve is implied from them:
        ``DF_base(T) = DF_quote(T) * F(T) / S`` at the pillars, log-linear between (so
        ``F(T) = S * DF_base(T) / DF_quote(T)`` reprices every quoted forward). Without them it
        is the base currency's own OIS curve.
        """
        return self._get("fxcurves", pair, lambda: self._build_fx_curves(pair))

    def _build_fx_curves(
        self, pair: str
    ) -> tuple[ql.YieldTermStructureHandle, ql.YieldTermStructureHandle]:
        base, quote = pair[:3], pair[3:]
        dom = self.discount(quote)
        points = self._groups.get(("FX", pair), {})
        fwd = sorted(
            (tenor_date(self.asof, k.tenor), v) for k, v in points.values() if k.kind == "FWD"
        )
        if not fwd:
            return self.discount(base), dom
        spot = self.fx_spot(pair)
        dates, dfs = [self.ql_asof], [1.0]
        for d, pts in fwd:
            f = spot + pts
            if f <= 0:
                raise MarketDataError(f"FX.{pair}.FWD: forward {f} is not positive")
            qd = qa.ql_date(d)
            dates.append(qd)
            dfs.append(dom.discount(qd) * f / spot)
        ts = ql.DiscountCurve(dates, dfs, qa.day_counter(CURVE_DAY_COUNT))
        ts.enableExtrapolation()
        return ql.YieldTermStructureHandle(ts), dom

    def fx_forward(self, pair: str, date: dt.date) -> float:
        """Outright forward of ``pair`` for delivery on ``date``."""
        f_base, f_quote = self.fx_curves(pair)
        d = qa.ql_date(date)
        return self.fx_spot(pair) * f_base.discount(d) / f_quote.discount(d)

    # -- equity -----------------------------------------------------------------------------------
    def equity_spot(self, underlying: str) -> float:
        """Spot of an equity underlying (``EQ.<UND>.SPOT``)."""
        s = self.quote(f"EQ.{underlying}.SPOT")
        if s <= 0:
            raise MarketDataError(f"EQ.{underlying}.SPOT must be positive, got {s}")
        return s

    def dividend_curve(self, underlying: str) -> ql.YieldTermStructureHandle:
        """Flat continuous dividend-yield curve (``EQ.<UND>.DIV``; 0 when not quoted)."""
        q = self.snapshot.get(f"EQ.{underlying}.DIV", 0.0) or 0.0
        return self._get(
            "div",
            underlying,
            lambda: ql.YieldTermStructureHandle(
                ql.FlatForward(self.ql_asof, q, qa.day_counter(CURVE_DAY_COUNT), ql.Continuous)
            ),
        )

    # -- vols (built in pricing.vols) -------------------------------------------------------------
    def equity_vol(self, underlying: str) -> ql.BlackVolTermStructureHandle:
        """Equity Black vol surface (sticky moneyness: strikes in % of today's spot)."""
        return self._get("eqvol", underlying, lambda: vols.equity_vol(self, underlying))

    def fx_vol(self, pair: str) -> ql.BlackVolTermStructureHandle:
        """FX ATM Black vol term structure of ``pair`` (or of its inverse pair)."""
        return self._get("fxvol", pair, lambda: vols.fx_vol(self, pair))

    def swaption_vol(self, currency: str) -> vols.RateVol:
        """ATM swaption vol matrix of ``currency`` with its type (normal / shifted lognormal)."""
        return self._get("swptvol", currency, lambda: vols.swaption_vol(self, currency))

    def cap_vol(self, currency: str) -> vols.RateVol:
        """Flat cap vols by maturity of ``currency`` with their type."""
        return self._get("capvol", currency, lambda: vols.cap_vol(self, currency))

    def vol_quotes(self, family: str, name: str) -> dict[str, tuple[QuoteKey, float]]:
        """Quotes ``VOL.<family>.<name>.*``."""
        return self._groups.get(("VOL", family, name), {})

    def year_fraction(self, date: dt.date) -> float:
        """ACT/365F time from as-of to ``date``."""
        return (date - self.asof).days / 365.0


_REQUIREMENTS = {
    "discount": "discount",
    "curve": "curve",
    "fx": "fx_spot",
    "fxcurves": "fx_curves",
    "fxvol": "fx_vol",
    "equity": "equity_spot",
    "eqvol": "equity_vol",
    "swptvol": "swaption_vol",
    "capvol": "cap_vol",
    "credit": "credit_spread",
}
