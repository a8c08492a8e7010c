"""Small renderings for notebooks, the CLI and the widgets (no ipywidgets needed).

Values render themselves (`str(usage)`, `response.stats_line()`, `_repr_html_`); this module names those
renderings for callers and adds the ones that are not a value's own (errors). It imports the value types; they
never import it.
"""

from __future__ import annotations

import html

from llmkit.errors import LLMError
from llmkit.messages import CompleteResponse, TokenUsage, format_usd
from llmkit.models import price_text, status_text

__all__ = ["error_html", "error_line", "format_usd", "price_text", "stats_line", "status_text", "usage_line"]


def usage_line(usage: TokenUsage) -> str:
    """One plain-text line: tokens and cost, used by the CLI, the playground and reprs."""
    return str(usage)


def stats_line(response: CompleteResponse) -> str:
    """latency · TTFT · tokens and cost (· cached · finish reason), one line."""
    return response.stats_line()


def error_line(exc: BaseException) -> str:
    """One readable line for an error: its type, message and (for llmkit errors) the hint — no traceback."""
    if isinstance(exc, LLMError):
        text = f"{exc.error_type}: {exc.message}" + (f" — hint: {exc.hint}" if exc.hint else "")
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text if len(text) <= 400 else text[:397] + "..."


def error_html(exc: BaseException) -> str:
    return f"<span class='llmkit-error' style='color:#b00020'>{html.escape(error_line(exc))}</span>"
