"""Shared fixtures."""

import pytest
import torch


@pytest.fixture
def torch_one_thread():
    """One torch thread (tiny convolutions run fastest so, and the test machine is shared) and seed 0;
    the thread count is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)
