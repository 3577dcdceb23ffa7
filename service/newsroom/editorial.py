"""What editors and fact-checkers do, as use cases on a session.

Each function takes what the caller asked for and the request's session, changes the
claim, its score and the audit trail together, and leaves the commit to the caller. The
API's views are thin: parse, call one of these, dump.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import (
    AuditEntry,
    Claim,
    Outlet,
    OutletAlias,
    OutletDomain,
    Report,
    Subscription,
    Verdict,
)
from models.base import utcnow
from scoring.evidence import ClaimScore
from scoring.interchange import InterchangeRecord, RecordError
from service.delivery.outbox import emit_claim_created, emit_claim_resolved, emit_report_retracted
from service.newsroom.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.newsroom.keys import Caller
from service.newsroom.model_store import active_parameters
from service.newsroom.outlet_directory import (
    OutletNameError,
    add_alias,
    add_domain,
    load_outlet_index,
)
from service.newsroom.outlet_identity import domain_of, normalise_outlet_name
from service.newsroom.outlets import NewOutlet, slugify
from service.newsroom.recording import OutletResolution, ReportRecorder, UnknownOutlet
from service.newsroom.rescoring import lock_claims, rescore_claim
from service.newsroom.similarity import (
    ClaimIndex,
    SimilarClaim,
    cached_claim_index,
    claim_index,
    forget_index,
)


@dataclass
class RecordWarning:
    code: str
    message: str
    claim_id: int | None = None
    similarity: float | None = None
    outlet_id: int | None = None


@dataclass
class RecordedReports:
    reports: list[Report]
    scores: dict[int, ClaimScore]
    warnings: list[RecordWarning] = field(default_factory=list)
    # Per report: "created", "unchanged" (its report_key was stored with the same content)
    # or "duplicate" (the same report sent again; ``reports`` holds the stored one).
    outcomes: list[str] = field(default_factory=list)
    # The claims of ``reports`` and ``scores`` by id, as stored now: the answer is built
    # from them rather than read again.
    claims: dict[int, Claim] = field(default_factory=dict)

    @property
    def created(self) -> bool:
        return "created" in self.outcomes


def audit(session: Session, caller: Caller, action: str, target: str, **detail: Any) -> None:
    session.add(
        AuditEntry(
            api_key_id=caller.key_id,
            actor=caller.name,
            action=action,
            target=target,
            detail=detail or None,
        )
    )


def get_or_404(session: Session, model, ident: int, what: str):
    row = session.get(model, ident)
    if row is None:
        raise NotFound(f"No {what} with id {ident}.")
    return row


# -- reports ---------------------------------------------------------------------------------
def _record_from_body(session: Session, body: dict[str, Any]) -> tuple[InterchangeRecord, dict]:
    """The interchange record a request body describes, and the rows it names by id."""
    named: dict[str, Any] = {}
    claim_key, claim_text = body.get("claim_key"), body.get("claim")
    if body.get("claim_id") is not None:
        claim = get_or_404(session, Claim, body["claim_id"], "claim")
        if claim_key is not None and claim_key != claim.key:
            raise RecordError(None, "claim_key", f"does not match claim {claim.id}'s key")
        claim_key, claim_text = claim.key, claim.text
        named["claim"] = claim
    outlet_name = body.get("outlet")
    if body.get("outlet_id") is not None:
        outlet = get_or_404(session, Outlet, body["outlet_id"], "outlet")
        if outlet_name is not None and outlet_name != outlet.name:
            raise RecordError(None, "outlet", f"does not match outlet {outlet.id}'s name")
        outlet_name = outlet.name
        named["outlet"] = outlet
    cites = body.get("cites")
    if isinstance(cites, int):
        cited = session.get(Report, cites)
        if cited is None:
            raise RecordError(None, "cites", f"names no stored report: {cites}")
        named["cites"] = cited
        cites = cited.key
    record = InterchangeRecord(
        claim_key=claim_key,
        claim=claim_text.strip(),
        outlet=outlet_name.strip(),
        stance=body["stance"],
        verdict=body.get("verdict"),
        report_key=body.get("report_key"),
        attribution=body.get("attribution") or "unattributed",
        source=body.get("source"),
        interested_party=bool(body.get("interested_party")),
        independent=body.get("independent") is True,
        cites=cites,
        published_at=body.get("published_at"),
        url=body.get("url"),
        quote=body.get("quote"),
        story=_story(body.get("story")),
    )
    return record, named


def _story(story: str | None) -> str | None:
    """A story name as the interchange format reads it: trimmed."""
    return story.strip() if story is not None else None


def _similar_claim_warning(
    index: ClaimIndex, key: str, text: str, threshold: float
) -> RecordWarning | None:
    """A warning if a stored claim (not ``key`` itself) reads like ``text``.

    Called before the request takes any claim's lock: the index is caught up (one query)
    and searched in memory, and no other writer waits on it."""
    if index.has_key(key):
        return None
    others: list[SimilarClaim] = [
        s for s in index.query(text, k=2, floor=threshold) if s.key != key
    ]
    if others:
        best = others[0]
        return RecordWarning(
            code="similar_claim",
            message=f"New claim {key!r} reads like claim {best.claim_id} ({best.key!r}): "
            "attach reports to it instead if it is the same claim.",
            claim_id=best.claim_id,
            similarity=round(best.similarity, 4),
        )
    return None


def _outlet_warning(resolution: OutletResolution) -> RecordWarning:
    outlet = resolution.outlet
    if resolution.by == "created":
        return RecordWarning(
            code="outlet_created",
            message=f"Outlet {outlet.name!r} was not known and was created unvetted, with no "
            "prior of its own; an admin can give it one, or make the name an alias of a "
            "known outlet.",
            outlet_id=outlet.id,
        )
    return RecordWarning(
        code="outlet_resolved",
        message=f"Outlet {resolution.name!r} read as {outlet.name!r} (by {resolution.by}).",
        outlet_id=outlet.id,
    )


def _new_claim_warnings(
    session: Session, bodies: list[dict[str, Any]], threshold: float
) -> dict[str, RecordWarning]:
    """Warnings for the claims that the bodies name by key and text and that are not
    stored yet (as far as the similar-claims index knows), by key. A request whose keys
    this process's index holds already costs no query."""
    named = {
        body["claim_key"]: body["claim"].strip()
        for body in bodies
        if body.get("claim_id") is None and body.get("claim_key") and body.get("claim")
    }
    known = cached_claim_index(session)
    if known is not None:
        named = {key: text for key, text in named.items() if not known.has_key(key)}
    if not named:
        return {}
    index = claim_index(session)
    warnings = {
        key: _similar_claim_warning(index, key, text, threshold) for key, text in named.items()
    }
    return {key: warning for key, warning in warnings.items() if warning is not None}


