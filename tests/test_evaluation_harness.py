"""The evaluation harness: one scorer as deployed, baselines, splits, seeds, the bootstrap."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from scoring.baselines import BASELINES, Fold, count_features
from scoring.engine import score_claim
from scoring.evaluation import evaluate_records as _evaluate
from scoring.evaluation import (
    expected_calibration_error,
    fit_deployed_scorer,
    format_report,
    paired_bootstrap,
    split_folds,
    weighted_auc,
    weighted_brier,
    weighted_ece,
)
from scoring.evidence import Calibration
from scoring.interchange import outlets_as_imported, records_evidence
from scoring.learning import ReportTable
from scoring.synth import generate


def evaluate_records(records, **kwargs):
    # Small and quick unless a test asks for more.
    kwargs = {"folds": 3, "seeds": 1, "resamples": 200, "coverage": False, **kwargs}
    return _evaluate(records, **kwargs)


@pytest.fixture(scope="module")
def dataset():
    return generate(300, 25, seed=5, unlabelled_fraction=0.2)


def _with_stories(records, n_stories):
    order = {}
    for record in records:
        order.setdefault(record.claim_key, len(order))
    return [replace(r, story=f"story-{order[r.claim_key] % n_stories}") for r in records]


class _SpyFit:
    """The deployed fit, remembering the training records of every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, train_records, outlet_kinds, outlet_priors, seed, **kwargs):
        self.calls.append(list(train_records))
        return fit_deployed_scorer(train_records, outlet_kinds, outlet_priors, seed, **kwargs)


def test_model_row_is_the_engine_with_the_params_fitted_on_that_folds_training_claims(dataset):
    records = dataset.records
    spy = _SpyFit()
    result = evaluate_records(records, outlet_kinds=dataset.outlet_kinds, fit=spy, seed=7)
    run = result.runs[0]
    kinds, priors = outlets_as_imported(records, dataset.outlet_kinds)
    evidence = records_evidence(records, kinds, priors)
    assert len(spy.calls) == len(run.splits) == 3
    for number, (train_keys, test_keys) in enumerate(run.splits):
        assert not {r.claim_key for r in spy.calls[number]} & test_keys  # fitted on training only
        train_records = [r for r in records if r.claim_key in train_keys]
        params = fit_deployed_scorer(train_records, kinds, priors, seed=7)
        assert params.calibration.method != "identity"  # the calibrator is part of it
        assert params == run.params[number]
        tested = run.fold == number
        expected = [score_claim(evidence[key], params).confidence for key in run.claim_keys[tested]]
        assert run.predictions["model"][tested].tolist() == expected
        uncalibrated = replace(params, calibration=Calibration())
        assert run.predictions["uncalibrated"][tested].tolist() == [
            score_claim(evidence[key], uncalibrated).confidence for key in run.claim_keys[tested]
        ]


def test_a_baseline_handed_the_verdicts_wins_and_the_intervals_say_so(dataset):
    def oracle(fold: Fold) -> np.ndarray:
        return np.where(fold.test.verdicts == 1.0, 0.9, 0.1)  # cheats on purpose

    baselines = {"majority": BASELINES["majority"], "oracle": oracle}
    result = evaluate_records(dataset.records, baselines=baselines)
    report = result.to_json()
    assert report["best_baseline"] == "oracle"
    boot = report["paired_bootstrap"]
    assert boot["baseline"] == "oracle"
    assert boot["brier"][0] > 0  # the model is worse on Brier beyond noise
    assert boot["auc"][1] < 0  # and on ranking
    assert "model − oracle" in "\n".join(format_report(report))


