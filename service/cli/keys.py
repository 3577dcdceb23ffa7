"""``srs keys``: create, bootstrap, list and revoke API keys (only their hashes are stored)."""

from __future__ import annotations

import click
from sqlalchemy import select

from service.cli.common import fail, open_uow


@click.group()
def keys() -> None:
    """API keys: create, list, revoke."""


@keys.command("create")
@click.option("--scope", type=click.Choice(["read", "write", "verdict", "admin"]), required=True)
@click.option("--name", required=True, help="Who holds the key, e.g. 'newsroom cms'.")
@click.pass_obj
def keys_create(obj: dict, scope: str, name: str) -> None:
    """Create a key and print it once; only its hash is stored."""
    from service.newsroom.keys import issue_key

    with open_uow(obj["url"]) as uow:
        issued = issue_key(uow.session, name, scope)
        uow.commit()
    click.echo(f"key {issued.id} ({issued.scope}, {issued.name}): {issued.key}")
    click.echo("Store it now: it cannot be shown again.", err=True)


@keys.command("bootstrap")
@click.pass_obj
def keys_bootstrap(obj: dict) -> None:
    """Create and print an admin key if no live key exists yet (first start)."""
    from models import ApiKey
    from service.newsroom.keys import issue_key

    with open_uow(obj["url"]) as uow:
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

    with open_uow(obj["url"]) as uow:
        for row in uow.session.scalars(select(ApiKey).order_by(ApiKey.id)):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "live"
            click.echo(f"{row.id}\t{row.prefix}…\t{row.scope}\t{row.name}\t{state}")


@keys.command("revoke")
@click.argument("key_id", type=int)
@click.pass_obj
def keys_revoke(obj: dict, key_id: int) -> None:
    """Revoke the key with id KEY_ID; requests with it are refused from now on."""
    from service.newsroom.keys import revoke_key

    with open_uow(obj["url"]) as uow:
        row = revoke_key(uow.session, key_id)
        if row is None:
            fail(f"no key with id {key_id}")
        uow.commit()
    click.echo(f"key {key_id} revoked")