def record_reports(
    session: Session,
    bodies: list[dict[str, Any]],
    caller: Caller,
    *,
    similarity_threshold: float,
    can_resolve: bool,
) -> RecordedReports:
    """Record reports all or nothing; a RecordError names the failing item (0-based)."""
    similar = _new_claim_warnings(session, bodies, similarity_threshold)
    recorder = ReportRecorder(session, actor=caller.actor)
    recorder.lock_stored_claims(
        (b.get("claim_key") for b in bodies), (b.get("claim_id") for b in bodies)
    )
    reports, outcomes = [], []
    for index, body in enumerate(bodies):
        try:
            record, named = _record_from_body(session, body)
            if record.verdict is not None and not can_resolve:
                raise Forbidden("A report with a non-null verdict needs the 'verdict' scope.")
            new_outlet = body.get("new_outlet") is True
            recorded = recorder.record(record, index, new_outlet=new_outlet, **named)
            reports.append(recorded.report)
            outcomes.append(recorded.outcome)
        except UnknownOutlet as error:
            raise UnknownOutlet(index, error.name, error.suggestions) from None
        except RecordError as error:
            raise RecordError(index, error.field, error.message) from None
    summary = recorder.finish(cause=f"report recorded by {caller.actor}")
    session.flush()
    warnings = [_outlet_warning(resolution) for resolution in recorder.resolutions]
    warnings += [similar[c.key] for c in recorder.created_claims if c.key in similar]
    for report, outcome in zip(reports, outcomes, strict=True):
        if outcome == "created":
            audit(
                session, caller, "record_report", f"report:{report.key}", claim_id=report.claim_id
            )
    # From the session's identity map while the recorder still holds them (no query); a
    # claim it let go of is read again.
    claim_ids = {report.claim_id for report in reports} | set(summary.scores)
    claims = {claim_id: session.get(Claim, claim_id) for claim_id in sorted(claim_ids)}
    return RecordedReports(
        reports=reports,
        scores=summary.scores,
        warnings=warnings,
        outcomes=outcomes,
        claims=claims,
    )


