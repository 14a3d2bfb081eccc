"""The exemplars' results contract: headline estimates beside the planted truth, as JSON.

Every exemplar notebook writes, to the path in its ``results_path`` parameter, a JSON **list** with
one object per headline estimate and exactly these keys (:data:`RESULT_KEYS`)::

    {"name": "degree_return_female",          # what was estimated (unique within the notebook)
     "truth_key": "degree_return_female",     # key in truth.json it estimates, or null
     "estimate": 0.262, "se": 0.011,          # point estimate and its standard error
     "ci_low": 0.240, "ci_high": 0.284,       # 95% confidence interval
     "truth": 0.26,                           # value read from the data folder's truth.json, or null
     "covered": true}                         # ci_low <= truth <= ci_high, or null without a truth

Tests run the notebooks on data generated with other seeds and truths and read this file, so the
truth is always read from the ``truth.json`` next to the data that were analysed, never typed in.
A ``truth_key`` may name a top-level planted parameter (``"school_peer_effect"``) or a realised
statistic under ``_realised`` (``"_realised.akm_firm_variance_share"``).

The analysis itself never reads ``truth.json``: :func:`results_frame` and :func:`write_results` attach
the truth only at the end, for the comparison.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any, Iterable, Mapping

import pandas as pd

from leokit.errors import did_you_mean

__all__ = [
    "RESULT_KEYS",
    "Estimate",
    "estimate_from_fit",
    "read_truth",
    "truth_value",
    "results_frame",
    "write_results",
]

#: The keys of every object in a results JSON file, in this order.
RESULT_KEYS = ("name", "truth_key", "estimate", "se", "ci_low", "ci_high", "truth", "covered")


def _did_you_mean(name: str, candidates: Iterable[Any]) -> str:
    """'; did you mean '...'?' from the package's one hint helper (:func:`leokit.errors.did_you_mean`), or ''."""
    hit = did_you_mean(str(name), [str(c) for c in candidates])
    return f"; did you mean {hit!r}?" if hit else ""


