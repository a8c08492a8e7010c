"""HTTPLLM: the BaseLLM of every HTTP backend. A wire-protocol subclass only builds requests and parses
responses, streams and error bodies; the executor (llmkit.api.http) does the rest."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from llmkit.api.http import CallOptions, Endpoint, ErrorClassifier, executor
from llmkit.api.wire import estimated_usage
from llmkit.base import BaseLLM
from llmkit.hosts import Host, host_for
from llmkit.messages import ChunkResponse, CompleteResponse, LLMRequest, TokenUsage


@dataclass(frozen=True, slots=True)
class WireRequest:
    """What an adapter wants sent: a path relative to the base URL, a JSON body and query parameters."""

    path: str
    body: Any
    params: Mapping[str, str] | None = None


class HTTPLLM(BaseLLM):
    """Shared plumbing for HTTP backends; see the module docstring."""

    decode = "sse"  # how streams are framed: "sse", "ndjson" or "data-lines"
    _options_cache: tuple[Any, CallOptions] | None = None

    @property
    def host(self) -> Host:
        """Where this model's requests go and how they are authorised (`llmkit.hosts`)."""
        return host_for(self.model)

    def endpoint(self) -> Endpoint:
        """Base URL and auth headers as the environment is now, so a key set after creation is picked up; a
        required key that is missing raises AuthenticationError naming the variable. The Host memoises it on the
        values of the variables it reads (an eval sweep creates one client per row)."""
        return host_for(self.model).endpoint(self.model.identifier)

    def options(self) -> CallOptions:
        cached = self._options_cache  # the config is immutable: one CallOptions per config object
        if cached is None or cached[0] is not self.config:
            cached = self._options_cache = (self.config, CallOptions.from_config(self.config))
        return cached[1]

    async def _send_user_message_to_llm(self, request: LLMRequest) -> CompleteResponse:
        wire = self.build_request(request, stream=False)
        body = await executor().request_json(self.endpoint(), "POST", wire.path, json_body=wire.body,
                                             options=self.options(), classify=self.classify_error(),
                                             params=wire.params)
        response = self.parse_response(body)
        if _unreported(response.usage):
            response = replace(response, usage=estimated_usage(request.messages, response.content, response.reasoning))
        return response

    async def _stream_user_message_to_llm(self, request: LLMRequest) -> AsyncIterator[ChunkResponse]:
        wire = self.build_request(request, stream=True)
        endpoint = self.endpoint()
        events = executor().stream(endpoint, wire.path, json_body=wire.body, decode=self.decode,
                                   options=self.options(), classify=self.classify_error(), params=wire.params)
        content: list[str] = []
        reasoning: list[str] = []
        async for chunk in self.parse_stream(events, endpoint):
            if chunk.is_complete and _unreported(chunk.usage):
                chunk = replace(chunk, usage=estimated_usage(request.messages, "".join(content) + chunk.content,
                                                             "".join(reasoning) or None))
            content.append(chunk.content)
            reasoning.append(chunk.reasoning or "")
            yield chunk

    def classify_error(self) -> ErrorClassifier | None:
        """Hook: provider-specific error classification before the generic mapping."""
        return None

    @abstractmethod
    def build_request(self, request: LLMRequest, *, stream: bool) -> WireRequest:
        """The wire request for this conversation and config."""

    @abstractmethod
    def parse_response(self, body: Any) -> CompleteResponse:
        """A unary response body -> CompleteResponse with token counts."""

    @abstractmethod
    def parse_stream(self, events: AsyncIterator[tuple[str, str]], endpoint: Endpoint) -> AsyncIterator[ChunkResponse]:
        """Decoded stream events -> chunks, ending with one `is_complete=True` chunk carrying the usage; raise
        StreamError (with partial content) on an error event or a malformed chunk."""


def _unreported(usage: TokenUsage | None) -> bool:
    """An adapter marks a response whose server reported no usage with an empty `TokenUsage(estimated=True)`;
    HTTPLLM then counts the tokens itself (llmkit.tokens), for every backend alike."""
    return usage is None or (usage.estimated and usage.total_tokens == 0)
