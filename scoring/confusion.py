"""Stance confusions and the likelihood ratios they give: shared by the learner and the engine.

A *confusion* is an array of shape ``(..., 2, 3)``: rows are the claim's truth (false,
true), columns the report's stance in :data:`scoring.vocabulary.STANCES` order (supports,
denies, neutral); each row sums to 1. A report of stance ``s`` moves a claim's log-odds by
its log-likelihood ratio ``log P(s | true) − log P(s | false)``.

Editor-typed outlet priors are one-coin reliabilities (the probability that what the outlet
asserts is right). Under learned parameters they enter as a *tilt* of the parent confusion
(the outlet's kind's, or the pooled one; :func:`typed_prior_centre`): the same neutral rates
and the same lean towards supporting, with the gap between the rows set by the typed
reliability, and only towards more reliable than the parent. A typed prior is clamped to
:data:`TYPED_PRIOR_BOUNDS` first: an editor who types 0.3 means "noisy", never "reliably
wrong"; only a learned record can say that (issue 13, item 6). It never lowers the parent
either: the parent is what the claims learned an outlet without a record is worth, and the
service types a prior for every outlet it meets (its kind's documented one, whatever the
data show), so a lower typed prior would override what was learned with a guess.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from scoring.vocabulary import STANCES

SUPPORTS, DENIES, NEUTRAL = (STANCES.index(name) for name in ("supports", "denies", "neutral"))
STANCE_SIGN = np.array([1.0, -1.0, 0.0])[[SUPPORTS, DENIES, NEUTRAL]]
TYPED_PRIOR_BOUNDS = (0.5, 0.99)
_EDGE = 1e-6


def clamp_typed_prior(reliability: float) -> float:
    """An editor-typed reliability clamped to :data:`TYPED_PRIOR_BOUNDS`."""
    low, high = TYPED_PRIOR_BOUNDS
    return min(max(float(reliability), low), high)


def stance_log_lr(confusion: np.ndarray) -> np.ndarray:
    """Log-likelihood ratio of each stance, shape ``(..., 3)``."""
    confusion = np.clip(np.asarray(confusion, dtype=float), _EDGE, 1.0)
    return np.log(confusion[..., 1, :]) - np.log(confusion[..., 0, :])


def confusion_reliability(confusion: np.ndarray) -> np.ndarray:
    """One-coin reliability of stance confusions (``(..., 2, 3)``, rows false/true).

    Its logit is the mean of the log-likelihood ratios a support (for true) and a denial
    (for false) carry: below 0.5 for an outlet that supports false claims and denies true
    ones.
    """
    log_ratio = stance_log_lr(confusion)
    return expit(0.5 * (log_ratio[..., SUPPORTS] - log_ratio[..., DENIES]))


def tilted_confusion(parent: np.ndarray, reliability) -> np.ndarray:
    """The parent confusion re-tilted to have the given one-coin reliability.

    Keeps the parent's neutral rates and its lean towards supporting (the mean of the two
    rows' log-odds of supports among assertions) and sets the half-gap between the rows to
    ``logit(reliability)``, so that :func:`confusion_reliability` of the result is
    ``reliability`` and ``tilted_confusion(parent, confusion_reliability(parent))`` is the
    parent itself. ``parent`` is ``(2, 3)``; the result has shape
    ``np.shape(reliability) + (2, 3)``.
    """
    parent = np.asarray(parent, dtype=float)
    reliability = np.clip(np.asarray(reliability, dtype=float), _EDGE, 1 - _EDGE)
    neutral = parent[:, NEUTRAL]
    share = parent[:, SUPPORTS] / np.maximum(parent[:, SUPPORTS] + parent[:, DENIES], _EDGE)
    lean = logit(np.clip(share, _EDGE, 1 - _EDGE)).mean()
    half_gap = logit(reliability)[..., None]
    direction = np.array([-1.0, 1.0])  # truth false, true
    supports_share = expit(lean + direction * half_gap)  # (..., 2)
    out = np.empty(reliability.shape + (2, 3))
    out[..., SUPPORTS] = (1 - neutral) * supports_share
    out[..., DENIES] = (1 - neutral) * (1 - supports_share)
    out[..., NEUTRAL] = np.broadcast_to(neutral, supports_share.shape)
    return out


def typed_prior_centre(parent: np.ndarray, typed: float | None) -> np.ndarray:
    """The prior centre of an outlet's confusion: its parent, tilted up to a typed prior.

    ``parent`` is the kind's or the pooled confusion ``(2, 3)``; ``typed`` the editor-typed
    reliability or ``None``. The typed prior, clamped to :data:`TYPED_PRIOR_BOUNDS`, tilts
    the parent (:func:`tilted_confusion`) only when it is more reliable than the parent.
    """
    parent = np.asarray(parent, dtype=float)
    if typed is None or np.isnan(typed):
        return parent
    typed = clamp_typed_prior(typed)
    if typed <= float(confusion_reliability(parent)):
        return parent
    return tilted_confusion(parent, typed)


def noisy_channel_log_lr(reliability: float, credibility: float) -> np.ndarray:
    """Per-stance log-LRs of the documented priors' noisy channel (model ``prior-1``).

    The report is right when the outlet relays faithfully a source that is right, or
    garbles a source that is wrong: ``p = r·c + (1 − r)·(1 − c)``; a support carries
    ``+logit(p)``, a denial ``−logit(p)``, neutral coverage nothing.
    """
    p = reliability * credibility + (1.0 - reliability) * (1.0 - credibility)
    weight = float(np.log(p) - np.log1p(-p))
    out = np.zeros(3)
    out[SUPPORTS], out[DENIES] = weight, -weight
    return out
