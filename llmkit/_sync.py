"""Run llmkit's async code from synchronous callers, including inside Jupyter's running event loop.

All sync calls share one background event loop in a daemon thread, so pooled HTTP connections (which
belong to a loop) are reused across calls instead of being rebuilt per `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="llmkit-sync", daemon=True)
            thread.start()
            _loop = loop
        return _loop


def in_running_loop() -> bool:
    """Is an event loop running in this thread (async code, or a Jupyter cell)?"""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code and return its result."""
    loop = background_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coro.close()
        from llmkit.errors import ConfigurationError

        raise ConfigurationError("a sync llmkit call ran on llmkit's own event loop, where it would wait for itself",
                                 hint="await the async form instead (e.g. await LLMFactory.ainitialize(), "
                                      "await llm.send_user_message(...))")
    return asyncio.run_coroutine_threadsafe(coro, loop).result()


def iterate_sync(agen: AsyncIterator[T]) -> Iterator[T]:
    """Iterate an async iterator from sync code, one item at a time."""
    loop = background_loop()
    iterator = agen.__aiter__()

    async def step() -> tuple[bool, T | None]:
        try:
            return True, await iterator.__anext__()
        except StopAsyncIteration:
            return False, None

    while True:
        ok, item = asyncio.run_coroutine_threadsafe(step(), loop).result()
        if not ok:
            return
        yield item  # type: ignore[misc]
