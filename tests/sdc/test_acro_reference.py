"""leokit.sdc's verdicts agree cell by cell with ACRO's own, frozen in sdc_acro_reference.csv."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from leokit.sdc import safe_table
from _sdc import SUPP, acro_fixture, row



# --------------------------------------------------------------------------- ACRO's own verdicts
ACRO_REFERENCE = Path(__file__).with_name("sdc_acro_reference.csv")


# leokit rule -> ACRO check family (ACRO's threshold check also catches empty cells)
_FAMILY = {"zero": "low count", "threshold": "low count", "dominance": "NKCheck", "p-ratio": "PPercentCheck",
           "all zero": "PPercentCheck"}
_ACRO_FAMILY = {"MinimumThresholdCheck": "low count", "PresenceOfZeroCheck": "low count", "NKCheck": "NKCheck",
                "PPercentCheck": "PPercentCheck"}


@pytest.mark.parametrize("stat", ["count", "mean", "sum", "median"])
def test_verdicts_agree_with_acro(stat):
    ref = pd.read_csv(ACRO_REFERENCE, comment="#")
    ref = ref[ref["stat"] == stat].set_index(["g", "h"])
    df = acro_fixture()
    if stat == "count":
        res = safe_table(df, ["g", "h"], complete=True, round_counts=1)
    else:
        res = safe_table(df, ["g", "h"], "v", stat, complete=True, round_counts=1)
    ev = res.evidence.set_index(["g", "h"])
    assert sorted(ev.index) == sorted(ref.index)
    col = "n" if stat == "count" else stat
    for key, acro in ref["acro_outcome"].items():
        acro_families = {_ACRO_FAMILY[c.strip()] for c in acro.split(";")} if acro != "ok" else set()
        ours = {_FAMILY[r] for r in ev.loc[key, "rules"].split("; ") if r}
        assert ours == acro_families, (stat, key, acro, ev.loc[key, "rules"])
        assert (row(res, g=key[0], h=key[1])[col] == SUPP) == (acro != "ok"), (stat, key)
