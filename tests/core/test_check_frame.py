"""leokit.validation.check_frame / check_join_keys: the one input check of the functions that take frames."""

from __future__ import annotations

import pandas as pd
import pytest

from leokit.errors import SchemaError
from leokit.validation import check_frame, check_join_keys, normalise_frame, strip_key_padding, validate

EK = "learner_ae_id_to_edukey_lookup"


def test_safe_normalisations_are_applied_and_noted():
    raw = pd.DataFrame({"AE_ID": ["1", "2", "3"], "EDUKEY": ["K1  ", "K2", "K3"]})
    out, notes = check_frame(raw, EK)
    assert out["AE_ID"].tolist() == [1, 2, 3] and pd.api.types.is_integer_dtype(out["AE_ID"].dtype)
    assert out["EDUKEY"].tolist() == ["K1", "K2", "K3"]
    assert any("'AE_ID'" in n and "cast to numbers" in n and "3 rows" in n for n in notes)
    assert any("'EDUKEY'" in n and "trailing blanks" in n and "1 row" in n for n in notes)
    assert raw["EDUKEY"].iloc[0] == "K1  "  # the caller's frame is not modified
    nums = pd.DataFrame({"AE_ID": [1, 2], "EDUKEY": [11, 12]})
    out2, notes2 = check_frame(nums, EK)
    assert out2["EDUKEY"].tolist() == ["11", "12"] and any("cast to text" in n for n in notes2)


def test_a_clean_frame_is_returned_as_it_is():
    df = pd.DataFrame({"AE_ID": [1, 2], "EDUKEY": ["K1", "K2"]})
    out, notes = check_frame(df, EK)
    assert out is df and notes == []


def test_codes_upper_cased_only_where_declared():
    imd = pd.DataFrame({"lsoa11cd": ["e01000001", "E01000002"], "imd_rank": [5, 6], "imd_decile": [1, 2],
                        "idaci_score": [0.2, 0.3], "idaci_rank": [3, 4], "idaci_decile": [1, 2]})
    out, notes = check_frame(imd, "imd2019_lsoa11")
    assert out["lsoa11cd"].tolist() == ["E01000001", "E01000002"] and "upper-cased in 1 row" in notes[0]
    # normalise_frame with casts=False (the rule for files): padding and case only, kinds left to validate
    _, n = normalise_frame(pd.DataFrame({"AE_ID": ["1"], "EDUKEY": ["K1 "]}), EK, casts=False)
    assert len(n) == 1 and "EDUKEY" in n[0]


@pytest.mark.parametrize("frame, column, found", [
    (pd.DataFrame({"AE_ID": ["x1"], "EDUKEY": ["K1"]}), "AE_ID", "not numbers (e.g. 'x1')"),
    (pd.DataFrame({"AE_ID": [1], "EDUKEY": [None]}), "EDUKEY", "missing"),
    (pd.DataFrame({"AE_ID": [1, 1], "EDUKEY": ["K1", "K1"]}), "AE_ID, EDUKEY", "duplicated key"),
    (pd.DataFrame({"AE_ID": pd.Series([], dtype="int64"), "EDUKEY": pd.Series([], dtype=object)}), None, "0 rows"),
])
def test_refusals_name_the_table_and_the_column(frame, column, found):
    with pytest.raises(SchemaError) as e:
        check_frame(frame, EK)
    assert EK in str(e.value) and found in str(e.value)
    if column is not None:
        assert column in e.value.columns


def test_key_check_can_be_left_to_the_caller_and_columns_are_chosen():
    dup = pd.DataFrame({"AE_ID": [1, 1], "EDUKEY": ["K1", "K1"]})
    out, _ = check_frame(dup, EK, check_key=False)
    assert len(out) == 2
    with pytest.raises(SchemaError, match="EDUKEY.*no such column"):
        check_frame(pd.DataFrame({"AE_ID": [1]}), EK, ["AE_ID", "EDUKEY"])
    with pytest.raises(ValueError, match="not declared"):
        check_frame(dup, EK, ["AE_ID", "Earnings"])


def test_date_order_and_range():
    emp = pd.DataFrame({"EduKey": ["a", "b"], "StartDate": pd.to_datetime(["2010-01-01", "2011-01-01"]),
                        "EndDate": pd.to_datetime(["2009-01-01", "2090-01-01"])})
    with pytest.raises(SchemaError) as e:
        check_frame(emp, "leo_employment", ["EduKey", "StartDate", "EndDate"])
    checks = {p.check for p in e.value.problems}
    assert checks == {"order", "range"} and e.value.columns == ["EndDate"]
    with pytest.raises(SchemaError, match="ending before they start"):
        validate(emp.iloc[:1], "leo_employment", require_all=False)


def test_join_keys_made_one_kind_or_refused_naming_both_tables():
    a = pd.DataFrame({"AE_ID": [1, 2]})
    b = pd.DataFrame({"AE_ID": ["1", "2 "]})
    a2, b2, notes = check_join_keys(a, "AE_ID", "cohort", b, "AE_ID", EK, kind="int")
    assert b2["AE_ID"].tolist() == [1, 2] and a2 is a and len(notes) == 2
    with pytest.raises(SchemaError, match=r"cohort.*AE_ID.*learner_ae_id_to_edukey_lookup"):
        check_join_keys(a, "AE_ID", "cohort", pd.DataFrame({"AE_ID": ["x"]}), "AE_ID", EK, kind="int")
    same, n = strip_key_padding(a, "AE_ID", "cohort")
    assert same is a and n == []
