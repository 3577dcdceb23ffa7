"""The ``srs`` command line: serve, migrate, seed, rescore, keys, import and export.

Every command reads the database from ``DATABASE_URL`` (default: the embedded SQLite file
under ``instance/``), so the same commands drive SQLite and PostgreSQL.
"""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from models.database import UnitOfWork, default_database_url, make_engine, make_session_factory
from scoring.interchange import RecordError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _uow(url: str) -> UnitOfWork:
    return UnitOfWork(make_session_factory(make_engine(url)))


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


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


# -- serving ---------------------------------------------------------------------------------
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn workers.")
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per worker.")
@click.pass_obj
def serve(obj: dict, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the API under gunicorn until interrupted."""
    from service.serving import run_gunicorn

    run_gunicorn(obj["url"], host=host, port=port, workers=workers, threads=threads)


# -- database --------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Schema migrations (Alembic)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_obj
def db_upgrade(obj: dict, revision: str) -> None:
    """Apply migrations up to REVISION."""
    from models.migrate import current_revision, upgrade

    upgrade(obj["url"], revision)
    click.echo(f"database at revision {current_revision(obj['url'])}")


@db.command("downgrade")
@click.argument("revision")
@click.pass_obj
def db_downgrade(obj: dict, revision: str) -> None:
    """Revert migrations down to REVISION ('base' removes every table)."""
    from models.migrate import current_revision, downgrade

    downgrade(obj["url"], revision)
    click.echo(f"database at revision {current_revision(obj['url']) or 'base'}")


@db.command("current")
@click.pass_obj
def db_current(obj: dict) -> None:
    """Print the database's current revision."""
    from models.migrate import current_revision

    click.echo(current_revision(obj["url"]) or "base")


# -- data ------------------------------------------------------------------------------------
@main.command()
@click.pass_obj
def seed(obj: dict) -> None:
    """Load the seed story (outlets, claims, reports); running it twice changes nothing."""
    from service.importing import load_seed_story

    try:
        with _uow(obj["url"]) as uow:
            summary = load_seed_story(uow.session)
            uow.commit()
    except RecordError as error:
        _fail(f"seed data: {error}")
    click.echo(
        f"seed story: {summary.outlets_created} outlets, {summary.claims_created} claims, "
        f"{summary.reports_created} reports created; {summary.reports_unchanged} already there"
    )


@main.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--batch-size", default=1000, show_default=True, help="Lines per transaction.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a tty).")
@click.pass_obj
def import_(obj: dict, path: str, batch_size: int, progress: bool | None) -> None:
    """Import reports from a JSON Lines file in the interchange format.

    Streams the file; each batch of lines is stored all or nothing. The first bad line
    stops the import with its line number and field; batches before it stay stored.
    """
    from service.importing import import_file

    show = sys.stderr.isatty() if progress is None else progress
    try:
        summary = import_file(obj["url"], path, batch_size=batch_size, progress=show)
    except RecordError as error:
        _fail(f"{path}: {error}")
    click.echo(
        f"imported {summary.reports_created} reports ({summary.reports_unchanged} already "
        f"there), {summary.claims_created} new claims, {summary.outlets_created} new outlets, "
        f"{summary.verdicts_created} verdicts"
    )


@main.command()
@click.option("--out", "out_path", default="-", help="File to write (default: stdout).")
@click.pass_obj
def export(obj: dict, out_path: str) -> None:
    """Export every live report in the interchange format (JSON Lines), streaming."""
    from scoring.interchange import write_records
    from service.importing import export_records

    with click.open_file(out_path, "w", encoding="utf-8") as stream, _uow(obj["url"]) as uow:
        count = write_records(export_records(uow.session), stream)
    click.echo(f"exported {count} reports", err=True)


@main.command()
@click.pass_obj
def rescore(obj: dict) -> None:
    """Recompute every claim's score from its reports with the active model."""
    from service.importing import rescore_all

    with _uow(obj["url"]) as uow:
        count, changed = rescore_all(uow.session, cause="batch rescore")
        uow.commit()
    click.echo(f"rescored {count} claims; {changed} changed")


@main.command()
@click.option("--explain/--no-explain", default=True, show_default=True,
              help="Print each provenance cluster's contribution and reason.")
@click.pass_obj
def scores(obj: dict, explain: bool) -> None:
    """Print every claim's stored score: confidence, interval, label and explanation."""
    from models import Claim

    with _uow(obj["url"]) as uow:
        for claim in uow.session.scalars(select(Claim).order_by(Claim.id)):
            if claim.confidence is None:
                click.echo(f"{claim.key}: not scored yet")
                continue
            status = "" if claim.status == "open" else f" [{claim.status.replace('_', ' ')}]"
            click.echo(
                f"{claim.key}: {claim.confidence:.2f} ({claim.confidence_lower:.2f}–"
                f"{claim.confidence_upper:.2f}) {claim.label}, grade {claim.grade}, "
                f"{claim.n_reports} reports in {claim.n_clusters} clusters{status}"
            )
            if explain:
                for part in claim.explanation or []:
                    click.echo(
                        f"    {part['log_odds']:+.2f} log-odds ({part['probability_points']:+.1f}"
                        f" pts)  {part['reason']}"
                    )


# -- keys ------------------------------------------------------------------------------------
@main.group()
def keys() -> None:
    """API keys: create, list, revoke."""


@keys.command("create")
@click.option("--scope", type=click.Choice(["read", "write", "verdict", "admin"]), required=True)
@click.option("--name", required=True, help="Who holds the key, e.g. 'newsroom cms'.")
@click.pass_obj
def keys_create(obj: dict, scope: str, name: str) -> None:
    """Create a key and print it once; only its hash is stored."""
    from service.keys import issue_key

    with _uow(obj["url"]) as uow:
        issued = issue_key(uow.session, name, scope)
        uow.commit()
    click.echo(f"key {issued.id} ({issued.scope}, {issued.name}): {issued.key}")
    click.echo("Store it now: it cannot be shown again.", err=True)


@keys.command("bootstrap")
@click.pass_obj
def keys_bootstrap(obj: dict) -> None:
    """Create and print an admin key if no live key exists yet (first start)."""
    from models import ApiKey
    from service.keys import issue_key

    with _uow(obj["url"]) as uow:
        live = uow.session.scalars(select(ApiKey.id).where(ApiKey.revoked_at.is_(None))).first()
        if live is not None:
            click.echo("API keys exist already; create more with 'srs keys create'.")
            return
        issued = issue_key(uow.session, "first admin (make run)", "admin")
        uow.commit()
    click.echo(f"Admin API key (shown once): {issued.key}")


@keys.command("list")
@click.pass_obj
def keys_list(obj: dict) -> None:
    """List keys: id, prefix, scope, name, state (never the keys themselves)."""
    from models import ApiKey

    with _uow(obj["url"]) as uow:
        for row in uow.session.scalars(select(ApiKey).order_by(ApiKey.id)):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "live"
            click.echo(f"{row.id}\t{row.prefix}…\t{row.scope}\t{row.name}\t{state}")


@keys.command("revoke")
@click.argument("key_id", type=int)
@click.pass_obj
def keys_revoke(obj: dict, key_id: int) -> None:
    """Revoke the key with id KEY_ID; requests with it are refused from now on."""
    from service.keys import revoke_key

    with _uow(obj["url"]) as uow:
        row = revoke_key(uow.session, key_id)
        if row is None:
            _fail(f"no key with id {key_id}")
        uow.commit()
    click.echo(f"key {key_id} revoked")


if __name__ == "__main__":  # pragma: no cover
    main()
