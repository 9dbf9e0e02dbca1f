import pytest

from pkg_shared.device import pinned_threads

pytest_plugins = ["pkg_shared.testing"]  # opt-in: markers, the device/data_dir/run_cli fixtures


@pytest.fixture(autouse=True)
def one_thread():
    """The tests' tensors are tiny: a second thread (torch or BLAS) only contends on a shared CPU."""
    with pinned_threads(1):
        yield
