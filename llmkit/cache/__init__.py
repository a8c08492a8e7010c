"""The response cache: keys (`keys`), the entry format (`records`), the disk store (`store`) and the CLI
(`python -m llmkit.cache`). Clients use it through `LLMFactory.create_llm(..., cache=...)`, which registers a
`llmkit.extensions.cache.ResponseCacheExtension`. diskcache is imported only when a store is first used."""

from __future__ import annotations

from llmkit.cache.keys import KEY_VERSION, UnhashableRequestError, cache_key, canonical_json, key_material
from llmkit.cache.records import RECORD_VERSION, CachedAnswer, CorruptEntryError
from llmkit.cache.store import CacheStats, CacheWarning, ResponseCache, default_cache_dir, open_cache

__all__ = [
    "KEY_VERSION",
    "RECORD_VERSION",
    "CacheStats",
    "CacheWarning",
    "CachedAnswer",
    "CorruptEntryError",
    "ResponseCache",
    "UnhashableRequestError",
    "cache_key",
    "canonical_json",
    "default_cache_dir",
    "key_material",
    "open_cache",
]
