"""The discovery plug-in point: one async discoverer per runtime, registered by name and imported lazily.

A discoverer is `async def discover(host: str | None) -> list[LLMModel]`; `host=None` means every host
configured for the runtime (environment variables), a `host:port` string means only that host. It must
return quickly when nothing is running (short connect timeouts) and never raise for an unreachable or
misbehaving host: it logs and skips it.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import traceback
from collections.abc import Awaitable, Callable

from llmkit.models import LLMModel, LLMRuntime
from llmkit.secrets import redact_secrets

logger = logging.getLogger("llmkit.discovery")

Discoverer = Callable[[str | None], Awaitable[list[LLMModel]]]

_DISCOVERERS: dict[LLMRuntime, str | Discoverer] = {
    LLMRuntime.MOCK: "llmkit.api.mock:discover_mock_models",
    LLMRuntime.OLLAMA: "llmkit.discovery.ollama:discover_ollama",
    LLMRuntime.LMSTUDIO: "llmkit.discovery.lmstudio:discover_lmstudio",
    LLMRuntime.OPENAI_COMPATIBLE: "llmkit.discovery.openai_compatible:discover_openai_compatible",
    LLMRuntime.AUTOBYTEUS: "llmkit.discovery.autobyteus:discover_autobyteus",
}


def register_discoverer(runtime: LLMRuntime, discoverer: str | Discoverer) -> None:
    """Register a discoverer (or a lazy "module:function" path) for a runtime, replacing any previous one."""
    _DISCOVERERS[runtime] = discoverer


def discoverable_runtimes() -> list[LLMRuntime]:
    return list(_DISCOVERERS)


def _resolve(runtime: LLMRuntime) -> Discoverer | None:
    target = _DISCOVERERS.get(runtime)
    if target is None or callable(target):
        return target
    module_name, _, attr = target.partition(":")
    function: Discoverer = getattr(importlib.import_module(module_name), attr)
    _DISCOVERERS[runtime] = function
    return function


async def discover(runtime: LLMRuntime, host: str | None = None) -> list[LLMModel]:
    """Models currently served by a runtime (optionally one host); [] when none or on any failure."""
    discoverer = _resolve(runtime)
    if discoverer is None:
        return []
    try:
        return list(await discoverer(host))
    except Exception as exc:  # a discoverer must never break start-up; its traceback may quote a key
        trace = "".join(traceback.format_exception(exc))
        logger.warning("discovery for %s failed:\n%s", runtime.value, redact_secrets(trace))
        return []


async def discover_all() -> dict[LLMRuntime, list[LLMModel]]:
    """Run every registered discoverer concurrently."""
    runtimes = discoverable_runtimes()
    results = await asyncio.gather(*(discover(r) for r in runtimes))
    return dict(zip(runtimes, results, strict=True))
