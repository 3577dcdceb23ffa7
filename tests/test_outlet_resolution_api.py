"""One name per outlet, through the API and srs import (issue 14, item 1)."""

from __future__ import annotations

import json

import pytest

from service.cli import main

CLAIM = {
    "claim_key": "hamas-leadership-moved-to-turkey",
    "claim": "Hamas's political leadership moved from Qatar to Turkey (November 2024)",
}


def _post(client, auth, scope="write", **fields):
    body = {**CLAIM, "stance": "supports", **fields}
    return client.post("/api/v1/reports", json=body, headers=auth(scope))


def _outlets(client, auth):
    response = client.get("/api/v1/outlets?page_size=100", headers=auth("read"))
    return {o["name"]: o for o in response.get_json()}


@pytest.mark.parametrize(
    "name, by",
    [
        ("Reuters", None),
        ("reuters", "slug"),
        ("REUTERS", "normalised name"),
        ("Reuters.", "normalised name"),
        ("Times of Israel", "normalised name"),
        ("ToI", "alias"),
        ("MEE", "alias"),
        ("Kan 11", "alias"),
    ],
)
def test_names_newsrooms_use_resolve_to_the_seeded_outlet(seeded, client, auth, name, by):
    expected = {
        "Reuters": "Reuters",
        "reuters": "Reuters",
        "REUTERS": "Reuters",
        "Reuters.": "Reuters",
        "Times of Israel": "The Times of Israel",
        "ToI": "The Times of Israel",
        "MEE": "Middle East Eye",
        "Kan 11": "Kan",
    }[name]
    response = _post(client, auth, outlet=name, source=f"a source of {name}")
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["report"]["outlet"] == expected
    warnings = [w for w in answer["warnings"] if w["code"].startswith("outlet_")]
    if by is None:
        assert warnings == []
    else:
        (warning,) = warnings
        assert warning["code"] == "outlet_resolved" and f"by {by}" in warning["message"]
    assert len(_outlets(client, auth)) == 7  # nothing new


def test_an_unknown_name_resolves_by_the_domain_of_its_url(seeded, client, auth):
    response = _post(client, auth, outlet="Reuter", url="https://www.reuters.com/world/x")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["report"]["outlet"] == "Reuters"


def test_an_unknown_name_is_refused_with_suggestions(seeded, client, auth):
    response = _post(client, auth, outlet="Reuter")
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.get_json()
    assert [s["name"] for s in problem["suggestions"]] == ["Reuters"]
    assert problem["suggestions"][0]["score"] > 90
    assert "did you mean 'Reuters'" in problem["errors"]["json"]["outlet"][0]
    assert len(_outlets(client, auth)) == 7  # nothing created


def test_a_batch_names_the_report_with_the_unknown_outlet(seeded, client, auth):
    reports = [
        {**CLAIM, "outlet": "Reuters", "stance": "supports"},
        {**CLAIM, "outlet": "Middle East Monitor", "stance": "denies"},
    ]
    response = client.post(
        "/api/v1/reports:batch", json={"reports": reports}, headers=auth("write")
    )
    assert response.status_code == 422
    problem = response.get_json()
    assert "outlet" in problem["errors"]["json"]["reports"]["1"]
    assert problem["suggestions"][0]["name"] == "Middle East Eye"


def test_new_outlet_creates_it_unvetted_without_a_prior(seeded, client, auth):
    response = _post(client, auth, outlet="Ynet", new_outlet=True)
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    (warning,) = [w for w in answer["warnings"] if w["code"] == "outlet_created"]
    outlet = client.get(f"/api/v1/outlets/{warning['outlet_id']}", headers=auth("read"))
    outlet = outlet.get_json()
    assert (outlet["name"], outlet["vetted"], outlet["prior_reliability"]) == ("Ynet", False, None)
    # Scored as its kind: what scoring uses is the kind's reliability, never null.
    assert 0 < outlet["reliability"] < 1 and outlet["grade"]
    # Named again, in any spelling, it is that outlet.
    again = _post(client, auth, outlet="YNET", stance="denies")
    assert again.status_code == 201 and again.get_json()["report"]["outlet"] == "Ynet"
    assert _outlets(client, auth)["Reuters"]["vetted"] is True


