"""Where a call goes and how long it may take: `Endpoint` (base URL, auth headers, how errors name it) and
`CallOptions` (the deadline and retry budget from LLMConfig). Leaf module: the transports, the error mapping and the
executor all take these, so it imports nothing of llmkit's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from llmkit.errors import LLMError

DEFAULT_TIMEOUT_S = 600.0
CONNECT_TIMEOUT_S = 10.0
DEFAULT_MAX_RETRIES = 2  # 3 tries in all


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how to reach one backend: base URL, auth headers, and how errors should name it."""

    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    provider: str = "provider"
    api_key_env: str | None = None
    verify_tls: bool | str = True  # True, False, or the path of a CA bundle (PEM) to verify against

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    @property
    def host(self) -> str:
        return httpx.URL(self.base_url).netloc.decode("ascii")

    def __repr__(self) -> str:  # headers carry secrets: never show them
        return f"Endpoint({self.base_url!r}, provider={self.provider!r})"


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
