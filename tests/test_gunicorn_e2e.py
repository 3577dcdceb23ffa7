"""End to end over real HTTP: `srs serve` (gunicorn) on the seed story, as `make run` does."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

SRS = str(Path(sys.executable).with_name("srs"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(url, method="GET", body=None, key=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


@pytest.fixture
def server(database_url):
    env = {**os.environ, "DATABASE_URL": database_url}
    for command in (["seed"], ["keys", "bootstrap"]):
        done = subprocess.run(
            [SRS, *command], env=env, capture_output=True, text=True, timeout=120, check=True
        )
    key = done.stdout.strip().split()[-1]
    port = _free_port()
    process = subprocess.Popen(
        [SRS, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _call(f"{base}/readyz")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"gunicorn did not start: {process.stderr.read()}")
    yield base, key
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def test_record_a_report_and_read_its_score_over_http(server):
    base, key = server
    status, _, claims = _call(f"{base}/api/v1/claims?sort=-confidence", key=key)
    assert status == 200 and len(claims) == 6
    move = next(c for c in claims if c["key"] == "hamas-leadership-moved-to-turkey")
    status, headers, recorded = _call(
        f"{base}/api/v1/reports",
        "POST",
        {
            "claim_id": move["id"],
            "outlet": "Reuters",
            "stance": "supports",
            "attribution": "named_official",
            "source": "a named minister",
        },
        key=key,
    )
    assert status == 201 and headers["Location"].startswith("/api/v1/reports/")
    status, _, score = _call(f"{base}/api/v1/claims/{move['id']}/score", key=key)
    assert status == 200 and score["confidence"] == recorded["score"]["confidence"]
    assert score["confidence"] > move["confidence"] and score["explanation"]
    status, headers, problem = _call(f"{base}/api/v1/claims")
    assert status == 401 and headers["Content-Type"] == "application/problem+json"
