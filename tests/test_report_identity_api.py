"""One vote per report, through the API, export and import (issue 14, item 2)."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from models import OutboxEvent
from models.database import UnitOfWork, make_engine, make_session_factory
from service.cli import main

CLAIM = {
    "claim_key": "hamas-leadership-moved-to-turkey",
    "claim": "Hamas's political leadership moved from Qatar to Turkey (November 2024)",
}
QUOTE = "Senior members of Hamas's leadership have left Qatar and are now based in Turkey."
KAN_QUOTE = (
    "Hamas members had left Doha for Turkey after Qatar reportedly requested their departure."
)


def _post(client, auth, **fields):
    body = {**CLAIM, "outlet": "Reuters", "stance": "supports", **fields}
    return client.post("/api/v1/reports", json=body, headers=auth("write"))


def _score(client, auth, claim_id):
    return client.get(f"/api/v1/claims/{claim_id}/score", headers=auth("read")).get_json()


def _events(database_url) -> int:
    with UnitOfWork(make_session_factory(make_engine(database_url))) as uow:
        return uow.session.scalar(select(func.count()).select_from(OutboxEvent))


def test_a_report_posted_four_times_counts_once(seeded, client, auth, database_url):
    """Issue 14's retrying client: same Reuters report, same quote, no source, no key."""
    first = _post(client, auth, quote=QUOTE)
    assert first.status_code == 201, first.get_json()
    report, claim_id = first.get_json()["report"], first.get_json()["claim_id"]
    score = _score(client, auth, claim_id)
    events = _events(database_url)
    history = client.get(f"/api/v1/claims/{claim_id}/history", headers=auth("read")).get_json()
    for _ in range(3):
        again = _post(client, auth, quote=QUOTE)
        assert again.status_code == 200, again.get_json()
        body = again.get_json()
        assert (body["outcome"], body["duplicate_of"]) == ("duplicate", report["id"])
        assert body["report"]["key"] == report["key"]
    assert _score(client, auth, claim_id) == score  # nothing counted twice
    assert _events(database_url) == events  # no event
    after = client.get(f"/api/v1/claims/{claim_id}/history", headers=auth("read")).get_json()
    assert after == history


def test_the_same_url_or_source_is_the_same_report(seeded, client, auth):
    url = "https://www.reuters.com/world/hamas-move-2024-11-20/"
    assert _post(client, auth, url=url, quote="First wording.").status_code == 201
    same_url = _post(client, auth, url=url.replace("https://www.", "http://") + "?utm_source=x")
    assert same_url.get_json()["outcome"] == "duplicate"
    on_the_record = {"source": "a named minister", "published_at": "2024-11-20T08:00:00Z"}
    assert _post(client, auth, **on_the_record).status_code == 201
    later_that_day = {**on_the_record, "published_at": "2024-11-20T15:00:00Z"}
    assert _post(client, auth, **later_that_day).get_json()["outcome"] == "duplicate"
    two_days_later = {**on_the_record, "published_at": "2024-11-22T09:00:00Z"}
    assert _post(client, auth, **two_days_later).status_code == 201
    # Another stance or another outlet is another report.
    assert _post(client, auth, url=url, stance="denies").status_code == 201
    assert _post(client, auth, url=url, outlet="TASS").status_code == 201


def test_a_batch_counts_each_report_once(seeded, client, auth):
    report = {**CLAIM, "outlet": "TASS", "stance": "denies", "quote": "No such move happened."}
    response = client.post(
        "/api/v1/reports:batch", json={"reports": [report, report]}, headers=auth("write")
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["outcomes"] == ["created", "duplicate"]
    assert body["reports"][0]["id"] == body["reports"][1]["id"]
    again = client.post("/api/v1/reports:batch", json={"reports": [report]}, headers=auth("write"))
    assert again.status_code == 200 and again.get_json()["outcomes"] == ["duplicate"]


def test_a_report_repeating_another_outlets_words_is_stored_as_its_echo(seeded, client, auth):
    claim_id = _post(client, auth, quote="Setup.", source="setup").get_json()["claim_id"]
    before = _score(client, auth, claim_id)
    copy = _post(
        client,
        auth,
        outlet="TASS",
        quote="According to Israeli media, " + KAN_QUOTE,
        published_at="2024-11-18T09:00:00Z",
    )
    assert copy.status_code == 201, copy.get_json()
    report = copy.get_json()["report"]
    assert (report["cites"], report["cites_inferred"]) == ("kan-2024-11-17-hamas-move", True)
    after = copy.get_json()["score"]
    assert after["n_reports"] == before["n_reports"] + 1
    assert after["n_clusters"] == before["n_clusters"]  # it joined Kan's cluster
    stored = client.get(f"/api/v1/reports/{report['id']}", headers=auth("read")).get_json()
    assert stored["cites_inferred"] is True


def test_an_independent_report_is_never_inferred_an_echo(seeded, client, auth):
    response = _post(client, auth, outlet="TASS", quote=KAN_QUOTE, independent=True)
    assert response.status_code == 201, response.get_json()
    report = response.get_json()["report"]
    assert (report["cites"], report["cites_inferred"], report["independent"]) == (
        None,
        False,
        True,
    )


def test_a_report_sharing_a_stock_phrase_is_not_an_echo(seeded, client, auth):
    first = _post(
        client,
        auth,
        outlet="TASS",
        quote="Hamas political leaders have relocated to Istanbul, the ministry said in a "
        "statement on Monday.",
    )
    second = _post(
        client,
        auth,
        outlet="Middle East Eye",
        quote="There is no truth to reports that the bureau moved to Ankara, the ministry said "
        "in a statement on Monday.",
        stance="denies",
    )
    assert first.status_code == second.status_code == 201
    assert second.get_json()["report"]["cites"] is None


def test_inferred_links_and_independence_survive_export_and_import(
    seeded, client, auth, cli_runner, database_url, tmp_path
):
    _post(client, auth, outlet="TASS", quote="According to Israeli media, " + KAN_QUOTE)
    _post(client, auth, outlet="Middle East Eye", quote=KAN_QUOTE + " Really.", independent=True)
    args = ["--database-url", database_url]
    exported = cli_runner.invoke(main, [*args, "export"])
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    echo = next(line for line in lines if line.get("cites_inferred"))
    assert echo["outlet"] == "TASS" and echo["cites"] == "kan-2024-11-17-hamas-move"
    assert sum(1 for line in lines if line.get("independent")) == 1
    # Into an empty database: the same links, flags and report count.
    target = f"sqlite:///{tmp_path / 'copy.sqlite3'}"
    assert cli_runner.invoke(main, ["--database-url", target, "db", "upgrade"]).exit_code == 0
    path = tmp_path / "export.jsonl"
    path.write_text(exported.stdout)
    imported = cli_runner.invoke(main, ["--database-url", target, "import", str(path)])
    assert imported.exit_code == 0, imported.output
    again = cli_runner.invoke(main, ["--database-url", target, "export"])
    assert sorted(again.stdout.splitlines()) == sorted(exported.stdout.splitlines())
    # And importing the export into the database it came from changes nothing.
    same = cli_runner.invoke(main, [*args, "import", str(path)])
    assert same.exit_code == 0 and f"imported 0 reports ({len(lines)} already" in same.output
