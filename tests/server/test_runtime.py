"""GC tuning: the start-up heap is frozen and generation 0 collects far less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from graph.server import runtime


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold, tuned = gc.get_threshold(), runtime._tuned
    # An app built earlier in the session tuned the collector already (with the settings'
    # default); a test that passed only because that default equalled its own value was luck.
    runtime._tuned = False
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
        runtime._tuned = tuned


@pytest.mark.usefixtures("restore_gc")
def test_tune_gc_freezes_and_raises_gen0() -> None:
    gc.unfreeze()
    gen1, gen2 = gc.get_threshold()[1:]
    runtime.tune_gc(70_000)  # not the settings' default
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (70_000, gen1, gen2)


@pytest.mark.usefixtures("restore_gc")
def test_zero_leaves_the_collector_alone() -> None:
    gc.unfreeze()
    before = gc.get_threshold()
    runtime.tune_gc(0)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
