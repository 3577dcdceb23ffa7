"""Running the app under gunicorn from ``srs serve`` (and ``make run``)."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile

from gunicorn.app.base import BaseApplication

from service.observability import enable_multiprocess, logging_config, worker_exited

log = logging.getLogger(__name__)


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


class GunicornServer(BaseApplication):
    def __init__(self, database_url: str, options: dict):
        self.database_url = database_url
        self.options = options
        self.secret_key = shared_secret_key()
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        from service.app import create_app

        return create_app({"DATABASE_URL": self.database_url, "SECRET_KEY": self.secret_key})


def _child_exit(server, worker) -> None:
    worker_exited(worker.pid)


def run_gunicorn(
    database_url: str,
    *,
    host: str,
    port: int,
    workers: int = 2,
    threads: int = 4,
    log_level: str = "INFO",
    log_format: str = "json",
) -> None:
    # Workers share metric values through files; a fresh directory per server run unless
    # the deployment names one (it must then be emptied at start, which this does).
    enable_multiprocess(
        os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="srs-metrics-")
    )
    GunicornServer(
        database_url,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 30,
            "graceful_timeout": 10,
            # The app logs one JSON access line per request, with its request id.
            "accesslog": None,
            "logconfig_dict": logging_config(log_level, log_format),
            "child_exit": _child_exit,
            "on_starting": _on_starting,
        },
    ).run()
