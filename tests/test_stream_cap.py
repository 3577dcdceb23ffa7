"""Event streams never starve the API: 50 real streams open under `srs serve` (gunicorn,
2 workers x 4 threads), and every probe of /healthz and every score read still answers.

Each stream holds a gunicorn thread, so a worker serves at most its threads less two
(``SRS_SSE_MAX_STREAMS``); past that a stream is refused at once with 503 problem+json and
``Retry-After`` (the dashboard then polls). The bound on each probe (``ANSWER_WITHIN``) is
generous on purpose: it separates "answers" from "hangs" (before the cap, /healthz did not
answer within 30 s with ten streams open); the latencies themselves are measured in
benchmarks/api.py.
"""

from __future__ import annotations

import socket
import time

import pytest
from server_harness import Server, call, srs

STREAMS = 50
ANSWER_WITHIN = 2.0
WORKERS, THREADS = 2, 4
CAP = WORKERS * (THREADS - 2)


def _open_stream(port: int) -> tuple[socket.socket, int, dict[str, str], bytes]:
    """A stream as EventSource opens it; returns the socket (left open), the status, the
    headers and what came after them."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        b"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
    )
    data = b""
    deadline = time.monotonic() + 10
    while b"\r\n\r\n" not in data and time.monotonic() < deadline:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return sock, status, {k.lower(): v for k, v in headers.items()}, rest


@pytest.fixture
def server(database_url, tmp_path):
    srs(database_url, "seed")
    env = {"SRS_OPEN_READS": "true"}
    server = Server(database_url, tmp_path / "server.log", WORKERS, THREADS, extra_env=env)
    yield server.start()
    server.kill()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_fifty_open_streams_leave_probes_and_reads_answering(server):
    claim_id = call(server.port, "GET", "/api/v1/claims").json()[0]["id"]
    opened: list[socket.socket] = []
    statuses = []
    try:
        for _ in range(STREAMS):
            sock, status, headers, rest = _open_stream(server.port)
            opened.append(sock)
            statuses.append(status)
            if status == 200:
                assert headers["content-type"].startswith("text/event-stream")
                # It is streaming: its first frame sets the client's retry hint.
                assert b"retry:" in (rest or sock.recv(4096))
            else:
                assert status == 503, (status, rest)
                assert headers["content-type"] == "application/problem+json"
                assert int(headers["retry-after"]) >= 1
        live = statuses.count(200)
        # Each worker takes at most its cap; which worker accepts which connection is the
        # kernel's choice, so at least one and at most every worker's cap are open.
        assert 1 <= live <= CAP, statuses
        assert statuses.count(503) == STREAMS - live

        # While all of them are open: every probe answers, and quickly.
        for _ in range(20):
            for path in ("/healthz", f"/api/v1/claims/{claim_id}/score"):
                started = time.monotonic()
                answer = call(server.port, "GET", path, timeout=10)
                took = time.monotonic() - started
                assert answer.status == 200 and took < ANSWER_WITHIN, (path, took)
    finally:
        for sock in opened:
            sock.close()

    # Clients that leave give their slots back (seen within a poll, without a write):
    # every worker again takes its full cap.
    deadline = time.monotonic() + 15
    while True:
        again = [_open_stream(server.port) for _ in range(CAP)]
        ok = [status for _, status, _, _ in again].count(200)
        for sock, *_ in again:
            sock.close()
        if ok >= min(live, CAP) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert ok >= live
    errors = [line for line in server.log().splitlines() if '"level": "ERROR"' in line]
    assert not errors, errors
