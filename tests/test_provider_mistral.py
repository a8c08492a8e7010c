"""Mistral over loopback: a strict schema (422 on unknown fields), random_seed, thinking content arrays."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from llmkit.errors import AuthenticationError, ContextLengthError, QuotaExceededError
from tests.provider_contract import ANSWER, COMMON_ERRORS, PROMPT, ErrorCase, ProviderContract, Setup, stream
from tests.servers import OpenAIChatServer

pytestmark = pytest.mark.timeout(30)


class TestMistral(ProviderContract):
    server_factory = staticmethod(lambda **kw: OpenAIChatServer("mistral", **kw))
    key_env, base_url_env, base_path = "MISTRAL_API_KEY", "MISTRAL_BASE_URL", "/v1"
    model = "mistral-small-2603"
    reasoning_params: ClassVar[dict[str, Any]] = {"reasoning_effort": "high"}
    reasoning_reported = False  # thinking arrives as content arrays; its tokens are estimated from the text
    cached_reported = False
    error_cases = (
        *COMMON_ERRORS,
        ErrorCase("auth", AuthenticationError, "Unauthorized"),
        ErrorCase("context_length", ContextLengthError, "too large for model with 131072 maximum context length"),
        ErrorCase("quota", QuotaExceededError, "You exceeded your current quota"),
    )

    async def test_never_sends_fields_mistral_rejects(self, setup: Setup) -> None:
        llm = setup.make(max_tokens=100, seed=7, temperature=0.4, stop=["END"],
                         extra_params={"reasoning_effort": "none"})
        await llm.send_user_message(PROMPT)
        body = setup.last_body
        assert body["max_tokens"] == 100 and body["random_seed"] == 7 and body["reasoning_effort"] == "none"
        assert not {"max_completion_tokens", "seed", "stream_options"} & set(body)
        streamed = await stream(llm)  # the server answers 422 to stream_options
        assert streamed.content == ANSWER and streamed.final.usage is not None
        assert "stream_options" not in setup.last_body and setup.last_body["stream"] is True

    async def test_magistral_thinking_arrays(self, setup: Setup) -> None:
        unary = await setup.make("magistral-medium-latest").send_user_message(PROMPT)
        streamed = await stream(setup.make("magistral-medium-latest"))
        assert unary.content == streamed.content == ANSWER
        assert unary.reasoning == streamed.reasoning == "The user wants me to echo it."
        assert 0 < unary.usage.reasoning_tokens <= unary.usage.output_tokens

    async def test_images(self, setup: Setup) -> None:
        body = await self.send_images(setup)
        parts = body["messages"][-1]["content"]
        assert parts[1] == {"type": "image_url", "image_url": parts[1]["image_url"]}
        assert parts[1]["image_url"].startswith("data:image/png;base64,")  # Mistral's documented string form
        assert parts[2]["image_url"] == "https://example.com/cat.jpg"
