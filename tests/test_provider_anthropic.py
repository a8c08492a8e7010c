"""Anthropic Messages API over loopback: auth headers, thinking controls, named SSE events, cumulative usage."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from anthropic.types import message_create_params as sdk
from pydantic import TypeAdapter

from llmkit.errors import (
    AuthenticationError,
    ConfigValidationError,
    ContextLengthError,
    ModelNotFoundError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
)
from tests.provider_contract import ANSWER, PROMPT, SENTINEL_KEY, ErrorCase, ProviderContract, Setup, stream
from tests.servers import AnthropicServer

pytestmark = pytest.mark.timeout(30)


def validate_anthropic(body: dict[str, Any], streaming: bool) -> None:
    params = sdk.MessageCreateParamsStreaming if streaming else sdk.MessageCreateParamsNonStreaming
    TypeAdapter(params).validate_python(body)
    assert set(body) <= params.__required_keys__ | params.__optional_keys__, set(body)


class TestAnthropic(ProviderContract):
    server_factory = AnthropicServer
    key_env, base_url_env, base_path = "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", ""
    model = "claude-haiku-4-5"  # budget_tokens (Claude 4.5)
    reasoning_params: ClassVar[dict[str, Any]] = {"budget_tokens": 2048}
    midstream_error = RateLimitError  # the loopback stream fails with `event: error` overloaded_error
    error_cases = (
        ErrorCase("auth", AuthenticationError, "invalid x-api-key"),
        ErrorCase("context_length", ContextLengthError, "prompt is too long"),
        ErrorCase("quota", QuotaExceededError, "Your credit balance is too low"),
        ErrorCase("not_found", ModelNotFoundError, "model: claude-haiku-4-5"),
        ErrorCase("server_error", ProviderError, "Internal server error"),
        ErrorCase("overloaded", RateLimitError, "Overloaded"),
    )

    async def test_budget_tokens_wire_form(self, setup: Setup) -> None:
        llm = setup.make(max_tokens=4096, system_message="Be terse.", extra_params={"budget_tokens": 1024},
                         stop=["END"])
        await llm.send_user_message(PROMPT)
        body = setup.last_body
        assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
        assert body["max_tokens"] == 4096 and body["system"] == "Be terse." and body["stop_sequences"] == ["END"]
        assert "output_config" not in body and "seed" not in body
        assert all(m["role"] != "system" for m in body["messages"])
        validate_anthropic(body, streaming=False)
        headers = setup.server.requests[-1].headers
        assert headers["x-api-key"] == SENTINEL_KEY and headers["anthropic-version"] == "2023-06-01"

    async def test_effort_is_adaptive_never_a_budget(self, setup: Setup) -> None:
        llm = setup.make("claude-sonnet-5-5", extra_params={"effort": "xhigh"})
        streamed = await stream(llm)
        body = setup.last_body
        assert body["thinking"] == {"type": "adaptive"} and body["output_config"] == {"effort": "xhigh"}
        assert "budget_tokens" not in str(body) and body["max_tokens"] == 16000  # the catalog default
        validate_anthropic(body, streaming=True)
        assert streamed.content == ANSWER and streamed.reasoning == "The user wants me to echo it."

    async def test_budget_constraints_checked_before_sending(self, setup: Setup) -> None:
        bad: list[dict[str, Any]] = [
            {"extra_params": {"budget_tokens": 1000}},  # < 1024
            {"max_tokens": 2000, "extra_params": {"budget_tokens": 2000}},  # not < max_tokens
            {"temperature": 0.5, "extra_params": {"budget_tokens": 2048}},  # thinking takes the default only
            {"top_p": 0.5, "extra_params": {"budget_tokens": 2048}},
        ]
        for config in bad:
            with pytest.raises(ConfigValidationError):
                setup.make(**config)
        with pytest.raises(ConfigValidationError, match="effort"):
            setup.make(extra_params={"effort": "high"})  # a budget model has no effort control
        with pytest.raises(ConfigValidationError, match="temperature"):
            setup.make("claude-opus-5-5", temperature=0.3)  # Opus 4.7+-style models reject sampling
        assert setup.server.requests == []

    async def test_consecutive_turns_merged(self, setup: Setup) -> None:
        llm = setup.make()
        llm.add_user_message("first")
        llm.add_user_message("second")
        await llm.send_user_message("third")
        messages = setup.last_body["messages"]
        assert messages == [{"role": "user", "content": "first\n\nsecond\n\nthird"}]

    async def test_images(self, setup: Setup) -> None:
        body = await self.send_images(setup)
        blocks = body["messages"][-1]["content"]
        assert blocks[0] == {"type": "text", "text": "what is this?"}
        assert blocks[1]["source"]["type"] == "base64" and blocks[1]["source"]["media_type"] == "image/png"
        assert blocks[2] == {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}
        validate_anthropic(body, streaming=False)

    async def test_bearer_token_for_gateways(self, setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("ANTHROPIC_API_KEY")
        monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", SENTINEL_KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", setup.server.base_url + "/v1")  # a trailing /v1 is tolerated
        assert (await setup.make().send_user_message(PROMPT)).content == ANSWER
        headers = setup.server.requests[-1].headers
        assert headers["authorization"] == f"Bearer {SENTINEL_KEY}" and "x-api-key" not in headers

    async def test_cache_writes_count_as_input(self, setup: Setup) -> None:
        from llmkit.api.anthropic_messages import anthropic_usage

        usage = anthropic_usage({"input_tokens": 10, "cache_creation_input_tokens": 5, "cache_read_input_tokens": 20,
                                 "output_tokens": 30, "output_tokens_details": {"thinking_tokens": 12}}, None)
        assert (usage.input_tokens, usage.cached_input_tokens, usage.cache_write_tokens) == (35, 20, 5)
        assert (usage.output_tokens, usage.reasoning_tokens) == (30, 12)
