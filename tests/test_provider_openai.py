"""OpenAI Chat Completions over loopback: wire form, reasoning controls, usage, errors, retries, images."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from openai.types.chat import completion_create_params as sdk
from pydantic import TypeAdapter

from llmkit.errors import ConfigValidationError, QuotaExceededError, RateLimitError
from tests.provider_contract import (
    ANSWER,
    COMMON_ERRORS,
    PROMPT,
    SENTINEL_KEY,
    ErrorCase,
    ProviderContract,
    Setup,
    stream,
)
from tests.servers import OpenAIChatServer

pytestmark = pytest.mark.timeout(30)


def validate_openai(body: dict[str, Any], streaming: bool) -> None:
    """The body is a valid openai SDK request (a TypedDict: types checked by pydantic, keys checked here)."""
    params = sdk.CompletionCreateParamsStreaming if streaming else sdk.CompletionCreateParamsNonStreaming
    TypeAdapter(params).validate_python(body)
    assert set(body) <= params.__required_keys__ | params.__optional_keys__, set(body)


class TestOpenAI(ProviderContract):
    server_factory = staticmethod(lambda **kw: OpenAIChatServer("openai", **kw))
    key_env, base_url_env, base_path = "OPENAI_API_KEY", "OPENAI_BASE_URL", "/v1"
    model = "gpt-5.5"
    reasoning_params: ClassVar[dict[str, Any]] = {"reasoning_effort": "high"}
    reasoning_text = False  # Chat Completions returns only the count
    error_cases = (
        *COMMON_ERRORS,
        ErrorCase("auth", Exception, "Incorrect API key provided"),
        ErrorCase("context_length", Exception, "maximum context length is 128000 tokens"),
        ErrorCase("quota", QuotaExceededError, "You exceeded your current quota"),
        ErrorCase("not_found", Exception, "The model `gpt-5.5` does not exist"),
        ErrorCase("unavailable", Exception, "The engine is currently overloaded"),
    )

    async def test_reasoning_model_wire_form(self, setup: Setup) -> None:
        llm = setup.make(max_tokens=300, extra_params={"reasoning_effort": "xhigh"}, system_message="Be terse.")
        await llm.send_user_message(PROMPT)
        body = setup.last_body
        assert body["reasoning_effort"] == "xhigh"
        assert body["max_completion_tokens"] == 300 and "max_tokens" not in body
        assert body["messages"][0] == {"role": "developer", "content": "Be terse."}
        assert "temperature" not in body and "stream_options" not in body
        validate_openai(body, streaming=False)
        await stream(llm)
        body = setup.last_body
        assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
        validate_openai(body, streaming=True)
        assert setup.server.requests[-1].headers["authorization"] == f"Bearer {SENTINEL_KEY}"

    async def test_rejected_sampling_params_never_sent(self, setup: Setup) -> None:
        for config in ({"temperature": 0.2}, {"top_p": 0.5}, {"stop": ["x"]}):
            with pytest.raises(ConfigValidationError) as caught:
                setup.make(**config)
            assert "gpt-5.5" in str(caught.value)
        assert setup.server.requests == []

    async def test_sampling_model_wire_form(self, setup: Setup) -> None:
        llm = setup.make("gpt-4o", temperature=0.3, top_p=0.9, seed=7, stop=["END"], max_tokens=50,
                         system_message="sys")
        response = await llm.send_user_message(PROMPT)
        body = setup.last_body
        assert response.content == ANSWER
        assert body["messages"][0] == {"role": "system", "content": "sys"}  # not a reasoning model
        assert (body["temperature"], body["top_p"], body["seed"], body["stop"]) == (0.3, 0.9, 7, ["END"])
        assert "reasoning_effort" not in body
        validate_openai(body, streaming=False)

    async def test_images(self, setup: Setup) -> None:
        body = await self.send_images(setup)
        parts = body["messages"][-1]["content"]
        assert parts[0] == {"type": "text", "text": "what is this?"}
        assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,iVBORw0KGgo")
        assert parts[2] == {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}
        validate_openai(body, streaming=False)

    async def test_org_and_project_headers(self, setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_123")
        await setup.make().send_user_message(PROMPT)
        assert setup.server.requests[-1].headers["openai-project"] == "proj_123"

    async def test_rate_limit_message(self, setup: Setup) -> None:
        setup.server.scenario = "rate_limit"
        with pytest.raises(RateLimitError) as caught:
            await setup.make(max_retries=0).send_user_message(PROMPT)
        assert "Rate limit reached for gpt-5.5" in str(caught.value)


async def test_gateway_without_streamed_usage_is_estimated(loopback: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A compatible gateway that ignores stream_options: the stream's usage is counted by llmkit.tokens."""
    from llmkit.factory import LLMFactory

    server = loopback(OpenAIChatServer, "llamacpp_python")
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url + "/v1")
    streamed = await stream(LLMFactory.create_llm("gpt-4o"))
    usage = streamed.final.usage
    assert streamed.content == ANSWER
    assert usage is not None and usage.estimated
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    unary = await LLMFactory.create_llm("gpt-4o").send_user_message(PROMPT)
    assert not unary.usage.estimated  # the unary body carries usage
