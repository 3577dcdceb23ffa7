"""Synthetic data, calibration and cross-validated evaluation."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from scoring.calibration import MIN_ISOTONIC_CLAIMS, apply_calibration, fit_calibration
from scoring.evaluation import METRIC_NAMES, evaluate_records, write_plots
from scoring.evidence import Calibration
from scoring.interchange import check_consistency, read_records, write_records
from scoring.synth import generate, write_jsonl


@pytest.fixture(scope="module")
def evaluation():
    dataset = generate(1500, 50, seed=11, unlabelled_fraction=0.1)
    return dataset, evaluate_records(
        dataset.records, folds=5, seed=0, seeds=2, outlet_kinds=dataset.outlet_kinds
    )


def test_generation_is_deterministic_by_seed():
    first, again, other = (generate(200, 20, seed=s) for s in (3, 3, 4))
    assert [r.to_json() for r in first.records] == [r.to_json() for r in again.records]
    assert not np.array_equal(first.outlet_reliability, other.outlet_reliability)


def test_claims_have_few_and_many_reports():
    dataset = generate(3000, 50, seed=1)
    per_claim = np.bincount(dataset.table.claim)
    assert per_claim.min() == 1 and per_claim.max() >= 5 * np.median(per_claim)


def test_echo_chains_cite_the_copied_report_and_can_be_dropped():
    dataset = generate(500, 40, seed=2, echo_outlets=2, copies_per_echo=3)
    copies = np.flatnonzero(dataset.is_copy)
    assert len(copies) > 0 and np.all(dataset.cites[copies] >= 0)
    cited = dataset.cites[copies]
    assert np.all(dataset.table.claim[cited] == dataset.table.claim[copies])
    assert np.all(dataset.table.stance[cited] == dataset.table.stance[copies])  # verbatim
    chained = dataset.is_copy[cited]
    assert chained.any()  # some copies repeat an earlier copy
    outlets = set(dataset.table.outlet_names[dataset.table.outlet[copies]])
    assert outlets <= set(dataset.copiers)
    dropped = dataset.drop_copies()
    assert not dropped.is_copy.any() and dropped.table.n_claims == dataset.table.n_claims
    assert dropped.table.n_reports == dataset.table.n_reports - len(copies)


def test_unlabelled_fraction_and_jsonl_round_trip(tmp_path):
    dataset = generate(400, 20, seed=3, unlabelled_fraction=0.25)
    share = np.isnan(dataset.table.verdicts).mean()
    assert 0.15 < share < 0.35
    path = tmp_path / "synthetic.jsonl"
    assert write_jsonl(dataset, path) == dataset.table.n_reports
    with open(path, encoding="utf-8") as stream:
        records = check_consistency(read_records(stream))
    assert records == dataset.records


@pytest.mark.parametrize(
    ("n_claims", "method"),
    [(MIN_ISOTONIC_CLAIMS - 1, "sigmoid"), (MIN_ISOTONIC_CLAIMS, "isotonic")],
)
def test_calibration_method_follows_the_number_of_resolved_claims(n_claims, method):
    rng = np.random.default_rng(n_claims)
    raw = rng.uniform(0.01, 0.99, n_claims)
    verdict = rng.random(n_claims) < raw**2  # raw confidence is too high
    calibration = fit_calibration(raw, verdict)
    assert calibration.method == method
    grid = np.linspace(0.0, 1.0, 201)
    calibrated = apply_calibration(calibration, grid)
    assert np.all(np.diff(calibrated) >= 0)
    assert np.all((calibrated > 0) & (calibrated < 1))
    assert apply_calibration(calibration, 0.5) < 0.5


def test_calibration_agrees_with_the_engine():
    from scoring.engine import calibrate

    rng = np.random.default_rng(0)
    for n_claims in (50, 400):
        raw = rng.uniform(0.05, 0.95, n_claims)
        calibration = fit_calibration(raw, rng.random(n_claims) < raw)
        for p in (0.1, 0.37, 0.5, 0.9):
            assert apply_calibration(calibration, p) == pytest.approx(calibrate(p, calibration))


def test_calibration_with_one_verdict_only_is_identity():
    assert fit_calibration([0.2, 0.9, 0.7], [True, True, True]) == Calibration()
    assert apply_calibration(Calibration(), np.array([0.0, 1.0])).tolist() == pytest.approx(
        [1e-9, 1 - 1e-9]
    )


def test_model_beats_every_baseline(evaluation):
    _, result = evaluation
    for name, baseline in result.baselines.items():
        assert result.metrics["roc_auc"] > baseline["roc_auc"], name
        assert result.metrics["brier"] < baseline["brier"], name


def test_metrics_json_shape(evaluation):
    dataset, result = evaluation
    report = result.to_json()
    assert {"model", "baselines", "variants"} <= set(report)  # the keys it always had
    assert set(report["baselines"]) == {
        "majority",
        "stance_counts_logreg",
        "counts_logreg",
        "counts_boosting",
        "prior_model",
    }
    # The model row is the deployed scorer; the engine without calibration is its variant.
    assert set(report["variants"]) == {"uncalibrated"}
    rows = [report["model"], *report["baselines"].values(), *report["variants"].values()]
    for seed_report in report["per_seed"]:
        rows += [seed_report["model"], *seed_report["baselines"].values()]
    for metrics in rows:
        assert set(metrics) == set(METRIC_NAMES)
        assert metrics["n_claims"] == int((~np.isnan(dataset.table.verdicts)).sum())
        assert 0 <= metrics["accuracy"] <= 1 and 0 <= metrics["ece"] <= 1
    assert report["seeds"] == [0, 1] and report["split"] == "claim" and report["folds"] == 5
    for name, metrics in [("model", report["model"]), *report["baselines"].items()]:
        sd = report["sd"]["model"] if name == "model" else report["sd"]["baselines"][name]
        assert set(sd) == set(METRIC_NAMES) - {"n_claims"}
        per_seed = [
            s["model"] if name == "model" else s["baselines"][name] for s in report["per_seed"]
        ]
        assert metrics["brier"] == pytest.approx(np.mean([m["brier"] for m in per_seed]))
        assert sd["brier"] == pytest.approx(np.std([m["brier"] for m in per_seed], ddof=1))
    briers = {name: m["brier"] for name, m in report["baselines"].items()}
    assert report["best_baseline"] == min(briers, key=briers.get)
    boot = report["paired_bootstrap"]
    assert boot["baseline"] == report["best_baseline"]
    for name in ("auc", "brier", "ece"):
        low, high = boot[name]
        assert low <= high
    assert set(report["interval"]) >= {"coverage", "mean_width", "checks", "claims", "nominal"}
    json.dumps(report)  # metrics.json is plain JSON


def test_folds_never_share_a_claim(evaluation):
    dataset, result = evaluation
    tested = set()
    for train, test in result.splits:
        assert not train & test
        assert not tested & test  # each claim is tested once
        tested |= test
    unresolved = set(dataset.table.claim_keys[np.isnan(dataset.table.verdicts)])
    assert not tested & unresolved
    assert all(unresolved <= train for train, _ in result.splits)  # used for fitting only
    assert len(result.claim_keys) == len(tested) == len(set(result.claim_keys))


def test_plots_are_written(evaluation, tmp_path):
    _, result = evaluation
    paths = write_plots(result, tmp_path / "plots")
    assert [p.name for p in paths] == ["reliability_diagram.png", "roc.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluation_reads_interchange_text():
    dataset = generate(300, 15, seed=4)
    buffer = io.StringIO()
    write_records(dataset.records, buffer)
    records = list(read_records(buffer.getvalue().splitlines()))
    result = evaluate_records(records, folds=3, seed=1, seeds=1, calibrate=False)
    assert result.metrics["n_claims"] == 300
    assert all(p.calibration == Calibration() for p in result.runs[0].params)
