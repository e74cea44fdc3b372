"""The ports suite: PyTorch programs run under torch and under neuralab with only imports changed.

Each test starts its own interpreters (one BLAS thread each) in its own temporary directory, so
the tests are independent and run in parallel under pytest-xdist with the rest of the suite.
Select them with ``-m ports``, leave them out with ``-m "not ports"``.
"""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``ports`` marker."""
    config.addinivalue_line("markers", "ports: whole PyTorch programs run on neuralab (slow-ish)")
