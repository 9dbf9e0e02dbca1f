import pytest

from pkg_shared.device import torch_threads

pytest_plugins = ["pkg_shared.testing"]  # opt-in: markers, the device/data_dir/run_cli fixtures


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The tests' tensors are tiny: a second intra-op thread only contends on a shared CPU."""
    with torch_threads(1):
        yield
