"""Incremental scoring (each write rescoring its claim) equals a batch recompute."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models import Base, Claim, Report, ScoreHistory
from models.database import UnitOfWork
from scoring.engine import score_claim
from scoring.vocabulary import ATTRIBUTIONS, STANCES
from service.cli.data import load_seed_story
from service.newsroom.editorial import record_reports, resolve_claim, retract_report
from service.newsroom.keys import Caller
from service.newsroom.model_store import active_parameters
from service.newsroom.rescoring import claim_evidence, latest_verdict
from service.operations.importing import rescore_all

EDITOR = Caller(key_id=None, name="test", scope="admin")
OUTLETS = ["Reuters", "Kan", "TASS", "Middle East Eye", "Brand new outlet"]
CLAIMS = ["hamas-leadership-moved-to-turkey", "qatar-asked-hamas-to-leave", "a-new-claim"]

report_op = st.fixed_dictionaries(
    {
        "op": st.just("report"),
        "claim": st.sampled_from(CLAIMS),
        "outlet": st.sampled_from(OUTLETS),
        "stance": st.sampled_from(STANCES),
        "attribution": st.sampled_from(ATTRIBUTIONS),
        "source": st.sampled_from([None, "a diplomat", "the ministry"]),
        "interested_party": st.booleans(),
        "cite": st.integers(min_value=0, max_value=30) | st.none(),
    }
)
retract_op = st.fixed_dictionaries(
    {"op": st.just("retract"), "which": st.integers(min_value=0, max_value=60)}
)
verdict_op = st.fixed_dictionaries(
    {"op": st.just("verdict"), "claim": st.sampled_from(CLAIMS), "verdict": st.booleans()}
)
streams = st.lists(st.one_of(report_op, report_op, retract_op, verdict_op), max_size=25)


def _apply(session, op, recorded):
    if op["op"] == "report":
        texts = {c.key: c.text for c in session.scalars(select(Claim))}
        body = {
            "claim_key": op["claim"],
            "claim": texts.get(op["claim"], "A new claim"),
            "outlet": op["outlet"],
            "new_outlet": True,
            "stance": op["stance"],
            "attribution": op["attribution"],
            "source": op["source"],
            "interested_party": op["interested_party"],
        }
        same_claim = [r for r in recorded if r[1] == op["claim"]]
        if op["cite"] is not None and same_claim:
            body["cites"] = same_claim[op["cite"] % len(same_claim)][0]
        (report,) = record_reports(
            session, [body], EDITOR, similarity_threshold=2.0, can_resolve=True
        ).reports
        recorded.append((report.id, op["claim"]))
    elif op["op"] == "retract" and recorded:
        report_id = recorded[op["which"] % len(recorded)][0]
        if session.get(Report, report_id).retracted_at is None:
            retract_report(session, report_id, "test", EDITOR)
    elif op["op"] == "verdict":
        claim = session.scalars(select(Claim).where(Claim.key == op["claim"])).first()
        if claim is not None:
            resolve_claim(session, claim.id, op["verdict"], "", EDITOR, replaces_verdict=True)


def _check_stored_equals_batch(session):
    params = active_parameters(session)
    for claim in session.scalars(select(Claim)):
        verdict = latest_verdict(session, claim.id)
        batch = score_claim(
            claim_evidence(session, claim.id),
            params,
            verdict=None if verdict is None else verdict.verdict,
        )
        assert abs(claim.confidence - batch.confidence) <= 1e-9
        assert abs(claim.confidence_lower - batch.lower) <= 1e-9
        assert abs(claim.confidence_upper - batch.upper) <= 1e-9
        assert claim.n_reports == batch.n_reports and claim.label == batch.label


def _empty(session):
    """Hypothesis runs many examples on one database: start each from nothing."""
    session.execute(Report.__table__.update().values(cites_id=None, cites_inferred=False))
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(table.delete())


@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(stream=streams)
def test_incremental_equals_batch_on_random_streams(session_factory, stream):
    with UnitOfWork(session_factory) as uow:
        session = uow.session
        _empty(session)
        load_seed_story(session)
        uow.commit()
        recorded: list[tuple[int, str]] = []
        for op in stream:
            _apply(session, op, recorded)
            uow.commit()
        _check_stored_equals_batch(session)
        history = session.scalar(select(func.count()).select_from(ScoreHistory))
        count, changed = rescore_all(session, cause="batch rescore")
        uow.commit()
        assert changed == 0
        # A rescore that changes nothing appends nothing to the history.
        assert session.scalar(select(func.count()).select_from(ScoreHistory)) == history
