"""Retries, held once for unary calls and streams: which errors are retried, how long to wait, and the loop
(tenacity) that keeps every try and every wait inside the call's deadline.

The first try runs outside this module, so a call that succeeds pays nothing for the retry machinery; a stream
counts as one try until its first event, and is never retried after it has yielded one.
A wait that would end past the deadline is not slept: the last error is raised at once, saying so.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from llmkit.api.endpoint import CallOptions
from llmkit.errors import LLMError, ProviderError, ProviderUnavailableError, RateLimitError, StreamError

T = TypeVar("T")
MAX_RETRY_WAIT_S = 60.0
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, (RateLimitError, ProviderUnavailableError)):
        return True
    return isinstance(exc, ProviderError) and not isinstance(exc, StreamError) and exc.status_code in RETRYABLE_STATUS


def retry_wait(exc: BaseException, attempt: int) -> float:
    """Seconds to wait before retry number `attempt` (1-based): the server's word if it gave one (at most
    MAX_RETRY_WAIT_S), else exponential backoff with full jitter."""
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        return float(min(max(retry_after, 0.0), MAX_RETRY_WAIT_S))
    return random.uniform(0, min(MAX_RETRY_WAIT_S, 0.5 * 2**attempt))


def attempt_time(options: CallOptions, deadline: float) -> float:
    """How long the next try may take: what is left of the deadline, at most `attempt_timeout_s`."""
    left = deadline - time.monotonic()
    return left if options.attempt_timeout_s is None else min(left, options.attempt_timeout_s)


def limit_of(options: CallOptions, attempt_s: float) -> float:
    """The limit a try that ran out of `attempt_s` seconds hit, as the user set it (for error messages)."""
    if options.attempt_timeout_s is not None and attempt_s >= options.attempt_timeout_s:
        return options.attempt_timeout_s
    return options.timeout_s


async def retry_after_failure(first_error: LLMError, attempt: Callable[[float], Awaitable[T]],
                              options: CallOptions, started: float) -> T:
    """Called with the first try's error: raise it if it is final, else retry `attempt(seconds_allowed)` until it
    succeeds, a final error, `options.max_retries` retries, or the deadline (`started + options.timeout_s`)."""
    if options.max_retries <= 0 or not is_retryable(first_error):
        raise first_error
    deadline = started + options.timeout_s
    wait = retry_wait(first_error, 1)
    if time.monotonic() + wait >= deadline:
        _give_up(first_error, 1, wait, options)
    await asyncio.sleep(wait)

    def next_wait(state: RetryCallState) -> float:  # tenacity's attempt n is the call's try n + 1
        return retry_wait(_error_of(state), state.attempt_number + 1)

    def stop(state: RetryCallState) -> bool:
        return state.attempt_number >= options.max_retries or time.monotonic() + state.upcoming_sleep >= deadline

    def final(state: RetryCallState) -> NoReturn:
        error = _error_of(state)
        if state.attempt_number < options.max_retries:  # stopped by the deadline, not by the count
            _give_up(error, state.attempt_number + 1, state.upcoming_sleep, options)
        raise error

    retrying = AsyncRetrying(stop=stop, wait=next_wait, retry=retry_if_exception(is_retryable),
                             retry_error_callback=final, sleep=asyncio.sleep)
    async for state in retrying:
        with state:
            return await attempt(attempt_time(options, deadline))
    raise first_error  # unreachable: tenacity either returns, raises the error, or calls `final`


def _error_of(state: RetryCallState) -> LLMError:
    error = state.outcome.exception() if state.outcome is not None else None
    assert isinstance(error, LLMError)  # only LLMErrors are retried; anything else propagates at once
    return error


def _give_up(error: LLMError, tries: int, wait: float, options: CallOptions) -> NoReturn:
    """Raise `error` with the reason it is final: the next try would start past the deadline."""
    tried = "1 try" if tries == 1 else f"{tries} tries"
    error.message = (f"{error.message} (gave up after {tried}: the next would start {wait:.3g}s from now, past the "
                     f"call's {options.timeout_s:g}s deadline, LLMConfig.timeout)")
    error.args = (error.message if not error.hint else f"{error.message} — {error.hint}",)
    raise error