def test_counts_baselines_use_stance_features_fitted_on_training_claims(dataset):
    table = ReportTable.from_records(dataset.records)
    features = count_features(table)
    assert features.shape == (table.n_claims, 7)
    counts = np.exp(features[:, :3]) - 1
    assert np.allclose(features[:, 3:6].sum(axis=1), 1.0)
    assert np.array_equal(features[:, 6] == 1.0, counts[:, 1] > 0.5)
    plan = split_folds(table, "claim", 3, 0)[0]
    fold = Fold(table.select_claims(plan.train), table.select_claims(plan.test), [], seed=0)
    for name in ("stance_counts_logreg", "counts_logreg", "counts_boosting", "majority"):
        p = BASELINES[name](fold)
        assert p.shape == (len(plan.test),) and np.all((p > 0) & (p < 1)), name
    # The test claims' verdicts do not reach a fitted baseline.
    hidden = replace(fold, test=replace(fold.test, verdicts=np.full(len(plan.test), np.nan)))
    for name in ("counts_logreg", "counts_boosting"):
        assert np.array_equal(BASELINES[name](fold), BASELINES[name](hidden)), name


def test_seeds_change_the_folds_and_give_a_spread(dataset):
    result = evaluate_records(
        dataset.records, seeds=2, baselines={"majority": BASELINES["majority"]}
    )
    first, second = result.runs
    assert [run.seed for run in result.runs] == [0, 1]
    assert first.splits != second.splits
    assert set(first.claim_keys) == set(second.claim_keys)  # every resolved claim, each seed
    assert result.sd["model"]["brier"] is not None and result.sd["model"]["brier"] > 0
    assert result.sd["baselines"]["majority"]["brier"] == pytest.approx(0, abs=1e-12)  # unfitted
    single = evaluate_records(dataset.records, baselines={"majority": BASELINES["majority"]})
    assert single.sd["model"]["brier"] is None


def test_story_split_never_puts_one_story_on_both_sides(dataset):
    records = _with_stories(dataset.records, 9)
    story_of = {r.claim_key: r.story for r in records}
    table = ReportTable.from_records(records)
    stories = [story_of[key] for key in table.claim_keys]
    tested = []
    for seed in (0, 1):
        for plan in split_folds(table, "story", 3, seed, stories):
            train = {stories[i] for i in plan.train}
            test = {stories[i] for i in plan.test}
            assert not train & test
            tested.extend(plan.test)
    resolved = np.flatnonzero(~np.isnan(table.verdicts))
    assert sorted(tested) == sorted(list(resolved) * 2)  # each resolved claim once a seed
    partitions = {
        frozenset(
            frozenset(stories[i] for i in plan.test)
            for plan in split_folds(table, "story", 3, seed, stories)
        )
        for seed in range(5)
    }
    assert len(partitions) > 1  # another seed, other stories held out together
    spy = _SpyFit()
    result = evaluate_records(records, split="story", fit=spy)
    for call, (_, test_keys) in zip(spy.calls, result.runs[0].splits, strict=True):
        test_stories = {story_of[key] for key in test_keys}
        # Unresolved claims of a held-out story stay out of training too.
        assert not {r.story for r in call} & test_stories
    assert result.to_json()["split"] == "story"


def test_story_split_without_stories_splits_by_claim_and_needs_enough_stories(dataset):
    table = ReportTable.from_records(dataset.records)
    plans = split_folds(table, "story", 3, 0, [None] * table.n_claims)
    assert all(len(plan.test) > 0 for plan in plans)
    few = _with_stories(dataset.records, 2)
    story_of = {r.claim_key: r.story for r in few}
    few_table = ReportTable.from_records(few)
    with pytest.raises(ValueError, match="3 folds need at least 3 stories; there are 2"):
        split_folds(few_table, "story", 3, 0, [story_of[k] for k in few_table.claim_keys])


def test_outlet_split_keeps_every_test_outlet_out_of_training(dataset):
    many_outlets = generate(300, 1000, seed=5, unlabelled_fraction=0.2).records
    spy = _SpyFit()
    result = evaluate_records(many_outlets, split="outlet", fit=spy)
    run = result.runs[0]
    outlets_of: dict[str, set[str]] = {}
    for record in many_outlets:
        outlets_of.setdefault(record.claim_key, set()).add(record.outlet)
    for call, (_, test_keys) in zip(spy.calls, run.splits, strict=True):
        test_outlets = set().union(*(outlets_of[key] for key in test_keys))
        assert not {r.outlet for r in call} & test_outlets
    assert all(hidden > 0 for hidden in run.hidden_reports)
    assert result.to_json()["per_seed"][0]["hidden_training_reports"] == list(run.hidden_reports)
    # 25 outlets, each on many claims: every one of them reports on some test claim.
    with pytest.raises(ValueError, match="unseen-outlet split has nothing to learn from"):
        evaluate_records(dataset.records, split="outlet")


