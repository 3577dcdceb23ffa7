"""What can go wrong in a use case, in the newsroom's words.

The use cases raise these; they know nothing of HTTP. The web edge maps each to a
problem+json response in one place (:func:`service.web.errors.problem_for`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class NewsroomError(Exception):
    """A use case refused; ``detail`` says why, for whoever asked."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class NotFound(NewsroomError):
    """The claim, report, outlet or other row asked for is not stored."""


class Conflict(NewsroomError):
    """The change contradicts what is stored (a taken key, a retraction done already)."""


class Forbidden(NewsroomError):
    """The caller may not make this change."""


class InvalidInput(NewsroomError):
    """What was asked cannot be done as given; ``fields`` names the bad ones
    (``_schema`` for the request as a whole), each with its messages."""

    def __init__(self, detail: str, *, fields: Mapping[str, Any]):
        super().__init__(detail)
        self.fields = dict(fields)
