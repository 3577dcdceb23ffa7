"""``srs import`` at scale: the rules of :class:`ReportRecorder`, a batch at a time.

The recorder asks the database about every line (its claim, outlet, report key, verdict)
and flushes ORM objects one by one, which is right for an API request and a few hundred
lines a second for a file. Here a batch's claims, outlets, reports and verdicts are read in
one query each, the lines are checked in order against them by the recorder's own rules
(``check_*`` and ``verdict_is_new`` in :mod:`service.newsroom.recording`, so the first bad
line is refused with the same line, field and message), each touched claim is scored once
from its stored reports plus the batch's, and the rows are written in bulk (the columns of
:func:`~service.newsroom.rescoring.score_columns` and
:func:`~service.newsroom.rescoring.history_row`, as ``store_score`` writes them): COPY on
PostgreSQL, executemany elsewhere. The rows are those the recorder writes for the same
batches; ``tests/test_bulk_import.py`` holds the two paths to that.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Table, any_, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from models import Claim, Outlet, Report, ScoreHistory, Verdict
from models.base import utcnow
from models.copying import copy_rows, reserve_ids
from scoring.evidence import ClaimScore, ModelParameters, ReportEvidence
from scoring.interchange import InterchangeRecord
from service.delivery.outbox import (
    emit_claim_created,
    emit_claim_resolved,
    emit_report_retracted,
    emit_score_changed,
)
from service.newsroom.recording import (
    RecordingSummary,
    ReportRecorder,
    check_cited,
    check_cites_same_claim,
    check_claim_text,
    check_published_at,
    check_unchanged,
    claim_story_after,
    new_report_key,
    retraction,
    verdict_is_new,
)
from service.newsroom.report_identity import ReportFacts
from service.newsroom.report_matching import ReportMatcher
from service.newsroom.rescoring import (
    history_row,
    score_changed,
    score_columns,
    scores_for_storage,
)
from service.newsroom.stored_reports import evidence_by_claim, stored_reports

IN_LIST_CHUNK = 5000  # bound on bind parameters per IN (...) list


def _chunks(values: Sequence, size: int = IN_LIST_CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass
class _ClaimRow:
    """A claim of the batch: as stored (locked) or about to be created."""

    key: str
    text: str
    id: int | None = None
    status: str = "open"
    confidence: float | None = None
    confidence_lower: float | None = None
    confidence_upper: float | None = None
    label: str | None = None
    model_version: str | None = None
    verdict: bool | None = None  # latest, stored or added by this batch
    story: str | None = None
    new: bool = False
    reports: list[_NewReport] = field(default_factory=list)


@dataclass
class _StoredReport:
    id: int
    key: str
    claim_key: str
    outlet_name: str
    cites_key: str | None
    stance: str
    attribution: str
    source: str | None
    interested_party: bool
    published_at: datetime | None
    url: str | None
    quote: str | None
    cites_inferred: bool = False
    independent: bool = False

    def content(self) -> tuple:
        # Keys and names are unique, so they compare as the recorder compares ids.
        return (
            self.claim_key,
            self.outlet_name,
            self.stance,
            self.attribution,
            self.source,
            self.interested_party,
            self.published_at,
            self.url,
            self.quote,
            self.independent,
        )


def _same_content(existing: _StoredReport | _NewReport, new: _NewReport) -> bool:
    """The recorder's comparison of a report stored under a key with a record sent under
    it: the same content, and the same citation, or an inferred one where the record names
    none (the link was the service's reading, not the sender's)."""
    cites = new.cites.key if new.cites is not None else None
    return existing.content() == new.content() and (
        existing.cites_key == cites or (existing.cites_inferred and cites is None)
    )


@dataclass
class _NewReport:
    key: str
    claim: _ClaimRow
    outlet: Any  # a row of (id, name, slug, kind, prior_reliability) or a new Outlet
    cites: _StoredReport | _NewReport | None
    record: InterchangeRecord
    id: int | None = None
    cites_inferred: bool = False

    @property
    def claim_key(self) -> str:
        return self.claim.key

    @property
    def cites_key(self) -> str | None:
        return self.cites.key if self.cites is not None else None

    # What the report.retracted event reads from a stored report (besides id, key, outlet).
    @property
    def claim_id(self) -> int | None:
        return self.claim.id

    def content(self) -> tuple:
        r = self.record
        return (
            self.claim.key,
            self.outlet.name,
            r.stance,
            r.attribution,
            r.source,
            r.interested_party,
            r.published_at,
            r.url,
            r.quote,
            r.independent,
        )

    def evidence(self) -> ReportEvidence:
        return ReportEvidence(
            key=self.key,
            outlet=self.outlet.name,
            stance=self.record.stance,
            attribution=self.record.attribution,
            source=self.record.source,
            interested_party=self.record.interested_party,
            cites=self.cites.key if self.cites is not None else None,
            outlet_reliability=self.outlet.prior_reliability,
            outlet_kind=self.outlet.kind,
            published_at=self.record.published_at,
            cites_inferred=self.cites_inferred,
            story=self.claim.story,
            quote=self.record.quote,
        )


class BulkBatch:
    """One batch of import lines, checked and written inside the caller's transaction."""

    def __init__(self, session: Session, actor: str):
        self.session = session
        self.actor = actor
        self.postgres = session.get_bind().dialect.name == "postgresql"
        # Outlets go through the recorder: the same slugs, priors and rationale, and new
        # outlets are few.
        self.recorder = ReportRecorder(session, actor=actor, create_unknown_outlets=True)
        self.params: ModelParameters = self.recorder.params
        self.summary = RecordingSummary()
        self.claims: dict[str, _ClaimRow] = {}
        self.outlets: dict[str, Any] = {}  # name -> row or new Outlet: .id, .slug, .kind, …
        self.reports: dict[str, _StoredReport | _NewReport] = {}
        self.new_reports: list[_NewReport] = []
        self.verdicts: list[tuple[_ClaimRow, bool]] = []
        self.touched: dict[str, _ClaimRow] = {}
        # One vote per report, by the recorder's rules; keys of duplicates, for citations.
        self.matcher = ReportMatcher()
        self.now = utcnow()
        self.duplicate_keys: dict[str, _StoredReport | _NewReport | SimpleNamespace] = {}

    # -- reading what the batch names ---------------------------------------------------------
    def _in(self, column, values: Sequence):
        """``column IN values``; on PostgreSQL one array parameter (``= ANY``) instead of
        thousands of bind parameters, which cost more to render and parse than to run."""
        if self.postgres:
            return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        return column.in_(values)

    def _prefetch(self, records: Sequence[InterchangeRecord]) -> None:
        claim_keys = sorted({r.claim_key for r in records})
        columns = (
            Claim.id,
            Claim.key,
            Claim.text,
            Claim.status,
            Claim.confidence,
            Claim.confidence_lower,
            Claim.confidence_upper,
            Claim.label,
            Claim.model_version,
            Claim.story,
        )
        for keys in _chunks(claim_keys):
            statement = select(*columns).where(self._in(Claim.key, keys)).order_by(Claim.id)
            # Locked now, in id order like lock_claims: their scores are rewritten below.
            for row in self.session.execute(statement.with_for_update()):
                self.claims[row.key] = _ClaimRow(**row._asdict())
        stored_ids = {c.id: c for c in self.claims.values()}
        for ids in _chunks(sorted(stored_ids)):
            rows = self.session.execute(
                select(Verdict.claim_id, Verdict.verdict)
                .where(self._in(Verdict.claim_id, ids))
                .order_by(Verdict.id)
            )
            for claim_id, verdict in rows:
                stored_ids[claim_id].verdict = verdict
        for ids in _chunks(sorted(stored_ids)):
            self.matcher.load(self.session, {i: stored_ids[i].key for i in ids})
        names = sorted({r.outlet for r in records})
        columns = (Outlet.id, Outlet.name, Outlet.slug, Outlet.kind, Outlet.prior_reliability)
        for chunk in _chunks(names):
            for row in self.session.execute(select(*columns).where(self._in(Outlet.name, chunk))):
                self.outlets[row.name] = row
        report_keys = sorted(
            {r.report_key for r in records if r.report_key} | {r.cites for r in records if r.cites}
        )
        for keys in _chunks(report_keys):
            for stored in self._stored_reports(self._in(Report.key, keys)):
                self.reports[stored.key] = stored

    def _stored_reports(self, condition) -> Iterator[_StoredReport]:
        for row in self.session.execute(stored_reports().where(condition)):
            yield _StoredReport(
                id=row.id,
                key=row.key,
                claim_key=row.claim_key,
                outlet_name=row.outlet_name,
                cites_key=row.cites_key,
                stance=row.stance,
                attribution=row.attribution,
                source=row.source,
                interested_party=row.interested_party,
                published_at=row.published_at,
                url=row.url,
                quote=row.quote,
                cites_inferred=row.cites_inferred,
                independent=row.independent,
            )

    # -- the recorder's rules, line by line ----------------------------------------------------
    def _claim_for(self, record: InterchangeRecord, line: int) -> _ClaimRow:
        claim = self.claims.get(record.claim_key)
        if claim is None:
            claim = _ClaimRow(key=record.claim_key, text=record.claim, new=True)
            self.claims[claim.key] = claim
            self.matcher.start_claim(claim.key)
            self.summary.claims_created += 1
        check_claim_text(record.claim_key, claim.text, record.claim, line)
        story = claim_story_after(claim.key, claim.story, record.story, line)
        if story != claim.story:
            claim.story = story
            self.touched[claim.key] = claim  # it starts from its story's rate now
        return claim

    def _apply_verdict(self, claim: _ClaimRow, verdict: bool | None, line: int) -> None:
        if verdict is None:
            return
        if not verdict_is_new(claim.key, claim.verdict, verdict, line):
            return
        self.verdicts.append((claim, verdict))
        claim.verdict = verdict
        claim.status = "resolved_true" if verdict else "resolved_false"
        self.summary.verdicts_created += 1
        self.touched[claim.key] = claim

    def add(self, record: InterchangeRecord, line: int) -> None:
        check_published_at(record, line, self.now)
        claim = self._claim_for(record, line)
        outlet = self.outlets.get(record.outlet)
        if outlet is None:  # not an exact stored name: the recorder resolves or makes it
            outlet = self.recorder.outlet_for(record.outlet, record.url, line)
        cites = None
        if record.cites is not None:
            cites = self.reports.get(record.cites) or self.duplicate_keys.get(record.cites)
            check_cited(record, cites is not None, line)
        if cites is not None:
            check_cites_same_claim(cites.claim_key == claim.key, line)
        key = record.report_key or new_report_key()
        report = _NewReport(key=key, claim=claim, outlet=outlet, cites=cites, record=record)
        existing = self.reports.get(key) if record.report_key else None
        if existing is not None:
            check_unchanged(key, _same_content(existing, report), line)
            self.summary.reports_unchanged += 1
            self._apply_verdict(claim, record.verdict, line)
            return
        retracted = record.retracted_at is not None
        facts = ReportFacts.of_record(record, outlet.id, cites, self.now)
        match = self.matcher.match(facts) if not retracted else None
        if match is not None and match.duplicate_of is not None:
            if record.report_key is not None:  # later lines may cite it by this key
                self.duplicate_keys[record.report_key] = self._citable(match.duplicate_of)
            self.summary.reports_duplicate += 1
            self._apply_verdict(claim, record.verdict, line)
            return
        if cites is None and match is not None and match.echo_of is not None:
            report.cites = self._citable(match.echo_of)
            report.cites_inferred = True
            self.summary.echoes_inferred += 1
        elif record.cites_inferred:
            report.cites_inferred = True
        if not retracted:
            # Built again rather than dataclasses.replace, a tenth of the line's time.
            remembered = ReportFacts.of_record(
                record, outlet.id, report.cites, self.now, key=key, ref=report
            )
            self.matcher.remember(remembered)
        self.reports[key] = report
        self.new_reports.append(report)
        claim.reports.append(report)
        self.touched[claim.key] = claim
        self.summary.reports_created += 1
        self.summary.outlet_ids.add(outlet.id)
        self._apply_verdict(claim, record.verdict, line)

    def _citable(self, facts: ReportFacts) -> _NewReport | SimpleNamespace:
        """A matched report as a citation: a report of this batch, or a stored one's id,
        key and claim."""
        if isinstance(facts.ref, _NewReport):
            return facts.ref
        return SimpleNamespace(id=facts.ref, key=facts.key, claim_key=facts.claim)

    # -- scoring and writing -------------------------------------------------------------------
    def _scores(self) -> dict[str, tuple[ClaimScore, list | None]]:
        """Each touched claim's score and what would change it, by claim key, the batch's
        claims scored together (:func:`~service.newsroom.rescoring.scores_for_storage`,
        equal to scoring each alone)."""
        stored = [c for c in self.touched.values() if not c.new]
        stored_evidence: dict[int, list[ReportEvidence]] = {}
        for chunk in _chunks(sorted(c.id for c in stored)):
            stored_evidence.update(evidence_by_claim(self.session, chunk))
        evidence = {}
        for key, claim in self.touched.items():
            # Stored reports first, then the batch's: report id order, as the recorder reads.
            live = [r.evidence() for r in claim.reports if r.record.retracted_at is None]
            evidence[key] = stored_evidence.get(claim.id, []) + live
        verdicts = {key: claim.verdict for key, claim in self.touched.items()}
        return scores_for_storage(evidence, self.params, verdicts)

    def finish(self, cause: str) -> RecordingSummary:
        self.session.flush()  # new outlets get their ids
        scores = self._scores()
        now = utcnow()
        # Each touched claim's stored score columns, once (the new claims' rows and the
        # stored claims' updates both take them).
        columns = {
            key: score_columns(score, now, changes) for key, (score, changes) in scores.items()
        }
        new_claims = [c for c in self.claims.values() if c.new]
        writer = _CopyWriter(self.session) if self.postgres else _ExecutemanyWriter(self.session)
        claim_rows = []
        for claim in new_claims:
            row = {"key": claim.key, "text": claim.text, "status": claim.status}
            row["story"] = claim.story
            claim_rows.append({**row, "created_at": now, **columns[claim.key], "updated_at": now})
        for claim, claim_id in zip(new_claims, writer.insert_claims(claim_rows), strict=True):
            claim.id = claim_id
        writer.insert_reports(self.new_reports, now)
        writer.insert(
            Verdict.__table__,
            [
                {
                    "claim_id": claim.id,
                    "verdict": verdict,
                    "note": "",
                    "resolved_by": self.actor,
                    "resolved_at": now,
                    "model_confidence": claim.confidence,
                }
                for claim, verdict in self.verdicts
            ],
        )
        # The recorder's events, in its order: claims created, reports stored retracted,
        # verdicts; then each score change, in claim id order as rescoring emits them.
        for claim in new_claims:
            emit_claim_created(self.session, claim)
        for report in self.new_reports:
            if report.record.retracted_at is not None:
                emit_report_retracted(self.session, report, report.record.retraction_reason or "")
        for claim, verdict in self.verdicts:
            emit_claim_resolved(self.session, claim, verdict, claim.confidence, "", self.actor)
        updates, history = [], []
        # History in claim id order, as the recorder's lock_claims order writes it.
        for claim in sorted(self.touched.values(), key=lambda c: c.id):
            score, changes = scores[claim.key]
            changed = claim.new or score_changed(claim, score)
            written = {**columns[claim.key], **({"updated_at": now} if changed else {})}
            if not claim.new:
                updates.append(
                    {"b_id": claim.id, **written, "status": claim.status, "story": claim.story}
                )
            if changed:
                history.append(history_row(claim.id, score, cause, now))
                stored = SimpleNamespace(id=claim.id, status=claim.status, **written)
                emit_score_changed(self.session, stored, claim.confidence, claim.label, cause)
        _update_claims(self.session, updates)
        writer.insert(ScoreHistory.__table__, history)
        self.summary.scores = {claim.id: scores[key][0] for key, claim in self.touched.items()}
        self.summary.outlets_created = self.recorder.summary.outlets_created
        self.summary.new_outlets = self.recorder.summary.new_outlets
        return self.summary


