"""Cross-validated evaluation of the deployed scorer against baselines (``srs evaluate``).

**What is evaluated is what is deployed.** In every outer fold :func:`fit_deployed_scorer`
fits the model on the training claims only (resolved ones with their verdicts, unresolved
ones without) and returns the :class:`~scoring.evidence.ModelParameters` the service would
store, calibrator included; the ``model`` row is :func:`scoring.engine.score_claim` with
those parameters on the held-out claims' reports (mapped by
:func:`scoring.interchange.report_evidence`, the mapping the service uses). The variant
``uncalibrated`` is the same scorer with a stored calibration left out (model v2 has
none: its claim layer is the calibrator, so the two rows agree). With ``wording=True`` the
variant ``wording`` is the same fit with the wording model on (:mod:`scoring.wording`, its
multipliers chosen on the training claims only), and ``wording_bootstrap`` the paired
bootstrap interval of wording − model.

**Outlets as imported.** The format names outlets only. By default every outlet gets the
kind and prior a fresh ``srs import`` gives it
(:func:`scoring.interchange.outlets_as_imported`), unless kinds or priors are passed in;
the fit and the scorer see the same ones.

**Splits** (``split``), each over the resolved claims, ``folds`` folds:

- ``claim``: scikit-learn's ``StratifiedGroupKFold`` over reports, grouped by claim and
  stratified by verdict; every unresolved claim is in every training set.
- ``story``: whole stories are held out: no claim of a test story, resolved or not, is
  in its training set. Stories go to folds in a seeded random order, each to the fold
  with the fewest resolved claims so far (not stratified by verdict: stories differ in
  their share of true claims, and that is part of what a new story tests). A claim
  without a story is a story of its own, so data without stories are split by claim.
- ``outlet``: unseen outlets. Test claims are drawn as by claim; then every report by an
  outlet that reports on any test claim is removed from the training claims (a training
  claim left without reports drops out), so no test claim's outlet is seen in training.
  This is harsh for outlets that report on many claims: they are never learned from.

**Repeated folds.** The whole cross-validation is repeated with ``seeds`` different fold
seeds (``seed``, ``seed + 1``, …; :func:`default_seeds` picks 5 for files under
:data:`LARGE_FILE_CLAIMS` claims, else 1). Each metric is computed on the pooled
out-of-fold predictions of one seed, then reported as mean and sample sd over seeds.

**Best baseline** is the baseline with the lowest mean Brier score.

**Paired bootstrap.** For each seed, the resolved claims are resampled with replacement
:data:`BOOTSTRAP_RESAMPLES` times (a generator seeded by the fold seed); on each resample
the difference model − best baseline of ROC AUC and of Brier score is computed from the
same claims' pooled out-of-fold predictions, and the 2.5th and 97.5th percentiles taken.
The reported 95 % interval averages those ends over seeds. The model's ECE gets an interval
from the same resamples; a resample's repeated claims make its bins noisier, so resampled
ECE runs high and that interval sits mostly above the point value. The resampling treats
claims as independent, which they are not quite within a story.

**Interval coverage** (:mod:`scoring.coverage`) is measured on the held-out claims of the
first seed, each scored by the parameters of the fold that held it out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedGroupKFold

from scoring.baselines import BASELINES, Baseline, Fold
from scoring.coverage import IntervalCoverage, interval_coverage
from scoring.evidence import Calibration, ModelParameters, ReportEvidence
from scoring.interchange import InterchangeRecord, outlets_as_imported, records_evidence
from scoring.learning import ReportTable
from scoring.stories import claim_stories
from scoring.wording import WordingModel

INNER_FOLDS = 3
"""Folds within the training claims for the cross-fitted calibrator: three keeps two
thirds of them for each inner fit at three extra fits per fit."""
METRIC_NAMES = ("accuracy", "roc_auc", "brier", "log_loss", "ece", "n_claims")
N_CALIBRATION_BINS = 10
SPLITS = ("claim", "story", "outlet")
LARGE_FILE_CLAIMS = 5000
BOOTSTRAP_RESAMPLES = 1000
_BOOTSTRAP_CHUNK = 100

FitFunction = Callable[..., ModelParameters]
VARIANTS = ("uncalibrated", "wording")
"""Rows printed under the model: without calibration, and with the wording model (only
when asked for)."""


# -- the deployed scorer ---------------------------------------------------------------------
def fit_deployed_scorer(
    train_records: Iterable[InterchangeRecord],
    outlet_kinds: Mapping[str, str] | None = None,
    outlet_priors: Mapping[str, float] | None = None,
    seed: int = 0,
    *,
    version: str = "evaluation",
    calibrate: bool = True,
    wording: WordingModel | None = None,
) -> ModelParameters:
    """Fit the model as the service deploys it: the parameters ``score_claim`` scores with.

    :func:`scoring.deployment.fit_scoring_model`, the fit ``srs fit`` stores: the EM
    estimator's per-stance ratios and a claim layer fitted on cross-fitted engine evidence
    of the resolved training claims (never on scores of claims a fit has seen). The layer is
    the calibrator, so ``calibrate`` changes nothing: there is no separate calibration step
    to leave out, and the ``uncalibrated`` variant equals the model. ``wording`` switches
    the wording model on (:mod:`scoring.wording`), its multipliers fitted on
    ``train_records`` only.
    """
    from scoring.deployment import fit_scoring_model

    del calibrate
    return fit_scoring_model(
        train_records,
        outlet_kinds=outlet_kinds,
        outlet_priors=outlet_priors,
        version=version,
        seed=seed,
        wording=wording,
    )


def _engine_scores(claims: Iterable[Sequence[ReportEvidence]], params) -> np.ndarray:
    from scoring.engine import score_claim

    return np.array([score_claim(reports, params).confidence for reports in claims])


# -- metrics ---------------------------------------------------------------------------------
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


def _mean_sd(rows: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per metric: mean and sample sd over seeds (sd ``None`` with one seed, and both
    ``None`` when a seed has no value); ``n_claims`` is the same in every seed."""
    mean: dict[str, Any] = {}
    sd: dict[str, Any] = {}
    for name in METRIC_NAMES:
        values = [row[name] for row in rows]
        if name == "n_claims":
            mean[name] = values[0]
            continue
        if any(v is None for v in values):
            mean[name] = sd[name] = None
            continue
        mean[name] = float(np.mean(values))
        sd[name] = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return mean, sd


