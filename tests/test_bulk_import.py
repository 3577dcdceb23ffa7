"""The bulk import stores exactly what the row-by-row recorder stores, batch for batch.

Each scenario runs twice on the same backend, once per path, from the same starting state
(the seed story), and compares everything a reader can see: outlets, claims with their
scores and explanations, reports, verdicts, score history, outbox events (one
``import.batch_recorded`` per batch on both paths, no ``report.recorded``) and the import
summary; and, for bad input, the same error (line, field, message) with the same batches
kept.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import aliased

from models import Base, Claim, OutboxEvent, Outlet, Report, ScoreHistory, Verdict
from models.database import UnitOfWork, make_engine, make_session_factory
from scoring.interchange import RecordError
from scoring.synth import generate
from service.cli.data import load_seed_story
from service.operations.importing import import_stream

SEED_CLAIM = "hamas-leadership-moved-to-turkey"
SEED_TEXT = "Hamas's political leadership moved from Qatar to Turkey (November 2024)"


def _synthetic_lines() -> list[dict]:
    dataset = generate(
        n_claims=40, n_outlets=10, seed=5, echo_outlets=1, copies_per_echo=2,
        unlabelled_fraction=0.3,
    )  # fmt: skip
    lines = [record.to_json() for record in dataset.records]
    for i, line in enumerate(lines[::9]):
        line["published_at"] = datetime(2024, 11, 1 + i % 28, 12, i % 60, tzinfo=UTC).isoformat()
        line["url"] = f"https://example.org/{i}"
        line["quote"] = f"quoted words {i}"
    return lines


ECHOED = (
    "The ministry confirmed on Wednesday that the delegation had left the capital for talks "
    "abroad and would not return before the end of the month."
)


def _extra_lines(first: list[dict]) -> list[dict]:
    """A second file: repeats, new reports on stored claims (seed and synthetic), a verdict
    on a stored claim, a brand-new outlet, citations of stored reports, a duplicate line."""
    stored = first[3]
    cited = next(line for line in first if line.get("report_key") and not line.get("cites"))
    lines = [
        first[0],  # already stored, unchanged
        stored,
        {
            "claim_key": SEED_CLAIM, "claim": SEED_TEXT, "outlet": "Reuters",
            "stance": "denies", "attribution": "named_official", "report_key": "x-1",
        },
        {
            "claim_key": SEED_CLAIM, "claim": SEED_TEXT, "outlet": "A wholly new outlet",
            "stance": "supports", "cites": "x-1", "report_key": "x-2",
        },
        {
            "claim_key": cited["claim_key"], "claim": cited["claim"], "outlet": "outlet-0001",
            "stance": "supports", "cites": cited["report_key"], "report_key": "x-3",
            "published_at": "2024-11-20T08:00:00Z",
        },
        {
            "claim_key": stored["claim_key"], "claim": stored["claim"], "outlet": "Kan",
            "stance": "neutral", "verdict": True, "report_key": "x-4",
        },
        {"claim_key": "fresh", "claim": "A fresh claim", "outlet": "TASS", "stance": "supports",
         "interested_party": True, "source": "The Ministry", "report_key": "x-5"},
        {"claim_key": "fresh", "claim": "A fresh claim", "outlet": "TASS", "stance": "supports",
         "interested_party": True, "source": "The Ministry", "report_key": "x-5"},
        {"claim_key": "fresh", "claim": "A fresh claim", "outlet": "Kan", "stance": "denies",
         "source": "the ministry", "verdict": False, "report_key": "x-6"},
        # Outlet names as newsrooms write them: a spelling, an alias, a domain, a new name.
        {"claim_key": "fresh", "claim": "A fresh claim", "outlet": "REUTERS.", "stance": "neutral",
         "report_key": "x-7"},
        {"claim_key": "fresh", "claim": "A fresh claim", "outlet": "MEE", "stance": "supports",
         "report_key": "x-8"},
        {"claim_key": "fresh", "claim": "A fresh claim", "outlet": "Reuters UK desk",
         "url": "https://uk.reuters.com/world/x", "stance": "denies", "report_key": "x-9"},
        {"claim_key": "fresh", "claim": "A fresh claim", "outlet": "Ynet", "stance": "denies",
         "report_key": "x-10"},
        {"claim_key": "fresh", "claim": "A fresh claim", "outlet": "YNET", "stance": "neutral",
         "report_key": "x-11"},
        # One vote per report: an original, an echo nobody declared, an independent report
        # in the same words, the original sent again under another key, a citation of that
        # key (which names the original).
        {"claim_key": "fresh", "claim": "A fresh claim", "outlet": "TASS", "stance": "supports",
         "quote": ECHOED, "published_at": "2024-11-20T08:00:00Z", "report_key": "x-12"},
        {"claim_key": "fresh", "claim": "A fresh claim", "outlet": "Kan", "stance": "supports",
         "quote": "Via TASS: " + ECHOED, "report_key": "x-13"},
        {"claim_key": "fresh", "claim": "A fresh claim", "outlet": "Reuters", "stance": "supports",
         "quote": ECHOED, "independent": True, "report_key": "x-14"},
        {"claim_key": "fresh", "claim": "A fresh claim", "outlet": "TASS", "stance": "supports",
         "quote": ECHOED.upper(), "report_key": "x-15"},
        {"claim_key": "fresh", "claim": "A fresh claim", "outlet": "Middle East Eye",
         "stance": "neutral", "cites": "x-15", "report_key": "x-16"},
    ]  # fmt: skip
    if stored.get("verdict") is not None:
        lines[5]["verdict"] = stored["verdict"]
    return lines


def _jsonl(lines: list[dict]) -> io.StringIO:
    return io.StringIO("".join(json.dumps(line) + "\n" for line in lines))


def _event(kind: str, key: str | None, payload: dict, claims: dict, outlets: dict) -> tuple:
    """An event by keys and names: ids left out, a batch summary's claims and outlets named."""
    named = {k: v for k, v in payload.items() if not k.endswith("_id") and not k.endswith("_ids")}
    if kind == "import.batch_recorded":
        named["claims"] = sorted(claims[i] for i in payload["claim_ids"])
        named["outlets"] = sorted(outlets[i] for i in payload["outlet_ids"])
    return kind, key, named


