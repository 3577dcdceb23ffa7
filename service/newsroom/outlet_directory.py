"""The outlets' names as stored: the index resolution reads, and adding aliases and domains.

The database side of :mod:`service.newsroom.outlet_identity`: it reads the outlets,
outlet_aliases and outlet_domains tables into an :class:`OutletIndex`, and adds an alias
or a domain only when no other outlet answers to it already (an alias may not be another
outlet's name, slug or alias once normalised; a domain belongs to one outlet). The unique
indexes on ``outlet_aliases.normalised`` and ``outlet_domains.domain`` stand guard against
two writers at once. Nothing is committed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Outlet, OutletAlias, OutletDomain
from service.newsroom.outlet_identity import (
    MAX_NAME_LENGTH,
    OutletIndex,
    domain_of,
    normalise_outlet_name,
)
from service.newsroom.outlets import NewOutlet


class OutletNameError(ValueError):
    """An alias or domain that cannot be given to an outlet; ``field`` names which."""

    def __init__(self, field: str, value: str, message: str, owner_id: int | None = None):
        self.field = field
        self.value = value
        self.owner_id = owner_id
        super().__init__(message)


def load_outlet_index(session: Session) -> OutletIndex:
    """Every stored way of naming an outlet (three queries)."""
    return OutletIndex.build(
        outlets=session.execute(select(Outlet.id, Outlet.name, Outlet.slug)),
        aliases=session.execute(
            select(OutletAlias.outlet_id, OutletAlias.alias).order_by(OutletAlias.id)
        ),
        domains=session.execute(select(OutletDomain.outlet_id, OutletDomain.domain)),
    )


def add_alias(session: Session, index: OutletIndex, outlet_id: int, alias: str) -> bool:
    """Give ``outlet_id`` the alias; False if it had it already (in any spelling that
    normalises the same). Raises :class:`OutletNameError` if the alias is empty, too long
    or another outlet's."""
    alias = alias.strip()
    normalised = normalise_outlet_name(alias)
    if not normalised or len(alias) > MAX_NAME_LENGTH:
        message = "An alias needs a letter or a digit, and at most 200 characters."
        raise OutletNameError("alias", alias, message)
    owner = index.owner_of(alias)
    ambiguous = index.ambiguous.get(normalised, set())
    if (owner is not None and owner != outlet_id) or ambiguous - {outlet_id}:
        other = owner if owner is not None else min(ambiguous - {outlet_id})
        raise OutletNameError(
            "alias",
            alias,
            f"{alias!r} already names outlet {other} ({index.names[other]}).",
            owner_id=other,
        )
    stored = session.scalars(
        select(OutletAlias.id).where(OutletAlias.normalised == normalised)
    ).first()
    if stored is not None:
        return False
    session.add(OutletAlias(outlet_id=outlet_id, alias=alias, normalised=normalised))
    index.add_alias(outlet_id, alias)
    return True


def add_domain(session: Session, index: OutletIndex, outlet_id: int, domain: str) -> bool:
    """Give ``outlet_id`` the web domain (a host or a URL: ``www.`` and the rest are
    dropped); False if it had it already. Raises :class:`OutletNameError` if it is not a
    domain or is another outlet's."""
    normal = domain_of(domain)
    if normal is None or "." not in normal:
        raise OutletNameError("domain", domain, f"{domain!r} is not a web domain.")
    owner = index.by_domain.get(normal)
    if owner is not None and owner != outlet_id:
        raise OutletNameError(
            "domain",
            domain,
            f"{normal!r} is already outlet {owner}'s ({index.names[owner]}).",
            owner_id=owner,
        )
    if owner == outlet_id:
        return False
    session.add(OutletDomain(outlet_id=outlet_id, domain=normal))
    index.add_domain(outlet_id, normal)
    return True


@dataclass
class NamesAdded:
    aliases: int = 0
    domains: int = 0


def store_seed_names(session: Session, seeds: Iterable[NewOutlet]) -> NamesAdded:
    """The aliases and domains of seeded outlets (stored already, by name); idempotent."""
    seeds = list(seeds)
    index = load_outlet_index(session)
    added = NamesAdded()
    for seed in seeds:
        outlet_id = index.by_name[seed.name]
        for alias in seed.aliases:
            added.aliases += add_alias(session, index, outlet_id, alias)
        for domain in seed.domains:
            added.domains += add_domain(session, index, outlet_id, domain)
    session.flush()
    return added