def _finite(x: Any, what: str, name: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"Estimate {name!r}: {what} must be a number, got {x!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"Estimate {name!r}: {what} must be finite, got {v!r}")
    return v


@dataclass(frozen=True)
class Estimate:
    """One headline estimate. Without ``ci_low``/``ci_high`` the interval is ``estimate -/+ z se``
    with the normal quantile ``z`` for ``level`` (1.96 for 95%).

    Give the interval explicitly when the method has its own (t-based intervals from a fitted model,
    rdrobust's robust bias-corrected interval, which need not be centred on the estimate).
    """

    name: str
    estimate: float
    se: float
    truth_key: str | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    level: float = 0.95

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Estimate: name must be a non-empty string, got {self.name!r}")
        if not 0 < self.level < 1:
            raise ValueError(f"Estimate {self.name!r}: level must be in (0, 1), got {self.level!r}")
        est = _finite(self.estimate, "estimate", self.name)
        se = _finite(self.se, "se", self.name)
        if se < 0:
            raise ValueError(f"Estimate {self.name!r}: se must be >= 0, got {se}")
        if (self.ci_low is None) != (self.ci_high is None):
            raise ValueError(f"Estimate {self.name!r}: give both ci_low and ci_high, or neither")
        if self.ci_low is None:
            z = NormalDist().inv_cdf(0.5 + self.level / 2)
            lo, hi = est - z * se, est + z * se
        else:
            lo = _finite(self.ci_low, "ci_low", self.name)
            hi = _finite(self.ci_high, "ci_high", self.name)
            if lo > hi:
                raise ValueError(f"Estimate {self.name!r}: ci_low {lo} is above ci_high {hi}")
        object.__setattr__(self, "estimate", est)
        object.__setattr__(self, "se", se)
        object.__setattr__(self, "ci_low", lo)
        object.__setattr__(self, "ci_high", hi)


def estimate_from_fit(name: str, fit: Any, coef: str, *, truth_key: str | None = None,
                      level: float = 0.95) -> Estimate:
    """An :class:`Estimate` for coefficient ``coef`` of a fitted pyfixest or statsmodels model.

    The interval is the model's own (``confint`` / ``conf_int``: t-based, with the model's standard
    errors, e.g. clustered), so it matches the regression table shown in the notebook.
    """
    alpha = 1 - level
    if hasattr(fit, "coef") and hasattr(fit, "confint"):  # pyfixest Feols / Fepois
        params, ses, ci = fit.coef(), fit.se(), fit.confint(alpha=alpha)
    elif hasattr(fit, "params") and hasattr(fit, "bse") and hasattr(fit, "conf_int"):  # statsmodels
        params, ses, ci = fit.params, fit.bse, fit.conf_int(alpha=alpha)
    else:
        raise TypeError(f"estimate_from_fit: expected a fitted pyfixest or statsmodels model, got {type(fit).__name__}")
    if coef not in params.index:
        raise KeyError(f"estimate_from_fit: no coefficient {coef!r} in the model; it has {list(params.index)[:12]}"
                       + _did_you_mean(coef, params.index))
    lo, hi = ci.loc[coef].iloc[0], ci.loc[coef].iloc[1]
    return Estimate(name=name, estimate=params[coef], se=ses[coef], truth_key=truth_key,
                    ci_low=lo, ci_high=hi, level=level)


def read_truth(data_dir: str | Path) -> dict[str, Any]:
    """The ``truth.json`` document of a data folder (for comparing estimates with the truth only)."""
    p = Path(data_dir) / "truth.json"
    if not p.is_file():
        raise FileNotFoundError(f"read_truth: no truth.json in {Path(data_dir)} (synthetic data folders have one; "
                                "real SRS data have no truth to compare with)")
    return json.loads(p.read_text())


def truth_value(doc: Mapping[str, Any], key: str) -> float:
    """The numeric value of ``key`` in a truth document: a planted parameter (``doc[key]["value"]``) or a
    realised statistic (``"_realised.<name>"`` -> ``doc["_realised"][name]``)."""
    if key.startswith("_realised."):
        sub = key.split(".", 1)[1]
        section = doc.get("_realised", {})
        if sub not in section:
            raise KeyError(f"truth.json has no realised statistic {sub!r}" + _did_you_mean(sub, section))
        raw = section[sub]
    else:
        if key not in doc or key.startswith("_"):
            keys = [k for k in doc if not k.startswith("_")]
            raise KeyError(f"truth.json has no planted parameter {key!r}" + _did_you_mean(key, keys)
                           + " (realised statistics are named '_realised.<name>')")
        raw = doc[key]["value"] if isinstance(doc[key], Mapping) else doc[key]
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise TypeError(f"truth.json value of {key!r} is not a number: {raw!r}")
    return float(raw)


def results_frame(estimates: Iterable[Estimate], truth: str | Path | Mapping[str, Any] | None) -> pd.DataFrame:
    """The estimates as a frame with :data:`RESULT_KEYS` columns, the truth attached from ``truth``
    (a data folder, or a truth document already read; ``None`` for real data: truth and covered null)."""
    doc = read_truth(truth) if isinstance(truth, (str, Path)) else truth
    rows, seen = [], set()
    for e in estimates:
        if not isinstance(e, Estimate):
            raise TypeError(f"results_frame: expected Estimate objects, got {type(e).__name__}")
        if e.name in seen:
            raise ValueError(f"results_frame: estimate name {e.name!r} is used twice")
        seen.add(e.name)
        t = truth_value(doc, e.truth_key) if (doc is not None and e.truth_key is not None) else None
        covered = None if t is None else bool(e.ci_low <= t <= e.ci_high)
        rows.append({"name": e.name, "truth_key": e.truth_key, "estimate": e.estimate, "se": e.se,
                     "ci_low": e.ci_low, "ci_high": e.ci_high, "truth": t, "covered": covered})
    return pd.DataFrame(rows, columns=list(RESULT_KEYS))


def write_results(path: str | Path, estimates: Iterable[Estimate],
                  truth: str | Path | Mapping[str, Any] | None) -> pd.DataFrame:
    """Write the results JSON list to ``path`` (parent folders created) and return the frame written."""
    frame = results_frame(estimates, truth)
    records = [{k: (None if (v is None or (isinstance(v, float) and math.isnan(v))) else
                    (bool(v) if k == "covered" else v)) for k, v in r.items()}
               for r in frame.astype(object).to_dict(orient="records")]
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(records, indent=1) + "\n")
    return frame
