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
def server_log(tmp_path) -> Path:
    """The server's stderr (its JSON log), in a file so a busy server never blocks on a pipe."""
    return tmp_path / "server.log"


@pytest.fixture
def server(database_url, server_log):
    env = {**os.environ, "DATABASE_URL": database_url}
    for command in (["seed"], ["keys", "bootstrap"]):
        done = subprocess.run(
            [SRS, *command], env=env, capture_output=True, text=True, timeout=120, check=True
        )
    key = done.stdout.strip().split()[-1]
    port = _free_port()
    log = server_log.open("w")
    process = subprocess.Popen(
        [SRS, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
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
        log.close()
        pytest.fail(f"gunicorn did not start: {server_log.read_text()}")
    yield base, key
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    log.close()


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


def _scrape(base: str) -> dict[tuple[str, tuple], float]:
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_json_logs_request_ids_and_metrics_summed_over_workers(server, server_log):
    base, key = server
    status, _, claims = _call(f"{base}/api/v1/claims", key=key)
    posted = 12
    for index in range(posted):
        request = urllib.request.Request(
            f"{base}/api/v1/reports",
            data=json.dumps(
                {
                    "claim_id": claims[index % len(claims)]["id"],
                    "outlet": "Reuters",
                    "stance": "neutral",
                    "attribution": "official_source",
                }
            ).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {key}",
                "X-Request-ID": f"e2e-{index}",
                # A new connection each time, so both workers answer some of them.
                "Connection": "close",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
            assert response.headers["X-Request-ID"] == f"e2e-{index}"

    samples = _scrape(base)
    assert samples[("srs_reports_recorded_total", ())] == posted
    route = (("endpoint", "/api/v1/reports"), ("method", "POST"), ("status", "201"))
    assert samples[("srs_http_request_duration_seconds_count", route)] == posted
    assert samples[("srs_rescoring_duration_seconds_count", ())] >= posted
    assert samples[("srs_claims", (("status", "open"),))] == len(claims)

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in server_log.read_text().splitlines() if line]
        access = {r["request_id"]: r for r in lines if r.get("logger") == "srs.access"}
        if all(f"e2e-{index}" in access for index in range(posted)):
            break
        time.sleep(0.2)
    first = access["e2e-0"]
    assert first["status"] == 201 and first["method"] == "POST" and first["level"] == "INFO"
    assert first["path"] == "/api/v1/reports" and first["duration_ms"] > 0 and "time" in first
    assert key not in server_log.read_text(), "an API key was logged"
