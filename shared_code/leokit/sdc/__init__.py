"""Statistical disclosure control (SDC) for outputs from LEO / NPD analyses.

LEO is only available inside the ONS Secure Research Service (SRS).  Nothing
leaves the SRS until an output checker has cleared it, and the checker applies
ONS "rules of thumb" (plus any DfE/HMRC conditions on LEO).  This package makes
every table, figure and model in the kit pass through the same checks, so the
notebooks show outputs that a checker would release:

* :func:`safe_table` -- counts, means, medians or sums of a value by one or
  more grouping columns, from unit-level data;
* :func:`check_table` -- the same checks on a table that is already aggregated;
* :func:`safe_share` -- percentages (numerator and denominator checks);
* :func:`safe_binned` and :func:`safe_histogram` -- plot data for binned
  scatter plots and histograms (only releasable bins are returned);
* :func:`check_model` and :func:`safe_coef_table` -- residual degrees of
  freedom and small cells behind dummies / fixed effects in regression models
  (any regressor whose values other than the most common one are held by
  fewer than ``threshold`` observations is flagged, so an indicator coded 0/2
  or -1/+1 is caught like a 0/1 dummy);
* :class:`OutputSession` -- every output a notebook releases, checked for
  differencing against the outputs released before it, and the output request
  (``session.write_request(folder)``) a researcher hands to the SRS checkers.

Every function returns a result whose ``.table`` is what you may show, whose
``.report`` lists every suppression, rounding and note with the reason, and
whose ``.evidence`` has one row per cell with what an output checker asks for:
the unrounded number of units ``n`` and the share of the cell total held by
the largest two units (``top2_share``), whether each value is released and
which rules failed.  The report also carries one ``evidence`` row per cell, and
``.checker_note()`` renders all of it as text to attach to an output request.
``.report`` and ``.evidence`` contain unrounded numbers: they are for you and
the output checker (the SRS asks for the underlying counts with each request),
not for release.  The ``.table`` itself shows only the safe, rounded values.

Nothing is lost silently: a row whose ``by`` value is missing is counted in a
cell of its own (``"missing"``; ``missing="drop"`` or ``"raise"`` otherwise),
and rows left out for a missing value, outcome or unit are counted in the
summary line the result prints.  Without ``unit=``, a frame whose person
identifier (``AE_ID``, ``PupilMatchingRefAnonymous``, ``Edukey``, ``pid``...)
repeats is refused: rows are then not persons.  A statistic whose name says
money is rounded to ``round_money`` unless ``money=False``.

Differencing between outputs
----------------------------
Two outputs that each pass can give a number away together (a sum over
everyone and over everyone but one; a suppressed cell and a total released
separately).  No rule of thumb stops this and ACRO does not check it.
:class:`OutputSession` keeps, for every released cell, the set of units it
covers (the ``unit=`` ids; else a person id column of the frame; else the
frame's row labels) and suppresses -- or, with ``on_conflict="raise"``,
refuses with :class:`~leokit.errors.DifferencingError` -- a new cell whose
units differ by 1 to ``threshold - 1`` from an earlier released cell, from a
sum of the released cells of an earlier table (all of them, or one line) or,
within the new table, a total from the released cells under it.  It does not
compare cells counted in different unit spaces, row labels of a frame whose
index or columns changed, tables from :func:`check_table` (no unit ids),
models, sample flows and match summaries (recorded, not compared), sums across
several earlier outputs, class disclosure by differencing (a difference of ten
or more units who all have the outcome), or anything released outside the
session; the
output checker's judgement is still needed.  See :mod:`leokit.sdc.session`.

Rules and defaults
------------------
All thresholds live in the frozen dataclass :class:`SDCRules`.  The defaults
follow the ONS SRS default rules of thumb [ONS-SRS], the defaults of ACRO (the
SACRO project's output checker for UK trusted research environments, whose
``acro/default.yaml`` holds the thresholds) [ACRO] and the DfE conventions for
LEO-based official statistics [GO-DATA].  ACRO itself pins ``pandas<=2.3.3``
and is therefore not a dependency; the rules and their ACRO correspondence are one
table, :data:`leokit.sdc.rules.RULES_TABLE` (the same table is rendered in the book page
``book/reference/disclosure-control.md``):

{RULES_TABLE}

safe_dof_threshold     dof_threshold         10       models: residual dof must be >= 10
(none)                 round_counts          5        DfE: counts rounded to nearest 5
(none)                 round_money           100      DfE: earnings rounded to nearest 100
(none)                 pct_decimals          1        DfE: percentages to 0.1
(none)                 suppressed_symbol     "c"      DfE symbol for a suppressed cell
=====================  ====================  =======  =====================================

Medians follow ACRO.  ACRO (1.0.x) files a median under the "Position"
statistics (median, quartiles, percentiles), whose risks are low counts and
class disclosure, so it checks a median for the threshold and zeros only; the
dominance and p-ratio checks belong to "linear aggregations" (sums, means)
[ACRO].  (ACRO up to 0.4.x applied them to every aggregate, medians included.)  The reason: dominance protects a *total* that one or two large
contributors can drive, from which their values can be estimated; a median is
an order statistic that the size of the largest contributions does not move.
Its own risk is that it *is* one unit's value (or the mean of two), which the
threshold and rounding (earnings to the nearest 100 pounds) address.  The
report still shows each median cell's top-2 share as evidence.

Like ACRO, a sum or mean whose unit contributions are all zero is suppressed
(rule "all zero": it tells every unit's value; ACRO's p-ratio check fails such
cells).  Differences from ACRO worth knowing: ACRO counts rows and computes
dominance on rows, sends cells with negative values to manual review and counts
rows whose value is missing towards the threshold; here ``unit=`` counts
persons and sums their contributions, absolute values are used, and rows with
a missing value are dropped before anything is counted (and counted in the
printed summary).  ACRO does not apply
secondary suppression; here it is applied when totals are shown
(``margins=True``), for counts, sums and means (a median is not additive, so a
total cannot reveal a suppressed one).  ACRO checks a minimum or maximum like a
median; here both are refused outright (each is a single unit's value,
[SDCLOG]).  With the default parameters the p-ratio rule never bites on its
own: any cell failing p = 10% also fails (2, 90%) dominance; it matters if
``nk_k`` is relaxed.

Sources: [ONS-SRS] (default threshold 10, zeros and structural zeros);
[ACRO] (thresholds, and which checks apply to which statistic); [ONS-SDC]
(the "10-5 rule" for Census outputs); [GO-DATA] (DfE LEO graduate outcomes:
counts to 5, earnings to 100 pounds, percentages to 0.1, ``c`` = suppressed,
``z`` = not applicable); [SDCLOG] (no minimum or maximum).


Layout (one job per module, each importing only those listed before it):
:mod:`~leokit.sdc.rules` (rules, defaults, the ACRO table), :mod:`~leokit.sdc.rounding`,
:mod:`~leokit.sdc.aggregate` (cells from unit-level rows), :mod:`~leokit.sdc.checks` (one function per
rule, each returning its mask and report rows), :mod:`~leokit.sdc.fitted` (reading fitted models),
:mod:`~leokit.sdc.results` (``SDCResult``, ``ModelCheck``, evidence), :mod:`~leokit.sdc.tables`,
:mod:`~leokit.sdc.figures`, :mod:`~leokit.sdc.models`, :mod:`~leokit.sdc.session` (``OutputSession``).
Every public name is importable from ``leokit.sdc``.
"""

from __future__ import annotations

from leokit.errors import DifferencingError, DisclosureError, SDCInputError
from leokit.sdc.figures import safe_binned, safe_histogram
from leokit.sdc.models import check_model, safe_coef_table
from leokit.sdc.results import ModelCheck, SDCResult
from leokit.sdc.rounding import round_to
from leokit.sdc.session import OutputSession, Release
from leokit.sdc.rules import (ACRO_CORRESPONDENCE, DEFAULT_RULES, RULES_TABLE, SDCRules, rules_table_markdown,
                              rules_table_rst)
from leokit.sdc.tables import check_table, safe_share, safe_table

__doc__ = __doc__.replace("{RULES_TABLE}", rules_table_rst())

__all__ = [
    "SDCRules",
    "DEFAULT_RULES",
    "SDCResult",
    "ModelCheck",
    "SDCInputError",
    "DisclosureError",
    "DifferencingError",
    "OutputSession",
    "Release",
    "safe_table",
    "check_table",
    "safe_share",
    "safe_binned",
    "safe_histogram",
    "check_model",
    "safe_coef_table",
    "round_to",
    "ACRO_CORRESPONDENCE",
    "RULES_TABLE",
    "rules_table_markdown",
    "rules_table_rst",
]
