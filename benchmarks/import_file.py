"""Import: ``srs import`` of a 1,000,000-line file into PostgreSQL, time and memory.

    .venv/bin/python benchmarks/import_file.py [--lines 1000000] [--json] [--quick]

Writes a synthetic interchange file (about 10 reports a claim, a tenth of the claims with
a verdict, echo chains with citations) to a temporary directory, creates a scratch
database ``srs_bench_import`` (``--scratch-name``) on ``--postgres`` (dropped afterwards),
migrates it and runs ``srs import`` as a user would, in its own process, sampling that
process's resident memory. Memory is flat when the resident size late in the import is no
larger than early on; ``cpu_s`` is the importer's own CPU time (on a shared machine the
wall time is also the other processes'). The row-by-row path (``--row-by-row``, what the
API does per request) imports the first ``--row-by-row-lines`` lines into a second
scratch database, for comparison.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from report import PeakMemory, emit, machine, note, print_table
from scratch import ScratchDatabase

from scoring.synth import generate
from scoring.vocabulary import ATTRIBUTIONS, STANCES

SRS = str(Path(sys.executable).with_name("srs"))


def write_file(path: Path, n_lines: int, seed: int = 11, prefix: str = "") -> int:
    """A synthetic interchange file of about ``n_lines`` lines, streamed to disk; claim
    and report keys start with ``prefix`` (so several files can go into one database)."""
    n_outlets = max(20, n_lines // 1000)
    dataset = generate(
        n_claims=max(100, n_lines // 9),  # about 10 reports a claim: a few too many, cut
        n_outlets=n_outlets,
        seed=seed,
        mean_reports=7.5,
        echo_outlets=max(1, 30 * n_outlets // 1000),
        copies_per_echo=5,
        unlabelled_fraction=0.9,
    )
    t = dataset.table
    written = 0
    with open(path, "w", encoding="utf-8") as stream:
        for i in range(min(t.n_reports, n_lines)):
            claim = int(t.claim[i])
            claim_key = prefix + t.claim_keys[claim]
            line = {
                "claim_key": claim_key,
                "claim": f"Synthetic claim {claim_key}",
                "outlet": t.outlet_names[t.outlet[i]],
                "stance": STANCES[t.stance[i]],
                "verdict": None if np.isnan(t.verdicts[claim]) else bool(t.verdicts[claim]),
                "report_key": prefix + dataset.report_keys[i],
                "attribution": ATTRIBUTIONS[t.attribution[i]],
            }
            if dataset.sources[i] is not None:
                line["source"] = dataset.sources[i]
            if t.interested[i]:
                line["interested_party"] = True
            if dataset.cites[i] >= 0:
                line["cites"] = prefix + dataset.report_keys[dataset.cites[i]]
            stream.write(json.dumps(line) + "\n")
            written += 1
    return written


def run_import(url: str, path: Path, extra: list[str], timeout: float) -> dict:
    """``srs import`` in its own process; wall time and its resident memory over time."""
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([SRS, "db", "upgrade"], env=env, check=True, capture_output=True)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        [SRS, "import", str(path), "--no-progress", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with PeakMemory(process.pid, interval=0.1) as memory:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return {"error": f"did not finish in {timeout:.0f} s"}
    wall = time.perf_counter() - started
    # The importer's own CPU seconds: on a shared machine, what wall time does not show.
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = done.ru_utime + done.ru_stime - children.ru_utime - children.ru_stime
    if process.returncode != 0:
        return {"error": (err.strip().splitlines() or ["failed"])[-1][:200]}
    samples = [mb for _, mb in memory.samples if mb > 0]
    quarters = [samples[min(len(samples) - 1, len(samples) * q // 4)] for q in (1, 2, 3)]
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": max(samples, default=0.0),
        "rss_mb_quarters": [round(mb, 1) for mb in (*quarters, samples[-1] if samples else 0)],
        "summary": out.strip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 lines")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--row-by-row-lines", type=int, default=5000)
    parser.add_argument("--postgres", default=ScratchDatabase.DEFAULT_SERVER)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--scratch-name",
        default="srs_bench_import",
        help="scratch database to create and drop (srs_bench_…; the row-by-row one adds "
        "_rows): another name when other runs share the server",
    )
    args = parser.parse_args()
    if args.quick:
        args.lines = min(args.lines, 100_000)
        args.row_by_row_lines = min(args.row_by_row_lines, 2000)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="srs-bench-import-") as workdir:
        path = Path(workdir) / "reports.jsonl"
        started = time.perf_counter()
        lines = write_file(path, args.lines)
        note(f"wrote {lines:,} lines in {time.perf_counter() - started:.1f} s", args.json)
        batch = ["--batch-size", str(args.batch_size)]
        with ScratchDatabase(args.scratch_name, args.postgres) as url:
            results["bulk"] = run_import(url, path, batch, args.timeout)
        small = Path(workdir) / "head.jsonl"
        with open(path) as source, open(small, "w") as head:
            head.writelines(itertools.islice(source, args.row_by_row_lines))
        with ScratchDatabase(f"{args.scratch_name}_rows", args.postgres) as url:
            results["row_by_row"] = run_import(url, small, [*batch, "--row-by-row"], args.timeout)
    results["bulk"]["lines"] = lines
    results["row_by_row"]["lines"] = min(lines, args.row_by_row_lines)
    for row in results.values():
        if "wall_s" in row:
            row["lines_per_s"] = row["lines"] / row["wall_s"]
    print_table(
        f"srs import into PostgreSQL, batches of {args.batch_size:,} lines",
        results,
        ("lines", "wall_s", "cpu_s", "lines_per_s", "peak_rss_mb", "rss_mb_quarters"),
        args.json,
    )
    for name, row in results.items():
        note(f"{name}: {row.get('summary') or row.get('error')}", args.json)
    emit(
        {
            "target": "import",
            "ours": results["bulk"],
            "peers": {"row_by_row": results["row_by_row"]},
            "machine": machine(),
        },
        args.json,
    )


if __name__ == "__main__":
    main()
