"""OpenAIChatLLM: the Chat Completions wire protocol (protocols.md §1), for every backend that speaks it.

The dialect differences (OpenAI, Mistral, DeepSeek, Z.ai, local runtimes, gateways) live in an `OpenAIProfile`
looked up by `model.backend`; this module only knows the protocol's shapes:
- request: messages (system prompt as `system`, or the profile's role for reasoning models), text + image parts,
  only the sampling fields the config sets (the schema already refused what a model rejects), the output cap under
  the profile's name, reasoning controls (`reasoning_effort` passthrough, `thinking_enabled` via the profile's
  switch), `stream_options.include_usage` where the server accepts it;
- response: content (string or typed-part array), reasoning text from any known field or Mistral thinking parts,
  usage normalised to llmkit's rules; streams keep the last usage seen, and a stream without any is estimated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from llmkit.api.http import Endpoint, ErrorClassifier, parse_stream_json, provider_message
from llmkit.api.http_llm import HTTPLLM, WireRequest, WireResponse
from llmkit.api.openai_profiles import OpenAIProfile, openai_profile
from llmkit.api.wire import (
    as_int,
    as_name,
    as_text,
    error_of_kind,
    finish_reason,
    first_int,
    normalised_usage,
    sampling_fields,
    stream_failure,
    with_reasoning_estimate,
)
from llmkit.config import LLMConfig
from llmkit.errors import LLMError, ProviderError, StreamError
from llmkit.messages import ChunkResponse, FinishReason, LLMRequest, Message, Role, TokenUsage
from llmkit.models import LLMModel

#: `finish_reason` of every Chat Completions dialect (protocols.md §1, §4-§10) -> llmkit's FinishReason.
FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",  # OpenAI, legacy functions
    "model_length": "length",  # Mistral: the context window is full
    "error": "error",  # Mistral
    "insufficient_system_resource": "error",  # DeepSeek: the server cut the generation short
    "sensitive": "content_filter",  # Zhipu: moderation
    "network_error": "error",  # Zhipu: inference failed
    "abort": "error",  # vLLM: the request was aborted
}


class OpenAIChatLLM(HTTPLLM):
    """A conversation over Chat Completions; see the module docstring."""

    decode = "sse"
    profile: OpenAIProfile

    def __init__(self, model: LLMModel, config: LLMConfig | None = None) -> None:
        super().__init__(model, config)
        self.profile = openai_profile(model.backend)

    # ----- errors ------------------------------------------------------------------------------------------
    def classify_error(self) -> ErrorClassifier | None:
        codes = self.profile.error_codes
        if not codes:
            return None
        label = self.profile.label

        def classify(status: int, body: Any, text: str) -> LLMError | None:
            error = body.get("error") if isinstance(body, dict) else None
            code = (error.get("code") if isinstance(error, dict) else None) or (
                body.get("code") if isinstance(body, dict) else None)
            kind = codes.get(str(code)) if code is not None else None
            return error_of_kind(kind, label, provider_message(body, text), status) if kind else None

        return classify

    # ----- request -----------------------------------------------------------------------------------------
    def build_request(self, request: LLMRequest, *, stream: bool) -> WireRequest:
        profile = self.profile
        body: dict[str, Any] = {"model": self.model.name, "messages": [self._message(m) for m in request.messages]}
        fields = self.plan().body_fields if request.config is self.config else self._config_fields(request.config)
        for name, value in fields.items():  # lists/dicts copied: bodies share nothing
            body[name] = value.copy() if isinstance(value, (list, dict)) else value
        if stream:
            body["stream"] = True
            if profile.stream_usage_option:
                body["stream_options"] = {"include_usage": True}
        return WireRequest(profile.chat_path, body)

    def config_fields(self) -> dict[str, Any]:
        return self._config_fields(self.config)

    def _config_fields(self, config: LLMConfig) -> dict[str, Any]:
        """The body fields that come from the config (sampling, pass-through, thinking switch), in body order."""
        profile, extra = self.profile, config.extra_params
        fields = sampling_fields(config, {"temperature": "temperature", "top_p": "top_p", "stop": "stop",
                                          "max_tokens": profile.max_tokens_field, "seed": profile.seed_field})
        for name in profile.passthrough_params:
            if extra.get(name) is not None:
                fields[name] = extra[name]
        if profile.thinking_switch is not None and extra.get("thinking_enabled") is not None:
            profile.thinking_switch.apply(fields, bool(extra["thinking_enabled"]))
        return fields

    def _message(self, message: Message) -> dict[str, Any]:
        role: str = message.role  # a str enum, sent as its value: `.value` is a Python-level descriptor per message
        if message.role is Role.SYSTEM and self.profile.reasoning_system_role and "reasoning" in \
                self.model.capabilities:
            role = self.profile.reasoning_system_role
        if not message.images:
            return {"role": role, "content": message.content}
        parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
        for image in message.images:
            url: Any = image.data_uri if self.profile.image_url_as_string else {"url": image.data_uri}
            parts.append({"type": "image_url", "image_url": url})
        return {"role": role, "content": parts}

    # ----- responses ---------------------------------------------------------------------------------------
    def parse_response(self, body: Any) -> WireResponse:
        choices = body.get("choices") if isinstance(body, dict) else None
        choice = choices[0] if choices and isinstance(choices, list) else None
        if not isinstance(choice, dict):
            message = provider_message(body, str(body)[:300])
            raise ProviderError(f"{self.profile.label} answered without choices: {message}", status_code=200,
                                provider_message=message)
        content, reasoning = self._split(choice.get("message") or {})
        raw = as_text(choice.get("finish_reason"))
        return WireResponse(content, reasoning or None, self._usage(body.get("usage"), reasoning),
                            finish_reason(raw, FINISH_REASONS), raw, body, None, as_name(body.get("model")))

    async def parse_stream(self, events: AsyncIterator[tuple[str, str]],
                           endpoint: Endpoint) -> AsyncIterator[ChunkResponse]:
        content: list[str] = []
        reasoning: list[str] = []
        usage_body: Any = None
        finish: str | None = None
        served: Any = None
        done = False
        async for _event, data in events:
            stripped = data.strip()
            if stripped == "[DONE]":
                done = True
                break
            if not stripped:
                continue
            chunk = parse_stream_json(endpoint, data, content)
            if not isinstance(chunk, dict):
                continue
            if chunk.get("error") is not None:
                raise stream_failure(endpoint, chunk, "".join(content))
            if chunk.get("usage"):
                usage_body = chunk["usage"]
            served = chunk.get("model") or served
            for choice in chunk.get("choices") or []:
                if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                    continue
                text, thought = self._split(choice.get("delta") or {})
                if choice.get("finish_reason"):
                    finish = as_text(choice["finish_reason"])
                if text or thought:
                    content.append(text)
                    reasoning.append(thought)
                    yield ChunkResponse(content=text, reasoning=thought or None, raw=chunk)
        if not done and finish is None:
            raise StreamError(f"{endpoint.provider} ({endpoint.host}) closed the stream before it finished",
                              status_code=200, partial_content="".join(content))
        usage = self._usage(usage_body, "".join(reasoning) or None)
        yield ChunkResponse(is_complete=True, usage=usage, finish_reason=finish_reason(finish, FINISH_REASONS),
                            finish_reason_raw=finish, served_model=as_name(served))

    def _split(self, message: dict[str, Any]) -> tuple[str, str]:
        """(visible text, reasoning text) of a message or delta: string or typed-part content, reasoning fields."""
        raw = message.get("content")
        if type(raw) is str and len(message) == 1:  # the usual stream delta, {"content": "..."}: nothing else in it
            return raw, ""
        thought = ""
        for name in self.profile.reasoning_fields:  # a loop, not a generator: this runs once per stream chunk
            value = message.get(name)
            if isinstance(value, str):
                thought += value
        if isinstance(raw, str) or raw is None:
            return raw or "", thought
        text: list[str] = []
        for part in raw if isinstance(raw, list) else []:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "thinking":
                inner = part.get("thinking")
                thought += inner if isinstance(inner, str) else "".join(
                    str(p.get("text", "")) for p in inner or [] if isinstance(p, dict))
            elif isinstance(part.get("text"), str):
                text.append(part["text"])
        return "".join(text), thought

    def _usage(self, usage: Any, reasoning: str | None) -> TokenUsage | None:
        if not isinstance(usage, dict):
            return None
        profile = self.profile
        counts = normalised_usage(as_int(usage.get("prompt_tokens")), as_int(usage.get("completion_tokens")),
                                  first_int(usage, profile.reasoning_token_paths),
                                  first_int(usage, profile.cached_token_paths),
                                  first_int(usage, profile.cache_write_token_paths))
        return with_reasoning_estimate(counts, reasoning) if reasoning else counts
