"""What every API resource shares: the base schema, pagination over SQLAlchemy selects,
and the decorators for read and write operations (auth, idempotency, one commit)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import Response, current_app, g, request
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest import Page
from flask_smorest.pagination import PaginationMetadataSchema
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import IdempotentResponse
from service.web.auth import current_caller, requires
from service.web.database import request_uow, unit_of_work
from service.web.errors import Unprocessable

MAX_PAGE_SIZE = 100
MAX_OFFSET = 2**31 - 1
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Printable ASCII, no space at either end: what a header carries unchanged through proxies.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]([ -~]{0,198}[!-~])?$"


# -- JSON values as they are: no coercion (issue 14, item 3) -----------------------------------
# marshmallow reads "true", 1 and "yes" as booleans, "0.5" as a number and a bare date as a
# date-time. A request body is JSON, which has booleans and numbers of its own: these fields
# take only those, so {"verdict": "true"} or {"verdict": 0} is a 422, never a verdict.
# (Query strings are text by nature; their schemas keep marshmallow's parsing.)
class StrictBoolean(ma.fields.Boolean):
    """A JSON boolean: ``true`` or ``false``, nothing else."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class StrictInteger(ma.fields.Integer):
    """A JSON integer (not a boolean, a string or a float)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class StrictFloat(ma.fields.Float):
    """A JSON number (not a boolean or a string)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[Zz]|[+-]\d{2}:\d{2})$"
)


