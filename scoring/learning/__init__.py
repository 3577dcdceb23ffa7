"""Learning outlet confusions from resolved and open claims.

- :mod:`scoring.learning.tables`: the reports of a set of claims as numpy arrays;
- :mod:`scoring.learning.prior`: the hierarchical prior (outlet → kind → pooled) and its
  learned strengths;
- :mod:`scoring.learning.estimator`: the EM estimator (scikit-learn conventions);
- :mod:`scoring.learning.export`: the fitted estimator as engine parameters.
"""

from scoring.confusion import (
    DENIES,
    NEUTRAL,
    SUPPORTS,
    confusion_reliability,
    tilted_confusion,
)
from scoring.learning.estimator import ReliabilityEstimator
from scoring.learning.tables import ReportTable

__all__ = [
    "DENIES",
    "NEUTRAL",
    "SUPPORTS",
    "ReliabilityEstimator",
    "ReportTable",
    "confusion_reliability",
    "tilted_confusion",
]
