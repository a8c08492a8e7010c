"""The aiohttp transport, the default for model calls.

Why aiohttp: on a loopback server httpx's AsyncClient sustains roughly a tenth of aiohttp's request rate with many
requests in flight (its pool and per-request model objects cost ~1 ms of CPU per call; see benchmarks/README.md),
and an eval sweep is exactly that workload. One pooled `ClientSession` per event loop and TLS setting; the pool is
bounded by the process's descriptor limit (`transport.connection_limit`), so surplus calls queue for a connection.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ssl
import weakref
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp

from llmkit import settings
from llmkit.api.endpoint import CONNECT_TIMEOUT_S, Endpoint
from llmkit.api.error_mapping import (
    descriptor_error,
    other_error,
    out_of_descriptors,
    timeout_error,
    unreachable_error,
)
from llmkit.api.transport import Reply, connection_limit
from llmkit.errors import LLMError

_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
_TIMEOUT_CACHE_SIZE = 256


class AiohttpStream:
    """A streaming answer (see `transport.ByteStream`)."""

    __slots__ = ("_response", "headers", "status")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.status: int = response.status
        self.headers: Mapping[str, str] = response.headers
        self._response = response

    def chunks(self) -> AsyncIterator[bytes]:
        return self._response.content.iter_any()

    async def read(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        while size < limit:
            part = await self._response.content.read(limit - size)
            if not part:
                break
            parts.append(part)
            size += len(part)
        return b"".join(parts)

    async def aclose(self, reuse: bool) -> None:
        if reuse:
            self._response.release()  # the connection goes back to the pool
        else:
            self._response.close()  # unread data: the connection cannot be reused


class AiohttpTransport:
    """See the module docstring; `max_connections` is an upper bound, lowered to what the fd limit allows."""

    name = "aiohttp"

    def __init__(self, max_connections: int = 1000) -> None:
        self._max_connections = max_connections
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[bool | str, aiohttp.ClientSession]]
        self._sessions = weakref.WeakKeyDictionary()
        self._last: tuple[asyncio.AbstractEventLoop, bool | str, aiohttp.ClientSession] | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        atexit.register(_forget_all, weakref.ref(self))

    def session(self, verify_tls: bool | str = True) -> aiohttp.ClientSession:
        """The pooled session of the running event loop for this TLS setting (a string is a CA bundle path)."""
        loop = asyncio.get_running_loop()
        last = self._last  # the common case, without a weak-dictionary lookup per call
        if last is not None and last[0] is loop and last[1] == verify_tls and not last[2].closed:
            return last[2]
        per_loop = self._sessions.get(loop)
        if per_loop is None:
            per_loop = self._sessions[loop] = {}
        session = per_loop.get(verify_tls)
        if session is None or session.closed:
            self._forget_dead_sessions()
            session = per_loop[verify_tls] = _new_session(verify_tls, connection_limit(self._max_connections))
        self._last = (loop, verify_tls, session)
        return session

    def _timeout(self, timeout_s: float) -> aiohttp.ClientTimeout:
        """`total` bounds the whole attempt, body and stream included (aiohttp checks it on every read, so
        keep-alive bytes do not extend it); `sock_connect` bounds opening a connection, not waiting for one."""
        timeout = self._timeouts.get(timeout_s)
        if timeout is None:
            if len(self._timeouts) >= _TIMEOUT_CACHE_SIZE:  # retries use what is left of a deadline: all distinct
                self._timeouts.clear()
            timeout = self._timeouts[timeout_s] = aiohttp.ClientTimeout(
                total=timeout_s, sock_connect=min(CONNECT_TIMEOUT_S, timeout_s))
        return timeout

    async def send(self, endpoint: Endpoint, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                   params: Mapping[str, str] | None, timeout_s: float) -> Reply:
        session = self.session(endpoint.verify_tls)
        # awaited rather than `async with`: two coroutine layers fewer per call; `read()` takes the body to its
        # end (which hands the connection back to the pool) and `release()` covers a failure while reading
        response = await session.request(method, url, data=body, params=params, headers=headers,
                                         timeout=self._timeout(timeout_s))
        try:
            return Reply(response.status, response.headers, await response.read())
        finally:
            response.release()

    async def open_stream(self, endpoint: Endpoint, url: str, headers: Mapping[str, str], body: bytes,
                          params: Mapping[str, str] | None, timeout_s: float) -> AiohttpStream:
        session = self.session(endpoint.verify_tls)
        response = await session.post(url, data=body, params=params, headers=headers, timeout=self._timeout(timeout_s))
        return AiohttpStream(response)

    def map_error(self, endpoint: Endpoint, exc: BaseException, timeout_s: float) -> LLMError:
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return timeout_error(endpoint, min(CONNECT_TIMEOUT_S, timeout_s), exc)
        if isinstance(exc, asyncio.TimeoutError):  # ServerTimeoutError and the `total` limit
            return timeout_error(endpoint, timeout_s, exc)
        if out_of_descriptors(exc):
            return descriptor_error(endpoint, exc)
        if isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError,
                            OSError)):
            return unreachable_error(endpoint, exc)
        return other_error(endpoint, exc)

    async def aclose(self) -> None:
        """Close the sessions of the running loop."""
        loop = asyncio.get_running_loop()
        if self._last is not None and self._last[0] is loop:
            self._last = None
        for session in self._sessions.pop(loop, {}).values():
            await session.close()

    def _forget_dead_sessions(self, everything: bool = False) -> None:
        """Release sessions of loops that were closed without `aclose()` (each `asyncio.run`, each test), so they
        neither pile up nor warn when collected; at interpreter exit, all of them."""
        for loop in list(self._sessions.keys()):
            if everything or loop.is_closed():
                if self._last is not None and self._last[0] is loop:
                    self._last = None
                for session in self._sessions.pop(loop, {}).values():
                    _forget(session)


def _forget_all(ref: weakref.ReferenceType[AiohttpTransport]) -> None:
    transport = ref()
    if transport is not None:
        transport._forget_dead_sessions(everything=True)


def ssl_context() -> ssl.SSLContext:
    """Verification like httpx's: certifi's bundle (or SSL_CERT_FILE / SSL_CERT_DIR when set), so a Python whose
    system store is empty still verifies the cloud APIs."""
    cafile = settings.raw("SSL_CERT_FILE") or None
    capath = settings.raw("SSL_CERT_DIR") or None
    if cafile is None and capath is None:
        try:
            import certifi

            cafile = certifi.where()
        except ImportError:  # pragma: no cover - certifi comes with httpx
            pass
    return ssl.create_default_context(cafile=cafile, capath=capath)


def _new_session(verify_tls: bool | str, limit: int) -> aiohttp.ClientSession:
    """Proxies from the environment are honoured as httpx does, but only looked up per request when a proxy
    variable is set (the lookup costs on every call)."""
    verify: ssl.SSLContext | bool = False
    if isinstance(verify_tls, str):
        verify = ssl.create_default_context(cafile=verify_tls)  # a CA bundle of its own (e.g. AutoByteus)
    elif verify_tls:
        verify = ssl_context()
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=0, ssl=verify, keepalive_timeout=15.0)
    return aiohttp.ClientSession(connector=connector, trust_env=any(settings.snapshot(_PROXY_VARS)),
                                 timeout=aiohttp.ClientTimeout(total=None), auto_decompress=True,
                                 raise_for_status=False)


def _forget(session: Any) -> None:
    """Drop a session whose loop is closed (or the interpreter is exiting) without aiohttp printing "Unclosed
    client session": with the loop gone there is nothing left to await, and httpx stays silent in the same case."""
    connector = session.connector
    if session.closed or connector is None:
        return
    session.detach()
    close = getattr(connector, "_close", None)  # sync; with the loop closed it only marks the connector closed
    if close is not None:
        with contextlib.suppress(Exception):
            close()
