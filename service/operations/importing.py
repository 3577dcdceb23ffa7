"""Bulk paths: the seed story (as the seed command reads it), ``srs import`` and
``srs rescore`` (``srs export`` reads :func:`service.newsroom.stored_reports.export_records`)."""

from __future__ import annotations

import itertools
import queue
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Claim
from models.database import UnitOfWork, make_engine, make_session_factory
from scoring.interchange import InterchangeRecord, read_numbered_records
from service.delivery.outbox import emit_import_batch_recorded
from service.newsroom.model_store import active_parameters
from service.newsroom.outlet_directory import store_seed_names
from service.newsroom.outlets import NewOutlet
from service.newsroom.recording import IMPORT_ACTOR, RecordingSummary, ReportRecorder
from service.newsroom.rescoring import rescore_claims
from service.operations.bulk_import import import_batch

SEED_ACTOR = "seed"


def record_seed_story(
    session: Session, outlets: Iterable[NewOutlet], reports: Iterable[InterchangeRecord]
) -> RecordingSummary:
    """The seed story (read and validated whole by the seed command before anything is
    written: :func:`service.cli.data.load_seed_story`); idempotent."""
    outlets = list(outlets)
    recorder = ReportRecorder(session, actor=SEED_ACTOR)
    for outlet in outlets:
        recorder.ensure_outlet(outlet)
    session.flush()
    store_seed_names(session, outlets)
    for line, record in enumerate(reports, start=1):
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
    through :class:`ReportRecorder` as an API request does. Both store the same rows and
    emit the same events: no ``report.recorded`` per report but one
    ``import.batch_recorded`` per batch (:func:`emit_batch_summary`).
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
                    uow.session,
                    actor=IMPORT_ACTOR,
                    create_unknown_outlets=True,
                    report_events=False,
                )
                for line, record in batch:
                    recorder.add(record, line)
                part = recorder.finish(cause="import")
            emit_batch_summary(uow.session, batch[0][0], batch[-1][0], part)
            uow.commit()
        _merge(total, part)
        done += len(batch)
        if progress:
            print(f"\rimported {done:,} lines", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return total


def emit_batch_summary(
    session: Session, first_line: int, last_line: int, part: RecordingSummary
) -> None:
    """The one event of an import batch: what it stored, the claims it rescored (those
    whose reports or verdicts it changed) and the outlets of the reports it created."""
    counts = {
        "reports_created": part.reports_created,
        "reports_unchanged": part.reports_unchanged,
        "reports_duplicate": part.reports_duplicate,
        "echoes_inferred": part.echoes_inferred,
        "claims_created": part.claims_created,
        "outlets_created": part.outlets_created,
        "verdicts_created": part.verdicts_created,
    }
    emit_import_batch_recorded(
        session, first_line, last_line, counts, part.scores.keys(), part.outlet_ids
    )


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
