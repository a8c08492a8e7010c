"""The stream result: `stream_user_message` yields chunks and then holds the final CompleteResponse, which the
runner, the widgets and the response cache read instead of rebuilding it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit.base import BaseLLM
from llmkit.cache.keys import cache_key
from llmkit.errors import StreamError
from llmkit.evals.store import iter_rows
from llmkit.extensions.cache import ResponseCacheExtension
from llmkit.factory import LLMFactory
from llmkit.messages import ChunkResponse, CompleteResponse, LLMRequest
from llmkit.streaming import ResponseStream
from llmkit.tokens import count_tokens
from llmkit.widgets import Playground


class Recorder:
    """A user extension that keeps every (request, response) its after_invoke gets."""

    def __init__(self) -> None:
        self.seen: list[tuple[LLMRequest, CompleteResponse]] = []

    async def after_invoke(self, llm: BaseLLM, request: LLMRequest, response: CompleteResponse) -> None:
        self.seen.append((request, response))


class RecordingCache(ResponseCacheExtension):
    """The response cache, also remembering the responses it was handed (a subclass is still the cache option)."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.handed: list[tuple[LLMRequest, CompleteResponse]] = []

    async def after_invoke(self, llm: BaseLLM, request: LLMRequest, response: CompleteResponse) -> None:
        self.handed.append((request, response))
        await super().after_invoke(llm, request, response)


async def test_the_stream_yields_chunks_then_holds_the_final_response() -> None:
    llm = LLMFactory.create_llm("reasoner-effort:mock")
    stream = llm.stream_user_message("What is 6 * 7?")
    assert isinstance(stream, ResponseStream)
    assert stream.response is None and stream.usage is None and not stream.done
    chunks = [chunk async for chunk in stream]
    response = stream.response
    assert response is not None and stream.done
    assert response.content == "".join(c.content for c in chunks) == "The answer is 42."
    assert response.reasoning == "".join(c.reasoning or "" for c in chunks) and response.reasoning
    assert chunks[-1].is_complete and chunks[-1].usage == response.usage == stream.usage
    assert response.usage.total_cost > 0 and not response.usage.estimated
    assert response.finish_reason == "stop" and response.model == "reasoner-effort:mock"
    assert stream.ttft_s is not None and response.ttft_s == stream.ttft_s
    assert response.latency_s is not None and 0 < stream.ttft_s <= response.latency_s
    assert not stream.cached and not response.cached
    assert await stream.get() is response  # already finished: the same object, nothing re-run
    assert llm.messages[-1].content == response.content


async def test_get_streams_and_returns_the_final_response() -> None:
    llm = LLMFactory.create_llm("oracle:mock", {"max_tokens": 3})
    response = await llm.stream_user_message("What is the capital of France?").get()
    assert response.finish_reason == "length" and response.finish_reason_raw == "length"
    assert response.usage.output_tokens <= 3 and response.ttft_s is not None


def test_the_sync_stream_iterates_and_exposes_the_response() -> None:
    llm = LLMFactory.create_llm("oracle:mock")
    stream = llm.stream_user_message_sync("What is 2 + 3?")
    assert stream.response is None
    chunks = list(stream)
    assert stream.response is not None and stream.response.content == "The answer is 5."
    assert "".join(c.content for c in chunks) == stream.content == "The answer is 5."
    assert stream.get() is stream.response and stream.usage == chunks[-1].usage


async def test_the_stream_is_an_async_iterator_that_can_be_closed_early() -> None:
    llm = LLMFactory.create_llm("echo:mock")
    stream = llm.stream_user_message("one two three four five six seven eight nine ten")
    assert isinstance(stream, AsyncIterator)
    first = await stream.__anext__()
    assert first.content and not first.is_complete
    await stream.aclose()
    assert stream.response is None and stream.content == first.content
    assert llm.messages == []  # an unfinished call does not join the history


async def test_a_failed_stream_has_no_response_and_get_says_why() -> None:
    stream = LLMFactory.create_llm("flaky:mock").stream_user_message("What is 1 + 1? [fail:midstream]")
    received: list[str] = []
    with pytest.raises(StreamError) as caught:
        async for chunk in stream:
            received.append(chunk.content)
    assert stream.response is None and caught.value.partial_content == "".join(received) == stream.content
    with pytest.raises(StreamError, match="no final response"):
        await stream.get()


