"""Scratch PostgreSQL databases for the benchmarks: created fresh, dropped afterwards."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text

from models.database import normalize_url


class ScratchDatabase:
    """``with ScratchDatabase("srs_bench_x") as url:`` a new, empty database.

    Names must start with ``srs_bench_``: these are the only databases it drops.
    """

    DEFAULT_SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")

    def __init__(self, name: str, server: str = DEFAULT_SERVER, keep: bool = False):
        if not name.startswith("srs_bench_") or not name.replace("_", "").isalnum():
            raise ValueError(f"scratch database names start with srs_bench_: {name!r}")
        self.name = name
        self.server = normalize_url(server.rstrip("/"))
        self.keep = keep

    @property
    def url(self) -> str:
        return f"{self.server}/{self.name}"

    def _admin(self, statement: str) -> None:
        engine = create_engine(f"{self.server}/postgres", isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    def __enter__(self) -> str:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{self.name}"')
        return self.url

    def __exit__(self, *exc) -> None:
        if not self.keep:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
