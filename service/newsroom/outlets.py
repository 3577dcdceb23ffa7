"""What the newsroom knows of an outlet before it is stored: its profile and its slug."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NewOutlet:
    """An outlet to create, with its prior and why (a seeded one, one an editor adds, or
    one first seen in a report)."""

    name: str
    slug: str
    kind: str
    prior_reliability: float
    rationale: str
    country: str | None = None
    # Other names newsrooms use for it ("MEE", "Kan 11") and the domains it publishes on.
    aliases: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


def slugify(name: str) -> str:
    """A URL-safe slug of an outlet name: ``The Times of Israel`` → ``the-times-of-israel``."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "outlet"
