"""The httpx transport: model calls with `LLMKIT_HTTP_BACKEND=httpx` (or a custom httpx transport), and the pooled
`httpx.AsyncClient` that discovery and other non-model requests use whatever the backend.

httpx has no limit on a whole response, only per read, so the attempt's deadline is enforced here with
`asyncio.timeout_at` around the request and around each chunk read: a server dribbling keep-alives cannot hold it.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx

from llmkit.api.endpoint import CONNECT_TIMEOUT_S, DEFAULT_TIMEOUT_S, Endpoint
from llmkit.api.error_mapping import (
    descriptor_error,
    other_error,
    out_of_descriptors,
    timeout_error,
    unreachable_error,
)
from llmkit.api.transport import Reply, connection_limit
from llmkit.errors import LLMError

if sys.version_info >= (3, 11):
    from asyncio import timeout_at
else:  # pragma: no cover - aiohttp brings async-timeout on 3.10
    from async_timeout import timeout_at

_TIMEOUT_CACHE_SIZE = 256


class HttpxStream:
    """A streaming answer (see `transport.ByteStream`); every read ends by the attempt's deadline."""

    __slots__ = ("_deadline", "_response", "headers", "status")

    def __init__(self, response: httpx.Response, deadline: float) -> None:
        self.status: int = response.status_code
        self.headers: Mapping[str, str] = response.headers
        self._response = response
        self._deadline = deadline

    async def chunks(self) -> AsyncIterator[bytes]:
        iterator = self._response.aiter_bytes()
        while True:
            async with timeout_at(self._deadline):
                try:
                    chunk = await iterator.__anext__()
                except StopAsyncIteration:
                    return
            yield chunk

    async def read(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for part in self.chunks():
            parts.append(part)
            size += len(part)
            if size >= limit:
                break
        return b"".join(parts)[:limit]

    async def aclose(self, reuse: bool) -> None:
        await self._response.aclose()


class HttpxTransport:
    """See the module docstring. `transport_factory` swaps httpx's own transport (e.g. `httpx.MockTransport`)."""

    name = "httpx"

    def __init__(self, max_connections: int = 1000, max_keepalive: int = 256,
                 transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None) -> None:
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[bool | str, httpx.AsyncClient]]
        self._clients = weakref.WeakKeyDictionary()
        self._max_connections, self._max_keepalive = max_connections, max_keepalive
        self._transport_factory = transport_factory
        self._timeouts: dict[float, httpx.Timeout] = {}

    def client(self, verify_tls: bool | str = True) -> httpx.AsyncClient:
        """The pooled client of the running event loop (one per TLS setting; a string is a CA bundle path)."""
        loop = asyncio.get_running_loop()
        per_loop = self._clients.setdefault(loop, {})
        client = per_loop.get(verify_tls)
        if client is None or client.is_closed:
            transport = self._transport_factory() if self._transport_factory else None
            verify: Any = ssl.create_default_context(cafile=verify_tls) if isinstance(verify_tls, str) else verify_tls
            connections = connection_limit(self._max_connections)
            limits = httpx.Limits(max_connections=connections,
                                  max_keepalive_connections=min(self._max_keepalive, connections))
            client = httpx.AsyncClient(limits=limits, verify=verify, transport=transport,
                                       timeout=httpx.Timeout(DEFAULT_TIMEOUT_S, connect=CONNECT_TIMEOUT_S))
            per_loop[verify_tls] = client
        return client

    def _timeout(self, timeout_s: float) -> httpx.Timeout:
        """Per read/write/pool wait: the whole attempt's time (the deadline itself is enforced around them)."""
        timeout = self._timeouts.get(timeout_s)
        if timeout is None:
            if len(self._timeouts) >= _TIMEOUT_CACHE_SIZE:
                self._timeouts.clear()
            timeout = self._timeouts[timeout_s] = httpx.Timeout(timeout_s, connect=min(CONNECT_TIMEOUT_S, timeout_s))
        return timeout

    async def send(self, endpoint: Endpoint, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                   params: Mapping[str, str] | None, timeout_s: float) -> Reply:
        client = self.client(endpoint.verify_tls)
        async with timeout_at(asyncio.get_running_loop().time() + timeout_s):
            response = await client.request(method, url, content=body, headers=headers, params=params,
                                            timeout=self._timeout(timeout_s))
        return Reply(response.status_code, response.headers, response.content)

    async def open_stream(self, endpoint: Endpoint, url: str, headers: Mapping[str, str], body: bytes,
                          params: Mapping[str, str] | None, timeout_s: float) -> HttpxStream:
        client = self.client(endpoint.verify_tls)
        deadline = asyncio.get_running_loop().time() + timeout_s
        request = client.build_request("POST", url, content=body, headers=headers, params=params,
                                       timeout=self._timeout(timeout_s))
        async with timeout_at(deadline):
            response = await client.send(request, stream=True)
        return HttpxStream(response, deadline)

    def map_error(self, endpoint: Endpoint, exc: BaseException, timeout_s: float) -> LLMError:
        if isinstance(exc, httpx.ConnectTimeout):
            return timeout_error(endpoint, min(CONNECT_TIMEOUT_S, timeout_s), exc)
        if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
            return timeout_error(endpoint, timeout_s, exc)
        if out_of_descriptors(exc):
            return descriptor_error(endpoint, exc)
        if isinstance(exc, (httpx.ConnectError, httpx.NetworkError, httpx.RemoteProtocolError, OSError)):
            return unreachable_error(endpoint, exc)
        return other_error(endpoint, exc)

    async def aclose(self) -> None:
        """Close the clients of the running loop."""
        for client in self._clients.pop(asyncio.get_running_loop(), {}).values():
            await client.aclose()
