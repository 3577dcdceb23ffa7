"""A shrunk base rate per story: where a claim of a known story starts.

Claims of one event are not exchangeable with claims of another: in RumourEval 2017 none
of the twelve resolved rumours about Prince playing Toronto was true, while most of those
about the Sydney siege were. A story's resolved claims say where the next claim of the
story should start, but a story with two resolved claims says little, so its rate is
shrunk toward the pooled one (empirical Bayes, a beta-binomial):

``rate = (t + m · p) / (t + f + m)``

for ``t`` true and ``f`` false resolved claims of the story, pooled share true ``p`` and
strength ``m`` pseudo-claims. ``m`` maximises the beta-binomial marginal likelihood of the
stories' counts (:func:`fit_strength`): stories whose shares differ more than chance
allows get a small ``m`` (trust the story), stories that look alike a large one (the term
fades). The claim's term is ``coefficient · (logit(rate) − logit(p))`` on top of the claim
layer's intercept (:func:`story_offset`); the coefficient is fitted with the layer
(:mod:`scoring.deployment`), on offsets cross-fitted so that no resolved claim's own
verdict feeds its own story term.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import betaln

from scoring.evidence import StoryModel

STRENGTH_BOUNDS = (0.5, 10_000.0)
"""Pseudo-claims of the pooled rate a story's rate is shrunk with: at least half a claim
(so a story with one resolved claim is never certain), at most so many that the term is
nil."""


def _logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


def story_counts(
    stories: Iterable[str | None], verdicts: Iterable[bool]
) -> dict[str, tuple[int, int]]:
    """``(true, false)`` resolved claims by story; claims without a story are left out."""
    counts: dict[str, list[int]] = {}
    for story, verdict in zip(stories, verdicts, strict=True):
        if story is not None:
            pair = counts.setdefault(story, [0, 0])
            pair[0 if verdict else 1] += 1
    return {story: (t, f) for story, (t, f) in counts.items()}


def story_offset(true: int, false: int, base_rate: float, strength: float) -> float:
    """``logit(shrunk story rate) − logit(base_rate)``: 0 with no resolved claim, positive
    when the story's share true is above ``base_rate``, negative below it."""
    if true + false == 0 or not 0.0 < base_rate < 1.0:
        return 0.0
    rate = (true + strength * base_rate) / (true + false + strength)
    return _logit(rate) - _logit(base_rate)


def fit_strength(counts: Mapping[str, tuple[int, int]], base_rate: float) -> float:
    """The strength ``m`` of largest beta-binomial marginal likelihood of the stories'
    counts, with mean ``base_rate``, within :data:`STRENGTH_BOUNDS` (the upper bound
    when no story has two resolved claims: one claim cannot show a story differs)."""
    pairs = np.array([pair for pair in counts.values() if sum(pair) >= 2], dtype=float)
    if len(pairs) == 0 or not 0.0 < base_rate < 1.0:
        return STRENGTH_BOUNDS[1]
    true, false = pairs[:, 0], pairs[:, 1]

    def negative_log_likelihood(log_m: float) -> float:
        m = math.exp(log_m)
        a, b = m * base_rate, m * (1.0 - base_rate)
        return -float(np.sum(betaln(true + a, false + b) - betaln(a, b)))

    low, high = (math.log(v) for v in STRENGTH_BOUNDS)
    result = minimize_scalar(negative_log_likelihood, bounds=(low, high), method="bounded")
    return float(math.exp(result.x))


def claim_story_offset(
    model: StoryModel, story: str | None, verdict: bool | None = None
) -> tuple[float, int, int]:
    """A claim's story term (before the coefficient) and the counts it rests on.

    A resolved claim (``verdict`` given) leaves its own verdict out of its story's counts,
    as the fit did: the stored counts include it when it was resolved at fit time.
    """
    if story is None or story not in model.resolved:
        return 0.0, 0, 0
    true, false = model.resolved[story]
    if verdict is True and true > 0:
        true -= 1
    elif verdict is False and false > 0:
        false -= 1
    return story_offset(true, false, model.base_rate, model.strength), true, false


def fit_story_model(
    stories: Iterable[str | None], verdicts: Iterable[bool], coefficient: float
) -> StoryModel:
    """The story model of a set of resolved claims (their stories and verdicts)."""
    stories, verdicts = list(stories), [bool(v) for v in verdicts]
    counts = story_counts(stories, verdicts)
    base_rate = float(np.mean(verdicts)) if verdicts else 0.5
    return StoryModel(
        base_rate=base_rate,
        strength=fit_strength(counts, base_rate),
        coefficient=float(coefficient),
        resolved=counts,
    )


def cross_fitted_offsets(
    stories: list[str | None], verdicts: np.ndarray, folds: Iterable[np.ndarray]
) -> np.ndarray:
    """Each resolved claim's story offset from the other folds' resolved claims only (base
    rate and strength fitted there too), so its own verdict never feeds its own term.

    ``stories`` and ``verdicts`` are aligned; ``folds`` are index arrays covering them.
    """
    offsets = np.zeros(len(stories))
    for test in folds:
        train = np.setdiff1d(np.arange(len(stories)), test)
        model = fit_story_model([stories[i] for i in train], verdicts[train], 1.0)
        for i in test:
            offsets[i] = claim_story_offset(model, stories[i])[0]
    return offsets
