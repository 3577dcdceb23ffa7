"""Recording reports: one from the API, a thousand from a batch, millions from a file.

All paths go through :class:`ReportRecorder` or, for a file in bulk,
:mod:`service.operations.bulk_import`, which calls the same rules (the ``check_*`` functions
and :func:`verdict_is_new` below), so a line of an import file and a ``POST /reports`` body
are checked by the same rules and stored the same way. The recorder works inside the
caller's unit of work: nothing is committed here.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models import Claim, Outlet, Report, Verdict
from models.base import utcnow
from scoring.evidence import ClaimScore, ModelParameters
from scoring.interchange import InterchangeRecord, RecordError
from scoring.vocabulary import DEFAULT_OUTLET_KIND
from service.delivery.outbox import (
    emit_claim_created,
    emit_claim_resolved,
    emit_report_recorded,
    emit_report_retracted,
)
from service.newsroom.model_store import active_parameters
from service.newsroom.outlet_directory import load_outlet_index
from service.newsroom.outlet_identity import OutletIndex, Suggestion, resolve_outlet
from service.newsroom.outlets import NewOutlet, slugify
from service.newsroom.report_identity import ReportFacts
from service.newsroom.report_matching import ReportMatcher
from service.newsroom.rescoring import lock_claims, rescore_claims

IMPORT_ACTOR = "import"


def insert_if_absent(session: Session, model, unique: str, **values) -> bool:
    """INSERT a row unless one with the same ``unique`` column exists; True if inserted.

    ``ON CONFLICT DO NOTHING`` rather than SELECT-then-INSERT: two requests naming the
    same new claim (or outlet) at once would otherwise both insert it and one would fail
    with a unique violation, a 409 for a valid request. On PostgreSQL the second waits for
    the first to commit and then finds its row.
    """
    statement = _insert_unless_stored(session, model, unique, values).returning(model.id)
    return session.execute(statement).first() is not None


def _insert_unless_stored(session: Session, model, unique: str, values: dict[str, Any]):
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return insert(model).values(**values).on_conflict_do_nothing(index_elements=[unique])


# A report dated later than this past the service's clock is refused: a publication time in
# the future is a typo or a wrong zone, and "earliest by publication" would trust it.
MAX_FUTURE = timedelta(minutes=10)


def check_published_at(record: InterchangeRecord, line: int | None, now: datetime) -> None:
    if record.published_at is not None and record.published_at > now + MAX_FUTURE:
        raise RecordError(
            line,
            "published_at",
            f"is more than 10 minutes in the future ({record.published_at.isoformat()}): "
            "a report is not published after it is recorded",
        )


def new_report_key() -> str:
    return "r-" + secrets.token_hex(8)


UNVETTED_RATIONALE = (
    "First seen in a report recorded by {actor}; not vetted: no prior of its own, so it "
    "is scored as an outlet of its kind ({kind}) until an admin gives it one."
)


class UnknownOutlet(RecordError):
    """A report names an outlet no name, slug, alias or domain resolves to."""

    def __init__(self, line: int | None, name: str, suggestions: tuple[Suggestion, ...]):
        self.name = name
        self.suggestions = suggestions
        message = f"names no known outlet: {name!r}"
        if suggestions:
            message += "; did you mean " + " or ".join(repr(s.name) for s in suggestions) + "?"
        else:
            message += "."
        message += ' Send "new_outlet": true to create it (unvetted).'
        super().__init__(line, "outlet", message)


@dataclass
class OutletResolution:
    """How a report's outlet name was read, when not as an exact stored name."""

    line: int | None
    name: str
    outlet: Outlet
    by: str  # "slug", "normalised name", "alias", "domain" or "created"


@dataclass
class Recorded:
    """One record's outcome: ``created``, ``unchanged`` (its report_key is stored with the
    same content) or ``duplicate`` (the same report as ``report``, stored earlier)."""

    report: Report
    outcome: str


# -- the rules a record keeps ----------------------------------------------------------------
# Each is written once and called by both paths: ReportRecorder (row by row) and
# service.operations.bulk_import (a batch at a time), which hold what they compare in
# different shapes (ORM objects; prefetched rows). A broken rule raises RecordError naming
# the line and the field.
def check_claim_text(key: str, stored_text: str, text: str, line: int | None) -> None:
    """A claim key names one text: a record may not restate it differently."""
    if stored_text != text:
        raise RecordError(line, "claim", f"differs from the stored text of claim {key!r}")


