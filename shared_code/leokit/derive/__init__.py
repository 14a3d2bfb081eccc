"""Derived variables for LEO / NPD: each defined once, as a function, with its metadata beside it.

Every function takes the tables as loaded (real SRS column names, e.g. from ``leokit.load_table``)
and returns a new DataFrame; nothing here reads files or touches the synthetic generator.

* :data:`REGISTRY` / :func:`list_variables` / :func:`codebook_frame`: the metadata of every variable;
  the codebook page and CSV are generated from it (``python -m leokit codebook --csv PATH``).
* Themes: :mod:`.attainment`, :mod:`.disadvantage`, :mod:`.higher_education`, :mod:`.earnings`,
  :mod:`.employment`, :mod:`.outcomes`, :mod:`.employer`; SQL versions of the core outcomes in :mod:`.sql`.

Person keys: LEO outcome functions return ``AE_ID`` when given the EDUKEY -> AE_ID lookup
(``learner_ae_id_to_edukey_lookup``, or ``leokit.linkage.resolve_edukeys()``) as ``edukey_map``, else
``EDUKEY``; an EDUKEY linked to several AE_IDs belongs to the smallest, as in ``leokit.linkage``. NPD/HESA functions
return ``PupilMatchingRefAnonymous`` and accept a cohort whose pupil id is ``PupilMatchingRefAnonymous`` or, as in
the KS4 tables and ``leokit.load.stack_ks4``, ``KS4_PupilMatchingRefAnonymous``; map it to ``AE_ID`` with
:func:`pmr_to_person`. Tax years keep the LEO code (``TaxYear`` = 201819 for 6 April 2018 - 5 April 2019).

No silent wrong answers
-----------------------
* **Linkage.** :func:`outcomes_at_age`, :func:`outcomes_yag` (and :func:`attach_outcomes`) need the EDUKEY lookup
  and flag every row ``linked`` / ``has_record`` / ``linkage_status``: people who cannot be linked to HMRC/DWP
  data have missing outcomes, never zeros (see :mod:`leokit.derive.outcomes`).
* **Coverage policy** (one rule for every windowed derivation). Where the kit's definition fixes a censoring rule
  the value is missing (:func:`highest_qualification_by_age`: NA where the age window reaches beyond a source's
  years). Otherwise a value computed from a window that the tables passed do not fully cover (:func:`fsm_ever6`
  with census years missing, :func:`area_measures` without the KS4-year census, outcomes asked for tax years an
  outcome frame does not cover, :func:`real_earnings` outside the deflator, CAH-only subjects) is **reported**:
  ``on_gap="warn"`` (the default) issues a :class:`CoverageWarning`, ``on_gap="raise"`` raises
  :class:`CoverageError`, ``on_gap="ignore"`` is silent (use it only after checking the gap is expected).
  Selecting data that are not there at all - an empty cohort, a KS4 year not in the tables
  (``ks4_attainment(years=...)``, ``leokit.load.stack_ks4(years=...)``), ages none of which lie within the data -
  raises :class:`DerivationError` instead of returning 0 rows.
* **Types.** Columns used as numbers must be numbers, or text in which every non-missing value parses as a
  number; anything else raises :class:`DerivationError` naming the frame, the column and examples of the bad
  values (never ``errors="coerce"``). Missing columns come with a did-you-mean hint.

The first task of the course - a KS4 cohort, FSM from the census, PAYE earnings at 25 - on tiny frames::

    >>> import pandas as pd, leokit.derive as d
    >>> post = pd.DataFrame({"KS4_PupilMatchingRefAnonymous": ["a", "b", "c"], "KS4_ACADYR": ["2009/2010"] * 3,
    ...                      "KS4_ATT8": [40.0, 55.0, 61.0], "KS4_L2BASICS_94": [0, 1, 1], "KS4_FSM6": [1, 0, 0]})
    >>> cohort = d.fsm_ever6(d.ks4_attainment(ks4_post=post, years=[2010]))  # no census passed: KS4_FSM6
    >>> pmr = pd.DataFrame({"AE_ID": [1, 2, 3], "PUPILMATCHINGREFANONYMOUS": ["a", "b", "c"]})
    >>> people = d.pmr_to_person(cohort, pmr, how="left")
    >>> lookup = pd.DataFrame({"AE_ID": [1, 2], "EDUKEY": ["K1", "K2"]})  # AE_ID 3 has no EDUKEY
    >>> earn = pd.DataFrame({"Edukey": ["K1"], "TaxYear": [201819], "Earnings": [18500]})
    >>> paye = d.annual_paye_earnings(earn, lookup)[["AE_ID", "TaxYear", "paye_earnings"]]
    >>> at25 = d.outcomes_at_age(people, paye, edukey_map=lookup, ages=[25])
    >>> at25[["AE_ID", "fsm_ever6", "TaxYear", "linkage_status", "paye_earnings"]]
       AE_ID  fsm_ever6  TaxYear     linkage_status  paye_earnings
    0      1          1   201819     linked, record        18500.0
    1      2          0   201819  linked, no record            NaN
    2      3          0   201819       not linkable            NaN
"""

from __future__ import annotations

