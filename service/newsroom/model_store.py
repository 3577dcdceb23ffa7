"""Model versions: the scoring parameters as stored JSON, and which one is active."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ModelVersion
from scoring.attribution import default_parameters
from scoring.evidence import Calibration, ModelParameters


def parameters_to_json(params: ModelParameters) -> dict[str, Any]:
    # asdict() would deep-copy the read-only mapping proxies, which cannot be copied.
    out: dict[str, Any] = {f.name: getattr(params, f.name) for f in fields(params)}
    for name in ("attribution_credibility", "outlet_reliability", "kind_reliability"):
        out[name] = dict(getattr(params, name))
    out["calibration"] = asdict(params.calibration)
    return out


def parameters_from_json(stored: dict[str, Any]) -> ModelParameters:
    calibration = stored.get("calibration") or {}
    return ModelParameters(
        version=stored["version"],
        base_rate=float(stored["base_rate"]),
        interested_party_discount=float(stored["interested_party_discount"]),
        attribution_credibility=stored.get("attribution_credibility") or {},
        outlet_reliability=stored.get("outlet_reliability") or {},
        kind_reliability=stored.get("kind_reliability") or {},
        calibration=Calibration(
            method=calibration.get("method", "identity"),
            x=tuple(calibration.get("x", ())),
            y=tuple(calibration.get("y", ())),
            a=float(calibration.get("a", -1.0)),
            b=float(calibration.get("b", 0.0)),
        ),
    )


def active_parameters(session: Session) -> ModelParameters:
    """The active model version's parameters; the documented priors when none is stored."""
    stored = session.scalars(select(ModelVersion).where(ModelVersion.active.is_(True))).first()
    if stored is None:
        return default_parameters()
    return parameters_from_json(stored.parameters)
