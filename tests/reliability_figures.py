"""Where the reliability tests leave their figures: ``artifacts/reliability/NAME.json``.

Each test writes what it sent, which faults it injected, how many records it checked and
how many were lost, so RELIABILITY.md can quote the last run and be refreshed by running
the tests again (``artifacts/`` is not committed).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIGURES_DIR = (
    Path(
        os.environ.get(
            "SRS_RELIABILITY_FIGURES", Path(__file__).resolve().parent.parent / "artifacts"
        )
    )
    / "reliability"
)


def record_figures(name: str, figures: dict[str, Any]) -> Path:
    """Merge ``figures`` into ``NAME.json`` (one key per backend or scenario) and stamp it."""
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    path = FIGURES_DIR / f"{name}.json"
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        stored = {}
    stored.update(figures)
    stored["recorded_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return path


def _load(name: str) -> dict[str, Any]:
    try:
        return json.loads((FIGURES_DIR / f"{name}.json").read_text())
    except (OSError, ValueError):
        return {}


def summary() -> str:
    """The "Last run" table of RELIABILITY.md, from the figures the tests left."""
    rows = []
    fuzz = _load("fuzz")
    for backend, sent in sorted(fuzz.get("sent", {}).items()):
        rows.append(
            (
                f"1. fuzzing ({backend})",
                sent["requests"],
                f"{sent['errors_4xx']} invalid or refused requests (4xx) among them",
                f"{fuzz['operations']} operations × {fuzz['examples_per_operation']} examples",
                f"{sent['server_errors']} server errors",
            )
        )
    writers = _load("concurrency").get("writers")
    if writers:
        faults = writers["faults_injected"]
        rows.append(
            (
                f"2. {writers['clients']} writers × {writers['reports_per_client']} reports",
                writers["requests_sent"],
                f"{sum(faults.values())} connections dropped/half-sent/timed out "
                f"({', '.join(f'{k} {v}' for k, v in sorted(faults.items()))}); "
                f"{writers['replays_of_acknowledged']} repeats of acknowledged requests",
                f"{writers['records_checked']} reports, {writers['claims_recomputed']} claims "
                f"recomputed; {writers['acknowledged']} acknowledged, "
                f"{writers['unacknowledged']} abandoned ({writers['unacknowledged_stored_once']} "
                "of those stored once)",
                f"{writers['lost']} lost, {writers['duplicated']} duplicated "
                f"({writers['seconds']} s)",
            )
        )
    one = _load("concurrency").get("one_claim")
    if one:
        rows.append(
            (
                f"2. {one['threads']} threads on one claim",
                one["requests_sent"],
                f"{one['retractions_accepted'] + one['retractions_refused_409']} retractions "
                f"racing ({one['retractions_refused_409']} refused 409 as already done)",
                f"{one['records_checked']} reports and verdicts, {one['verdicts']} verdicts",
                f"{one['lost_updates']} lost updates",
            )
        )
    crash = _load("crash")
    if crash:
        rows.append(
            (
                "3. SIGKILL mid-load",
                crash["requests_sent"],
                f"{crash['sigkills']} SIGKILLs of master and workers "
                f"(restarts {', '.join(f'{s} s' for s in crash['restart_seconds'])}); "
                f"{crash['connection_faults_injected']} connection faults",
                f"{crash['records_checked']} reports, "
                f"{crash.get('outbox_events_checked', 'no')} outbox events, "
                f"{crash.get('deliveries_checked', 'no')} deliveries",
                f"{crash['lost']} lost, {crash['duplicated']} duplicated, "
                f"{crash['half_written']} half-written",
            )
        )
    outage = _load("outage")
    if outage:
        rows.append(
            (
                "4. PostgreSQL stopped",
                outage["requests_sent"],
                f"{outage['outage_seconds']} s outage (pg_ctl -m immediate); "
                f"{outage['answers_503_with_retry_after']} answers 503 with Retry-After",
                f"{outage['records_checked']} acknowledged writes",
                f"{outage['lost']} lost; recovered {outage['seconds_to_recover']} s after "
                f"restart, {outage['gunicorn_restarts']} gunicorn restarts",
            )
        )
    backup = _load("backup")
    for backend in ("sqlite", "postgresql"):
        if backend in backup:
            figures = backup[backend]
            rows.append(
                (
                    f"6. backup → restore ({backend})",
                    "",
                    "database emptied between backup and restore",
                    f"{figures['rows_compared_after_restore']} rows of every table compared",
                    f"{figures['rows_differing']} differing",
                )
            )
    lines = [
        "| test | requests | faults injected | records checked | lost |",
        "|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    stamps = sorted(
        _load(name).get("recorded_at", "")
        for name in ("fuzz", "concurrency", "crash", "outage", "backup")
    )
    if stamps and stamps[-1]:
        lines.append("")
        lines.append(f"Recorded {stamps[0]} to {stamps[-1]} (UTC).")
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary())
