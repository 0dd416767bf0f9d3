"""The repository's pytest configuration: the shared fixtures come from the test-support library."""

from prasmes_testing.harness import running

pytest_plugins = ("prasmes_testing.fixtures",)
__all__ = ["running"]  # kept importable as `conftest.running` while the service tests move to the harness
