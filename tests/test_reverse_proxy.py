"""nginx in front of gunicorn, as docker-compose.yml deploys it (deploy/nginx.conf): sixteen
clients that trickle their request in, one header line a second, leave /healthz answering
through it, and the event stream passes through unbuffered.

Threaded gunicorn workers hand a connection to a thread as soon as it is readable, so a
client that sends its headers slowly holds that thread until it is done: sixteen of them
hold every thread of a 2 x 4 server (``test_trickling_clients_hold_gunicorns_threads``
shows it without the proxy). nginx reads whole requests itself and passes on only
complete ones. The same server blocks run here, rewritten to a test gunicorn's port, with
nginx as a non-daemon whose config, logs, pid and temp files live in the test's directory.
nginx is Debian's (``scripts/ensure-nginx`` installs it; ``make test`` and CI run it);
under CI a missing nginx fails the test, elsewhere it is skipped.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from server_harness import Server, call, free_port

ROOT = Path(__file__).resolve().parents[1]
NGINX = "/usr/sbin/nginx"
TRICKLERS = 16
TRICKLE_SECONDS = 8
ANSWER_WITHIN = 2.0


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the reverse-proxy test: {reason}")
    pytest.skip(reason)


def nginx_config(directory: Path, upstream_port: int, listen_port: int) -> Path:
    """deploy/nginx.conf's server blocks, pointed at 127.0.0.1 ports, in a main config
    whose every path is under ``directory``."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server api:8000;" in site and "listen 8000;" in site
    site = site.replace("server api:8000;", f"server 127.0.0.1:{upstream_port};")
    site = site.replace("listen 8000;", f"listen 127.0.0.1:{listen_port};")
    (directory / "site.conf").write_text(site)
    temp = {name: directory / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    # As root, workers would switch to `nobody`, who cannot enter pytest's directories.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    config = directory / "nginx.conf"
    config.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {directory}/nginx.pid;\n"
        f"error_log {directory}/error.log warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"  access_log {directory}/access.log;\n"
        f"  client_body_temp_path {temp['body']};\n  proxy_temp_path {temp['proxy']};\n"
        f"  fastcgi_temp_path {temp['fastcgi']};\n  uwsgi_temp_path {temp['uwsgi']};\n"
        f"  scgi_temp_path {temp['scgi']};\n"
        f"  include {directory}/site.conf;\n"
        "}\n"
    )
    return config


@pytest.fixture
def server(database_url, tmp_path):
    env = {"SRS_OPEN_READS": "true"}
    server = Server(database_url, tmp_path / "server.log", workers=2, threads=4, extra_env=env)
    yield server.start()
    server.kill()


@pytest.fixture
def proxy(server, tmp_path):
    if not os.access(NGINX, os.X_OK):
        _unavailable(f"{NGINX} is missing: scripts/ensure-nginx installs it")
    directory = tmp_path / "nginx"
    directory.mkdir()
    port = free_port()
    config = nginx_config(directory, server.port, port)
    checked = subprocess.run(
        [NGINX, "-t", "-q", "-p", str(directory), "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [NGINX, "-p", str(directory), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (directory / "error.log").read_text()
            try:
                if call(port, "GET", "/healthz", timeout=5).status == 200:
                    break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.2)
        yield port
    finally:
        process.send_signal(signal.SIGQUIT)  # nginx's graceful stop
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    errors = [
        line
        for line in (directory / "error.log").read_text().splitlines()
        if "[emerg]" in line or "[crit]" in line or "[alert]" in line
    ]
    assert not errors, errors


def _probe(port: int) -> float:
    started = time.monotonic()
    answer = call(port, "GET", "/healthz", timeout=10)
    took = time.monotonic() - started
    assert answer.status == 200, answer
    return took


def _trickle_and_probe(port: int) -> list[float | None]:
    """Sixteen clients, each sending its request one header line a second for
    ``TRICKLE_SECONDS``; a /healthz probe (3 s timeout) each second meanwhile. Returns the
    probes' times (None: no answer within 3 s)."""
    clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(TRICKLERS)]
    probes: list[float | None] = []
    try:
        for client in clients:
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for second in range(TRICKLE_SECONDS):
            time.sleep(1)
            for client in clients:
                client.sendall(f"X-Trickle-{second}: one line a second\r\n".encode())
            started = time.monotonic()
            try:
                call(port, "GET", "/healthz", timeout=3)
                probes.append(time.monotonic() - started)
            except (OSError, http.client.HTTPException):
                probes.append(None)
        for client in clients:  # they finish their requests, and are answered
            client.sendall(b"Connection: close\r\n\r\n")
        for client in clients:
            assert client.recv(64).startswith(b"HTTP/1.1 200"), "a trickled request failed"
    finally:
        for client in clients:
            client.close()
    return probes


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sixteen_trickling_clients_leave_healthz_answering_through_nginx(proxy):
    probes = _trickle_and_probe(proxy)
    assert all(took is not None and took < ANSWER_WITHIN for took in probes), probes


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_event_stream_passes_through_unbuffered(proxy):
    with socket.create_connection(("127.0.0.1", proxy), timeout=ANSWER_WITHIN) as stream:
        stream.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        while b"retry:" not in data:  # the stream's first frame, before it ends (60 s)
            chunk = stream.recv(4096)
            assert chunk, data
            data += chunk
    assert data.startswith(b"HTTP/1.1 200") and b"text/event-stream" in data


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_trickling_clients_hold_gunicorns_threads(server):
    """Why the proxy: the same clients straight at gunicorn leave /healthz unanswered."""
    probes = _trickle_and_probe(server.port)
    assert None in probes, probes


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("proxies", "seen"), [(0, "10.0.0.2"), (1, "203.0.113.9")])
def test_the_client_address_is_the_proxys_word_only_when_a_proxy_is_declared(
    database_url, proxies, seen
):
    """Behind nginx every request comes from nginx: SRS_PROXIES=1 (docker-compose.yml)
    makes its X-Forwarded-For the client for the per-address limits and the access log;
    without it the header is a client's claim and is ignored."""
    from flask import request

    from service.web.app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "PROXIES": proxies})
    addresses: list[str | None] = []
    app.before_request(lambda: addresses.append(request.remote_addr))
    app.test_client().get(
        "/healthz",
        headers={"X-Forwarded-For": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert addresses == [seen]
