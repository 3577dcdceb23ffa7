"""Database outage: stop PostgreSQL under load, start it again, and the service recovers.

A private throwaway cluster (tests/private_postgres.py) is stopped with ``pg_ctl -m
immediate`` while threads keep sending writes and reads to ``srs serve``. During the outage
every API request answers 503 problem+json with Retry-After and no internals (no traceback,
no driver or SQL text), ``/readyz`` answers 503 and ``/healthz`` 200. After the cluster is
started again the same gunicorn (never restarted) answers normally within a bounded time,
and every write it acknowledged, before or after, is stored and scored.

Figures go to artifacts/reliability/outage.json (see RELIABILITY.md).
"""

from __future__ import annotations

import http.client
import re
import threading
import time
import uuid

import pytest
from private_postgres import PrivateCluster, unavailable_reason
from reliability_figures import record_figures
from server_harness import Server, call, create_key, srs
from sqlalchemy import func, select

from models import Report
from models.database import UnitOfWork, make_engine, make_session_factory
from service.operations.consistency import check_consistency

OUTAGE_SECONDS = 6
RECOVERY_TIMEOUT = 60
LEAKS = re.compile(r"Traceback|File \"|psycopg|sqlalchemy|OperationalError|SELECT |INSERT ", re.I)

pytestmark = pytest.mark.skipif(
    unavailable_reason() is not None, reason=f"no private PostgreSQL: {unavailable_reason()}"
)


@pytest.fixture
def cluster():
    private = PrivateCluster()
    private.start()
    yield private
    private.destroy()


class Load:
    """Threads that keep writing reports and reading claims, logging every answer."""

    def __init__(self, port: int, key: str, threads: int = 4):
        self.port, self.key = port, key
        self.stop = threading.Event()
        self.answers: list[tuple[float, str, int, dict, str]] = []
        self.acknowledged: dict[str, int] = {}
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(threads)]

    def _run(self, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            marker = f"outage-{n}-{i}"
            try:
                if i % 3:
                    response = call(
                        self.port,
                        "POST",
                        "/api/v1/reports",
                        {
                            "claim_key": f"outage-claim-{i % 5}",
                            "claim": f"Outage claim {i % 5} about a harbour",
                            "outlet": "Reuters",
                            "new_outlet": True,
                            "stance": "supports",
                            "quote": marker,
                        },
                        key=self.key,
                        headers={"Idempotency-Key": uuid.uuid4().hex},
                        timeout=30,
                    )
                    kind = "write"
                else:
                    response = call(self.port, "GET", "/api/v1/claims", key=self.key, timeout=30)
                    kind = "read"
            except (OSError, http.client.HTTPException) as error:
                with self.lock:
                    self.answers.append((time.monotonic(), "error", 0, {}, repr(error)))
                continue
            with self.lock:
                self.answers.append(
                    (time.monotonic(), kind, response.status, response.headers, response.text)
                )
                if kind == "write" and response.status == 201:
                    self.acknowledged[marker] = response.json()["report"]["id"]
            time.sleep(0.02)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def between(self, start: float, end: float):
        with self.lock:
            return [a for a in self.answers if start <= a[0] <= end]


def _probe(port: int, path: str) -> tuple[int, str, dict]:
    response = call(port, "GET", path, timeout=30)
    return response.status, response.text, response.headers


def test_the_service_answers_503_while_postgres_is_down_and_recovers(cluster, tmp_path):
    srs(cluster.url, "db", "upgrade")
    key = create_key(cluster.url)
    server = Server(cluster.url, tmp_path / "gunicorn.log").start()
    try:
        with Load(server.port, key) as load:
            time.sleep(3)
            healthy_until = time.monotonic()
            cluster.stop("immediate")
            down_at = time.monotonic()
            # In-flight requests may still fail while the pool notices; from here on the
            # database is gone for every new request.
            time.sleep(1)
            probes = []
            outage_end = down_at + OUTAGE_SECONDS
            while time.monotonic() < outage_end:
                probes.append(("/readyz", *_probe(server.port, "/readyz")))
                probes.append(("/healthz", *_probe(server.port, "/healthz")))
                time.sleep(0.5)
            outage = load.between(down_at + 1, time.monotonic())
            cluster.start()
            up_at = time.monotonic()
            recovered_at = None
            while time.monotonic() < up_at + RECOVERY_TIMEOUT:
                recent = load.between(time.monotonic() - 1.0, time.monotonic())
                writes_ok = [a for a in recent if a[1] == "write" and a[2] == 201]
                if writes_ok and _probe(server.port, "/readyz")[0] == 200:
                    recovered_at = time.monotonic()
                    break
                time.sleep(0.25)
            time.sleep(2)  # some load on the recovered database
            assert server.process is not None and server.process.poll() is None
        before = load.between(0, healthy_until)
    finally:
        server.stop()

    assert recovered_at is not None, f"no recovery within {RECOVERY_TIMEOUT} s"
    # Not one 500 in the whole run, the moment of the crash included.
    statuses = {a[2] for a in load.answers if a[1] != "error"}
    assert statuses <= {200, 201, 503}, statuses
    assert before and all(a[2] in (200, 201) for a in before)
    # During the outage: 503 problem+json with Retry-After, nothing leaked.
    api_answers = [a for a in outage if a[1] != "error"]
    assert api_answers, "the load sent nothing during the outage"
    for _, kind, status, headers, text in api_answers:
        assert status == 503, (kind, status, text[:300])
        assert headers["content-type"].startswith("application/problem+json")
        assert int(headers["retry-after"]) > 0
        assert not LEAKS.search(text), text[:500]
    assert not [a for a in outage if a[1] == "error"], "connections failed instead of a 503"
    for path, status, text, headers in probes:
        if path == "/readyz":
            assert status == 503 and int(headers["retry-after"]) > 0
            assert not LEAKS.search(text)
        else:
            assert status == 200
    # Every acknowledged write, before and after the outage, is stored and scored.
    engine = make_engine(cluster.url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            stored = dict(
                uow.session.execute(
                    select(Report.quote, func.min(Report.id)).group_by(Report.quote)
                ).all()
            )
            consistency = check_consistency(uow.session)
    finally:
        engine.dispose()
    missing = [m for m, i in load.acknowledged.items() if stored.get(m) != i]
    assert not missing
    assert consistency.ok, consistency.findings[:5]

    record_figures(
        "outage",
        {
            "requests_sent": len(load.answers) + 2 * len(probes),
            "outage_seconds": OUTAGE_SECONDS,
            "answers_during_outage": len(api_answers),
            "answers_503_with_retry_after": sum(1 for a in api_answers if a[2] == 503),
            "probes_during_outage": len(probes),
            "seconds_to_recover": round(recovered_at - up_at, 1),
            "acknowledged_writes": len(load.acknowledged),
            "records_checked": len(stored),
            "lost": len(missing),
            "gunicorn_restarts": 0,
        },
    )
