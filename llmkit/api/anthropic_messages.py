"""AnthropicLLM: the Anthropic Messages API (protocols.md §2), also spoken by Anthropic-compatible gateways.

What differs from Chat Completions and is handled here:
- auth `x-api-key` (or `Authorization: Bearer` when only ANTHROPIC_AUTH_TOKEN is set, for gateways) plus
  `anthropic-version`, and a base URL without `/v1`: the Host's data (`llmkit.backends`);
- `max_tokens` is required (the catalog default is 16000);
- the system prompt is top-level; roles alternate, so consecutive same-role turns are merged;
- reasoning: `budget_tokens` -> `thinking: {type: enabled, budget_tokens}` (Claude 4.5), `effort` ->
  `thinking: {type: adaptive}` + top-level `output_config: {effort}` (4.6+; never converted to a budget);
- streams are named SSE events; usage comes in `message_start` and a cumulative `message_delta`;
- usage: `input_tokens` excludes cache reads and writes, so input = the three fields; output includes thinking.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from llmkit.api.http import Endpoint, parse_stream_json
from llmkit.api.http_llm import HTTPLLM, WireRequest, WireResponse
from llmkit.api.wire import (
    as_int,
    as_name,
    as_text,
    dig,
    finish_reason,
    normalised_usage,
    sampling_fields,
    stream_failure,
    with_reasoning_estimate,
)
from llmkit.config import LLMConfig, effective_max_tokens
from llmkit.errors import ConfigValidationError, StreamError
from llmkit.messages import ChunkResponse, FinishReason, Image, LLMRequest, Message, Role, TokenUsage

DEFAULT_MAX_TOKENS = 16000

#: `stop_reason` (protocols.md §2) -> llmkit's FinishReason.
FINISH_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "unknown",  # a server tool paused a long turn: the answer is incomplete, neither stop nor length
}


class AnthropicLLM(HTTPLLM):
    """A conversation over the Messages API; see the module docstring."""

    decode = "sse"

    # ----- request -----------------------------------------------------------------------------------------
    def build_request(self, request: LLMRequest, *, stream: bool) -> WireRequest:
        config: LLMConfig = request.config
        check_thinking_sampling(self.model.identifier, config)
        max_tokens = effective_max_tokens(self.model, config) or self.model.max_output_tokens or DEFAULT_MAX_TOKENS
        body: dict[str, Any] = {"model": self.model.name, "max_tokens": max_tokens}
        system = "\n\n".join(m.content for m in request.messages if m.role is Role.SYSTEM and m.content)
        if system:
            body["system"] = system
        body["messages"] = merged_turns([m for m in request.messages if m.role is not Role.SYSTEM])
        body.update(sampling_fields(config, {"temperature": "temperature", "top_p": "top_p", "stop": "stop_sequences"}))
        extra = config.extra_params
        if extra.get("budget_tokens") is not None:
            body["thinking"] = {"type": "enabled", "budget_tokens": int(extra["budget_tokens"])}
        elif extra.get("effort") is not None:
            body["thinking"] = {"type": "adaptive"}
            body["output_config"] = {"effort": extra["effort"]}
        if stream:
            body["stream"] = True
        return WireRequest("v1/messages", body)

    # ----- responses ---------------------------------------------------------------------------------------
    def parse_response(self, body: Any) -> WireResponse:
        text: list[str] = []
        thinking: list[str] = []
        for block in body.get("content") or [] if isinstance(body, dict) else []:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                text.append(str(block.get("text", "")))
            elif block.get("type") == "thinking":
                thinking.append(str(block.get("thinking", "")))
        reasoning = "".join(thinking) or None
        usage = anthropic_usage(body.get("usage") if isinstance(body, dict) else None, reasoning)
        raw = as_text(body.get("stop_reason")) if isinstance(body, dict) else None
        served = as_name(body.get("model")) if isinstance(body, dict) else None
        return WireResponse("".join(text), reasoning, usage, finish_reason(raw, FINISH_REASONS), raw, raw=body,
                            served_model=served)

    async def parse_stream(self, events: AsyncIterator[tuple[str, str]],
                           endpoint: Endpoint) -> AsyncIterator[ChunkResponse]:
        content: list[str] = []
        thinking: list[str] = []
        usage: dict[str, Any] | None = None  # None until the server sends any
        stop_reason: str | None = None
        served: str | None = None
        async for event, data in events:
            if event == "ping" or not data.strip():
                continue
            payload = parse_stream_json(endpoint, data, content)
            kind = event or (payload.get("type") if isinstance(payload, dict) else "")
            if not isinstance(payload, dict):
                continue
            if kind == "error":
                raise stream_failure(endpoint, payload, "".join(content))
            if kind == "message_start":
                usage = _merged(usage, dig(payload, ("message", "usage")))
                served = as_name(dig(payload, ("message", "model")))
            elif kind == "content_block_start":
                block = payload.get("content_block") or {}
                chunk = _block_text(block.get("type"), block.get("text"), block.get("thinking"))
                if chunk is not None:
                    content.append(chunk.content)
                    thinking.append(chunk.reasoning or "")
                    yield chunk
            elif kind == "content_block_delta":
                delta = payload.get("delta") or {}
                chunk = _delta_chunk(delta, payload)
                if chunk is not None:
                    content.append(chunk.content)
                    thinking.append(chunk.reasoning or "")
                    yield chunk
            elif kind == "message_delta":
                usage = _merged(usage, payload.get("usage"))  # cumulative totals: later values replace
                stop_reason = as_text(dig(payload, ("delta", "stop_reason"))) or stop_reason
            elif kind == "message_stop":
                reasoning = "".join(thinking) or None
                yield ChunkResponse(is_complete=True, usage=anthropic_usage(usage, reasoning),
                                    finish_reason=finish_reason(stop_reason, FINISH_REASONS),
                                    finish_reason_raw=stop_reason, served_model=served)
                return
        raise StreamError(f"{endpoint.provider} ({endpoint.host}) closed the stream before message_stop",
                          status_code=200, partial_content="".join(content))


def _merged(usage: dict[str, Any] | None, update: Any) -> dict[str, Any] | None:
    """Usage so far updated with the non-null fields of a later event (None while no event carried usage)."""
    if not isinstance(update, dict):
        return usage
    return {**(usage or {}), **{k: v for k, v in update.items() if v is not None}}


def _block_text(kind: Any, text: Any, thinking: Any) -> ChunkResponse | None:
    """Text a content_block_start already carries (normally empty)."""
    if kind == "text" and text:
        return ChunkResponse(content=str(text))
    if kind == "thinking" and thinking:
        return ChunkResponse(reasoning=str(thinking))
    return None


def _delta_chunk(delta: dict[str, Any], payload: dict[str, Any]) -> ChunkResponse | None:
    kind = delta.get("type")
    if kind == "text_delta" and delta.get("text"):
        return ChunkResponse(content=str(delta["text"]), raw=payload)
    if kind == "thinking_delta" and delta.get("thinking"):
        return ChunkResponse(reasoning=str(delta["thinking"]), raw=payload)
    if kind == "signature_delta":
        # Opaque proof of the thinking block: no text to show, but kept on the chunk for callers that echo it.
        return ChunkResponse(raw=payload)
    return None  # input_json_delta, citations_delta: not surfaced as text


def anthropic_usage(usage: Any, reasoning: str | None) -> TokenUsage | None:
    """Messages API usage -> TokenUsage: input = uncached + cache writes + cache reads; output ⊇ thinking.
    None when the server sent no usage object (llmkit then counts the tokens)."""
    if not isinstance(usage, dict):
        return None
    read = as_int(usage.get("cache_read_input_tokens"))
    write = as_int(usage.get("cache_creation_input_tokens"))
    counts = normalised_usage(
        input_tokens=as_int(usage.get("input_tokens")) + read + write,
        output_tokens=as_int(usage.get("output_tokens")),
        reasoning_tokens=as_int(dig(usage, ("output_tokens_details", "thinking_tokens"))),
        cached_input_tokens=read,
        cache_write_tokens=write,
    )
    return with_reasoning_estimate(counts, reasoning)


def merged_turns(messages: list[Message]) -> list[dict[str, Any]]:
    """User/assistant turns with consecutive same-role messages merged (the API requires alternation)."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = "assistant" if message.role is Role.ASSISTANT else "user"
        content: Any = message.content if not message.images else [
            *([{"type": "text", "text": message.content}] if message.content else []),
            *(image_block(i) for i in message.images),
        ]
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] = _join(turns[-1]["content"], content)
        else:
            turns.append({"role": role, "content": content})
    return turns