def claim_story_after(key: str, stored: str | None, story: str | None, line: int | None):
    """A claim's story once a record is added: a record naming no story leaves it as it
    is; one naming a story gives it to a claim without one; one naming another story than
    the claim's is refused (a claim belongs to one story)."""
    if story is None or story == stored:
        return stored
    if stored is not None:
        raise RecordError(
            line, "story", f"is {story!r}, but claim {key!r} belongs to the story {stored!r}"
        )
    return story


def verdict_is_new(claim_key: str, stored: bool | None, verdict: bool, line: int | None) -> bool:
    """Whether a record's verdict is to be added: not if the claim has it already; one
    contradicting the claim's verdict is refused."""
    if stored is None:
        return True
    if stored != verdict:
        raise RecordError(line, "verdict", f"contradicts the stored verdict of {claim_key!r}")
    return False


def check_cited(record: InterchangeRecord, found: bool, line: int | None) -> None:
    """A record cites a report by key: it must be stored (or earlier in the batch)."""
    if not found:
        raise RecordError(line, "cites", f"names no stored report: {record.cites!r}")


def check_cites_same_claim(same_claim: bool, line: int | None) -> None:
    """A report cites only reports of its own claim."""
    if not same_claim:
        raise RecordError(line, "cites", "names a report of another claim")


def check_unchanged(key: str, same_content: bool, line: int | None) -> None:
    """A report key names one report: a record with a stored key must repeat its content
    (then it is left as it is)."""
    if not same_content:
        raise RecordError(line, "report_key", f"{key!r} is stored with other content")


def retraction(record: InterchangeRecord) -> dict[str, Any]:
    """The retraction columns of a record's new report. A retracted record (``srs export``
    writes them) is stored retracted, as ``POST /reports/{id}/retract`` leaves a report:
    kept, so echoes may cite it, but out of every score and never matched as a duplicate
    or an earlier wording (so a record is neither matched against it nor with it)."""
    return {"retracted_at": record.retracted_at, "retraction_reason": record.retraction_reason}


@dataclass
class RecordingSummary:
    reports_created: int = 0
    reports_unchanged: int = 0
    # The same report sent again (same outlet, claim, stance and url, quote or source):
    # answered with the stored one, counted once (issue 14, item 2).
    reports_duplicate: int = 0
    # Stored citing an earlier report of another outlet they nearly repeat.
    echoes_inferred: int = 0
    claims_created: int = 0
    outlets_created: int = 0
    verdicts_created: int = 0
    scores: dict[int, ClaimScore] = field(default_factory=dict)
    # The outlets of the reports created (srs import's batch summary names them).
    outlet_ids: set[int] = field(default_factory=set)
    # Outlets created unvetted from names nobody had entered (srs import lists them).
    new_outlets: list[str] = field(default_factory=list)


