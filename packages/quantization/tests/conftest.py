import pytest

from pkg_shared.device import torch_threads


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """The models here are tiny: one torch thread avoids contention on a shared CPU."""
    with torch_threads(1):
        yield
