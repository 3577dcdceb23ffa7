"""Geometry of the dashboard's charts, drawn by the templates as inline SVG.

Server-rendered SVG needs no script and no chart library, so the pages keep a strict
Content-Security-Policy and show their charts with JavaScript off. Colours and fonts come
from the stylesheet (CSS classes), not from inline styles, which the policy forbids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class HistoryPoint:
    x: float
    y: float
    recorded_at: datetime
    confidence: float
    lower: float
    upper: float
    label: str
    model_version: str
    cause: str


@dataclass(frozen=True)
class HistoryChart:
    """Confidence after each change, with its 90 % interval as a band.

    The x axis counts changes rather than time: a claim's reports often arrive within
    minutes and its verdict weeks later, and on a time axis the early moves would collapse
    into one point. Each point's tooltip gives its time and cause.
    """

    width: int
    height: int
    left: float
    right: float
    points: tuple[HistoryPoint, ...]
    line: str
    band: str
    gridlines: tuple[tuple[float, str], ...]
    even_y: float
    first_label: str
    last_label: str


def history_chart(rows: Sequence[Any], width: int = 720, height: int = 220) -> HistoryChart | None:
    """``rows``: score-history entries (recorded_at, confidence, confidence_lower/upper,
    label, model_version, cause), oldest first. None when there are none."""
    if not rows:
        return None
    left, right, top, bottom = 44.0, width - 12.0, 12.0, height - 28.0

    def y_of(probability: float) -> float:
        return round(bottom - probability * (bottom - top), 2)

    step = (right - left) / (len(rows) - 1) if len(rows) > 1 else 0.0
    points = tuple(
        HistoryPoint(
            x=round(left + index * step if len(rows) > 1 else (left + right) / 2, 2),
            y=y_of(row.confidence),
            recorded_at=row.recorded_at,
            confidence=row.confidence,
            lower=row.confidence_lower,
            upper=row.confidence_upper,
            label=row.label,
            model_version=row.model_version,
            cause=row.cause,
        )
        for index, row in enumerate(rows)
    )
    upper_edge = [f"{p.x},{y_of(p.upper)}" for p in points]
    lower_edge = [f"{p.x},{y_of(p.lower)}" for p in reversed(points)]
    if len(points) == 1:  # a band needs width: widen the single point a little
        (p,) = points
        upper_edge = [f"{p.x - 6},{y_of(p.upper)}", f"{p.x + 6},{y_of(p.upper)}"]
        lower_edge = [f"{p.x + 6},{y_of(p.lower)}", f"{p.x - 6},{y_of(p.lower)}"]
    return HistoryChart(
        width=width,
        height=height,
        left=left,
        right=right,
        points=points,
        line=" ".join(f"{p.x},{p.y}" for p in points),
        band=" ".join(upper_edge + lower_edge),
        gridlines=tuple((y_of(v / 100), f"{v}%") for v in (0, 25, 50, 75, 100)),
        even_y=y_of(0.5),
        first_label=f"{rows[0].recorded_at:%Y-%m-%d %H:%M}",
        last_label=f"{rows[-1].recorded_at:%Y-%m-%d %H:%M}",
    )


@dataclass(frozen=True)
class Bar:
    label: str
    reason: str
    y: float
    x: float
    width: float
    sign: int
    value_text: str
    text_x: float
    text_anchor: str


@dataclass(frozen=True)
class BarChart:
    """Each contribution's log-odds as a bar left (against) or right (for) of zero."""

    width: int
    height: int
    zero_x: float
    bar_height: float
    label_x: float
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, str], ...]


# Text is laid out without a browser, so its width is estimated, generously: 12 px
# characters (the stylesheet's size for these labels) at most 0.66 em wide on average
# (DejaVu Sans, the widest of the fonts it names, draws digits at 0.64 em and "+" at 0.84).
CHARACTER_WIDTH = 12 * 0.66
GAP = 6


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _value_text(log_odds: float, points: float) -> str:
    return f"{log_odds:+.2f} ({points:+.1f} pts)"


def contribution_chart(
    contributions: Sequence[Mapping[str, Any]], width: int = 720, row: int = 30
) -> BarChart | None:
    """``contributions``: the claim's stored explanation. None when it is empty.

    Every label fits inside the chart and none overlaps another: outlet names are cut to
    the label column, and each side of the zero line keeps room for the longest value
    text beyond the longest bar (tests/test_dashboard_browser.py measures them)."""
    if not contributions:
        return None
    label_width = 220.0
    left, right = label_width + 2 * GAP, width - 4.0
    zero_x = (left + right) / 2
    values = [
        _value_text(float(c["log_odds"]), float(c.get("probability_points") or 0.0))
        for c in contributions
    ]
    value_room = max(len(text) for text in values) * CHARACTER_WIDTH + GAP
    half = (right - left) / 2 - value_room  # the longest bar, either side
    extent = max(0.5, max(abs(float(c["log_odds"])) for c in contributions))
    bars = []
    for index, contribution in enumerate(contributions):
        log_odds = float(contribution["log_odds"])
        length = abs(log_odds) / extent * half
        outlets = list(dict.fromkeys(contribution.get("outlets") or []))
        label = ", ".join(outlets) if outlets else "calibration"
        sign = 1 if log_odds > 0 else (-1 if log_odds < 0 else 0)
        x = zero_x if sign >= 0 else zero_x - length
        bars.append(
            Bar(
                label=_short(label, int(label_width // CHARACTER_WIDTH)),
                reason=contribution.get("reason") or label,
                y=8 + index * row,
                x=round(x, 2),
                width=round(max(length, 1.0), 2),
                sign=sign,
                value_text=values[index],
                text_x=round(zero_x + length + GAP if sign >= 0 else zero_x - length - GAP, 2),
                text_anchor="start" if sign >= 0 else "end",
            )
        )
    ticks = tuple(
        (round(zero_x + f * half, 2), f"{f * extent:+.1f}".replace("+0.0", "0"))
        for f in (-1, -0.5, 0, 0.5, 1)
    )
    return BarChart(
        width=width,
        height=int(16 + len(bars) * row + 18),
        zero_x=zero_x,
        bar_height=row - 10,
        label_x=label_width,
        bars=tuple(bars),
        ticks=ticks,
    )
