"""Fitting: our ReliabilityEstimator against crowd-kit and truthdiscovery, same data, one run.

    .venv/bin/python benchmarks/fit.py --reports 1000000 [--json] [--quick]

Two synthetic datasets from :mod:`scoring.synth` (claims = reports / 10, outlets = reports
/ 1,000), generated once and handed to every method through a temporary .npz:

- ``independent``: every report is an outlet's own;
- ``echo``: 30 unreliable outlets per thousand are each copied by 5 others (copies cite the
  original, sometimes via an earlier copy: echo chains), about 16 % of the reports.

No verdicts are given (every method is unsupervised here). Each method fits in its own
process, after a warm-up fit on 2,000 claims, with its peak resident memory sampled
above the level before the first timed fit (input preparation + fit); ``fit_s`` is the
median of ``--repeat`` fits (3) on the prepared input. Metrics are computed here,
the same way for all: ``accuracy`` of the predicted verdict of every claim against the
hidden truth (a claim a method has no opinion on counts as predicted false, the more
common truth), and ``spearman``, the rank correlation of learned and hidden outlet
reliability. ``oracle`` weighs each report by its outlet's hidden reliability: the
ceiling for a method that sees only who said what.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from report import PeakMemory, emit, machine, note, print_table
from scipy.special import logit
from scipy.stats import spearmanr

from scoring.learning import DENIES, SUPPORTS, ReliabilityEstimator, ReportTable
from scoring.synth import generate

HERE = Path(__file__).resolve().parent
PEER_PYTHON = HERE.parent / ".venv-bench" / "bin" / "python"
PEERS = ("DawidSkene", "OneCoinDawidSkene", "PooledInvestment", "TruthFinder")
SCENARIOS = {
    # mean_reports is set so that both datasets have about 10 reports a claim.
    "independent": {"mean_reports": 9.0},
    "echo": {"mean_reports": 7.5, "echo_outlets": 30, "copies_per_echo": 5},
}
WARM_UP_CLAIMS = 2000
TABLE_ARRAYS = ("claim", "outlet", "stance", "attribution", "interested", "cluster", "counted")


def make_dataset(n_reports: int, scenario: str, seed: int, path: Path) -> dict:
    """Generate one scenario and save what the methods see (and the hidden truth)."""
    options = dict(SCENARIOS[scenario])
    per_thousand = options.pop("echo_outlets", 0)
    n_outlets = max(20, n_reports // 1000)
    dataset = generate(
        n_claims=max(100, n_reports // 10),
        n_outlets=n_outlets,
        seed=seed,
        echo_outlets=math.ceil(per_thousand * n_outlets / 1000),
        **options,
    )
    table = dataset.table
    np.savez(
        path,
        **{name: getattr(table, name) for name in TABLE_ARRAYS},
        outlet_kinds=table.outlet_kinds,
        n_claims=table.n_claims,
        n_outlets=len(table.outlet_names),
        truth=dataset.truth,
        hidden_reliability=dataset.outlet_reliability,
        is_copy=dataset.is_copy,
    )
    return {
        "reports": int(table.n_reports),
        "claims": int(table.n_claims),
        "outlets": int(len(table.outlet_names)),
        "copies": int(dataset.is_copy.sum()),
    }


def _table(data, keep_claims: int | None = None) -> ReportTable:
    n_claims = int(data["n_claims"])
    table = ReportTable(
        **{name: data[name] for name in TABLE_ARRAYS},
        claim_keys=np.arange(n_claims).astype(object),
        verdicts=np.full(n_claims, np.nan),  # unsupervised, like the peers
        outlet_names=np.arange(int(data["n_outlets"])).astype(object),
        outlet_kinds=data["outlet_kinds"],
    )
    if keep_claims is not None:
        table = table.select_claims(np.arange(min(keep_claims, n_claims)))
    return table


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def fit_ours(dataset_path: str, out_path: str, repeat: int = 1) -> dict:
    """Worker: fit our estimator in this process (see ``--worker``)."""
    data = np.load(dataset_path, allow_pickle=True)
    ReliabilityEstimator().fit(_table(data, WARM_UP_CLAIMS))
    gc.collect()
    with PeakMemory() as memory:
        started = time.perf_counter()
        table = _table(data)
        built = time.perf_counter()
        model = ReliabilityEstimator().fit(table)
        finished = time.perf_counter()
    times = [finished - built] + [
        timed(lambda: ReliabilityEstimator().fit(table)) for _ in range(repeat - 1)
    ]
    pred = (model.predict_proba(table)[:, 1] > 0.5).astype(np.int8)
    np.savez(out_path, pred=pred, reliability=model.outlet_reliability_)
    return {
        "fit_s": statistics.median(times),
        "fit_runs_s": times,
        "build_s": built - started,
        "peak_mb": memory.peak_mb,
        "iterations": int(model.n_iter_),
    }


def oracle(data) -> tuple[np.ndarray, np.ndarray]:
    """Each report weighted by its outlet's hidden reliability, ±logit(r)."""
    stance = data["stance"]
    sign = np.where(stance == SUPPORTS, 1.0, np.where(stance == DENIES, -1.0, 0.0))
    weight = logit(data["hidden_reliability"])[data["outlet"]] * sign
    total = np.bincount(data["claim"], weights=weight, minlength=int(data["n_claims"]))
    return (total > 0).astype(np.int8), data["hidden_reliability"]


