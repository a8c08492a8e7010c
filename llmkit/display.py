"""Small HTML renderings for notebooks (no ipywidgets needed)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmkit.messages import CompleteResponse, TokenUsage


def format_usd(value: object) -> str:
    return f"${float(str(value)):.6f}"


def usage_line(usage: TokenUsage) -> str:
    """One plain-text line: tokens and cost, used by the CLI, the playground and reprs."""
    parts = [f"in {usage.input_tokens}", f"out {usage.output_tokens}"]
    if usage.reasoning_tokens:
        parts.append(f"reasoning {usage.reasoning_tokens}")
    if usage.cached_input_tokens:
        parts.append(f"cached {usage.cached_input_tokens}")
    text = "tokens " + " / ".join(parts) + f" · cost {format_usd(usage.total_cost)}"
    if usage.saved_cost:
        text += f" (saved {format_usd(usage.saved_cost)})"
    if usage.estimated:
        text += " · estimated"
    return text


def usage_html(usage: TokenUsage) -> str:
    return f"<code>{html.escape(usage_line(usage))}</code>"


def response_html(response: CompleteResponse) -> str:
    timing = []
    if response.latency_s is not None:
        timing.append(f"latency {response.latency_s:.3f}s")
    if response.ttft_s is not None:
        timing.append(f"ttft {response.ttft_s:.3f}s")
    if response.cached:
        original = response.original_latency_s
        timing.append("cached" + (f" (originally {original:.3f}s)" if original is not None else ""))
    reasoning = ""
    if response.reasoning:
        reasoning = (
            "<details><summary>reasoning</summary><pre style='white-space:pre-wrap'>"
            f"{html.escape(response.reasoning)}</pre></details>"
        )
    return (
        "<div class='llmkit-response'>"
        f"{reasoning}<pre style='white-space:pre-wrap'>{html.escape(response.content)}</pre>"
        f"<small>{usage_html(response.usage)} · {html.escape(' · '.join(timing))}"
        f" · finish {html.escape(str(response.finish_reason))}</small></div>"
    )
