"""Model versions: the scoring parameters as stored JSON, and which one is active."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
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
    """The active model version's parameters; the documented priors when none is stored."""
    stored = session.scalars(select(ModelVersion).where(ModelVersion.active.is_(True))).first()
    if stored is None:
        return default_parameters()
    return parameters_from_json(stored.parameters)