def _snapshot(url: str) -> dict:
    """Everything stored, by keys and names (ids and timestamps of writing left out)."""
    cited = aliased(Report)
    with UnitOfWork(make_session_factory(make_engine(url))) as uow:
        s = uow.session
        claims = dict(s.execute(select(Claim.id, Claim.key)).all())
        outlets = dict(s.execute(select(Outlet.id, Outlet.name)).all())
        return {
            "outlets": s.execute(
                select(
                    Outlet.name, Outlet.slug, Outlet.kind, Outlet.prior_reliability,
                    Outlet.prior_rationale, Outlet.vetted,
                ).order_by(Outlet.name)
            ).all(),
            "claims": s.execute(
                select(
                    Claim.key, Claim.text, Claim.status, Claim.confidence,
                    Claim.confidence_lower, Claim.confidence_upper, Claim.log_odds,
                    Claim.prior_log_odds, Claim.label, Claim.grade, Claim.n_reports,
                    Claim.n_clusters, Claim.explanation, Claim.what_would_change,
                    Claim.model_version,
                    Claim.scored_at.is_not(None),
                ).order_by(Claim.key)
            ).all(),
            "reports": s.execute(
                select(
                    Report.key, Claim.key, Outlet.name, Report.stance, Report.attribution,
                    Report.source, Report.interested_party, cited.key, Report.published_at,
                    Report.url, Report.quote, Report.retracted_at, Report.cites_inferred,
                    Report.independent,
                )
                .join(Claim, Report.claim_id == Claim.id)
                .join(Outlet, Report.outlet_id == Outlet.id)
                .outerjoin(cited, Report.cites_id == cited.id)
                .order_by(Report.id)
            ).all(),
            "verdicts": s.execute(
                select(
                    Claim.key, Verdict.verdict, Verdict.note, Verdict.resolved_by,
                    Verdict.model_confidence,
                ).join(Claim).order_by(Verdict.id)
            ).all(),
            "history": s.execute(
                select(
                    Claim.key, ScoreHistory.confidence, ScoreHistory.confidence_lower,
                    ScoreHistory.confidence_upper, ScoreHistory.label,
                    ScoreHistory.model_version, ScoreHistory.cause,
                ).join(Claim, ScoreHistory.claim_id == Claim.id).order_by(ScoreHistory.id)
            ).all(),
            "events": [
                _event(kind, key, payload, claims, outlets)
                for kind, key, payload in s.execute(
                    select(OutboxEvent.type, Claim.key, OutboxEvent.payload)
                    .outerjoin(Claim, OutboxEvent.claim_id == Claim.id)
                    .order_by(OutboxEvent.id)
                )
            ],
        }  # fmt: skip


