"""Cross-validated evaluation of the learned model against simple baselines.

Claims are split into folds with scikit-learn's ``StratifiedGroupKFold`` over reports,
grouped by claim, so that no claim has reports on both sides. Each fold fits the estimator
on every other claim (resolved ones with their verdicts, unresolved ones without) and scores
the held-out claims from their reports alone. The baselines see the same folds:

- ``majority``: share of supports among supports and denials, Laplace-smoothed
  (``(supports + 1) / (supports + denials + 2)``; a tie is 0.5);
- ``stance_counts_logreg``: logistic regression on each claim's raw counts of supports,
  denials and neutral reports, fitted on the training claims;
- ``prior_model``: the online scorer with the documented priors and nothing learned
  (:func:`scoring.engine.score_claim` with :func:`scoring.attribution.default_parameters`);
- ``engine_learned``: the online scorer with the parameters each fold's fit exports
  (:meth:`ReliabilityEstimator.to_model_parameters`), uncalibrated: what the service
  stores after ``srs fit``, before its calibration step.

The model is calibrated as it would be deployed, on resolved training claims only (see
:func:`evaluate_records`). Metrics are computed on the pooled out-of-fold predictions of
resolved claims.
``srs evaluate`` calls :func:`evaluate_records` and :func:`write_plots`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedGroupKFold

from scoring.calibration import apply_calibration, fit_calibration
from scoring.evidence import Calibration
from scoring.interchange import InterchangeRecord
from scoring.learning import DENIES, SUPPORTS, ReliabilityEstimator, ReportTable

INNER_FOLDS = 3
"""Folds within the training claims for the calibrator: three keeps two thirds of them
for each inner fit at three extra fits per fold."""
METRIC_NAMES = ("accuracy", "roc_auc", "brier", "log_loss", "ece", "n_claims")
N_CALIBRATION_BINS = 10


@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """Metrics of the model and the baselines, and the predictions they come from.

    ``predictions`` maps ``"model"``, ``"model_raw"`` (uncalibrated) and each baseline to
    P(true) of each evaluated claim, aligned with ``claim_keys`` and ``verdicts``; ``fold``
    is each claim's test fold and ``splits`` the (training, test) claim keys of every fold.
    """

    metrics: dict[str, Any]
    baselines: dict[str, dict[str, Any]]
    variants: dict[str, dict[str, Any]]
    claim_keys: np.ndarray
    verdicts: np.ndarray
    predictions: dict[str, np.ndarray]
    fold: np.ndarray
    splits: tuple[tuple[frozenset[str], frozenset[str]], ...]

    def to_json(self) -> dict[str, Any]:
        """``{"model": {metric: value}, "baselines": {name: {metric: value}},
        "variants": {name: {metric: value}}}``; variants are other forms of the model."""
        return {
            "model": dict(self.metrics),
            "baselines": {name: dict(m) for name, m in self.baselines.items()},
            "variants": {name: dict(m) for name, m in self.variants.items()},
        }


def expected_calibration_error(verdict, confidence, n_bins: int = N_CALIBRATION_BINS) -> float:
    """Mean |share true − mean confidence| over equal-width bins, weighted by claims."""
    verdict = np.asarray(verdict, dtype=float)
    confidence = np.asarray(confidence, dtype=float)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    gap = np.bincount(bins, weights=verdict - confidence, minlength=n_bins)
    return float(np.abs(gap).sum() / max(counts.sum(), 1))


def claim_metrics(verdict, confidence) -> dict[str, Any]:
    """Accuracy (confidence > 0.5 means true), ROC AUC (None with one verdict only), Brier,
    log loss, expected calibration error and the number of claims."""
    verdict = np.asarray(verdict, dtype=bool)
    confidence = np.clip(np.asarray(confidence, dtype=float), 1e-12, 1 - 1e-12)
    both = 0 < verdict.sum() < len(verdict)
    return {
        "accuracy": float(np.mean((confidence > 0.5) == verdict)),
        "roc_auc": float(roc_auc_score(verdict, confidence)) if both else None,
        "brier": float(brier_score_loss(verdict, confidence)),
        "log_loss": float(log_loss(verdict, confidence, labels=[False, True])),
        "ece": expected_calibration_error(verdict, confidence),
        "n_claims": len(verdict),
    }


def stance_counts(table: ReportTable) -> np.ndarray:
    """Raw counts of supports, denials and neutral reports per claim, ``(n_claims, 3)``."""
    codes = table.claim.astype(np.int64) * 3 + table.stance
    return np.bincount(codes, minlength=3 * table.n_claims).reshape(table.n_claims, 3)


def majority_confidence(table: ReportTable) -> np.ndarray:
    counts = stance_counts(table)
    return (counts[:, SUPPORTS] + 1.0) / (counts[:, SUPPORTS] + counts[:, DENIES] + 2.0)


def prior_model_confidence(
    records: Iterable[InterchangeRecord],
    claim_keys: Iterable[str],
    outlet_kinds: Mapping[str, str] | None = None,
) -> np.ndarray:
    """Confidence of the online scorer with the documented priors, per claim key."""
    from scoring.attribution import default_parameters

    return engine_confidence(records, claim_keys, default_parameters(), outlet_kinds)


def engine_confidence(
    records: Iterable[InterchangeRecord],
    claim_keys: Iterable[str],
    params,
    outlet_kinds: Mapping[str, str] | None = None,
) -> np.ndarray:
    """Confidence of the online scorer (what the service stores) with ``params``."""
    # Imported here: the engine is a sibling module the evaluation only borrows.
    from scoring.engine import score_claim
    from scoring.evidence import ReportEvidence

    kinds = outlet_kinds or {}
    reports: dict[str, list[ReportEvidence]] = {}
    for number, record in enumerate(records):
        reports.setdefault(record.claim_key, []).append(
            ReportEvidence(
                key=record.report_key or f"{record.claim_key}#{number}",
                outlet=record.outlet,
                stance=record.stance,
                attribution=record.attribution,
                source=record.source,
                interested_party=record.interested_party,
                cites=record.cites,
                outlet_kind=kinds.get(record.outlet),
                published_at=record.published_at,
            )
        )
    return np.array([score_claim(reports[key], params).confidence for key in claim_keys])


def _claim_folds(table: ReportTable, folds: int, seed: int) -> list[np.ndarray]:
    """Test claim indices of each fold: resolved claims, stratified by verdict."""
    resolved = ~np.isnan(table.verdicts)
    rows = np.flatnonzero(resolved[table.claim])
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    claim = table.claim[rows]
    return [
        np.unique(claim[test])
        for _, test in splitter.split(rows, table.verdicts[claim], groups=claim)
    ]


def evaluate_records(
    records: Iterable[InterchangeRecord],
    folds: int = 5,
    seed: int = 0,
    estimator: ReliabilityEstimator | None = None,
    outlet_kinds: Mapping[str, str] | None = None,
    calibrate: bool = True,
) -> EvaluationResult:
    """Cross-validate the estimator and the baselines on interchange records.

    Parameters
    ----------
    records : iterable of InterchangeRecord
        Reports of resolved and unresolved claims (unresolved ones help fitting only).
    folds : int
        Number of folds, grouped by claim.
    seed : int
        Seeds the shuffling of claims into folds.
    estimator : ReliabilityEstimator, optional
        Cloned for every fold; default ``ReliabilityEstimator()``.
    outlet_kinds : mapping of str to str, optional
        Outlet kinds by name (the interchange format does not carry them).
    calibrate : bool
        Calibrate the model as deployed: a calibrator (:func:`fit_calibration`) fitted on
        out-of-fold predictions within the training claims (:data:`INNER_FOLDS` folds),
        applied to the test claims. The uncalibrated predictions are kept in
        ``predictions["model_raw"]``.
    """
    records = list(records)
    table = ReportTable.from_records(records, outlet_kinds)
    estimator = ReliabilityEstimator() if estimator is None else estimator
    counts = stance_counts(table)
    majority = majority_confidence(table)
    names = ("model", "model_raw", "engine_learned", "majority", "stance_counts_logreg")
    tested = []
    predictions: dict[str, list[np.ndarray]] = {name: [] for name in names}
    fold_of, splits = [], []
    for number, test in enumerate(_claim_folds(table, folds, seed)):
        train = np.setdiff1d(np.arange(table.n_claims), test)
        model = clone(estimator).fit(table.select_claims(train))
        raw = model.predict_proba(table.select_claims(test))[:, 1]
        calibration = _inner_calibration(estimator, table, train, seed) if calibrate else None
        predictions["model_raw"].append(raw)
        predictions["model"].append(apply_calibration(calibration or Calibration(), raw))
        predictions["engine_learned"].append(
            engine_confidence(
                records, table.claim_keys[test], model.to_model_parameters("fold"), outlet_kinds
            )
        )
        predictions["majority"].append(majority[test])
        predictions["stance_counts_logreg"].append(_counts_logreg(table, counts, train, test))
        tested.append(test)
        fold_of.append(np.full(len(test), number))
        splits.append(
            (
                frozenset(table.claim_keys[train].tolist()),
                frozenset(table.claim_keys[test].tolist()),
            )
        )
    claims = np.concatenate(tested)
    pooled = {name: np.concatenate(parts) for name, parts in predictions.items()}
    pooled["prior_model"] = prior_model_confidence(records, table.claim_keys[claims], outlet_kinds)
    verdicts = table.verdicts[claims].astype(bool)
    metrics = {name: claim_metrics(verdicts, p) for name, p in pooled.items()}
    del metrics["model_raw"]
    return EvaluationResult(
        metrics=metrics.pop("model"),
        variants={"engine_learned": metrics.pop("engine_learned")},
        baselines=metrics,
        claim_keys=table.claim_keys[claims],
        verdicts=verdicts,
        predictions=pooled,
        fold=np.concatenate(fold_of),
        splits=tuple(splits),
    )


def _inner_calibration(estimator, table: ReportTable, train: np.ndarray, seed: int):
    """A calibrator fitted on out-of-fold predictions among the training claims only."""
    inner = table.select_claims(train)
    confidence, verdicts = [], []
    for test in _claim_folds(inner, INNER_FOLDS, seed):
        fit_on = np.setdiff1d(np.arange(inner.n_claims), test)
        model = clone(estimator).fit(inner.select_claims(fit_on))
        confidence.append(model.predict_proba(inner.select_claims(test))[:, 1])
        verdicts.append(inner.verdicts[test].astype(bool))
    return fit_calibration(np.concatenate(confidence), np.concatenate(verdicts))


def _counts_logreg(table, counts, train, test) -> np.ndarray:
    resolved = train[~np.isnan(table.verdicts[train])]
    verdicts = table.verdicts[resolved].astype(bool)
    if verdicts.all() or not verdicts.any():  # one verdict only: predict its smoothed share
        return np.full(len(test), (verdicts.sum() + 1.0) / (len(verdicts) + 2.0))
    model = LogisticRegression().fit(counts[resolved], verdicts)
    return model.predict_proba(counts[test])[:, 1]


def write_plots(result: EvaluationResult, out_dir: str | Path) -> list[Path]:
    """Write ``reliability_diagram.png`` and ``roc.png`` for the model and the baselines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "reliability_diagram.png", out / "roc.png"]
    edges = np.linspace(0.0, 1.0, N_CALIBRATION_BINS + 1)
    for path, draw in zip(paths, (_draw_reliability, _draw_roc), strict=True):
        figure, axes = plt.subplots(figsize=(5.5, 5))
        axes.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        for name, confidence in result.predictions.items():
            draw(axes, name, result.verdicts, confidence, edges)
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.legend(loc="lower right", fontsize="small")
        figure.tight_layout()
        figure.savefig(path, dpi=120)
        plt.close(figure)
    return paths


def _draw_reliability(axes, name, verdicts, confidence, edges) -> None:
    bins = np.minimum(np.digitize(confidence, edges[1:-1]), len(edges) - 2)
    filled = np.bincount(bins, minlength=len(edges) - 1) > 0
    share_true = np.bincount(bins, weights=verdicts, minlength=len(edges) - 1)
    mean_conf = np.bincount(bins, weights=confidence, minlength=len(edges) - 1)
    size = np.maximum(np.bincount(bins, minlength=len(edges) - 1), 1)
    axes.plot(mean_conf[filled] / size[filled], share_true[filled] / size[filled], "o-", label=name)
    axes.set_xlabel("confidence (mean in bin)")
    axes.set_ylabel("share of claims true")
    axes.set_title("Reliability diagram (out-of-fold)")


def _draw_roc(axes, name, verdicts, confidence, edges) -> None:
    if verdicts.all() or not verdicts.any():
        return
    false_positive, true_positive, _ = roc_curve(verdicts, confidence)
    auc = roc_auc_score(verdicts, confidence)
    axes.plot(false_positive, true_positive, label=f"{name} (AUC {auc:.2f})")
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.set_title("ROC (out-of-fold)")
