"""Running the app under gunicorn from ``srs serve`` (and ``make run``)."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


class GunicornServer(BaseApplication):
    def __init__(self, database_url: str, options: dict):
        self.database_url = database_url
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        from service.app import create_app

        return create_app({"DATABASE_URL": self.database_url})


def run_gunicorn(
    database_url: str, *, host: str, port: int, workers: int = 2, threads: int = 4
) -> None:
    GunicornServer(
        database_url,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 30,
            "graceful_timeout": 10,
            "accesslog": "-",
        },
    ).run()
