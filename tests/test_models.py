"""The database itself refuses bad rows, on every backend: enums, foreign keys, keys."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError, StatementError

from models import Claim, Outlet, OutletAlias, OutletDomain, Report, Verdict, tables
from scoring import vocabulary


def _outlet(session, name="Reuters", slug="reuters") -> Outlet:
    outlet = Outlet(name=name, slug=slug, kind="wire_agency", prior_reliability=0.85)
    session.add(outlet)
    session.flush()
    return outlet


def _claim(session, key="c-1") -> Claim:
    claim = Claim(key=key, text="Something happened")
    session.add(claim)
    session.flush()
    return claim


def test_vocabularies_match_the_interchange_format():
    assert tables.STANCES == vocabulary.STANCES
    assert tables.ATTRIBUTIONS == vocabulary.ATTRIBUTIONS
    assert tables.OUTLET_KINDS == vocabulary.OUTLET_KINDS
    assert tables.CLAIM_STATUSES == vocabulary.CLAIM_STATUSES


def test_a_valid_report_is_stored(uow):
    outlet, claim = _outlet(uow.session), _claim(uow.session)
    uow.session.add(Report(key="r-1", claim_id=claim.id, outlet_id=outlet.id, stance="supports"))
    uow.commit()
    stored = uow.session.get(Report, 1)
    assert stored.attribution == "unattributed" and stored.interested_party is False


@pytest.mark.parametrize(
    "column, value",
    [("stance", "maybe"), ("attribution", "a little bird"), ("interested_party", None)],
)
def test_the_database_refuses_a_bad_report_value(uow, column, value):
    outlet, claim = _outlet(uow.session), _claim(uow.session)
    uow.commit()
    row = {
        "key": "r-1",
        "claim_id": claim.id,
        "outlet_id": outlet.id,
        "stance": "supports",
        "attribution": "unattributed",
        "interested_party": False,
        "created_at": claim.created_at,
        column: value,
    }
    # Raw SQL past the ORM's own enum check: the constraint must be in the database.
    columns = ", ".join(row)
    params = ", ".join(f":{name}" for name in row)
    with pytest.raises(IntegrityError):
        uow.session.execute(text(f"INSERT INTO reports ({columns}) VALUES ({params})"), row)
        uow.session.flush()


def test_the_orm_refuses_an_unknown_stance_before_sending_it(uow):
    outlet, claim = _outlet(uow.session), _claim(uow.session)
    with pytest.raises(StatementError):
        uow.session.execute(
            insert(Report).values(
                key="r",
                claim_id=claim.id,
                outlet_id=outlet.id,
                stance="maybe",
                attribution="unattributed",
                interested_party=False,
            )
        )


def test_a_dangling_foreign_key_is_refused(uow):
    outlet = _outlet(uow.session)
    uow.session.add(Report(key="r-1", claim_id=999, outlet_id=outlet.id, stance="supports"))
    with pytest.raises(IntegrityError):
        uow.session.flush()


@pytest.mark.parametrize(
    "make",
    [
        lambda s: (_claim(s, "same"), _claim(s, "same")),
        lambda s: (_outlet(s, "A", "same"), _outlet(s, "B", "same")),
        lambda s: (_outlet(s, "Same", "a"), _outlet(s, "Same", "b")),
    ],
)
def test_duplicate_keys_are_refused(uow, make):
    with pytest.raises(IntegrityError):
        make(uow.session)


def test_reliability_outside_zero_one_is_refused(uow):
    uow.session.add(Outlet(name="X", slug="x", kind="independent", prior_reliability=1.5))
    with pytest.raises(IntegrityError):
        uow.session.flush()


def test_bad_outlet_kind_and_claim_status_are_refused(uow):
    with pytest.raises(IntegrityError):
        uow.session.execute(
            text(
                "INSERT INTO claims (key, text, status, created_at, updated_at, n_reports, "
                "n_clusters) VALUES ('k', 't', 'probably', CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP, 0, 0)"
            )
        )


def test_a_claim_needs_its_text(uow):
    uow.session.add(Claim(key="k", text=None))
    with pytest.raises(IntegrityError):
        uow.session.flush()


# -- migration 0004: outlet identity, report identity, verdict replacement --------------------
def test_an_unvetted_outlet_may_have_no_prior_and_new_flags_default_sensibly(uow):
    outlet = Outlet(name="Reuter", slug="reuter", kind="independent", vetted=False)
    uow.session.add(outlet)
    claim = _claim(uow.session)
    uow.session.flush()
    report = Report(key="r-1", claim_id=claim.id, outlet_id=outlet.id, stance="supports")
    verdict = Verdict(claim_id=claim.id, verdict=True, resolved_by="test")
    uow.session.add_all([report, verdict])
    uow.commit()
    assert outlet.prior_reliability is None and outlet.vetted is False
    assert report.cites_inferred is False and report.independent is False
    assert verdict.replaces_verdict is False
    assert _outlet(uow.session, "Kan", "kan").vetted is True


def test_rows_written_without_the_new_columns_get_their_server_defaults(uow):
    """COPY in the bulk import and restores of older backups name only the old columns."""
    outlet, claim = _outlet(uow.session), _claim(uow.session)
    uow.commit()
    uow.session.execute(
        text(
            "INSERT INTO reports (key, claim_id, outlet_id, stance, attribution, "
            "interested_party, created_at) VALUES ('r-1', :claim, :outlet, 'supports', "
            "'unattributed', false, CURRENT_TIMESTAMP)"
        ),
        {"claim": claim.id, "outlet": outlet.id},
    )
    uow.session.execute(
        text(
            "INSERT INTO outlets (name, slug, kind, prior_reliability, prior_rationale, "
            "created_at, updated_at) VALUES ('Kan', 'kan', 'public_broadcaster', 0.75, '', "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
    )
    row = uow.session.execute(text("SELECT cites_inferred, independent FROM reports")).one()
    assert (bool(row.cites_inferred), bool(row.independent)) == (False, False)
    vetted = uow.session.scalar(text("SELECT vetted FROM outlets WHERE slug = 'kan'"))
    assert bool(vetted) is True


def test_an_alias_names_one_outlet_only(uow):
    reuters, kan = _outlet(uow.session), _outlet(uow.session, "Kan", "kan")
    uow.session.add(OutletAlias(outlet_id=reuters.id, alias="Reuter", normalised="reuter"))
    uow.session.flush()
    uow.session.add(OutletAlias(outlet_id=kan.id, alias="REUTER", normalised="reuter"))
    with pytest.raises(IntegrityError):
        uow.session.flush()


def test_an_empty_normalised_alias_is_refused(uow):
    outlet = _outlet(uow.session)
    uow.session.add(OutletAlias(outlet_id=outlet.id, alias="...", normalised=""))
    with pytest.raises(IntegrityError):
        uow.session.flush()


@pytest.mark.parametrize("domain", ["www.reuters.com", "Reuters.com", ""])
def test_a_domain_not_in_its_normal_form_is_refused(uow, domain):
    outlet = _outlet(uow.session)
    uow.session.add(OutletDomain(outlet_id=outlet.id, domain=domain))
    with pytest.raises(IntegrityError):
        uow.session.flush()


def test_a_domain_names_one_outlet_only(uow):
    reuters, kan = _outlet(uow.session), _outlet(uow.session, "Kan", "kan")
    uow.session.add(OutletDomain(outlet_id=reuters.id, domain="reuters.com"))
    uow.session.flush()
    uow.session.add(OutletDomain(outlet_id=kan.id, domain="reuters.com"))
    with pytest.raises(IntegrityError):
        uow.session.flush()


def test_aliases_and_domains_go_with_their_outlet(uow):
    outlet = _outlet(uow.session)
    uow.session.add_all(
        [
            OutletAlias(outlet_id=outlet.id, alias="Reuter", normalised="reuter"),
            OutletDomain(outlet_id=outlet.id, domain="reuters.com"),
        ]
    )
    uow.commit()
    assert [a.alias for a in outlet.aliases] == ["Reuter"]
    assert [d.domain for d in outlet.domains] == ["reuters.com"]
    uow.session.execute(text("DELETE FROM outlets WHERE id = :id"), {"id": outlet.id})
    uow.session.flush()
    assert uow.session.scalar(text("SELECT count(*) FROM outlet_aliases")) == 0
    assert uow.session.scalar(text("SELECT count(*) FROM outlet_domains")) == 0


@pytest.mark.parametrize(
    "cites, inferred, independent",
    [(None, True, False), ("r-1", True, True)],
    ids=["inferred without a link", "inferred although independent"],
)
def test_an_inferred_link_needs_a_link_and_a_report_not_called_independent(
    uow, cites, inferred, independent
):
    outlet, claim = _outlet(uow.session), _claim(uow.session)
    first = Report(key="r-1", claim_id=claim.id, outlet_id=outlet.id, stance="supports")
    uow.session.add(first)
    uow.session.flush()
    uow.session.add(
        Report(
            key="r-2",
            claim_id=claim.id,
            outlet_id=outlet.id,
            stance="supports",
            cites_id=first.id if cites else None,
            cites_inferred=inferred,
            independent=independent,
        )
    )
    with pytest.raises(IntegrityError):
        uow.session.flush()


def test_an_inferred_link_is_stored(uow):
    outlet, claim = _outlet(uow.session), _claim(uow.session)
    first = Report(key="r-1", claim_id=claim.id, outlet_id=outlet.id, stance="supports")
    uow.session.add(first)
    uow.session.flush()
    echo = Report(
        key="r-2",
        claim_id=claim.id,
        outlet_id=outlet.id,
        stance="supports",
        cites_id=first.id,
        cites_inferred=True,
    )
    uow.session.add(echo)
    uow.commit()
    assert echo.cites_inferred is True and echo.cites_id == first.id


def test_a_claim_keeps_its_story_and_what_would_change_it(uow):
    claim = Claim(
        key="k",
        text="Something happened",
        story="hamas-leadership-2024",
        what_would_change=[{"report": {"stance": "denies"}, "confidence": 0.31}],
    )
    uow.session.add(claim)
    uow.commit()
    uow.session.expire_all()
    stored = uow.session.get(Claim, claim.id)
    assert stored.story == "hamas-leadership-2024"
    assert stored.what_would_change == [{"report": {"stance": "denies"}, "confidence": 0.31}]
