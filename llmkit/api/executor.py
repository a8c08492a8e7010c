"""The executor: the policy of every model call, held once above a transport (`llmkit.api.transport`).

- the deadline: `LLMConfig.timeout` bounds the whole call — every try, every retry wait, every byte of a stream;
- retries (`llmkit.api.retry`): on 429, 5xx, 529 and connection errors, honouring the server's Retry-After, never
  once a stream has yielded an event;
- error answers -> the `llmkit.errors` tree (`llmkit.api.error_mapping`), a web page answering a stream included;
- stream framing fed by bytes (`llmkit.api.framing`): SSE, NDJSON or `data:` lines.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from functools import partial
from typing import Any

import httpx

from llmkit import settings
from llmkit.api.endpoint import CallOptions, Endpoint, ErrorClassifier
from llmkit.api.error_mapping import map_http_error, not_a_stream_error, parse_json_body
from llmkit.api.framing import Item, LineFramer
from llmkit.api.jsoncodec import dumps
from llmkit.api.retry import limit_of, retry_after_failure
from llmkit.api.transport import ByteStream, Transport
from llmkit.api.transport_httpx import HttpxTransport
from llmkit.errors import LLMError

logger = logging.getLogger("llmkit.http")
MAX_ERROR_BODY = 1024 * 1024  # of an error answer to a stream, read for its message
_DEFAULT_OPTIONS = CallOptions()
_Opened = tuple[ByteStream, AsyncIterator[bytes] | None, LineFramer, list[Item], float]


class HTTPExecutor:
    """Process-wide executor; see the module docstring. Use `executor()` to get the shared instance."""

    def __init__(self, transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
                 max_connections: int = 1000, max_keepalive: int = 256, backend: str | None = None) -> None:
        """`backend` moves the bytes of model calls: "aiohttp" (the default when aiohttp is installed and no
        `transport_factory` is given) or "httpx"; `LLMKIT_HTTP_BACKEND` overrides the default. `client()` is
        always httpx. `max_connections` is lowered to what the process's descriptor limit allows."""
        self.backend = _choose_backend(backend, transport_factory is not None)
        self._httpx = HttpxTransport(max_connections, max_keepalive, transport_factory)
        self.transport: Transport = self._httpx
        if self.backend == "aiohttp":
            from llmkit.api.transport_aiohttp import AiohttpTransport  # once, at construction: start-up stays light

            self.transport = AiohttpTransport(max_connections)

    def client(self, verify_tls: bool | str = True) -> httpx.AsyncClient:
        """The pooled httpx client of the running event loop, for requests other than model calls (discovery)."""
        return self._httpx.client(verify_tls)

    async def aclose(self) -> None:
        """Close the connections of the running loop (tests and clean shutdown)."""
        await self._httpx.aclose()
        if self.transport is not self._httpx:
            await self.transport.aclose()

    # ----- unary ---------------------------------------------------------------------------------------------
    async def request_json(self, endpoint: Endpoint, method: str, path: str, *, json_body: Any = None,
                           options: CallOptions = _DEFAULT_OPTIONS, classify: ErrorClassifier | None = None,
                           params: Mapping[str, str] | None = None) -> Any:
        """Send a request and return the parsed JSON body, retrying retryable failures within the deadline."""
        started = time.monotonic()
        body = None if json_body is None else dumps(json_body)
        url, headers = endpoint.url(path), endpoint.headers if body is None else endpoint.json_headers
        try:
            return await self._json_once(endpoint, method, url, headers, body, params, classify, options,
                                         options.first_attempt_s)
        except LLMError as exc:
            again = partial(self._json_once, endpoint, method, url, headers, body, params, classify, options)
            return await retry_after_failure(exc, again, options, started)

    async def _json_once(self, endpoint: Endpoint, method: str, url: str, headers: Mapping[str, str],
                         body: bytes | None, params: Mapping[str, str] | None, classify: ErrorClassifier | None,
                         options: CallOptions, attempt_s: float) -> Any:
        """One try: the reply's JSON body, or the LLMError it amounts to."""
        try:
            reply = await self.transport.send(endpoint, method, url, headers, body, params, attempt_s)
        except Exception as exc:  # the transport's own failures, mapped by the transport
            raise self.transport.map_error(endpoint, exc, limit_of(options, attempt_s)) from None
        if reply.status >= 400:
            raise map_http_error(endpoint, reply.status, reply.headers, reply.body.decode("utf-8", "replace"),
                                 classify)
        return parse_json_body(endpoint, reply.body)

    # ----- streams ---------------------------------------------------------------------------------------------
    async def stream(self, endpoint: Endpoint, path: str, *, json_body: Any, decode: str = "sse",
                     options: CallOptions = _DEFAULT_OPTIONS, classify: ErrorClassifier | None = None,
                     params: Mapping[str, str] | None = None) -> AsyncIterator[tuple[str, str]]:
        """POST and yield decoded events as (event_name, data) pairs: SSE events (`decode="sse"`), NDJSON lines
        (`"ndjson"`, event name ""), or `data:` lines (`"data-lines"`). A try lasts until the first event; only
        tries are retried."""
        started = time.monotonic()
        call = (endpoint, endpoint.url(path), endpoint.json_headers, dumps(json_body), params, decode, classify,
                options)
        try:
            opened = await self._open_stream(*call, options.first_attempt_s)
        except LLMError as exc:
            opened = await retry_after_failure(exc, partial(self._open_stream, *call), options, started)
        stream, chunks, framer, items, limit = opened
        finished = False
        try:
            for item in items:
                yield item
            if chunks is not None:
                async for chunk in chunks:
                    for item in framer.feed(chunk):
                        yield item
                for item in framer.close():
                    yield item
            finished = True
        except LLMError:
            raise
        except Exception as exc:
            raise self.transport.map_error(endpoint, exc, limit) from None
        finally:
            await stream.aclose(finished)

    async def _open_stream(self, endpoint: Endpoint, url: str, headers: Mapping[str, str], body: bytes,
                           params: Mapping[str, str] | None, decode: str, classify: ErrorClassifier | None,
                           options: CallOptions, attempt_s: float) -> _Opened:
        """One try: connect, check the answer is a stream, and read until the first event (or the end)."""
        limit = limit_of(options, attempt_s)
        try:
            stream = await self.transport.open_stream(endpoint, url, headers, body, params, attempt_s)
        except Exception as exc:
            raise self.transport.map_error(endpoint, exc, limit) from None
        try:
            if stream.status >= 400:
                text = (await stream.read(MAX_ERROR_BODY)).decode("utf-8", "replace")
                raise map_http_error(endpoint, stream.status, stream.headers, text, classify)
            content_type = stream.headers.get("content-type", "").lower()
            if content_type.startswith("text/html"):
                raise not_a_stream_error(endpoint, stream.status, content_type.split(";")[0], await stream.read(200))
            framer = LineFramer(decode)
            chunks: AsyncIterator[bytes] | None = stream.chunks()
            items: list[Item] = []
            while not items and chunks is not None:
                try:
                    items = framer.feed(await chunks.__anext__())
                except StopAsyncIteration:
                    items, chunks = framer.close(), None
        except BaseException as exc:
            await stream.aclose(False)
            if isinstance(exc, LLMError) or not isinstance(exc, Exception):
                raise
            raise self.transport.map_error(endpoint, exc, limit) from None
        return stream, chunks, framer, items, limit


def _choose_backend(requested: str | None, has_transport: bool) -> str:
    choice = (requested or settings.value("LLMKIT_HTTP_BACKEND") or "").strip().lower()
    if choice in ("httpx", "aiohttp"):
        if choice == "aiohttp" and has_transport:
            raise ValueError("transport_factory is an httpx transport; it cannot be combined with backend='aiohttp'")
        return choice
    if choice:
        logger.warning("LLMKIT_HTTP_BACKEND=%r is neither 'httpx' nor 'aiohttp'; choosing automatically", choice)
    if has_transport:
        return "httpx"
    return "aiohttp" if _aiohttp_installed() else "httpx"


def _aiohttp_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("aiohttp") is not None


_shared: HTTPExecutor | None = None


def executor() -> HTTPExecutor:
    """The process-wide executor."""
    global _shared
    if _shared is None:
        _shared = HTTPExecutor()
    return _shared


def set_executor(new: HTTPExecutor) -> None:
    """Swap the executor (e.g. for another transport); clients created afterwards use it."""
    global _shared
    _shared = new
