"""Model versions: the scoring parameters as stored JSON, and which one is active."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models import ModelVersion
from scoring.attribution import default_parameters
from scoring.evidence import ModelParameters, parameters_from_dict, parameters_to_dict


def parameters_to_json(params: ModelParameters) -> dict[str, Any]:
    """The stored form of a model version (plain JSON; see :func:`parameters_to_dict`)."""
    return parameters_to_dict(params)


def parameters_from_json(stored: dict[str, Any]) -> ModelParameters:
    """A stored model version; versions stored before model v2 load with the defaults of the
    fields they lack (the noisy channel, linear sums, no claim layer)."""
    return parameters_from_dict(stored)


def active_parameters(session: Session) -> ModelParameters:
    """The active model version's parameters; the documented priors when none is stored.

    Every write asks: the active version is read each time (activation takes effect at
    once), its parameters parsed once per process (a stored version never changes)."""
    active = session.execute(_active_version()).first()
    if active is None:
        return _documented_priors()
    key = tuple(active)
    parsed = _parsed_versions.get(key)
    if parsed is None:
        stored = session.get(ModelVersion, active.id)
        parsed = parameters_from_json(stored.parameters)
        if len(_parsed_versions) >= 8:
            _parsed_versions.clear()
        _parsed_versions[key] = parsed
    return parsed


# Parsed versions by (id, version, created_at): the three together name one stored version
# even across databases a process has used (tests, restores).
_parsed_versions: dict[tuple, ModelParameters] = {}


@cache
def _active_version() -> Select:
    return select(ModelVersion.id, ModelVersion.version, ModelVersion.created_at).where(
        ModelVersion.active.is_(True)
    )


@cache
def _documented_priors() -> ModelParameters:
    # Frozen, and built from constant tables: one instance serves every write.
    return default_parameters()
