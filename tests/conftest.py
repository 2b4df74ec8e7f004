"""Shared fixtures: the demo snapshot and a clean QuantLib market cache per test module."""

from __future__ import annotations

import pytest

from pricing.demo import demo_market
from pricing.market import MarketSnapshot


@pytest.fixture(scope="session")
def demo_snapshot() -> MarketSnapshot:
    """The bundled demo market (28 Nov 2025)."""
    return demo_market()
