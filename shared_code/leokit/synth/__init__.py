"""Synthetic LEO/NPD data generator (the function ``leokit.synth.generate``, defined in the module of the same name) and its planted truth (``leokit.synth.truth``).

The education side (population, schools, KS2-KS5, UCAS, HE, ILR, linkage) lives in
``population``, ``education``, ``ucas`` and ``tables``; the labour-market side in ``labour``;
``generate`` orchestrates both and writes Parquet via ``writer``. ``calibration`` compares the
generated data with published targets. ``examples`` holds small seeded toy data sets for the chapters that
teach a method (each states its DGP, its true effect and the bias of the naive estimator).
"""

from __future__ import annotations

from leokit.synth.calibration import calibration_table
from leokit.synth.generate import PEOPLE_COLUMNS, generate

__all__ = ["generate", "calibration_table", "PEOPLE_COLUMNS"]
