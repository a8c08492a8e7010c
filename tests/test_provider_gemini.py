"""Gemini generateContent over loopback: native thinking level/budget, usageMetadata, blocked prompts, cut streams."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from google.genai import types as gtypes

from llmkit.errors import (
    AuthenticationError,
    ConfigValidationError,
    ContextLengthError,
    ModelNotFoundError,
    ProviderError,
    QuotaExceededError,
    StreamError,
)
from llmkit.factory import LLMFactory
from tests.provider_contract import ANSWER, PROMPT, SENTINEL_KEY, ErrorCase, ProviderContract, Setup, stream
from tests.servers import GeminiServer

pytestmark = pytest.mark.timeout(30)


def validate_gemini(body: dict[str, Any]) -> None:
    """The body's parts are valid google-genai types (pydantic models that forbid unknown fields)."""
    for content in body["contents"]:
        gtypes.Content.model_validate(content)
    if "generationConfig" in body:
        gtypes.GenerateContentConfig.model_validate(body["generationConfig"])
    if "systemInstruction" in body:
        gtypes.Content.model_validate(body["systemInstruction"])


class TestGemini(ProviderContract):
    server_factory = GeminiServer
    key_env, base_url_env, base_path = "GEMINI_API_KEY", "GEMINI_BASE_URL", "/v1beta"
    model = "gemini-3.6-flash"
    reasoning_params: ClassVar[dict[str, Any]] = {"thinking_level": "low"}
    error_cases = (
        ErrorCase("auth", AuthenticationError, "API key not valid"),  # a 400 with API_KEY_INVALID
        ErrorCase("context_length", ContextLengthError, "The input token count"),
        ErrorCase("quota", QuotaExceededError, "enable billing"),  # 400 FAILED_PRECONDITION
        ErrorCase("not_found", ModelNotFoundError, "is not found for API version v1beta"),
        ErrorCase("server_error", ProviderError, "An internal error has occurred"),
        ErrorCase("unavailable", ProviderError, "The model is overloaded"),
    )

    async def test_thinking_level_native_uppercase(self, setup: Setup) -> None:
        llm = setup.make(max_tokens=256, seed=3, stop=["END"], system_message="Be terse.",
                         extra_params={"thinking_level": "minimal"})
        await llm.send_user_message(PROMPT)
        body = setup.last_body
        config = body["generationConfig"]
        assert config["thinkingConfig"] == {"thinkingLevel": "MINIMAL", "includeThoughts": True}
        assert (config["maxOutputTokens"], config["seed"], config["stopSequences"]) == (256, 3, ["END"])
        assert body["systemInstruction"] == {"parts": [{"text": "Be terse."}]}
        validate_gemini(body)
        request = setup.server.requests[-1]
        assert request.path.endswith("/models/gemini-3.6-flash:generateContent")
        assert request.headers["x-goog-api-key"] == SENTINEL_KEY and "key" not in request.query
        await stream(llm)
        assert setup.server.requests[-1].path.endswith(":streamGenerateContent")
        assert setup.server.requests[-1].query == {"alt": "sse"}

    @pytest.mark.parametrize("budget, thoughts", [(1024, True), (0, False)])
    async def test_thinking_budget_native(self, setup: Setup, budget: int, thoughts: bool) -> None:
        llm = setup.make("gemini-2.5-flash-lite", temperature=0.2, top_p=0.9,
                         extra_params={"thinking_budget": budget})
        response = await llm.send_user_message(PROMPT)
        config = setup.last_body["generationConfig"]
        assert config["thinkingConfig"] == {"thinkingBudget": budget, "includeThoughts": thoughts}
        assert "thinkingLevel" not in config["thinkingConfig"]
        assert (config["temperature"], config["topP"]) == (0.2, 0.9)
        assert (response.reasoning is not None) is thoughts
        validate_gemini(setup.last_body)

    async def test_unsupported_controls_refused(self, setup: Setup) -> None:
        with pytest.raises(ConfigValidationError):
            setup.make(extra_params={"thinking_budget": 1024})  # a Gemini 3 model takes a level, not a budget
        with pytest.raises(ConfigValidationError):
            setup.make(temperature=0.5)  # deprecated for this model
        assert setup.server.requests == []

    async def test_images_inline(self, setup: Setup) -> None:
        body = await self.send_images(setup)
        parts = body["contents"][-1]["parts"]
        assert parts[0] == {"text": "what is this?"}
        assert parts[1]["inlineData"]["mimeType"] == "image/png" and parts[1]["inlineData"]["data"].startswith("iVBOR")
        assert parts[2] == {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.jpg"}}
        validate_gemini(body)


async def _gemini(loopback: Any, monkeypatch: pytest.MonkeyPatch, **server_options: Any) -> Any:
    server = loopback(GeminiServer, **server_options)
    monkeypatch.setenv("GEMINI_API_KEY", SENTINEL_KEY)
    monkeypatch.setenv("GEMINI_BASE_URL", server.base_url + "/v1beta")
    return LLMFactory.create_llm("gemini-3.6-flash")


@pytest.mark.parametrize("streaming", [False, True], ids=["unary", "stream"])
async def test_blocked_prompt_is_a_clear_error(loopback: Any, monkeypatch: pytest.MonkeyPatch, streaming: bool) -> None:
    llm = await _gemini(loopback, monkeypatch, block_reason="PROHIBITED_CONTENT")
    with pytest.raises(ProviderError, match="blocked the prompt \\(PROHIBITED_CONTENT\\)"):
        await (stream(llm) if streaming else llm.send_user_message(PROMPT))


async def test_stream_without_finish_reason_is_an_error(loopback: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    llm = await _gemini(loopback, monkeypatch, finish_reason=False)
    received: list[str] = []
    with pytest.raises(StreamError, match="without a finishReason") as caught:
        async for chunk in llm.stream_user_message(PROMPT):
            received.append(chunk.content)
    assert "".join(received) == caught.value.partial_content == ANSWER


async def test_retry_info_delay_without_header(loopback: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """google.rpc.RetryInfo.retryDelay alone (no Retry-After header) is honoured by the executor."""
    from llmkit.api.http import parse_retry_after

    body = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.2s"}]}}
    assert parse_retry_after({}, body) == pytest.approx(0.2)
