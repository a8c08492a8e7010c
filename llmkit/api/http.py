"""The shared async HTTP executor: pooling, timeouts, retries, stream decoding and error mapping.

Adapters build requests and parse bodies; everything about moving bytes lives here, written once:
- one pooled `httpx.AsyncClient` per event loop (and TLS setting), reused by every client instance;
- timeouts: connect bounded separately (short), read per `LLMConfig.timeout`, and an overall deadline so a
  server that only sends keep-alives cannot hold a call forever;
- retries (tenacity) with exponential backoff and jitter on 429, 5xx, 529 and connection errors, honouring
  `Retry-After`, `retry-after-ms` and Gemini's `RetryInfo`; never once a stream has yielded an event;
- SSE decoding with httpx-sse, NDJSON / `data:` line decoding for Ollama and AutoByteus;
- mapping of error answers to the `llmkit.errors` tree, with the provider's own message and no secrets.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from llmkit.api import aio  # light: aiohttp itself is imported on the first session
from llmkit.errors import (
    AuthenticationError,
    ContextLengthError,
    LLMError,
    LLMTimeoutError,
    ModelNotFoundError,
    PermissionDeniedError,
    ProviderError,
    ProviderUnavailableError,
    QuotaExceededError,
    RateLimitError,
    StreamError,
)

logger = logging.getLogger("llmkit.http")
T = TypeVar("T")

DEFAULT_TIMEOUT_S = 600.0
CONNECT_TIMEOUT_S = 10.0
DEFAULT_MAX_RETRIES = 2  # 3 tries in all
MAX_RETRY_WAIT_S = 60.0
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})

_CONTEXT_MARKERS = (
    "context_length_exceeded", "prompt is too long", "exceeds the maximum number of tokens", "maximum context length",
    "exceed_context_size_error", "exceeds the available context size", "context window", "input token count",
    "too many tokens", "model_context_window_exceeded",
)
_QUOTA_MARKERS = ("insufficient_quota", "billing_error", "credit_balance", "insufficient balance", "1113",
                  "quota exceeded", "exceeded your current quota")
_AUTH_MARKERS = ("api_key_invalid", "api key not valid", "invalid api key", "invalid x-api-key")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how to reach one backend: base URL, auth headers, and how errors should name it."""

    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    provider: str = "provider"
    api_key_env: str | None = None
    verify_tls: bool | str = True  # True, False, or the path of a CA bundle (PEM) to verify against

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    @property
    def host(self) -> str:
        return httpx.URL(self.base_url).netloc.decode("ascii")

    def __repr__(self) -> str:  # headers carry secrets: never show them
        return f"Endpoint({self.base_url!r}, provider={self.provider!r})"