from leokit.derive._common import (
    ON_GAP,
    attach_person,
    pick_column,
    require_columns,
    PERSON,
    PMR,
    PUPIL_ID_NAMES,
    CoverageError,
    DerivationError,
    acadyr_end,
    age_in_taxyear,
    taxyear_at_age,
    taxyear_code,
    taxyear_of_date,
    taxyear_start_year,
)
from leokit.errors import CoverageWarning
from leokit.derive.registry import (
    REGISTRY,
    THEMES,
    VariableMeta,
    codebook_csv_text,
    codebook_download_html,
    codebook_frame,
    codebook_html,
    codebook_markdown,
    derived,
    get_variable,
    list_variables,
    write_codebook_csv,
)
from leokit.derive.attainment import ALEVEL_TARIFF, alevel_results, highest_qualification_by_age, ks2_attainment, ks4_attainment
from leokit.derive.disadvantage import area_measures, fsm_ever6, pupil_characteristics, stack_census
from leokit.derive.higher_education import (
    DEGREE_CLASS_LABELS,
    JACS_SUBJECT_GROUP,
    SUBJECT_GROUPS,
    degree_class,
    graduation,
    cah_subject_group,
    he_entry,
    hesa_study_taxyears,
    jacs_subject_group,
    provider_tariff_group,
    provider_tariff_group_syn,
    stack_hesa,
    subject_group,
)
from leokit.derive.earnings import annual_paye_earnings, annualised_earnings, load_deflator, real_earnings, sa_earnings, total_earnings
from leokit.derive.employment import (
    ACTIVITY_CATEGORIES,
    GO_CATEGORIES,
    activity_status,
    days_employed,
    out_of_work_benefit_days,
    person_spells,
    sustained_employment,
)
from leokit.derive.outcomes import (
    AGES,
    LINKAGE_STATUSES,
    YAGS,
    attach_outcomes,
    linked_persons,
    outcomes_at_age,
    outcomes_yag,
    person_year_outcomes,
    yag_taxyear,
)
from leokit.derive.employer import coworker_loo, idbr_source_year, main_employer
from leokit.derive.ucas import OFFER_DECISIONS, ucas_alevel_points, ucas_offers_and_placement
from leokit.derive import sql  # noqa: E402  (SQL versions of the core outcomes; imports no database driver)


def pmr_to_person(frame, pmr_lookup, *, pmr_col: str | None = None, person_col: str = PERSON, how: str = "left"):
    """Add ``AE_ID`` to an NPD/HESA-keyed frame via ``learner_ae_id_to_pmr_lookup``.

    ``pmr_col``: the PMR column (default: ``PupilMatchingRefAnonymous`` or ``KS4_PupilMatchingRefAnonymous``,
    whichever is present). A PMR linked to several AE_IDs gets the smallest, as ``leokit.linkage.person_lookup``.
    ``how="left"`` (default, as :func:`leokit.linkage.add_ae_id`) keeps rows whose PMR is not in the lookup, with a
    missing ``AE_ID``: :func:`outcomes_at_age` then counts those pupils as "not linkable" instead of losing them.
    ``how="inner"`` drops them, with a :class:`~leokit.errors.RowsDroppedWarning` saying how many. The lookup is
    checked like ``learner_ae_id_to_pmr_lookup`` and the PMR keys made the same kind (padding stripped).
    """
    if how not in ("inner", "left"):
        raise ValueError(f"how must be 'inner' or 'left', not {how!r}")
    col = pmr_col or pick_column(frame, PUPIL_ID_NAMES, "frame")
    require_columns(frame, [col], "frame")
    return attach_person(frame, col, pmr_lookup, mapping_key="PUPILMATCHINGREFANONYMOUS", person_col=person_col,
                         keep_unmatched=how == "left", frame="frame (pmr_to_person)")


__all__ = [
    "PERSON", "PMR", "PUPIL_ID_NAMES", "ON_GAP", "DerivationError", "CoverageError", "CoverageWarning", "acadyr_end", "age_in_taxyear", "taxyear_at_age", "taxyear_code", "taxyear_of_date",
    "taxyear_start_year",
    "REGISTRY", "THEMES", "VariableMeta", "codebook_csv_text", "codebook_download_html", "codebook_frame", "codebook_html", "codebook_markdown", "derived",
    "get_variable", "list_variables", "write_codebook_csv",
    "ALEVEL_TARIFF", "alevel_results", "highest_qualification_by_age", "ks2_attainment", "ks4_attainment",
    "area_measures", "fsm_ever6", "pupil_characteristics", "stack_census",
    "DEGREE_CLASS_LABELS", "JACS_SUBJECT_GROUP", "SUBJECT_GROUPS", "cah_subject_group", "degree_class", "graduation", "he_entry",
    "hesa_study_taxyears", "jacs_subject_group", "provider_tariff_group", "provider_tariff_group_syn", "stack_hesa",
    "subject_group",
    "annual_paye_earnings", "annualised_earnings", "load_deflator", "real_earnings", "sa_earnings", "total_earnings",
    "ACTIVITY_CATEGORIES", "GO_CATEGORIES", "activity_status", "days_employed", "out_of_work_benefit_days",
    "person_spells", "sustained_employment",
    "AGES", "YAGS", "LINKAGE_STATUSES", "attach_outcomes", "linked_persons", "outcomes_at_age", "outcomes_yag",
    "person_year_outcomes", "yag_taxyear",
    "coworker_loo", "idbr_source_year", "main_employer",
    "OFFER_DECISIONS", "ucas_alevel_points", "ucas_offers_and_placement",
    "pmr_to_person", "sql",
]