def retract_report(session: Session, report_id: int, reason: str, caller: Caller) -> ClaimScore:
    report = get_or_404(session, Report, report_id, "report")
    (claim,) = lock_claims(session, [report.claim_id])
    # Read again under the claim's lock: a retraction committed while we waited for it
    # must be seen, or both requests would retract the report and both answer 200.
    session.refresh(report)
    if report.retracted_at is not None:
        raise Conflict(f"Report {report_id} was already retracted.")
    report.retracted_at = utcnow()
    report.retraction_reason = reason
    emit_report_retracted(session, report, reason)
    score = rescore_claim(
        session,
        claim,
        active_parameters(session),
        cause=f"report {report.key} retracted by {caller.actor}: {reason}",
    )
    audit(session, caller, "retract_report", f"report:{report.key}", reason=reason)
    return score


# -- claims ----------------------------------------------------------------------------------
def create_claim(
    session: Session,
    key: str | None,
    text: str,
    caller: Caller,
    similarity_threshold: float,
    story: str | None = None,
) -> tuple[Claim, list[RecordWarning]]:
    key = key or _key_from_text(text)
    if session.scalars(select(Claim.id).where(Claim.key == key)).first() is not None:
        raise Conflict(f"A claim with key {key!r} exists already.")
    warning = _similar_claim_warning(claim_index(session), key, text.strip(), similarity_threshold)
    now = utcnow()
    claim = Claim(
        key=key,
        text=text.strip(),
        story=_story(story),
        status="open",
        created_at=now,
        updated_at=now,
    )
    session.add(claim)
    session.flush()
    emit_claim_created(session, claim)
    rescore_claim(session, claim, active_parameters(session), cause=f"created by {caller.actor}")
    audit(session, caller, "create_claim", f"claim:{claim.key}")
    return claim, [warning] if warning else []


def _key_from_text(text: str) -> str:
    """A slug of the text; a text with no Latin letter or digit (which slugify would turn
    into its fallback, the same for every such claim) gets a random key instead."""
    if re.search(r"[A-Za-z0-9]", text):
        return slugify(text)[:80]
    return "claim-" + secrets.token_hex(6)


def edit_claim(session: Session, claim: Claim, changes: dict, caller: Caller) -> Claim:
    """Correct a claim's ``text`` and/or ``story`` (a key left out is left alone; a story of
    None takes the claim out of its story). A changed story rescores the claim, since its
    story's base rate is part of the score; the history names the change."""
    changed = {}
    if "text" in changes:
        claim.text = changes["text"].strip()
        forget_index()
        changed["text"] = claim.text
    if "story" in changes and _story(changes["story"]) != claim.story:
        (claim,) = lock_claims(session, [claim.id])
        story = _story(changes["story"])
        claim.story = story
        changed["story"] = story
        moved = f"moved to story {story!r}" if story is not None else "taken out of its story"
        rescore_claim(session, claim, active_parameters(session), f"{moved} by {caller.actor}")
    claim.updated_at = utcnow()
    audit(session, caller, "edit_claim", f"claim:{claim.key}", **changed)
    return claim