@dataclass(frozen=True, slots=True)
class CallOptions:
    """Per-call limits, from LLMConfig."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    max_retries: int = DEFAULT_MAX_RETRIES

    @classmethod
    def from_config(cls, config: Any) -> CallOptions:
        timeout = getattr(config, "timeout", None) or DEFAULT_TIMEOUT_S
        retries = getattr(config, "max_retries", None)
        return cls(float(timeout), DEFAULT_MAX_RETRIES if retries is None else int(retries))

    @property
    def httpx_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout_s, connect=min(CONNECT_TIMEOUT_S, self.timeout_s))


ErrorClassifier = Callable[[int, Any, str], "LLMError | None"]
"""Optional per-provider hook: (status, parsed body or None, text) -> a specific error, or None for the default."""


class HTTPExecutor:
    """Process-wide executor; see the module docstring. Use `executor()` to get the shared instance."""

    def __init__(self, transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
                 max_connections: int = 1000, max_keepalive: int = 256, backend: str | None = None) -> None:
        """`backend` moves the bytes of model calls: "aiohttp" (the default when aiohttp is installed and no
        `transport_factory` is given; ~10x httpx's throughput with many calls in flight, see llmkit.api.aio) or
        "httpx"; `LLMKIT_HTTP_BACKEND` overrides the default. `client()` is always httpx."""
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[bool | str, httpx.AsyncClient]] = (
            weakref.WeakKeyDictionary()
        )
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[bool | str, Any]] = (
            weakref.WeakKeyDictionary()
        )
        self._transport_factory = transport_factory
        self._limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive)
        self._max_connections, self._max_keepalive = max_connections, max_keepalive
        self.backend = _choose_backend(backend, transport_factory is not None)
        self._exit_hook = False
        self._last_session: tuple[asyncio.AbstractEventLoop, bool | str, Any] | None = None

    def client(self, verify_tls: bool | str = True) -> httpx.AsyncClient:
        """The pooled client of the running event loop (one per TLS setting; a string is a CA bundle path)."""
        loop = asyncio.get_running_loop()
        per_loop = self._clients.setdefault(loop, {})
        client = per_loop.get(verify_tls)
        if client is None or client.is_closed:
            transport = self._transport_factory() if self._transport_factory else None
            verify: Any = verify_tls
            if isinstance(verify_tls, str):
                import ssl

                verify = ssl.create_default_context(cafile=verify_tls)
            client = httpx.AsyncClient(limits=self._limits, verify=verify, transport=transport,
                                       timeout=httpx.Timeout(DEFAULT_TIMEOUT_S, connect=CONNECT_TIMEOUT_S))
            per_loop[verify_tls] = client
        return client

    def session(self, verify_tls: bool | str = True) -> Any:
        """The pooled aiohttp.ClientSession of the running event loop (model calls when backend is "aiohttp")."""
        loop = asyncio.get_running_loop()
        last = self._last_session  # the common case, without a weak-dictionary lookup per call
        if last is not None and last[0] is loop and last[1] == verify_tls and not last[2].closed:
            return last[2]
        per_loop = self._sessions.get(loop)
        if per_loop is None:
            per_loop = self._sessions[loop] = {}
        session = per_loop.get(verify_tls)
        if session is None or session.closed:
            self._forget_dead_sessions()
            session = per_loop[verify_tls] = aio.new_session(verify_tls, self._max_connections, self._max_keepalive)
        self._last_session = (loop, verify_tls, session)
        return session

    def _forget_dead_sessions(self, everything: bool = False) -> None:
        """Release sessions of loops that were closed without `aclose()` (each `asyncio.run`, each test), so they
        neither pile up nor warn when collected; at interpreter exit, all of them."""
        for loop in list(self._sessions.keys()):
            if everything or loop.is_closed():
                if self._last_session is not None and self._last_session[0] is loop:
                    self._last_session = None
                for session in self._sessions.pop(loop, {}).values():
                    aio.forget(session)
        if not self._exit_hook:
            import atexit

            atexit.register(_forget_all_sessions, weakref.ref(self))
            self._exit_hook = True

    async def aclose(self) -> None:
        """Close the clients of the running loop (tests and clean shutdown)."""
        loop = asyncio.get_running_loop()
        for client in self._clients.pop(loop, {}).values():
            await client.aclose()
        if self._last_session is not None and self._last_session[0] is loop:
            self._last_session = None
        for session in self._sessions.pop(loop, {}).values():
            await session.close()

    # ----- unary ---------------------------------------------------------------------------------------------
    async def request_json(self, endpoint: Endpoint, method: str, path: str, *, json_body: Any = None,
                           options: CallOptions = CallOptions(), classify: ErrorClassifier | None = None,
                           params: Mapping[str, str] | None = None) -> Any:
        """Send a request and return the parsed JSON body, retrying retryable failures."""
        if self.backend == "aiohttp":
            return await with_retries(
                lambda: self._aio_request_json(endpoint, method, path, json_body, options, classify, params), options)

        async def attempt() -> Any:
            response = await self._send(endpoint, method, path, json_body, options, params)
            if response.status_code >= 400:
                raise map_http_error(endpoint, response.status_code, response.headers, response.text, classify)
            return parse_json_body(endpoint, response.content)

        return await with_retries(lambda: _deadline(attempt(), options, endpoint), options)

    async def _aio_request_json(self, endpoint: Endpoint, method: str, path: str, json_body: Any,
                                options: CallOptions, classify: ErrorClassifier | None,
                                params: Mapping[str, str] | None) -> Any:
        session = self.session(endpoint.verify_tls)
        data = None if json_body is None else _dumps(json_body)
        # `total` bounds the whole call (connect, send, read), so no per-read timer is needed on top
        timeout = aio.client_timeout(options.timeout_s, min(CONNECT_TIMEOUT_S, options.timeout_s), None)
        try:
            async with session.request(method, endpoint.url(path), data=data, params=params, timeout=timeout,
                                       headers=aio.headers_for(endpoint, data is not None)) as response:
                content = await response.read()
                status = response.status
                headers = response.headers
        except Exception as exc:  # aiohttp, asyncio and OS failures, all mapped
            raise aio.map_error(endpoint, exc, options.timeout_s) from None
        if status >= 400:
            raise map_http_error(endpoint, status, headers, content.decode("utf-8", "replace"), classify)
        return parse_json_body(endpoint, content)

    async def _send(self, endpoint: Endpoint, method: str, path: str, json_body: Any, options: CallOptions,
                    params: Mapping[str, str] | None) -> httpx.Response:
        client = self.client(endpoint.verify_tls)
        try:
            return await client.request(method, endpoint.url(path), json=json_body, headers=dict(endpoint.headers),
                                        timeout=options.httpx_timeout, params=params)
        except httpx.HTTPError as exc:
            raise map_transport_error(endpoint, exc) from None

    # ----- streams ---------------------------------------------------------------------------------------------
    async def stream(self, endpoint: Endpoint, path: str, *, json_body: Any, decode: str = "sse",
                     options: CallOptions = CallOptions(), classify: ErrorClassifier | None = None,
                     params: Mapping[str, str] | None = None) -> AsyncIterator[tuple[str, str]]:
        """POST and yield decoded events as (event_name, data) pairs: SSE events (`decode="sse"`), NDJSON lines
        (`"ndjson"`, event name ""), or `data: ` lines (`"data-lines"`). Retries only before the first event."""
        deadline = time.monotonic() + options.timeout_s
        yielded = False
        tries = 0
        while True:
            try:
                async for item in self._stream_once(endpoint, path, json_body, decode, options, classify, params):
                    yielded = True
                    if time.monotonic() > deadline:
                        raise LLMTimeoutError(
                            f"{endpoint.provider} stream exceeded its {options.timeout_s:g}s timeout",
                            host=endpoint.host, hint="raise LLMConfig.timeout",
                        )
                    yield item
                return
            except LLMError as exc:
                if yielded or tries >= options.max_retries or not is_retryable(exc):
                    raise
                tries += 1
                await asyncio.sleep(retry_wait(exc, tries))

    async def _stream_once(self, endpoint: Endpoint, path: str, json_body: Any, decode: str, options: CallOptions,
                           classify: ErrorClassifier | None,
                           params: Mapping[str, str] | None) -> AsyncIterator[tuple[str, str]]:
        if self.backend == "aiohttp":
            async for item in self._aio_stream_once(endpoint, path, json_body, decode, options, classify, params):
                yield item
            return
        client = self.client(endpoint.verify_tls)
        request = client.build_request("POST", endpoint.url(path), json=json_body, headers=dict(endpoint.headers),
                                       timeout=options.httpx_timeout, params=params)
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise map_transport_error(endpoint, exc) from None
        try:
            if response.status_code >= 400:
                body = (await response.aread()).decode("utf-8", "replace")
                raise map_http_error(endpoint, response.status_code, response.headers, body, classify)
            if decode == "sse":
                from httpx_sse import EventSource

                async for sse in EventSource(response).aiter_sse():
                    yield sse.event, sse.data
            else:
                async for line in response.aiter_lines():
                    if decode == "ndjson":
                        if line.strip():
                            yield "", line
                    elif line.startswith("data: "):
                        yield "", line[6:]
        except httpx.HTTPError as exc:
            raise map_transport_error(endpoint, exc) from None
        finally:
            await response.aclose()


    async def _aio_stream_once(self, endpoint: Endpoint, path: str, json_body: Any, decode: str,
                               options: CallOptions, classify: ErrorClassifier | None,
                               params: Mapping[str, str] | None) -> AsyncIterator[tuple[str, str]]:
        session = self.session(endpoint.verify_tls)
        timeout = aio.client_timeout(None, min(CONNECT_TIMEOUT_S, options.timeout_s), options.timeout_s)
        try:
            response = await session.post(endpoint.url(path), data=_dumps(json_body), params=params, timeout=timeout,
                                          headers=aio.headers_for(endpoint, True))
        except Exception as exc:
            raise aio.map_error(endpoint, exc, options.timeout_s) from None
        finished = False
        try:
            if response.status >= 400:
                body = (await response.read()).decode("utf-8", "replace")
                raise map_http_error(endpoint, response.status, response.headers, body, classify)
            async for item in aio.decode_stream(response.content.iter_any(), decode):
                yield item
            finished = True
        except LLMError:
            raise
        except Exception as exc:
            raise aio.map_error(endpoint, exc, options.timeout_s) from None
        finally:
            if finished:
                response.release()  # the connection goes back to the pool
            else:
                response.close()  # unread data: the connection cannot be reused


def _forget_all_sessions(ref: weakref.ReferenceType[HTTPExecutor]) -> None:
    executor = ref()
    if executor is not None:
        executor._forget_dead_sessions(everything=True)


def _dumps(body: Any) -> bytes:
    """The body as httpx's `json=` would encode it."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _choose_backend(requested: str | None, has_transport: bool) -> str:
    from llmkit import settings

    choice = (requested or settings.value("LLMKIT_HTTP_BACKEND") or "").strip().lower()
    if choice in ("httpx", "aiohttp"):
        if choice == "aiohttp" and has_transport:
            raise ValueError("transport_factory is an httpx transport; it cannot be combined with backend='aiohttp'")
        return choice
    if choice:
        logger.warning("LLMKIT_HTTP_BACKEND=%r is neither 'httpx' nor 'aiohttp'; choosing automatically", choice)
    if has_transport:
        return "httpx"
    return "aiohttp" if aio.available() else "httpx"


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


# ----- retries ------------------------------------------------------------------------------------------------
def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, (RateLimitError, ProviderUnavailableError)):
        return True
    return isinstance(exc, ProviderError) and not isinstance(exc, StreamError) and exc.status_code in RETRYABLE_STATUS


