"""Every test suite in the repository (tests/, examples/*/tests/) shares these fixtures."""

pytest_plugins = ("tests.support.fixtures",)
