"""PostgreSQL bulk writes: ids drawn from a table's sequence, rows sent with ``COPY``.

For writers of thousands of rows at once (``srs import``, its outbox events): COPY skips
the per-row parameter handling of an INSERT, and ids drawn beforehand spare a RETURNING.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Table, text
from sqlalchemy.orm import Session


def reserve_ids(session: Session, table: Table, n: int) -> list[int]:
    """``n`` new ids from ``table``'s id sequence, in increasing order."""
    if n == 0:
        return []
    ids = session.scalars(
        text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table.name, "n": n},
    )
    return sorted(ids)


def copy_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """``COPY`` ``rows`` (dicts with the same keys, column names) into ``table`` in the
    session's transaction; JSON columns are encoded as the JSON type encodes them."""
    if not rows:
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    encoded = {c.name for c in table.columns if isinstance(c.type, JSON)}
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c in encoded else row[c] for c in columns])
