"""The hierarchical prior of outlet confusions: outlet → its kind → pooled, one parameterisation.

Every level is a stance confusion (:mod:`scoring.confusion`). The pooled confusion has a flat
Dirichlet(1, 1, 1) prior per truth row. A kind's confusion is the posterior mean of its
outlets' pooled counts under a Dirichlet centred on the pooled confusion; an outlet's is the
posterior mean of its own counts under a Dirichlet centred on its kind's (the pooled one when
its kind is unknown), tilted up to its editor-typed prior when that is more reliable
(:func:`scoring.confusion.typed_prior_centre`). So an outlet with no
record, no typed prior and no kind has exactly the pooled confusion.

The strength of each level's Dirichlet (pseudo-reports per truth row) is learned: the value
on a log grid that maximises the Dirichlet-multinomial marginal likelihood of the children's
counts. We prefer it to inner cross-validation because it uses every outlet with two or more
reports at the cost of one pass over a grid, needs no folds of a few hundred claims, and
measures exactly what the strength means: how much outlets differ from their parent beyond
the noise of their counts. (Issue 13 found about 30 on one real set and 1 on another; a
constant cannot fit both.) Counts are the E-step's expected counts, which may be fractional;
the Gamma function takes them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from scoring.confusion import typed_prior_centre

STRENGTH_GRID = np.geomspace(0.25, 1000.0, 49)
DEFAULT_STRENGTH = 10.0
"""Used when no child has two reports in a row: the strength cannot be learned and the
choice does not matter much (every record is a single report)."""


def dirichlet_multinomial_log_likelihood(
    counts: np.ndarray, centres: np.ndarray, strength: float
) -> float:
    """Log marginal likelihood of stance counts under Dirichlet(strength · centre) rows.

    ``counts`` and ``centres`` have shape ``(n, 2, 3)``; the multinomial coefficient does
    not depend on the strength and is left out.
    """
    alpha = strength * np.clip(centres, 1e-9, None)
    n_row = counts.sum(axis=-1)
    per_row = gammaln(strength) - gammaln(strength + n_row)
    per_row = per_row + (gammaln(alpha + counts) - gammaln(alpha)).sum(axis=-1)
    return float(per_row.sum())


def learn_strength(counts: np.ndarray, centres: np.ndarray) -> float:
    """The grid strength of greatest marginal likelihood (see the module docstring)."""
    informative = counts.sum(axis=-1).max(axis=-1) > 1.0 + 1e-9
    if not informative.any():
        return DEFAULT_STRENGTH
    counts, centres = counts[informative], centres[informative]
    scores = [dirichlet_multinomial_log_likelihood(counts, centres, a) for a in STRENGTH_GRID]
    return float(STRENGTH_GRID[int(np.argmax(scores))])


def posterior_mean(counts: np.ndarray, centres: np.ndarray, strength: float) -> np.ndarray:
    return (counts + strength * centres) / (counts.sum(axis=-1, keepdims=True) + strength)


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """One M-step's prior: pooled and kind confusions, each outlet's centre, strengths."""

    pooled: np.ndarray  # (2, 3)
    kinds: np.ndarray  # (n_kinds, 2, 3); the pooled confusion for kinds without outlets
    kind_seen: np.ndarray  # (n_kinds,) bool
    centres: np.ndarray  # (n_outlets, 2, 3)
    kind_strength: float
    outlet_strength: float


def fit_hierarchy(
    outlet_counts: np.ndarray,
    outlet_kinds: np.ndarray,
    outlet_priors: np.ndarray,
    n_kinds: int,
    strength: float | None = None,
) -> Hierarchy:
    """The prior of each outlet's confusion from all outlets' (expected) counts.

    Parameters
    ----------
    outlet_counts : ndarray of shape (n_outlets, 2, 3)
        Expected counts of each outlet's counted reports by truth and stance.
    outlet_kinds : ndarray of int
        Kind codes; negative for an unknown kind (its parent is the pooled confusion).
    outlet_priors : ndarray of float
        Editor-typed reliabilities, nan where none; clamped to [0.5, 0.99].
    n_kinds : int
    strength : float, optional
        A fixed outlet-level strength instead of the learned one.
    """
    total = outlet_counts.sum(axis=0)
    pooled = (total + 1.0) / (total.sum(axis=-1, keepdims=True) + 3.0)
    known = outlet_kinds >= 0
    kind_counts = np.zeros((n_kinds, 2, 3))
    np.add.at(kind_counts, outlet_kinds[known], outlet_counts[known])
    kind_seen = np.zeros(n_kinds, dtype=bool)
    kind_seen[np.unique(outlet_kinds[known])] = True
    parent = np.broadcast_to(pooled, kind_counts.shape)
    kind_strength = learn_strength(kind_counts[kind_seen], parent[kind_seen])
    kinds = np.where(
        kind_seen[:, None, None], posterior_mean(kind_counts, parent, kind_strength), pooled
    )
    centres = np.where(known[:, None, None], kinds[np.maximum(outlet_kinds, 0)], pooled)
    for o in np.flatnonzero(~np.isnan(outlet_priors)):
        centres[o] = typed_prior_centre(centres[o], outlet_priors[o])
    outlet_strength = learn_strength(outlet_counts, centres) if strength is None else strength
    return Hierarchy(pooled, kinds, kind_seen, centres, kind_strength, float(outlet_strength))
