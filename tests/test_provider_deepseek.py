"""DeepSeek over loopback: thinking switch, reasoning_content, prompt_cache_hit_tokens, 402 balance."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from openai.types.chat import completion_create_params as sdk
from pydantic import TypeAdapter

from llmkit.errors import AuthenticationError, ConfigurationError, ConfigValidationError, QuotaExceededError
from tests.provider_contract import COMMON_ERRORS, PNG, PROMPT, ErrorCase, ProviderContract, Setup, stream
from tests.servers import OpenAIChatServer

pytestmark = pytest.mark.timeout(30)


class TestDeepSeek(ProviderContract):
    server_factory = staticmethod(lambda **kw: OpenAIChatServer("deepseek", **kw))
    key_env, base_url_env, base_path = "DEEPSEEK_API_KEY", "DEEPSEEK_BASE_URL", ""
    model = "deepseek-v4-flash"
    reasoning_params: ClassVar[dict[str, Any]] = {"thinking_enabled": True}
    error_cases = (
        *COMMON_ERRORS,
        ErrorCase("auth", AuthenticationError, "Authentication Fails"),
        ErrorCase("quota", QuotaExceededError, "Insufficient Balance"),
        ErrorCase("unavailable", Exception, "Server overloaded"),
    )

    @pytest.mark.parametrize("enabled, wire", [(True, "enabled"), (False, "disabled")])
    async def test_thinking_switch_on_the_wire(self, setup: Setup, enabled: bool, wire: str) -> None:
        effort = {"reasoning_effort": "max"} if enabled else {}
        llm = setup.make(max_tokens=64, extra_params={"thinking_enabled": enabled, **effort})
        response = await llm.send_user_message(PROMPT)
        body = setup.last_body
        assert body["thinking"] == {"type": wire} and body.get("reasoning_effort") == effort.get("reasoning_effort")
        assert body["max_tokens"] == 64 and "max_completion_tokens" not in body
        assert (response.reasoning is not None) is enabled
        await stream(llm)
        assert setup.last_body["stream_options"] == {"include_usage": True}
        extra: dict[str, Any] = {k: v for k, v in setup.last_body.items() if k != "thinking"}  # extra_body in the SDK
        TypeAdapter(sdk.CompletionCreateParamsStreaming).validate_python(extra)

    async def test_no_seed_no_images(self, setup: Setup) -> None:
        with pytest.raises(ConfigValidationError, match="no seed"):
            setup.make(seed=1)
        with pytest.raises(ConfigurationError, match="does not accept images"):
            await setup.make().send_user_message("x", [PNG])
        assert setup.server.requests == []
