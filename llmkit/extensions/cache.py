"""ResponseCacheExtension: answer a repeated request from disk, and say so.

`before_invoke` looks the request up (key: `llmkit.cache.keys`); a hit answers the call with
`cached=True`, the original token counts, `total_cost=0` and the would-have-been cost in `usage.saved_cost`
(priced with this client's current price, falling back to the stored cost), and the original call's latency in
`original_latency_s` (its time to first token in `metadata["original_ttft_s"]`). BaseLLM then sets `latency_s`
to the time the hit took, so a cached row never looks like a fast model. `after_invoke` stores fresh answers
only: never a cached one, never an error (errors raise before after_invoke runs). Streaming needs nothing
extra: BaseLLM replays a hit as chunks, and a fresh stream's final response (`ResponseStream.response`, built
once by the stream) is what after_invoke gets and stores.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmkit.cache.keys import UnhashableRequestError, cache_key
from llmkit.cache.records import CachedAnswer
from llmkit.cache.store import CacheStats, ResponseCache, open_cache, warn_cache
from llmkit.errors import ConfigurationError
from llmkit.messages import CompleteResponse, LLMRequest, TokenUsage

if TYPE_CHECKING:
    from llmkit.base import BaseLLM


_MAX_MEMO = 100_000  # memoised hit usages (small objects)


class ResponseCacheExtension:
    """Serve repeated requests from a `ResponseCache` (see the module docstring).

    `cache`: a directory, a ResponseCache, or None for the default directory (`$LLMKIT_CACHE_DIR`, else the
    platform cache dir + `/responses`). `ttl`: seconds an entry stays valid. `size_limit`: bytes on disk
    before the oldest entries are evicted (diskcache's default, 1 GB, if None).
    """

    def __init__(self, cache: ResponseCache | str | os.PathLike[str] | None = None, *, ttl: float | None = None,
                 size_limit: int | None = None) -> None:
        if ttl is not None and ttl <= 0:
            raise ConfigurationError(f"Cache ttl must be a positive number of seconds, got {ttl!r}")
        self.cache = cache if isinstance(cache, ResponseCache) else open_cache(cache, size_limit=size_limit)
        self.ttl = ttl
        self.hits = 0
        self.misses = 0
        self._hit_usage: dict[str, tuple[CachedAnswer, Any, Any, int, TokenUsage, str]] = {}

    @classmethod
    def from_option(cls, option: Any) -> ResponseCacheExtension:
        """What `create_llm(..., cache=option)` accepts: True (default directory), a directory (str/Path), a
        mapping {dir, ttl, size_limit}, a ResponseCache, a diskcache.Cache, or an extension to share."""
        if isinstance(option, cls):
            return option
        if option is True:
            return cls()
        if isinstance(option, (str, os.PathLike)):
            return cls(option)
        if isinstance(option, ResponseCache):
            return cls(option)
        if isinstance(option, Mapping):
            unknown = set(option) - {"dir", "directory", "ttl", "size_limit"}
            if unknown:
                raise ConfigurationError(f"Unknown cache option(s): {', '.join(sorted(map(str, unknown)))}",
                                         hint="accepted keys are dir, ttl, size_limit")
            directory = option.get("dir", option.get("directory"))
            return cls(Path(directory) if directory is not None else None, ttl=option.get("ttl"),
                       size_limit=option.get("size_limit"))
        if _is_diskcache(option):
            return cls(ResponseCache(backend=option))
        raise ConfigurationError(
            f"cache={option!r} is not a cache option",
            hint="pass True, a directory, {'dir': ..., 'ttl': ...}, a ResponseCache or a diskcache.Cache",
        )

    # ----- hooks -----------------------------------------------------------------------------------------
    async def before_invoke(self, llm: BaseLLM, request: LLMRequest) -> CompleteResponse | None:
        key = _key(request)
        if key is None:
            return None
        answer = self.cache.get(key)
        self.cache.record(answer is not None)
        if answer is None:
            self.misses += 1
            return None
        self.hits += 1
        return self._hit_response(llm, answer)

    def _hit_response(self, llm: BaseLLM, answer: CachedAnswer) -> CompleteResponse:
        usage, cached_at = self._usage_of_hit(llm, answer)
        return CompleteResponse(
            content=answer.content,
            reasoning=answer.reasoning,
            usage=usage,
            finish_reason=answer.finish_reason,
            finish_reason_raw=answer.finish_reason_raw,
            served_model=answer.served_model,
            cached=True,
            original_latency_s=answer.latency_s,
            model=llm.model.identifier,
            metadata={"cache_key": answer.key, "cached_at": cached_at, "original_ttft_s": answer.ttft_s},
        )

    def _usage_of_hit(self, llm: BaseLLM, answer: CachedAnswer) -> tuple[TokenUsage, str]:
        """The stored token counts re-priced at this client's price (what the call would cost now; a model
        with no known price stays unpriced, costs None), then as_cached(): 0 charged, the cost moved to saved_cost.

        Memoised per entry: prices depend only on the stored usage, the price objects and the UTC minute (dated
        changes, off-peak windows), so the same usage, prices and minute give the same result."""
        minute = int(time.time() // 60)
        config_pricing, model_pricing = llm.config.pricing, llm.model.pricing
        memo = self._hit_usage.get(answer.key)
        if (memo is not None and memo[1] is config_pricing and memo[2] is model_pricing and memo[3] == minute
                and (memo[0] is answer or (memo[0].usage == answer.usage and memo[0].created_at == answer.created_at))):
            return memo[4], memo[5]
        usage = llm.price_usage(answer.usage).as_cached()
        cached_at = datetime.fromtimestamp(answer.created_at, timezone.utc).isoformat()
        if len(self._hit_usage) >= _MAX_MEMO:
            self._hit_usage.clear()
        self._hit_usage[answer.key] = (answer, config_pricing, model_pricing, minute, usage, cached_at)
        return usage, cached_at

    async def after_invoke(self, llm: BaseLLM, request: LLMRequest, response: CompleteResponse) -> None:
        """Store a fresh answer. The key is computed again (~20 us, next to a ~1 ms write) rather than remembered
        from before_invoke in a memo keyed on the request's id()."""
        if response.cached:
            return
        key = _key(request)
        if key is not None:
            self.cache.put(CachedAnswer.from_response(key, response), self.ttl)

    # ----- inspection -------------------------------------------------------------------------------------
    def stats(self) -> CacheStats:
        """Totals of the cache directory (every process); `hits`/`misses` attributes count this extension."""
        return self.cache.stats()

    def clear(self, older_than_s: float | None = None) -> int:
        return self.cache.clear(older_than_s)

    def __repr__(self) -> str:
        return f"ResponseCacheExtension({str(self.cache.directory)!r}, hits={self.hits}, misses={self.misses})"


def _key(request: LLMRequest) -> str | None:
    try:
        return cache_key(request)
    except UnhashableRequestError as exc:
        warn_cache(f"Request not cached: {exc}")
        return None


def _is_diskcache(value: Any) -> bool:
    try:
        import diskcache
    except ImportError:  # pragma: no cover - diskcache is a dependency
        return False
    return isinstance(value, (diskcache.Cache, diskcache.FanoutCache))
