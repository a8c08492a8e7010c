"""LM Studio and generic OpenAI-compatible servers (llama-server, llama-cpp-python, vLLM) through OpenAIChatLLM."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from llmkit.factory import LLMFactory
from tests.servers import REASONING_TEXT, OpenAIChatServer

Loopback = Callable[..., Any]


async def _serve(loopback: Loopback, monkeypatch: pytest.MonkeyPatch, flavor: str,
                 **kwargs: Any) -> OpenAIChatServer:
    server: OpenAIChatServer = loopback(OpenAIChatServer, flavor, **kwargs)
    variable = "LMSTUDIO_HOSTS" if flavor == "lmstudio" else "OPENAI_COMPATIBLE_HOSTS"
    monkeypatch.setenv("LMSTUDIO_HOSTS", "none")
    monkeypatch.setenv("OPENAI_COMPATIBLE_HOSTS", "none")
    monkeypatch.setenv(variable, f"{server.base_url}/v1")
    await LLMFactory.ainitialize()  # async code discovers explicitly; getters never do it inside a loop
    return server


@pytest.mark.parametrize(("flavor", "runtime", "name"), [
    ("lmstudio", "lmstudio", "qwen3-4b"),
    ("llamacpp", "openai-compatible", "qwen3-4b-q4_k_m.gguf"),
    ("vllm", "openai-compatible", "Qwen/Qwen3-8B"),
])
async def test_unary_and_stream_report_the_same_usage(loopback: Loopback, monkeypatch: pytest.MonkeyPatch,
                                                      flavor: str, runtime: str, name: str) -> None:
    server = await _serve(loopback, monkeypatch, flavor)
    model_id = f"{name}:{runtime}@{server.host}"
    unary = await LLMFactory.create_llm(model_id, {"max_tokens": 50}).send_user_message("say it back")
    chunks = [c async for c in LLMFactory.create_llm(model_id).stream_user_message("say it back")]
    assert unary.content == "".join(c.content for c in chunks) == "Echo: say it back"
    assert chunks[-1].usage == unary.usage and not unary.usage.estimated and unary.usage.total_cost == 0
    unary_body, stream_body = (r.json for r in server.requests_to("/v1/chat/completions"))
    assert unary_body["max_tokens"] == 50 and "max_completion_tokens" not in unary_body
    assert stream_body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(("flavor", "field"), [("llamacpp", "reasoning_content"), ("vllm", "reasoning")])
async def test_reasoning_fields_surface_as_reasoning(loopback: Loopback, monkeypatch: pytest.MonkeyPatch,
                                                     flavor: str, field: str) -> None:
    server = await _serve(loopback, monkeypatch, flavor)
    model = LLMFactory.list_models(runtime="openai-compatible")[0]
    unary = await LLMFactory.create_llm(model.identifier).send_user_message("think [scenario:reasoning]")
    chunks = [c async for c in LLMFactory.create_llm(model.identifier).stream_user_message("x [scenario:reasoning]")]
    assert unary.reasoning == REASONING_TEXT == "".join(c.reasoning or "" for c in chunks)
    assert server.flavor.reasoning_field == field


async def test_llama_cpp_python_streams_without_usage_so_it_is_estimated(loopback: Loopback,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    server = await _serve(loopback, monkeypatch, "llamacpp_python")
    model_id = f"local-model:openai-compatible@{server.host}"
    unary = await LLMFactory.create_llm(model_id).send_user_message("count these words")
    chunks = [c async for c in LLMFactory.create_llm(model_id).stream_user_message("count these words")]
    assert not unary.usage.estimated
    final = chunks[-1].usage
    assert final is not None and final.estimated and final.output_tokens > 0 and final.input_tokens > 0
