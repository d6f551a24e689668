"""Fixtures the engine tests share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Torch on `count` threads inside the block, as many as before after it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread for the test: the models are tiny (thread start-up costs
    more than it saves), other work shares the cores, and outputs compared bit for bit
    come from the same thread count."""
    with torch_threads(1):
        yield


@pytest.fixture(scope="module")
def one_torch_thread_per_module() -> Iterator[None]:
    """`one_torch_thread` set once for a whole module of tiny models (one switch, not
    one per test)."""
    with torch_threads(1):
        yield
