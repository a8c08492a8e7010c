"""OllamaLLM: Ollama's native chat API, `POST /api/chat` (protocols.md §7).

Why native and not Ollama's `/v1` door: only the native API takes `options.num_ctx` (the context the runner
allocates; the server default is small) and the `think` switch, and reports `eval_count` / durations.
- request: `messages` (images as raw base64 in `images`), `options` from the config (`temperature`, `top_p`,
  `seed`, `stop`, `num_predict` = max_tokens, `num_ctx` from extra_params), top-level `think` (only for models that
  report the thinking capability); `stream` always sent, because Ollama streams when it is omitted;
- response: `message.content`, `message.thinking` -> reasoning, usage from `prompt_eval_count` / `eval_count`
  (durations, in ns, kept in `CompleteResponse.metadata` / the final chunk's `raw`);
- stream: NDJSON; an `{"error": ...}` line can arrive under HTTP 200 mid-stream -> StreamError with the partial
  content; a 404 for the model -> ModelNotFoundError with the hint `ollama pull <name>`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec

from llmkit.api.http import Endpoint, ErrorClassifier, provider_message
from llmkit.api.http_llm import HTTPLLM, WireRequest, WireResponse
from llmkit.api.wire import as_int, as_name, as_text, finish_reason, json_payloads, normalised_usage, sampling_fields
from llmkit.errors import ConfigurationError, LLMError, ModelNotFoundError, ProviderError, StreamError
from llmkit.messages import ChunkResponse, FinishReason, LLMRequest, Message, Role, TokenUsage
from llmkit.tokens import count_message_tokens

DURATION_FIELDS = ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration")

#: `done_reason` (protocols.md §7) -> llmkit's FinishReason. A done line without one (older servers) is "stop".
FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "load": "unknown",  # the request only loaded the model
    "unload": "unknown",  # the request only unloaded it
}


class OllamaLLM(HTTPLLM):
    """A conversation with a model on an Ollama server; see the module docstring."""

    decode = "ndjson"

    def classify_error(self) -> ErrorClassifier | None:
        name = self.model.name

        def classify(status: int, body: Any, text: str) -> LLMError | None:
            message = provider_message(body, text)
            if status == 404 or (status == 400 and "not found" in message.lower() and "model" in message.lower()):
                return ModelNotFoundError(
                    f"Ollama ({self.model.host}) does not have model {name!r}: {message}", status_code=status,
                    provider_message=message,
                    hint=f"pull it with `ollama pull {name}` on that host, or reload the model list "
                         f"(LLMFactory.reload_models('ollama', {self.model.host!r}))",
                )
            return None

        return classify

    # ----- request -----------------------------------------------------------------------------------------
    def build_request(self, request: LLMRequest, *, stream: bool) -> WireRequest:
        config = request.config
        body: dict[str, Any] = {"model": self.model.name, "messages": [_message(m) for m in request.messages],
                                "stream": stream}
        options = sampling_fields(config, {"temperature": "temperature", "top_p": "top_p", "seed": "seed",
                                           "stop": "stop", "max_tokens": "num_predict"})
        extra = config.extra_params
        if extra.get("num_ctx") is not None:
            options["num_ctx"] = int(extra["num_ctx"])
        if options:
            body["options"] = options
        think = extra.get("think")
        if think is not None and "thinking" in self.model.capabilities:
            body["think"] = think
        return WireRequest("/api/chat", body)

    # ----- responses ---------------------------------------------------------------------------------------
    def parse_response(self, body: Any) -> WireResponse:
        if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
            message = provider_message(body, str(body)[:300])
            raise ProviderError(f"Ollama answered without a message: {message}", status_code=200,
                                provider_message=message)
        message = body["message"]
        content = str(message.get("content") or "")
        reasoning = str(message.get("thinking") or "") or None
        raw = as_text(body.get("done_reason"))
        return WireResponse(content, reasoning, _usage(body), _finish(raw), raw, raw=body, metadata=_durations(body),
                            served_model=as_name(body.get("model")))

    async def parse_stream(self, events: AsyncIterator[tuple[str, str]],
                           endpoint: Endpoint) -> AsyncIterator[ChunkResponse]:
        content: list[str] = []
        async for line in json_payloads(events, endpoint, content, error_key_fails=True):
            message: dict[str, Any] = line["message"] if isinstance(line.get("message"), dict) else {}
            text = str(message.get("content") or "")
            thought = str(message.get("thinking") or "")
            if text or thought:
                content.append(text)
                yield ChunkResponse(content=text, reasoning=thought or None, raw=line)
            if line.get("done"):
                raw = as_text(line.get("done_reason"))
                yield ChunkResponse(is_complete=True, usage=_usage(line), finish_reason=_finish(raw),
                                    raw={**_durations(line), "done_reason": raw}, finish_reason_raw=raw,
                                    served_model=as_name(line.get("model")))
                return
        raise StreamError(f"Ollama ({endpoint.host}) closed the stream before its done line", status_code=200,
                          partial_content="".join(content))

    def counted_usage(self, parsed: WireResponse, request: LLMRequest) -> TokenUsage:
        counted = super().counted_usage(parsed, request)
        return counted if counted.input_tokens else _estimated_input(counted, request)

    async def _stream_user_message_to_llm(self, request: LLMRequest) -> AsyncIterator[ChunkResponse]:
        async for chunk in super()._stream_user_message_to_llm(request):
            if chunk.is_complete and chunk.usage is not None and chunk.usage.input_tokens == 0:
                chunk = msgspec.structs.replace(chunk, usage=_estimated_input(chunk.usage, request))
            yield chunk


def _message(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role.value, "content": message.content}
    if message.images and message.role is Role.USER:
        if any(image.data is None for image in message.images):
            raise ConfigurationError(
                "Ollama takes images as bytes, not URLs",
                hint="pass a file path or the image bytes instead of an http(s) URL",
            )
        out["images"] = [image.base64 for image in message.images]
    return out


def _usage(body: dict[str, Any]) -> TokenUsage | None:
    """`prompt_eval_count` (absent on a full prompt-cache hit) and `eval_count` (thinking included); None when the
    server sent neither."""
    if body.get("prompt_eval_count") is None and body.get("eval_count") is None:
        return None
    return normalised_usage(input_tokens=as_int(body.get("prompt_eval_count")),
                            output_tokens=as_int(body.get("eval_count")))


def _estimated_input(usage: TokenUsage, request: LLMRequest) -> TokenUsage:
    """Ollama omits `prompt_eval_count` when the whole prompt came from its cache; count it instead of
    reporting 0 input tokens, and say so."""
    counted = count_message_tokens(m.content for m in request.messages)
    return msgspec.structs.replace(usage, input_tokens=counted, estimated=True)


def _finish(raw: str | None) -> FinishReason:
    return finish_reason(raw, FINISH_REASONS) if raw else "stop"


def _durations(body: dict[str, Any]) -> dict[str, Any]:
    """Ollama's timings (nanoseconds), kept as they are."""
    return {f"{k}_ns": body[k] for k in DURATION_FIELDS if isinstance(body.get(k), int)}
