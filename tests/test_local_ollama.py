"""OllamaLLM against a loopback Ollama server: wire body, unary vs stream, thinking, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from llmkit.config import LLMConfig
from llmkit.errors import ConfigValidationError, ModelNotFoundError, StreamError
from llmkit.factory import LLMFactory
from tests.servers import REASONING_TEXT, OllamaServer

Loopback = Callable[..., Any]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.fixture
async def ollama(loopback: Loopback, monkeypatch: pytest.MonkeyPatch) -> OllamaServer:
    server: OllamaServer = loopback(OllamaServer)
    monkeypatch.setenv("OLLAMA_HOSTS", server.host)
    monkeypatch.setenv("LMSTUDIO_HOSTS", "none")
    monkeypatch.setenv("OPENAI_COMPATIBLE_HOSTS", "none")
    await LLMFactory.ainitialize()  # async code discovers explicitly; getters never do it inside a loop
    return server


def _id(server: OllamaServer, name: str) -> str:
    return f"{name}:ollama@{server.host}"


async def test_unary_and_stream_give_the_same_content_and_usage(ollama: OllamaServer) -> None:
    llm = LLMFactory.create_llm(_id(ollama, "llama3.2:latest"))
    unary = await llm.send_user_message("hello there friend")
    chunks = [c async for c in LLMFactory.create_llm(_id(ollama, "llama3.2:latest"))
              .stream_user_message("hello there friend")]
    streamed = "".join(c.content for c in chunks)
    assert unary.content == streamed == "Echo: hello there friend"
    assert chunks[-1].is_complete and chunks[-1].usage == unary.usage
    assert (unary.usage.input_tokens, unary.usage.output_tokens) == (3, 4)
    assert unary.usage.total_cost == 0 and not unary.usage.estimated
    assert unary.metadata["eval_duration_ns"] > 0 and unary.finish_reason == "stop"
    bodies = [r.json for r in ollama.requests_to("/api/chat")]
    assert [b["stream"] for b in bodies] == [False, True]  # Ollama streams unless told not to


async def test_config_becomes_options(ollama: OllamaServer) -> None:
    config = LLMConfig(temperature=0.2, top_p=0.9, seed=7, stop=["END"], max_tokens=2,
                       extra_params={"num_ctx": 8192}, system_message="Be terse.")
    llm = LLMFactory.create_llm(_id(ollama, "llama3.2:latest"), config)
    response = await llm.send_user_message("one two three four")
    body = ollama.last_request.json
    assert body["options"] == {"temperature": 0.2, "top_p": 0.9, "seed": 7, "stop": ["END"], "num_predict": 2,
                               "num_ctx": 8192}
    assert body["messages"][0] == {"role": "system", "content": "Be terse."}
    assert "think" not in body
    assert response.finish_reason == "length"


def test_num_ctx_is_bounded_by_the_models_context(ollama: OllamaServer) -> None:
    with pytest.raises(ConfigValidationError, match="num_ctx"):
        LLMFactory.create_llm(_id(ollama, "llama3.2:latest"), {"extra_params": {"num_ctx": 10**7}})


async def test_think_reaches_the_wire_only_for_thinking_models(ollama: OllamaServer) -> None:
    llm = LLMFactory.create_llm(_id(ollama, "qwen3:latest"), {"extra_params": {"think": True}})
    response = await llm.send_user_message("why?")
    assert ollama.last_request.json["think"] is True
    assert response.reasoning == REASONING_TEXT and response.usage.output_tokens == 2 + 7
    chunks = [c async for c in llm.stream_user_message("again")]
    assert "".join(c.reasoning or "" for c in chunks) == REASONING_TEXT
    with pytest.raises(ConfigValidationError, match="think"):
        LLMFactory.create_llm(_id(ollama, "llama3.2:latest"), {"extra_params": {"think": True}})
    assert all("think" not in r.json for r in ollama.requests_to("/api/chat") if r.json["model"] != "qwen3:latest")


async def test_images_travel_as_raw_base64(ollama: OllamaServer) -> None:
    llm = LLMFactory.create_llm(_id(ollama, "llava:latest"))
    await llm.send_user_message("what is this?", images=[PNG])
    message = ollama.last_request.json["messages"][-1]
    assert message["images"] and not message["images"][0].startswith("data:")


async def test_error_line_mid_stream_keeps_the_partial_content(ollama: OllamaServer) -> None:
    llm = LLMFactory.create_llm(_id(ollama, "llama3.2:latest"))
    seen: list[str] = []
    with pytest.raises(StreamError) as caught:
        async for chunk in llm.stream_user_message("tell me a story [scenario:error_midstream]"):
            seen.append(chunk.content)
    assert "unexpected EOF" in str(caught.value)
    assert caught.value.partial_content == "".join(seen) == "Echo:"


async def test_malformed_line_is_a_stream_error(ollama: OllamaServer) -> None:
    llm = LLMFactory.create_llm(_id(ollama, "llama3.2:latest"))
    with pytest.raises(StreamError):
        async for _ in llm.stream_user_message("hi [scenario:malformed_chunk]"):
            pass


@pytest.mark.parametrize("stream", [False, True])
async def test_model_removed_after_discovery_says_how_to_pull_it(ollama: OllamaServer, stream: bool) -> None:
    llm = LLMFactory.create_llm(_id(ollama, "llama3.2:latest"))
    ollama.models[:] = [m for m in ollama.models if m.id != "llama3.2:latest"]
    with pytest.raises(ModelNotFoundError) as caught:
        if stream:
            async for _ in llm.stream_user_message("hi"):
                pass
        else:
            await llm.send_user_message("hi")
    assert "ollama pull llama3.2:latest" in str(caught.value)
    assert len(ollama.requests_to("/api/chat")) == 1  # not retried


async def test_instance_created_before_a_reload_keeps_working(ollama: OllamaServer) -> None:
    llm = LLMFactory.create_llm(_id(ollama, "qwen3:latest"))
    assert LLMFactory.reload_models("ollama") == 3
    assert (await llm.send_user_message("still there?")).content == "Echo: still there?"


async def test_local_models_are_free_unless_priced_in_the_config(ollama: OllamaServer) -> None:
    priced = LLMFactory.create_llm(_id(ollama, "llama3.2:latest"),
                                   {"pricing": {"input_usd_per_mtok": 1, "output_usd_per_mtok": 2}})
    usage = (await priced.send_user_message("a b c")).usage
    assert usage.total_cost == (usage.input_tokens * 1 + usage.output_tokens * 2) / __import__("decimal").Decimal(
        10**6)