def resolve_claim(
    session: Session,
    claim_id: int,
    verdict: bool,
    note: str,
    caller: Caller,
    *,
    replaces_verdict: bool = False,
) -> ClaimScore:
    """A fact-checker's verdict: the claim is resolved and the verdict becomes a label.

    Turning a claim resolved one way into the other needs ``replaces_verdict`` (else
    :class:`Conflict`); the new verdict is then recorded as replacing the old one.
    """
    get_or_404(session, Claim, claim_id, "claim")
    (claim,) = lock_claims(session, [claim_id])
    stored = session.scalars(
        select(Verdict.verdict).where(Verdict.claim_id == claim.id).order_by(Verdict.id.desc())
    ).first()
    flips = stored is not None and stored != verdict
    if flips and not replaces_verdict:
        said = "true" if stored else "false"
        raise Conflict(
            f"Claim {claim.id} was resolved {said}; to change the verdict, send "
            '"replaces_verdict": true.'
        )
    confidence = claim.confidence
    session.add(
        Verdict(
            claim_id=claim.id,
            verdict=verdict,
            note=note,
            resolved_by=caller.actor,
            model_confidence=confidence,
            replaces_verdict=flips,
        )
    )
    claim.status = "resolved_true" if verdict else "resolved_false"
    claim.updated_at = utcnow()
    emit_claim_resolved(session, claim, verdict, confidence, note, caller.actor)
    score = rescore_claim(
        session,
        claim,
        active_parameters(session),
        cause=f"resolved {'true' if verdict else 'false'} by {caller.actor}",
    )
    audit(
        session,
        caller,
        "resolve_claim",
        f"claim:{claim.key}",
        verdict=verdict,
        note=note,
        replaces_verdict=flips,
    )
    return score


# -- outlets ---------------------------------------------------------------------------------
def create_outlet(session: Session, fields: dict[str, Any], caller: Caller) -> Outlet:
    slug = fields.get("slug") or slugify(fields["name"])
    for column, value in (("name", fields["name"]), ("slug", slug)):
        if session.scalars(select(Outlet.id).where(getattr(Outlet, column) == value)).first():
            raise Conflict(f"An outlet with {column} {value!r} exists already.")
    _refuse_a_name_taken(session, fields["name"], None)
    seed = NewOutlet(
        name=fields["name"],
        slug=slug,
        kind=fields["kind"],
        prior_reliability=fields["prior_reliability"],
        rationale=fields["prior_rationale"],
        country=fields.get("country"),
    )
    recorder = ReportRecorder(session, actor=caller.actor)
    outlet = recorder.ensure_outlet(seed)
    session.flush()
    audit(session, caller, "create_outlet", f"outlet:{outlet.slug}")
    return outlet


def _refuse_a_name_taken(session: Session, name: str, outlet_id: int | None) -> None:
    """One spelling names one outlet: a name that another outlet's name, slug or alias
    already normalises to is refused (make it an alias, or merge, instead)."""
    owner = load_outlet_index(session).owner_of(name)
    if owner is not None and owner != outlet_id:
        other = session.get(Outlet, owner)
        raise Conflict(
            f"{name!r} already names outlet {owner} ({other.name}): one spelling names one outlet."
        )


def edit_outlet(
    session: Session, outlet: Outlet, changes: dict[str, Any], caller: Caller
) -> Outlet:
    """Change an outlet; a new prior or kind rescores every claim it reported on."""
    if "name" in changes and changes["name"] != outlet.name:
        taken = session.scalars(select(Outlet.id).where(Outlet.name == changes["name"])).first()
        if taken is not None:
            raise Conflict(f"An outlet named {changes['name']!r} exists already.")
        _refuse_a_name_taken(session, changes["name"], outlet.id)
    if not changes:
        raise InvalidInput("Nothing to change.", fields={"_schema": ["empty patch"]})
    rescore = any(
        changes.get(f, getattr(outlet, f)) != getattr(outlet, f)
        for f in ("prior_reliability", "kind", "name")
    )
    for name, value in changes.items():
        setattr(outlet, name, value)
    outlet.updated_at = utcnow()
    session.flush()
    if rescore:
        claim_ids = session.scalars(
            select(Report.claim_id).where(Report.outlet_id == outlet.id).distinct()
        ).all()
        params = active_parameters(session)
        for claim in lock_claims(session, claim_ids):
            rescore_claim(session, claim, params, cause=f"outlet {outlet.name} changed")
    audit(session, caller, "edit_outlet", f"outlet:{outlet.slug}", changes=list(changes))
    return outlet


