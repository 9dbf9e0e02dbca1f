"""Shared test setup."""

pytest_plugins = ["pkg_shared.testing"]  # opt-in: markers, the device/data_dir/run_cli fixtures
