"""The seed story: valid, loadable twice without duplicates, and bad input refused whole."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from models import Claim, Outlet, Report, ScoreHistory
from scoring.interchange import RecordError
from seeds.loader import read_outlets, read_seed_story, read_story
from service.cli.data import load_seed_story

REQUIRED_CLAIMS = {
    "hamas-leadership-moved-to-turkey",
    "qatar-asked-hamas-to-leave",
    "turkey-asked-hamas-leaders-to-leave-2023",
    "hamas-secret-meeting-turkey-2023-12",
    "turkey-cut-ties-with-israel",
    "turkey-denied-herzog-airspace",
}


def test_the_seed_story_names_every_outlet_and_claim():
    story = read_seed_story()
    names = {o.name for o in story.outlets}
    assert {"Kan", "Reuters", "Middle East Eye", "TASS", "The Times of Israel"} <= names
    assert sum(o.kind == "aggregator" for o in story.outlets) == 2
    assert {r.claim_key for r in story.reports} >= REQUIRED_CLAIMS
    assert all(o.rationale for o in story.outlets)


def test_every_echo_cites_a_report_of_its_own_claim():
    reports = read_seed_story().reports
    by_key = {r.report_key: r for r in reports}
    echoes = [r for r in reports if r.cites]
    assert echoes
    for echo in echoes:
        assert by_key[echo.cites].claim_key == echo.claim_key


def test_loading_twice_creates_nothing_new(uow):
    first = load_seed_story(uow.session)
    uow.commit()
    second = load_seed_story(uow.session)
    uow.commit()
    assert first.reports_created == 24 and second.reports_created == 0
    assert second.reports_unchanged == 24 and second.claims_created == 0
    session = uow.session
    assert session.scalar(select(func.count()).select_from(Report)) == 24
    assert session.scalar(select(func.count()).select_from(Outlet)) == 7
    claims = session.scalars(select(Claim)).all()
    assert {c.key for c in claims} == REQUIRED_CLAIMS
    for claim in claims:
        assert claim.n_reports >= 1
        assert 0 < claim.confidence < 1
    # One history row per claim: the second load changed no score.
    assert session.scalar(select(func.count()).select_from(ScoreHistory)) == len(claims)


def _write(tmp_path, lines):
    path = tmp_path / "story.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


GOOD = {"claim_key": "k", "claim": "Something", "outlet": "Kan", "stance": "supports"}


@pytest.mark.parametrize(
    "bad, field",
    [
        ({**GOOD, "stance": "maybe"}, "stance"),
        ({**GOOD, "attribution": "a little bird"}, "attribution"),
        ({**GOOD, "claim": ""}, "claim"),
        ({k: v for k, v in GOOD.items() if k != "claim"}, "claim"),
        ({**GOOD, "verdict": "yes"}, "verdict"),
        ({**GOOD, "published_at": "last Tuesday"}, "published_at"),
        ({**GOOD, "colour": "blue"}, "colour"),
    ],
)
def test_a_bad_record_is_refused_naming_line_and_field(tmp_path, bad, field):
    path = _write(tmp_path, [GOOD, bad])
    with pytest.raises(RecordError) as raised:
        read_story(path)
    assert raised.value.line == 2 and raised.value.field == field
    assert f"line 2, field '{field}'" in str(raised.value)


GOOD_OUTLET = {
    "name": "A",
    "slug": "a",
    "kind": "wire_agency",
    "prior_reliability": 0.8,
    "rationale": "r",
}


def test_a_bad_outlet_is_refused_naming_record_and_field(tmp_path):
    path = tmp_path / "outlets.json"
    good = GOOD_OUTLET
    path.write_text(json.dumps([good, {**good, "name": "B", "slug": "b", "prior_reliability": 1}]))
    with pytest.raises(RecordError) as raised:
        read_outlets(path)
    assert (raised.value.line, raised.value.field) == (2, "prior_reliability")


def test_a_bad_seed_file_loads_nothing(uow, monkeypatch, tmp_path):
    """Validation happens before any write: a bad last line leaves the database empty."""
    import service.cli.data as importing
    from seeds import loader

    story = [json.loads(line) for line in loader.STORY_FILE.read_text().splitlines()]
    story[-1]["stance"] = "perhaps"
    bad = _write(tmp_path, story)
    monkeypatch.setattr(importing, "read_seed_story", lambda: read_seed_story(story_path=bad))
    with pytest.raises(RecordError):
        load_seed_story(uow.session)
    uow.rollback()
    assert uow.session.scalar(select(func.count()).select_from(Report)) == 0
    assert uow.session.scalar(select(func.count()).select_from(Outlet)) == 0


# -- outlet names (issue 14, item 1) -----------------------------------------------------------
def test_the_seed_outlets_carry_the_names_newsrooms_use():
    from service.newsroom.outlet_identity import normalise_outlet_name

    outlets = {o.slug: o for o in read_outlets()}
    assert {"MEE"} <= set(outlets["middle-east-eye"].aliases)
    assert {"ToI", "Times of Israel"} <= set(outlets["the-times-of-israel"].aliases)
    assert {"Kan 11", "Kan News"} <= set(outlets["kan"].aliases)
    assert outlets["reuters"].domains == ("reuters.com",)
    assert {"tass.com", "tass.ru"} == set(outlets["tass"].domains)
    # One normalised spelling names one outlet, across names and aliases.
    holders: dict[str, str] = {}
    for outlet in outlets.values():
        for name in (outlet.name, *outlet.aliases):
            assert holders.setdefault(normalise_outlet_name(name), outlet.slug) == outlet.slug


def test_seeded_aliases_and_domains_are_stored_once(uow):
    from models import OutletAlias, OutletDomain
    from service.newsroom.outlet_directory import load_outlet_index, store_seed_names
    from service.newsroom.outlet_identity import resolve_outlet

    load_seed_story(uow.session)  # stores the names
    uow.commit()
    load_seed_story(uow.session)
    again = store_seed_names(uow.session, read_outlets())
    uow.commit()
    outlets = read_outlets()
    aliases = sum(len(o.aliases) for o in outlets)
    domains = sum(len(o.domains) for o in outlets)
    assert aliases > 0 and domains > 0
    assert (again.aliases, again.domains) == (0, 0)
    session = uow.session
    assert session.scalar(select(func.count()).select_from(OutletAlias)) == aliases
    assert session.scalar(select(func.count()).select_from(OutletDomain)) == domains
    index = load_outlet_index(session)
    ids = {slug: outlet_id for slug, outlet_id in session.execute(select(Outlet.slug, Outlet.id))}
    for name, url, slug in [
        ("MEE", None, "middle-east-eye"),
        ("ToI", None, "the-times-of-israel"),
        ("Times of Israel", None, "the-times-of-israel"),
        ("Kan 11", None, "kan"),
        ("KAN NEWS", None, "kan"),
        ("TASS", None, "tass"),
        ("Reuters.", None, "reuters"),
        ("Reuter", "https://www.reuters.com/world/", "reuters"),
        ("Some wire", "https://tass.ru/politika/1", "tass"),
    ]:
        assert resolve_outlet(name, url, index).outlet_id == ids[slug], name


@pytest.mark.parametrize(
    "change, field",
    [
        ({"aliases": "MEE"}, "aliases"),
        ({"aliases": [""]}, "aliases"),
        ({"aliases": ["Kan"]}, "aliases"),  # another outlet's name
        ({"domains": ["www.example.com"]}, "domains"),
        ({"domains": ["https://example.com/"]}, "domains"),
        ({"domains": ["Example.com"]}, "domains"),
        ({"domains": ["kan.org.il"]}, "domains"),  # another outlet's domain
    ],
)
def test_bad_outlet_names_are_refused(tmp_path, change, field):
    kan = {**GOOD_OUTLET, "name": "Kan", "slug": "kan", "domains": ["kan.org.il"]}
    path = tmp_path / "outlets.json"
    path.write_text(json.dumps([kan, {**GOOD_OUTLET, **change}]))
    with pytest.raises(RecordError) as raised:
        read_outlets(path)
    assert (raised.value.line, raised.value.field) == (2, field)
