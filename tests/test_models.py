"""The database itself refuses bad rows, on every backend: enums, foreign keys, keys."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError, StatementError

from models import Claim, Outlet, Report, tables
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