class StrictDateTime(ma.fields.AwareDateTime):
    """An RFC 3339 date-time with its offset ("2024-11-18T10:00:00Z"); not a bare date,
    not a time without a zone."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not RFC3339.match(value):
            raise ma.ValidationError(
                "Must be a date-time with a time zone, such as 2024-11-18T10:00:00Z."
            )
        return super()._deserialize(value, attr, data, **kwargs)


class StrictSchema(ma.Schema):
    """Unknown fields are an error everywhere (set once, here)."""

    class Meta:
        unknown = ma.RAISE
        ordered = True


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint, adding an RFC 8288 ``Link`` header to paginated lists."""

    def _document_pagination_metadata(self, spec, resp_doc):
        # X-Pagination holds a JSON object; flask-smorest documents it with a bare object
        # schema, which OpenAPI reads as the "simple" style (k,v,k,v), not JSON.
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": "Pagination metadata, a JSON object",
            "content": {"application/json": {"schema": PaginationMetadataSchema}},
        }

    def _set_pagination_metadata(self, page_params, result, headers):
        result, headers = super()._set_pagination_metadata(page_params, result, headers)
        last = max(1, -(-page_params.item_count // page_params.page_size))
        links = []
        args = request.args.to_dict()
        for rel, page in (
            ("first", 1),
            ("prev", page_params.page - 1),
            ("next", page_params.page + 1),
            ("last", last),
        ):
            if 1 <= page <= last and not (rel in ("prev", "next") and page == page_params.page):
                query = urlencode({**args, "page": page, "page_size": page_params.page_size})
                links.append(f'<{request.base_url}?{query}>; rel="{rel}"')
        headers["Link"] = ", ".join(links)
        return result, headers


@dataclass(frozen=True)
class PagedSelect:
    """A ``select`` to page, and how to present each row of a page (default: as it is)."""

    session: Session
    statement: Select
    present: Callable[[Any], Any] | None = None


class SelectPage(Page):
    """Pages a :class:`PagedSelect` with LIMIT/OFFSET and one COUNT."""

    def __init__(self, collection: PagedSelect, page_params):
        self.query = collection
        super().__init__(collection, page_params)

    @property
    def items(self):
        if self.page_params.first_item > MAX_OFFSET:
            # Past any row there can be (ids are INTEGERs); an OFFSET this large would
            # overflow the driver's integer instead of answering an empty page.
            return []
        statement = self.query.statement
        page = statement.offset(self.page_params.first_item).limit(self.page_params.page_size)
        if len(statement.column_descriptions) == 1:
            rows = self.query.session.scalars(page).all()
        else:
            rows = self.query.session.execute(page).all()
        present = self.query.present
        return [present(row) for row in rows] if present else list(rows)

    @property
    def item_count(self):
        counted = self.query.statement.order_by(None).subquery()
        return self.query.session.scalar(select(func.count()).select_from(counted))


def paginate(blp: Blueprint):
    return blp.paginate(SelectPage, max_page_size=MAX_PAGE_SIZE)


def read_operation(view):
    """A read: needs the ``read`` scope unless the deployment opened reads; its unit of
    work runs in autocommit (see :func:`service.web.database.request_uow`)."""
    checked = requires("read")(view)

    @wraps(checked)
    def wrapper(*args, **kwargs):
        g.read_only = True
        return checked(*args, **kwargs)

    return wrapper


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(stored: IdempotentResponse) -> Response:
    response = Response(stored.body, status=stored.status_code, mimetype="application/json")
    for name, value in (stored.headers or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _stored_response(session: Session, api_key_id: int | None, key: str):
    return session.scalars(
        select(IdempotentResponse).where(
            IdempotentResponse.api_key_id == api_key_id, IdempotentResponse.key == key
        )
    ).first()


def _check_stored(key: str) -> Response | None:
    with unit_of_work() as uow:
        stored = _stored_response(uow.session, current_caller().key_id, key)
        if stored is None:
            return None
        if stored.request_fingerprint != _fingerprint():
            raise Unprocessable(
                f"Idempotency-Key {key!r} was used with a different request.",
                errors={"headers": {IDEMPOTENCY_HEADER: ["reused with another request body"]}},
            )
        return _replay(stored)


def write_operation(scope: str, *, idempotent: bool = True):
    """A write: checks the key's scope first, replays an idempotent retry, commits once.

    Put it above flask-smorest's ``arguments``/``response`` decorators, so it sees the
    finished response and can store it (for ``Idempotency-Key`` retries) in the same
    transaction as the change itself.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get(IDEMPOTENCY_HEADER) if idempotent else None
            if key is not None:
                key = key.strip()
                if not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
                    raise Unprocessable(
                        "Idempotency-Key must be 1 to 200 printable ASCII characters.",
                        errors={
                            "headers": {IDEMPOTENCY_HEADER: ["1 to 200 printable ASCII characters"]}
                        },
                    )
                replay = _check_stored(key)
                if replay is not None:
                    return replay
            response = current_app.ensure_sync(view)(*args, **kwargs)
            uow = request_uow()
            if key is not None and response.status_code < 400:
                uow.session.add(
                    IdempotentResponse(
                        api_key_id=current_caller().key_id,
                        key=key,
                        request_fingerprint=_fingerprint(),
                        status_code=response.status_code,
                        body=response.get_data(as_text=True),
                        headers={
                            k: v for k, v in response.headers.items() if k in ("Location", "ETag")
                        },
                    )
                )
            try:
                uow.commit()
            except IntegrityError:
                # A concurrent retry with the same key won the race: answer as it did.
                uow.rollback()
                replay = _check_stored(key) if key is not None else None
                if replay is None:
                    raise
                return replay
            for run_after_commit in g.pop("after_commit", ()):
                run_after_commit()
            return response

        doc = dict(getattr(view, "_apidoc", {}))
        if idempotent:
            manual = dict(doc.get("manual_doc", {}))
            manual["parameters"] = [
                *manual.get("parameters", []),
                {
                    "name": IDEMPOTENCY_HEADER,
                    "in": "header",
                    "required": False,
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 200,
                        "pattern": IDEMPOTENCY_KEY_PATTERN,
                    },
                    "description": "Retry-safe key: a retry with the same key and body "
                    "returns the first response and writes nothing new.",
                },
            ]
            doc["manual_doc"] = manual
        wrapper._apidoc = doc
        return requires(scope)(wrapper)

    return decorator