def test_unknown_split_is_refused(dataset):
    with pytest.raises(ValueError, match="unknown split"):
        evaluate_records(dataset.records, split="outlets")


def test_weighted_metrics_equal_the_metrics_of_the_resampled_claims():
    rng = np.random.default_rng(3)
    verdict = rng.random(80) < 0.6
    confidence = np.round(rng.random(80), 1)  # ties on purpose
    draws = rng.integers(0, 80, size=(5, 80))
    weights = np.stack([np.bincount(d, minlength=80) for d in draws]).astype(float)
    for row, drawn in zip(weights, draws, strict=True):
        assert weighted_auc(row[None, :], verdict, confidence)[0] == pytest.approx(
            roc_auc_score(verdict[drawn], confidence[drawn])
        )
        assert weighted_brier(row[None, :], verdict, confidence)[0] == pytest.approx(
            brier_score_loss(verdict[drawn], confidence[drawn])
        )
        assert weighted_ece(row[None, :], verdict, confidence)[0] == pytest.approx(
            expected_calibration_error(verdict[drawn], confidence[drawn])
        )


def test_bootstrap_interval_contains_the_observed_difference():
    rng = np.random.default_rng(0)
    verdict = rng.random(300) < 0.5
    truth = np.where(verdict, 0.7, 0.3)
    model = np.clip(truth + rng.normal(0, 0.15, 300), 0.01, 0.99)
    baseline = np.clip(truth + rng.normal(0, 0.3, 300), 0.01, 0.99)
    boot = paired_bootstrap(verdict, model, baseline, resamples=500, seed=1)
    auc = roc_auc_score(verdict, model) - roc_auc_score(verdict, baseline)
    brier = brier_score_loss(verdict, model) - brier_score_loss(verdict, baseline)
    assert boot["auc"][0] <= auc <= boot["auc"][1]
    assert boot["brier"][0] <= brier <= boot["brier"][1]
    assert boot["auc"][0] > 0 and boot["brier"][1] < 0  # the model is better here
    same = paired_bootstrap(verdict, model, model, resamples=100, seed=1)
    assert same["auc"] == [0.0, 0.0] and same["brier"] == [0.0, 0.0]
    assert paired_bootstrap(verdict, model, baseline, resamples=200, seed=1) != paired_bootstrap(
        verdict, model, baseline, resamples=200, seed=2
    )


def test_records_become_evidence_the_same_way_whatever_else_is_in_the_file(dataset):
    from scoring.attribution import OUTLET_KIND_PRIORS
    from scoring.interchange import report_evidence

    records = [replace(r, report_key=None) if i % 2 else r for i, r in enumerate(dataset.records)]
    first_claim = records[0].claim_key
    alone = records_evidence([r for r in records if r.claim_key == first_claim])
    assert records_evidence(records)[first_claim] == alone[first_claim]
    keys = [e.key for reports in records_evidence(records).values() for e in reports]
    assert len(keys) == len(set(keys)) == len(records)
    kinds, priors = outlets_as_imported(
        records, {"outlet-0001": "wire_agency"}, {"outlet-0002": 0.9}
    )
    assert set(kinds) == set(priors) == {r.outlet for r in records}
    assert kinds["outlet-0001"] == "wire_agency" and kinds["outlet-0003"] == "independent"
    assert priors["outlet-0001"] == OUTLET_KIND_PRIORS["wire_agency"].reliability
    assert priors["outlet-0002"] == 0.9
    assert priors["outlet-0003"] == OUTLET_KIND_PRIORS["independent"].reliability
    evidence = report_evidence(records[0], outlet_kind="newspaper", outlet_prior=0.7)
    assert (evidence.key, evidence.outlet_kind, evidence.outlet_reliability) == (
        records[0].report_key,
        "newspaper",
        0.7,
    )
    with pytest.raises(ValueError, match="no report_key"):
        report_evidence(replace(records[0], report_key=None))
