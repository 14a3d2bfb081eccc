"""The registry keeps the metadata honest; the codebook is generated from it."""

from __future__ import annotations

import csv
import inspect
import subprocess
import sys

import pandas as pd
import pytest

import leokit.derive as d
from leokit.derive.cli import codebook_main
from leokit.derive.registry import LEVELS, STATUSES, THEMES
from leokit.schema import get_schema

REQUIRED = ["name", "label", "theme", "definition", "sources", "unit", "valid_values", "caveats", "level", "status",
            "function", "output_key"]

CORE = ["ks2_z", "ks4_z", "ks4_pctile", "alevel_points", "alevel_best3", "highest_level_age18", "highest_level_age21",
        "highest_level_age25", "fsm_ever6", "idaci_decile", "imd_quintile", "polar4_quintile", "tundra_quintile",
        "he_entry_year", "provider_tariff_group", "subject_group", "degree_class", "graduation_year", "paye_earnings",
        "sa_earnings", "total_earnings", "real_earnings", "days_employed", "annualised_earnings",
        "sustained_employment", "oow_benefit_days", "activity_status", "yag", "age_taxyear", "main_enterprise",
        "employer_size_band", "employer_sector", "n_coworkers", "loo_mean"]


def test_core_variables_registered():
    missing = [n for n in CORE if n not in d.REGISTRY]
    assert not missing


@pytest.mark.parametrize("name", sorted(d.REGISTRY))
def test_metadata_complete(name):
    m = d.REGISTRY[name]
    for f in REQUIRED:
        v = getattr(m, f)
        assert v not in ("", (), None), f"{name}: {f} is empty"
    assert m.theme in THEMES and m.level in LEVELS and m.status in STATUSES
    assert len(m.definition) > 30


@pytest.mark.parametrize("name", sorted(d.REGISTRY))
def test_sources_exist_in_schema(name):
    for table, column in d.REGISTRY[name].sources:
        assert column in get_schema(table).column_names, f"{name}: {table}.{column} not declared in leokit.schema"


def test_functions_importable_and_documented():
    for name, meta in d.REGISTRY.items():
        _, func = d.get_variable(name)
        assert inspect.getdoc(func), f"{meta.function} has no docstring"
        assert meta.function.endswith(func.__qualname__)
        assert name in func.derived_variables


def test_inferred_status_is_flagged_in_caveats():
    for name in ("sustained_employment", "activity_status"):
        assert "INFERRED" in d.REGISTRY[name].caveats


def test_list_variables_and_codebook_frame():
    lv = d.list_variables()
    assert len(lv) == len(d.REGISTRY) and lv["name"].is_unique
    cb = d.codebook_frame()
    assert list(cb.columns) == ["name", "label", "theme", "level", "unit", "valid_values", "definition", "sources",
                                "caveats", "status", "function", "output_key"]
    order = [list(THEMES).index(t) for t in cb["theme"]]
    assert order == sorted(order)


def test_codebook_csv_and_markdown_are_deterministic(tmp_path):
    p1 = d.write_codebook_csv(tmp_path / "a" / "codebook.csv")
    p2 = d.write_codebook_csv(tmp_path / "b.csv")
    assert p1.read_bytes() == p2.read_bytes()
    with p1.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(d.REGISTRY)
    back = pd.read_csv(p1, keep_default_na=False)
    assert set(back["name"]) == set(d.REGISTRY)
    md = d.codebook_markdown()
    assert md == d.codebook_markdown()
    for title in {THEMES[m.theme] for m in d.REGISTRY.values()}:
        assert f"## {title}" in md
    assert "`paye_earnings`" in md
    assert "<table" in d.codebook_html("earnings") and "paye_earnings" in d.codebook_html("earnings")


def test_cli_writes_csv(tmp_path, capsys):
    out = tmp_path / "cb.csv"
    assert codebook_main(["--csv", str(out), "--markdown", str(tmp_path / "cb.md")]) == 0
    assert out.exists() and (tmp_path / "cb.md").read_text(encoding="utf-8") == d.codebook_markdown()
    assert codebook_main([]) == 0
    assert "paye_earnings" in capsys.readouterr().out


