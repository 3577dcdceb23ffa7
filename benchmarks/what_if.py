"""What "what would change it" costs per claim, next to scoring the claim alone.

    .venv/bin/python benchmarks/what_if.py [--claims 1500] [--repeats 7] [--no-fit] [--json]

Synthetic claims (``srs synth``'s generator, echo chains included) are scored with
``score_claim`` alone and with ``score_with_changes`` (the score and the hypothetical
reports stored with it, what the recorder and the bulk import compute for every touched
claim), under the documented priors and under parameters fitted on the same claims (a fit
of some seconds; ``--no-fit`` skips it). Each case is timed ``--repeats`` times,
alternating, in CPU time of this process (the machine may be shared), and the fastest run
is kept. No database: this is the scoring's own cost; a write adds its queries on top.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

from report import emit, machine, note, print_table

from scoring.attribution import default_parameters
from scoring.deployment import fit_scoring_model
from scoring.engine import score_claim
from scoring.evidence import ModelParameters, ReportEvidence
from scoring.interchange import records_evidence
from scoring.synth import generate
from scoring.what_if import candidate_reports, score_with_changes


def cpu_seconds_per_claim(
    work: Callable[[Sequence[ReportEvidence]], object], claims: list[list[ReportEvidence]]
) -> float:
    started = time.process_time()
    for reports in claims:
        work(reports)
    return (time.process_time() - started) / len(claims)


def measure(params: ModelParameters, claims: list[list[ReportEvidence]], repeats: int) -> dict:
    cases = {
        "score_claim": lambda reports: score_claim(reports, params),
        "score_with_changes": lambda reports: score_with_changes(reports, params),
    }
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(repeats):
        for name, work in cases.items():
            best[name] = min(best[name], cpu_seconds_per_claim(work, claims))
    extra = best["score_with_changes"] - best["score_claim"]
    return {
        "candidates": len(candidate_reports(params)),
        "score_us": 1e6 * best["score_claim"],
        "with_changes_us": 1e6 * best["score_with_changes"],
        "extra_us": 1e6 * extra,
        "extra_share": extra / best["score_claim"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=1500, help="synthetic claims scored")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs of each case")
    parser.add_argument("--no-fit", action="store_true", help="documented priors only")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    dataset = generate(
        args.claims, max(20, args.claims // 25), seed=1, echo_outlets=3, copies_per_echo=3,
        unlabelled_fraction=0.3,
    )  # fmt: skip
    claims = list(records_evidence(dataset.records, dataset.outlet_kinds).values())
    models = {"prior-1": default_parameters()}
    if not args.no_fit:
        note("fitting the model on the synthetic claims", args.json)
        models["fitted"] = fit_scoring_model(dataset.records, outlet_kinds=dataset.outlet_kinds)
    rows = {name: measure(params, claims, args.repeats) for name, params in models.items()}
    reports = sum(map(len, claims)) / len(claims)
    print_table(
        f"CPU time per claim ({len(claims):,} claims, {reports:.1f} reports each on average)",
        rows,
        ["candidates", "score_us", "with_changes_us", "extra_us", "extra_share"],
        args.json,
    )
    emit(
        {
            "target": "what would change it: its cost per claim, next to scoring the claim",
            "ours": rows,
            "peers": {},
            "machine": machine(),
        },
        args.json,
    )


if __name__ == "__main__":
    main()