def score(data, pred: np.ndarray, reliability: np.ndarray) -> dict:
    truth = data["truth"]
    known = ~np.isnan(reliability)
    rho = spearmanr(reliability[known], data["hidden_reliability"][known]).statistic
    return {
        "accuracy": float(np.mean((pred == 1) == truth)),
        "spearman": float(rho),
        "no_opinion": int(np.sum(pred < 0)),
    }


def run_worker(command: list[str], timeout: float) -> dict:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish in {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(args, scenario: str, workdir: Path) -> dict:
    dataset_path = workdir / f"{scenario}.npz"
    size = make_dataset(args.reports, scenario, args.seed, dataset_path)
    note(f"{scenario}: {size}", args.json)
    data = np.load(dataset_path, allow_pickle=True)
    results: dict[str, dict] = {}
    repeat = ["--repeat", str(args.repeat)]
    runs = {"ours": [sys.executable, __file__, *repeat, "--worker"]}
    if args.peers and PEER_PYTHON.exists():
        runs.update({p: [str(PEER_PYTHON), str(HERE / "peers.py"), *repeat, p] for p in PEERS})
    elif args.peers:
        note(f"no {PEER_PYTHON}: peers skipped (make bench creates it)", args.json)
    for name, command in runs.items():
        out = workdir / f"{scenario}-{name}.npz"
        result = run_worker([*command, str(dataset_path), str(out)], args.timeout)
        if "error" not in result:
            with np.load(out) as fitted:
                result.update(score(data, fitted["pred"], fitted["reliability"]))
        results[name] = result
        note(f"  {name}: {result}", args.json)
    results["oracle"] = score(data, *oracle(data))
    return {"size": size, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000, help="reports per dataset")
    parser.add_argument("--quick", action="store_true", help="100,000 reports")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=600, help="seconds per method")
    parser.add_argument("--no-peers", dest="peers", action="store_false")
    parser.add_argument(
        "--repeat", type=int, default=3, help="fits per method; the median time is reported"
    )
    parser.add_argument("--worker", nargs=2, metavar=("DATASET", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(fit_ours(*args.worker, repeat=args.repeat)))
        return
    if args.quick:
        args.reports, args.repeat = min(args.reports, 100_000), 1
    with tempfile.TemporaryDirectory(prefix="srs-bench-fit-") as workdir:
        scenarios = {s: compare(args, s, Path(workdir)) for s in SCENARIOS}
    independent = scenarios["independent"]["results"]
    echo = scenarios["echo"]["results"]
    columns = ("fit_s", "build_s", "peak_mb", "accuracy", "spearman")
    for name, scenario in scenarios.items():
        size = scenario["size"]
        print_table(
            f"fit, {name}: {size['reports']:,} reports, {size['claims']:,} claims, "
            f"{size['outlets']:,} outlets, {size['copies']:,} copies",
            scenario["results"],
            columns,
            args.json,
        )

    def with_echo(name: str) -> dict:
        row = {k: v for k, v in independent.get(name, {}).items() if k in (*columns, "error")}
        row["echo"] = {k: v for k, v in echo.get(name, {}).items() if k in (*columns, "error")}
        return row

    ours = with_echo("ours")
    peers = {name: with_echo(name) for name in independent if name != "ours"}
    ds = independent.get("DawidSkene", {})
    if "fit_s" in ds and "fit_s" in ours:
        ours["speedup_vs_dawidskene"] = ds["fit_s"] / ours["fit_s"]
        note(f"\nours is {ours['speedup_vs_dawidskene']:.1f}x faster than DawidSkene", args.json)
    emit(
        {
            "target": "fit",
            "reports": args.reports,
            "datasets": {name: s["size"] for name, s in scenarios.items()},
            "ours": ours,
            "peers": peers,
            "machine": machine(),
        },
        args.json,
    )


if __name__ == "__main__":
    main()
