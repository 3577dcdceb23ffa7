"""Template filters: how the pages write probabilities, changes and times."""

from __future__ import annotations

from datetime import datetime

from service.newsroom.wording import count_of
from service.web.dashboard.views import blp

# "1 report", "2 reports": ``count_of(n, "report")`` in templates.
blp.add_app_template_global(count_of, "count_of")


@blp.app_template_filter("percent")
def percent(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f}%"


@blp.app_template_filter("points")
def points(value: float | None) -> str:
    """A change of probability in percentage points, signed."""
    return "–" if value is None else f"{100 * value:+.1f} pts"


@blp.app_template_filter("moment")
def moment(value: datetime | None) -> str:
    return "–" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"
