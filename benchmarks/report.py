"""What every benchmark script shares: the machine it ran on, peak-memory sampling,
printing a table, and the one JSON object ``--json`` prints.

Standard library only: the peer runner imports it from the benchmark's own environment,
where the service is not installed.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20

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
"""The figures of each method's row in ``fit.py``'s JSON, in the tables' order."""


def resident_mb(pid: int | str = "self") -> float:
    """Resident set size of a process, in MiB (0 when it has gone)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * PAGE_MB
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0


class PeakMemory:
    """Peak resident memory of a process above its level at ``start``, sampled every
    ``interval`` seconds by a thread (so C allocations count too, unlike tracemalloc).

    >>> with PeakMemory() as memory:
    ...     work()
    >>> memory.peak_mb
    """

    def __init__(self, pid: int | str = "self", interval: float = 0.002):
        self.pid = pid
        self.interval = interval
        self.baseline_mb = 0.0
        self.highest_mb = 0.0
        self.samples: list[tuple[float, float]] = []  # (seconds since start, MiB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        started = time.perf_counter()
        while not self._stop.is_set():
            now = resident_mb(self.pid)
            self.highest_mb = max(self.highest_mb, now)
            self.samples.append((time.perf_counter() - started, now))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self.baseline_mb = resident_mb(self.pid)
        self.highest_mb = self.baseline_mb
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.highest_mb = max(self.highest_mb, resident_mb(self.pid))

    @property
    def peak_mb(self) -> float:
        return self.highest_mb - self.baseline_mb


def _first_line(command: Sequence[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else "?"


def machine() -> dict[str, Any]:
    """nproc, CPU model, memory, Python and PostgreSQL versions, and the load average."""
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "postgresql": _first_line(["psql", "--version"]),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def process_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def format_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(
    title: str,
    rows: Mapping[str, Mapping[str, Any]],
    columns: Sequence[str],
    as_json: bool = False,
) -> None:
    """One row per method/case, the given columns, aligned; missing cells print as '-'.

    With ``as_json`` the table goes to stderr, so stdout holds only the JSON object."""
    stream = sys.stderr if as_json else sys.stdout
    width = max([len(name) for name in rows] + [8])
    cells = {name: [format_value(row.get(c)) for c in columns] for name, row in rows.items()}
    widths = [max([len(c)] + [len(cells[n][i]) for n in rows]) for i, c in enumerate(columns)]
    print(f"\n{title}", file=stream)
    header = "  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))
    print(" " * width + "  " + header, file=stream)
    for name, values in cells.items():
        line = "  ".join(v.rjust(w) for v, w in zip(values, widths, strict=True))
        print(name.ljust(width) + "  " + line, file=stream)


def emit(result: Mapping[str, Any], as_json: bool) -> None:
    """``--json``: the result as one JSON object on stdout (tables went to stderr)."""
    if as_json:
        print(json.dumps(result, sort_keys=False), flush=True)


def note(message: str, as_json: bool = False) -> None:
    """Progress and remarks: stderr under ``--json``, stdout otherwise."""
    print(message, file=sys.stderr if as_json else sys.stdout, flush=True)
