"""Bulk paths: the seed story, ``srs import``, ``srs export`` and ``srs rescore``."""

from __future__ import annotations

import itertools
import queue
import sys
import threading
from collections.abc import Iterator
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import Claim, Report, Verdict
from models.database import UnitOfWork, make_engine, make_session_factory
from scoring.interchange import InterchangeRecord, read_numbered_records
from seeds.loader import read_seed_story
from service.newsroom.model_store import active_parameters
from service.newsroom.outlet_directory import store_seed_names
from service.newsroom.recording import IMPORT_ACTOR, RecordingSummary, ReportRecorder
from service.newsroom.rescoring import rescore_claims
from service.operations.bulk_import import import_batch

SEED_ACTOR = "seed"


def load_seed_story(session: Session) -> RecordingSummary:
    """The seed story, validated whole before anything is written; idempotent."""
    story = read_seed_story()
    recorder = ReportRecorder(session, actor=SEED_ACTOR)
    for outlet in story.outlets:
        recorder.ensure_outlet(outlet)
    session.flush()
    store_seed_names(session, story.outlets)
    for line, record in enumerate(story.reports, start=1):
        recorder.add(record, line)
    return recorder.finish(cause="seed story loaded")


def _merge(total: RecordingSummary, part: RecordingSummary) -> None:
    total.reports_created += part.reports_created
    total.reports_unchanged += part.reports_unchanged
    total.claims_created += part.claims_created
    total.outlets_created += part.outlets_created
    total.verdicts_created += part.verdicts_created
    total.reports_duplicate += part.reports_duplicate
    total.echoes_inferred += part.echoes_inferred
    total.new_outlets.extend(part.new_outlets)


def import_stream(
    url: str,
    lines: IO[str],
    *,
    batch_size: int = 1000,
    progress: bool = False,
    bulk: bool = True,
) -> RecordingSummary:
    """Import JSON Lines in batches, each in its own transaction.

    The file is read lazily, ``batch_size`` lines at a time, so memory does not grow with
    its length. A bad line raises :class:`RecordError` (naming the line) and its batch is
    rolled back whole; earlier batches stay committed. ``bulk`` checks and writes each
    batch in set operations (:mod:`service.operations.bulk_import`); without it every line goes
    through :class:`ReportRecorder` as an API request does. Both store the same rows.
    """
    factory = make_session_factory(make_engine(url))
    total = RecordingSummary()
    done = 0
    for batch in read_ahead(lines, batch_size):
        with UnitOfWork(factory) as uow:
            if bulk:
                part = import_batch(uow.session, batch, actor=IMPORT_ACTOR, cause="import")
            else:
                recorder = ReportRecorder(
                    uow.session, actor=IMPORT_ACTOR, create_unknown_outlets=True
                )
                for line, record in batch:
                    recorder.add(record, line)
                part = recorder.finish(cause="import")
            uow.commit()
        _merge(total, part)
        done += len(batch)
        if progress:
            print(f"\rimported {done:,} lines", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return total


def read_ahead(
    lines: IO[str], batch_size: int, ahead: int = 2
) -> Iterator[list[tuple[int, InterchangeRecord]]]:
    """Batches of numbered records, parsed by a thread while the caller's thread waits on
    the database (psycopg releases the GIL), at most ``ahead`` batches in advance.

    A bad line's :class:`RecordError` is raised where its batch would have been yielded,
    so every batch before it is still imported, as without reading ahead.
    """
    ready: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def hand_over(item) -> None:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def read() -> None:
        try:
            records = read_numbered_records(lines)
            while not stop.is_set():
                batch = list(itertools.islice(records, batch_size))
                hand_over(batch)
                if not batch:
                    return
        except Exception as error:  # raised again in the caller's thread
            hand_over(error)

    reader = threading.Thread(target=read, name="import-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = ready.get()
            if isinstance(item, Exception):
                raise item
            if not item:
                return
            yield item
    finally:
        stop.set()
        reader.join()


def import_file(url: str, path: str, **kwargs) -> RecordingSummary:
    if path == "-":
        return import_stream(url, sys.stdin, **kwargs)
    with open(path, encoding="utf-8") as lines:
        return import_stream(url, lines, **kwargs)


def export_records(session: Session, chunk: int = 1000) -> Iterator[InterchangeRecord]:
    """Every live report as an interchange record, read in chunks by id (keyset paging)."""
    last_id = 0
    while True:
        reports = session.scalars(
            select(Report)
            .where(Report.id > last_id, Report.retracted_at.is_(None))
            .options(joinedload(Report.claim), joinedload(Report.outlet), joinedload(Report.cites))
            .order_by(Report.id)
            .limit(chunk)
        ).all()
        if not reports:
            return
        verdicts = _latest_verdicts(session, {r.claim_id for r in reports})
        for report in reports:
            yield InterchangeRecord(
                claim_key=report.claim.key,
                claim=report.claim.text,
                outlet=report.outlet.name,
                stance=report.stance,
                verdict=verdicts.get(report.claim_id),
                report_key=report.key,
                attribution=report.attribution,
                source=report.source,
                interested_party=report.interested_party,
                cites=report.cites.key if report.cites is not None else None,
                cites_inferred=report.cites_inferred,
                independent=report.independent,
                published_at=report.published_at,
                url=report.url,
                quote=report.quote,
            )
        last_id = reports[-1].id
        session.expunge_all()


def _latest_verdicts(session: Session, claim_ids: set[int]) -> dict[int, bool]:
    latest: dict[int, bool] = {}
    rows = session.execute(
        select(Verdict.claim_id, Verdict.verdict)
        .where(Verdict.claim_id.in_(claim_ids))
        .order_by(Verdict.id)
    )
    for claim_id, verdict in rows:
        latest[claim_id] = verdict
    return latest


def rescore_all(session: Session, cause: str, batch: int = 500) -> tuple[int, int]:
    """Recompute every claim with the active model; returns (claims, changed)."""
    params = active_parameters(session)
    count = changed = 0
    last_id = 0
    while True:
        claims = session.scalars(
            select(Claim)
            .where(Claim.id > last_id)
            .order_by(Claim.id)
            .limit(batch)
            .with_for_update()
        ).all()
        if not claims:
            return count, changed
        before = {c.id: (c.confidence, c.confidence_lower, c.confidence_upper) for c in claims}
        for claim_id, score in rescore_claims(session, claims, params, cause).items():
            changed += before[claim_id] != (score.confidence, score.lower, score.upper)
        count += len(claims)
        last_id = claims[-1].id