def retry_wait(exc: BaseException, attempt: int) -> float:
    """Seconds to wait before retry number `attempt` (1-based): the server's word if it gave one, else
    exponential backoff with full jitter."""
    import random

    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        return float(min(max(retry_after, 0.0), MAX_RETRY_WAIT_S))
    return float(random.uniform(0, min(MAX_RETRY_WAIT_S, 0.5 * 2**attempt)))


async def with_retries(call: Callable[[], Awaitable[T]], options: CallOptions) -> T:
    """Run `call`; on a retryable error retry with tenacity's bounded loop. The first try is direct, so a call
    that succeeds pays nothing for the retry machinery."""
    try:
        return await call()
    except LLMError as exc:
        if options.max_retries <= 0 or not is_retryable(exc):
            raise
        first_error = exc
    from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

    def wait(state: RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        return retry_wait(error or first_error, state.attempt_number)

    await asyncio.sleep(retry_wait(first_error, 1))
    retrying = AsyncRetrying(stop=stop_after_attempt(options.max_retries), wait=wait,
                             retry=retry_if_exception(is_retryable), reraise=True)

    async def again() -> T:  # a coroutine function: tenacity would return a plain callable's coroutine unawaited
        return await call()

    result: T = await retrying(again)
    return result


async def _deadline(awaitable: Awaitable[T], options: CallOptions, endpoint: Endpoint) -> T:
    try:
        return await asyncio.wait_for(awaitable, options.timeout_s)
    except asyncio.TimeoutError:
        raise LLMTimeoutError(f"{endpoint.provider} did not answer within {options.timeout_s:g}s",
                              host=endpoint.host, hint="raise LLMConfig.timeout or check the server") from None


# ----- error mapping -------------------------------------------------------------------------------------------
def parse_retry_after(headers: Mapping[str, str], body: Any = None) -> float | None:
    """Seconds from `retry-after-ms`, `retry-after` (seconds or HTTP date), Gemini's RetryInfo.retryDelay, or else
    the reset time of an exhausted limit in OpenAI's `x-ratelimit-*` / Anthropic's `anthropic-ratelimit-*` headers."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            return float(value)
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    details = body.get("error", {}).get("details") if isinstance(body, dict) and isinstance(body.get("error"), dict) \
        else None
    for detail in details or []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and re.fullmatch(r"[\d.]+s", delay):
            return float(delay[:-1])
    return _exhausted_limit_reset(headers)


# Rate-limit headers: (remaining, reset) per limit. OpenAI resets are durations ("6m0s", "20ms"), Anthropic's are
# RFC 3339 timestamps.
_LIMIT_HEADERS = (
    *((f"x-ratelimit-remaining-{kind}", f"x-ratelimit-reset-{kind}") for kind in ("requests", "tokens")),
    *((f"anthropic-ratelimit-{kind}-remaining", f"anthropic-ratelimit-{kind}-reset")
      for kind in ("requests", "tokens", "input-tokens", "output-tokens")),
)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def _exhausted_limit_reset(headers: Mapping[str, str]) -> float | None:
    """When no Retry-After was sent: seconds until every exhausted limit (remaining 0) resets."""
    waits = [
        wait for remaining, reset in _LIMIT_HEADERS
        if headers.get(remaining, "").strip() == "0" and headers.get(reset)
        for wait in [_reset_seconds(headers[reset].strip())] if wait is not None
    ]
    return max(waits) if waits else None


def _reset_seconds(value: str) -> float | None:
    """A reset given as a duration ("1m30s", "250ms", "2") or as an RFC 3339 time, in seconds from now."""
    if re.fullmatch(r"(?:\d+(?:\.\d+)?(?:ms|h|m|s))+", value):
        scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
        return sum(float(number) * scale[unit] for number, unit in _DURATION_PART.findall(value))
    try:
        return float(value)
    except ValueError:
        pass
    from datetime import datetime

    try:
        return max(0.0, datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() - time.time())
    except ValueError:
        return None


def provider_message(body: Any, text: str) -> str:
    """The human message inside an error body, whatever its shape (OpenAI, Anthropic, Gemini, FastAPI, ...)."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message") or error.get("msg")
            if message:
                return str(message)
        if isinstance(error, str) and error:
            return error
        for key in ("message", "detail", "msg"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if value:
                return json.dumps(value)[:500]
    return text.strip()[:500] or "(empty body)"


def _error_codes(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return " ".join(str(error.get(k, "")) for k in ("type", "code", "status", "param")) + " " + json.dumps(
            error.get("details", ""))
    return ""


def map_http_error(endpoint: Endpoint, status: int, headers: Mapping[str, str], text: str,
                   classify: ErrorClassifier | None = None) -> LLMError:
    """Turn an error answer into the most specific llmkit error, carrying the provider's message."""
    try:
        body: Any = json.loads(text) if text else None
    except ValueError:
        body = None
    if classify is not None:
        specific = classify(status, body, text)
        if specific is not None:
            return specific
    message = provider_message(body, text)
    where = f"{endpoint.provider} ({endpoint.host})"
    signals = (_error_codes(body) + " " + message).lower()
    if any(m in signals for m in _QUOTA_MARKERS) or status == 402:
        return QuotaExceededError(f"{where}: out of credit or quota: {message}", status_code=status)
    if status == 401 or any(m in signals for m in _AUTH_MARKERS):
        return AuthenticationError(f"{where} rejected the credentials: {message}", env_var=endpoint.api_key_env,
                                   status_code=status,
                                   hint=f"check {endpoint.api_key_env}" if endpoint.api_key_env else None)
    if status == 403:
        return PermissionDeniedError(f"{where} refused the request: {message}")
    if any(m in signals for m in _CONTEXT_MARKERS) or status == 413:
        return ContextLengthError(f"{where}: the prompt does not fit the model's context window: {message}",
                                  hint="shorten the conversation or choose a model with a larger context window")
    if status in (429, 529):
        return RateLimitError(f"{where} is rate limiting or overloaded ({status}): {message}",
                              retry_after=parse_retry_after(headers, body), status_code=status)
    if status == 404:
        return ModelNotFoundError(f"{where}: not found: {message}", status_code=status, provider_message=message,
                                  hint="check the model id and the base URL")
    return ProviderError(f"{where} answered {status}: {message}", status_code=status, provider_message=message)


def map_transport_error(endpoint: Endpoint, exc: httpx.HTTPError) -> LLMError:
    if isinstance(exc, httpx.TimeoutException):
        return LLMTimeoutError(f"{endpoint.provider} at {endpoint.host} timed out ({type(exc).__name__})",
                               host=endpoint.host, hint="raise LLMConfig.timeout or check the server")
    if isinstance(exc, (httpx.ConnectError, httpx.NetworkError, httpx.RemoteProtocolError)):
        return ProviderUnavailableError(f"Cannot reach {endpoint.provider} at {endpoint.host}: {exc}",
                                        host=endpoint.host, hint="is the server running and the URL right?")
    return ProviderError(f"HTTP error talking to {endpoint.provider} at {endpoint.host}: {exc}")


def parse_json_body(endpoint: Endpoint, content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        snippet = content[:200].decode("utf-8", "replace")
        raise ProviderError(
            f"{endpoint.provider} ({endpoint.host}) sent a body that is not JSON: {snippet!r}"
        ) from None


def parse_stream_json(endpoint: Endpoint, data: str, partial: str = "") -> Any:
    """Parse one stream payload; a malformed one raises StreamError carrying what arrived before it."""
    try:
        return json.loads(data)
    except ValueError:
        raise StreamError(f"{endpoint.provider} ({endpoint.host}) sent a malformed stream chunk: {data[:200]!r}",
                          status_code=200, provider_message=data[:200], partial_content=partial) from None