async def test_extensions_and_the_stream_share_one_final_response(tmp_path: Path) -> None:
    llm = LLMFactory.create_llm("oracle:mock")
    cache = llm.register_extension(RecordingCache(tmp_path / "cache"))
    recorder = llm.register_extension(Recorder())
    stream = llm.stream_user_message("What is 6 * 7?")
    response = await stream.get()
    request, seen = recorder.seen[-1]
    assert seen is response  # the object the extensions got is the stream's own
    assert cache.handed[-1][1] is response
    stored = cache.cache.get(cache_key(request))
    assert stored is not None  # what the cache wrote is that response, field for field
    assert (stored.content, stored.reasoning, stored.usage, stored.finish_reason, stored.finish_reason_raw,
            stored.latency_s, stored.ttft_s, stored.model) == (
        response.content, response.reasoning, response.usage, response.finish_reason, response.finish_reason_raw,
        response.latency_s, response.ttft_s, response.model)

    fresh = LLMFactory.create_llm("oracle:mock")  # the same first turn again: answered from the cache
    fresh.register_extension(cache)
    hit = fresh.stream_user_message("What is 6 * 7?")
    hit_response = await hit.get()
    assert hit.cached and hit_response.cached and hit_response.content == response.content
    assert hit_response.original_latency_s == response.latency_s


async def test_the_playground_shows_the_streams_final_response() -> None:
    pg = Playground(model="oracle:mock")
    await pg.send_prompt("What is 6 * 7?")
    assert pg.llm is not None
    recorder = pg.llm.register_extension(Recorder())
    response = await pg.send_prompt("What is 2 + 2?")
    assert response is not None and response is pg.last_response
    assert response is recorder.seen[-1][1]  # not a copy rebuilt from the chunks
    assert response.content == "The answer is 4." and response.ttft_s is not None


def test_eval_rows_are_the_streams_final_responses(tmp_path: Path) -> None:
    cache = RecordingCache(tmp_path / "cache")
    result = ev.run(write_spec(tmp_path, models=["oracle:mock"], repeats=1, configs=[{"label": "default"}]),
                    cache=cache, progress=False)
    assert result.status == "completed"
    by_prompt: dict[str, CompleteResponse] = {}
    for request, response in cache.handed:
        last = request.last_user_message
        assert last is not None
        by_prompt[last.content] = response
    rows = list(iter_rows(result.run_dir))
    assert len(rows) == len(by_prompt) == 5
    for row in rows:
        response = by_prompt[row["prompt"]]
        usage: Any = response.usage
        assert (row["output"], row["finish_reason"], row["finish_reason_raw"], row["latency_s"], row["ttft_s"]) == (
            response.content, response.finish_reason, response.finish_reason_raw, response.latency_s,
            response.ttft_s)
        assert (row["input_tokens"], row["output_tokens"], row["cost_usd"]) == (
            usage.input_tokens, usage.output_tokens, format(usage.total_cost, "f"))
        assert json.dumps(row)  # a plain JSON row


class _FinalChunkCarriesText(BaseLLM):
    """A backend whose last chunk also carries text (allowed by the chunk contract) and no usage."""

    async def _send_user_message_to_llm(self, request: LLMRequest) -> CompleteResponse:
        raise NotImplementedError

    async def _stream_user_message_to_llm(self, request: LLMRequest) -> AsyncIterator[ChunkResponse]:
        yield ChunkResponse(content="Hello")
        yield ChunkResponse(content=" world", is_complete=True, finish_reason="stop")


async def test_text_on_the_final_chunk_is_kept_and_missing_usage_is_counted() -> None:
    llm = _FinalChunkCarriesText(LLMFactory.get_model("echo:mock"))
    response = await llm.stream_user_message("hi").get()
    assert response.content == "Hello world" and llm.messages[-1].content == "Hello world"
    assert response.usage.estimated and response.usage.output_tokens == count_tokens("Hello world")
