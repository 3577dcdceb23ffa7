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

from report import FIT_COLUMNS, format_value


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(format_value(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


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


def _verdict(target: str, goal: str, measured: float | None, met: bool | None, how: str):
    shown = "not run" if measured is None else f"{measured:.2f}"
    verdict = "-" if met is None else ("yes" if met else "**no**")
    return [target, goal, shown, verdict, how]


def verdicts(results: dict) -> str:
    """Each issue-15 target's verdict as a ratio, every figure from this one run."""
    rows = []
    fit = results.get("fit", {})
    ours, ds = fit.get("ours", {}), fit.get("peers", {}).get("DawidSkene", {})
    speed = ds["total_s"] / ours["total_s"] if "total_s" in ds and "total_s" in ours else None
    rows.append(
        _verdict(
            "2. fitting speed, 1M reports",
            "DawidSkene time / ours >= 3",
            speed,
            None if speed is None else speed >= 3,
            "same parsed table, preparation included",
        )
    )
    if ours.get("peak_mb") is not None:
        mb = ours["peak_mb"]
        rows.append(
            _verdict(
                "2. fitting memory",
                "peak MB above the table / 250 <= 1",
                mb / 250,
                mb <= 250,
                f"{mb:.0f} MB",
            )
        )
    peers = fit.get("peers", {})
    for scenario, pick in (("independent", lambda r: r), ("echo", lambda r: r.get("echo", {}))):
        accuracies = [pick(r).get("accuracy") for r in peers.values()]
        accuracies = [a for a in accuracies if a is not None]
        mine = pick(ours).get("accuracy")
        ratio = mine / max(accuracies) if accuracies and mine is not None else None
        rows.append(
            _verdict(
                f"2. accuracy, {scenario}",
                "ours / best peer row >= 1",
                ratio,
                None if ratio is None else ratio >= 1,
                "de-duplicated peer rows included",
            )
        )
    imp = results.get("import_file", {}).get("ours", {})
    if "wall_s" in imp and imp.get("lines"):
        per_million = imp["wall_s"] * 1_000_000 / imp["lines"]
        rows.append(
            _verdict(
                "3. srs import, 1M lines",
                "wall s / 60 <= 1",
                per_million / 60,
                per_million <= 60,
                f"{imp['wall_s']:.0f} s for {imp['lines']:,} lines",
            )
        )
        rows.append(
            _verdict(
                "3. import memory",
                "peak RSS MB / 250 <= 1",
                imp["peak_rss_mb"] / 250,
                imp["peak_rss_mb"] <= 250,
                f"{imp['peak_rss_mb']:.0f} MB",
            )
        )
    inc = results.get("incremental", {}).get("ours", {})
    new = inc.get("new_claims", {}).get("large_over_small_p50")
    rows.append(
        _verdict(
            "1. a report creating a claim",
            "p50 at the large size / small <= 1.5",
            new,
            None if new is None else new <= 1.5,
            "in process, PostgreSQL",
        )
    )
    api = results.get("api", {}).get("ours", {})
    read = api.get("score_vs_bare")
    rows.append(
        _verdict(
            "4. GET .../score",
            "ours / bare Flask >= 0.5",
            read,
            None if read is None else read >= 0.5,
            "same gunicorn, one run",
        )
    )
    write = api.get("reports_vs_bare_write")
    p99 = api.get("reports", {}).get("p99_ms")
    rows.append(
        _verdict(
            "5. POST /reports",
            "ours / bare INSERT + COMMIT >= 0.33, p99 < 100 ms",
            write,
            None if write is None else write >= 0.33 and (p99 or 1e9) < 100,
            f"p99 {p99:.0f} ms" if p99 is not None else "",
        )
    )
    streams = api.get("score_p99_50_streams_vs_none")
    healthz = api.get("healthz_50_streams", {}).get("p99_ms")
    rows.append(
        _verdict(
            "6. 50 event streams open",
            "score p99 with / without <= 2, /healthz p99 < 100 ms",
            streams,
            None if streams is None else streams <= 2 and (healthz or 1e9) < 100,
            f"/healthz p99 {healthz:.1f} ms" if healthz is not None else "",
        )
    )
    return table(["target (issue 15 item)", "goal", "ratio", "met", "measured"], rows)


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "artifacts/bench")
    results = {}
    for path in sorted(folder.glob("*.json")):
        text = path.read_text().strip()
        if text:
            results[path.stem] = json.loads(text.splitlines()[-1])
    run = folder / "run.txt"
    if run.exists():
        print("## This run\n")
        print(run.read_text().strip() + "\n")
    print("## Verdicts\n")
    print(verdicts(results) + "\n")
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
