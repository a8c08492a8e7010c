"""ResponseStream: what `stream_user_message` returns — the chunks as they arrive, then the final response.

Iterate it (`async for chunk in stream`) for chunks; the last one has `is_complete=True` and the priced usage.
Once it has arrived, `stream.response` is the final `CompleteResponse` (priced, timed, after every extension
ran; the very object the extensions and the conversation history got), so nobody rebuilds it from chunks:
`response = await llm.stream_user_message("hi").get()` streams and returns it in one line.
`SyncResponseStream` is the same for `stream_user_message_sync`.

A stream is consumed once. Breaking out of the loop early leaves `.response` None (the call did not finish);
`aclose()` releases the connection at once instead of when the stream is garbage-collected.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable, Iterator

from llmkit._sync import iterate_sync
from llmkit.errors import StreamError
from llmkit.messages import ChunkResponse, CompleteResponse, TokenUsage


class ResponseStream:
    """The chunks of one streamed call and, once finished, its `CompleteResponse`; see the module docstring."""

    __slots__ = ("_chunks", "_received", "_response", "cached", "ttft_s")

    def __init__(self, produce: Callable[[ResponseStream], AsyncGenerator[ChunkResponse, None]]) -> None:
        self._received: list[ChunkResponse] = []  # the chunks that carried text, in order
        self._response: CompleteResponse | None = None
        self.ttft_s: float | None = None
        """Seconds from the call to the first text (content or reasoning); None until it arrives."""
        self.cached = False
        """True when the response cache answered (known as soon as the stream has started)."""
        self._chunks = produce(self)

    # ----- consuming -------------------------------------------------------------------------------------------
    def __aiter__(self) -> AsyncGenerator[ChunkResponse, None]:
        return self._chunks  # the producer itself: no extra coroutine layer per chunk

    async def __anext__(self) -> ChunkResponse:
        return await self._chunks.__anext__()

    async def get(self) -> CompleteResponse:
        """Consume what is left of the stream and return the final response (raises what the stream raises)."""
        async for _ in self._chunks:
            pass
        return self._final()

    async def aclose(self) -> None:
        await self._chunks.aclose()

    # ----- what is known ---------------------------------------------------------------------------------------
    @property
    def response(self) -> CompleteResponse | None:
        """The final response, or None until the last chunk has arrived (or if the stream failed)."""
        return self._response

    @property
    def done(self) -> bool:
        return self._response is not None

    @property
    def usage(self) -> TokenUsage | None:
        """The final (priced) usage; None until the stream has finished."""
        return self._response.usage if self._response is not None else None

    @property
    def content(self) -> str:
        """The answer text received so far."""
        return "".join(c.content for c in self._received)

    @property
    def reasoning(self) -> str | None:
        """The reasoning text received so far (None if there is none)."""
        return "".join(c.reasoning or "" for c in self._received) or None

    def __repr__(self) -> str:
        state = "done" if self._response is not None else f"{len(self._received)} chunks so far"
        return f"ResponseStream({state}{', cached' if self.cached else ''})"

    # ----- for the producer (BaseLLM) --------------------------------------------------------------------------
    def _received_text(self, chunk: ChunkResponse, started: float) -> None:
        """Keep a chunk that carried text; the first one sets the time to first token (`started`: perf_counter)."""
        if self.ttft_s is None:
            self.ttft_s = time.perf_counter() - started
        self._received.append(chunk)

    def _assemble(self, final: ChunkResponse, usage: TokenUsage, latency_s: float, model: str,
                  hit: CompleteResponse | None) -> CompleteResponse:
        """The response a unary call would have returned, from the chunks received and the final chunk."""
        return CompleteResponse(
            self.content, self.reasoning, usage, final.finish_reason, latency_s, self.ttft_s, hit is not None,
            hit.original_latency_s if hit is not None else None, model, None,
            dict(hit.metadata) if hit is not None else {}, final.finish_reason_raw, final.served_model,
        )

    def _finish(self, response: CompleteResponse) -> None:
        self._response = response

    def _final(self) -> CompleteResponse:
        if self._response is None:
            raise StreamError("The stream has no final response: it failed or was closed before it finished",
                              partial_content=self.content)
        return self._response


class SyncResponseStream:
    """`ResponseStream` for synchronous code: iterate it for chunks; `.response` / `.get()` as in the async one."""

    __slots__ = ("_chunks", "_stream")

    def __init__(self, stream: ResponseStream) -> None:
        self._stream = stream
        self._chunks = iterate_sync(stream)

    def __iter__(self) -> Iterator[ChunkResponse]:
        return self._chunks

    def __next__(self) -> ChunkResponse:
        return next(self._chunks)

    def get(self) -> CompleteResponse:
        for _ in self._chunks:
            pass
        return self._stream._final()

    @property
    def response(self) -> CompleteResponse | None:
        return self._stream.response

    @property
    def done(self) -> bool:
        return self._stream.done

    @property
    def usage(self) -> TokenUsage | None:
        return self._stream.usage

    @property
    def ttft_s(self) -> float | None:
        return self._stream.ttft_s

    @property
    def cached(self) -> bool:
        return self._stream.cached

    @property
    def content(self) -> str:
        return self._stream.content

    @property
    def reasoning(self) -> str | None:
        return self._stream.reasoning

    def __repr__(self) -> str:
        return f"Sync{self._stream!r}"
