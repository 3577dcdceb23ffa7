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
@click.option(
    "--key-file",
    envvar="SRS_ADMIN_KEY_FILE",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the key to this file (mode 600) instead of printing it "
    "(default: SRS_ADMIN_KEY_FILE).",
)
@click.pass_obj
def keys_bootstrap(obj: dict, key_file: str | None) -> None:
    """Create one admin key on a database that has never had one (first start) and print
    it once, or write it to --key-file. Once any key exists, revoked or not, it makes none:
    an operator who revoked every key creates the next with 'srs keys create'."""
    import os

    from models import ApiKey
    from service.newsroom.keys import issue_key

    with open_uow(obj["url"]) as uow:
        made = uow.session.scalars(select(ApiKey.id)).first()
        if made is not None:
            click.echo("API keys exist already; create more with 'srs keys create'.")
            return
        issued = issue_key(uow.session, "first admin (first start)", "admin")
        if key_file:
            # Written before the commit: a key that is stored is never one nobody saw.
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(issued.key + "\n")
        uow.commit()
    if key_file:
        click.echo(f"Admin API key {issued.id} written to {key_file} (shown nowhere else).")
    else:
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
