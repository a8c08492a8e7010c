"""Small helpers every wire adapter shares: token-usage normalisation, finish-reason normalisation, and turning an
error that arrives inside a stream into the right llmkit exception.

Kept apart from the adapters so each adapter only holds its protocol's shapes, and so the rules of
`llmkit.pricing` (input ⊇ cached, output ⊇ reasoning) are enforced in one place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

import msgspec

from llmkit.api.http import Endpoint, parse_stream_json, provider_message
from llmkit.errors import LLMError, RateLimitError, StreamError
from llmkit.messages import FinishReason, TokenUsage
from llmkit.tokens import count_tokens

_RATE_LIMIT_SIGNALS = ("rate_limit", "overloaded", "resource_exhausted", "too many requests")


def dig(value: Any, path: Sequence[str]) -> Any:
    """`value[path[0]][path[1]]...`, or None as soon as a step is missing or not a mapping."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def as_int(value: Any) -> int:
    """A token count from JSON (int, float, numeric string or null) as a non-negative int."""
    if type(value) is int:  # the usual case, without the exception machinery
        return value if value > 0 else 0
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0


def as_name(value: Any) -> str | None:
    """A model name from JSON (the model a server says answered): a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def as_text(value: Any) -> str | None:
    """A JSON value as text (a provider's raw finish reason), None staying None."""
    return str(value) if value is not None else None


def first_int(value: Any, paths: Iterable[Sequence[str]]) -> int:
    """The first count found at any of `paths` (0 when none is present). `dig` inlined: three of these run on
    every answer's usage."""
    for path in paths:
        found = value
        for key in path:
            if type(found) is not dict:
                found = None
                break
            found = found.get(key)
        if found is not None:
            return as_int(found)
    return 0


def normalised_usage(input_tokens: int, output_tokens: int, reasoning_tokens: int = 0,
                     cached_input_tokens: int = 0, cache_write_tokens: int = 0,
                     estimated: bool = False) -> TokenUsage:
    """A TokenUsage that obeys the billing rules whatever the server sent: input ⊇ cached reads + cache writes,
    output ⊇ reasoning."""
    cached_and_written = cached_input_tokens + cache_write_tokens
    return TokenUsage(input_tokens if input_tokens >= cached_and_written else cached_and_written,
                      output_tokens if output_tokens >= reasoning_tokens else reasoning_tokens,
                      reasoning_tokens, cached_input_tokens, cache_write_tokens, estimated=estimated)


def finish_reason(raw: Any, table: Mapping[str, FinishReason]) -> FinishReason:
    """A provider's finish value normalised through its adapter's table; a value the table does not know is
    "unknown" (the caller keeps the raw value beside it)."""
    return table.get(str(raw), "unknown") if raw is not None else "unknown"


def with_reasoning_estimate(usage: TokenUsage, reasoning: str | None) -> TokenUsage:
    """Servers that return thinking text but no thinking count (Mistral, Z.ai): estimate the reasoning share of
    the output with `llmkit.tokens`, capped at the reported output so the billed numbers stay the server's."""
    if usage.reasoning_tokens or not reasoning:
        return usage
    return msgspec.structs.replace(usage, reasoning_tokens=min(count_tokens(reasoning), usage.output_tokens))


def stream_failure(endpoint: Endpoint, body: Any, partial: str) -> LLMError:
    """An error payload received after a stream started (HTTP status already 200): a RateLimitError for
    overload/rate limits (so callers can back off), else a StreamError; both carry what arrived so far."""
    error = body.get("error") if isinstance(body, dict) else None
    message = provider_message(body, str(body))
    where = f"{endpoint.provider} ({endpoint.host})"
    signals = " ".join(str(error.get(k, "")) for k in ("type", "code", "status")).lower() \
        if isinstance(error, dict) else ""
    if any(s in signals for s in _RATE_LIMIT_SIGNALS):
        return RateLimitError(f"{where} failed mid-stream, overloaded or rate limited: {message}",
                              partial_content=partial)
    return StreamError(f"{where} failed mid-stream: {message}", status_code=200, provider_message=message,
                       partial_content=partial)


async def json_payloads(events: AsyncIterator[tuple[str, str]], endpoint: Endpoint, received: list[str], *,
                        error_key_fails: bool = False) -> AsyncIterator[dict[str, Any]]:
    """The JSON objects of a decoded stream: blank payloads and non-objects skipped; a malformed payload or an error
    object (`"error"` not null — or merely present, with `error_key_fails`, as Ollama and AutoByteus clients treat
    it) raised as StreamError/RateLimitError carrying the text in `received` so far."""
    async for _event, data in events:
        if not data.strip():
            continue
        chunk = parse_stream_json(endpoint, data, received)
        if not isinstance(chunk, dict):
            continue
        if ("error" in chunk) if error_key_fails else (chunk.get("error") is not None):
            raise stream_failure(endpoint, chunk, "".join(received))
        yield chunk


def error_of_kind(kind: str, where: str, message: str, status: int) -> LLMError | None:
    """The llmkit error for a provider-specific code a profile maps to a kind (see OpenAIProfile.error_codes)."""
    from llmkit.errors import ContextLengthError, ModelNotFoundError, QuotaExceededError

    if kind == "context_length":
        return ContextLengthError(f"{where}: the prompt does not fit the model's context window: {message}",
                                  hint="shorten the conversation or choose a model with a larger context window")
    if kind == "not_found":
        return ModelNotFoundError(f"{where}: not found: {message}", status_code=status, provider_message=message,
                                  hint="check the model id and the base URL")
    if kind == "quota":
        return QuotaExceededError(f"{where}: out of credit or quota: {message}", status_code=status)
    return None


def sampling_fields(config: Any, names: Mapping[str, str | None]) -> dict[str, Any]:
    """The LLMConfig sampling values that are set, under a protocol's own field names (None: not sent)."""
    fields: dict[str, Any] = {}
    for name, wire_name in names.items():
        value = getattr(config, name)
        if wire_name and value is not None and value != []:
            fields[wire_name] = list(value) if isinstance(value, list) else value
    return fields
