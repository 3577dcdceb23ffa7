"""Baselines for ``srs evaluate``: what the model must beat, fitted on the same folds.

Every baseline is a function of one :class:`Fold` that returns P(true) for each test claim
(in ``fold.test.claim_keys`` order). Learned baselines fit on the fold's resolved training
claims only. The count features look at stances alone, never at outlets, so they are
untouched by which outlets were seen in training.

- ``majority``: share of supports among supports and denials, Laplace-smoothed,
  ``(supports + 1) / (supports + denials + 2)`` (a tie is 0.5); nothing is fitted.
- ``stance_counts_logreg``: logistic regression (scikit-learn defaults, C = 1) on each
  claim's raw counts of supports, denials and neutral reports.
- ``counts_logreg``: logistic regression on :func:`count_features` (log(1 + count) per
  stance, the three stance shares and an any-denial flag), standardised, with the L2
  strength C chosen among :data:`LOGREG_CS` by 5-fold stratified inner cross-validation
  on Brier score within the training claims (fewer folds when a verdict has fewer than 5
  claims).
- ``counts_boosting``: gradient boosting on the same features with fixed settings,
  :data:`BOOSTING_SETTINGS` (shallow trees, shrinkage and row subsampling, so that a few
  hundred claims are not memorised; chosen once, not tuned on any evaluation file).
- ``prior_model``: the online scorer with the documented priors and nothing learned
  (:func:`scoring.engine.score_claim` with :func:`scoring.attribution.default_parameters`).

"Best baseline" in ``srs evaluate`` is the baseline with the lowest mean Brier score.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from scoring.evidence import ReportEvidence
from scoring.learning import DENIES, SUPPORTS, ReportTable

LOGREG_CS = tuple(float(c) for c in np.logspace(-3, 2, 11))
"""Candidate inverse L2 strengths of ``counts_logreg`` (10^-3 … 10^2, half-decade steps)."""
INNER_CV_FOLDS = 5
BOOSTING_SETTINGS: Mapping[str, Any] = MappingProxyType(
    {
        "n_estimators": 100,
        "learning_rate": 0.05,
        "max_depth": 2,
        "min_samples_leaf": 10,
        "subsample": 0.8,
    }
)
"""Fixed settings of ``counts_boosting`` (:class:`GradientBoostingClassifier`)."""


@dataclass(frozen=True, eq=False)
class Fold:
    """One outer fold as a baseline sees it.

    ``train`` holds the training claims (resolved and unresolved) with the reports the
    split lets training see; ``test`` the held-out resolved claims, whose verdicts a
    baseline must not use; ``test_evidence`` the test claims' reports as the scorer sees
    them, aligned with ``test.claim_keys``; ``seed`` seeds anything random in a fit.
    """

    train: ReportTable
    test: ReportTable
    test_evidence: Sequence[Sequence[ReportEvidence]]
    seed: int

    def resolved_train(self) -> tuple[ReportTable, np.ndarray]:
        """The resolved training claims and their verdicts (bool)."""
        resolved = np.flatnonzero(~np.isnan(self.train.verdicts))
        table = self.train.select_claims(resolved)
        return table, table.verdicts.astype(bool)


Baseline = Callable[[Fold], np.ndarray]


def stance_counts(table: ReportTable) -> np.ndarray:
    """Raw counts of supports, denials and neutral reports per claim, ``(n_claims, 3)``."""
    codes = table.claim.astype(np.int64) * 3 + table.stance
    return np.bincount(codes, minlength=3 * table.n_claims).reshape(table.n_claims, 3)


def count_features(table: ReportTable) -> np.ndarray:
    """``(n_claims, 7)``: log(1 + count) of supports, denials, neutral; their shares of the
    claim's reports (0 for a claim without reports); 1.0 when any report denies."""
    counts = stance_counts(table).astype(float)
    total = np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    any_denial = (counts[:, DENIES] > 0).astype(float)[:, None]
    return np.hstack([np.log1p(counts), counts / total, any_denial])


def majority(fold: Fold) -> np.ndarray:
    counts = stance_counts(fold.test)
    return (counts[:, SUPPORTS] + 1.0) / (counts[:, SUPPORTS] + counts[:, DENIES] + 2.0)


def _one_verdict(verdicts: np.ndarray, n_test: int) -> np.ndarray | None:
    """With one verdict only there is nothing to fit: its smoothed share for every claim."""
    if verdicts.all() or not verdicts.any():
        return np.full(n_test, (verdicts.sum() + 1.0) / (len(verdicts) + 2.0))
    return None


def stance_counts_logreg(fold: Fold) -> np.ndarray:
    train, verdicts = fold.resolved_train()
    constant = _one_verdict(verdicts, fold.test.n_claims)
    if constant is not None:
        return constant
    model = LogisticRegression().fit(stance_counts(train), verdicts)
    return model.predict_proba(stance_counts(fold.test))[:, 1]


def counts_logreg(fold: Fold) -> np.ndarray:
    train, verdicts = fold.resolved_train()
    constant = _one_verdict(verdicts, fold.test.n_claims)
    if constant is not None:
        return constant
    features = count_features(train)
    c = _inner_cv_c(features, verdicts, fold.seed)
    model = make_pipeline(StandardScaler(), _logreg(c)).fit(features, verdicts)
    return model.predict_proba(count_features(fold.test))[:, 1]


def _logreg(c: float) -> LogisticRegression:
    # Newton steps: exact and fast with 7 features (lbfgs pays thread start-up per fit).
    return LogisticRegression(C=c, solver="newton-cholesky")


def _inner_cv_c(features: np.ndarray, verdicts: np.ndarray, seed: int) -> float:
    """The C of :data:`LOGREG_CS` with the lowest inner cross-validated Brier score (ties:
    the smallest C, the strongest regularisation); C = 1 when a verdict has one claim."""
    minority = int(min(verdicts.sum(), (~verdicts).sum()))
    if minority < 2:
        return 1.0
    inner = StratifiedKFold(min(INNER_CV_FOLDS, minority), shuffle=True, random_state=seed)
    squared_error = np.zeros(len(LOGREG_CS))
    for fit_on, held in inner.split(features, verdicts):
        scaler = StandardScaler().fit(features[fit_on])
        fit_x, held_x = scaler.transform(features[fit_on]), scaler.transform(features[held])
        for number, c in enumerate(LOGREG_CS):
            model = _logreg(c).fit(fit_x, verdicts[fit_on])
            squared_error[number] += np.sum(
                (model.predict_proba(held_x)[:, 1] - verdicts[held]) ** 2
            )
    return LOGREG_CS[int(np.argmin(squared_error))]


def counts_boosting(fold: Fold) -> np.ndarray:
    train, verdicts = fold.resolved_train()
    constant = _one_verdict(verdicts, fold.test.n_claims)
    if constant is not None:
        return constant
    model = GradientBoostingClassifier(**BOOSTING_SETTINGS, random_state=fold.seed)
    model.fit(count_features(train), verdicts)
    return model.predict_proba(count_features(fold.test))[:, 1]


def prior_model(fold: Fold) -> np.ndarray:
    from scoring.attribution import default_parameters
    from scoring.engine import score_claim

    params = default_parameters()
    return np.array([score_claim(reports, params).confidence for reports in fold.test_evidence])


BASELINES: Mapping[str, Baseline] = MappingProxyType(
    {
        "majority": majority,
        "stance_counts_logreg": stance_counts_logreg,
        "counts_logreg": counts_logreg,
        "counts_boosting": counts_boosting,
        "prior_model": prior_model,
    }
)
"""The baselines of ``srs evaluate``, in the order it prints them."""
