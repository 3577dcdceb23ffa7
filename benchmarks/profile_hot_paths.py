"""pyinstrument profiles of the hottest paths, for BENCHMARKS.md.

    .venv/bin/python benchmarks/profile_hot_paths.py [--out artifacts/bench] [--quick]

In this process (Flask test client, no HTTP), on a scratch PostgreSQL database with a
synthetic history: ``GET /api/v1/claims/{id}/score``, ``POST /api/v1/reports`` and the bulk
import of a file. Writes ``profile-<path>.txt`` (pyinstrument's text tree) to ``--out``
and prints the top of each.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from import_file import write_file
from scratch import ScratchDatabase

SRS = str(Path(sys.executable).with_name("srs"))


def profiled(name: str, out: Path, work, interval: float = 0.0005) -> str:
    from pyinstrument import Profiler

    profiler = Profiler(interval=interval)
    profiler.start()
    work()
    profiler.stop()
    text = profiler.output_text(unicode=False, color=False)
    (out / f"profile-{name}.txt").write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="artifacts/bench")
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true", help="accepted for make bench; no-op")
    parser.add_argument("--postgres", default=ScratchDatabase.DEFAULT_SERVER)
    args = parser.parse_args()
    if args.quick:
        args.history, args.requests = 20_000, 100
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="srs-bench-profile-") as tmp,
        ScratchDatabase("srs_bench_profile", args.postgres) as url,
    ):
        env = {**os.environ, "DATABASE_URL": url}
        subprocess.run([SRS, "db", "upgrade"], env=env, check=True, capture_output=True)
        history = Path(tmp) / "history.jsonl"
        write_file(history, args.history)
        subprocess.run(
            [SRS, "import", str(history), "--no-progress"], env=env, check=True, capture_output=True
        )
        from sqlalchemy import func, select

        from models import Claim
        from service.newsroom.keys import issue_key
        from service.operations.importing import import_file
        from service.web.app import create_app
        from service.web.database import database, unit_of_work

        app = create_app(
            {
                "DATABASE_URL": url,
                "RATE_LIMIT_PER_ADDRESS": "10000000/minute",
                "RATE_LIMIT_PER_KEY": "10000000/minute",
            }
        )
        client = app.test_client()
        with unit_of_work(app) as uow:
            headers = {"Authorization": f"Bearer {issue_key(uow.session, 'p', 'admin').key}"}
            n_claims = uow.session.scalar(select(func.max(Claim.id)))
            uow.commit()

        def scores(count=args.requests):
            for _ in range(count):
                claim_id = random.randint(1, n_claims)
                response = client.get(f"/api/v1/claims/{claim_id}/score", headers=headers)
                assert response.status_code == 200

        def reports(count=args.requests):
            for i in range(count):
                body = {
                    "claim_id": random.randint(1, n_claims),
                    "outlet": "outlet-0003",
                    "stance": "supports",
                    "attribution": "anonymous_source",
                    "source": f"profile {i}",
                }
                response = client.post("/api/v1/reports", json=body, headers=headers)
                assert response.status_code == 201, response.get_json()

        more = Path(tmp) / "more.jsonl"
        write_file(more, args.history // 5, seed=5, prefix="p-")
        scores(10), reports(10)  # warm-up: first requests load code and fill caches
        texts = {
            "score": profiled("score", out, scores),
            "record": profiled("record", out, reports),
            "import": profiled("import", out, lambda: import_file(url, str(more), batch_size=5000)),
        }
        database(app).engine.dispose()
    for name, text in texts.items():
        print(f"\n== {name} (full tree in {out}/profile-{name}.txt) ==")
        print("\n".join(text.splitlines()[:45]))


if __name__ == "__main__":
    main()
