"""LoopbackServer: a real HTTP server on 127.0.0.1 in a daemon thread, with request recording and scenarios.

A subclass lists its endpoints and knows its protocol's error bodies; this module does the rest: binding, threading,
restarts on the same port, recording, choosing the scenario of each request, sleeps, HTTP-level errors and
streaming a prepared frame sequence (with ``error_midstream`` / ``malformed_chunk`` / ``slow_stream`` applied).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .address import LoopbackAddress
from .replies import Prompt, tag_scenario

SCENARIO_HEADER = "x-test-scenario"

#: Scenarios answered with an HTTP error before any body is produced (see each server's ``error_response``).
HTTP_ERROR_SCENARIOS = frozenset(
    {"auth", "context_length", "rate_limit", "quota", "server_error", "unavailable", "overloaded", "not_found"}
)
#: Scenarios that change how a successful answer is delivered.
ANSWER_SCENARIOS = frozenset({"ok", "reasoning", "error_midstream", "malformed_chunk", "slow", "slow_stream", "hang"})
SCENARIOS = HTTP_ERROR_SCENARIOS | ANSWER_SCENARIOS
#: What discovery endpoints (model lists, version, health) honour; anything else answers normally there.
DISCOVERY_SCENARIOS = frozenset(
    {"auth", "rate_limit", "quota", "server_error", "unavailable", "overloaded", "slow", "hang"}
)


@dataclass(frozen=True)
class ModelSpec:
    """A model a loopback server offers. ``capabilities`` uses Ollama's names (completion, thinking, vision, tools)."""

    id: str
    context_length: int = 32768
    capabilities: tuple[str, ...] = ("completion",)
    family: str = "llama"
    loaded: bool = True
    #: Anthropic Opus-4.7-style quirks: 400 on ``thinking.budget_tokens`` / on non-default sampling parameters.
    rejects_budget: bool = False
    rejects_temperature: bool = False

    @property
    def thinking(self) -> bool:
        return "thinking" in self.capabilities


def model_specs(models: Sequence[str | ModelSpec]) -> list[ModelSpec]:
    return [m if isinstance(m, ModelSpec) else ModelSpec(m) for m in models]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any


@dataclass
class Exchange:
    """One request as a handler sees it: the raw request, its parsed body, the chosen scenario and prompt."""

    request: Request
    body: Any
    scenario: str
    prompt: Prompt | None = None

    @property
    def json(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}


Handler = Callable[[Exchange], Awaitable[Response]]


@dataclass(frozen=True)
class Endpoint:
    path: str
    handler: Handler
    methods: Sequence[str] = ("POST",)
    #: For generation endpoints: extracts the prompt (enables the tag and the scenario queue).
    prompt_of: Callable[[dict[str, Any]], Prompt] | None = None
    #: Endpoints that bypass authentication (e.g. llama-server's /health).
    public: bool = False


@dataclass
class StreamPlan:
    """A successful stream split where the failure scenarios need to cut it."""

    head: list[bytes]
    body: list[bytes]
    tail: list[bytes]
    error: bytes
    malformed: bytes
    media_type: str = "text/event-stream"
    extra_headers: dict[str, str] = field(default_factory=dict)

    def frames(self, scenario: str) -> list[bytes]:
        if scenario == "error_midstream":
            return [*self.head, *self.body[:1], self.error]
        if scenario == "malformed_chunk":
            return [*self.head, *self.body[:1], self.malformed]
        return [*self.head, *self.body, *self.tail]


