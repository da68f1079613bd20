"""Bootstrap confidence intervals (real customs test sets are small; every figure carries its CI).

Resampling is **stratified** by parcel kind: clean and contraband parcels are each resampled with
replacement to their own count, so every replicate has both kinds (ROC and AUC stay defined) and
the clean/contraband mix of the test set is kept. Intervals are percentile intervals.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its bootstrap interval.

    value: the figure on the whole set. ci_low, ci_high: percentile interval at ``level``; when a
    step statistic's bootstrap distribution is so skewed that the percentile interval excludes the
    point estimate, the interval is widened to include it (so ``ci_low <= value <= ci_high``).
    None where the figure is undefined (e.g. no parcel of that kind).
    """

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    level: float = 0.95

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def defined(self) -> bool:
        return self.value is not None and math.isfinite(self.value)


def stratified_indices(
    n_pos: int, n_neg: int, n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap index matrices: int64 [n_boot, n_pos] into the positives, [n_boot, n_neg] into the negatives."""
    rng = np.random.default_rng(seed)
    pos = rng.integers(0, n_pos, size=(n_boot, n_pos)) if n_pos else np.zeros((n_boot, 0), np.int64)
    neg = rng.integers(0, n_neg, size=(n_boot, n_neg)) if n_neg else np.zeros((n_boot, 0), np.int64)
    return pos, neg


def percentile_estimate(value: float | None, replicates: np.ndarray, level: float = 0.95) -> Estimate:
    """Estimate from a point value and float [n_boot] replicates (NaN replicates are ignored)."""
    if value is None or not math.isfinite(value):
        return Estimate(None, None, None, level)
    reps = np.asarray(replicates, dtype=np.float64)
    reps = reps[np.isfinite(reps)]
    if reps.size == 0:
        return Estimate(float(value), None, None, level)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(reps, [alpha, 1.0 - alpha])
    return Estimate(float(value), float(min(lo, value)), float(max(hi, value)), level)
