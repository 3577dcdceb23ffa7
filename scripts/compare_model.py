"""Quick modelling loop: the model as deployed against count baselines, by claim, over seeds.

For each data set and seed: 5 folds over the resolved claims (stratified, shuffled by the
seed); each fold fits :func:`scoring.deployment.fit_scoring_model` on every other claim
(open ones included) and scores the fold's claims with :func:`scoring.engine.score_claim`.
Baselines see the same folds: logistic regression and gradient boosting on log(1 + count)
per stance, the three stance shares and an any-denial flag; the majority of stances.
Prints ROC AUC and Brier as mean ± sd over seeds, and the 90 % interval's coverage on
time-ordered streams of the test claims (first seed).

    .venv/bin/python scripts/compare_model.py [rumoureval|arabic|synth ...] [--seeds 5]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from scoring.coverage import interval_coverage
from scoring.deployment import fit_scoring_model
from scoring.engine import score_claim
from scoring.interchange import read_records, records_evidence
from scoring.synth import generate

FILES = {
    "rumoureval": "../shared/data/rumoureval2017-traindev.jsonl",
    "arabic": "../shared/data/arabic-factcheck-stance-baly2018.jsonl",
}


def load(name: str):
    if name == "synth":
        dataset = generate(1500, 60, 0, echo_outlets=3, copies_per_echo=4, unlabelled_fraction=0.2)
        return dataset.records
    with open(FILES[name], encoding="utf-8") as stream:
        return list(read_records(stream))


def count_features(records, keys):
    index = {k: i for i, k in enumerate(keys)}
    counts = np.zeros((len(keys), 3))
    column = {"supports": 0, "denies": 1, "neutral": 2}
    for r in records:
        if r.claim_key in index:
            counts[index[r.claim_key], column[r.stance]] += 1
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    return np.column_stack([np.log1p(counts), shares, counts[:, 1] > 0]), counts


def run(name: str, seeds: int) -> None:
    records = load(name)
    verdict = {r.claim_key: r.verdict for r in records}
    keys = np.array(list(verdict))
    resolved = np.array([k for k in keys if verdict[k] is not None])
    y = np.array([verdict[k] for k in resolved], dtype=int)
    X, counts = count_features(records, resolved)
    by_claim: dict[str, list] = {}
    for r in records:
        by_claim.setdefault(r.claim_key, []).append(r)
    results = {n: {"auc": [], "brier": []} for n in ("model", "logreg", "boosting", "majority")}
    coverage = None
    started = time.time()
    for seed in range(seeds):
        predictions = {n: np.zeros(len(resolved)) for n in results}
        folds = StratifiedKFold(5, shuffle=True, random_state=seed).split(resolved, y)
        for train, test in folds:
            held_out = set(resolved[test])
            training = [r for r in records if r.claim_key not in held_out]
            params = fit_scoring_model(training, seed=seed)
            test_records = [r for k in resolved[test] for r in by_claim[k]]
            reports = records_evidence(test_records)
            predictions["model"][test] = [
                score_claim(reports[k], params).confidence for k in resolved[test]
            ]
            logreg = LogisticRegression(max_iter=1000).fit(X[train], y[train])
            predictions["logreg"][test] = logreg.predict_proba(X[test])[:, 1]
            boosting = GradientBoostingClassifier(random_state=seed).fit(X[train], y[train])
            predictions["boosting"][test] = boosting.predict_proba(X[test])[:, 1]
            s, d = counts[test, 0], counts[test, 1]
            predictions["majority"][test] = (s + 1) / (s + d + 2)
            if seed == 0:
                part = interval_coverage({k: reports[k] for k in resolved[test]}, params)
                coverage = _merge(coverage, part)
        for n, p in predictions.items():
            results[n]["auc"].append(roc_auc_score(y, p))
            results[n]["brier"].append(brier_score_loss(y, p))
        print(
            f"  {name} seed {seed}: model AUC {results['model']['auc'][-1]:.3f} "
            f"Brier {results['model']['brier'][-1]:.4f} ({time.time() - started:.0f}s)",
            file=sys.stderr,
        )
    print(f"{name}: {len(resolved)} resolved claims, {len(records)} reports, {seeds} seeds")
    for n, m in results.items():
        print(
            f"  {n:9s} AUC {np.mean(m['auc']):.3f} ± {np.std(m['auc']):.3f}   "
            f"Brier {np.mean(m['brier']):.4f} ± {np.std(m['brier']):.4f}"
        )
    if coverage:
        print(
            f"  interval coverage {coverage['inside'] / coverage['checks']:.3f} "
            f"(k = 1 … n − 1 of {coverage['checks']} checks), mean width "
            f"{coverage['width'] / coverage['checks']:.3f}, zero-width {coverage['zero']}"
        )


def _merge(total, part):
    total = total or {"inside": 0.0, "checks": 0, "width": 0.0, "zero": 0}
    if part.checks:
        total["inside"] += part.coverage * part.checks
        total["width"] += part.mean_width * part.checks
        total["checks"] += part.checks
        total["zero"] += part.zero_width
    return total


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*", default=["rumoureval", "arabic", "synth"])
    parser.add_argument("--seeds", type=int, default=5)
    arguments = parser.parse_args()
    for name in arguments.names:
        run(name, arguments.seeds)
