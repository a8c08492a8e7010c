"""Which columns hold scores (`score_<name>` in the rows, `<name>_mean/_ci_low/_ci_high` in a summary), and the one
rule every mean follows: a failed call is a failed answer (its scores count as 0) unless errors are excluded, which
gives the conditional mean over successful calls. Also the summary's note on rows another model answered, which
the terminal and the HTML report both print."""

from __future__ import annotations

from typing import Any


def score_columns(df: Any) -> list[str]:
    """The rows' score columns (`score_error`, the scorer failure text, is not a score)."""
    return [c for c in df.columns if c.startswith("score_") and c != "score_error"]


def summary_scorers(summary: Any) -> list[str]:
    """Scorer names in a summary (columns `<name>_mean` with a `<name>_ci_low` beside them)."""
    return [c.removesuffix("_mean") for c in summary.columns
            if c.endswith("_mean") and f"{c.removesuffix('_mean')}_ci_low" in summary.columns]


ERRORS_AS_ZERO = "error rows score 0 (a failed call is a failed answer; --exclude-errors for the mean over answers)"
ERRORS_EXCLUDED = "error rows excluded: scores are conditional means over successful calls (--exclude-errors)"


def score_rule(exclude_errors: bool) -> str:
    """How the means were taken, for report headers and the `scores` column of summary.csv."""
    return ERRORS_EXCLUDED if exclude_errors else ERRORS_AS_ZERO


def scored(df: Any, exclude_errors: bool = False) -> Any:
    """The rows that score means are taken over: error rows with every score 0 (default), or without the error
    rows. A NaN score of an answered row (the scorer does not apply, e.g. no expected answer) stays NaN."""
    failed = df["error_type"].notna()
    if exclude_errors:
        return df[~failed]
    columns = score_columns(df)
    if not columns or not failed.any():
        return df
    out = df.copy()
    out.loc[failed, columns] = 0.0
    return out


ANSWERED_ELSEWHERE = ("answered by another model than the one asked for (as the server named it; costs are priced as "
                      "the model asked for)")


def answered_elsewhere_text(summary: Any) -> str | None:
    """One line naming the model × configs that another model answered, or None."""
    if "answered_by_other" not in summary:
        return None
    found = [f"{r['model']} / {r['config_label']}: {r['answered_by_other']} of {r['n']} rows by {r['answered_by']}"
             for _, r in summary.iterrows() if r["answered_by_other"]]
    if not found:
        return None
    return f"{ANSWERED_ELSEWHERE}: {'; '.join(found)}"
