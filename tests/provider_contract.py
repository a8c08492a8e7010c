"""The behaviour every cloud provider adapter must show over real HTTP on loopback.

Each ``tests/test_provider_<name>.py`` subclasses ``ProviderContract`` with its facts (server, env variables,
model ids, the provider's error messages) and adds its own wire-format tests. Only configuration is changed
(environment variables pointing at the loopback server, a sentinel key); no code under test is patched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from llmkit.base import BaseLLM
from llmkit.config import LLMConfig
from llmkit.errors import (
    AuthenticationError,
    ContextLengthError,
    LLMError,
    LLMTimeoutError,
    ModelNotFoundError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    StreamError,
)
from llmkit.factory import LLMFactory
from llmkit.messages import ChunkResponse, CompleteResponse, Image, TokenUsage
from tests.servers import LoopbackServer

SENTINEL_KEY = "sk-llmkit-sentinel-7f3a9c"
PROMPT = "hello there [cached] world"
ANSWER = "Echo: hello there [cached] world"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@dataclass
class Setup:
    """A started loopback server and llmkit pointed at it."""

    server: Any
    make: Callable[..., BaseLLM]

    @property
    def last_body(self) -> dict[str, Any]:
        body = self.server.requests[-1].json
        assert isinstance(body, dict)
        return body


@dataclass(frozen=True)
class ErrorCase:
    scenario: str
    error: type[LLMError]
    message: str  # a fragment of the provider's own message that must reach the exception


@dataclass
class Streamed:
    chunks: list[ChunkResponse] = field(default_factory=list)

    @property
    def content(self) -> str:
        return "".join(c.content for c in self.chunks)

    @property
    def reasoning(self) -> str:
        return "".join(c.reasoning or "" for c in self.chunks)

    @property
    def final(self) -> ChunkResponse:
        assert self.chunks and self.chunks[-1].is_complete
        return self.chunks[-1]


async def stream(llm: BaseLLM, prompt: str = PROMPT, **kwargs: Any) -> Streamed:
    out = Streamed()
    async for chunk in llm.stream_user_message(prompt, **kwargs):
        out.chunks.append(chunk)
    return out


def tokens(usage: TokenUsage | None) -> tuple[int, int, int, int, bool]:
    assert usage is not None
    return (usage.input_tokens, usage.output_tokens, usage.reasoning_tokens, usage.cached_input_tokens,
            usage.estimated)


def assert_no_key(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), getattr(exc, "message", ""), str(getattr(exc, "provider_message", ""))):
        assert SENTINEL_KEY not in text


class ProviderContract:
    """Subclass with the class attributes below; pytest collects the subclasses (named Test...)."""

    server_factory: ClassVar[Callable[..., LoopbackServer]]
    key_env: ClassVar[str]
    base_url_env: ClassVar[str]
    base_path: ClassVar[str]  # appended to the server's http://127.0.0.1:port
    model: ClassVar[str]  # a model with the reasoning control below
    reasoning_params: ClassVar[dict[str, Any]]  # extra_params that switch thinking on
    reasoning_text: ClassVar[bool] = True  # the server returns the thinking text (OpenAI proper never does)
    reasoning_reported: ClassVar[bool] = True  # the server reports reasoning tokens (else llmkit estimates them)
    cached_reported: ClassVar[bool] = True
    error_cases: ClassVar[tuple[ErrorCase, ...]]
    midstream_error: ClassVar[type[LLMError]] = StreamError

    @pytest.fixture
    def setup(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
        server = type(self).server_factory(api_key=SENTINEL_KEY)
        server.start()
        monkeypatch.setenv(self.key_env, SENTINEL_KEY)
        monkeypatch.setenv(self.base_url_env, server.base_url + self.base_path)

        def make(model: str | None = None, **config: Any) -> BaseLLM:
            return LLMFactory.create_llm(model or self.model, LLMConfig(**config) if config else None)

        try:
            yield Setup(server, make)
        finally:
            server.stop()

    def reasoning_llm(self, setup: Setup, **config: Any) -> BaseLLM:
        return setup.make(extra_params=dict(self.reasoning_params), **config)

    # ----- content and usage -------------------------------------------------------------------------------
    async def test_unary_and_streaming_agree(self, setup: Setup) -> None:
        unary: CompleteResponse = await self.reasoning_llm(setup).send_user_message(PROMPT)
        streamed = await stream(self.reasoning_llm(setup))
        assert unary.content == streamed.content == ANSWER
        thought = "The user wants me to echo it." if self.reasoning_text else None
        assert unary.reasoning == (streamed.reasoning or None) == thought
        assert tokens(unary.usage) == tokens(streamed.final.usage)
        usage = unary.usage
        assert not usage.estimated
        assert usage.output_tokens >= usage.reasoning_tokens > 0
        if self.reasoning_reported:
            assert usage.reasoning_tokens == 7 and usage.output_tokens == 7 + 5
        assert usage.cached_input_tokens == (4 if self.cached_reported else 0)
        assert usage.input_tokens >= usage.cached_input_tokens
        assert unary.finish_reason == streamed.final.finish_reason is not None
        assert usage.total_cost > 0  # priced with the catalog rates

    async def test_history_is_sent_back(self, setup: Setup) -> None:
        llm = setup.make()
        await llm.send_user_message("first")
        await llm.send_user_message("second")
        assert "Echo: first" in str(setup.last_body)

    # ----- errors ------------------------------------------------------------------------------------------
    @pytest.mark.parametrize("streaming", [False, True], ids=["unary", "stream"])
    async def test_errors_map_to_llmkit_exceptions(self, setup: Setup, streaming: bool) -> None:
        for case in self.error_cases:
            setup.server.scenario = case.scenario
            llm = setup.make(max_retries=0)
            with pytest.raises(case.error) as caught:
                if streaming:
                    await stream(llm)
                else:
                    await llm.send_user_message(PROMPT)
            assert case.message in str(caught.value), (case, str(caught.value))
            assert_no_key(caught.value)

    async def test_missing_key_names_the_variable(self, setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(self.key_env)
        with pytest.raises(AuthenticationError) as caught:
            await setup.make().send_user_message(PROMPT)
        assert caught.value.env_var == self.key_env and self.key_env in str(caught.value)
        assert setup.server.requests == []

    # ----- retries -----------------------------------------------------------------------------------------
    @pytest.mark.parametrize("streaming", [False, True], ids=["unary", "stream"])
    async def test_retry_honours_retry_after(self, setup: Setup, streaming: bool) -> None:
        setup.server.retry_after = "0.2"
        setup.server.queue_scenarios(["rate_limit"])
        llm = setup.make(max_retries=2)
        started = time.monotonic()
        content = (await stream(llm)).content if streaming else (await llm.send_user_message(PROMPT)).content
        assert content == ANSWER
        assert time.monotonic() - started >= 0.2 * 0.9  # waited at least what the server asked
        assert len(setup.server.requests) == 2

    @pytest.mark.parametrize("streaming", [False, True], ids=["unary", "stream"])
    async def test_retries_stop_at_the_bound(self, setup: Setup, streaming: bool) -> None:
        setup.server.retry_after = "0.01"
        setup.server.scenario = "rate_limit"
        llm = setup.make(max_retries=2)
        with pytest.raises(RateLimitError) as caught:
            await (stream(llm) if streaming else llm.send_user_message(PROMPT))
        assert len(setup.server.requests) == 3  # one try + two retries
        assert caught.value.retry_after == pytest.approx(0.01)
        assert_no_key(caught.value)

    async def test_quota_is_not_retried(self, setup: Setup) -> None:
        setup.server.scenario = "quota"
        with pytest.raises(QuotaExceededError):
            await setup.make(max_retries=3).send_user_message(PROMPT)
        assert len(setup.server.requests) == 1

    # ----- broken streams and timeouts ---------------------------------------------------------------------
    async def test_midstream_error_keeps_partial_content(self, setup: Setup) -> None:
        setup.server.scenario = "error_midstream"
        llm = setup.make(max_retries=2)
        received: list[str] = []
        with pytest.raises(self.midstream_error) as caught:
            async for chunk in llm.stream_user_message(PROMPT):
                received.append(chunk.content)
        assert "".join(received) == "Echo:"
        assert caught.value.partial_content == "Echo:"
        assert len(setup.server.requests) == 1  # never retried once content was yielded
        assert_no_key(caught.value)

    async def test_malformed_chunk_raises_stream_error(self, setup: Setup) -> None:
        setup.server.scenario = "malformed_chunk"
        with pytest.raises(StreamError) as caught:
            await stream(setup.make())
        assert caught.value.partial_content == "Echo:"

    @pytest.mark.parametrize("streaming", [False, True], ids=["unary", "stream"])
    async def test_timeout(self, setup: Setup, streaming: bool) -> None:
        setup.server.scenario = "slow"
        setup.server.slow_seconds = 3.0
        llm = setup.make(timeout=0.5, max_retries=0)
        with pytest.raises(LLMTimeoutError):
            await (stream(llm) if streaming else llm.send_user_message(PROMPT))

    # ----- images ------------------------------------------------------------------------------------------
    def image_llm(self, setup: Setup) -> BaseLLM:
        return setup.make()

    async def send_images(self, setup: Setup) -> dict[str, Any]:
        """Send one inline PNG and one URL image; return the request body the server received."""
        llm = self.image_llm(setup)
        await llm.send_user_message("what is this?", [Image(data=PNG, media_type="image/png"),
                                                      Image(url="https://example.com/cat.jpg")])
        return setup.last_body


COMMON_ERRORS = (
    ErrorCase("auth", AuthenticationError, ""),
    ErrorCase("context_length", ContextLengthError, ""),
    ErrorCase("not_found", ModelNotFoundError, ""),
    ErrorCase("server_error", ProviderError, ""),
)
