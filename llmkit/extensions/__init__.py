"""Extensions: objects with optional async `before_invoke(llm, request)` and `after_invoke(llm, request,
response)` methods, run in registration order around every call.

`before_invoke` may return a CompleteResponse to answer the call without contacting the model (the response
cache does this); `after_invoke` may return a replacement response. Returning None changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from llmkit.base import BaseLLM
    from llmkit.messages import CompleteResponse, LLMRequest


@runtime_checkable
class LLMExtension(Protocol):
    """Marker protocol; both hooks are optional, so any object can be an extension."""


class BeforeInvoke(Protocol):
    async def before_invoke(self, llm: BaseLLM, request: LLMRequest) -> CompleteResponse | None: ...


class AfterInvoke(Protocol):
    async def after_invoke(
        self, llm: BaseLLM, request: LLMRequest, response: CompleteResponse
    ) -> CompleteResponse | None: ...


from llmkit.extensions.usage import TokenUsageTrackingExtension, UsageRecord  # noqa: E402

__all__ = ["AfterInvoke", "BeforeInvoke", "LLMExtension", "TokenUsageTrackingExtension", "UsageRecord"]
