"""Fixtures for the synthetic-data generator tests: one small dataset generated once per session."""

from __future__ import annotations

import importlib.util

import pytest

HAVE_LABOUR = importlib.util.find_spec("leokit.synth.labour") is not None
needs_labour = pytest.mark.skipif(not HAVE_LABOUR, reason="leokit.synth.labour (labour-market side) is missing")

SMALL = dict(seed=7, scale=600, cohorts=3)


@pytest.fixture(scope="session")
def small_data(tmp_path_factory):
    if not HAVE_LABOUR:
        pytest.skip("leokit.synth.labour (labour-market side) is missing")
    from leokit.synth.generate import generate
    out = tmp_path_factory.mktemp("synth_small")
    res = generate(out, progress=False, **SMALL)
    return out, res
