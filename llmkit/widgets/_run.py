"""Running a streamed call for a widget: timing, throttled progress updates, and where the coroutine runs.

In Jupyter a button callback runs on the kernel's event loop, so the call is scheduled there
(`asyncio.ensure_future`) and the kernel stays responsive while it streams. Without a running loop (a plain
script or a sync test calling `button.click()`), it runs to completion on llmkit's background loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from llmkit._sync import run_sync
from llmkit.messages import CompleteResponse
from llmkit.tokens import count_tokens

if TYPE_CHECKING:
    from llmkit.base import BaseLLM

T = TypeVar("T")

UPDATE_INTERVAL_S = 0.05  # at most ~20 front-end updates a second while streaming


@dataclass(frozen=True, slots=True)
class Progress:
    """What has arrived so far; `output_tokens` is an estimate until the final chunk reports usage."""

    content: str
    reasoning: str
    output_tokens: int
    elapsed_s: float
    ttft_s: float | None


def schedule(coro: Coroutine[Any, Any, T]) -> asyncio.Future[T] | T:
    """Schedule on the running loop (Jupyter) and return the task; with no running loop, run it and return the
    result."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run_sync(coro)
    return asyncio.ensure_future(coro)


async def stream_reply(llm: BaseLLM, prompt: str, on_progress: Callable[[Progress], None]) -> CompleteResponse:
    """Stream one answer, calling `on_progress` as text arrives (throttled) and once at the end; return the
    stream's final response (what the extensions saw: priced, timed, cache flag set) rather than a copy rebuilt
    from the chunks. Errors propagate with `partial_content` set."""
    started = time.perf_counter()
    stream = llm.stream_user_message(prompt)
    tokens, last_push = 0, 0.0
    async for chunk in stream:
        now = time.perf_counter()
        if chunk.content or chunk.reasoning:
            tokens += count_tokens(chunk.content) + count_tokens(chunk.reasoning or "")
        if chunk.is_complete and chunk.usage is not None:
            tokens = chunk.usage.output_tokens
        if chunk.is_complete or now - last_push >= UPDATE_INTERVAL_S:
            last_push = now
            on_progress(Progress(stream.content, stream.reasoning or "", tokens, now - started, stream.ttft_s))
    return await stream.get()


def progress_line(progress: Progress) -> str:
    return f"streaming… {progress.elapsed_s:.1f}s · ~{progress.output_tokens} output tokens"