def test_new_outlet_is_not_needed_for_a_known_name(seeded, client, auth):
    response = _post(client, auth, outlet="Reuters", new_outlet=True)
    assert response.status_code == 201
    assert not [w for w in response.get_json()["warnings"] if w["code"] == "outlet_created"]


def test_the_claims_list_filters_by_outlet_id_or_slug(seeded, client, auth):
    outlets = _outlets(client, auth)
    tass = outlets["TASS"]["id"]
    by_id = client.get(f"/api/v1/claims?outlet={tass}", headers=auth("read")).get_json()
    by_slug = client.get("/api/v1/claims?outlet=tass", headers=auth("read")).get_json()
    assert by_id == by_slug and [c["key"] for c in by_id] == ["hamas-secret-meeting-turkey-2023-12"]
    assert client.get("/api/v1/claims?outlet=nobody", headers=auth("read")).get_json() == []
    for bad in ("Not A Slug", "0", "-3"):
        assert client.get(f"/api/v1/claims?outlet={bad}", headers=auth("read")).status_code == 422


def test_admins_manage_aliases(seeded, client, auth):
    reuters = _outlets(client, auth)["Reuters"]["id"]
    url = f"/api/v1/outlets/{reuters}/aliases"
    assert client.post(url, json={"alias": "Reuter"}, headers=auth("write")).status_code == 403
    created = client.post(url, json={"alias": "Reuter"}, headers=auth("admin"))
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["normalised"] == "reuter"
    again = client.post(url, json={"alias": "REUTER"}, headers=auth("admin"))
    assert again.status_code == 200 and again.get_json()["id"] == created.get_json()["id"]
    listed = client.get(url, headers=auth("read")).get_json()
    assert [a["alias"] for a in listed] == ["Reuters News Agency", "Reuter"]
    assert _post(client, auth, outlet="Reuter").get_json()["report"]["outlet"] == "Reuters"
    # Another outlet's name, slug or alias is refused.
    for taken in ("Kan", "tass", "mee"):
        refused = client.post(url, json={"alias": taken}, headers=auth("admin"))
        assert refused.status_code == 409, taken
    # Removed, the name no longer resolves.
    alias_id = created.get_json()["id"]
    removed = client.delete(f"{url}/{alias_id}", headers=auth("admin"))
    assert removed.status_code == 204
    assert _post(client, auth, outlet="Reuter").status_code == 422
    assert client.delete(f"{url}/{alias_id}", headers=auth("admin")).status_code == 404


def test_admins_manage_domains(seeded, client, auth):
    outlets = _outlets(client, auth)
    kan, reuters = outlets["Kan"]["id"], outlets["Reuters"]["id"]
    url = f"/api/v1/outlets/{kan}/domains"
    created = client.post(
        url, json={"domain": "https://www.kan11.co.il/news"}, headers=auth("admin")
    )
    assert created.status_code == 201 and created.get_json()["domain"] == "kan11.co.il"
    assert (
        _post(client, auth, outlet="Kan Channel", url="https://kan11.co.il/a").get_json()["report"][
            "outlet"
        ]
        == "Kan"
    )
    taken = client.post(
        f"/api/v1/outlets/{reuters}/domains", json={"domain": "kan11.co.il"}, headers=auth("admin")
    )
    assert taken.status_code == 409
    bad = client.post(url, json={"domain": "mailto:desk@kan.org.il"}, headers=auth("admin"))
    assert bad.status_code == 422
    assert [d["domain"] for d in client.get(url, headers=auth("read")).get_json()] == [
        "kan.org.il",
        "kan11.co.il",
    ]


