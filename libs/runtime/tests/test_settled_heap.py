"""A process's entry point settles its app's heap once started (out of the garbage collector's reach); an app a test
builds does not, as a test process builds many."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from prasmes_runtime.service import settle_heap, settled


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_an_entry_points_app_is_settled_once_started() -> None:
    app = settled(FastAPI())
    assert gc.get_freeze_count() == 0
    settle_heap(app)
    assert gc.get_freeze_count() > 1000, "the modules and the app are out of the collector's reach"


def test_an_app_a_test_builds_is_not() -> None:
    settle_heap(FastAPI())
    assert gc.get_freeze_count() == 0
