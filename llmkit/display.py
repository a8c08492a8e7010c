"""Small HTML renderings for notebooks (no ipywidgets needed)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmkit.messages import CompleteResponse, TokenUsage
    from llmkit.models import LLMModel


def format_usd(value: object) -> str:
    """A cost in USD; None is an unknown price (no price card for the model), never shown as $0."""
    return "unknown" if value is None else f"${float(str(value)):.6f}"


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


def stats_line(response: CompleteResponse) -> str:
    """latency · TTFT · tokens and cost (· cached · finish reason), one line: what the playground, the compare view
    and a response's notebook repr show."""
    parts = []
    if response.latency_s is not None:
        parts.append(f"latency {response.latency_s:.3f}s")
    if response.ttft_s is not None:
        parts.append(f"TTFT {response.ttft_s:.3f}s")
    parts.append(usage_line(response.usage))
    if response.cached:
        original = response.original_latency_s
        parts.append("cached" + (f" (originally {original:.3f}s)" if original is not None else ""))
    if response.finish_reason and response.finish_reason != "stop":
        parts.append(f"finish {response.finish_reason}")
    return " · ".join(parts)


def response_html(response: CompleteResponse) -> str:
    reasoning = ""
    if response.reasoning:
        reasoning = (
            "<details><summary>reasoning</summary><pre style='white-space:pre-wrap'>"
            f"{html.escape(response.reasoning)}</pre></details>"
        )
    model = f"<b>{html.escape(response.model)}</b>" if response.model else ""
    return (
        f"<div class='llmkit-response'>{model}"
        f"{reasoning}<pre style='white-space:pre-wrap'>{html.escape(response.content)}</pre>"
        f"<small><code>{html.escape(stats_line(response))}</code></small></div>"
    )


def error_line(exc: BaseException) -> str:
    """One readable line for an error: its type, message and (for llmkit errors) the hint — no traceback."""
    from llmkit.errors import LLMError

    if isinstance(exc, LLMError):
        text = f"{exc.error_type}: {exc.message}" + (f" — hint: {exc.hint}" if exc.hint else "")
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text if len(text) <= 400 else text[:397] + "..."


def error_html(exc: BaseException) -> str:
    return f"<span class='llmkit-error' style='color:#b00020'>{html.escape(error_line(exc))}</span>"


def price_text(model: LLMModel) -> str:
    """A model's list price in USD per million tokens, labelled when it is illustrative (MOCK) or free."""
    pricing = model.pricing
    if pricing is None:
        return "price unknown"
    rates = pricing.rates
    if not (rates.input or rates.output):
        return "free"
    text = f"${rates.input} in / ${rates.output} out per 1M tokens"
    if rates.cached_input is not None:
        text += f" (cached in ${rates.cached_input})"
    if pricing.illustrative:
        text += " · illustrative"
    return text


def status_text(model: LLMModel) -> str:
    """'active', or the lifecycle status with its dates (deprecated models keep working until retirement)."""
    if model.status == "active":
        return "active"
    dates = []
    if model.deprecation_date:
        dates.append(f"deprecated {model.deprecation_date}")
    if model.retirement_date:
        dates.append(f"retires {model.retirement_date}")
    return model.status + (f" ({', '.join(dates)})" if dates else "")


def model_html(model: LLMModel) -> str:
    """A compact card: identifier, provider/runtime, context, price, status and parameters."""
    rows = [
        ("provider / runtime", f"{model.provider.value} / {model.runtime.value}"),
        ("context / max output", f"{model.context_window or '?'} / {model.max_output_tokens or '?'} tokens"),
        ("price", price_text(model)),
        ("status", status_text(model)),
        ("parameters", ", ".join(model.parameters) or "none"),
    ]
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th><td style='text-align:left'>"
        f"{html.escape(v)}</td></tr>" for k, v in rows
    )
    title = html.escape(model.identifier)
    if model.display_name and model.display_name != model.identifier:
        title += f" <small>{html.escape(model.display_name)}</small>"
    return f"<div class='llmkit-model'><b>{title}</b><table>{body}</table></div>"
