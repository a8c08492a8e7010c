"""Readable numbers for the report, the terminal tables and RunView: `$0.0421`, `82.0%`, `0.82 [0.75, 0.88]`.

NaN (an unknown price, a statistic with no data) always prints as a word, never as 0.
"""

from __future__ import annotations

import math
from typing import Any

UNKNOWN = "unknown"


def number(value: Any) -> float:
    """float(value), NaN for None / pandas NA / text."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def fixed(value: Any, digits: int = 3, missing: str = "-") -> str:
    x = number(value)
    return missing if math.isnan(x) else f"{x:.{digits}f}"


def usd(value: Any, missing: str = UNKNOWN) -> str:
    """Dollars: 3 significant digits below a cent ($0.0000421), up to 4 decimals below $1 ($0.0421), cents from
    $1 up; NaN → unknown."""
    x = number(value)
    if math.isnan(x):
        return missing
    if x == 0:
        return "$0"
    if abs(x) >= 1:
        return f"${x:,.2f}"
    if abs(x) >= 0.01:
        text = f"{x:.4f}".rstrip("0")
        return "$" + (text if len(text.partition(".")[2]) >= 2 else f"{x:.2f}")
    digits = 2 - math.floor(math.log10(abs(x)))
    return f"${x:.{digits}f}"


def pct(value: Any, missing: str = "-") -> str:
    x = number(value)
    return missing if math.isnan(x) else f"{100 * x:.1f}%"


def ci(mean: Any, low: Any, high: Any, digits: int = 2) -> str:
    """`0.82 [0.75, 0.88]`; just the mean when there is no interval (one prompt)."""
    if math.isnan(number(mean)):
        return "-"
    if math.isnan(number(low)) or math.isnan(number(high)):
        return fixed(mean, digits)
    return f"{fixed(mean, digits)} [{fixed(low, digits)}, {fixed(high, digits)}]"


def seconds(value: Any) -> str:
    x = number(value)
    if math.isnan(x):
        return "-"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def grid(rows: list[list[str]]) -> str:
    """Fixed-width columns for the terminal."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)
