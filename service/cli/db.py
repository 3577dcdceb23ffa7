"""``srs db``: schema migrations (Alembic) of the database named by ``--database-url``."""

from __future__ import annotations

import click


@click.group()
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
