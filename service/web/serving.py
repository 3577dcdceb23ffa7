"""Running the app under gunicorn from ``srs serve`` (and ``make run``), production settings.

The reasoning behind each setting is in the README ("Serving in production"); the figures
behind it are in BENCHMARKS.md. In short: scoring and serialising are CPU-bound Python,
so parallelism comes from processes (one worker per core); each request also waits on
PostgreSQL several times, so a few threads per worker keep the core busy meanwhile.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import secrets
import signal
import tempfile
from collections.abc import Callable
from typing import Any

from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication

from service.web.observability import enable_multiprocess, logging_config, worker_exited

log = logging.getLogger(__name__)

# gunicorn's largest request line (bytes): its default is 4,094.
MAX_REQUEST_LINE = 8190


def shared_secret_key() -> str:
    """``SECRET_KEY`` from the environment, else one made here, once, for every worker.

    Each worker builds its own app; if each drew its own random key, a dashboard session
    signed by one worker would be rejected by the next. A key made here lasts as long as
    the server: set ``SECRET_KEY`` so that sessions survive a restart.
    """
    return os.environ.get("SECRET_KEY") or secrets.token_hex(32)


def _on_starting(server) -> None:
    # A hook, so that the warning goes through the logging gunicorn has just configured.
    if not os.environ.get("SECRET_KEY"):
        log.warning("SECRET_KEY is not set: dashboard sessions end when the server stops")


def _when_ready(server) -> None:
    # The app is loaded (preload_app): move what it allocated out of the collector's reach.
    # Workers fork from here and share those pages instead of copying them as the
    # collector touches them, and no process walks that heap again when it exits, which
    # on a busy host took seconds per process after a stop (Python's final collection).
    gc.freeze()


def _child_exit(server, worker) -> None:
    worker_exited(worker.pid)


def _end_streams_on_stop(worker) -> None:
    """After gunicorn installed the worker's signal handlers: a stop (SIGTERM from a deploy,
    SIGINT from Ctrl-C, SIGQUIT from the master's quick shutdown) first ends the open event
    streams, which would otherwise never finish and get the worker SIGKILLed after
    ``graceful_timeout`` ("Worker was sent SIGKILL! Perhaps out of memory?").

    Ctrl-C also reaches a worker twice: SIGINT from the terminal (the whole process group),
    then SIGQUIT from the master. gunicorn's gthread handler is not reentrant (the second
    call deadlocks on the thread pool's lock until the master kills the worker), so only
    the first of those two is passed on.
    """
    from service.web.api.events import STOPPING

    quitting: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        gunicorns = signal.getsignal(signum)

        def stop(sig, frame, gunicorns=gunicorns):
            STOPPING.set()
            if sig != signal.SIGTERM:
                if quitting:
                    return
                quitting.append(sig)
            if callable(gunicorns):
                gunicorns(sig, frame)

        signal.signal(signum, stop)
    signal.siginterrupt(signal.SIGTERM, False)


def _int_from_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def production_options(
    host: str,
    port: int,
    workers: int | None = None,
    threads: int | None = None,
    log_level: str = "INFO",
    log_format: str = "json",
) -> dict[str, Any]:
    """gunicorn settings for production; ``SRS_WORKERS``/``SRS_THREADS``/… override them."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "bind": f"{host}:{port}",
        # One process per core: the GIL lets one thread of a process run Python at a time.
        "workers": workers or _int_from_env("SRS_WORKERS", max(1, cores or 1)),
        # Threads overlap a request's waits on the database (2 to 14 statements each)
        # with another request's Python; 4 fits SQLAlchemy's pool of 5 per worker.
        "worker_class": "gthread",
        "threads": threads or _int_from_env("SRS_THREADS", 4),
        # A batch of 1,000 reports is the slowest request (a few seconds); a worker
        # silent for 60 s is stuck, not busy. On SIGTERM requests get 10 s to finish:
        # enough for any of them; an event stream (/api/v1/events) never finishes, and
        # waiting longer for it would only delay a deploy (browsers reconnect).
        "timeout": _int_from_env("SRS_WORKER_TIMEOUT", 60),
        "graceful_timeout": 10,
        # Behind a reverse proxy that reuses connections: keep them a little longer than
        # it does not (5 s), so a request never races a closing connection.
        "keepalive": _int_from_env("SRS_KEEPALIVE", 5),
        # The longest request line gunicorn can take (its default is 4,094): above any
        # valid URL of the API (query-string text is at most 500 characters, 6,000 bytes
        # percent-encoded), so a too-long text is the schema's 422; beyond it, 414.
        "limit_request_line": MAX_REQUEST_LINE,
        # Import the app once in the master and fork: workers start in milliseconds and
        # share the code pages. Nothing connects at import time (post_fork drops any
        # pooled connection anyway, since a socket must not be shared across processes).
        "preload_app": True,
        "post_fork": _drop_inherited_connections,
        "post_worker_init": _end_streams_on_stop,
        # Recycle a worker after about 10,000 requests (jittered so they do not all
        # restart together): bounds the growth of per-process caches.
        "max_requests": _int_from_env("SRS_MAX_REQUESTS", 10_000),
        "max_requests_jitter": 1_000,
        # Heartbeat files on tmpfs, not on a container's overlay disk.
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
        # The app logs one JSON access line per request, with its request id.
        "accesslog": None,
        "logconfig_dict": logging_config(log_level, log_format),
        "child_exit": _child_exit,
        "on_starting": _on_starting,
        "when_ready": _when_ready,
        # No gunicornc control socket: nothing uses it, every server on a host would share
        # its one default path, and stopping its thread adds up to 2 s to every stop.
        "control_socket_disable": True,
    }


def write_problem(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own error answers (a request it cannot parse: 400, a request line over
    the limit: 414, too many or too large headers: 431) as problem+json, like every other
    error of the API, instead of its HTML page."""
    body = json.dumps(
        {"type": "about:blank", "title": reason, "status": status_int, "detail": mesg or reason}
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    gunicorn_util.write_nonblock(sock, head.encode("latin-1") + body)


def _drop_inherited_connections(server, _worker) -> None:
    from service.web.database import EXTENSION_KEY

    app = server.app.wsgi()
    database = getattr(app, "extensions", {}).get(EXTENSION_KEY)
    if database is not None:
        database.engine.dispose(close=False)


class GunicornServer(BaseApplication):
    """gunicorn with settings from a mapping and the WSGI app from a factory."""

    def __init__(self, load_app: Callable[[], Any], options: dict[str, Any]):
        self.load_app = load_app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if value is not None:
                self.cfg.set(name, value)

    def load(self):
        return self.load_app()


def run_gunicorn(
    database_url: str,
    *,
    host: str,
    port: int,
    workers: int | None = None,
    threads: int | None = None,
    log_level: str = "INFO",
    log_format: str = "json",
) -> None:
    # Workers share metric values through files; a fresh directory per server run unless
    # the deployment names one (it must then be emptied at start, which this does).
    enable_multiprocess(
        os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="srs-metrics-")
    )
    secret_key = shared_secret_key()

    def load_app():
        from service.web.app import create_app

        return create_app({"DATABASE_URL": database_url, "SECRET_KEY": secret_key})

    options = production_options(host, port, workers, threads, log_level, log_format)
    # gunicorn writes its errors with util.write_error, looked up when it answers: this
    # process and the workers it forks answer them as problem+json.
    gunicorn_util.write_error = write_problem
    GunicornServer(load_app, options).run()
