"""``srs backup`` and ``srs restore``: the whole database as JSON Lines, and back.

A backup is one JSON object a line. The first line names the format and the schema
revision; then come (``entity`` says which), in this order and each in id order, model
versions, API keys, stored idempotent responses, outlets with their aliases and domains,
claims, verdicts, reports, score history, the audit log, webhook subscriptions, outbox
events and their deliveries;
the last line counts what came before it, so a truncated file is refused. A report line
carries its report as an interchange-format record (``record``, what ``srs import``
reads) plus what the format does not hold: its id, the ids it refers to, when it was
recorded and its retraction.

Ids are kept, so links clients hold (``/claims/17``) stay valid after a restore, and
scores are copied as stored (with their history), not recomputed; ``srs check`` (or the
restore itself) compares them with a batch recompute.

API keys are backed up with their metadata and, unless ``--without-key-hashes``, their
SHA-256 hashes, never the keys themselves. A hash is what the database itself holds: it
cannot be turned back into the key (keys are 256 random bits) nor presented in its place,
so a backup is no more sensitive than the database, and clients keep working after a
restore. Without hashes, restored keys are revoked and new ones must be issued.

Webhook subscriptions are backed up with their signing secrets, stored as they are in the
database (signing needs them): protect backups as you protect the database. Outbox events
and deliveries are backed up too, so notifications owed when the backup was taken are
still delivered after a restore (at least once, as always).

Stored idempotent responses are backed up too: a client retrying a POST across a restore
gets the answer it was given, not a second report.

A restore runs in one transaction: every line is checked (errors name the line and the
field) and anything wrong leaves the database as it was. It refuses a database that holds
any row unless told to replace its contents (``--replace``), in the same transaction.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import JSON as JSONType
from sqlalchemy import Boolean, Enum, Float, Integer, String, Table, func, insert, select, text
from sqlalchemy.engine import Connection

from models import (
    ApiKey,
    AuditEntry,
    Base,
    Claim,
    Delivery,
    IdempotentResponse,
    ModelVersion,
    OutboxEvent,
    Outlet,
    OutletAlias,
    OutletDomain,
    Report,
    ScoreHistory,
    Subscription,
    Verdict,
)
from models.base import UTCDateTime, utcnow
from scoring.interchange import RecordError, parse_timestamp, record_from_json
from service.newsroom.stored_reports import record_from_row, stored_reports

FORMAT = "srs-backup"
VERSION = 1
# Backed up in this order (each table's rows in id order): every row refers only to rows
# of kinds before it, or to earlier rows of its own kind (a report cites an older report).
KINDS: dict[str, type[Base]] = {
    "model_version": ModelVersion,
    "api_key": ApiKey,
    "idempotent_response": IdempotentResponse,
    "outlet": Outlet,
    "outlet_alias": OutletAlias,
    "outlet_domain": OutletDomain,
    "claim": Claim,
    "verdict": Verdict,
    "report": Report,
    "score_history": ScoreHistory,
    "audit": AuditEntry,
    "subscription": Subscription,
    "outbox_event": OutboxEvent,
    "delivery": Delivery,
}
NOT_BACKED_UP: dict[str, str] = {}  # table name: why
# Report columns that travel inside the interchange record instead of beside it.
# (column, field of the record)
REPORT_RECORD_COLUMNS = {
    "key": "report_key",
    "stance": "stance",
    "attribution": "attribution",
    "source": "source",
    "interested_party": "interested_party",
    "url": "url",
    "quote": "quote",
}
BATCH = 1000


@dataclass
class BackupSummary:
    counts: dict[str, int] = field(default_factory=dict)


# -- writing -----------------------------------------------------------------------------------
def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def _row_json(kind: str, table: Table, row: Any, skip: Iterable[str] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"entity": kind}
    for column in table.columns:
        if column.name not in skip:
            out[column.name] = _to_json(getattr(row, column.name))
    return out


def _current_revision(connection: Connection) -> str | None:
    try:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - no alembic_version table: not a migrated database
        return None


def write_backup(connection: Connection, stream: IO[str], *, key_hashes: bool = True) -> dict:
    """Write every backed-up table to ``stream``; returns the counts per kind.

    Call it on a connection in a REPEATABLE READ transaction (``backup_to``), so the file
    is one consistent snapshot even while the service keeps writing.
    """
    counts = {kind: 0 for kind in KINDS}

    def emit(obj: dict[str, Any]) -> None:
        stream.write(json.dumps(obj, ensure_ascii=False, allow_nan=False) + "\n")

    emit(
        {
            "format": FORMAT,
            "version": VERSION,
            "created_at": utcnow().isoformat(),
            "schema_revision": _current_revision(connection),
            "key_hashes": key_hashes,
        }
    )
    latest_verdict: dict[int, bool] = {}
    for kind, model in KINDS.items():
        table = model.__table__
        if kind == "report":
            counts[kind] = _write_reports(connection, emit, latest_verdict)
            continue
        for row in connection.execute(select(table).order_by(table.c.id)).yield_per(BATCH):
            line = _row_json(kind, table, row)
            if kind == "api_key" and not key_hashes:
                line["key_hash"] = None
            if kind == "verdict":
                latest_verdict[row.claim_id] = row.verdict
            emit(line)
            counts[kind] += 1
    emit({"entity": "end", "counts": counts})
    return counts


def _write_reports(connection: Connection, emit, latest_verdict: dict[int, bool]) -> int:
    reports = Report.__table__
    statement = stored_reports().order_by(reports.c.id)
    count = 0
    for row in connection.execute(statement).yield_per(BATCH):
        record = record_from_row(row, latest_verdict.get(row.claim_id))
        # published_at stays beside the record too: the interchange format writes times to
        # the second, the database holds microseconds.
        line = _row_json("report", reports, row, skip=REPORT_RECORD_COLUMNS)
        line["record"] = record.to_json()
        emit(line)
        count += 1
    return count


def backup_to(engine, stream: IO[str], *, key_hashes: bool = True) -> dict:
    """One consistent snapshot of the database written to ``stream``."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        with connection.begin():
            return write_backup(connection, stream, key_hashes=key_hashes)


