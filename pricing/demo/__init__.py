"""Demo data: a plausible late-2025 market snapshot and a seeded demo portfolio generator."""

from pricing.demo.market import DEMO_ASOF, demo_market
from pricing.demo.portfolio import demo_bad_trades, demo_portfolio

__all__ = ["DEMO_ASOF", "demo_bad_trades", "demo_market", "demo_portfolio"]