def import_batch(
    session: Session, batch: Iterable[tuple[int, InterchangeRecord]], actor: str, cause: str
) -> RecordingSummary:
    """Check and store one batch of numbered records; the caller commits."""
    batch = list(batch)
    bulk = BulkBatch(session, actor)
    bulk._prefetch([record for _, record in batch])
    for line, record in batch:
        bulk.add(record, line)
    return bulk.finish(cause)


def _update_claims(session: Session, rows: list[dict[str, Any]]) -> None:
    """Executemany UPDATE by id, grouped by the set of columns each row changes."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(k for k in row if k != "b_id")), []).append(row)
    for group in groups.values():
        # The SET clause is the rows' keys other than b_id (the same in a group).
        statement = update(Claim.__table__).where(Claim.__table__.c.id == bindparam("b_id"))
        session.connection().execute(statement, group)


def _report_row(report: _NewReport, now: datetime) -> dict[str, Any]:
    r = report.record
    return {
        "id": report.id,
        "key": report.key,
        "claim_id": report.claim.id,
        "outlet_id": report.outlet.id,
        "stance": r.stance,
        "attribution": r.attribution,
        "source": r.source,
        "interested_party": r.interested_party,
        "cites_id": report.cites.id if report.cites is not None else None,
        "cites_inferred": report.cites_inferred,
        "independent": r.independent,
        "published_at": r.published_at,
        "url": r.url,
        "quote": r.quote,
        "created_at": now,
        **retraction(r),
    }


class _ExecutemanyWriter:
    """Core executemany (SQLAlchemy batches it into multi-row INSERTs)."""

    def __init__(self, session: Session):
        self.connection = session.connection()

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.connection.execute(insert(table), rows)

    def insert_claims(self, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        table = Claim.__table__
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(self.connection.execute(statement, rows).scalars())

    def insert_reports(self, reports: list[_NewReport], now: datetime) -> None:
        """Insert without the batch's own citations, then set those once ids are known."""
        if not reports:
            return
        table = Report.__table__
        rows = []
        for report in reports:
            row = _report_row(report, now)
            del row["id"]
            if isinstance(report.cites, _NewReport):
                row["cites_id"] = None
                row["cites_inferred"] = False  # set with the link below
            rows.append(row)
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = self.connection.execute(statement, rows).scalars().all()
        for report, report_id in zip(reports, ids, strict=True):
            report.id = report_id
        citing = [
            {"b_id": r.id, "cites_id": r.cites.id, "cites_inferred": r.cites_inferred}
            for r in reports
            if isinstance(r.cites, _NewReport)
        ]
        if citing:
            self.connection.execute(
                update(table).where(table.c.id == bindparam("b_id")),
                citing,
            )


class _CopyWriter:
    """PostgreSQL: ids drawn from the tables' sequences, rows sent with COPY."""

    def __init__(self, session: Session):
        self.session = session

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        copy_rows(self.session, table, rows)

    def insert_claims(self, rows: list[dict[str, Any]]) -> list[int]:
        ids = reserve_ids(self.session, Claim.__table__, len(rows))
        self.insert(Claim.__table__, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
        return ids

    def insert_reports(self, reports: list[_NewReport], now: datetime) -> None:
        ids = reserve_ids(self.session, Report.__table__, len(reports))
        for report, report_id in zip(reports, ids, strict=True):
            report.id = report_id
        self.insert(Report.__table__, [_report_row(report, now) for report in reports])
