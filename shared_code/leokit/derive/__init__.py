"""Derived variables for LEO / NPD: each defined once, as a function, with its metadata beside it.

Every function takes the tables as loaded (real SRS column names, e.g. from ``leokit.load_table``)
and returns a new DataFrame; nothing here reads files or touches the synthetic generator.

* :data:`REGISTRY` / :func:`list_variables` / :func:`codebook_frame`: the metadata of every variable;
  the codebook page and CSV are generated from it (``python -m leokit codebook --csv PATH``).
* Themes: :mod:`.attainment`, :mod:`.disadvantage`, :mod:`.higher_education`, :mod:`.earnings`,
  :mod:`.employment`, :mod:`.outcomes`, :mod:`.employer`; SQL versions of the core outcomes in :mod:`.sql`.

Person keys: LEO outcome functions return ``AE_ID`` when given the EDUKEY -> AE_ID lookup
(``learner_ae_id_to_edukey_lookup``, or ``leokit.link.resolve_edukeys()``) as ``edukey_map``, else
``EDUKEY``; an EDUKEY linked to several AE_IDs belongs to the smallest, as in ``leokit.link``; NPD/HESA functions return
``PupilMatchingRefAnonymous`` (map it to ``AE_ID`` with ``learner_ae_id_to_pmr_lookup``, see :func:`pmr_to_person`).
Tax years keep the LEO code (``TaxYear`` = 201819 for 6 April 2018 - 5 April 2019).
"""

from __future__ import annotations

from ._common import (
    ON_GAP,
    PERSON,
    PMR,
    PUPIL_ID_NAMES,
    CoverageError,
    CoverageWarning,
    DerivationError,
    acadyr_end,
    age_in_taxyear,
    taxyear_at_age,
    taxyear_code,
    taxyear_of_date,
    taxyear_start_year,
)
from .registry import (
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
from .attainment import ALEVEL_TARIFF, alevel_results, highest_qualification_by_age, ks2_attainment, ks4_attainment
from .disadvantage import area_measures, fsm_ever6, stack_census
from .higher_education import (
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
from .earnings import annual_paye_earnings, annualised_earnings, load_deflator, real_earnings, sa_earnings, total_earnings
from .employment import (
    ACTIVITY_CATEGORIES,
    GO_CATEGORIES,
    activity_status,
    days_employed,
    out_of_work_benefit_days,
    person_spells,
    sustained_employment,
)
from .outcomes import (
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
from .employer import coworker_loo, idbr_source_year, main_employer
from . import sql  # noqa: E402  (SQL versions of the core outcomes; imports no database driver)


def pmr_to_person(frame, pmr_lookup, *, pmr_col: str | None = None, person_col: str = PERSON, how: str = "inner"):
    """Add ``AE_ID`` to an NPD/HESA-keyed frame via ``learner_ae_id_to_pmr_lookup``.

    ``pmr_col``: the PMR column (default: ``PupilMatchingRefAnonymous`` or ``KS4_PupilMatchingRefAnonymous``,
    whichever is present). A PMR linked to several AE_IDs gets the smallest, as ``leokit.link.person_lookup``.
    ``how="inner"`` (default) drops rows whose PMR is not in the lookup; ``how="left"`` keeps them with a missing
    ``AE_ID`` - use it for a cohort whose outcomes you will attach with :func:`outcomes_at_age`, which counts
    those pupils as "not linkable" instead of losing them.
    """
    from ._common import attach_person, pick_column, require_columns

    if how not in ("inner", "left"):
        raise ValueError(f"how must be 'inner' or 'left', not {how!r}")
    col = pmr_col or pick_column(frame, PUPIL_ID_NAMES, "frame")
    require_columns(frame, [col], "frame")
    return attach_person(frame, col, pmr_lookup, mapping_key="PUPILMATCHINGREFANONYMOUS", person_col=person_col,
                         keep_unmatched=how == "left")


__all__ = [
    "PERSON", "PMR", "PUPIL_ID_NAMES", "ON_GAP", "DerivationError", "CoverageError", "CoverageWarning", "acadyr_end", "age_in_taxyear", "taxyear_at_age", "taxyear_code", "taxyear_of_date",
    "taxyear_start_year",
    "REGISTRY", "THEMES", "VariableMeta", "codebook_csv_text", "codebook_download_html", "codebook_frame", "codebook_html", "codebook_markdown", "derived",
    "get_variable", "list_variables", "write_codebook_csv",
    "ALEVEL_TARIFF", "alevel_results", "highest_qualification_by_age", "ks2_attainment", "ks4_attainment",
    "area_measures", "fsm_ever6", "stack_census",
    "DEGREE_CLASS_LABELS", "JACS_SUBJECT_GROUP", "SUBJECT_GROUPS", "cah_subject_group", "degree_class", "graduation", "he_entry",
    "hesa_study_taxyears", "jacs_subject_group", "provider_tariff_group", "provider_tariff_group_syn", "stack_hesa",
    "subject_group",
    "annual_paye_earnings", "annualised_earnings", "load_deflator", "real_earnings", "sa_earnings", "total_earnings",
    "ACTIVITY_CATEGORIES", "GO_CATEGORIES", "activity_status", "days_employed", "out_of_work_benefit_days",
    "person_spells", "sustained_employment",
    "AGES", "YAGS", "LINKAGE_STATUSES", "attach_outcomes", "linked_persons", "outcomes_at_age", "outcomes_yag",
    "person_year_outcomes", "yag_taxyear",
    "coworker_loo", "idbr_source_year", "main_employer",
    "pmr_to_person", "sql",
]
