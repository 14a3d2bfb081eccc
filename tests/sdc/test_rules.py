"""leokit.sdc.rules and rounding: frozen, validated rules; deterministic rounding."""

from __future__ import annotations

import pytest

from leokit import sdc
from leokit.sdc import SDCInputError, SDCRules



def test_round_to_is_half_away_from_zero():
    assert sdc.round_to([12.5, 7.4, -2.5], 5).tolist() == [15.0, 5.0, -5.0]
    assert sdc.round_to([0.25, 33.333], decimals=1).tolist() == [0.3, 33.3]


def test_rules_are_frozen_and_validated():
    with pytest.raises(Exception):
        sdc.DEFAULT_RULES.threshold = 5  # type: ignore[misc]
    with pytest.raises(SDCInputError):
        SDCRules(nk_k=1.5)


def test_one_table_states_the_rules_and_acro():
    """RULES_TABLE is the one source: the package docstring and the book page render it, and its defaults are
    read from DEFAULT_RULES."""
    from pathlib import Path

    from leokit.sdc import rules

    assert len(rules.RULES_TABLE) == len(sdc.ACRO_CORRESPONDENCE) and list(sdc.ACRO_CORRESPONDENCE.columns) == list(
        rules.RULES_TABLE_COLUMNS)
    by_field = {r[3]: r for r in rules.RULES_TABLE}
    d = sdc.DEFAULT_RULES
    assert by_field["threshold"][2] == str(d.threshold) and by_field["round_money"][2] == str(d.round_money)
    assert by_field["nk_n / nk_k"][2] == f"{d.nk_n} / {d.nk_k:.2f}" and by_field["threshold"][4] == "safe_threshold"
    assert rules.rules_table_rst() in sdc.__doc__  # the docstring renders the table ...
    md = sdc.rules_table_markdown()
    assert md.count("\n") == len(rules.RULES_TABLE) + 2 and "| safe_pratio_p |" in md
    page = (Path(__file__).resolve().parents[2] / "book" / "reference" / "disclosure-control.md").read_text()
    assert "Markdown(sdc.rules_table_markdown())" in page  # ... and so does the book page,
    assert "safe_nk_n" not in page.split("rules_table_markdown")[0]  # which holds no copy of it