# -- paired bootstrap --------------------------------------------------------------------------
def bootstrap_weights(n: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``(resamples, n)`` counts: how often each of ``n`` claims is drawn in each resample."""
    draws = rng.integers(0, n, size=(resamples, n)) + n * np.arange(resamples)[:, None]
    return np.bincount(draws.ravel(), minlength=resamples * n).reshape(resamples, n)


def weighted_auc(weights: np.ndarray, verdict, confidence) -> np.ndarray:
    """ROC AUC of each row of claim ``weights`` (ties count a half); nan without both
    verdicts. Equals :func:`roc_auc_score` on the claims repeated by their weights."""
    verdict = np.asarray(verdict, dtype=bool)
    _, group = np.unique(np.asarray(confidence, dtype=float), return_inverse=True)
    n_groups = group.max() + 1
    out = []
    for label in (True, False):
        rows = np.flatnonzero(verdict == label)
        one_hot = sparse.csr_matrix(
            (np.ones(len(rows)), (np.arange(len(rows)), group[rows])), shape=(len(rows), n_groups)
        )
        out.append(np.asarray((one_hot.T @ weights[:, rows].T).T))
    positive, negative = out
    below = np.cumsum(negative, axis=1) - negative
    pairs = positive.sum(axis=1) * negative.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (positive * (below + 0.5 * negative)).sum(axis=1) / pairs


def weighted_brier(weights: np.ndarray, verdict, confidence) -> np.ndarray:
    error = (np.asarray(verdict, dtype=float) - np.asarray(confidence, dtype=float)) ** 2
    return weights @ error / weights.sum(axis=1)


def weighted_ece(weights: np.ndarray, verdict, confidence, n_bins=N_CALIBRATION_BINS):
    confidence = np.asarray(confidence, dtype=float)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    gap = np.zeros((len(confidence), n_bins))
    gap[np.arange(len(confidence)), bins] = np.asarray(verdict, dtype=float) - confidence
    return np.abs(weights @ gap).sum(axis=1) / weights.sum(axis=1)


def paired_bootstrap(
    verdict,
    model,
    baseline,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Percentile intervals of model − baseline (AUC, Brier) and of the model's ECE, over
    claim resamples with replacement; both scorers see the same resampled claims."""
    verdict = np.asarray(verdict, dtype=bool)
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"auc": [], "brier": [], "ece": []}
    for start in range(0, resamples, _BOOTSTRAP_CHUNK):
        weights = bootstrap_weights(len(verdict), min(_BOOTSTRAP_CHUNK, resamples - start), rng)
        weights = weights.astype(float)
        parts["auc"].append(
            weighted_auc(weights, verdict, model) - weighted_auc(weights, verdict, baseline)
        )
        parts["brier"].append(
            weighted_brier(weights, verdict, model) - weighted_brier(weights, verdict, baseline)
        )
        parts["ece"].append(weighted_ece(weights, verdict, model))
    tail = 100 * (1 - level) / 2
    out: dict[str, Any] = {}
    for name, values in parts.items():
        values = np.concatenate(values)
        finite = values[np.isfinite(values)]
        out[name] = (
            [float(v) for v in np.percentile(finite, [tail, 100 - tail])] if finite.size else None
        )
    return out


