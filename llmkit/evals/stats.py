"""Small statistics for reports: percentiles and prompt-clustered bootstrap confidence intervals (numpy).

Why clustered: repeats of one prompt are not independent samples, so the bootstrap resamples *prompts*
(each prompt's repeats averaged first). With one prompt there is no interval (NaN).
"""

from __future__ import annotations

from typing import Any

import numpy as np

BOOTSTRAP_SAMPLES = 2000
CONFIDENCE = 0.95
SEED = 0


def bootstrap_mean_ci(values: Any, samples: int = BOOTSTRAP_SAMPLES, confidence: float = CONFIDENCE,
                      seed: int = SEED) -> tuple[float, float, float]:
    """(mean, low, high) of the mean of `values` (one value per prompt), by percentile bootstrap."""
    data = np.asarray(values, dtype="float64")
    data = data[~np.isnan(data)]
    if data.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(data.mean())
    if data.size < 2:
        return mean, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(samples, data.size))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return mean, float(low), float(high)


def percentile(values: Any, q: float) -> float:
    data = np.asarray(values, dtype="float64")
    data = data[~np.isnan(data)]
    return float(np.percentile(data, q)) if data.size else float("nan")
