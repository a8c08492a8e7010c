"""The transport contract: the only thing the executor needs from an HTTP library.

A transport sends one request and gives back status, headers and body (`send`), or status, headers and the body
as an async stream of byte chunks (`open_stream`). It bounds the whole attempt by `timeout_s` (connect, waiting for
a pooled connection, sending, and every byte of the answer — keep-alives do not extend it) and turns its library's
exceptions into llmkit's (`map_error`): timeouts -> LLMTimeoutError, refused / DNS / reset -> ProviderUnavailableError
naming the host, out of file descriptors -> ResourceLimitError. Policy (deadline across retries, retries, status
mapping, framing) lives above it, in `llmkit.api.executor`, written once.

Implementations: `llmkit.api.transport_aiohttp` (the default) and `llmkit.api.transport_httpx`.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Mapping
from typing import Protocol

import msgspec

from llmkit.api.endpoint import Endpoint
from llmkit.errors import LLMError

if sys.platform != "win32":
    import resource

FD_HEADROOM_MIN = 32  # descriptors kept free for files, the event loop, logging, the cache...


class Reply(msgspec.Struct, frozen=True):
    """A complete answer (a Struct: built in C, once per call)."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class ByteStream(Protocol):
    """An answer whose body is still arriving. `chunks` yields it as the network delivers it; `aclose(reuse)` ends
    it (reuse=True only after the body was read to its end, so the connection can go back to the pool)."""

    status: int
    headers: Mapping[str, str]

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def read(self, limit: int) -> bytes: ...

    async def aclose(self, reuse: bool) -> None: ...


class Transport(Protocol):
    """See the module docstring. `headers` already carry auth and content type; `body` is the encoded JSON."""

    name: str

    async def send(self, endpoint: Endpoint, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                   params: Mapping[str, str] | None, timeout_s: float) -> Reply: ...

    async def open_stream(self, endpoint: Endpoint, url: str, headers: Mapping[str, str], body: bytes,
                          params: Mapping[str, str] | None, timeout_s: float) -> ByteStream: ...

    def map_error(self, endpoint: Endpoint, exc: BaseException, timeout_s: float) -> LLMError: ...

    async def aclose(self) -> None: ...


def connection_limit(requested: int) -> int:
    """Connections the pool may open: `requested`, but never more than the process's descriptor limit allows, so
    500 calls in flight under `ulimit -n 256` queue for a connection instead of failing with EMFILE. A quarter of
    the limit (at least FD_HEADROOM_MIN) stays free for everything else the process opens."""
    if sys.platform == "win32":  # sockets there are not bounded by a descriptor limit
        return requested
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return requested
    return max(1, min(requested, soft - max(FD_HEADROOM_MIN, soft // 4)))
