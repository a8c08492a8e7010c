"""HTTPLLM: the BaseLLM of every HTTP backend. A wire-protocol subclass only builds requests and parses
responses, streams and error bodies; the executor (llmkit.api.http) does the rest."""

from __future__ import annotations

import os
from abc import abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from llmkit.api.http import CallOptions, Endpoint, ErrorClassifier, executor
from llmkit.backends import get_backend
from llmkit.base import BaseLLM
from llmkit.errors import AuthenticationError
from llmkit.messages import ChunkResponse, CompleteResponse, FinishReason, LLMRequest, TokenUsage
from llmkit.secrets import get_secret
from llmkit.tokens import estimated_usage


@dataclass(frozen=True, slots=True)
class WireRequest:
    """What an adapter wants sent: a path relative to the base URL, a JSON body and query parameters."""

    path: str
    body: Any
    params: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class WireResponse:
    """What an adapter read from a unary response body. `usage` None means the server reported none: HTTPLLM
    counts it and marks it estimated, as BaseLLM does for a stream whose final chunk has no usage."""

    content: str
    reasoning: str | None
    usage: TokenUsage | None
    finish_reason: FinishReason
    finish_reason_raw: str | None = None
    raw: Any = field(default=None, repr=False)
    metadata: dict[str, Any] = field(default_factory=dict)


_ENDPOINT_CACHE_SIZE = 512
_ENDPOINTS: dict[tuple[type, int, int], tuple[Any, Any, dict[Any, Any], Endpoint]] = {}


class HTTPLLM(BaseLLM):
    """Shared plumbing for HTTP backends; see the module docstring."""

    decode = "sse"  # how streams are framed: "sse", "ndjson" or "data-lines"
    provider_label = "provider"
    _options_cache: tuple[Any, CallOptions] | None = None

    def endpoint(self) -> Endpoint:
        """Base URL and auth headers, as of this call, so a key set after creation is picked up; a required key
        that is missing raises AuthenticationError naming the variable.

        Building it reads several variables and runs the hooks (~10-20 us, a visible share of a loopback call), so
        the result is shared by every client of the same class, model and config object (an eval sweep creates one
        client per row) while the process environment is unchanged: the hooks of every adapter depend only on
        those. A hook that depends on anything else must override `endpoint`."""
        environment = getattr(os.environ, "_data", None)  # the mapping os.environ mirrors; compared in C, ~1 us
        key = (type(self), id(self.model), id(self.config))
        cached = _ENDPOINTS.get(key)
        if cached is not None and cached[0] is self.model and cached[1] is self.config and cached[2] == environment:
            return cached[3]
        endpoint = self._build_endpoint()
        if isinstance(environment, dict):
            if len(_ENDPOINTS) >= _ENDPOINT_CACHE_SIZE:
                _ENDPOINTS.clear()
            _ENDPOINTS[key] = (self.model, self.config, dict(environment), endpoint)
        return endpoint

    def _build_endpoint(self) -> Endpoint:
        backend = get_backend(self.model.backend)
        key = next((v for v in (get_secret(name) for name in backend.api_key_env) if v), None)
        if key is None and backend.requires_key:
            env = backend.api_key_env[0]
            raise AuthenticationError(f"No API key for {self.model.identifier}: {env} is not set", env_var=env)
        base_url = self.model.host_url or backend.base_url()
        if not base_url:
            raise AuthenticationError(f"No base URL for {self.model.identifier}", env_var=backend.base_url_env)
        return Endpoint(base_url=self.base_url(base_url), headers=self.auth_headers(key), provider=self.provider_label,
                        api_key_env=backend.api_key_env[0] if backend.api_key_env else None,
                        verify_tls=self.verify_tls())

    def base_url(self, configured: str) -> str:
        """Hook: adjust the configured base URL (e.g. append /v1)."""
        return configured

    def verify_tls(self) -> bool | str:
        """Hook: True, False, or a CA bundle path (e.g. AutoByteus's AUTOBYTEUS_SSL_CERT_FILE)."""
        return True

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
        parsed = self.parse_response(body)
        usage = parsed.usage
        if usage is None:  # the server reported none: count it (llmkit.tokens) and say so
            usage = estimated_usage(request.messages, parsed.content, parsed.reasoning)
        return CompleteResponse(parsed.content, parsed.reasoning, usage, parsed.finish_reason, raw=parsed.raw,
                                metadata=parsed.metadata, finish_reason_raw=parsed.finish_reason_raw)

    def _stream_user_message_to_llm(self, request: LLMRequest) -> AsyncIterator[ChunkResponse]:
        """The adapter's chunks as they are: BaseLLM counts a final chunk without usage (one path for every
        backend), so no generator layer is added here."""
        wire = self.build_request(request, stream=True)
        endpoint = self.endpoint()
        events = executor().stream(endpoint, wire.path, json_body=wire.body, decode=self.decode,
                                   options=self.options(), classify=self.classify_error(), params=wire.params)
        return self.parse_stream(events, endpoint)

    def classify_error(self) -> ErrorClassifier | None:
        """Hook: provider-specific error classification before the generic mapping."""
        return None

    @abstractmethod
    def auth_headers(self, key: str | None) -> dict[str, str]:
        """Headers carrying the key (and protocol version headers)."""

    @abstractmethod
    def build_request(self, request: LLMRequest, *, stream: bool) -> WireRequest:
        """The wire request for this conversation and config."""

    @abstractmethod
    def parse_response(self, body: Any) -> WireResponse:
        """A unary response body -> its text, usage (None if the server sent none) and normalised finish reason."""

    @abstractmethod
    def parse_stream(self, events: AsyncIterator[tuple[str, str]], endpoint: Endpoint) -> AsyncIterator[ChunkResponse]:
        """Decoded stream events -> chunks, ending with one `is_complete=True` chunk carrying the finish reason and
        the usage (None if the server sent none); raise StreamError (with partial content) on an error event or a
        malformed chunk."""
