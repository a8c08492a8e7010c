"""AutobyteusLLM against the loopback AutoByteus server: both request generations, streaming, errors, cleanup."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from llmkit.errors import AuthenticationError, StreamError
from llmkit.factory import LLMFactory
from tests.servers import REASONING_TEXT, AutoByteusServer

Loopback = Callable[..., Any]
KEY = "ab-test-key-123"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


async def _start(loopback: Loopback, monkeypatch: pytest.MonkeyPatch, generation: int | None,
                 server_generation: int | None = None) -> tuple[AutoByteusServer, str]:
    server: AutoByteusServer = loopback(AutoByteusServer, generation=server_generation, api_key=KEY)
    monkeypatch.setenv("AUTOBYTEUS_LLM_SERVER_HOSTS", server.base_url)
    monkeypatch.setenv("AUTOBYTEUS_API_KEY", KEY)
    for name in ("LMSTUDIO_HOSTS", "OPENAI_COMPATIBLE_HOSTS"):
        monkeypatch.setenv(name, "none")
    if generation is None:
        monkeypatch.delenv("AUTOBYTEUS_PROTOCOL_GENERATION", raising=False)
    else:
        monkeypatch.setenv("AUTOBYTEUS_PROTOCOL_GENERATION", f"{server.host}={generation}")
    await LLMFactory.ainitialize()  # async code discovers explicitly; getters never do it inside a loop
    return server, f"gpt-5-instant-rpa:autobyteus@{server.host}"


async def test_generation_2_is_the_default_and_sends_the_transcript(loopback: Loopback,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    server, model_id = await _start(loopback, monkeypatch, None, server_generation=2)
    llm = LLMFactory.create_llm(model_id, {"system_message": "You are helpful."})
    first = await llm.send_user_message("first question")
    second = await llm.send_user_message("second question")
    assert (first.content, second.content) == ("Echo: first question", "Echo: second question")
    assert second.usage.input_tokens == 3 + 2 + 3 + 2 and second.usage.output_tokens == 3
    body = server.last_request.json
    assert body["current_message_index"] == 3 and [m["role"] for m in body["messages"]] == [
        "system", "user", "assistant", "user"]
    assert set(body) == {"conversation_id", "model_name", "messages", "current_message_index"}
    assert server.last_request.headers["autobyteus_api_key"] == KEY
    ids = {r.json["conversation_id"] for r in server.requests_to("/send-message")}
    assert len(ids) == 1  # one stable conversation per instance


async def test_generation_2_attaches_media_only_to_the_current_turn(loopback: Loopback,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    server, model_id = await _start(loopback, monkeypatch, 2)
    model = dataclasses.replace(LLMFactory.get_model(model_id), capabilities=frozenset({"vision"}))
    LLMFactory.register_model(model)
    llm = LLMFactory.create_llm(model_id)
    await llm.send_user_message("look", images=[PNG])
    await llm.send_user_message("and this", images=[PNG])
    first, _, current = server.last_request.json["messages"]
    assert first["image_urls"] == [] and "Historical media not reattached: 1 image attachment." in first["content"]
    assert current["image_urls"][0].startswith("data:image/png;base64,")


async def test_generation_1_sends_only_the_latest_user_message(loopback: Loopback,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    server, model_id = await _start(loopback, monkeypatch, 1, server_generation=1)
    llm = LLMFactory.create_llm(model_id)
    await llm.send_user_message("first")
    response = await llm.send_user_message("second")
    body = server.last_request.json
    assert body["user_message"] == "second" and "messages" not in body
    assert body["image_urls"] == [] and response.content == "Echo: second"


@pytest.mark.parametrize("generation", [1, 2])
async def test_stream_matches_unary(loopback: Loopback, monkeypatch: pytest.MonkeyPatch, generation: int) -> None:
    _, model_id = await _start(loopback, monkeypatch, generation)
    unary = await LLMFactory.create_llm(model_id).send_user_message("stream me please")
    chunks = [c async for c in LLMFactory.create_llm(model_id).stream_user_message("stream me please")]
    assert "".join(c.content for c in chunks) == unary.content == "Echo: stream me please"
    assert chunks[-1].usage == unary.usage and not unary.usage.estimated


async def test_reasoning_chunks_surface_as_reasoning(loopback: Loopback, monkeypatch: pytest.MonkeyPatch) -> None:
    _, model_id = await _start(loopback, monkeypatch, 2)
    chunks = [c async for c in LLMFactory.create_llm(model_id).stream_user_message("hm [scenario:reasoning]")]
    assert "".join(c.reasoning or "" for c in chunks) == REASONING_TEXT


async def test_error_line_is_a_stream_error_with_partial_content(loopback: Loopback,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _, model_id = await _start(loopback, monkeypatch, 2)
    llm = LLMFactory.create_llm(model_id)
    with pytest.raises(StreamError, match="boom") as caught:
        async for _ in llm.stream_user_message("go on [scenario:error_midstream]"):
            pass
    assert caught.value.partial_content == "Echo:"


async def test_cleanup_posts_the_conversation_id(loopback: Loopback, monkeypatch: pytest.MonkeyPatch) -> None:
    server, model_id = await _start(loopback, monkeypatch, 2)
    llm = LLMFactory.create_llm(model_id)
    await llm.send_user_message("hi")
    await llm.cleanup()
    assert server.cleaned_up == [llm.conversation_id]  # type: ignore[attr-defined]


async def test_missing_key_names_the_variable(loopback: Loopback, monkeypatch: pytest.MonkeyPatch) -> None:
    _, model_id = await _start(loopback, monkeypatch, 2)
    monkeypatch.delenv("AUTOBYTEUS_API_KEY")
    with pytest.raises(AuthenticationError, match="AUTOBYTEUS_API_KEY"):
        await LLMFactory.create_llm(model_id).send_user_message("hi")
