"""The aiohttp path of the shared executor: model calls (unary and streams) when aiohttp is installed.

Why a second HTTP stack: on a loopback server, httpx's AsyncClient sustains roughly a tenth of aiohttp's request
rate with many requests in flight (its pool and per-request model objects cost ~1 ms of CPU per call; see
benchmarks/README.md), and an eval sweep is exactly that workload. `llmkit.api.http.HTTPExecutor` keeps httpx for
everything else (discovery, `executor().client()`) and as the fallback; this module only moves bytes for model calls
and turns aiohttp's failures into the same `llmkit.errors` httpx's would have become.

It also holds the stream framing shared by both stacks' byte streams: SSE lines split on CR, LF or CRLF only (not
`str.splitlines`, which also splits on U+2028 inside JSON) and events assembled as httpx-sse does (`event` defaults
to "message"; comments skipped; data lines joined with LF).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from llmkit import settings
from llmkit.errors import LLMError, LLMTimeoutError, ProviderError, ProviderUnavailableError

if TYPE_CHECKING:
    import aiohttp

    from llmkit.api.http import Endpoint

_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def available() -> bool:
    """Whether aiohttp is installed, without importing it (start-up must not pay for it)."""
    import importlib.util

    return importlib.util.find_spec("aiohttp") is not None


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


def new_session(verify_tls: bool | str, max_connections: int, max_keepalive: int) -> aiohttp.ClientSession:
    """A pooled session for the running loop (`verify_tls`: True, False or a CA bundle path; `max_keepalive` is
    httpx's notion: aiohttp keeps every idle connection, up to `max_connections`, for `keepalive_timeout`).
    Proxies from the environment are honoured as httpx does, but only looked up per request when a proxy
    variable is set (the lookup costs on every call)."""
    del max_keepalive
    import aiohttp

    verify: ssl.SSLContext | bool = False
    if isinstance(verify_tls, str):
        verify = ssl.create_default_context(cafile=verify_tls)  # a CA bundle of its own (e.g. AutoByteus)
    elif verify_tls:
        verify = ssl_context()
    connector = aiohttp.TCPConnector(limit=max_connections, limit_per_host=0, ssl=verify, keepalive_timeout=15.0)
    return aiohttp.ClientSession(connector=connector, trust_env=any(settings.snapshot(_PROXY_VARS)),
                                 timeout=aiohttp.ClientTimeout(total=None), auto_decompress=True,
                                 raise_for_status=False)


def forget(session: aiohttp.ClientSession) -> None:
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


_timeouts: dict[tuple[float | None, float, float | None], Any] = {}


def client_timeout(total: float | None, connect: float, read: float | None) -> aiohttp.ClientTimeout:
    """ClientTimeout objects are immutable; keep one per distinct setting instead of one per call."""
    key = (total, connect, read)
    timeout = _timeouts.get(key)
    if timeout is None:
        import aiohttp

        timeout = _timeouts[key] = aiohttp.ClientTimeout(total=total, connect=connect, sock_read=read)
    return timeout


def map_error(endpoint: Endpoint, exc: BaseException, timeout_s: float) -> LLMError:
    """aiohttp / asyncio failures -> the llmkit error httpx's equivalent maps to (see http.map_transport_error)."""
    import aiohttp

    where = f"{endpoint.provider} at {endpoint.host}"
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return LLMTimeoutError(f"{where} timed out ({type(exc).__name__}) after at most {timeout_s:g}s",
                               host=endpoint.host, hint="raise LLMConfig.timeout or check the server")
    if isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError,
                        OSError)):
        return ProviderUnavailableError(f"Cannot reach {where}: {type(exc).__name__}: {exc}", host=endpoint.host,
                                        hint="is the server running and the URL right?")
    return ProviderError(f"HTTP error talking to {where}: {type(exc).__name__}: {exc}")


# ----- framing -------------------------------------------------------------------------------------------------
# httpx-sse's own incremental decoders (lines split on CR, LF or CRLF only; events assembled per the SSE spec),
# fed with aiohttp's bytes, so both HTTP stacks decode streams with the same well-kept code. They live in a private
# module of httpx-sse, whose version range pyproject.toml pins.
async def decode_stream(chunks: AsyncIterator[bytes], decode: str) -> AsyncIterator[tuple[str, str]]:
    """Raw body chunks -> the executor's (event, data) items for `decode` = "sse", "ndjson" or "data-lines"."""
    from httpx_sse._decoders import SSEDecoder, SSELineDecoder

    text = codecs.getincrementaldecoder("utf-8")("replace")
    lines = SSELineDecoder()
    sse = SSEDecoder() if decode == "sse" else None
    async for data in chunks:
        for line in lines.decode(text.decode(data)):
            item = _item(line, decode, sse)
            if item is not None:
                yield item
    for line in [*lines.decode(text.decode(b"", final=True)), *lines.flush()]:
        item = _item(line, decode, sse)
        if item is not None:
            yield item


def _item(line: str, decode: str, sse: Any) -> tuple[str, str] | None:
    if sse is not None:
        event = sse.decode(line)
        return None if event is None else (event.event, event.data)
    if decode == "ndjson":
        return ("", line) if line.strip() else None
    return ("", line[6:]) if line.startswith("data: ") else None


def headers_for(endpoint: Endpoint, has_body: bool) -> Mapping[str, str]:
    headers = dict(endpoint.headers)
    if has_body:
        headers.setdefault("content-type", "application/json")
    return headers
