import pytest

from pkg_shared.device import pinned_threads

pytest_plugins = ["pkg_shared.testing"]  # opt-in: markers, the device/data_dir/run_cli fixtures


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """The models here are tiny: one torch thread avoids contention on a shared CPU."""
    with pinned_threads(1):
        yield