# -- reading -----------------------------------------------------------------------------------
def _field(line: int, name: str, message: str) -> RecordError:
    return RecordError(line, name, message)


def _value(column, value: Any, line: int) -> Any:
    """``value`` checked against ``column``'s type, as the database will store it."""
    name = column.name
    if value is None:
        if not column.nullable:
            raise _field(line, name, "is required")
        return None
    kind = column.type
    if isinstance(kind, UTCDateTime):
        if not isinstance(value, str):
            raise _field(line, name, "must be an ISO 8601 date-time string")
        try:
            return parse_timestamp(value)
        except ValueError:
            raise _field(line, name, f"is not an ISO 8601 date-time: {value!r}") from None
    if isinstance(kind, Boolean):
        if not isinstance(value, bool):
            raise _field(line, name, "must be true or false")
        return value
    if isinstance(kind, Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _field(line, name, "must be an integer")
        if not -(2**31) <= value < 2**31:
            raise _field(line, name, "is out of range")
        return value
    if isinstance(kind, Float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _field(line, name, "must be a number")
        if not math.isfinite(value):
            raise _field(line, name, "must be finite")
        return float(value)
    if isinstance(kind, JSONType):
        return value
    if isinstance(kind, Enum):
        if value not in kind.enums:
            raise _field(line, name, f"must be one of {', '.join(kind.enums)}; got {value!r}")
        return value
    if isinstance(kind, String):
        if not isinstance(value, str):
            raise _field(line, name, "must be a string")
        if "\x00" in value:
            raise _field(line, name, "must not contain NUL characters")
        if kind.length is not None and len(value) > kind.length:
            raise _field(line, name, f"is longer than {kind.length} characters")
        return value
    raise _field(line, name, f"has a type the restore does not know: {kind!r}")


def _columns(obj: dict[str, Any], table: Table, line: int, skip: Iterable[str] = ()) -> dict:
    skip = set(skip)
    known = {c.name for c in table.columns} - skip
    unknown = sorted(set(obj) - known - {"entity", "record"})
    if unknown:
        raise _field(line, unknown[0], "is not a field of this kind of line")
    return {c.name: _value(c, obj.get(c.name), line) for c in table.columns if c.name not in skip}


def _lines(stream: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as error:
            raise RecordError(number, None, f"is not valid JSON ({error.msg})") from None
        if not isinstance(obj, dict):
            raise RecordError(number, None, "must be a JSON object")
        yield number, obj


class _Restorer:
    """Checks each line against what came before it and queues rows for insertion."""

    def __init__(self, connection: Connection, key_hashes_restored_revoked: datetime):
        self.connection = connection
        self.now = key_hashes_restored_revoked
        self.claims: dict[int, tuple[str, str, str | None]] = {}
        self.outlets: dict[int, str] = {}
        self.reports: dict[int, tuple[str, int]] = {}
        self.ids: dict[str, set[int]] = {kind: set() for kind in KINDS}
        self.latest_verdict: dict[int, bool] = {}
        self.pending: list[tuple[int, dict[str, Any]]] = []
        self.pending_kind: str | None = None
        self.counts = {kind: 0 for kind in KINDS}

    def add(self, line: int, kind: str, obj: dict[str, Any]) -> None:
        model = KINDS[kind]
        table = model.__table__
        if kind == "api_key" and obj.get("key_hash") is None:
            # Backed up without hashes: the key cannot be used again; keep its record.
            obj = {**obj, "key_hash": "restored-without-hash:" + secrets.token_hex(16)}
            obj["revoked_at"] = obj.get("revoked_at") or self.now.isoformat()
        row = self._report(line, obj) if kind == "report" else _columns(obj, table, line)
        if row["id"] in self.ids[kind]:
            raise _field(line, "id", f"repeats the id of another {kind} line")
        self._check_references(line, kind, row)
        self.ids[kind].add(row["id"])
        if kind == "claim":
            self.claims[row["id"]] = (row["key"], row["text"], row.get("story"))
        elif kind == "outlet":
            self.outlets[row["id"]] = row["name"]
        elif kind == "verdict":
            self.latest_verdict[row["claim_id"]] = row["verdict"]
        if self.pending_kind not in (None, kind) or len(self.pending) >= BATCH:
            self.flush()
        self.pending_kind = kind
        self.pending.append((line, row))
        self.counts[kind] += 1

    def _check_references(self, line: int, kind: str, row: dict[str, Any]) -> None:
        references = {
            "claim_id": "claim",
            "outlet_id": "outlet",
            "api_key_id": "api_key",
            "cites_id": "report",
            "event_id": "outbox_event",
            "subscription_id": "subscription",
        }
        for name, target in references.items():
            value = row.get(name)
            if value is not None and value not in self.ids[target]:
                raise _field(line, name, f"names no {target} of an earlier line: {value}")

    def _report(self, line: int, obj: dict[str, Any]) -> dict[str, Any]:
        table = Report.__table__
        row = _columns(obj, table, line, skip=REPORT_RECORD_COLUMNS)
        raw = obj.get("record")
        if not isinstance(raw, dict):
            raise _field(line, "record", "must be an interchange-format record (an object)")
        try:
            record = record_from_json(raw, line)
        except RecordError as error:
            raise RecordError(line, f"record.{error.field}", error.message) from None
        # The record is checked as `srs import` checks it, but stored as written: the
        # format trims text, the database may hold it untrimmed.
        for column, name in REPORT_RECORD_COLUMNS.items():
            value = raw.get(name, getattr(record, name))
            try:
                row[column] = _value(table.c[column], value, line)
            except RecordError as error:
                raise RecordError(line, f"record.{name}", error.message) from None
        if row["key"] is None:
            raise _field(line, "record.report_key", "is required in a backup")
        if (record.published_at is None) != (row["published_at"] is None) or (
            record.published_at is not None
            and abs((record.published_at - row["published_at"]).total_seconds()) >= 1
        ):
            raise _field(line, "record.published_at", "disagrees with published_at")
        claim = self.claims.get(row["claim_id"])
        if claim is not None and (raw.get("claim_key"), raw.get("claim")) != claim[:2]:
            raise _field(line, "record.claim_key", f"is not claim {row['claim_id']}'s key and text")
        if claim is not None and raw.get("story") != claim[2]:
            raise _field(line, "record.story", f"is not claim {row['claim_id']}'s story")
        if row["outlet_id"] in self.outlets and raw.get("outlet") != self.outlets[row["outlet_id"]]:
            raise _field(line, "record.outlet", f"is not outlet {row['outlet_id']}'s name")
        if record.verdict != self.latest_verdict.get(row["claim_id"]):
            raise _field(line, "record.verdict", "differs from the claim's latest verdict line")
        cites = row["cites_id"]
        if cites is not None and cites in self.reports:
            cited_key, cited_claim = self.reports[cites]
            if raw.get("cites") != cited_key or cited_claim != row["claim_id"]:
                raise _field(line, "record.cites", f"does not name report {cites} of this claim")
        elif (cites is None) != (record.cites is None):
            raise _field(line, "record.cites", "disagrees with cites_id")
        self.reports[row["id"]] = (row["key"], row["claim_id"])
        return row

    def flush(self) -> None:
        if not self.pending:
            return
        table = KINDS[self.pending_kind].__table__
        first, last = self.pending[0][0], self.pending[-1][0]
        try:
            self.connection.execute(insert(table), [row for _, row in self.pending])
        except Exception as error:  # noqa: BLE001 - named by line, then the whole restore stops
            reason = getattr(error, "orig", error)
            message = f"(to line {last}) refused by the database: {reason}"
            raise RecordError(first, None, message) from None
        self.pending.clear()


def restore_lines(connection: Connection, stream: IO[str]) -> dict[str, int]:
    """Check and insert every line of a backup; raises RecordError naming line and field."""
    lines = _lines(stream)
    try:
        number, header = next(lines)
    except StopIteration:
        raise RecordError(None, None, "the file is empty") from None
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise RecordError(number, "format", f"is not a {FORMAT} file of version {VERSION}")
    revision = _current_revision(connection)
    if header.get("schema_revision") != revision:
        raise RecordError(
            number,
            "schema_revision",
            f"is {header.get('schema_revision')!r}, the database is at {revision!r}: "
            "migrate one of them first",
        )
    restorer = _Restorer(connection, utcnow())
    order = list(KINDS)
    position = 0
    ended = None
    for number, obj in lines:
        if ended is not None:
            raise RecordError(number, None, "comes after the end line")
        kind = obj.get("entity")
        if kind == "end":
            ended = (number, obj)
            continue
        if kind not in KINDS:
            raise RecordError(number, "entity", f"must be one of {', '.join(KINDS)}; got {kind!r}")
        if order.index(kind) < position:
            message = f"{kind} lines must come before {order[position]} lines"
            raise RecordError(number, "entity", message)
        position = order.index(kind)
        restorer.add(number, kind, obj)
    restorer.flush()
    if ended is None:
        raise RecordError(None, None, "the file ends without its end line: it is truncated")
    number, end = ended
    said = end.get("counts")
    if isinstance(said, dict):  # written before idempotent responses were backed up
        said = {"idempotent_response": 0, **said}
    if said != restorer.counts:
        raise RecordError(number, "counts", f"say {end.get('counts')}, read {restorer.counts}")
    _reset_sequences(connection)
    return restorer.counts


def _reset_sequences(connection: Connection) -> None:
    """After inserting explicit ids, new rows must get ids above them (PostgreSQL)."""
    if connection.dialect.name != "postgresql":
        return  # SQLite's next rowid follows the largest one stored
    for table in Base.metadata.sorted_tables:
        if "id" in table.c:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
                )
            )


def stored_rows(connection: Connection) -> int:
    return sum(
        connection.execute(select(func.count()).select_from(table)).scalar_one()
        for table in Base.metadata.sorted_tables
    )


def empty_database(connection: Connection) -> None:
    """Delete every row of every table (inside the caller's transaction)."""
    connection.execute(Report.__table__.update().values(cites_id=None, cites_inferred=False))
    for table in reversed(Base.metadata.sorted_tables):
        connection.execute(table.delete())


class NotEmpty(Exception):
    """The target database holds rows and the restore was not told to replace them."""


def restore_from(engine, stream: IO[str], *, replace: bool = False) -> dict[str, int]:
    """Restore a backup in one transaction: all of it, or nothing."""
    with engine.connect() as connection, connection.begin():
        existing = stored_rows(connection)
        if existing and not replace:
            raise NotEmpty(
                f"the database holds {existing} rows; restore into an empty database or "
                "pass --replace to replace them"
            )
        if existing:
            empty_database(connection)
        return restore_lines(connection, stream)
