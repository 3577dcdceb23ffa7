"""``srs export | srs import`` into an empty database gives back the same claims, reports,
citations, retractions, verdicts and scores (issue 14, item 4): on the seed story and on a
synthetic set, on both backends, through both import paths."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Claim, Outlet, Report, Verdict
from models.database import UnitOfWork, make_engine, make_session_factory
from scoring.interchange import write_records
from scoring.synth import generate
from seeds.loader import read_seed_story
from service.cli import main
from service.newsroom.editorial import resolve_claim, retract_report
from service.newsroom.keys import Caller
from service.operations.backup import empty_database
from service.operations.importing import record_seed_story


def _run(cli_runner, database_url: str, *args: str):
    result = cli_runner.invoke(main, ["--database-url", database_url, *args])
    assert result.exit_code == 0, result.output
    return result


def _second(value):
    # The interchange format writes times to the second.
    return value.replace(microsecond=0) if value is not None else None


def _snapshot(database_url: str) -> dict:
    engine = make_engine(database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            s = uow.session
            claims = {
                c.key: (c.text, c.status, c.confidence, c.confidence_lower)
                + (c.confidence_upper, c.label, c.n_reports, c.n_clusters)
                for c in s.scalars(select(Claim))
            }
            verdicts = sorted(
                s.execute(
                    select(Claim.key, Verdict.verdict).join(Claim, Verdict.claim_id == Claim.id)
                )
            )
            reports = {
                r.key: (
                    r.claim.key,
                    r.outlet.name,
                    r.stance,
                    r.attribution,
                    r.source,
                    r.interested_party,
                    r.cites.key if r.cites is not None else None,
                    r.cites_inferred,
                    r.independent,
                    _second(r.published_at),
                    r.url,
                    r.quote,
                    _second(r.retracted_at),
                    r.retraction_reason,
                )
                for r in s.scalars(select(Report))
            }
            outlets = {
                o.name: (o.kind, o.prior_reliability, o.vetted) for o in s.scalars(select(Outlet))
            }
            return {"claims": claims, "verdicts": verdicts, "reports": reports, "outlets": outlets}
    finally:
        engine.dispose()


def _retract_a_cited_report_and_resolve(database_url: str) -> None:
    """Retract a report another report cites, and record one verdict, as the API does."""
    caller = Caller(key_id=None, name="editor", scope="write")
    engine = make_engine(database_url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        cited = uow.session.scalars(
            select(Report.cites_id).where(Report.cites_id.is_not(None)).order_by(Report.id)
        ).first()
        open_claim = uow.session.scalars(
            select(Claim.id).where(Claim.status == "open").order_by(Claim.id.desc())
        ).first()
        assert cited is not None and open_claim is not None
        retract_report(uow.session, cited, "misquoted", caller)
        resolve_claim(uow.session, open_claim, True, "checked", caller)
        uow.commit()
    engine.dispose()


def _export_empty_import(cli_runner, database_url, tmp_path, mode: str, outlets=()) -> str:
    path = tmp_path / "export.jsonl"
    _run(cli_runner, database_url, "export", "--out", str(path))
    engine = make_engine(database_url)
    with engine.begin() as connection:
        empty_database(connection)
    with UnitOfWork(make_session_factory(engine)) as uow:
        # The outlet directory (kinds, priors, names) is not part of the format.
        record_seed_story(uow.session, outlets, [])
        uow.commit()
    engine.dispose()
    _run(cli_runner, database_url, "import", mode, str(path))
    return path.read_text()


@pytest.mark.parametrize("mode", ["--bulk", "--row-by-row"])
def test_the_seed_story_round_trips(database_url, cli_runner, tmp_path, mode):
    _run(cli_runner, database_url, "seed")
    _retract_a_cited_report_and_resolve(database_url)
    before = _snapshot(database_url)
    assert any(r[12] is not None for r in before["reports"].values())
    exported = _export_empty_import(
        cli_runner, database_url, tmp_path, mode, read_seed_story().outlets
    )
    assert '"retracted_at"' in exported and '"retraction_reason": "misquoted"' in exported
    after = _snapshot(database_url)
    assert after == before


def test_a_synthetic_set_round_trips(database_url, cli_runner, tmp_path):
    dataset = generate(25, 8, seed=7, echo_outlets=2, copies_per_echo=2, unlabelled_fraction=0.5)
    source = tmp_path / "synth.jsonl"
    with source.open("w", encoding="utf-8") as stream:
        write_records(dataset.records, stream)
    _run(cli_runner, database_url, "import", str(source))
    _retract_a_cited_report_and_resolve(database_url)
    before = _snapshot(database_url)
    _export_empty_import(cli_runner, database_url, tmp_path, "--bulk")
    assert _snapshot(database_url) == before
