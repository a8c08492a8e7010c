"""HTTPLLM: the BaseLLM of every HTTP backend. A wire-protocol subclass only builds requests and parses
responses, streams and error bodies; the executor (llmkit.api.http) does the rest."""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Awaitable, Mapping
from datetime import datetime
from typing import Any

import msgspec

from llmkit.api.http import CallOptions, Endpoint, ErrorClassifier, executor
from llmkit.base import BaseLLM
from llmkit.billing import effective_pricing
from llmkit.config import LLMConfig
from llmkit.hosts import Host, host_for
from llmkit.messages import ChunkResponse, CompleteResponse, FinishReason, LLMRequest, TokenUsage
from llmkit.models import LLMModel
from llmkit.pricing import Pricing, apply_pricing
from llmkit.tokens import estimated_usage


class WireRequest(msgspec.Struct, frozen=True):
    """What an adapter wants sent: a path relative to the base URL, a JSON body and query parameters (a frozen
    Struct, as llmkit.messages' value types: built once per call)."""

    path: str
    body: Any
    params: Mapping[str, str] | None = None


class WireResponse(msgspec.Struct, frozen=True):
    """What an adapter read from a unary response body (a frozen Struct, as WireRequest). `usage` None means the
    server reported none: HTTPLLM counts it and marks it estimated, as BaseLLM does for a stream whose final chunk
    has no usage. `metadata` None is no metadata."""

    content: str
    reasoning: str | None
    usage: TokenUsage | None
    finish_reason: FinishReason
    finish_reason_raw: str | None = None
    raw: Any = None
    metadata: dict[str, Any] | None = None
    served_model: str | None = None  # the model the body names (see CompleteResponse.served_model)


class CallPlan(msgspec.Struct, frozen=True):
    """What a client works out from its class, model, config and profile alone, all fixed for the client: the
    call options, the price, the error classifier and the body fields the config sets. One plan is kept (the
    last one, on HTTPLLM) because a sweep creates a client per call for the same model and config; one memo
    check per call replaces one per part, and each Python call a sequential request makes costs far more than
    its bytecode with the caches cold after waiting on the server (benchmarks/README.md)."""

    llm_class: type[HTTPLLM]
    model: LLMModel
    config: LLMConfig
    profile: Any
    options: CallOptions
    pricing: Pricing | None
    classify: ErrorClassifier | None
    body_fields: Mapping[str, Any]  # never mutated: adapters copy them into each body


class HTTPLLM(BaseLLM):
    """Shared plumbing for HTTP backends; see the module docstring."""

    decode = "sse"  # how streams are framed: "sse", "ndjson" or "data-lines"
    profile: Any = None  # the adapter's dialect data where it has one (OpenAIChatLLM's OpenAIProfile)
    _last_plan: CallPlan | None = None

    @property
    def host(self) -> Host:
        """Where this model's requests go and how they are authorised (`llmkit.hosts`)."""
        return host_for(self.model)

    def endpoint(self) -> Endpoint:
        """Base URL and auth headers as the environment is now, so a key set after creation is picked up; a
        required key that is missing raises AuthenticationError naming the variable. The Host memoises it on the
        values of the variables it reads (an eval sweep creates one client per row)."""
        return host_for(self.model).endpoint(self.model.identifier)

    def plan(self) -> CallPlan:
        """This client's CallPlan: the last one made when it was made for the same class, model, config and
        profile (a client's `config` is an immutable object), else a new one."""
        plan = HTTPLLM._last_plan
        if plan is None or plan.config is not self.config or plan.model is not self.model \
                or plan.profile is not self.profile or plan.llm_class is not type(self):
            plan = HTTPLLM._last_plan = CallPlan(type(self), self.model, self.config, self.profile,
                                                 CallOptions.from_config(self.config),
                                                 effective_pricing(self.model, self.config), self.classify_error(),
                                                 self.config_fields())
        return plan

    def options(self) -> CallOptions:
        """Timeout, retries and attempt limit of this client's calls."""
        return self.plan().options

    def price_usage(self, usage: TokenUsage, at: datetime | None = None) -> TokenUsage:
        """BaseLLM's, with the price card the plan looked up once."""
        return apply_pricing(self.plan().pricing, usage, at)

    def _post(self, request: LLMRequest, plan: CallPlan) -> Awaitable[Any]:
        """The unary exchange for `request`: awaiting it gives the response body (a plain function returning the
        executor's coroutine, so no coroutine layer is added)."""
        wire = self.build_request(request, stream=False)
        return executor().request_json(self.endpoint(), "POST", wire.path, json_body=wire.body,
                                       options=plan.options, classify=plan.classify, params=wire.params)

    async def _fresh_response(self, request: LLMRequest, started: float, at: datetime) -> CompleteResponse:
        """The final response built once: parsed parts, priced counts, latency and model id in one constructor
        call (the default path builds an unpriced response and then a priced copy of it)."""
        plan = self.plan()
        parsed = self.parse_response(await self._post(request, plan))
        usage = apply_pricing(plan.pricing, self.counted_usage(parsed, request), at)
        return CompleteResponse(parsed.content, parsed.reasoning, usage, parsed.finish_reason,
                                time.perf_counter() - started, None, False, None, self.model.identifier, parsed.raw,
                                parsed.metadata or {}, parsed.finish_reason_raw, parsed.served_model)

    async def _send_user_message_to_llm(self, request: LLMRequest) -> CompleteResponse:
        """The backend contract's unpriced answer; calls through BaseLLM take `_fresh_response` instead."""
        parsed = self.parse_response(await self._post(request, self.plan()))
        return CompleteResponse(parsed.content, parsed.reasoning, self.counted_usage(parsed, request),
                                parsed.finish_reason, raw=parsed.raw, metadata=parsed.metadata or {},
                                finish_reason_raw=parsed.finish_reason_raw, served_model=parsed.served_model)

    def counted_usage(self, parsed: WireResponse, request: LLMRequest) -> TokenUsage:
        """The token counts of a unary answer: the server's, or — when it reported none — counted with
        `llmkit.tokens` and marked estimated. A backend whose server leaves out a count overrides it."""
        if parsed.usage is None:
            return estimated_usage(request.messages, parsed.content, parsed.reasoning)
        return parsed.usage

    def _stream_user_message_to_llm(self, request: LLMRequest) -> AsyncIterator[ChunkResponse]:
        """The adapter's chunks as they are: BaseLLM counts a final chunk without usage (one path for every
        backend), so no generator layer is added here."""
        wire, plan = self.build_request(request, stream=True), self.plan()
        endpoint = self.endpoint()
        events = executor().stream(endpoint, wire.path, json_body=wire.body, decode=self.decode,
                                   options=plan.options, classify=plan.classify, params=wire.params)
        return self.parse_stream(events, endpoint)

    def classify_error(self) -> ErrorClassifier | None:
        """Hook: provider-specific error classification before the generic mapping (called once per plan)."""
        return None

    def config_fields(self) -> Mapping[str, Any]:
        """Hook: the request body fields that come from the config alone (called once per plan; see
        `plan().body_fields`). Empty by default: an adapter that builds them per call need not override it."""
        return {}

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