def _join(a: Any, b: Any) -> Any:
    if isinstance(a, str) and isinstance(b, str):
        return f"{a}\n\n{b}" if a and b else a or b
    return _blocks(a) + _blocks(b)


def _blocks(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return list(content)


def image_block(image: Image) -> dict[str, Any]:
    if image.url:
        return {"type": "image", "source": {"type": "url", "url": image.url}}
    return {"type": "image", "source": {"type": "base64", "media_type": image.media_type, "data": image.base64}}


def check_thinking_sampling(identifier: str, config: LLMConfig) -> None:
    """Extended thinking (`budget_tokens`) only takes the default temperature and top_p 0.95-1; say so before
    sending instead of relaying the API's 400. (The config validator applies the same rule from the schema;
    this guards clients constructed without the factory.)"""
    if config.extra_params.get("budget_tokens") is None:
        return
    if config.temperature is not None and config.temperature != 1:
        raise ConfigValidationError(
            f"temperature={config.temperature} cannot be combined with budget_tokens on {identifier}: "
            "Claude extended thinking only accepts the default temperature (1)",
            model=identifier, key="temperature", hint="remove temperature or budget_tokens from the config",
        )
    if config.top_p is not None and not 0.95 <= config.top_p <= 1:
        raise ConfigValidationError(
            f"top_p={config.top_p} cannot be combined with budget_tokens on {identifier}: "
            "Claude extended thinking only accepts top_p between 0.95 and 1",
            model=identifier, key="top_p", hint="remove top_p or set it to 0.95-1",
        )
