"""Which columns hold scores: `score_<name>` in the rows, `<name>_mean/_ci_low/_ci_high` in a summary."""

from __future__ import annotations

from typing import Any


def score_columns(df: Any) -> list[str]:
    """The rows' score columns (`score_error`, the scorer failure text, is not a score)."""
    return [c for c in df.columns if c.startswith("score_") and c != "score_error"]


def summary_scorers(summary: Any) -> list[str]:
    """Scorer names in a summary (columns `<name>_mean` with a `<name>_ci_low` beside them)."""
    return [c.removesuffix("_mean") for c in summary.columns
            if c.endswith("_mean") and f"{c.removesuffix('_mean')}_ci_low" in summary.columns]
