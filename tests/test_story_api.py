"""The optional ``story`` of a claim (issue 13, item 5) through the service: the API stores,
serves and filters it, refuses a second story for a claim, and `srs export` / `srs import`
(both paths) and `srs backup` / `srs restore` carry it."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import select
from test_dashboard import sign_in

from models import Claim
from models.database import UnitOfWork, make_engine, make_session_factory
from scoring.interchange import MAX_STORY_LENGTH
from service.cli import main
from service.operations.backup import empty_database

PROBLEM = "application/problem+json"


def _report(claim_key: str, outlet: str, stance: str = "supports", **fields) -> dict:
    return {
        "claim_key": claim_key,
        "claim": f"Claim {claim_key}",
        "outlet": outlet,
        "new_outlet": True,
        "stance": stance,
        **fields,
    }


def _post(client, auth, body: dict):
    return client.post("/api/v1/reports", json=body, headers=auth("write"))


def _stories(database_url: str) -> dict[str, str | None]:
    engine = make_engine(database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            return dict(uow.session.execute(select(Claim.key, Claim.story)).all())
    finally:
        engine.dispose()


def _run(cli_runner, database_url: str, *args: str):
    result = cli_runner.invoke(main, ["--database-url", database_url, *args])
    assert result.exit_code == 0, result.output
    return result


def test_a_report_gives_its_new_claim_a_story_and_the_list_filters_by_it(client, auth):
    created = _post(client, auth, _report("quake-a", "Outlet One", story="  quake-2025 "))
    assert created.status_code == 201, created.text
    claim_id = created.json["claim_id"]
    claim = client.get(f"/api/v1/claims/{claim_id}", headers=auth("read")).json
    assert claim["story"] == "quake-2025"  # trimmed, as the interchange format reads it
    assert _post(client, auth, _report("quake-b", "Outlet Two", story="quake-2025")).status_code
    assert _post(client, auth, _report("flood-a", "Outlet One", story="flood")).status_code == 201
    assert _post(client, auth, _report("loose", "Outlet Two")).status_code == 201

    listed = client.get("/api/v1/claims?story=quake-2025&sort=id", headers=auth("read")).json
    assert [c["key"] for c in listed] == ["quake-a", "quake-b"]
    assert {c["story"] for c in listed} == {"quake-2025"}
    every = client.get("/api/v1/claims?sort=id", headers=auth("read")).json
    assert {c["key"]: c["story"] for c in every} == {
        "quake-a": "quake-2025",
        "quake-b": "quake-2025",
        "flood-a": "flood",
        "loose": None,
    }
    assert client.get("/api/v1/claims?story=nothing", headers=auth("read")).json == []


def test_a_report_naming_another_story_is_refused_and_writes_nothing(client, auth):
    assert _post(client, auth, _report("quake-a", "Outlet One", story="quake")).status_code == 201
    refused = _post(client, auth, _report("quake-a", "Outlet Two", story="flood"))
    assert refused.status_code == 422
    assert refused.headers["Content-Type"] == PROBLEM
    assert refused.json["errors"]["json"] == {
        "story": ["is 'flood', but claim 'quake-a' belongs to the story 'quake'"]
    }
    reports = client.get(
        f"/api/v1/claims/{_claim_id(client, auth, 'quake-a')}/reports", headers=auth("read")
    ).json
    assert [r["outlet"] for r in reports] == ["Outlet One"]
    # Naming no story, or the claim's own, is fine.
    assert _post(client, auth, _report("quake-a", "Outlet Two")).status_code == 201
    assert _post(client, auth, _report("quake-a", "Outlet Three", story="quake")).status_code == 201


def test_a_claim_without_a_story_takes_the_first_one_a_report_names(client, auth):
    made = client.post(
        "/api/v1/claims", json={"key": "plain", "text": "A plain claim"}, headers=auth("write")
    )
    assert made.status_code == 201 and made.json["story"] is None
    body = {**_report("plain", "Outlet One", story="later"), "claim": "A plain claim"}
    assert _post(client, auth, body).status_code == 201
    claim = client.get(f"/api/v1/claims/{made.json['id']}", headers=auth("read")).json
    assert claim["story"] == "later"


def test_a_claim_can_be_created_with_a_story(client, auth):
    made = client.post(
        "/api/v1/claims",
        json={"key": "storied", "text": "A storied claim", "story": "elections-2026"},
        headers=auth("write"),
    )
    assert made.status_code == 201, made.text
    assert made.json["story"] == "elections-2026"
    assert client.get("/api/v1/claims?story=elections-2026", headers=auth("read")).json[0][
        "key"
    ] == ("storied")


@pytest.mark.parametrize("story", ["x" * (MAX_STORY_LENGTH + 1), "   ", ""])
def test_an_invalid_story_is_a_problem(client, auth, story):
    refused = _post(client, auth, _report("long", "Outlet One", story=story))
    assert refused.status_code == 422
    assert refused.headers["Content-Type"] == PROBLEM
    assert set(refused.json["errors"]["json"]) == {"story"}
    assert client.get("/api/v1/claims?sort=id", headers=auth("read")).json == []
    listed = client.get("/api/v1/claims", query_string={"story": story}, headers=auth("read"))
    assert listed.status_code == 422 and listed.headers["Content-Type"] == PROBLEM


def test_the_openapi_document_describes_story(client):
    document = client.get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    assert schemas["ReportIn"]["properties"]["story"]["maxLength"] == MAX_STORY_LENGTH == 100
    assert schemas["Claim"]["properties"]["story"]["maxLength"] == MAX_STORY_LENGTH == 100
    parameters = document["paths"]["/api/v1/claims"]["get"]["parameters"]
    assert "story" in {p.get("name") for p in parameters}


def _claim_id(client, auth, key: str) -> int:
    listed = client.get("/api/v1/claims?sort=id", headers=auth("read")).json
    return next(c["id"] for c in listed if c["key"] == key)


def test_the_dashboard_filters_by_story_and_shows_it(client, auth, api_keys):
    _post(client, auth, _report("quake-a", "Outlet One", story="quake"))
    _post(client, auth, _report("flood-a", "Outlet One", story="flood"))
    sign_in(client, api_keys["read"])
    board = client.get("/?story=quake")
    assert board.status_code == 200
    assert "Claim quake-a" in board.text and "Claim flood-a" not in board.text
    assert '<option value="flood">' in board.text and '<option value="quake">' in board.text
    page = client.get(f"/claims/{_claim_id(client, auth, 'quake-a')}")
    assert "<dt>Story</dt>" in page.text and 'href="/?story=quake"' in page.text


@pytest.mark.parametrize("mode", ["--bulk", "--row-by-row"])
def test_stories_round_trip_through_export_and_import(database_url, cli_runner, tmp_path, mode):
    source = tmp_path / "in.jsonl"
    lines = [
        {"claim_key": "a", "claim": "A", "outlet": "One", "stance": "supports", "story": "s1"},
        {"claim_key": "a", "claim": "A", "outlet": "Two", "stance": "denies", "story": "s1"},
        {"claim_key": "b", "claim": "B", "outlet": "One", "stance": "supports", "story": "s2"},
        {"claim_key": "c", "claim": "C", "outlet": "Two", "stance": "supports"},
    ]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    _run(cli_runner, database_url, "import", mode, str(source))
    assert _stories(database_url) == {"a": "s1", "b": "s2", "c": None}
    exported = tmp_path / "out.jsonl"
    _run(cli_runner, database_url, "export", "--out", str(exported))
    written = [json.loads(line) for line in exported.read_text().splitlines()]
    assert sorted((r["claim_key"], r.get("story")) for r in written) == [
        ("a", "s1"),
        ("a", "s1"),
        ("b", "s2"),
        ("c", None),
    ]
    engine = make_engine(database_url)
    with engine.begin() as connection:
        empty_database(connection)
    engine.dispose()
    _run(cli_runner, database_url, "import", mode, str(exported))
    assert _stories(database_url) == {"a": "s1", "b": "s2", "c": None}


@pytest.mark.parametrize("mode", ["--bulk", "--row-by-row"])
def test_an_import_naming_another_story_for_a_stored_claim_is_refused(
    database_url, cli_runner, tmp_path, mode
):
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    record = {"claim_key": "a", "claim": "A", "outlet": "One", "stance": "supports"}
    first.write_text(json.dumps({**record, "story": "s1"}) + "\n")
    second.write_text(json.dumps({**record, "outlet": "Two", "story": "s2"}) + "\n")
    _run(cli_runner, database_url, "import", mode, str(first))
    result = cli_runner.invoke(main, ["--database-url", database_url, "import", mode, str(second)])
    assert result.exit_code != 0
    assert "line 1, field 'story': is 's2', but claim 'a' belongs to the story 's1'" in (
        result.output
    )
    assert _stories(database_url) == {"a": "s1"}


def test_stories_round_trip_through_backup_and_restore(database_url, cli_runner, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"claim_key": "a", "claim": "A", "outlet": "One", "stance": "supports"})
        + "\n"
        + json.dumps(
            {"claim_key": "b", "claim": "B", "outlet": "One", "stance": "denies", "story": "s"}
        )
        + "\n"
    )
    _run(cli_runner, database_url, "import", str(source))
    backup = tmp_path / "backup.jsonl"
    _run(cli_runner, database_url, "backup", str(backup))
    _run(cli_runner, database_url, "restore", "--replace", str(backup))
    assert _stories(database_url) == {"a": None, "b": "s"}


def _install_story_model(database_url: str) -> None:
    """An active model whose story 'hoaxes' had 9 false resolved claims and 1 true."""
    from models import ModelVersion
    from scoring.attribution import default_parameters
    from scoring.evidence import StoryModel
    from service.newsroom.model_store import parameters_to_json

    stories = StoryModel(base_rate=0.5, strength=2.0, coefficient=1.0, resolved={"hoaxes": (1, 9)})
    params = dataclasses.replace(default_parameters(), version="storied-1", stories=stories)
    engine = make_engine(database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            uow.session.add(
                ModelVersion(
                    version="storied-1",
                    active=True,
                    parameters=parameters_to_json(params),
                    training_summary=None,
                    metrics={},
                )
            )
            uow.commit()
    finally:
        engine.dispose()


def _patch(client, auth, claim_id: int, body: dict):
    url = f"/api/v1/claims/{claim_id}"
    etag = client.get(url, headers=auth("read")).headers["ETag"]
    return client.patch(url, json=body, headers={**auth("write"), "If-Match": etag})


def test_a_claim_is_moved_between_stories_and_rescored(client, auth, database_url):
    _install_story_model(database_url)
    created = _post(client, auth, _report("ship-sunk", "Outlet One"))
    claim_id = created.json["claim_id"]
    score_url = f"/api/v1/claims/{claim_id}/score"
    alone = client.get(score_url, headers=auth("read")).json["confidence"]

    moved = _patch(client, auth, claim_id, {"story": " hoaxes "})
    assert moved.status_code == 200, moved.text
    assert moved.json["story"] == "hoaxes" and moved.json["text"] == "Claim ship-sunk"
    claim = client.get(f"/api/v1/claims/{claim_id}", headers=auth("read")).json
    assert moved.json["confidence"] == claim["confidence"] < alone
    assert (
        moved.json["change_24h"]
        == claim["change_24h"]
        == pytest.approx(claim["confidence"] - alone)
    )
    in_story = client.get(score_url, headers=auth("read")).json
    # 1 true and 9 false shrunk by 2 pseudo-claims at 0.5: rate 2/12, a start of logit(1/6).
    assert in_story["confidence"] < alone
    assert any("hoaxes" in c["reason"] for c in in_story["explanation"])
    history = client.get(f"/api/v1/claims/{claim_id}/history", headers=auth("read")).json
    assert history[-1]["cause"].startswith("moved to story 'hoaxes' by ")
    assert [
        c["key"] for c in client.get("/api/v1/claims?story=hoaxes", headers=auth("read")).json
    ] == ["ship-sunk"]
    # A report naming the old story (none) is fine; one naming another is refused as before.
    assert (
        _post(client, auth, _report("ship-sunk", "Outlet Two", story="hoaxes")).status_code == 201
    )
    assert (
        _post(client, auth, _report("ship-sunk", "Outlet Three", story="other")).status_code == 422
    )

    out = _patch(client, auth, claim_id, {"story": None})
    assert out.status_code == 200 and out.json["story"] is None
    history = client.get(f"/api/v1/claims/{claim_id}/history", headers=auth("read")).json
    assert history[-1]["cause"].startswith("taken out of its story by ")
    assert client.get("/api/v1/claims?story=hoaxes", headers=auth("read")).json == []


def test_a_patch_that_changes_nothing_or_names_a_bad_story_is_a_problem(client, auth):
    claim_id = _post(client, auth, _report("ship-sunk", "Outlet One")).json["claim_id"]
    for body, field in (
        ({}, "_schema"),
        ({"story": "   "}, "story"),
        ({"story": "x" * (MAX_STORY_LENGTH + 1)}, "story"),
    ):
        refused = _patch(client, auth, claim_id, body)
        assert refused.status_code == 422 and refused.headers["Content-Type"] == PROBLEM
        assert set(refused.json["errors"]["json"]) == {field}
    assert client.get(f"/api/v1/claims/{claim_id}", headers=auth("read")).json["story"] is None
    # The same story again changes nothing and writes no history.
    assert _patch(client, auth, claim_id, {"story": "a"}).status_code == 200
    before = client.get(f"/api/v1/claims/{claim_id}/history", headers=auth("read")).json
    assert _patch(client, auth, claim_id, {"story": "a"}).status_code == 200
    assert client.get(f"/api/v1/claims/{claim_id}/history", headers=auth("read")).json == before
