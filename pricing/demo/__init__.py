"""Demo data: a plausible late-2025 market snapshot and a seeded demo portfolio generator."""

from pricing.demo.market import DEMO_ASOF, demo_market

__all__ = ["DEMO_ASOF", "demo_market"]
