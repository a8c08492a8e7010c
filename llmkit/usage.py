"""Token usage and cost tracking, registered on every LLM automatically (`llm.usage`).

Part of the core rather than of `llmkit.extensions`: BaseLLM creates one per instance, and it needs nothing of
the LLM but the response (which names its model), so it imports only the value types.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from llmkit.messages import CompleteResponse, TokenUsage


class UsageRecord(msgspec.Struct, frozen=True):  # as llmkit.messages' value types
    """Usage of one call; `at` is when it was made (the time it was priced at)."""

    model: str
    usage: TokenUsage
    latency_s: float | None
    cached: bool
    at: datetime


class TokenUsageTrackingExtension:
    """Keeps a record per call and running totals. Costs are already on the response's usage (priced by
    BaseLLM from LLMConfig.pricing, else the catalog price); a cache hit is recorded with cost 0 and its
    would-have-been cost in `saved_cost`."""

    def __init__(self) -> None:
        self._calls: list[tuple[str, TokenUsage, float | None, bool, datetime]] = []

    def record(self, response: CompleteResponse, at: datetime, model: str) -> None:
        """Keep the usage of one finished call to `model` made at `at`. BaseLLM calls it after the extensions'
        hooks, so the record is of the response the caller gets. A plain method, not a hook, keeping a tuple: it
        runs on every call, and records are read far less often than calls are made."""
        self._calls.append((response.model or model, response.usage, response.latency_s, response.cached, at))

    @property
    def records(self) -> list[UsageRecord]:
        """One record per call, oldest first (a new list each time)."""
        return [UsageRecord(*call) for call in self._calls]

    @property
    def total(self) -> TokenUsage:
        return sum((call[1] for call in self._calls), TokenUsage())

    @property
    def calls(self) -> int:
        return len(self._calls)

    def reset(self) -> None:
        self._calls.clear()

    def to_dataframe(self) -> Any:
        """One row per call (needs pandas: pip install 'llmkit[evals]')."""
        import pandas as pd

        return pd.DataFrame(
            [
                {"model": r.model, "at": r.at, "cached": r.cached, "latency_s": r.latency_s,
                 **{k: (float(v if v is not None else "nan") if k.endswith("_cost") else v)
                    for k, v in r.usage.to_dict().items()}}
                for r in self.records
            ]
        )

    def __repr__(self) -> str:
        return f"TokenUsageTrackingExtension(calls={self.calls}, {self.total})"
