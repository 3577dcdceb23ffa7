"""The fitted estimator as parameters of the engine: nothing learned is thrown away.

Each outlet with a record keeps its three per-stance log-likelihood ratios (not a one-coin
summary), each kind seen in training and the pooled level keep their confusions (the engine
re-tilts them for typed priors of outlets it meets later), and the attribution shifts and
the interested-party multiplier go as they are. The claim layer, the aggregation exponent
and the settling model are added by :func:`scoring.deployment.fit_scoring_model`.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from scoring.attribution import ATTRIBUTION_PRIORS
from scoring.confusion import confusion_reliability, stance_log_lr
from scoring.evidence import Calibration, ModelParameters
from scoring.vocabulary import OUTLET_KINDS


def _nested(confusion: np.ndarray) -> tuple:
    return tuple(tuple(float(v) for v in row) for row in confusion)


def to_model_parameters(
    estimator, version: str, calibration: Calibration | None = None
) -> ModelParameters:
    """Engine parameters from a fitted :class:`~scoring.learning.ReliabilityEstimator`.

    Only outlets with at least one counted report are exported: for the others the
    learned value is only their prior centre, which the engine rebuilds from the kind or
    pooled confusion and the outlet's typed prior. ``kind_reliability`` holds each kind's
    one-coin reliability (the pooled one for kinds not seen), which the service uses as a new
    outlet's starting prior: tilting a confusion to its own reliability gives it back, so
    such an outlet scores exactly as its kind.
    """
    check_is_fitted(estimator, "confusion_")
    learned = np.flatnonzero(estimator.n_outlet_votes_ > 0)
    names = estimator.outlet_names_[learned].tolist()
    ratios = (
        stance_log_lr(estimator.confusion_[learned]) + estimator.outlet_presence_[learned, None]
    )
    reliability = estimator.outlet_reliability_[learned]
    interval = estimator.outlet_reliability_interval_[learned]
    seen = estimator.kind_seen_
    kind_reliability = confusion_reliability(estimator.kind_confusion_)
    return ModelParameters(
        version=version,
        base_rate=float(estimator.base_rate_),
        interested_party_discount=float(estimator.interested_party_discount_),
        attribution_credibility={k: v.credibility for k, v in ATTRIBUTION_PRIORS.items()},
        outlet_reliability=dict(zip(names, reliability.tolist(), strict=True)),
        kind_reliability={kind: float(kind_reliability[i]) for i, kind in enumerate(OUTLET_KINDS)},
        calibration=calibration or Calibration(),
        pooled_confusion=_nested(estimator.pooled_confusion_),
        kind_confusion={
            kind: _nested(estimator.kind_confusion_[i])
            for i, kind in enumerate(OUTLET_KINDS)
            if seen[i]
        },
        outlet_log_lr={n: tuple(r) for n, r in zip(names, ratios.tolist(), strict=True)},
        outlet_reliability_interval={
            n: tuple(i) for n, i in zip(names, interval.tolist(), strict=True)
        },
        attribution_shift=dict(estimator.attribution_shift_),
        training_summary={
            "prior_strength": float(estimator.prior_strength_),
            "kind_prior_strength": float(estimator.kind_prior_strength_),
            "presence_strength": float(estimator.presence_strength_),
            "iterations": int(estimator.n_iter_),
            "outlets_with_record": len(names),
        },
    )
