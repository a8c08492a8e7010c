"""LM Studio discovery: `GET /api/v0/models` (0.3.6+) gives type (embeddings skipped), loaded state and the
maximum context; older builds (404 there) fall back to the OpenAI-style `GET /v1/models`, which has neither."""

from __future__ import annotations

import logging
from typing import Any

from llmkit.discovery.hostenv import HostEntry, hosts_to_probe
from llmkit.discovery.local_models import local_model, positive_int
from llmkit.discovery.probe import Prober, probe_hosts, require_list
from llmkit.models import LLMModel, LLMRuntime
from llmkit.secrets import redact_secrets

logger = logging.getLogger("llmkit.discovery")

SKIPPED_TYPES = frozenset({"embeddings", "embedding"})


async def discover_lmstudio(host: str | None = None) -> list[LLMModel]:
    return await probe_hosts("lmstudio", hosts_to_probe(LLMRuntime.LMSTUDIO, host), _discover_host)


async def _discover_host(entry: HostEntry) -> list[LLMModel]:
    prober = Prober(entry, "lmstudio")
    rest = await prober.get("/api/v0/models", missing_ok=True)
    if rest is not None:
        return [m for item in require_list(rest, "data", "GET /api/v0/models") if (m := _rest_model(entry, item))]
    listing = require_list(await prober.get("/v1/models"), "data", "GET /v1/models")
    models = []
    for item in listing:
        model_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(model_id, str) and model_id and "embed" not in model_id.lower():
            models.append(local_model(model_id, LLMRuntime.LMSTUDIO, entry))
    return models


def _rest_model(entry: HostEntry, item: Any) -> LLMModel | None:
    model_id = item.get("id") if isinstance(item, dict) else None
    if not isinstance(model_id, str) or not model_id:
        logger.warning("lmstudio at %s: skipping a malformed /api/v0/models entry: %s", entry.url,
                       redact_secrets(repr(item)))
        return None
    kind = str(item.get("type") or "llm")
    if kind in SKIPPED_TYPES:
        return None
    metadata = {k: item[k] for k in ("state", "publisher", "arch", "compatibility_type", "quantization", "type")
                if item.get(k)}
    return local_model(
        model_id, LLMRuntime.LMSTUDIO, entry,
        context_length=positive_int(item.get("max_context_length")),
        capabilities={"vision"} if kind == "vlm" else set(),
        families=[str(item.get("arch") or ""), str(item.get("publisher") or "")],
        metadata=metadata,
    )
