"""Incremental scoring: recording one report costs O(reports of its claim), whatever the
size of the database.

    .venv/bin/python benchmarks/incremental.py [--large 1000000] [--json] [--quick]

A scratch PostgreSQL database ``srs_bench_incremental`` gets 1,000 synthetic reports,
then ``POST /api/v1/reports`` (the Flask app in this process, no HTTP: the point is the
request's own cost) records one report on each of up to ``--requests`` claims that have 6
to 10 reports, counting the SQL statements of each request. Then the database grows to
``--large`` reports (bulk import of other claims) and the same request is timed on other
claims of 6 to 10 reports, and on claims of 1 to 3 and of 25 to 60 reports: the time
follows the claim's size, not the database's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from import_file import write_file
from report import emit, machine, note, print_table
from scratch import ScratchDatabase
from sqlalchemy import event, func, select

SRS = str(Path(sys.executable).with_name("srs"))


def import_lines(url: str, path: Path, n: int, prefix: str) -> None:
    write_file(path, n, seed=len(prefix) + 3, prefix=prefix)
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(
        [SRS, "import", str(path), "--no-progress"], env=env, check=True, capture_output=True
    )


def claims_of_size(app, low: int, high: int, prefix: str, count: int) -> list[int]:
    """Up to ``count`` claims with ``low`` to ``high`` live reports, keys from ``prefix``."""
    from models import Claim
    from service.web.database import unit_of_work

    with unit_of_work(app) as uow:
        return list(
            uow.session.scalars(
                select(Claim.id)
                .where(Claim.n_reports.between(low, high), Claim.key.like(f"{prefix}%"))
                .order_by(Claim.id)
                .limit(count)
            )
        )


def time_requests(app, client, headers, claim_ids: list[int]) -> dict:
    """One POST /reports per claim; latency percentiles and statements per request."""
    from service.web.database import database

    statements = []

    def count(*_args):
        statements[-1] += 1

    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", count)
    latencies = []
    try:
        for claim_id in claim_ids:
            body = {
                "claim_id": claim_id,
                "outlet": "Reuters",
                "stance": "supports",
                "attribution": "named_official",
                "source": f"incremental benchmark {claim_id}",
            }
            statements.append(0)
            started = time.perf_counter()
            response = client.post("/api/v1/reports", json=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 201, response.get_json()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return {
        "requests": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p90_ms": statistics.quantiles(latencies, n=10)[-1] if len(latencies) > 1 else None,
        "statements": max(statements) if statements else None,
    }


def evidence_plan(url: str, claim_id: int) -> str:
    from sqlalchemy import create_engine, text

    from models.database import normalize_url

    engine = create_engine(normalize_url(url))
    with engine.connect() as connection:
        plan = connection.execute(
            text(
                "EXPLAIN SELECT reports.id FROM reports WHERE reports.claim_id = :c "
                "AND reports.retracted_at IS NULL ORDER BY reports.claim_id, reports.id"
            ),
            {"c": claim_id},
        ).scalars()
        first = next(iter(plan))
    engine.dispose()
    return first.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1000, help="reports in the small database")
    parser.add_argument("--large", type=int, default=1_000_000, help="reports in the large one")
    parser.add_argument("--requests", type=int, default=50, help="requests per measurement")
    parser.add_argument("--quick", action="store_true", help="a large database of 100,000")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--postgres", default=ScratchDatabase.DEFAULT_SERVER)
    args = parser.parse_args()
    if args.quick:
        args.large, args.requests = min(args.large, 100_000), min(args.requests, 30)
    rows: dict[str, dict] = {}
    with (
        tempfile.TemporaryDirectory(prefix="srs-bench-incremental-") as tmp,
        ScratchDatabase("srs_bench_incremental", args.postgres) as url,
    ):
        env = {**os.environ, "DATABASE_URL": url}
        subprocess.run([SRS, "db", "upgrade"], env=env, check=True, capture_output=True)
        import_lines(url, Path(tmp) / "small.jsonl", args.small, "a-")
        from models import Report
        from service.newsroom.keys import issue_key
        from service.web.app import create_app
        from service.web.database import unit_of_work

        app = create_app(
            {
                "DATABASE_URL": url,
                "RATE_LIMIT_PER_ADDRESS": "1000000/minute",
                "RATE_LIMIT_PER_KEY": "1000000/minute",
            }
        )
        client = app.test_client()
        with unit_of_work(app) as uow:
            headers = {"Authorization": f"Bearer {issue_key(uow.session, 'bench', 'admin').key}"}
            uow.commit()

        def stored() -> int:
            with unit_of_work(app) as uow:
                return uow.session.scalar(select(func.count(Report.id)))

        time_requests(app, client, headers, claims_of_size(app, 1, 99, "a-", 5))  # warm-up
        size = stored()
        rows[f"{size:,} reports, claims of 6-10"] = {
            "database_reports": size,
            "claim_reports": "6-10",
            **time_requests(app, client, headers, claims_of_size(app, 6, 10, "a-", args.requests)),
        }
        note(f"growing the database to {args.large:,} reports", args.json)
        started = time.perf_counter()
        import_lines(url, Path(tmp) / "large.jsonl", args.large - size, "b-")
        note(f"  imported in {time.perf_counter() - started:.0f} s", args.json)
        size = stored()
        for low, high in ((6, 10), (1, 3), (25, 60)):
            claims = claims_of_size(app, low, high, "b-", args.requests)
            if claims:
                rows[f"{size:,} reports, claims of {low}-{high}"] = {
                    "database_reports": size,
                    "claim_reports": f"{low}-{high}",
                    **time_requests(app, client, headers, claims),
                }
        plan = evidence_plan(url, claims_of_size(app, 6, 10, "b-", 1)[0])
        from service.web.database import database

        database(app).engine.dispose()
    print_table(
        "POST /api/v1/reports (in-process), by database size and claim size",
        rows,
        ("database_reports", "claim_reports", "requests", "p50_ms", "p90_ms", "statements"),
        args.json,
    )
    note(f"evidence query plan at {size:,} reports: {plan}", args.json)
    small, *large = rows.values()
    same = next((r for r in large if r["claim_reports"] == small["claim_reports"]), None)
    ratio = same["p50_ms"] / small["p50_ms"] if same else None
    if ratio:
        note(f"p50 at {size:,} reports over p50 at {small['database_reports']:,}: {ratio:.2f}")
    emit(
        {
            "target": "incremental",
            "ours": {"cases": rows, "large_over_small_p50": ratio, "evidence_plan": plan},
            "peers": {},
            "machine": machine(),
        },
        args.json,
    )


if __name__ == "__main__":
    main()
