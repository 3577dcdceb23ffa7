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