def sse(data: Any, event: str | None = None, newline: str = "\n") -> bytes:
    """One SSE event (``event:`` line optional) carrying JSON (or a preformatted string) as data."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    lines = ([f"event: {event}"] if event else []) + [f"data: {payload}"]
    return (newline.join(lines) + newline + newline).encode()


def ndjson(data: Any) -> bytes:
    return (json.dumps(data, separators=(",", ":")) + "\n").encode()


#: The fields that carry token usage in any protocol here (protocols.md §12b), dropped by ``omit_usage``.
USAGE_FIELDS = frozenset({"usage", "usageMetadata", "token_usage", "prompt_eval_count", "eval_count"})


def without_usage(value: Any) -> Any:
    """``value`` with every usage field removed, at any depth (Anthropic nests it in ``message_start.message``)."""
    if isinstance(value, dict):
        return {k: without_usage(v) for k, v in value.items() if k not in USAGE_FIELDS}
    if isinstance(value, list):
        return [without_usage(v) for v in value]
    return value


def frame_without_usage(frame: bytes) -> bytes:
    """An SSE event or NDJSON line re-encoded without usage fields (non-JSON payloads pass unchanged)."""
    lines = frame.decode().split("\n")
    for i, line in enumerate(lines):
        head, sep, payload = line.partition("data: ") if line.startswith("data: ") else ("", "", line)
        try:
            data = json.loads(payload.rstrip("\r"))
        except ValueError:
            continue
        ending = "\r" if payload.endswith("\r") else ""
        lines[i] = head + sep + json.dumps(without_usage(data), separators=(",", ":")) + ending
    return "\n".join(lines).encode()


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json", headers=headers)


class LoopbackServer(LoopbackAddress):
    """Base class. Subclasses implement ``endpoints``, ``error_response`` and ``presented_key``."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        scenario: str = "ok",
        retry_after: str = "1",
        slow_seconds: float = 2.0,
        chunk_delay: float = 0.2,
    ) -> None:
        self.api_key = api_key
        self.scenario = scenario
        self.retry_after = retry_after
        self.slow_seconds = slow_seconds
        self.chunk_delay = chunk_delay
        #: True: answers carry no token usage at all (as some gateways and older servers send them).
        self.omit_usage = False
        self.requests: list[RecordedRequest] = []
        self._queue: deque[str] = deque()
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None
        self.app = Starlette(routes=[self._route(e) for e in self.endpoints()])

    # -- subclass contract -------------------------------------------------------------------------------------
    def endpoints(self) -> list[Endpoint]:
        raise NotImplementedError

    def error_response(self, scenario: str, ex: Exchange) -> Response:
        """The protocol's HTTP error for one of ``HTTP_ERROR_SCENARIOS``."""
        raise NotImplementedError

    def presented_key(self, request: Request) -> str | None:
        """The credential the client sent, in this protocol's header."""
        auth = request.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None

    def authorized(self, request: Request) -> bool:
        return self.api_key is None or self.presented_key(request) == self.api_key

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def start(self, port: int = 0) -> LoopbackServer:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"{type(self).__name__}-loopback", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{type(self).__name__} failed to start on 127.0.0.1:{port}")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        self.port = server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(5)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(5)
        self._server = self._thread = None

    def restart(self) -> LoopbackServer:
        """Stop and start again on the same port (for reload tests)."""
        port = self.port
        self.stop()
        return self.start(port or 0)

    def __enter__(self) -> LoopbackServer:
        return self.start() if self._server is None else self

    @property
    def running(self) -> bool:
        return self._server is not None

    # -- scenarios ---------------------------------------------------------------------------------------------
    def queue_scenarios(self, scenarios: Iterable[str]) -> None:
        """Make the next generation requests follow these scenarios, one each, before falling back."""
        names = list(scenarios)
        for name in names:
            _check_scenario(name)
        with self._lock:
            self._queue.extend(names)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    @property
    def last_request(self) -> RecordedRequest:
        return self.requests[-1]

    def _choose(self, request: Request, prompt: Prompt | None) -> str:
        queued = None
        if prompt is not None:
            with self._lock:
                queued = self._queue.popleft() if self._queue else None
        header = request.headers.get(SCENARIO_HEADER)
        tagged = tag_scenario(prompt.last_user) if prompt is not None else None
        chosen = header or tagged or queued or self.scenario
        if prompt is None and chosen not in DISCOVERY_SCENARIOS:
            return "ok"
        return chosen

    async def sleep(self, seconds: float) -> None:
        """Sleep, but wake early when the server is stopping, so slow/hung handlers never delay ``stop()``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._server is not None and not self._server.should_exit:
            await asyncio.sleep(min(0.05, max(deadline - time.monotonic(), 0)))

    # -- request pipeline --------------------------------------------------------------------------------------
    def _route(self, endpoint: Endpoint) -> Route:
        async def handle(request: Request) -> Response:
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            self.requests.append(
                RecordedRequest(
                    method=request.method,
                    path=request.url.path,
                    query=dict(request.query_params),
                    headers={k.lower(): v for k, v in request.headers.items()},
                    json=body,
                )
            )
            prompt = None
            if endpoint.prompt_of is not None:
                prompt = endpoint.prompt_of(body if isinstance(body, dict) else {})
            ex = Exchange(request=request, body=body, scenario=self._choose(request, prompt), prompt=prompt)
            if ex.scenario not in SCENARIOS:
                return Response(f"unknown test scenario {ex.scenario!r}", status_code=500)
            if ex.scenario == "auth" or not (endpoint.public or self.authorized(request)):
                return self.error_response("auth", ex)
            if ex.scenario == "hang":
                await self.sleep(3600)
                return Response(status_code=503)
            if ex.scenario == "slow":
                await self.sleep(self.slow_seconds)
            if ex.scenario in HTTP_ERROR_SCENARIOS:
                response = self.error_response(ex.scenario, ex)
                if ex.scenario == "rate_limit":
                    response.headers["retry-after"] = self.retry_after
                return response
            return await endpoint.handler(ex)

        return Route(endpoint.path, handle, methods=list(endpoint.methods))

    def unary(self, ex: Exchange, body: Any, headers: dict[str, str] | None = None) -> Response:
        """A complete JSON answer; the stream-failure scenarios become a 500 / a truncated body here."""
        if ex.scenario == "error_midstream":
            return self.error_response("server_error", ex)
        text = json.dumps(without_usage(body) if self.omit_usage else body)
        if ex.scenario == "malformed_chunk":
            text = text[: len(text) // 2]
        return Response(text, media_type="application/json", headers=headers)

    def stream(self, ex: Exchange, plan: StreamPlan) -> Response:
        frames = plan.frames(ex.scenario)
        if self.omit_usage:
            frames = [frame_without_usage(f) for f in frames]
        delay = self.chunk_delay if ex.scenario == "slow_stream" else 0.0

        async def produce() -> Any:
            for i, frame in enumerate(frames):
                if delay and i:
                    await self.sleep(delay)
                yield frame

        return StreamingResponse(produce(), media_type=plan.media_type, headers=plan.extra_headers)


def _check_scenario(name: str) -> None:
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; known: {sorted(SCENARIOS)}")