def test_cli_module_runs_as_subprocess(tmp_path):
    out = tmp_path / "cb.csv"
    r = subprocess.run([sys.executable, "-m", "leokit.derive.cli", "--csv", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert out.exists()


def test_package_data_present():
    from importlib import resources

    assert resources.files("leokit").joinpath("data/deflator_cpih.csv").is_file()
    for q in d.sql.QUERIES:
        assert resources.files("leokit").joinpath(f"sql/{q}.sql").is_file()


def test_duplicate_registration_rejected():
    with pytest.raises(ValueError):
        @d.derived(name="paye_earnings", label="x", theme="earnings", definition="x", sources=[("leo_earnings", "Earnings")],
                   unit="x", valid_values="x", caveats="x", level="person-year")
        def other():  # pragma: no cover
            """x"""
    with pytest.raises(ValueError):
        d.VariableMeta(name="x", label="x", theme="nope", definition="x", sources=(), unit="x", valid_values="x",
                       caveats="x", level="person", status="kit")


def test_download_link_embeds_the_csv():
    import base64
    import re

    link = d.codebook_download_html()
    payload = re.search(r"base64,([A-Za-z0-9+/=]+)", link).group(1)
    assert base64.b64decode(payload).decode("utf-8") == d.codebook_csv_text()


def test_every_derive_docstring_example_runs():
    """Every ``>>>`` example in leokit.derive's docstrings runs and prints what it shows."""
    import doctest
    import importlib
    import pkgutil

    import leokit.derive

    attempted = 0
    for mod in ["leokit.derive"] + [f"leokit.derive.{m.name}" for m in pkgutil.iter_modules(leokit.derive.__path__)]:
        res = doctest.testmod(importlib.import_module(mod), optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
        assert res.failed == 0, f"{mod}: {res.failed} docstring example(s) failed"
        attempted += res.attempted
    assert attempted >= 20  # the module example and the function examples are all collected


def test_import_leokit_gives_derive():
    import subprocess

    code = "import leokit; print(leokit.derive.fsm_ever6.__name__, 'derive' in dir(leokit))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["fsm_ever6", "True"]


def test_one_did_you_mean_helper():
    from leokit import errors, validation
    from leokit.derive._common import require_columns

    assert validation._hint_for_missing is errors.did_you_mean
    with pytest.raises(d.DerivationError, match="did you mean 'Earnings'") as e:
        require_columns(pd.DataFrame({"Earnings": [1]}), ["Earning"], "leo_earnings")
    assert e.value.problems[0].column == "Earning" and isinstance(e.value, errors.SchemaError)


def test_codebook_documents_linkage_and_coverage():
    for name in ("linked", "has_record", "linkage_status", "observed"):
        assert name in d.REGISTRY and d.REGISTRY[name].function.endswith("attach_outcomes")
    assert "never zero" in d.REGISTRY["linked"].caveats
    assert "CoverageWarning" in d.REGISTRY["fsm_ever6"].caveats
    assert "OUG" in d.REGISTRY["highest_level_age21"].definition
    assert "CAH" in d.REGISTRY["subject_group"].caveats


def test_no_citation_of_developer_notes():
    import pathlib
    import re

    root = pathlib.Path(d.__file__).parent
    core = ("load.py", "read.py", "validation.py", "stack.py", "frames.py", "census.py", "linkage.py", "errors.py",
            "__init__.py")
    for path in list(root.glob("*.py")) + [root.parent / n for n in core]:
        text = path.read_text(encoding="utf-8")
        if path.name == "sql.py":
            continue  # owned by the SQL helper
        assert not re.search(r"reference §|shared/reference|reference notes", text), path
    for meta in d.REGISTRY.values():
        assert "§" not in meta.caveats + meta.definition, meta.name
