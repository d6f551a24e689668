"""Fixtures the engine tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread for the test: the models are tiny (thread start-up costs
    more than it saves), other work shares the cores, and outputs compared bit for bit
    come from the same thread count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
