"""Response cache extension (placeholder until the cache lands: creating one raises a clear error)."""

from __future__ import annotations

from typing import Any

from llmkit.errors import ConfigurationError


class ResponseCacheExtension:
    @classmethod
    def from_option(cls, option: Any) -> ResponseCacheExtension:
        raise ConfigurationError("The response cache is not available in this version of llmkit")
