"""Pure planning (no cluster): chunk alignment, grouping by product, determinism, fingerprints,
chunk sizing.

The contract pinned here is grid/plan.py's: trades ordered by (product, trade id) and cut into
chunks of ``chunk_size`` consecutive trades, all but the last exactly that long, so chunks line
up with the cube's Zarr chunks and no two tasks ever write the same Zarr chunk.
"""

from __future__ import annotations

import itertools
import math
import random

import pytest

from grid.plan import COST_SECONDS, Plan, choose_chunk_size, plan
from pricing.demo import demo_portfolio
from pricing.trades import Portfolio, Trade


@pytest.fixture(scope="module")
def book() -> Portfolio:
    """500 demo trades of every product."""
    return demo_portfolio(500, seed=3)


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 100, 250, 499, 500, 501, 5000])
def test_every_chunk_but_the_last_is_exactly_chunk_size(book: Portfolio, chunk_size: int) -> None:
    p = plan(book, chunk_size=chunk_size)
    n = len(book)
    assert p.chunk_size == chunk_size
    assert len(p.chunks) == math.ceil(n / chunk_size)
    assert [c.chunk_id for c in p.chunks] == list(range(len(p.chunks)))
    assert [c.start for c in p.chunks] == list(range(0, n, chunk_size))
    assert all(c.size == chunk_size for c in p.chunks[:-1])
    last = p.chunks[-1]
    assert 1 <= last.size <= chunk_size
    assert last.stop == n
    assert all(a.stop == b.start for a, b in itertools.pairwise(p.chunks))  # no gap, no overlap
    assert sum(len(p.trades_of(c)) for c in p.chunks) == n


def test_trades_are_grouped_by_product_then_ordered_by_id(book: Portfolio) -> None:
    p = plan(book, chunk_size=50)
    assert sorted(t.trade_id for t in p.trades) == sorted(t.trade_id for t in book)
    products = [t.product for t in p.trades]
    runs = [product for product, _ in itertools.groupby(products)]
    assert len(runs) == len(set(products)) == 11  # each product one contiguous run
    assert runs == sorted(runs)
    for _, group in itertools.groupby(p.trades, key=lambda t: t.product):
        ids = [t.trade_id for t in group]
        assert ids == sorted(ids)
    for c in p.chunks:
        assert c.products == tuple(sorted({t.product for t in p.trades_of(c)}))
    # only a chunk that straddles a product boundary holds two products
    mixed = [c for c in p.chunks if len(c.products) > 1]
    assert len(mixed) <= len(runs) - 1
    assert p.trade_ids == [t.trade_id for t in p.trades]


def test_plan_is_deterministic_whatever_the_input_order(book: Portfolio) -> None:
    shuffled: tuple[Trade, ...] = tuple(random.Random(7).sample(list(book), len(book)))
    assert [t.trade_id for t in shuffled] != [t.trade_id for t in book]
    a, b, c = plan(book, chunk_size=64), plan(shuffled, chunk_size=64), plan(book, chunk_size=64)
    assert a == b == c
    assert a.fingerprint() == b.fingerprint() == c.fingerprint()


def test_fingerprint_changes_with_order_size_and_trades(book: Portfolio) -> None:
    p = plan(book, chunk_size=64)
    fp = p.fingerprint()
    assert len(fp) == 64  # a SHA-256 hex digest
    assert set(fp) <= set("0123456789abcdef")
    assert plan(book, chunk_size=65).fingerprint() != fp
    swapped = Plan((p.trades[1], p.trades[0], *p.trades[2:]), p.chunk_size, p.chunks)
    assert swapped.fingerprint() != fp
    assert plan(tuple(book)[:-1], chunk_size=64).fingerprint() != fp


def test_chunk_size_aims_at_the_target_task_time(book: Portfolio) -> None:
    for product in ("IRS", "FX_FORWARD", "EQ_OPTION"):
        trades = tuple(t for t in book if t.product == product)
        cost = COST_SECONDS[product]
        size = choose_chunk_size(trades, target_task_seconds=0.5, min_size=1, max_size=10**9)
        # the largest number of trades whose estimated cost stays within the target (up to
        # rounding of the mean cost, a few ulps)
        assert size * cost <= 0.5 * (1 + 1e-12), product
        assert (size + 1) * cost > 0.5 * (1 - 1e-12), product


def test_chunk_size_gives_every_worker_at_least_four_tasks(book: Portfolio) -> None:
    trades = tuple(book)
    for n_workers in (1, 2, 8):
        size = choose_chunk_size(
            trades, target_task_seconds=1e6, min_size=1, max_size=10**9, n_workers=n_workers
        )
        assert math.ceil(len(trades) / size) >= 4 * n_workers


def test_chunk_size_limits(book: Portfolio) -> None:
    trades = tuple(book)
    assert choose_chunk_size(trades, target_task_seconds=1e-9, min_size=16) == 16
    assert choose_chunk_size(trades, target_task_seconds=1e9, max_size=300) == 300
    # the four-tasks-per-worker cap never goes below min_size
    assert choose_chunk_size(trades, 1e9, min_size=200, max_size=10**9, n_workers=64) == 200
    assert choose_chunk_size((), min_size=16) == 16


def test_plan_sizes_chunks_when_not_told(book: Portfolio) -> None:
    p = plan(book, target_task_seconds=0.2, n_workers=2, min_size=5, max_size=10**9)
    expected = choose_chunk_size(p.trades, 0.2, min_size=5, max_size=10**9, n_workers=2)
    assert p.chunk_size == expected
    assert all(c.size == expected for c in p.chunks[:-1])


def test_bad_chunk_size_and_empty_portfolio() -> None:
    with pytest.raises(ValueError, match="chunk size must be positive, got 0"):
        plan(demo_portfolio(3), chunk_size=0)
    empty = plan((), chunk_size=10)
    assert (empty.trades, empty.chunks) == ((), ())
