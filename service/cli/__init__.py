"""The ``srs`` command line: serve, worker, migrate, seed, rescore, keys, import and export.

Every command reads the database from ``DATABASE_URL`` (default: the embedded SQLite file
under ``instance/``), so the same commands drive SQLite and PostgreSQL. One module per area:
:mod:`~service.cli.serve` (serve, worker), :mod:`~service.cli.db` (migrations),
:mod:`~service.cli.data` (seed, import, export, rescore, scores, backup, restore, check),
:mod:`~service.cli.model` (fit, synth, evaluate) and :mod:`~service.cli.keys` (API keys).
The CLI is the outermost room: it may import every other one, and none imports it. The
seed command's module (:mod:`~service.cli.data`) is the only one in the service that
imports ``seeds``.
"""

from __future__ import annotations

import click

from models.database import default_database_url
from service.cli import data, db, keys, model, serve
from service.cli.common import CONTEXT_SETTINGS


@click.group(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--database-url",
    envvar="DATABASE_URL",
    default=None,
    help="Database to use (env DATABASE_URL; default: the embedded SQLite file).",
)
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Source-reliability scoring: how confident to be that a reported claim is true."""
    from models.database import normalize_url

    ctx.obj = {"url": normalize_url(database_url) if database_url else default_database_url()}


for command in (
    serve.serve,
    serve.worker,
    db.db,
    data.seed,
    data.import_,
    data.export,
    data.rescore,
    data.scores,
    data.backup,
    data.restore,
    data.check,
    model.fit,
    model.synth,
    model.evaluate,
    keys.keys,
):
    main.add_command(command)
