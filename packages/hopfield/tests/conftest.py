import pytest

from pkg_shared.device import torch_threads


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The tests' tensors are tiny: a second intra-op thread only contends on a shared CPU."""
    with torch_threads(1):
        yield
