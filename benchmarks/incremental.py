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

The new-claim case: claims are bulk-inserted until ``--claims-small`` (1,000) and then
``--claims-large`` (100,000) are stored, and at each size ``POST /api/v1/reports`` records
a report of a claim that does not exist yet (created, scored, and searched for similar
claims for the warning). Goal: p50 at the larger size within 1.5x of the smaller.
``--new-claims-only`` skips the report import.
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
from sqlalchemy import event, func, select, text

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


def time_requests(app, client, headers, claim_ids: list[int], outlet: str = "Reuters") -> dict:
    """One POST /reports per claim; latency percentiles and statements per request. A
    second call on the same claims needs another ``outlet``: the same outlet's report of a
    claim again is a duplicate (200), not a new report."""
    return time_posts(
        app,
        client,
        headers,
        [
            {
                "claim_id": claim_id,
                "outlet": outlet,
                # Unknown names are refused; the warm-up creates it, later reports find it.
                "new_outlet": True,
                "stance": "supports",
                "attribution": "named_official",
                "source": f"incremental benchmark {claim_id}",
            }
            for claim_id in claim_ids
        ],
    )


def time_posts(app, client, headers, bodies: list[dict]) -> dict:
    """One POST /reports per body; latency percentiles and statements per request."""
    from service.web.database import database

    statements = []

    def count(*_args):
        statements[-1] += 1

    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", count)
    latencies = []
    warned = 0
    try:
        for body in bodies:
            statements.append(0)
            started = time.perf_counter()
            response = client.post("/api/v1/reports", json=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 201, response.get_json()
            warned += bool(response.get_json()["warnings"])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return {
        "requests": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p90_ms": statistics.quantiles(latencies, n=10)[-1] if len(latencies) > 1 else None,
        "statements": max(statements) if statements else None,
        "warned": warned,
    }


# Synthetic claim texts: varied enough that the similar-claims index sees a newsroom's
# spread of vocabulary (shared function words, rarer names and numbers).
SUBJECTS = [
    "The minister",
    "Police",
    "The central bank",
    "A federal court",
    "The football club",
    "Regulators",
    "The mayor",
    "Rebel forces",
    "The national airline",
    "Scientists",
    "The dockworkers' union",
    "Voters",
    "The prime minister",
    "Health officials",
    "The army",
    "Protesters",
    "The oil company",
    "The senate",
]
VERBS = [
    "announced",
    "denied",
    "approved",
    "rejected",
    "postponed",
    "confirmed",
    "suspended",
    "investigated",
]
OBJECTS = [
    "a new tax on imports",
    "the merger talks",
    "a ceasefire",
    "the player's transfer",
    "an emergency loan",
    "the election result",
    "a vaccine trial",
    "the port strike",
    "a drought plan",
    "the pension reform",
    "a border closure",
    "the bridge contract",
    "a fuel subsidy",
    "the curfew",
]
PLACES = [
    f"{p} in {c}"
    for p in ("on Monday", "after talks", "before the vote", "overnight", "near the border")
    for c in [
        "Lagos",
        "Lima",
        "Oslo",
        "Hanoi",
        "Quito",
        "Tunis",
        "Perth",
        "Riga",
        "Dakar",
        "Accra",
        "Lyon",
        "Porto",
        "Cebu",
        "Baku",
        "Kazan",
        "Graz",
        "Bergen",
        "Busan",
        "Cusco",
        "Galway",
    ]
]


def claim_text(n: int) -> str:
    import random

    rng = random.Random(n)
    return (
        f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
        f"{rng.choice(PLACES)}, {rng.randint(2, 900)} people affected (item {n})"
    )


def bulk_claims(app, up_to: int) -> int:
    """Insert claims (no reports) until ``up_to`` are stored; the stored count."""
    from sqlalchemy import insert

    from models import Claim
    from models.base import utcnow
    from service.web.database import unit_of_work

    with unit_of_work(app) as uow:
        stored = uow.session.scalar(select(func.count(Claim.id)))
        first = (uow.session.scalar(select(func.max(Claim.id))) or 0) + 1
        now = utcnow()
        for start in range(first, first + max(0, up_to - stored), 10_000):
            stop = min(start + 10_000, first + up_to - stored)
            uow.session.execute(
                insert(Claim),
                [
                    {
                        "key": f"bulk-{n}",
                        "text": claim_text(n),
                        "status": "open",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(start, stop)
                ],
            )
        uow.commit()
        if uow.session.get_bind().dialect.name == "postgresql":
            # As autovacuum would soon after a bulk insert: plans from fresh statistics,
            # so that the timing is of the steady state, not of a planner that thinks
            # the table is still small.
            uow.session.execute(text("ANALYZE"))
            uow.commit()
        return uow.session.scalar(select(func.count(Claim.id)))


def time_new_claims(app, client, headers, count: int, offset: int) -> dict:
    """One POST /reports per new claim (created, scored, searched for similar claims)."""
    from service.newsroom.similarity import wait_for_builds

    def body(n: int) -> dict:
        return {
            "claim_key": f"new-{offset + n}",
            "claim": claim_text(10_000_000 + offset + n),
            "outlet": "Reuters",
            "new_outlet": True,
            "stance": "supports",
            "attribution": "named_official",
        }

    # Warm-up: the first search catches the index up with the bulk insert and may start a
    # background build; wait for it, so the timing is of the steady state.
    time_posts(app, client, headers, [body(-1)])
    wait_for_builds(600)
    time_posts(app, client, headers, [body(-2)])
    return time_posts(app, client, headers, [body(n) for n in range(count)])


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
    parser.add_argument("--claims-small", type=int, default=1000, help="claims, new-claim case")
    parser.add_argument("--claims-large", type=int, default=100_000, help="and the larger")
    parser.add_argument(
        "--new-claims-only", action="store_true", help="only the new-claim case (no import)"
    )
    parser.add_argument("--postgres", default=ScratchDatabase.DEFAULT_SERVER)
    args = parser.parse_args()
    if args.quick:
        args.large, args.requests = min(args.large, 100_000), min(args.requests, 30)
    rows: dict[str, dict] = {}
    new_rows: dict[str, dict] = {}
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

        warm_up = claims_of_size(app, 1, 99, "a-", 5)
        time_requests(app, client, headers, warm_up, outlet="Warm-up wire")
        for target in (args.claims_small, args.claims_large):
            note(f"new claims at {target:,} stored claims", args.json)
            claims = bulk_claims(app, target)
            new_rows[f"{claims:,} claims, a new claim"] = {
                "database_claims": claims,
                **time_new_claims(app, client, headers, args.requests, offset=claims),
            }
        if args.new_claims_only:
            plan = None
            from service.web.database import database

            database(app).engine.dispose()
            return report_new_claims(new_rows, args)
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
    new_claims = report_new_claims(new_rows, args, emit_it=False)
    small, *large = rows.values()
    same = next((r for r in large if r["claim_reports"] == small["claim_reports"]), None)
    ratio = same["p50_ms"] / small["p50_ms"] if same else None
    if ratio:
        note(f"p50 at {size:,} reports over p50 at {small['database_reports']:,}: {ratio:.2f}")
    emit(
        {
            "target": "incremental",
            "ours": {
                "cases": rows,
                "large_over_small_p50": ratio,
                "evidence_plan": plan,
                "new_claims": new_claims,
            },
            "peers": {},
            "machine": machine(),
        },
        args.json,
    )


def report_new_claims(new_rows: dict, args, emit_it: bool = True) -> dict:
    print_table(
        "POST /api/v1/reports of a new claim (in-process), by stored claims",
        new_rows,
        ("database_claims", "requests", "p50_ms", "p90_ms", "statements", "warned"),
        args.json,
    )
    small, large = new_rows.values()
    ratio = large["p50_ms"] / small["p50_ms"]
    note(
        f"new claim: p50 at {large['database_claims']:,} claims over p50 at "
        f"{small['database_claims']:,}: {ratio:.2f} (goal: at most 1.5)",
        args.json,
    )
    result = {"cases": new_rows, "large_over_small_p50": ratio}
    if emit_it:
        emit(
            {"target": "incremental_new_claims", "ours": result, "peers": {}, "machine": machine()},
            args.json,
        )
    return result


if __name__ == "__main__":
    main()
