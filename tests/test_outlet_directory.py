"""Aliases and domains as stored: one name, one domain, one outlet (issue 14, item 1)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Outlet, OutletAlias, OutletDomain
from service.newsroom.outlet_directory import (
    OutletNameError,
    add_alias,
    add_domain,
    load_outlet_index,
)
from service.newsroom.outlet_identity import resolve_outlet


@pytest.fixture
def outlets(uow):
    reuters = Outlet(name="Reuters", slug="reuters", kind="wire_agency", prior_reliability=0.85)
    kan = Outlet(name="Kan", slug="kan", kind="public_broadcaster", prior_reliability=0.75)
    uow.session.add_all([reuters, kan])
    uow.session.flush()
    return reuters.id, kan.id


def test_an_alias_and_a_domain_are_added_once(uow, outlets):
    reuters, _ = outlets
    index = load_outlet_index(uow.session)
    assert add_alias(uow.session, index, reuters, " Reuters News Agency ")
    assert not add_alias(uow.session, index, reuters, "REUTERS NEWS AGENCY.")
    assert add_domain(uow.session, index, reuters, "https://www.Reuters.com/world/")
    assert not add_domain(uow.session, index, reuters, "reuters.com")
    uow.commit()
    (alias,) = uow.session.scalars(select(OutletAlias)).all()
    assert (alias.alias, alias.normalised) == ("Reuters News Agency", "reuters news agency")
    assert uow.session.scalars(select(OutletDomain.domain)).all() == ["reuters.com"]
    fresh = load_outlet_index(uow.session)
    assert resolve_outlet("reuters news agency", None, fresh).outlet_id == reuters
    assert resolve_outlet("Reuter", "http://reuters.com/x", fresh).outlet_id == reuters


@pytest.mark.parametrize("alias", ["Kan", "kan.", "KAN"])
def test_another_outlets_name_or_slug_is_not_an_alias(uow, outlets, alias):
    reuters, kan = outlets
    index = load_outlet_index(uow.session)
    with pytest.raises(OutletNameError) as raised:
        add_alias(uow.session, index, reuters, alias)
    assert (raised.value.field, raised.value.owner_id) == ("alias", kan)


def test_another_outlets_alias_is_not_an_alias(uow, outlets):
    reuters, kan = outlets
    index = load_outlet_index(uow.session)
    add_alias(uow.session, index, kan, "Kan 11")
    with pytest.raises(OutletNameError) as raised:
        add_alias(uow.session, index, reuters, "kan-11")
    assert raised.value.owner_id == kan
    # Its own name is no conflict.
    assert add_alias(uow.session, index, kan, "Kan 11 News")


@pytest.mark.parametrize("alias", ["", "  ", "...", "x" * 201])
def test_an_empty_or_overlong_alias_is_refused(uow, outlets, alias):
    index = load_outlet_index(uow.session)
    with pytest.raises(OutletNameError):
        add_alias(uow.session, index, outlets[0], alias)


@pytest.mark.parametrize("domain", ["", "localhost", "mailto:desk@reuters.com"])
def test_what_is_not_a_domain_is_refused(uow, outlets, domain):
    index = load_outlet_index(uow.session)
    with pytest.raises(OutletNameError) as raised:
        add_domain(uow.session, index, outlets[0], domain)
    assert raised.value.field == "domain"


def test_a_domain_belongs_to_one_outlet(uow, outlets):
    reuters, kan = outlets
    index = load_outlet_index(uow.session)
    add_domain(uow.session, index, kan, "kan.org.il")
    with pytest.raises(OutletNameError) as raised:
        add_domain(uow.session, index, reuters, "www.kan.org.il")
    assert raised.value.owner_id == kan
