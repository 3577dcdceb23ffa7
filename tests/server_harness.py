"""A real ``srs serve`` (gunicorn) for the reliability tests, and HTTP clients that fail.

Everything talks to 127.0.0.1 only. The server runs in its own process group so a test
can SIGKILL the master and every worker at once; its access and error logs go to a file
the tests read (for instance to make sure no API key was ever logged).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SRS = str(Path(sys.executable).with_name("srs"))
# High enough that the load never meets them: the limits themselves are tested elsewhere.
UNLIMITED = {
    "SRS_RATE_LIMIT_PER_ADDRESS": "1000000/minute",
    "SRS_RATE_LIMIT_PER_KEY": "1000000/minute",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def srs(database_url: str, *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [SRS, *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return done.stdout


def create_key(database_url: str, scope: str = "admin", name: str = "load test") -> str:
    return srs(database_url, "keys", "create", "--scope", scope, "--name", name).split()[-1]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def call(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    key: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> Response:
    """One request on a fresh connection; raises OSError / HTTPException if it breaks."""
    all_headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    if key:
        all_headers["Authorization"] = f"Bearer {key}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, text)
    finally:
        connection.close()


def send_and_drop(
    port: int, method: str, path: str, body: Any, headers: dict[str, str], *, partial: bool
) -> None:
    """Send a request and hang up without reading the answer (a client that crashed or
    timed out). ``partial`` sends only half the body: the server must store nothing."""
    data = json.dumps(body).encode()
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(data)}"]
    head += ["Content-Type: application/json", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    raw = ("\r\n".join(head) + "\r\n\r\n").encode() + (data[: len(data) // 2] if partial else data)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        # RST rather than FIN: the connection is gone, as when a client process dies.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


@dataclass
class Server:
    """``srs serve`` on a free port against ``database_url``."""

    database_url: str
    log_path: Path
    workers: int = 2
    threads: int = 4
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 90, ready: bool = True) -> Server:
        env = {**os.environ, **UNLIMITED, **self.extra_env, "DATABASE_URL": self.database_url}
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        command = [SRS, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--workers", str(self.workers), "--threads", str(self.threads)]
        self.process = subprocess.Popen(
            command, env=env, stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        probe = "/readyz" if ready else "/healthz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"srs serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                if call(self.port, "GET", probe, timeout=5).status == 200:
                    return self
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"srs serve did not become ready: {self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL the master and every worker (the whole process group) at once."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
