"""Fit one peer truth-discovery method on a benchmark dataset; run in the benchmark's own
environment (.venv-bench), never the service's.

    .venv-bench/bin/python benchmarks/peers.py [--repeat N] [--deduplicated] METHOD IN OUT

Reads the parsed table benchmarks/fit.py saved (IN, .npz: the ``claim``, ``outlet`` and
``stance`` columns, the same ones our estimator reads; with ``--deduplicated`` only the
reports the table's ``deduplicated`` mask keeps, one per provenance cluster and stance) and
writes ``pred`` (1 true, 0 false, -1 no opinion, per claim) and ``reliability`` (per
outlet, nan where the method has none) to OUT (.npz); prints one JSON line with the
timings (from the table through the method's own input preparation to a fitted model) and
peak memory. Metrics are computed by benchmarks/fit.py, the same way for every method.

The peers see what such a package can take: who said what about which claim. Supports is
the label "true", denies "false"; neutral coverage asserts nothing and is left out. They do
not see attribution, interested parties or citations (which is what our estimator adds).
"""

from __future__ import annotations

import gc
import importlib.util
import json
import statistics
import sys
import time
import types

import numpy as np
from report import PeakMemory

SUPPORTS, DENIES, NEUTRAL = 0, 1, 2  # scoring.vocabulary.STANCES order
WARM_UP_CLAIMS = 2000