def test_an_outlet_cannot_be_added_or_renamed_to_another_outlets_alias(seeded, client, auth):
    body = {
        "name": "M.E.E.",
        "kind": "independent",
        "prior_reliability": 0.6,
        "prior_rationale": "A test.",
    }
    assert client.post("/api/v1/outlets", json=body, headers=auth("admin")).status_code == 409
    no_prior = {**body, "name": "Another", "prior_reliability": None}
    assert client.post("/api/v1/outlets", json=no_prior, headers=auth("admin")).status_code == 422
    tass = _outlets(client, auth)["TASS"]
    etag = client.get(f"/api/v1/outlets/{tass['id']}", headers=auth("read")).headers["ETag"]
    renamed = client.patch(
        f"/api/v1/outlets/{tass['id']}",
        json={"name": "Times of Israel"},
        headers={**auth("admin"), "If-Match": etag},
    )
    assert renamed.status_code == 409


def test_srs_import_creates_unknown_outlets_unvetted_and_lists_them(
    seeded, cli_runner, database_url, tmp_path
):
    lines = [
        {**CLAIM, "outlet": "REUTERS", "stance": "supports", "source": "s1"},
        {**CLAIM, "outlet": "Ynet", "stance": "supports", "source": "s2"},
        {**CLAIM, "outlet": "Haaretz", "stance": "denies", "source": "s3"},
        {**CLAIM, "outlet": "Ha'aretz", "stance": "neutral", "source": "s4"},
    ]
    path = tmp_path / "file.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = cli_runner.invoke(main, ["--database-url", database_url, "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 new outlets" in result.output
    assert "2 outlets were not known and were created unvetted" in result.output
    listed = result.output.split("created unvetted", 1)[1]
    assert "  Ynet" in listed and "  Haaretz" in listed and "Reuters" not in listed


def test_admins_merge_two_names_of_one_outlet(seeded, client, auth):
    from sqlalchemy import select

    from models import AuditEntry
    from service.web.database import unit_of_work

    created = _post(client, auth, outlet="Reuter", new_outlet=True, source="a wire source")
    reuter = created.get_json()["warnings"][0]["outlet_id"]
    claim_id = created.get_json()["claim_id"]
    client.post(
        f"/api/v1/outlets/{reuter}/aliases", json={"alias": "Reuter Agency"}, headers=auth("admin")
    )
    reuters = _outlets(client, auth)["Reuters"]["id"]
    url = f"/api/v1/outlets/{reuters}/merge"
    body = {"from_outlet_id": reuter}
    assert client.post(url, json=body, headers=auth("write")).status_code == 403
    itself = client.post(url, json={"from_outlet_id": reuters}, headers=auth("admin"))
    assert itself.status_code == 422
    merged = client.post(url, json=body, headers=auth("admin"))
    assert merged.status_code == 200, merged.get_json()
    assert merged.get_json()["reports_moved"] == 1
    assert merged.get_json()["outlet"]["name"] == "Reuters"
    assert client.get(f"/api/v1/outlets/{reuter}", headers=auth("read")).status_code == 404
    # Its reports, aliases and name are Reuters' now.
    reports = client.get(f"/api/v1/claims/{claim_id}/reports?page_size=100", headers=auth("read"))
    assert "Reuter" not in {r["outlet"] for r in reports.get_json()}
    aliases = client.get(f"/api/v1/outlets/{reuters}/aliases", headers=auth("read")).get_json()
    assert {"Reuter Agency", "Reuter"} <= {a["alias"] for a in aliases}
    assert _post(client, auth, outlet="Reuter").get_json()["report"]["outlet"] == "Reuters"
    history = client.get(f"/api/v1/claims/{claim_id}/history", headers=auth("read")).get_json()
    assert any("Reuter merged into Reuters" in h["cause"] for h in history)
    with unit_of_work(seeded) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "merge_outlet")
        ).one()
        assert entry.actor == "test admin" and entry.detail["merged"] == "Reuter"


def test_the_dashboard_shows_an_unvetted_outlet_without_a_prior(seeded, client, auth, api_keys):
    from test_dashboard import sign_in

    created = _post(client, auth, outlet="Ynet", new_outlet=True)
    outlet_id = created.get_json()["warnings"][0]["outlet_id"]
    sign_in(client, api_keys["read"])
    page = client.get(f"/outlets/{outlet_id}")
    assert page.status_code == 200
    assert "Ynet" in page.text and "not vetted" in page.text
