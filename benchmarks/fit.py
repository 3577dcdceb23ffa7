"""Fitting, as a user runs it: our ReliabilityEstimator against crowd-kit and truthdiscovery,
every method from the same parsed columnar table of the same reports, in one run.

    .venv/bin/python benchmarks/fit.py --reports 1000000 [--json] [--quick]

Two synthetic datasets from :mod:`scoring.synth` (claims = reports / 10, outlets = reports
/ 1,000), generated once and saved as one parsed columnar table (a temporary .npz), the
input of every method:

- ``independent``: every report is an outlet's own;
- ``echo``: 30 unreliable outlets per thousand are each copied by 5 others (copies cite the
  original, sometimes via an earlier copy: echo chains), about 16 % of the reports.

The table (:class:`scoring.learning.tables.ReportColumns`) holds per report the claim, the
outlet and the stance, which every method reads, and the attribution, the interested-party
flag, the report key, the key it cites and the quoted source as written, which only ours
reads (with the outlets' kinds). Repeated strings are dictionary-encoded (claim, outlet,
source codes), as a columnar file stores them; keys and cites are string columns.

Each method runs in its own process: the table is loaded, a warm-up fit runs on 2,000
claims, then ``--repeat`` (3) times the method goes from the table to a fitted model:
``prep_s`` is its own input preparation (ours: provenance clustering, vectorised, in
``ReportTable.from_columns``; crowd-kit: the DataFrame; truthdiscovery: its ``Dataset``),
``fit_s`` the fit, ``total_s`` both, ``cpu_s`` the CPU time of both (all threads; less
at the mercy of a loaded machine than wall time); medians are reported. ``peak_mb`` is the
peak resident memory above the level with the table loaded (the first preparation and
fit).

Each peer also runs on the *de-duplicated* reports: only the first report (by key) of each
provenance cluster and stance, no echo, i.e. one vote per cluster and stance as ours counts
them (the clusters come from ours, computed beforehand and not timed for the peer).

No verdicts are given (every method is unsupervised here). Metrics are computed here, the
same way for all: ``accuracy`` of the predicted verdict of every claim against the hidden
truth (a claim a method has no opinion on counts as predicted false, the more common
truth), and ``spearman``, the rank correlation of learned and hidden outlet reliability.
``hidden-reliability vote`` weighs each report by its outlet's hidden reliability, every
copy a vote: a reference, not a ceiling (it ignores attribution, interested parties and
provenance, which carry information).
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
from numpy.dtypes import StringDType
from report import FIT_COLUMNS as COLUMNS
from report import PeakMemory, emit, machine, note, print_table
from scipy.special import logit
from scipy.stats import spearmanr

from scoring.learning import DENIES, SUPPORTS, ReliabilityEstimator, ReportTable
from scoring.learning.tables import ReportColumns
from scoring.synth import generate
from scoring.vocabulary import OUTLET_KINDS

HERE = Path(__file__).resolve().parent
PEER_PYTHON = HERE.parent / ".venv-bench" / "bin" / "python"
PEERS = ("DawidSkene", "OneCoinDawidSkene", "PooledInvestment", "TruthFinder")
DEDUPLICATED = " (de-duplicated)"
SCENARIOS = {
    # mean_reports is set so that both datasets have about 10 reports a claim.
    "independent": {"mean_reports": 9.0},
    "echo": {"mean_reports": 7.5, "echo_outlets": 30, "copies_per_echo": 5},
}
WARM_UP_CLAIMS = 2000
REPORT_COLUMNS = ("claim", "outlet", "stance", "attribution", "interested", "source")
REFERENCE = "hidden-reliability vote"


def make_dataset(n_reports: int, scenario: str, seed: int, path: Path) -> dict:
    """Generate one scenario and save the parsed table every method reads (and the truth)."""
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
    source_index: dict[str, int] = {}
    source = [
        -1 if s is None else source_index.setdefault(s, len(source_index))
        for s in (dataset.sources.tolist())
    ]
    keys = dataset.report_keys
    cites = np.array([keys[c] if c >= 0 else "" for c in dataset.cites.tolist()], dtype=str)
    columns = ReportColumns(
        **{name: getattr(table, name) for name in REPORT_COLUMNS if name != "source"},
        key=keys.astype(str),
        cites=cites,
        source=np.array(source, dtype=np.int32),
        claim_keys=table.claim_keys,
        verdicts=np.full(table.n_claims, np.nan),  # unsupervised, like the peers
        outlet_names=table.outlet_names,
        source_texts=np.array(list(source_index), dtype=str),
    )
    # The de-duplicated reports the peers also get: one per provenance cluster and stance.
    ours = ReportTable.from_columns(columns)
    assert np.array_equal(ours.cluster, table.cluster) and np.array_equal(ours.echo, table.echo)
    np.savez(
        path,
        **{name: getattr(columns, name) for name in REPORT_COLUMNS},
        key=columns.key,
        cites=columns.cites,
        source_texts=columns.source_texts,
        outlet_kinds=table.outlet_kinds,
        n_claims=table.n_claims,
        n_outlets=len(table.outlet_names),
        deduplicated=one_per_cluster_and_stance(ours),
        truth=dataset.truth,
        hidden_reliability=dataset.outlet_reliability,
        is_copy=dataset.is_copy,
    )
    return {
        "reports": int(table.n_reports),
        "deduplicated_reports": int(one_per_cluster_and_stance(ours).sum()),
        "claims": int(table.n_claims),
        "outlets": int(len(table.outlet_names)),
        "copies": int(dataset.is_copy.sum()),
        "source_texts": len(source_index),
    }


def one_per_cluster_and_stance(table: ReportTable) -> np.ndarray:
    """The first report (by key) of each provenance cluster and stance, echoes left out."""
    rows = np.flatnonzero(~table.echo)
    group = table.cluster[rows].astype(np.int64) * 3 + table.stance[rows]
    order = np.lexsort((table.rank[rows], group))
    first = np.ones(len(order), dtype=bool)
    first[1:] = group[order][1:] != group[order][:-1]
    keep = np.zeros(table.n_reports, dtype=bool)
    keep[rows[order[first]]] = True
    return keep


def load_columns(data, n_claims: int | None = None) -> ReportColumns:
    """The parsed table from the .npz; with ``n_claims``, the reports of the first claims
    (sources re-encoded to the texts they use), for the warm-up."""
    rows = slice(None) if n_claims is None else np.flatnonzero(data["claim"] < n_claims)
    source, texts = data["source"][rows], data["source_texts"]
    if n_claims is not None:
        used, source = np.unique(source, return_inverse=True)
        texts = texts[used[used >= 0]]
        source = np.where(used[source] >= 0, source - int((used < 0).any()), -1)
    claims = int(data["n_claims"]) if n_claims is None else n_claims
    return ReportColumns(
        **{name: data[name][rows] for name in REPORT_COLUMNS if name != "source"},
        key=data["key"][rows].astype(StringDType()),
        cites=data["cites"][rows].astype(StringDType()),
        source=source.astype(np.int32),
        claim_keys=np.arange(claims).astype(object),
        verdicts=np.full(claims, np.nan),
        outlet_names=np.arange(int(data["n_outlets"])).astype(object),
        source_texts=texts.astype(object),
    )


def fit_ours(dataset_path: str, out_path: str, repeat: int = 1) -> dict:
    """Worker: from the parsed table to a fitted model, in this process (``--worker``)."""
    data = np.load(dataset_path)
    kinds = {o: OUTLET_KINDS[k] for o, k in enumerate(data["outlet_kinds"].tolist())}
    small = load_columns(data, WARM_UP_CLAIMS)
    ReliabilityEstimator().fit(ReportTable.from_columns(small, kinds))
    columns = load_columns(data)
    del data, small
    gc.collect()
    prep, fit, cpu = [], [], []
    with PeakMemory() as memory:
        started, cpu_started = time.perf_counter(), time.process_time()
        table = ReportTable.from_columns(columns, kinds)
        built = time.perf_counter()
        model = ReliabilityEstimator().fit(table)
        prep.append(built - started)
        fit.append(time.perf_counter() - built)
        cpu.append(time.process_time() - cpu_started)
    for _ in range(repeat - 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        again = ReportTable.from_columns(columns, kinds)
        built = time.perf_counter()
        ReliabilityEstimator().fit(again)
        prep.append(built - started)
        fit.append(time.perf_counter() - built)
        cpu.append(time.process_time() - cpu_started)
    pred = (model.predict_proba(table)[:, 1] > 0.5).astype(np.int8)
    np.savez(out_path, pred=pred, reliability=model.outlet_reliability_)
    return {
        "total_s": statistics.median(p + f for p, f in zip(prep, fit, strict=True)),
        "prep_s": statistics.median(prep),
        "fit_s": statistics.median(fit),
        "cpu_s": statistics.median(cpu),
        "runs_s": [round(p + f, 3) for p, f in zip(prep, fit, strict=True)],
        "peak_mb": memory.peak_mb,
        "iterations": int(model.n_iter_),
        "input_reports": int(table.n_reports),
    }


def hidden_reliability_vote(data, keep=None) -> tuple[np.ndarray, np.ndarray]:
    """Each report weighted by its outlet's hidden reliability, ±logit(r), copies and all."""
    keep = np.ones(len(data["claim"]), dtype=bool) if keep is None else keep
    stance = data["stance"][keep]
    sign = np.where(stance == SUPPORTS, 1.0, np.where(stance == DENIES, -1.0, 0.0))
    weight = logit(data["hidden_reliability"])[data["outlet"][keep]] * sign
    total = np.bincount(data["claim"][keep], weights=weight, minlength=int(data["n_claims"]))
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
    data = np.load(dataset_path)
    results: dict[str, dict] = {}
    repeat = ["--repeat", str(args.repeat)]
    runs = {"ours": [sys.executable, __file__, *repeat, "--worker"]}
    if args.peers and PEER_PYTHON.exists():
        peer = [str(PEER_PYTHON), str(HERE / "peers.py"), *repeat]
        for name in PEERS:
            runs[name] = [*peer, name]
            runs[name + DEDUPLICATED] = [*peer, "--deduplicated", name]
    elif args.peers:
        note(f"no {PEER_PYTHON}: peers skipped (make bench creates it)", args.json)
    for name, command in runs.items():
        out = workdir / f"{scenario}-{len(results)}.npz"
        result = run_worker([*command, str(dataset_path), str(out)], args.timeout)
        if "error" not in result:
            with np.load(out) as fitted:
                result.update(score(data, fitted["pred"], fitted["reliability"]))
        results[name] = result
        note(f"  {name}: {result}", args.json)
    results[REFERENCE] = score(data, *hidden_reliability_vote(data))
    results[REFERENCE + DEDUPLICATED] = score(
        data, *hidden_reliability_vote(data, data["deduplicated"])
    )
    results[REFERENCE]["input_reports"] = size["reports"]
    results[REFERENCE + DEDUPLICATED]["input_reports"] = size["deduplicated_reports"]
    return {"size": size, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000, help="reports per dataset")
    parser.add_argument("--quick", action="store_true", help="100,000 reports, one run each")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic data")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per method")
    parser.add_argument("--no-peers", dest="peers", action="store_false", help="time ours only")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="preparations and fits per method; the medians are reported",
    )
    parser.add_argument("--worker", nargs=2, metavar=("DATASET", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(fit_ours(*args.worker, repeat=args.repeat)))
        return
    if args.quick:
        args.reports, args.repeat = min(args.reports, 100_000), 1
    load_at_start = machine()["load_average"]
    with tempfile.TemporaryDirectory(prefix="srs-bench-fit-") as workdir:
        scenarios = {s: compare(args, s, Path(workdir)) for s in SCENARIOS}
    independent = scenarios["independent"]["results"]
    echo = scenarios["echo"]["results"]
    for name, scenario in scenarios.items():
        size = scenario["size"]
        print_table(
            f"fit, {name}: {size['reports']:,} reports ({size['deduplicated_reports']:,} "
            f"de-duplicated), {size['claims']:,} claims, {size['outlets']:,} outlets, "
            f"{size['copies']:,} copies",
            scenario["results"],
            COLUMNS,
            args.json,
        )

    def with_echo(name: str) -> dict:
        row = {k: v for k, v in independent.get(name, {}).items() if k in (*COLUMNS, "error")}
        row["echo"] = {k: v for k, v in echo.get(name, {}).items() if k in (*COLUMNS, "error")}
        return row

    ours = with_echo("ours")
    peers = {name: with_echo(name) for name in independent if name != "ours"}
    for scenario, results, row in (
        ("independent", independent, ours),
        ("echo", echo, ours["echo"]),
    ):
        ds = results.get("DawidSkene", {})
        if "total_s" in ds and "total_s" in row:
            row["speedup_vs_dawidskene"] = ds["total_s"] / row["total_s"]
            row["cpu_speedup_vs_dawidskene"] = ds["cpu_s"] / row["cpu_s"]
            note(
                f"{scenario}: ours is {row['speedup_vs_dawidskene']:.2f}x DawidSkene's speed",
                args.json,
            )
    emit(
        {
            "target": "fit",
            "reports": args.reports,
            "repeat": args.repeat,
            "datasets": {name: s["size"] for name, s in scenarios.items()},
            "ours": ours,
            "peers": peers,
            "load_average_at_start": load_at_start,
            "machine": machine(),
        },
        args.json,
    )


if __name__ == "__main__":
    main()
