"""What every ``srs`` command shares: help options, a unit of work on the command's database,
and failing with a message and exit status 2."""

from __future__ import annotations

import sys

import click

from models.database import UnitOfWork, make_engine, make_session_factory

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def open_uow(url: str) -> UnitOfWork:
    return UnitOfWork(make_session_factory(make_engine(url)))


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)
