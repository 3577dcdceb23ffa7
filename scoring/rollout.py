"""Should a freshly fitted model replace the active one? Compared on the resolved claims.

A rollout compares two sets of confidences for the same resolved claims:

- **the candidate's out-of-fold confidences**: each resolved claim scored by the
  candidate's fitting procedure without its verdict
  (:func:`scoring.deployment.out_of_fold_confidences`; the fit cross-fits its evidence
  anyway, so this costs a few small logistic regressions, not another fit);
- **the active model's confidences**: the engine with the active version's stored
  parameters, as the service scores the claims now.

The figure is the Brier score (mean squared error of the confidence against the verdict),
and the noise is measured by a paired bootstrap: the claims are resampled with
replacement, both scorers on the same resample
(:func:`scoring.evaluation.paired_bootstrap`), and the 95 % percentile interval of
candidate − active is read. The candidate is **worse beyond noise** when that whole
interval lies above 0.

Why this is fair, and in which direction it errs: the candidate's figure is out of fold, an
honest estimate of how it will score claims it has not seen. The active model's figure is
what it does on the claims as they stand; if it was itself fitted on some of them (an
earlier ``srs fit``), it has seen their verdicts and its figure is optimistic. The
comparison can then only favour the active model: a refusal may be too cautious, never too
lenient, and a candidate activated has beaten a model graded on its own homework. The
documented priors (``prior-1``) have seen nothing, so against them the comparison is even.
Force overrides a refusal (``srs fit --force``, ``POST /api/v1/models?force=true``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from scoring.evaluation import paired_bootstrap

RESAMPLES = 1000
LEVEL = 0.95


@dataclass(frozen=True)
class ModelComparison:
    """The candidate and the active model on the same resolved claims.

    Attributes
    ----------
    active_version : str
    claims : int
        Resolved claims both were scored on.
    candidate_brier, active_brier : float
        Brier score of the candidate's out-of-fold confidences and of the active model's.
    difference : float
        ``candidate_brier − active_brier`` (negative: the candidate is better).
    interval : tuple of float
        Paired bootstrap percentile interval of the difference, at ``level``.
    """

    active_version: str
    claims: int
    candidate_brier: float
    active_brier: float
    difference: float
    interval: tuple[float, float]
    level: float = LEVEL
    resamples: int = RESAMPLES

    @property
    def candidate_worse(self) -> bool:
        """Worse beyond noise: the whole interval of candidate − active lies above 0."""
        return self.interval[0] > 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "active_version": self.active_version,
            "claims": self.claims,
            "candidate_brier": self.candidate_brier,
            "active_brier": self.active_brier,
            "difference": self.difference,
            "interval": list(self.interval),
            "level": self.level,
            "resamples": self.resamples,
            "candidate_worse": self.candidate_worse,
        }

    def describe(self) -> str:
        """One line for people: both figures and the interval."""
        return (
            f"Brier on {self.claims} resolved claims: candidate {self.candidate_brier:.4f} "
            f"(out of fold), active {self.active_version} {self.active_brier:.4f}; "
            f"difference {self.difference:+.4f}, {100 * self.level:.0f} % interval "
            f"[{self.interval[0]:+.4f}, {self.interval[1]:+.4f}]"
        )


def compare_models(
    candidate: Mapping[str, float],
    active: Mapping[str, float],
    verdicts: Mapping[str, bool],
    active_version: str,
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> ModelComparison:
    """Compare confidences by claim key on the claims all three mappings share.

    Raises
    ------
    ValueError
        When they share no claim.
    """
    keys = sorted(set(candidate) & set(active) & set(verdicts))
    if not keys:
        raise ValueError("no resolved claim scored by both models")
    y = np.array([bool(verdicts[k]) for k in keys])
    ours = np.array([candidate[k] for k in keys], dtype=float)
    theirs = np.array([active[k] for k in keys], dtype=float)
    candidate_brier = float(np.mean((ours - y) ** 2))
    active_brier = float(np.mean((theirs - y) ** 2))
    ends = paired_bootstrap(y, ours, theirs, resamples=resamples, seed=seed, level=LEVEL)["brier"]
    return ModelComparison(
        active_version=active_version,
        claims=len(keys),
        candidate_brier=candidate_brier,
        active_brier=active_brier,
        difference=candidate_brier - active_brier,
        interval=(float(ends[0]), float(ends[1])),
        resamples=resamples,
    )
