"""Fixtures for the exemplar tests (helpers in tests/_exemplars.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def data_cache(tmp_path_factory):
    """One folder per test session in which generated data sets are cached (see _exemplars.generated_data)."""
    return tmp_path_factory.mktemp("exemplar_data")