class ReportRecorder:
    """Adds interchange records to a session, resolving outlets, claims and citations.

    Parameters
    ----------
    session:
        The unit of work's session; the caller commits.
    actor:
        Who is recording (an API key's name, ``import``, ``seed``), for verdicts and audit.
    create_unknown_outlets:
        Create an outlet (unvetted) for a name nothing resolves to, as ``srs import``
        does; otherwise such a report is refused with :class:`UnknownOutlet` unless it
        asks for the outlet to be created (``add(..., new_outlet=True)``).
    report_events:
        Emit a ``report.recorded`` event for each report created; ``srs import`` emits
        one summary event per batch instead (:mod:`service.operations.importing`).
    """

    def __init__(
        self,
        session: Session,
        actor: str = IMPORT_ACTOR,
        *,
        create_unknown_outlets: bool = False,
        report_events: bool = True,
    ):
        self.session = session
        self.actor = actor
        self.create_unknown_outlets = create_unknown_outlets
        self.report_events = report_events
        self._index: OutletIndex | None = None
        self.resolutions: list[OutletResolution] = []
        self.matcher = ReportMatcher()
        self.now = utcnow()  # when this unit of work's reports arrived
        self._duplicate_keys: dict[str, Report] = {}  # a duplicate's key → the stored report
        self.params: ModelParameters = active_parameters(session)
        self.summary = RecordingSummary()
        self._outlets: dict[str, Outlet] = {}
        self._claims: dict[str, Claim] = {}
        self._reports: dict[str, Report] = {}
        self._touched_claims: set[int] = set()
        self._locked: set[int] = set()  # claims locked by lock_stored_claims
        self._unstored_keys: set[str] = set()  # claim keys it found no claim for
        self._new_claims: list[Claim] = []
        self._new_reports: list[Report] = []
        self._resolutions: list[tuple[Claim, Verdict]] = []
        self.created_claims: list[Claim] = []

    # -- outlets ---------------------------------------------------------------------------
    def ensure_outlet(self, seed: NewOutlet) -> Outlet:
        """Create an outlet (seeded, added, first seen), or leave an existing one of that
        name as it is."""
        outlet = self._outlet_by_name(seed.name)
        if outlet is None:
            now = utcnow()
            created = insert_if_absent(
                self.session,
                Outlet,
                "name",
                name=seed.name,
                slug=seed.slug,
                country=seed.country,
                kind=seed.kind,
                prior_reliability=seed.prior_reliability,
                prior_rationale=seed.rationale,
                created_at=now,
                updated_at=now,
            )
            outlet = self._outlet_by_name(seed.name)
            self.summary.outlets_created += created
        return outlet

    def _outlet_by_name(self, name: str) -> Outlet | None:
        if name not in self._outlets:
            found = self.session.scalars(select(Outlet).where(Outlet.name == name)).first()
            if found is None:
                return None
            self._outlets[name] = found
        return self._outlets[name]

    def outlet_index(self) -> OutletIndex:
        """Every stored way of naming an outlet, read once (when a name is not exact)."""
        if self._index is None:
            self.session.flush()
            self._index = load_outlet_index(self.session)
        return self._index

    def outlet_for(
        self,
        name: str,
        url: str | None = None,
        line: int | None = None,
        *,
        new_outlet: bool = False,
    ) -> Outlet:
        """The outlet a report's ``outlet`` name (and ``url``) names.

        An exact stored name first (one query, cached); then a slug, the normalised name,
        an alias or the domain of ``url`` (:func:`~service.newsroom.outlet_identity.
        resolve_outlet`). A name nothing resolves to is created unvetted, without a prior
        of its own, when ``new_outlet`` or the recorder's ``create_unknown_outlets`` says
        so, and refused with :class:`UnknownOutlet` (and the closest names) otherwise.
        """
        outlet = self._outlet_by_name(name)
        if outlet is not None:
            return outlet
        index = self.outlet_index()
        creating = new_outlet or self.create_unknown_outlets
        resolution = resolve_outlet(name, url, index, suggest=not creating)
        if resolution.found:
            outlet = self.session.get(Outlet, resolution.outlet_id)
            if resolution.by != "domain":  # a name's reading does not depend on its url
                self._outlets[name] = outlet
            self.resolutions.append(OutletResolution(line, name, outlet, resolution.by))
            return outlet
        if not creating:
            raise UnknownOutlet(line, name, resolution.suggestions)
        outlet = self._create_unvetted(name)
        index.add_outlet(outlet.id, outlet.name, outlet.slug)
        self.summary.new_outlets.append(outlet.name)
        self.resolutions.append(OutletResolution(line, name, outlet, "created"))
        return outlet

    def _create_unvetted(self, name: str) -> Outlet:
        now = utcnow()
        created = insert_if_absent(
            self.session,
            Outlet,
            "name",
            name=name,
            slug=self._free_slug(slugify(name)),
            country=None,
            kind=DEFAULT_OUTLET_KIND,
            prior_reliability=None,
            prior_rationale=UNVETTED_RATIONALE.format(actor=self.actor, kind=DEFAULT_OUTLET_KIND),
            vetted=False,
            created_at=now,
            updated_at=now,
        )
        self.summary.outlets_created += created
        return self._outlet_by_name(name)

    def _free_slug(self, slug: str) -> str:
        taken = {o.slug for o in self._outlets.values()}
        candidate, n = slug, 1
        while (
            candidate in taken
            or self.session.scalars(select(Outlet.id).where(Outlet.slug == candidate)).first()
        ):
            n += 1
            candidate = f"{slug}-{n}"
        return candidate

    # -- claims ----------------------------------------------------------------------------
    def lock_stored_claims(self, keys: Iterable[str | None], ids: Iterable[int | None]) -> None:
        """Lock the stored claims a request names, in id order, before anything else.

        Inserting a report takes a key-share lock on its claim; locking the claim for its
        rescore afterwards would then wait on another writer's key-share lock while that
        writer waits on ours (a deadlock under concurrent writes to one claim). Locking
        first, in id order, makes concurrent writers queue instead.
        """
        keys = sorted({k for k in keys if k is not None})
        ids = sorted({i for i in ids if i is not None})
        if not keys and not ids:
            return
        for claim in self.session.scalars(_named_claims(), {"keys": keys, "ids": ids}):
            self._claims[claim.key] = claim
            self._locked.add(claim.id)
        self._unstored_keys.update(key for key in keys if key not in self._claims)

    def claim_for(self, key: str, text: str, line: int | None) -> Claim:
        claim = self._claims.get(key)
        if claim is None:
            # A key lock_stored_claims found no claim for is not looked up again: inserting
            # it finds out (a writer that stored it since makes the insert a no-op).
            if key not in self._unstored_keys:
                claim = self.session.scalars(select(Claim).where(Claim.key == key)).first()
            if claim is None:
                claim = self._insert_claim(key, text)
                if claim is not None:
                    self._new_claims.append(claim)
                    self.summary.claims_created += 1
                else:  # another writer stored it first
                    claim = self.session.scalars(select(Claim).where(Claim.key == key)).one()
            self._claims[key] = claim
        check_claim_text(key, claim.text, text, line)
        return claim

    def _insert_claim(self, key: str, text: str) -> Claim | None:
        """The new claim (INSERT ... RETURNING it, not read again), or None if ``key`` is
        stored already."""
        now = utcnow()
        values = {"key": key, "text": text, "status": "open", "created_at": now, "updated_at": now}
        statement = _insert_unless_stored(self.session, Claim, "key", values).returning(Claim)
        return self.session.scalars(statement).first()

    def _apply_verdict(self, claim: Claim, verdict: bool | None, line: int | None) -> None:
        if verdict is None:
            return
        stored = self.session.scalars(
            select(Verdict).where(Verdict.claim_id == claim.id).order_by(Verdict.id.desc())
        ).first()
        stored_verdict = stored.verdict if stored is not None else None
        if not verdict_is_new(claim.key, stored_verdict, verdict, line):
            return
        stored = Verdict(
            claim_id=claim.id,
            verdict=verdict,
            note="",
            resolved_by=self.actor,
            model_confidence=claim.confidence,
        )
        self.session.add(stored)
        self._resolutions.append((claim, stored))
        claim.status = "resolved_true" if verdict else "resolved_false"
        self.summary.verdicts_created += 1
        self._touched_claims.add(claim.id)

    # -- reports ---------------------------------------------------------------------------
    def _report_by_key(self, key: str) -> Report | None:
        if key not in self._reports:
            found = self.session.scalars(select(Report).where(Report.key == key)).first()
            if found is None:
                return None
            self._reports[key] = found
        return self._reports[key]

    def add(self, record: InterchangeRecord, line: int | None = None, **named) -> Report:
        """Store one record (or find it stored already) and mark its claim; the report."""
        return self.record(record, line, **named).report

    def record(
        self,
        record: InterchangeRecord,
        line: int | None = None,
        *,
        claim: Claim | None = None,
        outlet: Outlet | None = None,
        cites: Report | None = None,
        new_outlet: bool = False,
    ) -> Recorded:
        """Store one record, or find it stored already: by its ``report_key`` (unchanged)
        or as the same report sent again (a duplicate: nothing stored, nothing counted
        twice, no event). A report that nearly repeats another outlet's earlier report
        and names no ``cites`` is stored citing it, the link flagged as inferred."""
        check_published_at(record, line, self.now)
        claim = claim or self.claim_for(record.claim_key, record.claim, line)
        story = claim_story_after(claim.key, claim.story, record.story, line)
        if story != claim.story:
            claim.story = story
            self._touched_claims.add(claim.id)  # it starts from its story's rate now
        outlet = outlet or self.outlet_for(record.outlet, record.url, line, new_outlet=new_outlet)
        if cites is None and record.cites is not None:
            cites = self._report_by_key(record.cites) or self._duplicate_keys.get(record.cites)
            check_cited(record, cites is not None, line)
        if cites is not None:
            check_cites_same_claim(cites.claim_id == claim.id, line)
        key = record.report_key or new_report_key()
        # A generated key is new (64 random bits; the unique index stands guard anyway).
        existing = self._report_by_key(key) if record.report_key else None
        if existing is not None:
            # A report added earlier in this batch has no outlet_id/cites_id until a flush.
            self.session.flush()
            check_unchanged(key, _same_report(existing, record, claim, outlet, cites), line)
            self.summary.reports_unchanged += 1
            self._apply_verdict(claim, record.verdict, line)
            return Recorded(existing, "unchanged")
        retracted = record.retracted_at is not None
        facts = self._facts(record, claim, outlet, cites)
        match = self.matcher.match(facts) if not retracted else None
        if match is not None and match.duplicate_of is not None:
            stored = self._report_of(match.duplicate_of.ref)
            if record.report_key is not None:  # later lines may cite it by this key
                self._duplicate_keys[record.report_key] = stored
            self.summary.reports_duplicate += 1
            self._apply_verdict(claim, record.verdict, line)
            return Recorded(stored, "duplicate")
        inferred = cites is None and match is not None and match.echo_of is not None
        if inferred:
            cites = self._report_of(match.echo_of.ref)
            self.summary.echoes_inferred += 1
        report = Report(
            key=key,
            claim_id=claim.id,
            outlet=outlet,
            stance=record.stance,
            attribution=record.attribution,
            source=record.source,
            interested_party=record.interested_party,
            cites=cites,
            cites_inferred=inferred or (record.cites_inferred and cites is not None),
            independent=record.independent,
            published_at=record.published_at,
            url=record.url,
            quote=record.quote,
            **retraction(record),
        )
        self.session.add(report)
        self._reports[key] = report
        self._new_reports.append(report)
        if not retracted:
            self.matcher.remember(replace(facts, ref=report, cites=cites, key=key))
        self._touched_claims.add(claim.id)
        self.summary.reports_created += 1
        self.summary.outlet_ids.add(outlet.id)
        self._apply_verdict(claim, record.verdict, line)
        return Recorded(report, "created")

    # -- one vote per report ---------------------------------------------------------------
    def _facts(
        self, record: InterchangeRecord, claim: Claim, outlet: Outlet, cites: Report | None
    ) -> ReportFacts:
        """The new report as the matcher compares it; its claim's reports loaded first."""
        if not self.matcher.loaded(claim.key):
            if any(c.id == claim.id for c in self._new_claims):
                self.matcher.start_claim(claim.key)
            else:  # read before this recorder adds any report to it
                self.matcher.load(self.session, {claim.id: claim.key})
        return ReportFacts.of_record(record, outlet.id, cites, self.now)

    def _report_of(self, ref: Report | int) -> Report:
        return ref if isinstance(ref, Report) else self.session.get(Report, ref)

    def finish(self, cause: str) -> RecordingSummary:
        """Emit the events of what was recorded, then rescore every claim this recorder
        changed (claims locked, in id order) and every claim it created (one without
        reports is scored at its prior)."""
        self.session.flush()
        self._emit_events()
        new = {c.id for c in self._new_claims}  # nobody else can see them yet
        wanted = self._touched_claims | new
        held = {c.id: c for c in self._claims.values() if c.id in self._locked | new}
        held.update((c.id, c) for c in lock_claims(self.session, wanted - set(held)))
        claims = [held[claim_id] for claim_id in sorted(wanted)]
        self.summary.scores.update(rescore_claims(self.session, claims, self.params, cause))
        self.created_claims.extend(self._new_claims)
        self._touched_claims.clear()
        self._new_claims.clear()
        return self.summary

    def _emit_events(self) -> None:
        """Claims created, reports recorded and verdicts, in that order (the score changes
        follow from rescoring)."""
        for claim in self._new_claims:
            emit_claim_created(self.session, claim)
        for report in self._new_reports:
            if self.report_events:
                emit_report_recorded(self.session, report)
            if report.retracted_at is not None:
                emit_report_retracted(self.session, report, report.retraction_reason or "")
        for claim, verdict in self._resolutions:
            emit_claim_resolved(
                self.session,
                claim,
                verdict.verdict,
                verdict.model_confidence,
                verdict.note,
                verdict.resolved_by,
            )
        self._new_reports.clear()
        self._resolutions.clear()


@cache
def _named_claims() -> Select:
    """Claims by key or id, locked in id order (built once; only its parameters vary)."""
    return (
        select(Claim)
        .where(
            or_(
                Claim.key.in_(bindparam("keys", expanding=True)),
                Claim.id.in_(bindparam("ids", expanding=True)),
            )
        )
        .order_by(Claim.id)
        .with_for_update()
    )


def _same_report(
    report: Report,
    record: InterchangeRecord,
    claim: Claim,
    outlet: Outlet,
    cites: Report | None,
) -> bool:
    return (
        report.claim_id == claim.id
        and report.outlet_id == outlet.id
        and report.stance == record.stance
        and report.attribution == record.attribution
        and report.source == record.source
        and report.interested_party == record.interested_party
        and (
            report.cites_id == (cites.id if cites is not None else None)
            # An inferred link is the service's reading: the same record without cites
            # (as first sent) is the same report.
            or (report.cites_inferred and cites is None)
        )
        and report.independent == record.independent
        and report.published_at == record.published_at
        and report.url == record.url
        and report.quote == record.quote
    )
