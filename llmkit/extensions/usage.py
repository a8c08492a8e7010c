"""The usage tracker lives in `llmkit.usage` (BaseLLM registers one on every instance); this name is kept."""

from llmkit.usage import TokenUsageTrackingExtension, UsageRecord

__all__ = ["TokenUsageTrackingExtension", "UsageRecord"]
