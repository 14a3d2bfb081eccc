"""Main employer (IDBR size and sector) and leave-one-out coworker composition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import leokit.derive as d


def test_main_employer_size_and_sector_source_year_rule():
    earn = pd.DataFrame({
        "Edukey": ["E1", "E1b", "E2", "E3"], "TaxYear": [201617, 201617, 201718, 201718], "Earnings": [100, 900, 50, 60],
        "main_enterprise": ["X", "Y", "X", None], "enterprise_earnings": [100, 900, 50, np.nan],
        "Main_Section": ["C", "K", "C", "G"],
    })
    m = pd.DataFrame({"AE_ID": [1, 1, 2, 3], "EDUKEY": ["E1", "E1b", "E2", "E3"]})
    idbr = pd.DataFrame({"ENTKEY": ["X", "X", "Y"], "SourceYear": ["2019", "2020", "2019"],
                         "Employees": ["10-49", "50-249", "1000+"], "SECTIONNAME": ["C", "C", "K"]})
    out = d.main_employer(earn, idbr, m).set_index(["AE_ID", "TaxYear"])
    assert out.loc[(1, 201617), "main_enterprise"] == "Y"  # higher enterprise earnings wins
    assert out.loc[(1, 201617), "employer_size_band"] == "1000+"
    assert out.loc[(2, 201718), "employer_size_band"] == "50-249"  # 201718 -> SourceYear 2020
    # a person-year with no enterprise is kept, with the enterprise missing (not dropped)
    assert pd.isna(out.loc[(3, 201718), "main_enterprise"]) and pd.isna(out.loc[(3, 201718), "employer_size_band"])
    assert out.loc[(3, 201718), "employer_sector"] == "G"  # leo_earnings.Main_Section fallback
    assert len(out) == 3
    assert d.idbr_source_year([201617, 201718]).tolist() == ["2019", "2020"]


def test_coworker_leave_one_out():
    emp = pd.DataFrame({"AE_ID": [1, 2, 3, 4, 5], "TaxYear": [201819] * 5, "main_enterprise": ["X", "X", "X", "Y", None]})
    attrs = pd.DataFrame({"AE_ID": [1, 2, 3, 4, 5], "graduate": [1.0, 0.0, np.nan, 1.0, 1.0]})
    out = d.coworker_loo(emp, attrs, ["graduate"]).set_index("AE_ID")
    assert out["n_coworkers"].tolist()[:4] == [2, 2, 2, 0]
    assert pd.isna(out.loc[5, "n_coworkers"])
    assert out.loc[1, "loo_mean_graduate"] == pytest.approx(0.0)  # coworkers 2 (0) and 3 (missing)
    assert out.loc[2, "loo_mean_graduate"] == pytest.approx(1.0)
    assert out.loc[3, "loo_mean_graduate"] == pytest.approx(0.5)  # own value missing: mean of both others
    assert np.isnan(out.loc[4, "loo_mean_graduate"])  # single worker: no coworkers -> NaN, count 0
    assert np.isnan(out.loc[5, "loo_mean_graduate"])


def test_main_employer_keeps_person_years_without_enterprise_and_prefers_records_with_one():
    earn = pd.DataFrame({"Edukey": ["E1", "E1b", "E2", "E3"], "TaxYear": [201819] * 4,
                         "Earnings": [100, 5_000, 300, 400], "main_enterprise": ["X", None, None, "X"]})
    m = pd.DataFrame({"AE_ID": [1, 1, 2, 3], "EDUKEY": ["E1", "E1b", "E2", "E3"]})
    out = d.main_employer(earn, None, m).set_index("AE_ID")
    assert out.index.tolist() == [1, 2, 3]  # every person-year with an earnings record
    assert out.loc[1, "main_enterprise"] == "X"  # the record with an enterprise, not the higher-paid one without
    assert pd.isna(out.loc[2, "main_enterprise"])
    loo = d.coworker_loo(out.reset_index(), pd.DataFrame({"AE_ID": [1, 2, 3], "g": [1.0, 1.0, 0.0]}), ["g"])
    loo = loo.set_index("AE_ID")
    assert loo.loc[1, "n_coworkers"] == 1 and loo.loc[1, "loo_mean_g"] == 0.0
    assert pd.isna(loo.loc[2, "n_coworkers"]) and np.isnan(loo.loc[2, "loo_mean_g"])
    with pytest.raises(d.DerivationError, match="'yes'"):
        d.coworker_loo(out.reset_index(), pd.DataFrame({"AE_ID": [1, 2, 3], "g": ["1", "yes", "0"]}), ["g"])
