"""How counts are written in sentences the service shows people: "1 report", "2 reports"."""

from __future__ import annotations


def count_of(number: int, singular: str, plural: str | None = None) -> str:
    """``number`` and the noun agreeing with it: ``count_of(1, "cluster")`` is "1 cluster"."""
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"
