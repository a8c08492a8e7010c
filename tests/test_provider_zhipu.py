"""Z.ai / Zhipu GLM over loopback: thinking switch, business error codes, usage on the last chunk."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from llmkit.errors import (
    AuthenticationError,
    ContextLengthError,
    ModelNotFoundError,
    QuotaExceededError,
    RateLimitError,
)
from tests.provider_contract import COMMON_ERRORS, PROMPT, ErrorCase, ProviderContract, Setup, stream
from tests.servers import OpenAIChatServer

pytestmark = pytest.mark.timeout(30)


class TestZhipu(ProviderContract):
    server_factory = staticmethod(lambda **kw: OpenAIChatServer("zhipu", **kw))
    key_env, base_url_env, base_path = "ZHIPU_API_KEY", "ZHIPU_BASE_URL", "/api/paas/v4"
    model = "glm-5.1"
    reasoning_params: ClassVar[dict[str, Any]] = {"thinking_enabled": True}
    reasoning_reported = False  # Z.ai does not break reasoning tokens out; llmkit estimates them from the text
    error_cases = (
        *COMMON_ERRORS,
        ErrorCase("auth", AuthenticationError, "Authentication failed"),
        ErrorCase("context_length", ContextLengthError, "Prompt exceeds max length"),  # code 1261
        ErrorCase("not_found", ModelNotFoundError, "Unknown Model"),  # a 400 with code 1211
        ErrorCase("quota", QuotaExceededError, "Insufficient balance"),  # a 429 with code 1113
        ErrorCase("rate_limit", RateLimitError, "High concurrency usage"),
    )

    async def test_thinking_switch_and_effort(self, setup: Setup) -> None:
        await setup.make(extra_params={"thinking_enabled": False}).send_user_message(PROMPT)
        assert setup.last_body["thinking"] == {"type": "disabled"}
        await stream(setup.make("glm-5.3", extra_params={"reasoning_effort": "max"}))
        body = setup.last_body
        assert body["reasoning_effort"] == "max" and "thinking" not in body
        assert "stream_options" not in body and "seed" not in body
