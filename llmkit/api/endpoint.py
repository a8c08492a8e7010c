"""Where a call goes and how long it may take: `Endpoint` (defined with the Host that builds it, in `llmkit.hosts`,
so hosts never import the HTTP layer) and `CallOptions` (the deadline and retry budget from LLMConfig). The
transports, the error mapping and the executor all take these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmkit.hosts import Endpoint

if TYPE_CHECKING:
    from llmkit.errors import LLMError

DEFAULT_TIMEOUT_S = 600.0
CONNECT_TIMEOUT_S = 10.0
DEFAULT_MAX_RETRIES = 2  # 3 tries in all


@dataclass(frozen=True, slots=True)
class CallOptions:
    """Per-call limits, from LLMConfig. `timeout_s` is the deadline of the WHOLE call: every attempt, every retry
    wait and every byte of a stream (keep-alives included) fit inside it. `attempt_timeout_s`, when set, also
    bounds each attempt, so a hung first try leaves time for a retry."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    max_retries: int = DEFAULT_MAX_RETRIES
    attempt_timeout_s: float | None = None

    @classmethod
    def from_config(cls, config: Any) -> CallOptions:
        timeout = getattr(config, "timeout", None) or DEFAULT_TIMEOUT_S
        retries = getattr(config, "max_retries", None)
        attempt = getattr(config, "attempt_timeout", None)
        return cls(float(timeout), DEFAULT_MAX_RETRIES if retries is None else int(retries),
                   None if attempt is None else float(attempt))

    @property
    def first_attempt_s(self) -> float:
        """How long the first attempt may take (later ones get what is left of the deadline, at most this)."""
        if self.attempt_timeout_s is None:
            return self.timeout_s
        return min(self.timeout_s, self.attempt_timeout_s)


ErrorClassifier = Callable[[int, Any, str], "LLMError | None"]
"""Optional per-provider hook: (status, parsed body or None, text) -> a specific error, or None for the default."""

__all__ = [
    "CONNECT_TIMEOUT_S", "DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT_S", "CallOptions", "Endpoint", "ErrorClassifier",
]
