"""AutobyteusLLM: the AutoByteus RPA LLM server's REST + `data:`-line protocol (protocols.md §11).

- `POST /send-message` (unary) and `POST /stream-message` (lines starting `data: `, no terminator: the stream ends
  when the server closes it); header `AUTOBYTEUS_API_KEY`; TLS not verified unless `AUTOBYTEUS_SSL_CERT_FILE`.
- Two request generations: 1 sends only the latest `user_message` (the server keeps the history), 2 sends the
  whole transcript as `messages` + `current_message_index`. Chosen per host by `AUTOBYTEUS_PROTOCOL_GENERATION`
  (see `protocol_generation`); default 2.
- One stable `conversation_id` (uuid4) per instance; `cleanup()` posts it to `/cleanup` so the server can close the
  browser session.
- Nothing else travels: the server drives a web chat UI, so sampling and token settings have no wire form.
- Usage from `token_usage` (unary body, or the `is_complete` chunk); a `data: {"error": ...}` line -> StreamError.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from llmkit import settings
from llmkit.api.http import Endpoint, executor, provider_message
from llmkit.api.http_llm import HTTPLLM, WireRequest, WireResponse
from llmkit.api.wire import as_int, json_payloads, normalised_usage
from llmkit.config import LLMConfig
from llmkit.errors import ConfigurationError, LLMError, ProviderError
from llmkit.hosts import normalise_host
from llmkit.messages import ChunkResponse, FinishReason, LLMRequest, Message, Role, TokenUsage
from llmkit.models import LLMModel

logger = logging.getLogger("llmkit.autobyteus")

GENERATION_ENV = "AUTOBYTEUS_PROTOCOL_GENERATION"
DEFAULT_GENERATION = 2

#: The protocol has no finish reason (protocols.md §11), so there is no table: an answer that completed is "stop"
#: and its raw value None.
COMPLETED: FinishReason = "stop"


def protocol_generation(host: str | None) -> int:
    """The request generation for a host, from `AUTOBYTEUS_PROTOCOL_GENERATION`: either one value for every
    host (`1` or `2`), or a comma list of `host:port=N` entries, optionally with a bare default
    (`2,10.0.0.5:8000=1`). Unset or unparseable: 2 (the May 2026 transcript form)."""
    raw = settings.value(GENERATION_ENV) or ""
    default = DEFAULT_GENERATION
    per_host: dict[str, int] = {}
    for item in (part.strip() for part in raw.split(",") if part.strip()):
        where, sep, value = item.rpartition("=")
        if value.strip() not in ("1", "2"):
            logger.warning("%s entry %r is not 1 or 2; ignored", GENERATION_ENV, item)
            continue
        if not sep:
            default = int(value)
            continue
        try:
            per_host[normalise_host(where)] = int(value)
        except ConfigurationError:
            logger.warning("%s entry %r names no valid host; ignored", GENERATION_ENV, item)
    return per_host.get(host or "", default)


class AutobyteusLLM(HTTPLLM):
    """A conversation on an AutoByteus server; see the module docstring."""

    decode = "data-lines"
    def __init__(self, model: LLMModel, config: LLMConfig | None = None) -> None:
        super().__init__(model, config)
        self.conversation_id = str(uuid.uuid4())
        self.generation = protocol_generation(model.host)

    # ----- request -----------------------------------------------------------------------------------------
    def build_request(self, request: LLMRequest, *, stream: bool) -> WireRequest:
        path = "/stream-message" if stream else "/send-message"
        messages = list(request.messages)
        current = max((i for i, m in enumerate(messages) if m.role is Role.USER), default=None)
        if current is None:
            raise ConfigurationError("An AutoByteus request needs a user message")
        base = {"conversation_id": self.conversation_id, "model_name": self.model.name}
        if self.generation == 1:
            return WireRequest(path, {**base, "user_message": messages[current].content,
                                      **_media(messages[current])})
        transcript = [_transcript_entry(m, current_turn=(i == current)) for i, m in enumerate(messages)]
        return WireRequest(path, {**base, "messages": transcript, "current_message_index": current})

    # ----- responses ---------------------------------------------------------------------------------------
    def parse_response(self, body: Any) -> WireResponse:
        if not isinstance(body, dict):
            raise ProviderError(f"AutoByteus answered with a non-object body: {str(body)[:200]}", status_code=200)
        text = next((body[k] for k in ("response", "content", "message") if isinstance(body.get(k), str)), None)
        if text is None:
            message = provider_message(body, str(body)[:300])
            raise ProviderError(f"AutoByteus answered without a response: {message}", status_code=200,
                                provider_message=message)
        reasoning = body.get("reasoning") if isinstance(body.get("reasoning"), str) else None
        return WireResponse(text, reasoning or None, _usage(body.get("token_usage")), COMPLETED, raw=body)

    async def parse_stream(self, events: AsyncIterator[tuple[str, str]],
                           endpoint: Endpoint) -> AsyncIterator[ChunkResponse]:
        content: list[str] = []
        # the Python client raises on the "error" key, even for a null value
        async for chunk in json_payloads(events, endpoint, content, error_key_fails=True):
            text = str(chunk["content"]) if isinstance(chunk.get("content"), str) else ""
            thought = str(chunk["reasoning"]) if isinstance(chunk.get("reasoning"), str) else ""
            if text or thought:
                content.append(text)
                yield ChunkResponse(content=text, reasoning=thought or None, raw=chunk)
            if chunk.get("is_complete"):
                yield ChunkResponse(is_complete=True, usage=_usage(chunk.get("token_usage")), finish_reason=COMPLETED)
                return
        # No terminator in this protocol: a server that closes without an is_complete chunk has still finished.
        yield ChunkResponse(is_complete=True, usage=None, finish_reason=COMPLETED)


    async def _cleanup(self) -> None:
        """Tell the server the conversation is over (it holds a browser session for it); failures are logged."""
        try:
            await executor().request_json(self.endpoint(), "POST", "/cleanup",
                                          json_body={"conversation_id": self.conversation_id},
                                          options=self.options())
        except LLMError as exc:
            logger.warning("AutoByteus cleanup of conversation %s failed: %s", self.conversation_id, exc)


def _media(message: Message, *, attach: bool = True) -> dict[str, list[str]]:
    images = [image.data_uri for image in message.images] if attach else []
    return {"image_urls": images, "audio_urls": [], "video_urls": []}


def _transcript_entry(message: Message, *, current_turn: bool) -> dict[str, Any]:
    """A generation-2 message; only the current user turn carries media, older media become a text note."""
    content = message.content
    if message.images and not current_turn:
        count = len(message.images)
        content += f"\n\nHistorical media not reattached: {count} image attachment{'s' if count != 1 else ''}."
    return {"role": message.role.value, "content": content, **_media(message, attach=current_turn)}


def _usage(token_usage: Any) -> TokenUsage | None:
    """`token_usage.prompt_tokens` / `completion_tokens`; None when missing (llmkit then counts the tokens)."""
    if not isinstance(token_usage, dict):
        return None
    return normalised_usage(input_tokens=as_int(token_usage.get("prompt_tokens")),
                            output_tokens=as_int(token_usage.get("completion_tokens")))
