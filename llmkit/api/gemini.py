"""GeminiLLM: Google's generativelanguage API (protocols.md §3).

- auth `x-goog-api-key` (never `?key=`, which leaks into logs; the Host's data, `llmkit.backends`);
  `models/{id}:generateContent` and `:streamGenerateContent?alt=sse` (CRLF-framed SSE, no sentinel: the stream
  ends with the connection);
- `systemInstruction`, roles `user`/`model` (consecutive same-role turns merged), images as `inlineData`
  (remote URLs as `fileData`);
- `generationConfig`: temperature, topP, maxOutputTokens, stopSequences, seed and `thinkingConfig`:
  `thinking_level` is sent natively as `thinkingLevel` in upper case, `thinking_budget` as `thinkingBudget`,
  never both and never converted into one another; `includeThoughts` so thought summaries come back;
- usage: `promptTokenCount` already includes cached tokens; `candidatesTokenCount` excludes thoughts, so
  output = candidates + thoughts;
- a blocked prompt (`promptFeedback.blockReason`, no candidates) is a ProviderError that says so; a stream that
  ends without a `finishReason` is a StreamError.
"""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator
from typing import Any

from llmkit.api.http import Endpoint, ErrorClassifier, provider_message
from llmkit.api.http_llm import HTTPLLM, WireRequest, WireResponse
from llmkit.api.wire import (
    as_int,
    as_name,
    as_text,
    dig,
    finish_reason,
    json_payloads,
    normalised_usage,
    sampling_fields,
)
from llmkit.config import LLMConfig
from llmkit.errors import LLMError, ProviderError, QuotaExceededError, StreamError
from llmkit.messages import ChunkResponse, FinishReason, Image, LLMRequest, Message, Role, TokenUsage

#: `finishReason` (protocols.md §3) -> llmkit's FinishReason.
FINISH_REASONS: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "BLOCKLIST": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
    "LANGUAGE": "error",  # a language the model does not serve
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    "TOO_MANY_TOOL_CALLS": "error",
    "NO_IMAGE": "error",
    "IMAGE_OTHER": "unknown",
    "OTHER": "unknown",
    "FINISH_REASON_UNSPECIFIED": "unknown",
}


class GeminiLLM(HTTPLLM):
    """A conversation over generateContent; see the module docstring."""

    decode = "sse"

    def classify_error(self) -> ErrorClassifier | None:
        return _classify

    # ----- request -----------------------------------------------------------------------------------------
    def build_request(self, request: LLMRequest, *, stream: bool) -> WireRequest:
        config: LLMConfig = request.config
        body: dict[str, Any] = {}
        system = "\n\n".join(m.content for m in request.messages if m.role is Role.SYSTEM and m.content)
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        body["contents"] = gemini_contents([m for m in request.messages if m.role is not Role.SYSTEM])
        generation = generation_config(config)
        if generation:
            body["generationConfig"] = generation
        model = self.model.name.removeprefix("models/")
        if stream:
            return WireRequest(f"models/{model}:streamGenerateContent", body, {"alt": "sse"})
        return WireRequest(f"models/{model}:generateContent", body)

    # ----- responses ---------------------------------------------------------------------------------------
    def parse_response(self, body: Any) -> WireResponse:
        candidate = self._candidate(body)
        text, thought = _parts_text(candidate)
        raw = as_text(candidate.get("finishReason"))
        return WireResponse(text, thought or None, gemini_usage(body.get("usageMetadata")),
                            finish_reason(raw, FINISH_REASONS), raw, raw=body,
                            served_model=as_name(body.get("modelVersion")))

    async def parse_stream(self, events: AsyncIterator[tuple[str, str]],
                           endpoint: Endpoint) -> AsyncIterator[ChunkResponse]:
        content: list[str] = []
        usage_body: Any = None
        finish: str | None = None
        served: Any = None
        async for chunk in json_payloads(events, endpoint, content):
            served = chunk.get("modelVersion") or served
            if chunk.get("usageMetadata"):
                usage_body = chunk["usageMetadata"]  # cumulative: keep the last one
            if not chunk.get("candidates"):
                if dig(chunk, ("promptFeedback", "blockReason")):
                    self._candidate(chunk)  # raises the blocked-prompt error
                continue
            candidate = chunk["candidates"][0] if isinstance(chunk["candidates"][0], dict) else {}
            text, thought = _parts_text(candidate)
            if text or thought:
                content.append(text)
                yield ChunkResponse(content=text, reasoning=thought or None, raw=chunk)
            if candidate.get("finishReason"):
                finish = as_text(candidate["finishReason"])
        if finish is None:
            raise StreamError(f"{endpoint.provider} ({endpoint.host}) ended the stream without a finishReason",
                              status_code=200, partial_content="".join(content))
        yield ChunkResponse(is_complete=True, usage=gemini_usage(usage_body),
                            finish_reason=finish_reason(finish, FINISH_REASONS), finish_reason_raw=finish,
                            served_model=as_name(served))

    def _candidate(self, body: Any) -> dict[str, Any]:
        candidates = body.get("candidates") if isinstance(body, dict) else None
        if candidates and isinstance(candidates[0], dict):
            return candidates[0]
        feedback = body.get("promptFeedback") if isinstance(body, dict) else None
        feedback = feedback if isinstance(feedback, dict) else {}
        reason = feedback.get("blockReason")
        if reason:
            detail = feedback.get("blockReasonMessage") or ""
            raise ProviderError(
                f"Gemini blocked the prompt ({reason}){': ' + detail if detail else ''}; no answer was generated",
                status_code=200, provider_message=f"blockReason={reason}",
                hint="rephrase the prompt; Gemini's safety filters refused it",
            )
        raise ProviderError("Gemini answered without candidates", status_code=200,
                            provider_message=str(body)[:300])


