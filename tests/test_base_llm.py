"""BaseLLM on the MOCK runtime: unary == streaming, history, hooks and extensions, lifecycle."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from llmkit import (
    BaseLLM,
    CompleteResponse,
    ConfigurationError,
    LLMFactory,
    RateLimitError,
    Role,
    StreamError,
)
from llmkit.errors import LLMTimeoutError, ProviderError
from llmkit.messages import LLMRequest


async def collect(llm: BaseLLM, prompt: str) -> tuple[str, str, Any, list[Any]]:
    chunks = [c async for c in llm.stream_user_message(prompt)]
    content = "".join(c.content for c in chunks)
    reasoning = "".join(c.reasoning or "" for c in chunks)
    return content, reasoning, chunks[-1].usage, chunks


@pytest.mark.parametrize("model_id", ["echo:mock", "oracle:mock", "reasoner-effort:mock", "reasoner-budget:mock"])
async def test_unary_and_streaming_give_the_same_text_and_usage(model_id: str) -> None:
    config = {"extra_params": {"budget_tokens": 1500}} if "budget" in model_id else None
    unary = await LLMFactory.create_llm(model_id, config).send_user_message("What is 12 * 12?")
    content, reasoning, usage, chunks = await collect(LLMFactory.create_llm(model_id, config), "What is 12 * 12?")
    assert len(chunks) > 2 and chunks[-1].is_complete and not any(c.is_complete for c in chunks[:-1])
    assert content == unary.content
    assert (reasoning or None) == unary.reasoning
    assert usage == unary.usage
    assert usage.total_cost > 0 and usage.input_tokens > 0 and usage.output_tokens > 0


async def test_reasoning_tokens_are_part_of_output_and_scale_with_effort() -> None:
    low = await LLMFactory.create_llm("reasoner-effort:mock", {"extra_params": {"reasoning_effort": "low"}}) \
        .send_user_message("What is 2 + 2?")
    high = await LLMFactory.create_llm("reasoner-effort:mock", {"extra_params": {"reasoning_effort": "high"}}) \
        .send_user_message("What is 2 + 2?")
    assert low.content == high.content == "The answer is 4."
    assert 0 < low.usage.reasoning_tokens < high.usage.reasoning_tokens
    assert high.usage.output_tokens > high.usage.reasoning_tokens
    off = await LLMFactory.create_llm("reasoner-effort:mock", {"extra_params": {"reasoning_effort": "none"}}) \
        .send_user_message("What is 2 + 2?")
    assert off.reasoning is None and off.usage.reasoning_tokens == 0


async def test_history_grows_over_three_turns_with_system_prompt() -> None:
    llm = LLMFactory.create_llm("echo:mock", {"system_message": "Be terse."})
    for turn in ("one", "two", "three"):
        await llm.send_user_message(turn)
    roles = [m.role for m in llm.messages]
    assert roles == [Role.SYSTEM] + [Role.USER, Role.ASSISTANT] * 3
    assert [m.content for m in llm.messages][1::2] == ["one", "two", "three"]
    assert llm.messages[-1].content == "Echo: three"
    first = await LLMFactory.create_llm("echo:mock", {"system_message": "Be terse."}).send_user_message("one")
    third = llm.usage.records[-1].usage
    assert third.input_tokens > first.usage.input_tokens  # the whole history is sent
    llm.messages.clear()  # a copy: the conversation is unchanged
    assert len(llm.messages) == 7


async def test_max_tokens_truncates_with_finish_reason_length() -> None:
    llm = LLMFactory.create_llm("echo:mock", {"max_tokens": 3})
    response = await llm.send_user_message("a long sentence that will not fit in three tokens")
    assert response.finish_reason == "length" and response.usage.output_tokens <= 3


class Recorder:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    async def before_invoke(self, llm: BaseLLM, request: LLMRequest) -> None:
        self.log.append(f"before:{self.name}")

    async def after_invoke(self, llm: BaseLLM, request: LLMRequest, response: CompleteResponse) -> None:
        self.log.append(f"after:{self.name}")


class Answering:
    async def before_invoke(self, llm: BaseLLM, request: LLMRequest) -> CompleteResponse:
        return CompleteResponse("from extension", cached=True)


@pytest.mark.parametrize("stream", [False, True])
async def test_hooks_and_extensions_run_in_registration_order(stream: bool) -> None:
    log: list[str] = []
    llm = LLMFactory.create_llm("echo:mock")
    llm.register_extension(Recorder("a", log))
    llm.register_extension(Recorder("b", log))
    if stream:
        await collect(llm, "hi")
    else:
        await llm.send_user_message("hi")
    assert log == ["before:a", "before:b", "after:a", "after:b"]
    assert llm.usage.calls == 1  # the built-in tracker ran too


async def test_an_extension_can_answer_the_call() -> None:
    llm = LLMFactory.create_llm("echo:mock")
    llm.register_extension(Answering())
    response = await llm.send_user_message("hi")
    assert response.content == "from extension" and response.cached
    content, *_ = await collect(llm, "again")
    assert content == "from extension"


@pytest.mark.parametrize(
    ("tag", "error"),
    [("rate_limit", RateLimitError), ("server_error", ProviderError), ("timeout", LLMTimeoutError)],
)
async def test_failures_on_demand_raise_typed_errors_and_leave_history_clean(tag: str, error: type) -> None:
    llm = LLMFactory.create_llm("flaky:mock")
    with pytest.raises(error):
        await llm.send_user_message(f"[fail:{tag}] hello")
    assert llm.messages == [] and llm.usage.calls == 0


async def test_midstream_failure_raises_after_yielding_what_arrived() -> None:
    llm = LLMFactory.create_llm("flaky:mock")
    received: list[str] = []
    with pytest.raises(StreamError) as info:
        async for chunk in llm.stream_user_message("[fail:midstream] What is the capital of France?"):
            received.append(chunk.content)
    assert received and info.value.partial_content == "".join(received)
    assert llm.messages == []


def test_sync_conveniences_work_inside_a_running_loop() -> None:
    llm = LLMFactory.create_llm("oracle:mock")

    async def notebook_cell() -> str:  # Jupyter runs cells inside a loop; the sync API must still work there
        return llm.send_user_message_sync("What is 3 * 3?").content

    assert asyncio.run(notebook_cell()) == "The answer is 9."
    text = "".join(c.content for c in llm.stream_user_message_sync("What is the capital of Japan?"))
    assert text == "The capital of Japan is Tokyo."


async def test_cleanup_and_async_with() -> None:
    async with LLMFactory.create_llm("echo:mock") as llm:
        await llm.send_user_message("hi")
    with pytest.raises(ConfigurationError, match="cleaned up"):
        await llm.send_user_message("again")


async def test_images_need_a_vision_model(tmp_path: Any) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 16
    path = tmp_path / "x.png"
    path.write_bytes(png)
    echo = LLMFactory.create_llm("echo:mock")
    response = await echo.send_user_message("look", images=[path, png])
    assert response.content == "Echo: look [2 image(s)]"
    assert echo.messages[0].images[0].media_type == "image/png"
    with pytest.raises(ConfigurationError, match="does not accept images"):
        await LLMFactory.create_llm("oracle:mock").send_user_message("look", images=[png])


class Replacing:
    """Replaces every answer: the usage record is of the response the caller gets."""

    async def after_invoke(self, llm: BaseLLM, request: LLMRequest, response: CompleteResponse) -> CompleteResponse:
        return CompleteResponse("replaced", usage=response.usage, latency_s=0.5, model="replacer")


async def test_usage_records_are_taken_after_the_hooks_and_dated_when_the_call_was_made() -> None:
    from datetime import datetime, timezone

    llm = LLMFactory.create_llm("echo:mock")
    before = datetime.now(timezone.utc)
    await llm.send_user_message("one")
    llm.register_extension(Replacing())
    await llm.send_user_message("two")
    first, second = llm.usage.records
    assert first.model == "echo:mock" and second.model == "replacer" and second.latency_s == 0.5
    assert before <= first.at <= second.at <= datetime.now(timezone.utc)
    assert llm.usage.calls == 2 and llm.usage.total == first.usage + second.usage
    llm.usage.records.clear()  # a new list each time: the tracker keeps its own
    assert llm.usage.calls == 2
    llm.usage.reset()
    assert llm.usage.records == [] and llm.usage.calls == 0
