"""Trades as frozen plain-data dataclasses, the portfolio and its loaders.

>>> from pricing.trades import PRODUCTS
>>> sorted(PRODUCTS)[:3]
['BOND', 'CAPFLOOR', 'EQ_AMERICAN']
"""

from pricing.trades.base import Trade, parse_date, parse_tenor
from pricing.trades.equity import EquityAmericanOption, EquityBarrierOption, EquityOption
from pricing.trades.fx import FxForward, FxOption
from pricing.trades.loaders import LoadResult, load_portfolio, parse_portfolio, write_portfolio
from pricing.trades.portfolio import UNASSIGNED_DESK, Portfolio
from pricing.trades.rates import (
    CapFloor,
    FixedRateBond,
    ForwardRateAgreement,
    InterestRateSwap,
    OvernightIndexSwap,
    Swaption,
)
from pricing.trades.registry import PRODUCTS, parse_trade

__all__ = [
    "PRODUCTS",
    "UNASSIGNED_DESK",
    "CapFloor",
    "EquityAmericanOption",
    "EquityBarrierOption",
    "EquityOption",
    "FixedRateBond",
    "ForwardRateAgreement",
    "FxForward",
    "FxOption",
    "InterestRateSwap",
    "LoadResult",
    "OvernightIndexSwap",
    "Portfolio",
    "Swaption",
    "Trade",
    "load_portfolio",
    "parse_date",
    "parse_portfolio",
    "parse_tenor",
    "parse_trade",
    "write_portfolio",
]