def _classify(status: int, body: Any, text: str) -> LLMError | None:
    """Gemini says "enable billing" with 400 FAILED_PRECONDITION: that is a quota problem, not a bad request."""
    error = body.get("error") if isinstance(body, dict) else None
    if status == 400 and isinstance(error, dict) and error.get("status") == "FAILED_PRECONDITION":
        message = provider_message(body, text)
        if "billing" in message.lower():
            return QuotaExceededError(f"Gemini: billing or quota: {message}", status_code=status)
    return None


def generation_config(config: LLMConfig) -> dict[str, Any]:
    generation = sampling_fields(config, {"temperature": "temperature", "top_p": "topP",
                                          "max_tokens": "maxOutputTokens", "stop": "stopSequences", "seed": "seed"})
    thinking = thinking_config(config.extra_params)
    if thinking:
        generation["thinkingConfig"] = thinking
    return generation


def thinking_config(extra: dict[str, Any]) -> dict[str, Any]:
    """`thinking_level` (Gemini 3) or `thinking_budget` (Gemini 2.5), each in its native form, never both."""
    level, budget = extra.get("thinking_level"), extra.get("thinking_budget")
    if level is not None:
        return {"thinkingLevel": str(level).upper(), "includeThoughts": True}
    if budget is not None:
        return {"thinkingBudget": int(budget), "includeThoughts": int(budget) != 0}
    return {}


def gemini_contents(messages: list[Message]) -> list[dict[str, Any]]:
    contents: list[dict[str, Any]] = []
    for message in messages:
        role = "model" if message.role is Role.ASSISTANT else "user"
        parts: list[dict[str, Any]] = [{"text": message.content}] if message.content else []
        parts += [image_part(i) for i in message.images]
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts or [{"text": ""}]})
    return contents


def image_part(image: Image) -> dict[str, Any]:
    if image.url:
        guessed = mimetypes.guess_type(image.url.split("?")[0])[0]
        return {"fileData": {"mimeType": guessed or image.media_type, "fileUri": image.url}}
    return {"inlineData": {"mimeType": image.media_type, "data": image.base64}}


def _parts_text(candidate: dict[str, Any]) -> tuple[str, str]:
    text: list[str] = []
    thought: list[str] = []
    for part in dig(candidate, ("content", "parts")) or []:
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            (thought if part.get("thought") else text).append(part["text"])
    return "".join(text), "".join(thought)


def gemini_usage(meta: Any) -> TokenUsage | None:
    """usageMetadata -> TokenUsage: input = promptTokenCount (⊇ cached); output = candidates + thoughts. None
    when the server sent no usageMetadata (llmkit then counts the tokens)."""
    if not isinstance(meta, dict):
        return None
    thoughts = as_int(meta.get("thoughtsTokenCount"))
    return normalised_usage(
        input_tokens=as_int(meta.get("promptTokenCount")),
        output_tokens=as_int(meta.get("candidatesTokenCount")) + thoughts,
        reasoning_tokens=thoughts,
        cached_input_tokens=as_int(meta.get("cachedContentTokenCount")),
    )
