"""The repository's pytest configuration: the shared fixtures come from the test-support library."""

pytest_plugins = ("prasmes_testing.fixtures", "prasmes_testing.browser")
