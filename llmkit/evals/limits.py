"""Concurrency caps and rate limits for a sweep, so a local server is not flooded while cloud calls run wide.

Hosts: the `host:port` of the endpoint the model's requests go to (`llmkit.hosts.Host.host_key`: a local server's
`host:port`, an API's or a gateway's base-URL `host:port` such as `api.openai.com:443`), or `mock`. Two gateways
serving the same model name are two hosts. Per-host settings may be keyed by that host key, the backend name
(`openai`, `ollama`) or the runtime (`ollama`), with `"*"` as the fallback. Defaults: local runtimes (Ollama,
LM Studio, OpenAI-compatible, AutoByteus) 2 rows in flight per host; API and MOCK hosts only the global cap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

from llmkit.evals.plan import Variant

LOCAL_DEFAULT_PER_HOST = 2


def _lookup(setting: float | Mapping[str, float] | None, keys: list[str]) -> float | None:
    if setting is None:
        return None
    if not isinstance(setting, Mapping):
        return setting
    for key in [*keys, "*"]:
        if key in setting:
            return setting[key]
    return None


def host_lookup_keys(variant: Variant) -> list[str]:
    return [variant.host_key, variant.model.backend, variant.model.runtime.value]


@dataclass
class Limits:
    """Resolved caps: total in flight, and per host / per model (None = no own cap)."""

    total: int
    per_host: float | Mapping[str, float] | None
    per_model: Mapping[str, float]
    rpm_host: float | Mapping[str, float] | None
    rpm_model: float | Mapping[str, float] | None

    def host_cap(self, variant: Variant) -> int:
        cap = _lookup(self.per_host, host_lookup_keys(variant))
        if cap is None and variant.model.runtime.is_local:
            cap = LOCAL_DEFAULT_PER_HOST
        return max(1, min(self.total, int(cap if cap is not None else self.total)))

    def model_cap(self, variant: Variant) -> int | None:
        cap = self.per_model.get(variant.model.identifier)
        return None if cap is None else max(1, int(cap))

    def host_rpm(self, variant: Variant) -> float | None:
        return _lookup(self.rpm_host, host_lookup_keys(variant))

    def model_rpm(self, variant: Variant) -> float | None:
        return _lookup(self.rpm_model, [variant.model.identifier])


class RateLimiter:
    """Spaces requests evenly at `per_minute` (no bursts): each acquire takes the next free slot."""

    def __init__(self, per_minute: float) -> None:
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self._next = 0.0

    async def acquire(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class LimiterSet:
    """Semaphores and rate limiters created on first use, one per host / model key."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._model_sems: dict[str, asyncio.Semaphore] = {}
        self._host_rate: dict[str, RateLimiter] = {}
        self._model_rate: dict[str, RateLimiter] = {}

    def model_semaphore(self, variant: Variant) -> asyncio.Semaphore | None:
        cap = self.limits.model_cap(variant)
        if cap is None:
            return None
        key = variant.model.identifier
        if key not in self._model_sems:
            self._model_sems[key] = asyncio.Semaphore(cap)
        return self._model_sems[key]

    async def wait_rate(self, variant: Variant) -> None:
        host_rpm = self.limits.host_rpm(variant)
        if host_rpm:
            limiter = self._host_rate.setdefault(variant.host_key, RateLimiter(host_rpm))
            await limiter.acquire()
        model_rpm = self.limits.model_rpm(variant)
        if model_rpm:
            limiter = self._model_rate.setdefault(variant.model.identifier, RateLimiter(model_rpm))
            await limiter.acquire()
