"""From what came back to the most specific `llmkit.errors` exception: error answers (status + headers + body),
bodies that are not what was asked for, and the transport failures both transports share the wording of.

Every message names the provider and host and carries the provider's own words; `LLMError` scrubs keys from it.
"""

from __future__ import annotations

import errno
import json
import math
import re
import time
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from llmkit.api.endpoint import Endpoint, ErrorClassifier
from llmkit.api.jsoncodec import loads
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
    ResourceLimitError,
    StreamError,
)

_CONTEXT_MARKERS = (
    "context_length_exceeded", "prompt is too long", "exceeds the maximum number of tokens", "maximum context length",
    "exceed_context_size_error", "exceeds the available context size", "context window", "input token count",
    "too many tokens", "model_context_window_exceeded",
)
_QUOTA_MARKERS = ("insufficient_quota", "billing_error", "credit_balance", "insufficient balance", "1113",
                  "quota exceeded", "exceeded your current quota")
_AUTH_MARKERS = ("api_key_invalid", "api key not valid", "invalid api key", "invalid x-api-key")
_OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE})


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
    if any(m in signals for m in _CONTEXT_MARKERS):
        return ContextLengthError(f"{where}: the prompt does not fit the model's context window: {message}",
                                  hint="shorten the conversation or choose a model with a larger context window")
    if status == 413:  # a byte limit (the server's or a proxy's), not the model's context window
        return ProviderError(f"{where}: the request is too large (413): {message}", status_code=status,
                             provider_message=message,
                             hint="send fewer or smaller images/files, or raise the proxy's request size limit")
    if status in (429, 529):
        return RateLimitError(f"{where} is rate limiting or overloaded ({status}): {message}",
                              retry_after=parse_retry_after(headers, body), status_code=status)
    if status == 404:
        return ModelNotFoundError(f"{where}: not found: {message}", status_code=status, provider_message=message,
                                  hint="check the model id and the base URL")
    return ProviderError(f"{where} answered {status}: {message}", status_code=status, provider_message=message,
                         retry_after=parse_retry_after(headers, body))


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


# ----- Retry-After ---------------------------------------------------------------------------------------------
def parse_retry_after(headers: Mapping[str, str], body: Any = None) -> float | None:
    """Seconds from `retry-after-ms`, `retry-after` (seconds or HTTP date), Gemini's RetryInfo.retryDelay, or else
    the reset time of an exhausted limit in OpenAI's `x-ratelimit-*` / Anthropic's `anthropic-ratelimit-*` headers.
    Only a finite, non-negative number counts: `nan`, `inf` or `-5` are ignored (backoff decides instead)."""
    value = headers.get("retry-after-ms")
    if value:
        seconds = _seconds(value)
        if seconds is not None:
            return seconds / 1000
    value = headers.get("retry-after")
    if value:
        seconds = _seconds(value)
        if seconds is not None:
            return seconds
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    details = body.get("error", {}).get("details") if isinstance(body, dict) and isinstance(body.get("error"), dict) \
        else None
    for detail in details if isinstance(details, list) else []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and re.fullmatch(r"\d+(?:\.\d+)?s", delay):
            return float(delay[:-1])
    return _exhausted_limit_reset(headers)


def _seconds(value: str) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


# Rate-limit headers: (remaining, reset) per limit. OpenAI resets are durations ("6m0s", "20ms"), Anthropic's are
# RFC 3339 timestamps.
_LIMIT_HEADERS = (
    *((f"x-ratelimit-remaining-{kind}", f"x-ratelimit-reset-{kind}") for kind in ("requests", "tokens")),
    *((f"anthropic-ratelimit-{kind}-remaining", f"anthropic-ratelimit-{kind}-reset")
      for kind in ("requests", "tokens", "input-tokens", "output-tokens")),
)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|h|m|s))+")
_DURATION_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


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
    if _DURATION.fullmatch(value):
        return sum(float(number) * _DURATION_SCALE[unit] for number, unit in _DURATION_PART.findall(value))
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    try:
        return max(0.0, datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() - time.time())
    except ValueError:
        return None


# ----- bodies that are not what was asked for ------------------------------------------------------------------
def parse_json_body(endpoint: Endpoint, content: bytes) -> Any:
    try:
        return loads(content)
    except ValueError:
        snippet = content[:200].decode("utf-8", "replace")
        raise ProviderError(
            f"{endpoint.provider} ({endpoint.host}) sent a body that is not JSON: {snippet!r}"
        ) from None


def parse_stream_json(endpoint: Endpoint, data: str, partial: str | list[str] = "") -> Any:
    """Parse one stream payload; a malformed one raises StreamError carrying what arrived before it. `partial` may
    be the list of text parts so far: it is joined only on that error, not once per chunk (quadratic otherwise)."""
    try:
        return loads(data)
    except ValueError:
        raise StreamError(f"{endpoint.provider} ({endpoint.host}) sent a malformed stream chunk: {data[:200]!r}",
                          status_code=200, provider_message=data[:200], partial_content="".join(partial)) from None


def not_a_stream_error(endpoint: Endpoint, status: int, content_type: str, head: bytes) -> ProviderError:
    """A streaming call answered by a web page (a captive portal, a proxy's login page, the wrong base URL)."""
    snippet = head[:200].decode("utf-8", "replace")
    return ProviderError(
        f"{endpoint.provider} ({endpoint.host}) answered with {content_type} instead of an event stream: {snippet!r}",
        status_code=status, provider_message=snippet,
        hint="check the base URL: a web server or proxy answered, not the model API")


# ----- transport failures (each transport classifies its own exceptions, the words are shared) -----------------
def timeout_error(endpoint: Endpoint, timeout_s: float, cause: BaseException | None = None) -> LLMTimeoutError:
    how = f" ({type(cause).__name__})" if cause is not None else ""
    return LLMTimeoutError(f"{endpoint.provider} at {endpoint.host} did not finish within {timeout_s:g}s{how}",
                           host=endpoint.host, hint="raise LLMConfig.timeout or check the server")


def unreachable_error(endpoint: Endpoint, exc: BaseException) -> ProviderUnavailableError:
    return ProviderUnavailableError(f"Cannot reach {endpoint.provider} at {endpoint.host}: {type(exc).__name__}: "
                                    f"{exc}", host=endpoint.host, hint="is the server running and the URL right?")


def out_of_descriptors(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) is EMFILE/ENFILE: the process, not the server, is the problem."""
    seen: BaseException | None = exc
    for _ in range(4):  # transports wrap the OSError once or twice
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno in _OUT_OF_DESCRIPTORS:
            return True
        seen = getattr(seen, "os_error", None) or seen.__cause__ or seen.__context__
    return False


def descriptor_error(endpoint: Endpoint, exc: BaseException) -> ResourceLimitError:
    return ResourceLimitError(
        f"Cannot open a connection to {endpoint.provider} at {endpoint.host}: this process is out of file "
        f"descriptors ({type(exc).__name__}: {exc})",
        hint="raise the limit (`ulimit -n`) or lower the number of calls in flight (concurrency)")


def other_error(endpoint: Endpoint, exc: BaseException) -> ProviderError:
    return ProviderError(f"HTTP error talking to {endpoint.provider} at {endpoint.host}: {type(exc).__name__}: {exc}")
