"""The transport contract: both transports (aiohttp, httpx) under the executor give the same outputs and raise the
same llmkit exceptions for the same bytes on the wire, served by a real scripted loopback server."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest

from llmkit.api.endpoint import CallOptions, Endpoint
from llmkit.api.executor import HTTPExecutor
from llmkit.api.framing import LineFramer
from llmkit.errors import (
    AuthenticationError,
    ContextLengthError,
    LLMError,
    LLMTimeoutError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
)
from tests.servers.garbage import HungServer
from tests.servers.scripted import (
    CLOSE,
    ScriptedServer,
    chunk,
    chunked_reply,
    json_reply,
    response_head,
)

T = TypeVar("T")
NO_RETRY = CallOptions(timeout_s=5.0, max_retries=0)
SSE_BYTES = 'data: {"t": "héllo €"}\r\n\r\n: a comment\r\nevent: done\r\ndata: [DONE]\r\n\r\n'.encode()
SSE_ITEMS = [("message", '{"t": "héllo €"}'), ("done", "[DONE]")]


@pytest.fixture(params=["aiohttp", "httpx"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server() -> Any:
    with ScriptedServer() as running:
        yield running


def run(backend: str, call: Callable[[HTTPExecutor], Awaitable[T]]) -> T:
    async def main() -> T:
        executor = HTTPExecutor(backend=backend)
        try:
            return await call(executor)
        finally:
            await executor.aclose()

    return asyncio.run(main())


def endpoint(server: Any) -> Endpoint:
    return Endpoint(base_url=server.base_url, headers={"authorization": "Bearer k"}, provider="testprov",
                    api_key_env="TEST_KEY")


def unary(backend: str, server: Any, options: CallOptions = NO_RETRY) -> Any:
    return run(backend, lambda ex: ex.request_json(endpoint(server), "POST", "/v1/x", json_body={"a": 1},
                                                   options=options))


def stream(backend: str, server: Any, decode: str = "sse", options: CallOptions = NO_RETRY) -> list[tuple[str, str]]:
    async def collect(ex: HTTPExecutor) -> list[tuple[str, str]]:
        events: AsyncIterator[tuple[str, str]] = ex.stream(endpoint(server), "/v1/s", json_body={"a": 1},
                                                           decode=decode, options=options)
        return [item async for item in events]

    return run(backend, collect)


# ----- unary ------------------------------------------------------------------------------------------------------
def test_unary_json_body(backend: str, server: ScriptedServer) -> None:
    server.script = json_reply(200, json.dumps({"ok": "é", "n": [1, 2]}).encode())
    assert unary(backend, server) == {"ok": "é", "n": [1, 2]}


@pytest.mark.parametrize(("status", "body", "error", "words"), [
    (400, b'{"error": {"message": "bad temperature"}}', ProviderError, "answered 400: bad temperature"),
    (401, b'{"error": {"message": "no such key"}}', AuthenticationError, "rejected the credentials"),
    (404, b'{"error": {"message": "model x not found"}}', ModelNotFoundError, "not found: model x not found"),
    (400, b'{"error": {"code": "context_length_exceeded", "message": "too long"}}', ContextLengthError, "context"),
    (413, b'{"error": {"message": "Request exceeds the maximum allowed number of bytes"}}', ProviderError,
     "too large (413)"),
    (429, b'{"error": {"message": "slow down"}}', RateLimitError, "rate limiting"),
    (500, b"<html>oops</html>", ProviderError, "answered 500: <html>oops</html>"),
])
def test_error_answers_map_to_the_same_error(backend: str, server: ScriptedServer, status: int, body: bytes,
                                             error: type[LLMError], words: str) -> None:
    server.script = json_reply(status, body, headers={"retry-after": "7"})
    for call in (unary, stream):
        with pytest.raises(error) as caught:
            call(backend, server)  # type: ignore[operator]
        assert type(caught.value) is error
        assert words in str(caught.value)
        assert "testprov (127.0.0.1:" in str(caught.value)
        if status == 413:
            assert not isinstance(caught.value, ContextLengthError) and caught.value.hint
        if status == 429:
            assert isinstance(caught.value, RateLimitError) and caught.value.retry_after == 7.0


def test_a_body_that_is_not_json(backend: str, server: ScriptedServer) -> None:
    server.script = json_reply(200, b"<!doctype html><p>hi</p>", "text/html")
    with pytest.raises(ProviderError, match="not JSON: '<!doctype html><p>hi</p>'"):
        unary(backend, server)


def test_a_body_cut_short(backend: str, server: ScriptedServer) -> None:
    server.script = [response_head(200, length=100) + b'{"a": ', CLOSE]
    with pytest.raises(ProviderUnavailableError, match=r"Cannot reach testprov at 127\.0\.0\.1"):
        unary(backend, server)


# ----- streams ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cuts", [
    [],  # one piece
    [7, 13, 14, 15, 16, 17],  # inside "é" and inside the three bytes of "€"
    [26, 27, 28, 29, 41, 42],  # between CR and LF, and inside the comment's CRLF
    list(range(1, len(SSE_BYTES))),  # every byte on its own
])
def test_sse_split_anywhere_gives_the_same_events(backend: str, server: ScriptedServer, cuts: list[int]) -> None:
    edges = [0, *cuts, len(SSE_BYTES)]
    server.script = chunked_reply([SSE_BYTES[a:b] for a, b in itertools.pairwise(edges)])
    assert stream(backend, server) == SSE_ITEMS


def test_ndjson_and_data_lines(backend: str, server: ScriptedServer) -> None:
    server.script = chunked_reply([b'{"a": 1}\n\n{"b"', b': "\xe2\x82', b'\xac"}\r\n{"c": 3}'], "application/x-ndjson")
    assert stream(backend, server, "ndjson") == [("", '{"a": 1}'), ("", '{"b": "€"}'), ("", '{"c": 3}')]
    server.script = chunked_reply([b"data: 1\nevent: x\n", b"data:2\r\n\r\nnoise\ndata: 3"], "text/plain")
    assert stream(backend, server, "data-lines") == [("", "1"), ("", "2"), ("", "3")]


def test_a_close_delimited_stream_ends_cleanly(backend: str, server: ScriptedServer) -> None:
    server.script = [response_head(200, "text/event-stream"), SSE_BYTES[:20], SSE_BYTES[20:]]
    assert stream(backend, server) == SSE_ITEMS


def test_a_chunked_stream_cut_short_is_unreachable(backend: str, server: ScriptedServer) -> None:
    server.script = [response_head(200, "text/event-stream", chunked=True), chunk(b"data: 1\n\n"), CLOSE]

    async def collect(ex: HTTPExecutor) -> list[tuple[str, str]]:
        got: list[tuple[str, str]] = []
        with pytest.raises(ProviderUnavailableError, match="Cannot reach testprov"):
            async for item in ex.stream(endpoint(server), "/s", json_body={}, options=NO_RETRY):
                got.append(item)
        return got

    assert run(backend, collect) == [("message", "1")]


def test_a_web_page_answering_a_stream_says_so(backend: str, server: ScriptedServer) -> None:
    page = b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>"
    server.script = json_reply(200, page, "text/html; charset=utf-8")
    with pytest.raises(ProviderError, match="answered with text/html instead of an event stream: '<!doctype") as e:
        stream(backend, server)
    assert "closed the stream" not in str(e.value) and e.value.hint


# ----- connecting and waiting -------------------------------------------------------------------------------------
def test_connection_refused_names_the_host(backend: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        closed = Endpoint(base_url=f"http://127.0.0.1:{port}", provider="testprov")
        for call in ("unary", "stream"):
            async def go(ex: HTTPExecutor, call: str = call) -> Any:
                if call == "unary":
                    return await ex.request_json(closed, "GET", "/x", options=NO_RETRY)
                return [i async for i in ex.stream(closed, "/x", json_body={}, options=NO_RETRY)]

            with pytest.raises(ProviderUnavailableError, match=f"Cannot reach testprov at 127.0.0.1:{port}") as e:
                run(backend, go)
            assert not isinstance(e.value, LLMTimeoutError) and e.value.host == f"127.0.0.1:{port}"


def test_a_silent_server_times_out_at_the_deadline(backend: str) -> None:
    with HungServer() as hung:
        for call in (unary, stream):
            started = time.monotonic()
            with pytest.raises(LLMTimeoutError, match=r"did not finish within 0\.5s"):
                call(backend, hung, options=CallOptions(timeout_s=0.5, max_retries=0))  # type: ignore[operator]
            assert 0.45 < time.monotonic() - started < 1.5


# ----- the framer alone: every split point of a tricky body -------------------------------------------------------
def test_framer_every_split_of_every_mode() -> None:
    body = 'event: a\r\ndata: x€\r\ndata: y\u2028z\r\rdata: é\n\n:c\r\ndata: last'.encode()
    expected = {
        "sse": [("a", "x€\ny\u2028z"), ("message", "é"), ("message", "last")],
        "ndjson": [("", "event: a"), ("", "data: x€"), ("", "data: y\u2028z"), ("", "data: é"), ("", ":c"),
                   ("", "data: last")],
        "data-lines": [("", "x€"), ("", "y\u2028z"), ("", "é"), ("", "last")],
    }
    for mode, items in expected.items():
        for i in range(len(body) + 1):
            for j in range(i, len(body) + 1):
                framer = LineFramer(mode)
                got = [*framer.feed(body[:i]), *framer.feed(body[i:j]), *framer.feed(body[j:]), *framer.close()]
                assert got == items, (mode, i, j)


def test_the_http_facade_keeps_the_names_other_modules_import() -> None:
    from llmkit.api import http

    names = {"Endpoint", "CallOptions", "ErrorClassifier", "executor", "parse_stream_json", "provider_message",
             "parse_json_body", "map_http_error", "is_retryable", "retry_wait", "DEFAULT_TIMEOUT_S",
             "DEFAULT_MAX_RETRIES", "parse_retry_after", "HTTPExecutor", "set_executor"}
    assert names <= set(http.__all__) and all(hasattr(http, name) for name in names)
    constructor = {name for name, f in Endpoint.__dataclass_fields__.items() if f.init}
    assert constructor == {"base_url", "headers", "provider", "api_key_env", "verify_tls"}
