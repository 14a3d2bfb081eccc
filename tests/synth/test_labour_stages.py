"""simulate_labour's stages: the documented order is the order that runs, and no stage leaves state behind."""

from __future__ import annotations

import inspect
import re

import numpy as np

from leokit.synth import labour as L
from leokit.synth.labour_fake import fake_people
from leokit.synth.truth import default_truth


def test_the_documented_stages_are_the_stages_that_run():
    called = re.findall(r"^\s+(?:return )?(_\w+)\(s\)$", inspect.getsource(L.simulate_labour), re.M)
    documented = re.findall(r"^``(_\w+)``", L.__doc__, re.M)
    assert called == documented and len(called) >= 10
    assert all(callable(getattr(L, name)) for name in called)


def test_every_value_a_stage_stores_is_taken_by_a_later_stage(monkeypatch):
    """Each stage stores only what a later stage reads, and the last reader takes it: nothing is left over."""
    seen = {}
    real = L._LabourState

    class Recording(real):
        def __init__(self, **values):
            super().__init__(**values)
            seen["state"] = self

    monkeypatch.setattr(L, "_LabourState", Recording)
    out = L.simulate_labour(fake_people(300, rng=np.random.default_rng(1)), default_truth(), np.random.default_rng(2))
    assert "leo_earnings" in out and vars(seen["state"]) == {}