# -- outlet names ----------------------------------------------------------------------------
def add_outlet_name(
    session: Session, outlet: Outlet, field: str, value: str, caller: Caller
) -> tuple[OutletAlias | OutletDomain, bool]:
    """Give an outlet an alias (``field="alias"``) or a web domain (``"domain"``); answers
    the row and whether it was created (False: the outlet had it already)."""
    index = load_outlet_index(session)
    add = add_alias if field == "alias" else add_domain
    try:
        created = add(session, index, outlet.id, value)
    except OutletNameError as error:
        if error.owner_id is not None:
            raise Conflict(str(error)) from None
        raise InvalidInput(str(error), fields={field: [str(error)]}) from None
    session.flush()
    if field == "alias":
        row = session.scalars(
            select(OutletAlias).where(OutletAlias.normalised == normalise_outlet_name(value))
        ).one()
    else:
        row = session.scalars(
            select(OutletDomain).where(OutletDomain.domain == domain_of(value))
        ).one()
    if created:
        audit(session, caller, f"add_outlet_{field}", f"outlet:{outlet.slug}", **{field: value})
    return row, created


def remove_outlet_name(
    session: Session,
    outlet: Outlet,
    model: type[OutletAlias | OutletDomain],
    row_id: int,
    caller: Caller,
) -> None:
    """Take an alias or a domain from an outlet (reports already recorded keep theirs)."""
    row = session.get(model, row_id)
    what = "alias" if model is OutletAlias else "domain"
    if row is None or row.outlet_id != outlet.id:
        raise NotFound(f"Outlet {outlet.id} has no {what} with id {row_id}.")
    value = row.alias if model is OutletAlias else row.domain
    session.delete(row)
    session.flush()
    audit(session, caller, f"remove_outlet_{what}", f"outlet:{outlet.slug}", **{what: value})


def merge_outlets(session: Session, target: Outlet, source: Outlet, caller: Caller) -> int:
    """Merge ``source`` into ``target``: its reports, aliases and domains become the
    target's, its name an alias of the target (so it still resolves), subscription filters
    naming it name the target; then ``source`` is deleted and every claim it reported on is
    rescored. Returns how many reports moved.

    Reports already stored stay as they are: two reports that now have one outlet are not
    merged into one (each was a report when it was recorded).
    """
    if target.id == source.id:
        raise InvalidInput(
            "An outlet cannot be merged into itself.",
            fields={"from_outlet_id": ["names this outlet"]},
        )
    claim_ids = session.scalars(
        select(Report.claim_id).where(Report.outlet_id == source.id).distinct()
    ).all()
    claims = lock_claims(session, claim_ids)
    moved = session.execute(
        update(Report).where(Report.outlet_id == source.id).values(outlet_id=target.id)
    ).rowcount
    for model in (OutletAlias, OutletDomain):
        session.execute(
            update(model).where(model.outlet_id == source.id).values(outlet_id=target.id)
        )
    for subscription in session.scalars(select(Subscription)):
        outlets = (subscription.filter or {}).get("outlets")
        if outlets and source.id in outlets:
            merged = sorted({target.id if o == source.id else o for o in outlets})
            subscription.filter = {**subscription.filter, "outlets": merged}
    name, slug = source.name, source.slug
    session.flush()
    session.expire(source, ["aliases", "domains"])  # moved above: nothing to orphan
    session.delete(source)
    session.flush()
    index = load_outlet_index(session)
    if index.owner_of(name) is None:  # not already one of the target's spellings
        add_alias(session, index, target.id, name)
    target.updated_at = utcnow()
    params = active_parameters(session)
    for claim in claims:
        rescore_claim(session, claim, params, cause=f"outlet {name} merged into {target.name}")
    audit(
        session,
        caller,
        "merge_outlet",
        f"outlet:{target.slug}",
        merged=name,
        merged_slug=slug,
        reports=moved,
    )
    return moved
