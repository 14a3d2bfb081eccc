"""Every planted parameter has a declared type and range (``leokit.synth.truth.RANGES``); every value outside
it, of another type, NaN or infinite is refused with one line naming the key and the range."""

from __future__ import annotations

import math

import pytest

from leokit.errors import GeneratorInputError
from leokit.synth import truth as T

ODD = [math.nan, math.inf, -math.inf, True, False, None, "0.1", [], {}, 1e308, -1e308]


@pytest.mark.parametrize("key", sorted(T.RANGES))
def test_each_key_accepts_its_range_and_refuses_everything_else(key):
    kind, lo, hi = T.RANGES[key]
    if kind == "cycles":
        good = [[], [int(lo)], [int(lo), int(hi)], [2012, 2015]]
        bad = [[int(lo) - 1], [int(hi) + 1], [2015, 2012], [2012, 2012], [2012.5], [True], [math.nan],
               list(range(2006, 2006 + T.MAX_ADOPTION_WAVES + 1)), *(v for v in ODD if v != []), 2012]  # [] = no wave
    else:
        good = [lo, hi, (lo + hi) / 2 if kind == "float" else int((lo + hi) // 2)]
        step = 1 if kind == "int" else 1e-9
        bad = [lo - step, hi + step, *ODD]
        if kind == "int":
            bad.append(lo + 0.5)
    for v in good:
        assert T.check_value(key, v) == v, (key, v)
    refused = 0
    for v in bad:
        with pytest.raises(GeneratorInputError) as e:
            T.merge_truth({key: v})
        msg = str(e.value)
        assert "\n" not in msg and key in msg and f"{hi:g}" in msg, msg
        refused += 1
    assert refused == len(bad)


def test_all_problems_of_an_override_are_reported_together():
    with pytest.raises(GeneratorInputError) as e:
        T.merge_truth({"firm_effect_sd": -1, "worker_firm_sorting": 5, "school_peer_effect": 0.2})
    msg = str(e.value)
    assert "firm_effect_sd" in msg and "worker_firm_sorting" in msg and "school_peer_effect" not in msg
