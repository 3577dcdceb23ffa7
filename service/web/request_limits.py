"""Limits a request body must meet before any JSON parser sees it.

The body size is capped by ``MAX_CONTENT_LENGTH`` (413). Within that, a JSON body is
scanned once, at C speed (regular expressions and a numpy running sum), for:

- nesting deeper than ``MAX_JSON_DEPTH`` (413): ``[[[[…]]]]`` two megabytes deep would
  exhaust the recursion of a recursive parser (Python's ``json`` raises RecursionError)
  long before the schema could refuse it;
- a string longer than ``MAX_JSON_STRING_BYTES`` as written (413): no field takes more
  than 10,000 characters, so anything far longer is refused unparsed;
- the escape ``\\u0000`` (400): PostgreSQL text cannot hold NUL, so a NUL would fail
  deep inside the database as a 500; the same goes for NUL in the path or query string.

413 for the two size limits, as for the body size: the request is too large in one of its
dimensions, and the detail says which. These checks run for every method with a body,
before authentication, so an anonymous caller cannot make the parser do the work.
"""

from __future__ import annotations

import re

import numpy as np
from flask import Flask, current_app, request

from service.web.errors import Problem

MAX_JSON_DEPTH = 32
MAX_JSON_STRING_BYTES = 64 * 1024

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NUL_ESCAPE = re.compile(rb"\\u0000")
_STRING = re.compile(rb'"[^"]*"')
_DEPTH_STEP = np.zeros(256, dtype=np.int8)
_DEPTH_STEP[[ord("["), ord("{")]] = 1
_DEPTH_STEP[[ord("]"), ord("}")]] = -1


class ContentTooLarge(Problem):
    status, title = 413, "Content Too Large"


def _is_json() -> bool:
    mimetype = request.mimetype or ""
    return mimetype == "application/json" or mimetype.endswith("+json")


def _masked(body: bytes) -> bytes:
    # Every escape becomes two plain bytes, so \" no longer ends a string and lengths stay.
    return _ESCAPE.sub(b"__", body)


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body`` (JSON text, maybe invalid)."""
    # Strings emptied (brackets inside them are text), then a running sum over the rest.
    structure = _STRING.sub(b'""', _masked(body))
    if not structure:
        return 0
    steps = _DEPTH_STEP[np.frombuffer(structure, dtype=np.uint8)]
    return int(np.cumsum(steps, dtype=np.int64).max(initial=0))


def has_string_longer_than(body: bytes, limit: int) -> bool:
    """Whether a string token of ``body`` has more than ``limit`` bytes as written."""
    return re.search(rb'"[^"]{%d}' % (limit + 1), _masked(body)) is not None


def check_request() -> None:
    """The before-request hook: refuse what must not reach the parser or the database."""
    query = request.args.lists()
    if "\x00" in request.path or any("\x00" in k or "\x00" in "".join(v) for k, v in query):
        raise Problem("The path and query must not contain NUL characters.", status=400)
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if any("\x00" in k or "\x00" in "".join(v) for k, v in request.form.lists()):
            raise Problem("Form fields must not contain NUL characters.", status=400)
        return
    if not _is_json():
        return
    # MAX_CONTENT_LENGTH is enforced by werkzeug here (413) before anything is read.
    body = request.get_data(cache=True)
    limit_depth = current_app.config.get("MAX_JSON_DEPTH", MAX_JSON_DEPTH)
    limit_string = current_app.config.get("MAX_JSON_STRING_BYTES", MAX_JSON_STRING_BYTES)
    # Cheap bounds first: few brackets cannot nest deep, a short body holds no long string.
    openers = body.count(b"[") + body.count(b"{")
    if openers > limit_depth and json_depth(body) > limit_depth:
        raise ContentTooLarge(f"JSON nested deeper than {limit_depth} levels is not accepted.")
    if len(body) > limit_string and has_string_longer_than(body, limit_string):
        raise ContentTooLarge(f"JSON strings longer than {limit_string} bytes are not accepted.")
    if b"\\u" in body and _NUL_ESCAPE.search(_ESCAPE.sub(_keep_nul, body)):
        raise Problem("Text must not contain NUL characters (\\u0000).", status=400)


def _keep_nul(match: re.Match[bytes]) -> bytes:
    # Mask every escape but the start of \u0000, so "\\u0000" (a backslash, then text) passes.
    return match.group(0) if match.group(0) == b"\\u" else b"__"


def init_app(app: Flask) -> None:
    app.before_request(check_request)