# -- folds -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FoldPlan:
    """One outer fold: claim indices to train and test on, and the outlets whose reports
    training may not see (``--split outlet``)."""

    train: np.ndarray
    test: np.ndarray
    hidden_outlets: frozenset[str] = frozenset()


def split_folds(
    table: ReportTable,
    split: str = "claim",
    folds: int = 5,
    seed: int = 0,
    stories: Sequence[str | None] | None = None,
) -> list[FoldPlan]:
    """The outer folds of one seed (see the module docstring for each ``split``).

    ``stories`` is each claim's story, aligned with ``table.claim_keys``.

    Raises
    ------
    ValueError
        On an unknown split, or fewer resolved claims (or stories) than folds.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; one of {', '.join(SPLITS)}")
    claim_keys = table.claim_keys
    if split == "story":
        stories = [None] * table.n_claims if stories is None else stories
        names = [s if s is not None else f"\0{k}" for s, k in zip(stories, claim_keys, strict=True)]
        _, group = np.unique(np.array(names, dtype=object), return_inverse=True)
    else:
        group = np.arange(table.n_claims)
    resolved = ~np.isnan(table.verdicts)
    n_groups = len(np.unique(group[resolved]))
    unit = "stories" if split == "story" else "resolved claims"
    if n_groups < folds:
        raise ValueError(f"{folds} folds need at least {folds} {unit}; there are {n_groups}")
    verdict_counts = np.bincount(table.verdicts[resolved].astype(int), minlength=2)
    if verdict_counts.min() < 1:
        raise ValueError("evaluation needs resolved claims of both verdicts")
    if split == "story":
        tests = _group_folds(group, resolved, folds, seed)
    else:
        rows = np.flatnonzero(resolved[table.claim])
        claim = table.claim[rows]
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        tests = [
            np.unique(claim[test_rows])
            for _, test_rows in splitter.split(rows, table.verdicts[claim], groups=claim)
        ]
    plans = []
    outlet_of_report = table.outlet_names[table.outlet]
    for test in tests:
        train = np.flatnonzero(~np.isin(group, group[test]))
        hidden: frozenset[str] = frozenset()
        if split == "outlet":
            hidden = frozenset(outlet_of_report[np.isin(table.claim, test)].tolist())
        plans.append(FoldPlan(train=train, test=test, hidden_outlets=hidden))
    return plans


def _group_folds(group: np.ndarray, resolved: np.ndarray, folds: int, seed: int):
    """Test claims of each fold: groups in a random order (seeded), each to the fold with
    the fewest resolved claims so far (the lowest-numbered on a tie).

    Not ``StratifiedGroupKFold``: with a few groups of distinct sizes its folds come out the
    same whatever the seed, so repeated seeds would repeat one split.
    """
    names, size = np.unique(group[resolved], return_counts=True)
    order = np.random.default_rng(seed).permutation(len(names))
    load = np.zeros(folds, dtype=int)
    fold_of_group = {}
    for index in order:
        target = int(np.argmin(load))
        fold_of_group[names[index]] = target
        load[target] += size[index]
    claims = np.flatnonzero(resolved)
    fold = np.array([fold_of_group[g] for g in group[claims]], dtype=int)
    return [claims[fold == number] for number in range(folds)]


def default_seeds(n_claims: int) -> int:
    """Seeds ``srs evaluate`` repeats the folds over: 5 below :data:`LARGE_FILE_CLAIMS`
    claims, else 1 (a large file's folds vary little, and each seed refits every fold)."""
    return 5 if n_claims < LARGE_FILE_CLAIMS else 1


# -- one seed --------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SeedRun:
    """The pooled out-of-fold predictions of one seed.

    ``predictions`` maps ``"model"``, ``"uncalibrated"`` and each baseline to P(true) of each
    tested claim, aligned with ``claim_keys`` and ``verdicts``; ``fold`` is each claim's test
    fold, ``splits`` the (training, test) claim keys of every fold, ``params`` the model each
    fold fitted, and ``hidden_reports`` how many reports each fold's training could not see.
    """

    seed: int
    claim_keys: np.ndarray
    verdicts: np.ndarray
    predictions: dict[str, np.ndarray]
    fold: np.ndarray
    splits: tuple[tuple[frozenset[str], frozenset[str]], ...]
    params: tuple[ModelParameters, ...]
    hidden_reports: tuple[int, ...]

    def metrics(self) -> dict[str, dict[str, Any]]:
        return {name: claim_metrics(self.verdicts, p) for name, p in self.predictions.items()}


@dataclass(frozen=True, eq=False)
class _Data:
    records: list[InterchangeRecord]
    table: ReportTable
    evidence: dict[str, list[ReportEvidence]]
    stories: list[str | None]
    outlet_kinds: dict[str, str]
    outlet_priors: dict[str, float]


def _run_seed(
    data: _Data,
    plans: Sequence[FoldPlan],
    seed: int,
    baselines: Mapping[str, Baseline],
    fit: FitFunction,
    calibrate: bool,
    wording: bool = False,
) -> SeedRun:
    table = data.table
    report_outlet = table.outlet_names[table.outlet]
    names = ("model", "uncalibrated", *(("wording",) if wording else ()), *baselines)
    predictions: dict[str, list[np.ndarray]] = {name: [] for name in names}
    tested, fold_of, splits, params_of, hidden_counts = [], [], [], [], []
    for number, plan in enumerate(plans):
        in_train = np.isin(table.claim, plan.train)
        visible = in_train & ~np.isin(report_outlet, list(plan.hidden_outlets))
        train_records = [data.records[i] for i in np.flatnonzero(visible)]
        _check_training(train_records, number, plan)
        test_keys = table.claim_keys[plan.test]
        test_evidence = [data.evidence[key] for key in test_keys]
        kwargs = {"calibrate": False} if not calibrate else {}
        params = fit(train_records, data.outlet_kinds, data.outlet_priors, seed, **kwargs)
        predictions["model"].append(_engine_scores(test_evidence, params))
        uncalibrated = replace(params, calibration=Calibration())
        predictions["uncalibrated"].append(_engine_scores(test_evidence, uncalibrated))
        if wording:
            worded = fit(
                train_records,
                data.outlet_kinds,
                data.outlet_priors,
                seed,
                wording=WordingModel(),
                **kwargs,
            )
            predictions["wording"].append(_engine_scores(test_evidence, worded))
        fold = Fold(
            train=ReportTable.from_records(train_records, data.outlet_kinds),
            test=table.select_claims(plan.test),
            test_evidence=test_evidence,
            seed=seed,
        )
        for name, baseline in baselines.items():
            predictions[name].append(np.asarray(baseline(fold), dtype=float))
        tested.append(plan.test)
        fold_of.append(np.full(len(plan.test), number))
        trained_on = {record.claim_key for record in train_records}
        splits.append((frozenset(trained_on), frozenset(test_keys.tolist())))
        params_of.append(params)
        hidden_counts.append(int((in_train & ~visible).sum()))
    claims = np.concatenate(tested)
    return SeedRun(
        seed=seed,
        claim_keys=table.claim_keys[claims],
        verdicts=table.verdicts[claims].astype(bool),
        predictions={name: np.concatenate(parts) for name, parts in predictions.items()},
        fold=np.concatenate(fold_of),
        splits=tuple(splits),
        params=tuple(params_of),
        hidden_reports=tuple(hidden_counts),
    )


def _check_training(train_records, number: int, plan: FoldPlan) -> None:
    verdicts = {r.claim_key: r.verdict for r in train_records if r.verdict is not None}
    if len(set(verdicts.values())) < 2:
        reason = (
            ": every outlet of its training claims also reports on a test claim, so the "
            "unseen-outlet split has nothing to learn from (outlets report on many claims)"
            if plan.hidden_outlets
            else ""
        )
        raise ValueError(
            f"fold {number + 1} has no resolved training claims of both verdicts{reason}"
        )


def _run_coverage(data: _Data, run: SeedRun) -> IntervalCoverage:
    fold_params = {key: run.params[f] for key, f in zip(run.claim_keys, run.fold, strict=True)}
    claims = {key: data.evidence[key] for key in run.claim_keys}
    return interval_coverage(claims, fold_params.__getitem__)


# -- the result ------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """Metrics of the model and the baselines (means over seeds), and what they come from.

    ``runs`` holds each seed's pooled out-of-fold predictions; ``claim_keys``,
    ``verdicts``, ``predictions``, ``fold`` and ``splits`` are the first seed's.
    """

    metrics: dict[str, Any]
    baselines: dict[str, dict[str, Any]]
    variants: dict[str, dict[str, Any]]
    sd: dict[str, Any]
    best_baseline: str
    bootstrap: dict[str, Any]
    wording_bootstrap: dict[str, Any] | None
    interval: IntervalCoverage | None
    split: str
    folds: int
    runs: tuple[SeedRun, ...]

    @property
    def seeds(self) -> list[int]:
        return [run.seed for run in self.runs]

    @property
    def claim_keys(self) -> np.ndarray:
        return self.runs[0].claim_keys

    @property
    def verdicts(self) -> np.ndarray:
        return self.runs[0].verdicts

    @property
    def predictions(self) -> dict[str, np.ndarray]:
        return self.runs[0].predictions

    @property
    def fold(self) -> np.ndarray:
        return self.runs[0].fold

    @property
    def splits(self) -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
        return self.runs[0].splits

    def to_json(self) -> dict[str, Any]:
        """The content of ``metrics.json``; see the README ("Evaluating the model")."""
        per_seed = []
        for run in self.runs:
            metrics = run.metrics()
            per_seed.append(
                {
                    "seed": run.seed,
                    "model": metrics.pop("model"),
                    "variants": {name: metrics.pop(name) for name in VARIANTS if name in metrics},
                    "baselines": metrics,
                    "hidden_training_reports": list(run.hidden_reports),
                }
            )
        return {
            "model": dict(self.metrics),
            "baselines": {name: dict(m) for name, m in self.baselines.items()},
            "variants": {name: dict(m) for name, m in self.variants.items()},
            "sd": self.sd,
            "best_baseline": self.best_baseline,
            "paired_bootstrap": dict(self.bootstrap),
            **(
                {"wording_bootstrap": dict(self.wording_bootstrap)}
                if self.wording_bootstrap is not None
                else {}
            ),
            "split": self.split,
            "folds": self.folds,
            "seeds": self.seeds,
            "interval": self.interval.to_json() if self.interval is not None else None,
            "per_seed": per_seed,
        }


def evaluate_records(
    records: Iterable[InterchangeRecord],
    folds: int = 5,
    seed: int = 0,
    *,
    seeds: int | None = None,
    split: str = "claim",
    outlet_kinds: Mapping[str, str] | None = None,
    outlet_priors: Mapping[str, float] | None = None,
    baselines: Mapping[str, Baseline] | None = None,
    fit: FitFunction = fit_deployed_scorer,
    calibrate: bool = True,
    resamples: int = BOOTSTRAP_RESAMPLES,
    coverage: bool = True,
    wording: bool = False,
) -> EvaluationResult:
    """Cross-validate the deployed scorer and the baselines on interchange records.

    Parameters
    ----------
    records : iterable of InterchangeRecord
        Reports of resolved and unresolved claims (unresolved ones help fitting only).
    folds : int
        Outer folds.
    seed : int
        The first fold seed; seed ``i`` of the repetition is ``seed + i``.
    seeds : int, optional
        How many times to repeat the folds; default :func:`default_seeds`.
    split : str
        ``claim``, ``story`` or ``outlet`` (module docstring).
    outlet_kinds, outlet_priors : mapping, optional
        Known outlets' kinds and priors; the others as a fresh import records them.
    baselines : mapping of str to Baseline, optional
        Default :data:`scoring.baselines.BASELINES`.
    fit : callable
        ``fit(train_records, outlet_kinds, outlet_priors, seed) -> ModelParameters``;
        default :func:`fit_deployed_scorer`.
    calibrate : bool
        False fits without the calibrator (``fit`` is then passed ``calibrate=False``).
    resamples : int
        Bootstrap resamples per seed.
    coverage : bool
        Measure the interval's coverage (:mod:`scoring.coverage`) on the first seed.
    wording : bool
        Also fit each fold with the wording model (:mod:`scoring.wording`, its multipliers
        chosen on the training claims only): the variant ``wording``, and the paired
        bootstrap interval of wording − model (``wording_bootstrap``).
    """
    records = list(records)
    kinds, priors = outlets_as_imported(records, outlet_kinds, outlet_priors)
    table = ReportTable.from_records(records, kinds)
    stories = claim_stories(records)
    data = _Data(
        records=records,
        table=table,
        evidence=records_evidence(records, kinds, priors),
        stories=[stories[key] for key in table.claim_keys],
        outlet_kinds=kinds,
        outlet_priors=priors,
    )
    baselines = dict(BASELINES if baselines is None else baselines)
    if not baselines:
        raise ValueError("at least one baseline is needed")
    n_seeds = default_seeds(table.n_claims) if seeds is None else seeds
    if n_seeds < 1:
        raise ValueError("seeds must be at least 1")
    runs = []
    for offset in range(n_seeds):
        plans = split_folds(table, split, folds, seed + offset, data.stories)
        runs.append(_run_seed(data, plans, seed + offset, baselines, fit, calibrate, wording))
    per_seed = [run.metrics() for run in runs]
    summary = {name: _mean_sd([m[name] for m in per_seed]) for name in per_seed[0]}
    best = min(baselines, key=lambda name: summary[name][0]["brier"])
    intervals = [
        paired_bootstrap(
            run.verdicts, run.predictions["model"], run.predictions[best], resamples, run.seed
        )
        for run in runs
    ]
    bootstrap: dict[str, Any] = {
        "baseline": best,
        "difference": {
            "auc": _mean_difference(per_seed, "roc_auc", best),
            "brier": _mean_difference(per_seed, "brier", best),
        },
        "resamples": resamples,
        "level": 0.95,
    }
    _average_ends(bootstrap, intervals)
    variants = [name for name in VARIANTS if name in summary]
    return EvaluationResult(
        metrics=summary["model"][0],
        baselines={name: summary[name][0] for name in baselines},
        variants={name: summary[name][0] for name in variants},
        sd={
            "model": summary["model"][1],
            "baselines": {name: summary[name][1] for name in baselines},
            "variants": {name: summary[name][1] for name in variants},
        },
        best_baseline=best,
        bootstrap=bootstrap,
        wording_bootstrap=_wording_bootstrap(runs, per_seed, resamples) if wording else None,
        interval=_run_coverage(data, runs[0]) if coverage else None,
        split=split,
        folds=folds,
        runs=tuple(runs),
    )


def _average_ends(bootstrap: dict[str, Any], intervals: Sequence[Mapping[str, Any]]) -> None:
    for name in ("auc", "brier", "ece"):
        ends = [i[name] for i in intervals]
        bootstrap[name] = None if None in ends else [float(v) for v in np.mean(ends, axis=0)]


def _wording_bootstrap(runs, per_seed, resamples: int) -> dict[str, Any]:
    """Paired bootstrap of the model with wording − without, as for the best baseline."""
    intervals = [
        paired_bootstrap(
            run.verdicts,
            run.predictions["wording"],
            run.predictions["model"],
            resamples,
            run.seed,
        )
        for run in runs
    ]
    wording_first = [{"model": m["wording"], "without": m["model"]} for m in per_seed]
    out: dict[str, Any] = {
        "difference": {
            "auc": _mean_difference(wording_first, "roc_auc", "without"),
            "brier": _mean_difference(wording_first, "brier", "without"),
        },
        "resamples": resamples,
        "level": 0.95,
    }
    _average_ends(out, intervals)
    del out["ece"]
    return out


def _mean_difference(per_seed, metric: str, baseline: str) -> float | None:
    pairs = [(m["model"][metric], m[baseline][metric]) for m in per_seed]
    if any(a is None or b is None for a, b in pairs):
        return None
    return float(np.mean([a - b for a, b in pairs]))


# -- printing --------------------------------------------------------------------------------
_COLUMNS = ("accuracy", "roc_auc", "brier", "log_loss", "ece")


def format_report(report: Mapping[str, Any]) -> list[str]:
    """The lines ``srs evaluate`` prints for a :meth:`EvaluationResult.to_json` report:
    model, variants and baselines as mean ± sd over seeds, then the paired intervals."""
    seeds = report["seeds"]
    n_claims = report["model"]["n_claims"]
    seed_text = f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''} ({', '.join(map(str, seeds))})"
    lines = [
        f"split by {report['split']}, {report['folds']} folds × {seed_text}; "
        f"{n_claims} resolved claims; mean ± sd over seeds",
        f"{'':22s}" + "".join(f"{name:>15s}" for name in _COLUMNS),
    ]
    rows = [("model", report["model"], report["sd"]["model"])]
    rows += [(name, m, report["sd"]["variants"][name]) for name, m in report["variants"].items()]
    rows += [(name, m, report["sd"]["baselines"][name]) for name, m in report["baselines"].items()]
    for name, mean, sd in rows:
        lines.append(f"{name:22s}" + "".join(_cell(mean[c], sd.get(c)) for c in _COLUMNS))
    boot = report["paired_bootstrap"]
    best = report["best_baseline"]
    lines.append(f"best baseline (lowest mean Brier): {best}")
    lines.append(
        f"model − {best}, paired bootstrap {100 * boot['level']:.0f} % interval "
        f"({boot['resamples']} claim resamples per seed, ends averaged over seeds):"
    )
    for label, name in (("ROC AUC", "auc"), ("Brier", "brier")):
        lines.append(f"  {label:8s}{_signed(boot['difference'][name])}  {_range(boot[name])}")
    lines.append(
        f"model ECE {report['model']['ece']:.3f}, bootstrap interval {_range(boot['ece'])}"
    )
    worded = report.get("wording_bootstrap")
    if worded is not None:
        lines.append(
            f"with wording − without, paired bootstrap {100 * worded['level']:.0f} % interval:"
        )
        for label, name in (("ROC AUC", "auc"), ("Brier", "brier")):
            lines.append(
                f"  {label:8s}{_signed(worded['difference'][name])}  {_range(worded[name])}"
            )
    interval = report.get("interval")
    if interval and interval["checks"]:
        lines.append(
            f"90 % interval coverage {interval['coverage']:.3f} over {interval['checks']} "
            f"checks on {interval['claims']} time-ordered claims (claim-weighted "
            f"{interval['claim_coverage']:.3f}); mean width {interval['mean_width']:.3f}, "
            f"{interval['zero_width']} of zero width"
        )
    elif interval is not None:
        lines.append("90 % interval coverage: no claim with two or more reports")
    return lines


def _cell(mean: float | None, sd: float | None) -> str:
    if mean is None:
        return f"{'—':>15s}"
    text = f"{mean:.3f}" + (f" ± {sd:.3f}" if sd is not None else "")
    return f"{text:>15s}"


def _signed(value: float | None) -> str:
    return "   —  " if value is None else f"{value:+.3f}"


def _range(ends: Sequence[float] | None) -> str:
    return "—" if ends is None else f"[{ends[0]:+.3f}, {ends[1]:+.3f}]"


# -- plots -----------------------------------------------------------------------------------
def write_plots(result: EvaluationResult, out_dir: str | Path) -> list[Path]:
    """Write ``reliability_diagram.png`` and ``roc.png`` for the model and the baselines
    (the first seed's out-of-fold predictions)."""
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
