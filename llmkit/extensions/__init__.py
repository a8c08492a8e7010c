"""Extensions: objects with optional async `before_invoke(llm, request)` and `after_invoke(llm, request,
response)` methods, run in registration order around every call.

`before_invoke` may return a CompleteResponse to answer the call without contacting the model (the response
cache does this); `after_invoke` may return a replacement response. Returning None changes nothing. For a
streamed call, `after_invoke` gets the stream's final response (`ResponseStream.response`), once.
"""

from llmkit.usage import TokenUsageTrackingExtension, UsageRecord

__all__ = ["TokenUsageTrackingExtension", "UsageRecord"]