def _reset(url: str) -> None:
    """Back to the migrated state with the seed story loaded."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(update(Report).values(cites_id=None, cites_inferred=False))
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()
    with UnitOfWork(make_session_factory(make_engine(url))) as uow:
        load_seed_story(uow.session)
        uow.commit()


def _run(url: str, steps, bulk: bool):
    """Apply import steps (lines, batch size) from the seeded state; returns each step's
    summary or error, and what is stored at the end."""
    _reset(url)
    outcomes = []
    for lines, batch_size in steps:
        try:
            summary = import_stream(url, _jsonl(lines), batch_size=batch_size, bulk=bulk)
            outcomes.append(
                (
                    summary.reports_created,
                    summary.reports_unchanged,
                    summary.claims_created,
                    summary.outlets_created,
                    summary.verdicts_created,
                    summary.new_outlets,
                    summary.reports_duplicate,
                    summary.echoes_inferred,
                )
            )
        except RecordError as error:
            outcomes.append(str(error))
    return outcomes, _snapshot(url)


def test_bulk_import_stores_what_the_recorder_stores(database_url):
    first = _synthetic_lines()
    steps = [(first, 7), (_extra_lines(first), 4), (first[:30], 11)]
    outcomes, expected = _run(database_url, steps, bulk=False)
    bulk_outcomes, got = _run(database_url, steps, bulk=True)
    assert all(isinstance(o, tuple) for o in outcomes), outcomes
    assert bulk_outcomes == outcomes
    # Two new outlets (unvetted, listed), new verdicts; REUTERS., MEE and a URL on
    # uk.reuters.com resolved to stored outlets, YNET to the Ynet just created.
    assert outcomes[1][3] == 2 and outcomes[1][4] >= 1
    assert outcomes[1][5] == ["A wholly new outlet", "Ynet"]
    for table in ("outlets", "claims", "reports", "verdicts", "history", "events"):
        assert got[table] == expected[table], table
    # What would change each score is stored by both paths: a list for an open claim, none
    # for a resolved one.
    assert all(
        (row.what_would_change is None) == (row.status != "open") for row in expected["claims"]
    )
    assert any(row.what_would_change for row in expected["claims"])
    # The import's events: one summary per batch, no report.recorded but the seed's.
    kinds = [kind for kind, *_ in expected["events"]]
    assert kinds.count("report.recorded") == 24
    summaries = [data for kind, _, data in expected["events"] if kind == "import.batch_recorded"]
    assert [(s["first_line"], s["last_line"]) for s in summaries] == [
        (first_line, min(first_line + size - 1, len(lines)))
        for lines, size in steps
        for first_line in range(1, len(lines) + 1, size)
    ]
    per_step = [len(range(0, len(lines), size)) for lines, size in steps]
    starts = [sum(per_step[:i]) for i in range(len(steps))]
    for outcome, start, count in zip(outcomes, starts, per_step, strict=True):
        step = summaries[start : start + count]
        assert sum(s["reports_created"] for s in step) == outcome[0]
        assert sum(s["reports_duplicate"] for s in step) == outcome[6]
    extra = summaries[starts[1] : starts[2]]
    # Lines 1-4: two stored again, two new reports of the seed claim; 9-19 all "fresh".
    assert [s["claims"] for s in extra] == [[SEED_CLAIM], extra[1]["claims"]] + [["fresh"]] * 3
    assert "fresh" in extra[1]["claims"] and extra[0]["reports_unchanged"] == 2
    assert {"A wholly new outlet", "Ynet"} <= {o for s in extra for o in s["outlets"]}
    # seed + file + new lines, the duplicates of each counted once
    assert outcomes[1][6:] == (1, 1)  # x-15 is x-12 again; x-13 repeats x-12
    created = outcomes[0][0] + outcomes[1][0]
    assert len(expected["reports"]) == 24 + created == 24 + len(first) - outcomes[0][6] + 15
    reports = {row[0]: row for row in expected["reports"]}
    outlets_of = {key: outlet for key, _, outlet, *_ in expected["reports"]}
    assert [outlets_of[f"x-{n}"] for n in (7, 8, 9, 10, 11)] == [
        "Reuters",
        "Middle East Eye",
        "Reuters",
        "Ynet",
        "Ynet",
    ]
    assert "x-15" not in reports
    cites_of = {key: (row[7], row[12], row[13]) for key, row in reports.items()}
    assert cites_of["x-13"] == ("x-12", True, False)  # inferred
    assert cites_of["x-14"] == (None, False, True)  # independent: never inferred
    assert cites_of["x-16"] == ("x-12", False, False)  # the duplicate's key names the original
    vetted = {name: vetted for name, *_, vetted in expected["outlets"]}
    assert not vetted["Ynet"] and not vetted["A wholly new outlet"] and vetted["Reuters"]


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"claim": "Another text"}, "claim"),
        ({"cites": "no-such-report"}, "cites"),
        ({"cites": "other-claim"}, "cites"),
        ({"report_key": None, "stance": "flipped"}, "report_key"),
        ({"verdict": "contradicts"}, "verdict"),
        ({"stance": "sideways"}, "stance"),
        ({"published_at": "2099-01-01T00:00:00Z"}, "published_at"),
    ],
)
def test_bulk_import_refuses_the_same_line_as_the_recorder(database_url, bad, field):
    lines = _synthetic_lines()[:25]
    lines.insert(
        0, {**lines[0], "claim_key": "other", "claim": "Other", "report_key": "other-claim"}
    )
    previous = lines[16]  # line 17; the bad line is 18, in the third batch of six
    bad_line = {**previous, "report_key": "bad", **bad}
    if bad.get("stance") == "flipped":  # the previous line's key with other content
        bad_line["report_key"] = previous["report_key"]
        bad_line["stance"] = "denies" if previous["stance"] == "supports" else "supports"
    if bad.get("verdict") == "contradicts":
        previous["verdict"] = True if previous["verdict"] is None else previous["verdict"]
        bad_line["verdict"] = not previous["verdict"]
    lines.insert(17, bad_line)
    outcomes, expected = _run(database_url, [(lines, 6)], bulk=False)
    bulk_outcomes, got = _run(database_url, [(lines, 6)], bulk=True)
    assert outcomes[0].startswith(f"line 18, field '{field}'"), outcomes
    assert bulk_outcomes == outcomes
    assert got == expected
    assert len(expected["reports"]) == 24 + 12  # the seed, and the two batches before line 18
