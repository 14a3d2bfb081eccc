"""Calibration table and the generated README sections."""

from __future__ import annotations

from leokit.synth.calibration import calibration_table, table_inventory, update_readme


def test_calibration_table_columns(small_data):
    out, _ = small_data
    cal = calibration_table(out)
    assert list(cal.columns) == ["target", "source", "target_value", "produced", "tolerance", "ok", "note"]
    assert len(cal) >= 10
    row = cal[cal["target"].str.startswith("Share with a first degree, FSM")].iloc[0]
    assert 0 < row["produced"] < 0.5


def test_update_readme_replaces_marked_sections(small_data, tmp_path):
    out, res = small_data
    readme = tmp_path / "README.md"
    readme.write_text("# Data\n\nprose stays\n\n<!-- BEGIN GENERATED: tables -->\nold\n<!-- END GENERATED: tables -->\n")
    update_readme(out, readme)
    text = readme.read_text()
    assert "prose stays" in text and "\nold\n" not in text
    for sec in ("tables", "calibration", "messiness", "truth", "regenerate"):
        assert f"<!-- BEGIN GENERATED: {sec} -->" in text
    inv = table_inventory(out)
    assert set(inv["table"]) == set(res["tables"])
    assert "syn_offer_grades_required" in inv.set_index("table").loc["ucas_applications", "synthetic_only"]
