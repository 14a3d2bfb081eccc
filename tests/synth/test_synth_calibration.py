"""Calibration table (computed from the released tables only) and the generated README sections."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from leokit.synth.calibration import (LIVING_WAGE_HOURLY, LIVING_WAGE_HOURS_PER_WEEK, LIVING_WAGE_WEEKS,
                                      calibration_table, living_wage_annual, researcher_frames, table_inventory,
                                      update_readme)

COLUMNS = ["target", "source", "target_value", "produced", "tolerance", "ok", "computed_from", "note"]


@pytest.fixture(scope="module")
def cal(small_data):
    out, _ = small_data
    return calibration_table(out)


def test_calibration_table_columns_and_sources(cal):
    assert list(cal.columns) == COLUMNS
    assert len(cal) >= 15
    assert set(cal["computed_from"]) == {"released tables", "truth (planted-parameter check)"}
    # every published figure is recomputed from the released tables; truth rows only check planted parameters
    released = cal[cal["computed_from"] == "released tables"]
    assert released["target"].str.contains("YAG|Living Wage|no recorded earnings|at 30|first degree").all()
    planted = cal[cal["computed_from"] != "released tables"]
    assert planted["target"].str.contains("planted|AKM|Contextual").all()
    assert released["source"].str.contains(r"\[").all()  # every published source is a bibliography key
    row = cal[cal["target"].str.startswith("Share with a first degree by 30, FSM")].iloc[0]
    assert 0 < row["produced"] < 0.5


def test_calibration_never_reads_truth_tables(small_data, tmp_path):
    """With the truth/ tables removed (only truth.json left) the released-table rows are unchanged."""
    out, _ = small_data
    copy = tmp_path / "no_truth"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("truth_*.parquet"))
    assert not list((copy / "truth").glob("*.parquet"))
    a = calibration_table(out)
    b = calibration_table(copy)
    assert a.drop(columns="ok").equals(b.drop(columns="ok"))


def test_unlinkable_pupils_are_left_out_not_counted_as_non_earners(small_data, cal):
    out, _ = small_data
    fr = researcher_frames(out)
    p = fr["pupils"]
    assert (p["linked"] == 0).any() and (p["linked"] == 1).any()
    # unlinkable pupils have no AE_ID -> EDUKEY row, so they can have no outcome row at all
    unl = p.loc[p["linked"] == 0, "AE_ID"].dropna()
    assert not fr["person_years"]["AE_ID"].isin(unl).any()
    row = cal[cal["target"] == "Share with no recorded earnings at 25, FSM"].iloc[0]
    assert "unlinkable left out" in row["note"]


def test_living_wage_threshold_is_rate_times_hours_times_weeks():
    for ty, rate in LIVING_WAGE_HOURLY.items():
        assert living_wage_annual(ty) == pytest.approx(rate * LIVING_WAGE_HOURS_PER_WEEK * LIVING_WAGE_WEEKS)
    assert LIVING_WAGE_HOURS_PER_WEEK * LIVING_WAGE_WEEKS == 1950
    assert list(LIVING_WAGE_HOURLY.values()) == sorted(LIVING_WAGE_HOURLY.values())
    with pytest.raises(KeyError, match="no Living Wage rate"):
        living_wage_annual(200405)


def test_planted_rows_read_truth_json(small_data, cal):
    out, _ = small_data
    doc = json.loads((out / "truth.json").read_text())
    for sex in ("female", "male"):
        row = cal[cal["target"] == f"Degree return at 29, {sex} (planted ATT)"].iloc[0]
        assert row["target_value"] == doc[f"degree_return_{sex}"]["value"]
        assert row["produced"] == pytest.approx(doc[f"degree_return_{sex}"]["value"], abs=1e-9)
    akm = cal[cal["target"].str.startswith("AKM share")]
    assert len(akm) == 4 and np.isclose(akm["produced"].sum(), 1.0)


def test_update_readme_replaces_marked_sections(small_data, tmp_path):
    out, res = small_data
    readme = tmp_path / "README.md"
    readme.write_text("# Data\n\nprose stays\n\n<!-- BEGIN GENERATED: tables -->\nold\n<!-- END GENERATED: tables -->\n")
    update_readme(out, readme)
    text = readme.read_text()
    assert "prose stays" in text and "\nold\n" not in text
    for sec in ("tables", "calibration", "messiness", "truth", "regenerate"):
        assert f"<!-- BEGIN GENERATED: {sec} -->" in text
    assert "shared/reference" not in text
    inv = table_inventory(out)
    assert set(inv["table"]) == set(res["tables"])
    assert "syn_offer_grades_required" in inv.set_index("table").loc["ucas_applications", "synthetic_only"]
    assert inv.set_index("table").loc["syn_enterprise_output", "synthetic_only"] == "table"
