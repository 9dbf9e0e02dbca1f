import pytest

from pkg_finalmlp.data import encode, split_811, synthetic_ctr

pytest_plugins = ["pkg_shared.testing"]  # opt-in: markers, the device/data_dir/run_cli fixtures


@pytest.fixture(scope="session")
def tiny_data():
    """A 2,000-row synthetic data set, encoded (6 fields: u0..u2, i0..i2)."""
    return encode("tiny", split_811(synthetic_ctr(2000, vocab=12, seed=1), seed=1))
