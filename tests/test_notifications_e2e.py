"""End to end over real HTTP: `srs serve` (gunicorn) and `srs worker` as `make run` starts
them; a subscription made over the API, a report recorded over the API, the webhook it
causes arriving signed, and the same event arriving live on the event stream."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SRS = str(Path(sys.executable).with_name("srs"))
STREAM_SECONDS = 6


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(url, method="GET", body=None, key=None):
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.fixture
def stack(database_url, tmp_path):
    """`srs serve` and `srs worker` on the seed story; yields (base URL, admin key)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SRS_SSE_STREAM_SECONDS": str(STREAM_SECONDS),
        # The test's receiver listens on 127.0.0.1.
        "SRS_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    for command in (["seed"], ["keys", "bootstrap"]):
        done = subprocess.run(
            [SRS, *command], env=env, capture_output=True, text=True, timeout=120, check=True
        )
    key = done.stdout.strip().split()[-1]
    port = _free_port()
    log = (tmp_path / "stack.log").open("w")
    processes = [
        subprocess.Popen(
            [SRS, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        ),
        subprocess.Popen(
            [SRS, "worker", "--poll-interval", "0.2"], env=env, stdout=log, stderr=log
        ),
    ]
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            assert time.monotonic() < deadline, (tmp_path / "stack.log").read_text()
            time.sleep(0.2)
    yield base, key
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        assert process.wait(timeout=30) == 0, (tmp_path / "stack.log").read_text()
    log.close()


def _receiver(secret_box: list[str], arrived: queue.Queue) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            timestamp = self.headers["X-SRS-Timestamp"]
            expected = hmac.new(
                secret_box[0].encode(), timestamp.encode() + b"." + body, hashlib.sha256
            ).hexdigest()
            valid = hmac.compare_digest("sha256=" + expected, self.headers["X-SRS-Signature"])
            arrived.put((json.loads(body), valid))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _read_stream(url: str, key: str, frames: queue.Queue, opened: threading.Event) -> None:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=STREAM_SECONDS + 10) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        opened.set()
        frame: dict[str, str] = {}
        for raw in response:
            line = raw.decode().rstrip("\n")
            if line:
                field, _, value = line.partition(": ")
                frame[field] = value
                continue
            if "data" in frame:
                frames.put((time.monotonic(), frame))
                if frame.get("event") == "claim.score_changed":
                    return
            frame = {}


def test_a_report_reaches_the_webhook_and_the_stream(stack):
    base, key = stack
    arrived: queue.Queue = queue.Queue()
    secret_box: list[str] = []
    receiver = _receiver(secret_box, arrived)
    try:
        hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        status, created = _call(
            f"{base}/api/v1/subscriptions",
            "POST",
            {"url": hook, "filter": {"event_types": ["report.recorded", "claim.score_changed"]}},
            key,
        )
        assert status == 201
        secret_box.append(created["secret"])

        frames: queue.Queue = queue.Queue()
        opened = threading.Event()
        reader = threading.Thread(
            target=_read_stream, args=(f"{base}/api/v1/events", key, frames, opened), daemon=True
        )
        reader.start()
        assert opened.wait(10)
        _, claims = _call(f"{base}/api/v1/claims?page_size=1", key=key)
        posted_at = time.monotonic()
        status, recorded = _call(
            f"{base}/api/v1/reports",
            "POST",
            {"claim_id": claims[0]["id"], "outlet": "Reuters", "stance": "denies"},
            key,
        )
        assert status == 201

        webhooks = [arrived.get(timeout=20) for _ in range(2)]
        assert all(valid for _, valid in webhooks)
        by_type = {event["type"]: event for event, _ in webhooks}
        assert set(by_type) == {"report.recorded", "claim.score_changed"}
        assert by_type["report.recorded"]["data"]["report_id"] == recorded["report"]["id"]
        assert by_type["claim.score_changed"]["data"]["confidence"] == pytest.approx(
            recorded["score"]["confidence"]
        )

        streamed = [frames.get(timeout=STREAM_SECONDS + 5) for _ in range(2)]
        for (at, frame), (event, _) in zip(
            streamed, sorted(webhooks, key=lambda w: w[0]["id"]), strict=True
        ):
            assert json.loads(frame["data"]) == event  # one contract for both
            assert frame["id"] == str(event["id"]) and frame["event"] == event["type"]
            # Streamed as it happened, not buffered until the stream ended.
            assert at - posted_at < STREAM_SECONDS - 1
    finally:
        receiver.shutdown()
        receiver.server_close()
