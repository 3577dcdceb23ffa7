"""The 90 % interval: where a claim's confidence will land once its story has settled.

Definition (issue 13, item 7): given the votes counted so far, the interval holds the confidence
the model will give the claim once every report about it is in, with probability 0.9. It is
the 5 % and 95 % points of a mixture: with the current confidence ``p`` as weight, the
claim is true and its log-odds will move as those of true claims with as many votes counted so far
moved from then to the end; with weight ``1 − p`` as false claims' did
(:class:`scoring.evidence.SettlingModel`, learned from resolved claims' time-ordered reports
by :func:`fit_settling`). More votes counted so far leave less to come, so the interval narrows;
a claim whose evidence points one way has a one-sided future. The interval has a minimum
half-width (:data:`MIN_HALF_WIDTH` in log-odds) and so never has zero width while the
evidence is finite.

:func:`scoring.coverage.interval_coverage` measures it on time-ordered streams: score each
claim on its first ``k`` reports, and count how often the final confidence on all reports
lands inside the interval given at ``k``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence

import numpy as np

from scoring.evidence import SETTLING_BINS, SETTLING_LEVELS, SettlingModel

MIN_HALF_WIDTH = 0.05
"""Smallest distance, in log-odds, from the confidence to either end of the interval."""
MIN_BIN_CLAIMS = 25
"""Fewer residuals than this in a bin: the bin borrows the table of the bin before it."""
_TAIL = 0.05
_LIMIT = 30.0


def _bin(settling: SettlingModel, n_votes: int) -> int:
    return max(bisect.bisect_right(settling.bins, n_votes) - 1, 0)


def _cdf(x: float, quantiles: Sequence[float], levels: Sequence[float]) -> float:
    if x <= quantiles[0]:
        return 0.0
    if x >= quantiles[-1]:
        return 1.0
    return float(np.interp(x, quantiles, levels))


def settled_range(log_odds: float, n_votes: int, settling: SettlingModel) -> tuple[float, float]:
    """The 90 % range of the settled log-odds, given the current log-odds and report count."""
    b = _bin(settling, n_votes)
    p = 1.0 / (1.0 + math.exp(-max(min(log_odds, _LIMIT), -_LIMIT)))
    true, false, levels = settling.true[b], settling.false[b], settling.levels

    def mixture(x: float) -> float:
        moved = x - log_odds
        return p * _cdf(moved, true, levels) + (1.0 - p) * _cdf(moved, false, levels)

    def point(target: float) -> float:
        low = log_odds + min(true[0], false[0]) - 1.0
        high = log_odds + max(true[-1], false[-1]) + 1.0
        for _ in range(60):
            mid = 0.5 * (low + high)
            if mixture(mid) < target:
                low = mid
            else:
                high = mid
        return 0.5 * (low + high)

    lower = min(point(_TAIL), log_odds - MIN_HALF_WIDTH)
    upper = max(point(1.0 - _TAIL), log_odds + MIN_HALF_WIDTH)
    return max(lower, -_LIMIT), min(upper, _LIMIT)


def settled_ranges(
    log_odds: Sequence[float], n_votes: Sequence[int], settling: SettlingModel
) -> tuple[list[float], list[float]]:
    """:func:`settled_range` of many claims at once, each equal to it bit for bit.

    The same bisection with the same floating-point operations, run on arrays: the claims
    of one bin share their quantile tables, so each step is one ``np.interp`` per table for
    all of them instead of one per claim (scoring a batch of claims one at a time spent
    most of its time here). The logistic and the clamps stay scalar, as in
    :func:`settled_range`, so that no vectorised ``exp`` rounds differently.
    """
    lower, upper = np.empty(len(log_odds)), np.empty(len(log_odds))
    bins = np.array([_bin(settling, votes) for votes in n_votes], dtype=np.int64)
    for b in np.unique(bins).tolist():
        rows = np.flatnonzero(bins == b)
        current = [float(log_odds[i]) for i in rows.tolist()]
        p = [1.0 / (1.0 + math.exp(-max(min(x, _LIMIT), -_LIMIT))) for x in current]
        lower[rows], upper[rows] = _settled_bin(
            np.array(current), np.array(p), settling.true[b], settling.false[b], settling.levels
        )
    return lower.tolist(), upper.tolist()


def _settled_bin(
    log_odds: np.ndarray,
    p: np.ndarray,
    true: Sequence[float],
    false: Sequence[float],
    levels: Sequence[float],
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`settled_range`'s steps for claims of one bin, on arrays."""
    true_q, false_q = np.asarray(true, dtype=float), np.asarray(false, dtype=float)
    levels_a = np.asarray(levels, dtype=float)

    def cdf(x: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
        inside = np.interp(x, quantiles, levels_a)
        return np.where(x <= quantiles[0], 0.0, np.where(x >= quantiles[-1], 1.0, inside))

    def point(target: float) -> np.ndarray:
        low = log_odds + min(true[0], false[0]) - 1.0
        high = log_odds + max(true[-1], false[-1]) + 1.0
        for _ in range(60):
            mid = 0.5 * (low + high)
            moved = mid - log_odds
            below = p * cdf(moved, true_q) + (1.0 - p) * cdf(moved, false_q) < target
            low, high = np.where(below, mid, low), np.where(below, high, mid)
        return 0.5 * (low + high)

    # Python's min(a, b) and max(a, b): b only when strictly beyond a (which matters for
    # the sign of a zero).
    low_point, floor = point(_TAIL), log_odds - MIN_HALF_WIDTH
    high_point, ceiling = point(1.0 - _TAIL), log_odds + MIN_HALF_WIDTH
    lower = np.where(floor < low_point, floor, low_point)
    upper = np.where(ceiling > high_point, ceiling, high_point)
    return np.where(lower < -_LIMIT, -_LIMIT, lower), np.where(upper > _LIMIT, _LIMIT, upper)


def fit_settling(
    moves: Iterable[tuple[int, float, bool]], bins: Sequence[int] = SETTLING_BINS
) -> SettlingModel:
    """Learn the settling model from observed moves.

    Parameters
    ----------
    moves : iterable of (int, float, bool)
        ``(votes counted so far, final log-odds − log-odds then, verdict)`` of resolved claims'
        time-ordered prefixes.

    Returns
    -------
    SettlingModel
        Quantiles of the moves per bin of votes counted so far and per verdict; a bin with fewer
        than :data:`MIN_BIN_CLAIMS` moves of a verdict borrows the previous bin's quantiles
        (the default model's for the first).
    """
    default = SettlingModel(bins=tuple(bins))
    by_cell: dict[tuple[int, bool], list[float]] = {}
    for n_votes, move, verdict in moves:
        b = max(bisect.bisect_right(bins, n_votes) - 1, 0)
        by_cell.setdefault((b, bool(verdict)), []).append(float(move))
    tables: dict[bool, list[tuple[float, ...]]] = {True: [], False: []}
    for verdict in (True, False):
        previous = (default.true if verdict else default.false)[0]
        for b in range(len(bins)):
            values = by_cell.get((b, verdict), [])
            if len(values) >= MIN_BIN_CLAIMS:
                previous = tuple(np.quantile(values, SETTLING_LEVELS).tolist())
            tables[verdict].append(previous)
    return SettlingModel(bins=tuple(bins), true=tuple(tables[True]), false=tuple(tables[False]))