def _labels(data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keep = data["stance"] != NEUTRAL
    return data["claim"][keep], data["outlet"][keep], (data["stance"][keep] == SUPPORTS)


def _crowd_kit(name: str):
    import pandas as pd
    from crowdkit import aggregation

    def prepare(claim, outlet, label):
        return pd.DataFrame({"task": claim, "worker": outlet, "label": label.astype(np.int64)})

    def fit(frame):
        model = getattr(aggregation, name)(n_iter=100)
        return model, model.fit_predict(frame)

    def read(model, labels, n_claims, n_outlets):
        pred = np.full(n_claims, -1, dtype=np.int8)
        pred[labels.index.to_numpy()] = labels.to_numpy()
        reliability = np.full(n_outlets, np.nan)
        if name == "OneCoinDawidSkene":
            skills = model.skills_
            reliability[skills.index.to_numpy()] = skills.to_numpy()
        else:
            # errors_: P(observed label | true label) by (worker, observed); one-coin
            # reliability is the mean of the two correct-label probabilities.
            errors = model.errors_
            for truth in (0, 1):
                column = errors[truth].xs(truth, level="label")
                correct = np.full(n_outlets, np.nan)
                correct[column.index.to_numpy()] = column.to_numpy()
                reliability = np.where(
                    np.isnan(reliability), correct / 2, reliability + correct / 2
                )
        return pred, reliability

    return prepare, fit, read


def _import_truthdiscovery():
    """truthdiscovery's algorithms and Dataset, without its package __init__.

    Its __init__ imports the graph-drawing backends (pycairo, imageio), which it pins but
    we do not install (see benchmarks/requirements.txt); the algorithms need numpy, scipy
    and bidict only. So the package is registered as a bare namespace first.
    """
    spec = importlib.util.find_spec("truthdiscovery")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("truthdiscovery is not installed in this environment")
    package = types.ModuleType("truthdiscovery")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules.setdefault("truthdiscovery", package)
    from truthdiscovery.algorithm.pooled_investment import PooledInvestment
    from truthdiscovery.algorithm.truth_finder import TruthFinder
    from truthdiscovery.input.dataset import Dataset
    from truthdiscovery.utils.iterator import ConvergenceIterator, DistanceMeasures

    return PooledInvestment, TruthFinder, Dataset, ConvergenceIterator, DistanceMeasures


def _truthdiscovery(name: str):
    PooledInvestment, TruthFinder, Dataset, ConvergenceIterator, Distances = (
        _import_truthdiscovery()
    )

    def prepare(claim, outlet, label):
        # The Dataset is built from Python triples in pure Python: reported apart (build_s).
        triples = zip(outlet.tolist(), claim.tolist(), label.tolist(), strict=True)
        return Dataset(triples, allow_multiple=True)

    def fit(dataset):
        if name == "TruthFinder":
            # Its default iterator allows a million iterations; bound it (it converges in
            # a handful on these data).
            algorithm = TruthFinder(iterator=ConvergenceIterator(Distances.COSINE, 0.001, 200))
        else:
            algorithm = PooledInvestment()
        return algorithm, algorithm.run(dataset)

    def read(_algorithm, result, n_claims, n_outlets):
        pred = np.full(n_claims, -1, dtype=np.int8)
        for claim, beliefs in result.belief.items():
            pred[claim] = max(beliefs, key=beliefs.get)
        reliability = np.full(n_outlets, np.nan)
        for outlet, trust in result.trust.items():
            reliability[outlet] = trust
        return pred, reliability

    return prepare, fit, read


METHODS = {
    "DawidSkene": lambda: _crowd_kit("DawidSkene"),
    "OneCoinDawidSkene": lambda: _crowd_kit("OneCoinDawidSkene"),
    "PooledInvestment": lambda: _truthdiscovery("PooledInvestment"),
    "TruthFinder": lambda: _truthdiscovery("TruthFinder"),
}


def run(method: str, dataset_path: str, out_path: str, repeat: int = 1, deduplicated=False):
    prepare, fit, read = METHODS[method]()
    data = np.load(dataset_path)
    n_claims, n_outlets = int(data["n_claims"]), int(data["n_outlets"])
    columns = {name: data[name] for name in ("claim", "outlet", "stance")}
    keep = data["deduplicated"] if deduplicated else np.ones(len(columns["claim"]), bool)
    del data

    def from_table(claims=None):
        """The method's input from the table: its rows, labels, and its own structure."""
        rows = keep if claims is None else keep & (columns["claim"] < claims)
        return prepare(*_labels({name: column[rows] for name, column in columns.items()}))

    # Warm-up on a small slice (first calls load code and caches), as for our estimator.
    fit(from_table(WARM_UP_CLAIMS))
    gc.collect()
    prep, times, cpu = [], [], []
    with PeakMemory() as memory:
        started, cpu_started = time.perf_counter(), time.process_time()
        prepared = from_table()
        built = time.perf_counter()
        model, output = fit(prepared)
        prep.append(built - started)
        times.append(time.perf_counter() - built)
        cpu.append(time.process_time() - cpu_started)
    for _ in range(repeat - 1):
        del prepared
        started, cpu_started = time.perf_counter(), time.process_time()
        prepared = from_table()
        built = time.perf_counter()
        fit(prepared)
        prep.append(built - started)
        times.append(time.perf_counter() - built)
        cpu.append(time.process_time() - cpu_started)
    pred, reliability = read(model, output, n_claims, n_outlets)
    np.savez(out_path, pred=pred, reliability=reliability)
    is_truthdiscovery = method in ("PooledInvestment", "TruthFinder")
    return {
        "total_s": statistics.median(p + f for p, f in zip(prep, times, strict=True)),
        # crowd-kit's input is a DataFrame, cheap to make; truthdiscovery's Dataset is
        # built from Python triples and dominates its time.
        "prep_s": statistics.median(prep),
        "fit_s": statistics.median(times),
        "cpu_s": statistics.median(cpu),
        "runs_s": [round(p + f, 3) for p, f in zip(prep, times, strict=True)],
        "peak_mb": memory.peak_mb,
        "input_reports": int(keep.sum()),
        "package": "truthdiscovery 1.0.4" if is_truthdiscovery else "crowd-kit 1.4.2",
    }


if __name__ == "__main__":
    arguments = sys.argv[1:]
    repeat = 1
    if arguments[:1] == ["--repeat"]:
        repeat, arguments = int(arguments[1]), arguments[2:]
    deduplicated = arguments[:1] == ["--deduplicated"]
    arguments = arguments[1:] if deduplicated else arguments
    if len(arguments) != 3 or arguments[0] not in METHODS:
        sys.exit(
            f"usage: peers.py [--repeat N] [--deduplicated] {{{','.join(METHODS)}}} "
            "DATASET.npz OUT.npz"
        )
    print(json.dumps(run(*arguments, repeat=repeat, deduplicated=deduplicated)))
