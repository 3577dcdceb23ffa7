"""The figures of one ``make bench`` run as Markdown tables, for BENCHMARKS.md.

    .venv/bin/python benchmarks/summary.py artifacts/bench

Reads the ``--json`` objects the benchmark scripts wrote (fit, import_file, incremental,
api) and prints the tables BENCHMARKS.md holds, with the goal of each target beside the
figure measured, and the machine.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from report import format_value


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(format_value(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


FIT_COLUMNS = (
    "input_reports",
    "total_s",
    "prep_s",
    "fit_s",
    "cpu_s",
    "peak_mb",
    "accuracy",
    "spearman",
)


def reads(method: str) -> str:
    """What a fit row's method reads of the table, so unequal inputs say so in the table."""
    if method == "ours":
        return (
            "every report; claim, outlet, stance, attribution, interested, key, cites, "
            "source; outlet kinds"
        )
    which = "one report per cluster and stance" if "de-duplicated" in method else "every report"
    if method.startswith("hidden-reliability"):
        return f"{which}; claim, outlet, stance; the hidden reliabilities"
    return f"{which}; claim, outlet, stance"


def fit_tables(result: dict) -> str:
    out = []
    names = ["ours", *result["peers"]]
    rows = {name: result["ours"] if name == "ours" else result["peers"][name] for name in names}
    for scenario, pick in (("independent", lambda r: r), ("echo", lambda r: r.get("echo", {}))):
        size = result["datasets"][scenario]
        out.append(
            f"**{scenario}**: {size['reports']:,} reports ({size['deduplicated_reports']:,} "
            f"de-duplicated), {size['claims']:,} claims, {size['outlets']:,} outlets, "
            f"{size['copies']:,} copies\n"
        )
        body = [
            [name, reads(name), *[pick(row).get(k) for k in FIT_COLUMNS]]
            for name, row in rows.items()
        ]
        header = ["method", "reads", "input reports", "total s", "prep s", "fit s", "CPU s"]
        out.append(table([*header, "peak MB", "accuracy", "spearman"], body))
        out.append("")
    return "\n".join(out)


def fit_goals(fit: dict) -> str:
    """The fitting goals of issue 15 against this run's figures."""
    ours, peers = fit["ours"], fit["peers"]
    ds = peers.get("DawidSkene", {})
    if "total_s" not in ds or "total_s" not in ours:
        return ""
    best = {
        scenario: max(
            (pick(row).get("accuracy", 0.0), name)
            for name, row in peers.items()
            if "total_s" in pick(row)
        )
        for scenario, pick in (("independent", lambda r: r), ("echo", lambda r: r["echo"]))
    }
    return (
        f"Goals: at least 3x DawidSkene's speed from the same table (measured "
        f"{ds['total_s'] / ours['total_s']:.2f}x independent, "
        f"{ds['echo']['total_s'] / ours['echo']['total_s']:.2f}x echo; in CPU time "
        f"{ds['cpu_s'] / ours['cpu_s']:.2f}x and "
        f"{ds['echo']['cpu_s'] / ours['echo']['cpu_s']:.2f}x), at most 250 MB above "
        f"the table (measured {ours['peak_mb']:.0f} MB), accuracy at least every peer row's "
        f"(independent {ours['accuracy']:.3f} against the best peer's "
        f"{best['independent'][0]:.3f}, {best['independent'][1]}; echo "
        f"{ours['echo']['accuracy']:.3f} against {best['echo'][0]:.3f}, {best['echo'][1]}). "
        f"Load average at the start: {fit.get('load_average_at_start', '?')}.\n"
    )


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "artifacts/bench")
    results = {}
    for path in sorted(folder.glob("*.json")):
        text = path.read_text().strip()
        if text:
            results[path.stem] = json.loads(text.splitlines()[-1])
    if "fit" in results:
        print("## Fitting\n")
        print(fit_tables(results["fit"]))
        print(fit_goals(results["fit"]))
    if "import_file" in results:
        imp = results["import_file"]
        keys = ("lines", "wall_s", "lines_per_s", "peak_rss_mb", "rss_mb_quarters")
        paths = {"bulk (srs import)": imp["ours"], "--row-by-row": imp["peers"]["row_by_row"]}
        print("## Import\n")
        header = ["path", "lines", "wall s", "lines/s", "peak RSS MB", "RSS MB by quarter"]
        print(table(header, [[name, *[r.get(k) for k in keys]] for name, r in paths.items()]))
        print()
    if "incremental" in results:
        cases = results["incremental"]["ours"]["cases"]
        keys = ("database_reports", "claim_reports", "p50_ms", "p90_ms", "statements")
        print("## Incremental scoring\n")
        header = ["case", "db reports", "claim reports", "p50 ms", "p90 ms", "statements"]
        print(table(header, [[name, *[c[k] for k in keys]] for name, c in cases.items()]))
        print(f"\nEvidence query: `{results['incremental']['ours']['evidence_plan']}`\n")
    if "api" in results:
        api = results["api"]
        keys = ("rps", "p50_ms", "p99_ms", "reports_per_s")
        endpoints = {
            "bare Flask, fixed JSON": api["peers"]["bare_flask"],
            "GET /claims/{id}/score": api["ours"].get("score", {}),
            "bare Flask, one INSERT + COMMIT": api["peers"].get("bare_write", {}),
            "POST /reports": api["ours"].get("reports", {}),
            f"POST /reports:batch ({api['settings']['batch']})": api["ours"].get("batch", {}),
        }
        print("## API\n")
        header = ["endpoint", "requests/s", "p50 ms", "p99 ms", "reports/s"]
        print(table(header, [[name, *[r.get(k) for k in keys]] for name, r in endpoints.items()]))
        if "score_vs_bare" in api["ours"]:
            print(f"\nscore / bare Flask throughput: {api['ours']['score_vs_bare']:.2f}\n")
        if "reports_vs_bare_write" in api["ours"]:
            ratio = api["ours"]["reports_vs_bare_write"]
            print(f"reports / bare INSERT + COMMIT throughput: {ratio:.2f}\n")
    machine = next((r["machine"] for r in results.values() if "machine" in r), None)
    if machine:
        print("## Machine\n")
        print(json.dumps(machine, indent=2))


if __name__ == "__main__":
    main()
