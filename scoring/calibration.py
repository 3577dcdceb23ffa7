"""Calibrating raw confidences on resolved claims (isotonic or Platt).

:func:`fit_calibration` returns a :class:`scoring.evidence.Calibration`, the form a model
version stores; :func:`apply_calibration` applies it to many confidences at once with the
formulas documented there (the engine applies the same ones claim by claim).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from scoring.evidence import Calibration

MIN_ISOTONIC_CLAIMS = 200
"""Resolved claims needed (with both verdicts among them) before isotonic regression.

Isotonic regression fits a free step function; with fewer than a couple of hundred
claims its steps follow the noise of a few verdicts (Niculescu-Mizil & Caruana 2005 find
it overfits below roughly that size), so below it we fit Platt's two-parameter sigmoid.
"""

_EDGE = 1e-9  # calibrated confidences stay strictly inside (0, 1)


def fit_calibration(
    confidence, verdict, min_isotonic_claims: int = MIN_ISOTONIC_CLAIMS
) -> Calibration:
    """Fit a monotone map from raw confidence to calibrated confidence.

    Parameters
    ----------
    confidence : array-like of float
        Raw confidences of resolved claims, in (0, 1).
    verdict : array-like of bool
        Their verdicts (True: the claim was true).
    min_isotonic_claims : int
        Isotonic when at least this many claims (and both verdicts occur), else sigmoid.

    Returns
    -------
    Calibration
        ``identity`` when there is nothing to learn from (fewer than two claims or one
        verdict only); ``isotonic`` with ``x``/``y`` thresholds; or ``sigmoid`` with
        ``a``, ``b`` such that calibrated = ``1 / (1 + exp(a * logit(p) + b))``.
    """
    p = np.clip(np.asarray(confidence, dtype=float), _EDGE, 1 - _EDGE)
    y = np.asarray(verdict, dtype=float)
    if p.shape != y.shape:
        raise ValueError("confidence and verdict must have the same length")
    n_true = int(y.sum())
    if len(y) < 2 or n_true in (0, len(y)):
        return Calibration()
    if len(y) >= min_isotonic_claims:
        return _fit_isotonic(p, y)
    return _fit_sigmoid(p, y)


def _fit_isotonic(p: np.ndarray, y: np.ndarray) -> Calibration:
    # Laplace's rule: never more certain than one more resolved claim either way allows,
    # so a run of verdicts at the top does not become a confidence of exactly 1.
    edge = 1.0 / (len(y) + 2)
    iso = IsotonicRegression(y_min=edge, y_max=1 - edge, out_of_bounds="clip").fit(p, y)
    return Calibration(
        method="isotonic",
        x=tuple(float(v) for v in iso.X_thresholds_),
        y=tuple(float(v) for v in iso.y_thresholds_),
    )


def _fit_sigmoid(p: np.ndarray, y: np.ndarray) -> Calibration:
    # Platt (1999): targets smoothed to (N+ + 1)/(N+ + 2) and 1/(N- + 2), which keeps the
    # fit finite on separable data; each claim enters once as true and once as false.
    n_true, n_false = y.sum(), len(y) - y.sum()
    target = np.where(y == 1, (n_true + 1) / (n_true + 2), 1 / (n_false + 2))
    feature = np.r_[logit(p), logit(p)].reshape(-1, 1)
    outcome = np.r_[np.ones(len(y)), np.zeros(len(y))]
    model = LogisticRegression(C=np.inf, solver="newton-cholesky")
    model.fit(feature, outcome, sample_weight=np.r_[target, 1 - target])
    slope, intercept = float(model.coef_[0, 0]), float(model.intercept_[0])
    # calibrated = expit(slope·logit p + intercept) = 1 / (1 + exp(a·logit p + b)); the
    # engine refuses a > 0 (an order-reversing map), so a slope below 0 becomes flat.
    return Calibration(method="sigmoid", a=-max(slope, 0.0), b=-intercept)


def apply_calibration(calibration: Calibration, confidence):
    """Map raw confidences through a calibration; vectorized, strictly inside (0, 1).

    Returns a float for a scalar input, else an ndarray of the input's shape.
    """
    p = np.clip(np.asarray(confidence, dtype=float), _EDGE, 1 - _EDGE)
    if calibration.method == "identity":
        mapped = p
    elif calibration.method == "isotonic":
        mapped = np.interp(p, calibration.x, calibration.y)
    elif calibration.method == "sigmoid":
        mapped = expit(-(calibration.a * logit(p) + calibration.b))
    else:
        raise ValueError(f"unknown calibration method {calibration.method!r}")
    mapped = np.clip(mapped, _EDGE, 1 - _EDGE)
    return float(mapped) if mapped.ndim == 0 else mapped
